//! TSIG against real implementations: signed AXFR streams from Knot, BIND
//! and NSD verified here, their refusals of wrong keys recognised, our
//! signed NOTIFY accepted by a Knot secondary, and requests signed by `dig`
//! and `kdig` verified here and answered with responses they accept.

mod xfr_support;

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use understudy_proto::record::{Rtype, rcode};
use understudy_proto::tsig::{Algorithm, Key, KeyRing, VerifyError, sign_request, verify_request};
use understudy_proto::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder};
use understudy_proto::{Name, Record};
use xfr_support::{Bind, DnsTcp, Knot, Nsd, TsigSpec, unix_now, zone_record_count, zone_text};

const ZONE: &str = "example.";

fn spec(name: &str, algorithm: Algorithm) -> TsigSpec {
    let secret: Vec<u8> = (0..algorithm.mac_len() as u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    TsigSpec {
        name: name.into(),
        algorithm: algorithm.as_str(),
        secret,
    }
}

fn key(spec: &TsigSpec) -> Key {
    Key::new(
        Name::from_ascii(&spec.name).unwrap(),
        spec.algorithm,
        spec.secret.clone(),
    )
    .unwrap()
}

fn all_specs() -> Vec<TsigSpec> {
    Algorithm::ALL
        .iter()
        .map(|a| spec(&format!("key-{}", a.as_str()), *a))
        .collect()
}

/// What a signed AXFR brought: messages, how many carried TSIG, records.
struct Outcome {
    messages: usize,
    signed: usize,
    records: Vec<Record>,
}

/// A signed AXFR of `ZONE` from `port`, every message verified.
fn signed_axfr(port: u16, key: &Key) -> Result<Outcome, VerifyError> {
    let zone = Name::from_ascii(ZONE).unwrap();
    let mut query = wire::axfr_query(0x2a2a, &zone);
    let mut verifier = sign_request(&mut query, key, unix_now()).unwrap();
    let mut tcp = DnsTcp::connect(port);
    tcp.send(&query);
    let mut outcome = Outcome {
        messages: 0,
        signed: 0,
        records: Vec::new(),
    };
    let mut soas = 0;
    while soas < 2 {
        let bytes = tcp
            .receive()
            .expect("server closed the connection mid-transfer");
        let message = Message::parse(&bytes).unwrap();
        verifier.verify(&bytes, &message, unix_now())?;
        outcome.messages += 1;
        outcome.signed += usize::from(message.tsig.is_some());
        soas += message
            .answers
            .iter()
            .filter(|r| r.rtype == Rtype::SOA)
            .count();
        outcome.records.extend(message.answers);
    }
    verifier.finish()?;
    Ok(outcome)
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages, {} signed, {} records",
            self.messages,
            self.signed,
            self.records.len()
        )
    }
}

fn assert_full_zone(outcome: &Outcome, hosts: usize) {
    assert_eq!(
        outcome.records.len(),
        zone_record_count(hosts, 0) + 1,
        "SOA first and last"
    );
    assert!(
        outcome.messages > 1,
        "the zone must need several messages: {outcome:?}"
    );
}

#[test]
fn rfc8945_5_3_1_knot_signed_axfr_streams_verify_with_all_algorithms() {
    let specs = all_specs();
    let hosts = 3000;
    let knot = Knot::primary(ZONE, &zone_text(ZONE, 1, hosts, 0), &specs);
    for spec in &specs {
        let outcome = signed_axfr(knot.daemon.port, &key(spec)).unwrap();
        assert_full_zone(&outcome, hosts);
        assert!(outcome.signed >= 2, "first and last signed: {outcome:?}");
    }
}

#[test]
fn rfc8945_5_3_1_nsd_signed_axfr_of_over_a_hundred_messages_verifies() {
    // More than 100 messages: a server that signs only some of them (as
    // RFC 8945 §5.3.1 allows) would have to leave unsigned runs here, and
    // the verifier must accept those as well as a fully signed stream.
    let specs = all_specs();
    let hosts = 40_000;
    let nsd = Nsd::primary(ZONE, &zone_text(ZONE, 1, hosts, 0), &specs);
    for spec in &specs {
        let outcome = signed_axfr(nsd.daemon.port, &key(spec)).unwrap();
        assert_full_zone(&outcome, hosts);
        assert!(outcome.messages > 100 && outcome.signed >= 2, "{outcome:?}");
    }
}

