//! A primary that misbehaves mid-transfer — garbage, a stall, a zone over
//! the configured limit — or a disk that fills up: the node keeps serving
//! the version it had, says why in `ctl zone status`, and takes the next
//! good version when there is one.
//!
//! The misbehaving primary is a small server in this file (real UDP and TCP
//! sockets on loopback) built on understudy-proto's message code; what it
//! sends wrong is exactly what each test asks for.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use understudy_e2e::dig::dig;
use understudy_e2e::{Config, Understudy, ZoneConfig};
use understudy_proto::Name;
use understudy_proto::record::{Class, Record, Rtype, Soa};
use understudy_proto::wire::{self, Message};
use understudy_proto::xfr;

const ZONE: &str = "hostile.test.";
const WAIT: Duration = Duration::from_secs(20);

/// How the fake primary answers transfers of its current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// A correct AXFR.
    Good,
    /// The first message, then bytes that are not a DNS message.
    Garbage,
    /// The first message, then nothing (connection kept open).
    Stall,
}

#[derive(Clone, Copy)]
struct Version {
    serial: u32,
    hosts: u32,
    behaviour: Behaviour,
}

/// A primary on loopback whose version and behaviour a test sets.
struct FakePrimary {
    addr: SocketAddr,
    version: Arc<Mutex<Version>>,
}

impl FakePrimary {
    fn start(version: Version) -> FakePrimary {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        let udp = UdpSocket::bind(addr).unwrap();
        let version = Arc::new(Mutex::new(version));
        let shared = version.clone();
        std::thread::spawn(move || serve_udp(udp, shared));
        let shared = version.clone();
        std::thread::spawn(move || {
            for stream in tcp.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve_tcp(stream, shared));
            }
        });
        FakePrimary { addr, version }
    }

    fn set(&self, version: Version) {
        *self.version.lock().unwrap() = version;
    }
}

fn origin() -> Name {
    Name::from_ascii(ZONE).unwrap()
}

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: Name::from_ascii("ns.hostile.test.").unwrap(),
        rname: Name::from_ascii("hostmaster.hostile.test.").unwrap(),
        serial,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    record(origin(), Rtype::SOA, soa.to_rdata().into_vec())
}

fn record(owner: Name, rtype: Rtype, rdata: Vec<u8>) -> Record {
    Record {
        owner,
        rtype,
        class: Class::IN,
        ttl: 300,
        rdata: rdata.into(),
    }
}

/// The zone at `version`: SOA, NS, the name server's address, a TXT naming
/// the serial and `hosts` A records.
fn records(version: Version) -> Vec<Record> {
    let ns = Name::from_ascii("ns.hostile.test.").unwrap();
    let mut txt = vec![0u8];
    txt.extend_from_slice(version.serial.to_string().as_bytes());
    txt[0] = (txt.len() - 1) as u8;
    let mut out = vec![
        soa(version.serial),
        record(origin(), Rtype::NS, ns.as_wire().to_vec()),
        record(ns, Rtype::A, vec![192, 0, 2, 1]),
        record(
            Name::from_ascii("serial.hostile.test.").unwrap(),
            Rtype::TXT,
            txt,
        ),
    ];
    for host in 0..version.hosts {
        let owner = Name::from_ascii(&format!("h{host}.hostile.test.")).unwrap();
        out.push(record(
            owner,
            Rtype::A,
            vec![10, (host >> 16) as u8, (host >> 8) as u8, host as u8],
        ));
    }
    out
}

fn serve_udp(socket: UdpSocket, version: Arc<Mutex<Version>>) {
    let mut buf = [0u8; 4096];
    while let Ok((len, peer)) = socket.recv_from(&mut buf) {
        let Ok(query) = Message::parse(&buf[..len]) else {
            continue;
        };
        let serial = version.lock().unwrap().serial;
        if let Some(answer) = soa_answer(&query, serial) {
            let _ = socket.send_to(&answer, peer);
        }
    }
}

fn soa_answer(query: &Message, serial: u32) -> Option<Vec<u8>> {
    let mut header = wire::Header::response_to(&query.header);
    header.aa = true;
    let mut builder = wire::MessageBuilder::new(header, 512);
    builder.push_question(query.question()?).ok()?;
    builder.push_answer(&soa(serial)).ok()?;
    Some(builder.finish())
}

