//! Our outgoing transfers consumed by real implementations: `dig` and `kdig`
//! AXFR and IXFR (TSIG-signed) from a small primary built from
//! `xfr::axfr_stream`, `xfr::ixfr_stream`, the journal and
//! `tsig::ResponseSigner`; and a real Knot secondary that transfers the zone
//! from it, then follows a signed NOTIFY with an IXFR from the journal.

mod xfr_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use understudy_proto::record::{Class, Rtype, opcode, rcode};
use understudy_proto::tsig::{
    Algorithm, Key, KeyRing, ResponseSigner, sign_request, verify_request,
};
use understudy_proto::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder};
use understudy_proto::xfr::{
    Diff, Journal, JournalLimits, axfr_stream, ixfr_client_serial, ixfr_stream,
};
use understudy_proto::{Name, Record, Soa};
use xfr_support::{Knot, TsigSpec, base64, instant_now, soa_serial, udp_exchange, unix_now};

const ZONE: &str = "example.";
const HOSTS: usize = 4000;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn record(owner: &str, rtype: Rtype, ttl: u32, rdata: Vec<u8>) -> Record {
    Record {
        owner: name(owner),
        rtype,
        class: Class::IN,
        ttl,
        rdata: rdata.into(),
    }
}

/// The zone at `serial`: every 50th host's address and one TXT owner
/// depend on `serial`, so consecutive serials differ by a small diff.
fn zone_records(serial: u32) -> Vec<Record> {
    let soa = Soa {
        mname: name("ns1.example."),
        rname: name("hostmaster.example."),
        serial,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    let mut records = vec![
        record(ZONE, Rtype::SOA, 3600, soa.to_rdata().into()),
        record(
            ZONE,
            Rtype::NS,
            3600,
            name("ns1.example.").as_wire().to_vec(),
        ),
        record("ns1.example.", Rtype::A, 3600, vec![192, 0, 2, 53]),
        record(
            &format!("v{serial}.example."),
            Rtype::TXT,
            60,
            b"\x07changes".to_vec(),
        ),
    ];
    for i in 0..HOSTS {
        let second = if i % 50 == 0 { serial as u8 } else { 0 };
        let address = vec![10, second, (i / 250) as u8, (i % 250) as u8];
        records.push(record(&format!("host{i}.example."), Rtype::A, 300, address));
        if i % 4 == 0 {
            let target = [&[0u8, 10][..], name(&format!("host{i}.example.")).as_wire()].concat();
            records.push(record(&format!("mx{i}.example."), Rtype::MX, 300, target));
        }
    }
    records
}

/// What the test primary serves: the zone and the journal leading to it.
struct Served {
    records: Vec<Record>,
    journal: Journal,
}

impl Served {
    fn soa(&self) -> Record {
        self.records
            .iter()
            .find(|r| r.rtype == Rtype::SOA)
            .unwrap()
            .clone()
    }

    /// Moves to `serial`, journaling the diff.
    fn advance(&mut self, serial: u32) {
        let next = zone_records(serial);
        let diff = Diff::between(&self.records, &next).unwrap();
        self.journal.push(diff).unwrap();
        self.records = next;
    }
}

/// A primary on 127.0.0.1 (UDP and TCP) answering SOA, AXFR and IXFR with
/// the proto code under test, requiring TSIG with one of `keys`.
struct TestPrimary {
    port: u16,
    served: Arc<Mutex<Served>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TestPrimary {
    fn start(serial: u32, keys: KeyRing) -> TestPrimary {
        let journal = Journal::new(name(ZONE), JournalLimits::default());
        let mut served = Served {
            records: zone_records(serial),
            journal,
        };
        served.journal.reset(serial);
        let served = Arc::new(Mutex::new(served));
        let stop = Arc::new(AtomicBool::new(false));
        let port = xfr_support::free_port();
        let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let tcp = TcpListener::bind(("127.0.0.1", port)).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let keys = Arc::new(keys);
        let threads = vec![
            spawn_udp(udp, served.clone(), keys.clone(), stop.clone()),
            spawn_tcp(tcp, served.clone(), keys, stop.clone()),
        ];
        TestPrimary {
            port,
            served,
            stop,
            threads,
        }
    }
}

impl Drop for TestPrimary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn spawn_udp(
    socket: UdpSocket,
    served: Arc<Mutex<Served>>,
    keys: Arc<KeyRing>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65535];
        while !stop.load(Ordering::Relaxed) {
            let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                continue;
            };
            for reply in answer(&buf[..len], &served, &keys, true) {
                let _ = socket.send_to(&reply, peer);
            }
        }
    })
}

