//! A real NSD on a loopback high port as the oracle for differential tests,
//! and a small independent reader for DNS messages (AXFR and responses).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::name::{self, MAX_NAME_LEN};
use understudy_proto::record::{Class, RdataNames, Record, Rtype};

use super::{TempDir, query};

/// A running NSD serving some zone files, stopped (by its PID) on drop.
pub struct Nsd {
    child: Child,
    pub addr: SocketAddr,
    _dir: TempDir,
}

/// Settings NSD and our responder must share for answers to compare.
pub const IDENTITY: &str = "oracle-node";
pub const VERSION: &str = "oracle-version";
pub const NSID: &str = "oracle-nsid";

impl Nsd {
    /// Starts `nsd` with `zones` (origin, zone file). Panics (fails the
    /// test, never skips) if NSD is missing or does not come up.
    pub fn start(zones: &[(&str, &Path)]) -> Nsd {
        let dir = TempDir::new("nsd");
        let port = free_port();
        let mut conf = format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  server-count: 1\n  username: \"\"\n  chroot: \"\"\n  \
             zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
             xfrdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 1\n  \
             identity: \"{IDENTITY}\"\n  version: \"{VERSION}\"\n  hide-version: no\n  nsid: \"ascii_{NSID}\"\n  \
             rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n  ipv4-edns-size: 1232\n  \
             remote-control:\n  control-enable: no\n",
            d = dir.path().display()
        );
        conf = conf.replace("  remote-control:", "remote-control:");
        for (origin, file) in zones {
            conf.push_str(&format!("zone:\n  name: \"{origin}\"\n  zonefile: \"{}\"\n  provide-xfr: 127.0.0.0/8 NOKEY\n", file.display()));
        }
        let conf_path = dir.path().join("nsd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nsd_binary())
            .args(["-d", "-c"])
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "nsd must be installed (apt-get install nsd); this test fails rather than skips",
            );
        let nsd = Nsd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        };
        let loaded = zones.iter().filter(|(_, file)| file.exists());
        nsd.wait_ready(loaded.map(|(origin, _)| *origin));
        nsd
    }

    fn wait_ready<'a>(&self, origins: impl Iterator<Item = &'a str>) {
        for origin in origins {
            let packet = query(1, &super::name(origin), Rtype::SOA, None);
            let served = |reply: &[u8]| {
                reply.get(3).is_some_and(|b| b & 0xF == 0) && reply.get(7).is_some_and(|&n| n > 0)
            };
            let ready = (0..200).any(|_| {
                let up = self.ask(&packet).is_some_and(|reply| served(&reply));
                if !up {
                    std::thread::sleep(Duration::from_millis(100));
                }
                up
            });
            let log = std::fs::read_to_string(self._dir.path().join("nsd.log")).unwrap_or_default();
            assert!(ready, "nsd did not serve {origin} in time; log:\n{log}");
        }
    }

    /// One UDP exchange; `None` on timeout (NSD dropped the query).
    pub fn ask(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        ask_udp(&socket, self.addr, packet)
    }

    /// One TCP exchange (RFC 7766 framing).
    pub fn ask_tcp(&self, packet: &[u8]) -> Vec<u8> {
        ask_tcp(self.addr, packet).expect("NSD answers over TCP")
    }

    /// The zone's records by AXFR, RDATA names decompressed.
    pub fn axfr(&self, origin: &str) -> Vec<Record> {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let packet = query(7, &super::name(origin), Rtype::AXFR, None);
        stream
            .write_all(&(packet.len() as u16).to_be_bytes())
            .unwrap();
        stream.write_all(&packet).unwrap();
        let mut records: Vec<Record> = Vec::new();
        let mut soas = 0;
        while soas < 2 {
            let message = read_message(&read_framed(&mut stream)).expect("AXFR message decodes");
            assert_eq!(message.rcode, 0, "AXFR refused");
            for rr in message.sections.into_iter().flatten() {
                if rr.rtype == Rtype::SOA {
                    soas += 1;
                    if soas == 2 {
                        break;
                    }
                }
                records.push(rr);
            }
        }
        records
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn nsd_binary() -> PathBuf {
    ["/usr/sbin/nsd", "/usr/local/sbin/nsd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nsd"))
}

/// Sends `packet` from `socket` to `server` and waits for the reply with
/// the same message ID; `None` on timeout (the server dropped the query).
pub fn ask_udp(socket: &UdpSocket, server: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    socket
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    socket.send_to(packet, server).unwrap();
    let mut buf = vec![0u8; 65535];
    loop {
        let (len, from) = socket.recv_from(&mut buf).ok()?;
        let same_id = len >= 2 && packet.len() >= 2 && buf[..2] == packet[..2];
        if from == server && (same_id || packet.len() < 2) {
            buf.truncate(len);
            return Some(buf);
        }
    }
}