#[test]
fn rfc8945_5_3_1_bind_signed_axfr_streams_verify_with_all_algorithms() {
    let specs = all_specs();
    let hosts = 3000;
    let bind = Bind::primary(ZONE, &zone_text(ZONE, 1, hosts, 0), &specs);
    for spec in &specs {
        let outcome = signed_axfr(bind.daemon.port, &key(spec)).unwrap();
        assert_full_zone(&outcome, hosts);
    }
}

/// A refused transfer: the reply's TSIG error, or the plain rcode.
fn refusal(port: u16, key: &Key) -> (u16, Option<u16>) {
    match signed_axfr(port, key) {
        Err(VerifyError::ServerError { error, rcode, .. }) => (rcode, Some(error)),
        Err(VerifyError::Unsigned { rcode }) => (rcode, None),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn rfc8945_5_2_wrong_secret_and_unknown_key_are_refused_by_knot_bind_nsd() {
    let good = spec("xfr-key", Algorithm::HmacSha256);
    let wrong_secret = Key {
        secret: b"not the secret".to_vec(),
        ..key(&good)
    };
    let unknown = Key {
        name: Name::from_ascii("nobody-key.").unwrap(),
        ..key(&good)
    };
    let text = zone_text(ZONE, 1, 10, 0);
    let knot = Knot::primary(ZONE, &text, std::slice::from_ref(&good));
    let bind = Bind::primary(ZONE, &text, std::slice::from_ref(&good));
    let nsd = Nsd::primary(ZONE, &text, std::slice::from_ref(&good));
    for (server, port) in [
        ("knot", knot.daemon.port),
        ("bind", bind.daemon.port),
        ("nsd", nsd.daemon.port),
    ] {
        assert_eq!(
            refusal(port, &wrong_secret),
            (rcode::NOTAUTH, Some(rcode::BADSIG)),
            "{server}"
        );
        assert_eq!(
            refusal(port, &unknown),
            (rcode::NOTAUTH, Some(rcode::BADKEY)),
            "{server}"
        );
        assert!(
            signed_axfr(port, &key(&good)).is_ok(),
            "{server} with the right key"
        );
    }
}

#[test]
fn rfc8945_5_1_our_signed_notify_is_accepted_by_a_knot_secondary() {
    let specs = all_specs();
    let zone = Name::from_ascii(ZONE).unwrap();
    let knot = Knot::secondary(ZONE, xfr_support::free_port(), &specs);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0u8; 65535];
    for (i, spec) in specs.iter().enumerate() {
        let id = 0x7000 + i as u16;
        let mut notify = wire::notify(id, &zone, None).unwrap();
        let mut verifier = sign_request(&mut notify, &key(spec), unix_now()).unwrap();
        socket
            .send_to(&notify, ("127.0.0.1", knot.daemon.port))
            .unwrap();
        let len = socket.recv(&mut buf).unwrap();
        let reply = Message::parse(&buf[..len]).unwrap();
        assert_eq!(
            (reply.header.id, reply.rcode()),
            (id, rcode::NOERROR),
            "{}",
            spec.algorithm
        );
        verifier.verify(&buf[..len], &reply, unix_now()).unwrap();
        verifier.finish().unwrap();
    }
    // A NOTIFY signed with a secret Knot does not share is refused.
    let wrong = Key {
        secret: b"wrong".to_vec(),
        ..key(&specs[1])
    };
    let mut notify = wire::notify(0x7100, &zone, None).unwrap();
    let mut verifier = sign_request(&mut notify, &wrong, unix_now()).unwrap();
    socket
        .send_to(&notify, ("127.0.0.1", knot.daemon.port))
        .unwrap();
    let len = socket.recv(&mut buf).unwrap();
    let reply = Message::parse(&buf[..len]).unwrap();
    assert_eq!(reply.rcode(), rcode::NOTAUTH);
    let verdict = verifier.verify(&buf[..len], &reply, unix_now());
    assert!(
        matches!(
            verdict,
            Err(VerifyError::ServerError {
                error: rcode::BADSIG,
                ..
            })
        ),
        "{verdict:?}"
    );
    let log = knot.daemon.log();
    assert!(
        log.contains("notify, incoming"),
        "Knot logs the NOTIFY: {log}"
    );
}

/// Answers one query arriving on `socket` with a signed SOA-less NOERROR,
/// after verifying its TSIG; returns the key name the query was signed with.
fn answer_signed(socket: &UdpSocket, keys: &KeyRing) -> Name {
    let mut buf = vec![0u8; 65535];
    let (len, peer) = socket.recv_from(&mut buf).unwrap();
    let bytes = &buf[..len];
    let query = Message::parse(bytes).unwrap();
    let mut signer = verify_request(bytes, &query, keys, unix_now())
        .unwrap()
        .expect("query was signed");
    let header = Header {
        aa: true,
        ..Header::response_to(&query.header)
    };
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    builder.push_question(query.question().unwrap()).unwrap();
    let mut response = builder.finish();
    signer.sign(&mut response, unix_now()).unwrap();
    socket.send_to(&response, peer).unwrap();
    signer.key().name.clone()
}

#[test]
fn rfc8945_5_4_requests_signed_by_dig_and_kdig_verify_and_they_accept_our_responses() {
    let specs = all_specs();
    let keys: KeyRing = specs.iter().map(key).collect();
    for tool in ["dig", "kdig"] {
        for spec in &specs {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let port = socket.local_addr().unwrap().port().to_string();
            let tsig = format!(
                "{}:{}:{}",
                spec.algorithm,
                spec.name,
                xfr_support::base64(&spec.secret)
            );
            let once = if tool == "dig" {
                ["+tries=1", "+time=5"]
            } else {
                ["+retry=0", "+timeout=5"]
            };
            let child = Command::new(tool)
                .args([
                    "-y",
                    &tsig,
                    "@127.0.0.1",
                    "-p",
                    &port,
                    once[0],
                    once[1],
                    "example.",
                    "SOA",
                ])
                .output_in_thread();
            let signer = answer_signed(&socket, &keys);
            assert_eq!(signer, Name::from_ascii(&spec.name).unwrap());
            let output = child.join().unwrap();
            let text = String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{tool} {}: {text}", spec.algorithm);
            assert!(
                text.contains("NOERROR"),
                "{tool} {}: {text}",
                spec.algorithm
            );
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("failure") && !lower.contains("bad"),
                "{tool} {} rejected our MAC: {text}",
                spec.algorithm
            );
        }
    }
}