fn spawn_tcp(
    listener: TcpListener,
    served: Arc<Mutex<Served>>,
    keys: Arc<KeyRing>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => serve_connection(stream, &served, &keys),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    })
}

fn serve_connection(mut stream: TcpStream, served: &Mutex<Served>, keys: &KeyRing) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        for reply in answer(&query, served, keys, false) {
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }
}

/// The replies to one query: verify TSIG, then SOA, AXFR or IXFR.
fn answer(bytes: &[u8], served: &Mutex<Served>, keys: &KeyRing, udp: bool) -> Vec<Vec<u8>> {
    let Ok(query) = Message::parse(bytes) else {
        return Vec::new();
    };
    let mut signer = match verify_request(bytes, &query, keys, unix_now()) {
        Ok(Some(signer)) => signer,
        Ok(None) => return vec![wire::error_response(&query, rcode::REFUSED as u8).unwrap()],
        Err(mut error) => return vec![error.response(&query, unix_now()).unwrap()],
    };
    let served = served.lock().unwrap();
    let soa = served.soa();
    let qtype = query.question().map(|q| q.qtype);
    let messages: Vec<Vec<u8>> = match qtype {
        Some(Rtype::SOA) if query.header.opcode == opcode::QUERY => vec![soa_answer(&query, &soa)],
        Some(Rtype::AXFR) if !udp => axfr_stream(&query, &soa, served.records.clone().into_iter())
            .unwrap()
            .map(Result::unwrap)
            .collect(),
        Some(Rtype::IXFR) if !udp => {
            let client = ixfr_client_serial(&query).unwrap();
            let stream = ixfr_stream(
                &query,
                client,
                &soa,
                &served.journal,
                served.records.clone().into_iter(),
            );
            stream.unwrap().map(Result::unwrap).collect()
        }
        _ => vec![wire::error_response(&query, rcode::REFUSED as u8).unwrap()],
    };
    sign_all(messages, &mut signer)
}

fn soa_answer(query: &Message, soa: &Record) -> Vec<u8> {
    let header = Header {
        aa: true,
        ..Header::response_to(&query.header)
    };
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    builder.push_question(query.question().unwrap()).unwrap();
    builder.push_answer(soa).unwrap();
    builder.finish()
}

fn sign_all(mut messages: Vec<Vec<u8>>, signer: &mut ResponseSigner) -> Vec<Vec<u8>> {
    for message in &mut messages {
        signer.sign(message, unix_now()).unwrap();
    }
    messages
}

fn spec(algorithm: Algorithm) -> TsigSpec {
    TsigSpec {
        name: format!("out-{}", algorithm.as_str()),
        algorithm: algorithm.as_str(),
        secret: b"downstream transfer secret".to_vec(),
    }
}

fn key(spec: &TsigSpec) -> Key {
    Key::new(name(&spec.name), spec.algorithm, spec.secret.clone()).unwrap()
}

/// Runs dig or kdig and returns its output, failing on a non-zero exit.
fn run(tool: &str, args: &[String]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{tool} {args:?} failed:\n{text}");
    text
}

/// Zone records in dig/kdig output: not comments, not TSIG pseudo-records.
fn record_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .filter(|l| !l.split_whitespace().any(|field| field == "TSIG"))
        .collect()
}

/// Whether dig or kdig complained (TSIG verification, transfer failure).
fn complained(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["fail", ";; error", ";; warning", "couldn't"]
        .iter()
        .any(|word| lower.contains(word))
}

