//! A real Knot DNS on a loopback high port as the second oracle for
//! differential tests, serving zone files (pre-signed ones included) as a
//! primary.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use understudy_proto::record::Rtype;

use super::nsd::{IDENTITY, NSID, VERSION, ask_tcp, ask_udp, free_port};
use super::{TempDir, query};

/// A running `knotd`, stopped (by its PID) on drop.
pub struct Knot {
    child: Child,
    pub addr: SocketAddr,
    dir: TempDir,
}

impl Knot {
    /// Starts `knotd` with `zones` (origin, zone file); a zone whose file
    /// does not exist is configured but never loaded. Panics (fails the
    /// test, never skips) if Knot is missing or does not come up.
    pub fn start(zones: &[(&str, &Path)]) -> Knot {
        let dir = TempDir::new("knot");
        let port = free_port();
        let d = dir.path().display();
        let mut conf = format!(
            "server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n    udp-workers: 1\n    \
             tcp-workers: 1\n    background-workers: 1\n    identity: \"{IDENTITY}\"\n    \
             version: \"{VERSION}\"\n    nsid: \"{NSID}\"\n\
             log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
             database:\n    storage: \"{d}/db\"\n\
             control:\n    listen: \"{d}/knot.sock\"\n\
             acl:\n  - id: transfer\n    address: 127.0.0.0/8\n    action: transfer\n\
             template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n    \
             zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n\
             zone:\n"
        );
        for (origin, file) in zones {
            conf.push_str(&format!(
                "  - domain: \"{origin}\"\n    file: \"{}\"\n    acl: transfer\n",
                file.display()
            ));
        }
        let conf_path = dir.path().join("knot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(knot_binary())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "knotd must be installed (apt-get install knot); this test fails rather than skips",
            );
        let knot = Knot {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        let loaded = zones.iter().filter(|(_, file)| file.exists());
        knot.wait_ready(loaded.map(|(origin, _)| *origin));
        knot
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
            let log = std::fs::read_to_string(self.dir.path().join("knot.log")).unwrap_or_default();
            assert!(ready, "knotd did not serve {origin} in time; log:\n{log}");
        }
    }

    /// One UDP exchange; `None` on timeout (Knot dropped the query).
    pub fn ask(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        ask_udp(&socket, self.addr, packet)
    }

    /// One TCP exchange (RFC 7766 framing); `None` if Knot closed the
    /// connection without answering.
    pub fn ask_tcp(&self, packet: &[u8]) -> Option<Vec<u8>> {
        ask_tcp(self.addr, packet)
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn knot_binary() -> PathBuf {
    ["/usr/sbin/knotd", "/usr/local/sbin/knotd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("knotd"))
}
