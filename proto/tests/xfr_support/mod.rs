//! Real primaries for interop tests: Knot, BIND and NSD started on
//! 127.0.0.1 high ports with their own configs in temporary directories,
//! and a few lines of std networking to talk to them.
//!
//! A server that is not installed makes the test fail, never skip.
#![allow(dead_code, unused_imports)]

pub mod servers;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use understudy_proto::Name;
use understudy_proto::record::Rtype;
use understudy_proto::wire::{self, Message};

pub use servers::{Bind, Knot, Nsd, TsigSpec};

/// Wall-clock Unix seconds: TSIG carries wall time, and a test is a driver.
#[allow(clippy::disallowed_methods)]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// Monotonic time for test deadlines.
#[allow(clippy::disallowed_methods)]
pub fn instant_now() -> Instant {
    Instant::now()
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("understudy-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port free for both TCP and UDP on 127.0.0.1.
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Standard base64 with padding, for secrets in server configs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One UDP exchange; the first reply with the query's id.
pub fn udp_exchange(port: u16, query: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    socket.send_to(query, ("127.0.0.1", port)).ok()?;
    let mut buf = vec![0u8; 65535];
    loop {
        let len = socket.recv(&mut buf).ok()?;
        if buf.get(..2) == query.get(..2) {
            return Some(buf[..len].to_vec());
        }
    }
}

/// Waits until the server at `port` answers an SOA query for `zone`
/// authoritatively; returns the serial.
pub fn wait_for_soa(port: u16, zone: &Name, timeout: Duration) -> u32 {
    let deadline = instant_now() + timeout;
    while instant_now() < deadline {
        if let Some(serial) = soa_serial(port, zone) {
            return serial;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no SOA for {zone} on port {port} within {timeout:?}");
}

/// The serial the server at `port` answers for `zone`, if it does.
pub fn soa_serial(port: u16, zone: &Name) -> Option<u32> {
    let reply = udp_exchange(port, &wire::soa_query(0x5151, zone))?;
    let message = Message::parse(&reply).ok()?;
    let soa = message.answers.iter().find(|r| r.rtype == Rtype::SOA)?;
    message
        .header
        .aa
        .then(|| soa.soa())
        .flatten()
        .map(|soa| soa.serial)
}

/// Waits until `zone` on `port` has `serial`.
pub fn wait_for_serial(port: u16, zone: &Name, serial: u32, timeout: Duration) {
    let deadline = instant_now() + timeout;
    while instant_now() < deadline {
        if soa_serial(port, zone) == Some(serial) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{zone} on port {port} did not reach serial {serial} within {timeout:?}");
}

/// A TCP connection carrying length-prefixed DNS messages (RFC 1035 §4.2.2).
pub struct DnsTcp(TcpStream);

impl DnsTcp {
    pub fn connect(port: u16) -> DnsTcp {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        DnsTcp(stream)
    }

    pub fn send(&mut self, message: &[u8]) {
        let len = u16::try_from(message.len()).unwrap();
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(message);
        self.0.write_all(&framed).unwrap();
    }

    /// The next message, or `None` when the server closed the connection.
    pub fn receive(&mut self) -> Option<Vec<u8>> {
        let mut len = [0u8; 2];
        self.0.read_exact(&mut len).ok()?;
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.0.read_exact(&mut message).ok()?;
        Some(message)
    }
}

/// A zone with `hosts` hosts of a few record types each, in master-file
/// form. `variant` changes a handful of records (addresses of every 50th
/// host, one TTL, one record present only in this variant, one AAAA that
/// odd variants lack), so two variants differ by a small diff.
pub fn zone_text(origin: &str, serial: u32, hosts: usize, variant: u32) -> String {
    let mail_ttl = if variant == 0 { 3600 } else { 1800 };
    let mut text = format!(
        "$ORIGIN {origin}\n$TTL 3600\n@ IN SOA ns1 hostmaster {serial} 3600 600 86400 300\n\
         @ IN NS ns1\n@ IN NS ns2.Example.net.\nns1 IN A 192.0.2.53\n@ IN MX 10 mail\n\
         mail {mail_ttl} IN A 192.0.2.25\nv{variant} IN TXT \"only in variant {variant}\"\n"
    );
    for i in 0..hosts {
        let (a, b) = (i / 250 % 250, i % 250 + 1);
        let second = if i % 50 == 0 { variant % 250 } else { 0 };
        text.push_str(&format!("host{i} IN A 10.{second}.{a}.{b}\n"));
        if i % 3 == 0 && !(i == 3 && variant % 2 == 1) {
            text.push_str(&format!("host{i} IN AAAA 2001:db8::{i:x}\n"));
        }
        if i % 5 == 0 {
            text.push_str(&format!("Alias{i} IN CNAME host{i}\n"));
        }
        if i % 7 == 0 {
            text.push_str(&format!("host{i} IN TXT \"record {i}\" \"text\"\n"));
        }
        if i % 11 == 0 {
            text.push_str(&format!("_sip._tcp.host{i} IN SRV 10 20 5060 host{i}\n"));
        }
    }
    text
}

/// Number of records `zone_text(…, hosts, variant)` holds, the SOA once.
pub fn zone_record_count(hosts: usize, variant: u32) -> usize {
    let per_host: usize = (0..hosts)
        .map(|i| {
            1 + usize::from(i % 3 == 0)
                + usize::from(i % 5 == 0)
                + usize::from(i % 7 == 0)
                + usize::from(i % 11 == 0)
        })
        .sum();
    let missing = usize::from(hosts > 3 && variant % 2 == 1);
    7 + per_host - missing
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_for_tcp(port: u16, timeout: Duration) {
    let deadline = instant_now() + timeout;
    while instant_now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listening on port {port} within {timeout:?}");
}