#[test]
fn rfc5936_dig_and_kdig_accept_our_signed_axfr_with_every_algorithm() {
    let specs: Vec<TsigSpec> = Algorithm::ALL.iter().map(|a| spec(*a)).collect();
    let primary = TestPrimary::start(1, specs.iter().map(key).collect());
    let expected = zone_records(1).len() + 1;
    for spec in &specs {
        let tsig = format!("{}:{}:{}", spec.algorithm, spec.name, base64(&spec.secret));
        for tool in ["dig", "kdig"] {
            let args: Vec<String> = [
                "-y",
                &tsig,
                "@127.0.0.1",
                "-p",
                &primary.port.to_string(),
                ZONE,
                "AXFR",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let text = run(tool, &args);
            assert!(
                !complained(&text),
                "{tool} {}:\n{}",
                spec.algorithm,
                &text[text.len().saturating_sub(800)..]
            );
            assert_eq!(
                record_lines(&text).len(),
                expected,
                "{tool} {}",
                spec.algorithm
            );
        }
    }
    // A secret we do not share: refused, and both tools say so.
    let wrong = format!(
        "hmac-sha256:{}:{}",
        specs[1].name,
        base64(b"not the secret")
    );
    for tool in ["dig", "kdig"] {
        let output = Command::new(tool)
            .args([
                "-y",
                &wrong,
                "@127.0.0.1",
                "-p",
                &primary.port.to_string(),
                ZONE,
                "AXFR",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            complained(&text) || !output.status.success(),
            "{tool} accepted a refusal:\n{text}"
        );
        assert!(
            text.contains("BADSIG") || text.contains("NOTAUTH"),
            "{tool}:\n{text}"
        );
        assert!(record_lines(&text).is_empty(), "{tool}:\n{text}");
    }
}

#[test]
fn rfc1995_kdig_ixfr_gets_the_journal_diffs_or_a_single_soa() {
    let spec = spec(Algorithm::HmacSha256);
    let primary = TestPrimary::start(1, [key(&spec)].into_iter().collect());
    primary.served.lock().unwrap().advance(2);
    primary.served.lock().unwrap().advance(3);
    let tsig = format!("{}:{}:{}", spec.algorithm, spec.name, base64(&spec.secret));
    let port = primary.port.to_string();
    let ixfr = |serial: u32| {
        let args: Vec<String> = [
            "-y",
            &tsig,
            "@127.0.0.1",
            "-p",
            &port,
            ZONE,
            &format!("IXFR={serial}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        run("kdig", &args)
    };
    // From 1: two diffs. Each removes the old SOA, 80 addresses and one TXT and adds the same.
    let text = ixfr(1);
    assert!(!complained(&text), "{text}");
    let lines = record_lines(&text);
    assert_eq!(lines.len(), 2 + 2 * (2 + 2 * (HOSTS / 50 + 1)), "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("v3.example."))
            && lines.iter().any(|l| l.starts_with("v1.example."))
    );
    // Current: a single SOA.
    let text = ixfr(3);
    assert_eq!(record_lines(&text).len(), 1, "{text}");
}

#[test]
fn a_knot_secondary_transfers_from_us_and_follows_notify_with_ixfr() {
    let spec = spec(Algorithm::HmacSha256);
    let primary = TestPrimary::start(1, [key(&spec)].into_iter().collect());
    let secondary = Knot::secondary_with_key(ZONE, primary.port, &spec);
    let zone = name(ZONE);
    wait_until(
        || soa_serial(secondary.daemon.port, &zone) == Some(1),
        "Knot loads serial 1 by AXFR",
    );
    assert_eq!(
        a_record(secondary.daemon.port, "host50.example."),
        Some([10, 1, 0, 50])
    );

    primary.served.lock().unwrap().advance(2);
    let mut notify =
        wire::notify(0x0B0B, &zone, Some(&primary.served.lock().unwrap().soa())).unwrap();
    let mut verifier = sign_request(&mut notify, &key(&spec), unix_now()).unwrap();
    let reply = udp_exchange(secondary.daemon.port, &notify).expect("Knot answers the NOTIFY");
    let parsed = Message::parse(&reply).unwrap();
    assert_eq!(parsed.rcode(), rcode::NOERROR);
    verifier.verify(&reply, &parsed, unix_now()).unwrap();
    wait_until(
        || soa_serial(secondary.daemon.port, &zone) == Some(2),
        "Knot follows to serial 2",
    );
    assert_eq!(
        a_record(secondary.daemon.port, "host50.example."),
        Some([10, 2, 0, 50])
    );
    let log = secondary.daemon.log();
    assert!(
        log.contains("IXFR, incoming") && log.contains("serial 1 -> 2"),
        "Knot used IXFR:\n{log}"
    );
}

fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    let deadline = instant_now() + Duration::from_secs(20);
    while instant_now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out: {what}");
}

fn a_record(port: u16, owner: &str) -> Option<[u8; 4]> {
    let mut builder = MessageBuilder::new(Header::query(0x0A0A, opcode::QUERY), MAX_MESSAGE_LEN);
    builder
        .push_question(&wire::Question {
            qname: name(owner),
            qtype: Rtype::A,
            qclass: Class::IN,
        })
        .unwrap();
    let reply = Message::parse(&udp_exchange(port, &builder.finish())?).ok()?;
    let answer = reply.answers.iter().find(|r| r.rtype == Rtype::A)?;
    answer.rdata.as_ref().try_into().ok()
}
