//! Clusters of real `understudy` processes on loopback: credentials made
//! with the daemon's own `understudy cert`, a `[cluster]` table per node,
//! and the checks the cluster tests share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::env::{TestDir, free_addr};
use crate::process::run_ok;
use crate::understudy::{Config, Understudy, binary, status_zone};

/// The cluster's name in every node's config.
pub const CLUSTER: &str = "e2e";

/// A cluster CA, the gossip key and node certificates, in one directory.
#[derive(Debug)]
pub struct Credentials {
    dir: TestDir,
}

impl Credentials {
    /// A fresh CA and gossip key.
    pub fn new() -> Credentials {
        let dir = TestDir::new("cluster-credentials");
        run_ok(cert(&["ca", "--out", &dir.path().display().to_string()]));
        let key = run_ok(cert(&["gossip-key"]));
        dir.write("cluster.key", key.trim());
        Credentials { dir }
    }

    /// The gossip key file.
    pub fn key_file(&self) -> PathBuf {
        self.dir.join("cluster.key")
    }

    /// Makes the certificate of node `id` (once per id).
    fn node(&self, id: &str) -> (PathBuf, PathBuf) {
        let (pem, key) = (
            self.dir.join(&format!("{id}.pem")),
            self.dir.join(&format!("{id}.key")),
        );
        if !pem.is_file() {
            let dir = self.dir.path().display().to_string();
            run_ok(cert(&["node", id, "--ca", &dir, "--out", &dir]));
        }
        (pem, key)
    }
}

impl Default for Credentials {
    fn default() -> Credentials {
        Credentials::new()
    }
}

fn cert(args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.arg("cert").args(args);
    command
}

/// Where one node gossips and takes QUIC connections.
#[derive(Debug, Clone, Copy)]
pub struct ClusterAddrs {
    /// `gossip_listen`.
    pub gossip: SocketAddr,
    /// `quic_listen`.
    pub quic: SocketAddr,
}

impl ClusterAddrs {
    /// Fresh loopback ports.
    pub fn new() -> ClusterAddrs {
        ClusterAddrs {
            gossip: free_addr(),
            quic: free_addr(),
        }
    }
}

impl Default for ClusterAddrs {
    fn default() -> ClusterAddrs {
        ClusterAddrs::new()
    }
}

/// `config` as a member of the cluster: region, `[cluster]` table with
/// its own addresses, `seeds`, and certificates from `credentials`.
pub fn member(
    config: Config,
    region: &str,
    addrs: ClusterAddrs,
    seeds: &[SocketAddr],
    credentials: &Credentials,
) -> Config {
    let (pem, key) = credentials.node(&config.node_id);
    let seeds: Vec<String> = seeds.iter().map(|seed| format!("\"{seed}\"")).collect();
    let table = format!(
        "[cluster]\nname = \"{CLUSTER}\"\ngossip_listen = \"{}\"\nquic_listen = \"{}\"\n\
         seeds = [{}]\nkey_file = \"{}\"\nca_cert = \"{}\"\ncert = \"{}\"\nkey = \"{}\"",
        addrs.gossip,
        addrs.quic,
        seeds.join(", "),
        credentials.key_file().display(),
        credentials.dir.join("ca.pem").display(),
        pem.display(),
        key.display(),
    );
    let mut config = config;
    config.region = region.to_string();
    config.tables.push(table);
    config
}

/// The zone's `source` in `ctl zone status` (`primary ADDR`, `peer NODE`).
pub fn source(node: &Understudy, zone: &str) -> Option<String> {
    node.zone_statuses()
        .into_iter()
        .find(|entry| status_zone(entry) == Some(zone))?
        .get("source")?
        .as_str()
        .map(str::to_string)
}

/// How many versions the node installed from a peer, by its log.
pub fn peer_installs(node: &Understudy) -> usize {
    node.log()
        .lines()
        .filter(|line| line.contains("installed from peer"))
        .count()
}

/// Waits until every node serves `zone` at `serial`; returns the longest
/// wait.
pub fn wait_all(nodes: &[&Understudy], zone: &str, serial: u32, timeout: Duration) -> Duration {
    let start = std::time::Instant::now();
    for node in nodes {
        let left = timeout.saturating_sub(start.elapsed());
        node.wait_serial(zone, serial, left.max(Duration::from_millis(1)));
    }
    start.elapsed()
}