/// Runs a command to completion on another thread.
trait OutputInThread {
    fn output_in_thread(&mut self) -> std::thread::JoinHandle<std::process::Output>;
}

impl OutputInThread for Command {
    fn output_in_thread(&mut self) -> std::thread::JoinHandle<std::process::Output> {
        let child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::spawn(move || child.wait_with_output().unwrap())
    }
}

#[test]
fn rfc8945_5_2_3_badtime_from_knot_bind_nsd_is_verified_and_carries_their_time() {
    let good = spec("xfr-key", Algorithm::HmacSha256);
    let text = zone_text(ZONE, 1, 10, 0);
    let knot = Knot::primary(ZONE, &text, std::slice::from_ref(&good));
    let bind = Bind::primary(ZONE, &text, std::slice::from_ref(&good));
    let nsd = Nsd::primary(ZONE, &text, std::slice::from_ref(&good));
    let zone = Name::from_ascii(ZONE).unwrap();
    for (server, port) in [
        ("knot", knot.daemon.port),
        ("bind", bind.daemon.port),
        ("nsd", nsd.daemon.port),
    ] {
        // Our clock an hour slow: the request is outside every fudge window.
        let skewed = unix_now() - 3600;
        let mut query = wire::soa_query(0x3131, &zone);
        let mut verifier = sign_request(&mut query, &key(&good), skewed).unwrap();
        let reply = xfr_support::udp_exchange(port, &query).expect("an answer");
        let message = Message::parse(&reply).unwrap();
        match verifier.verify(&reply, &message, skewed) {
            Err(VerifyError::ServerError {
                error,
                rcode,
                server_time,
            }) => {
                assert_eq!((error, rcode), (rcode::BADTIME, rcode::NOTAUTH), "{server}");
                let theirs = server_time.expect("BADTIME carries the server's time");
                assert!(
                    theirs.abs_diff(unix_now()) < 60,
                    "{server}: server time {theirs}"
                );
            }
            other => panic!("{server}: expected a verified BADTIME, got {other:?}"),
        }
    }
}