fn serve_tcp(mut stream: TcpStream, version: Arc<Mutex<Version>>) {
    while let Some(bytes) = read_message(&mut stream) {
        let Ok(query) = Message::parse(&bytes) else {
            return;
        };
        let current = *version.lock().unwrap();
        let qtype = query.question().map(|question| question.qtype);
        if qtype == Some(Rtype::SOA) {
            let Some(answer) = soa_answer(&query, current.serial) else {
                return;
            };
            if write_message(&mut stream, &answer).is_err() {
                return;
            }
            continue;
        }
        let records = records(current);
        let Ok(messages) = xfr::axfr_stream(&query, &records[0], records.clone().into_iter())
        else {
            return;
        };
        let messages: Vec<Vec<u8>> = messages.map(|message| message.unwrap()).collect();
        match current.behaviour {
            Behaviour::Good => {
                for message in &messages {
                    let _ = write_message(&mut stream, message);
                }
            }
            Behaviour::Garbage => {
                let _ = write_message(&mut stream, &messages[0]);
                let _ = write_message(&mut stream, b"\x12\x34this is not a DNS message at all");
            }
            Behaviour::Stall => {
                let _ = write_message(&mut stream, &messages[0]);
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        return;
    }
}

fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).ok()?;
    let mut message = vec![0u8; u16::from_be_bytes(prefix) as usize];
    stream.read_exact(&mut message).ok()?;
    Some(message)
}

fn write_message(stream: &mut TcpStream, message: &[u8]) -> std::io::Result<()> {
    stream.write_all(&(message.len() as u16).to_be_bytes())?;
    stream.write_all(message)
}

fn node(primary: &FakePrimary, configure: impl Fn(ZoneConfig) -> ZoneConfig) -> Understudy {
    let zone = configure(ZoneConfig::new(ZONE, &[primary.addr]));
    let node = Understudy::start(Config::new("hostile").zone(zone));
    node.wait_serial(ZONE, 1, WAIT);
    node
}

/// Asks for an immediate check and waits until the zone's last error
/// contains `expected`; the version served is still serial 1.
fn refresh_fails_keeping_serial_one(node: &Understudy, expected: &str) -> String {
    let (ok, output) = node.ctl(&["zone", "refresh", ZONE]);
    assert!(ok, "{output}");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let status = node.ctl_json(&["zone", "status", ZONE]);
        let error = status["zones"][0]["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if error.contains(expected) {
            assert_serves_serial_one(node);
            assert_eq!(status["zones"][0]["serial"], 1, "{status}");
            return error;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no '{expected}' error; status: {status}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_serves_serial_one(node: &Understudy) {
    let txt = dig(node.addr(), &["serial.hostile.test.", "TXT"]);
    assert_eq!(txt.rcode, "NOERROR", "{}", txt.text);
    assert_eq!(txt.answers_of("TXT")[0].rdata, "\"1\"", "{}", txt.text);
}

fn good(serial: u32, hosts: u32) -> Version {
    Version {
        serial,
        hosts,
        behaviour: Behaviour::Good,
    }
}

#[test]
fn garbage_mid_transfer_keeps_the_old_zone_serving() {
    let primary = FakePrimary::start(good(1, 3000));
    let node = node(&primary, |zone| zone);
    primary.set(Version {
        serial: 2,
        hosts: 3000,
        behaviour: Behaviour::Garbage,
    });
    let error = refresh_fails_keeping_serial_one(&node, "malformed");
    eprintln!("garbage: {error}");
    primary.set(good(3, 3000));
    node.ctl(&["zone", "refresh", ZONE]);
    node.wait_serial(ZONE, 3, WAIT);
}

#[test]
fn stalled_transfer_times_out_and_keeps_the_old_zone_serving() {
    let primary = FakePrimary::start(good(1, 3000));
    let node = node(&primary, |zone| zone.set("transfer_timeout", "\"2s\""));
    primary.set(Version {
        serial: 2,
        hosts: 3000,
        behaviour: Behaviour::Stall,
    });
    let error = refresh_fails_keeping_serial_one(&node, "timed out");
    eprintln!("stall: {error}");
}

#[test]
fn zone_over_the_record_limit_is_refused_and_the_old_one_kept() {
    let primary = FakePrimary::start(good(1, 100));
    let node = node(&primary, |zone| zone.set("max_records", "1000"));
    primary.set(good(2, 5000));
    let error = refresh_fails_keeping_serial_one(&node, "max_records");
    eprintln!("limit: {error}");
}

/// Needs root (we are root in CI): the data directory is a small tmpfs.
#[test]
fn full_disk_keeps_the_old_zone_serving_and_reports_it() {
    let primary = FakePrimary::start(good(1, 100));
    let mut config = Config::new("full-disk").zone(ZoneConfig::new(ZONE, &[primary.addr]));
    let mut node = Understudy::start(config.clone());
    node.wait_serial(ZONE, 1, WAIT);
    node.stop();
    let data = node.data_dir();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&data)
        .status()
        .expect("mount runs");
    assert!(
        status.success(),
        "mounting a tmpfs on the data directory needs root"
    );
    let unmount = Unmount(data.clone());
    config = config.dns("tcp_idle_timeout", "\"10s\"");
    node.reconfigure(config);
    node.restart();
    node.wait_serial(ZONE, 1, WAIT);
    primary.set(good(2, 20_000));
    let error = refresh_fails_keeping_serial_one(&node, "store");
    eprintln!("full disk: {error}");
    node.stop();
    drop(unmount);
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