/// One TCP exchange (RFC 7766 framing); `None` if the server closed the
/// connection or did not answer in time.
pub fn ask_tcp(server: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(server).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    stream
        .write_all(&(packet.len() as u16).to_be_bytes())
        .ok()?;
    stream.write_all(packet).ok()?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut message = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut message).ok()?;
    Some(message)
}

/// A port free for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port")
}

fn read_framed(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).expect("framed length");
    let mut message = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut message).expect("framed message");
    message
}

/// A decoded message: header fields, the raw question, three sections of
/// records (OPT taken out), and the OPT's fields.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub id: u16,
    pub flags: u16,
    /// 12-bit RCODE (OPT's extended bits included).
    pub rcode: u16,
    pub question: Vec<u8>,
    pub qdcount: u16,
    pub sections: [Vec<Record>; 3],
    pub opt: Option<DecodedOpt>,
}

/// The OPT record of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedOpt {
    pub payload: u16,
    pub dnssec_ok: bool,
    pub version: u8,
    pub options: Vec<(u16, Vec<u8>)>,
}

/// Reads a whole message, decompressing names in RDATA for RFC 1035 types.
pub fn read_message(bytes: &[u8]) -> Option<Decoded> {
    let header = bytes.get(..12)?;
    let count = |i: usize| u16::from_be_bytes([header[4 + 2 * i], header[5 + 2 * i]]);
    let flags = u16::from_be_bytes([header[2], header[3]]);
    let mut pos = 12;
    let question_start = pos;
    for _ in 0..count(0) {
        pos += name::wire_len(bytes.get(pos..)?).ok()? + 4;
    }
    let question = bytes.get(question_start..pos)?.to_vec();
    let mut sections: [Vec<Record>; 3] = Default::default();
    let mut opt = None;
    let mut rcode = flags & 0xF;
    for (section, records) in sections.iter_mut().enumerate() {
        for _ in 0..count(section + 1) {
            let (record, next) = read_record(bytes, pos)?;
            pos = next;
            if record.rtype == Rtype::OPT {
                rcode |= u16::from((record.ttl >> 24) as u8) << 4;
                opt = Some(DecodedOpt {
                    payload: record.class.0,
                    dnssec_ok: record.ttl & 0x8000 != 0,
                    version: (record.ttl >> 16) as u8,
                    options: read_options(&record.rdata)?,
                });
            } else {
                records.push(record);
            }
        }
    }
    Some(Decoded {
        id: u16::from_be_bytes([header[0], header[1]]),
        flags,
        rcode,
        question,
        qdcount: count(0),
        sections,
        opt,
    })
}

fn read_options(mut rdata: &[u8]) -> Option<Vec<(u16, Vec<u8>)>> {
    let mut options = Vec::new();
    while !rdata.is_empty() {
        let code = u16::from_be_bytes([*rdata.first()?, *rdata.get(1)?]);
        let len = u16::from_be_bytes([*rdata.get(2)?, *rdata.get(3)?]) as usize;
        options.push((code, rdata.get(4..4 + len)?.to_vec()));
        rdata = &rdata[4 + len..];
    }
    Some(options)
}

fn read_record(bytes: &[u8], pos: usize) -> Option<(Record, usize)> {
    let (owner, pos) = Name::read_compressed(bytes, pos).ok()?;
    let fixed = bytes.get(pos..pos + 10)?;
    let rtype = Rtype(u16::from_be_bytes([fixed[0], fixed[1]]));
    let class = Class(u16::from_be_bytes([fixed[2], fixed[3]]));
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
    let start = pos + 10;
    let end = start + rdlen;
    bytes.get(start..end)?;
    let rdata = decompress_rdata(bytes, rtype, start, end)?;
    Some((
        Record {
            owner,
            rtype,
            class,
            ttl,
            rdata: rdata.into(),
        },
        end,
    ))
}

fn decompress_rdata(bytes: &[u8], rtype: Rtype, start: usize, end: usize) -> Option<Vec<u8>> {
    let (prefix, names) = match rtype.rdata_names() {
        RdataNames::Compressible(fields) => (0, fields.len()),
        RdataNames::CompressibleAfterPrefix(prefix) => (prefix, 1),
        _ => return Some(bytes[start..end].to_vec()),
    };
    let mut out = bytes.get(start..start + prefix)?.to_vec();
    let mut pos = start + prefix;
    for _ in 0..names {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let (len, next) = name::read_compressed_into(bytes, pos, &mut buffer).ok()?;
        out.extend_from_slice(&buffer[..len]);
        pos = next;
    }
    out.extend_from_slice(bytes.get(pos..end)?);
    Some(out)
}
