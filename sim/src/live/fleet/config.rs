//! The TOML configuration of one node, with the keys of
//! `deploy/understudy.toml`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The zone every node follows and how.
#[derive(Debug, Clone)]
pub struct ZoneSettings {
    /// The zone's name.
    pub name: String,
    /// The primary's address.
    pub primary: SocketAddr,
    /// TSIG key name and base64 secret (hmac-sha256), when transfers are
    /// signed.
    pub tsig: Option<(String, String)>,
    /// `expiry_policy`: `rfc`, `serve-stale` or `never`.
    pub expiry_policy: String,
}

/// The cluster files every node shares.
#[derive(Debug, Clone)]
pub struct ClusterFiles {
    /// `key_file`.
    pub key_file: PathBuf,
    /// `ca_cert`.
    pub ca_cert: PathBuf,
    /// Directory holding `ID.pem` and `ID.key` of every node.
    pub certs: PathBuf,
}

/// One node's identity and addresses.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// `[node] id`, e.g. `ams-1`.
    pub id: String,
    /// `[node] region`.
    pub region: String,
    /// Index of the region in the fleet.
    pub region_index: usize,
    /// DNS over UDP and TCP.
    pub dns: SocketAddr,
    /// Gossip (UDP).
    pub gossip: SocketAddr,
    /// QUIC.
    pub quic: SocketAddr,
    /// The node's directory (config, data, control socket, log).
    pub dir: PathBuf,
    /// The network namespace it runs in, if not this one.
    pub namespace: Option<String>,
}

impl NodeSpec {
    /// The control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("understudy.toml")
    }

    /// The log file (stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("understudy.log")
    }
}

/// The config text of `node`; `seeds` are the other nodes' gossip
/// addresses, `cluster` absent for a node running alone.
pub fn node_config(
    node: &NodeSpec,
    zone: &ZoneSettings,
    cluster: Option<(&ClusterFiles, &[SocketAddr])>,
) -> String {
    let mut text = format!(
        "version = 1\n\n[node]\nid = {}\nregion = {}\ndata_dir = {}\n\n\
         [dns]\nlisten = [{}]\nudp_workers = 1\n\n[control]\nsocket = {}\n\n\
         [log]\nformat = \"text\"\nlevel = \"info\"\n\n",
        quote(&node.id),
        quote(&node.region),
        quote_path(&node.dir.join("data")),
        quote(&node.dns.to_string()),
        quote_path(&node.control_socket()),
    );
    // Drill timers are seconds, not the production minutes and hours.
    let _ = write!(
        text,
        "[zone_defaults]\nexpiry_policy = {}\nrefresh_min = \"1s\"\nretry_min = \"1s\"\n\
         retry_max = \"2s\"\nexpire_min = \"1s\"\n",
        quote(&zone.expiry_policy)
    );
    if let Some((name, secret)) = &zone.tsig {
        let _ = write!(
            text,
            "\n[[tsig_key]]\nname = {}\nalgorithm = \"hmac-sha256\"\nsecret = {}\n",
            quote(name),
            quote(secret)
        );
    }
    let _ = write!(
        text,
        "\n[[zone]]\nname = {}\nprimaries = [{}]\n",
        quote(&zone.name),
        quote(&zone.primary.to_string())
    );
    if let Some((name, _)) = &zone.tsig {
        let _ = writeln!(text, "tsig_key = {}", quote(name));
    }
    // From the node's own address, so that the primary can tell nodes
    // apart and a partition by address range cuts transfers too.
    let _ = writeln!(
        text,
        "transfer_source = {}",
        quote(&node.dns.ip().to_string())
    );
    if let Some((files, seeds)) = cluster {
        write_cluster(&mut text, node, files, seeds);
    }
    text
}

fn write_cluster(text: &mut String, node: &NodeSpec, files: &ClusterFiles, seeds: &[SocketAddr]) {
    let seeds: Vec<String> = seeds.iter().map(|s| quote(&s.to_string())).collect();
    let _ = write!(
        text,
        "\n[cluster]\nname = \"drill\"\ngossip_listen = {}\nquic_listen = {}\nseeds = [{}]\n\
         key_file = {}\nca_cert = {}\ncert = {}\nkey = {}\n",
        quote(&node.gossip.to_string()),
        quote(&node.quic.to_string()),
        seeds.join(", "),
        quote_path(&files.key_file),
        quote_path(&files.ca_cert),
        quote_path(&files.certs.join(format!("{}.pem", node.id))),
        quote_path(&files.certs.join(format!("{}.key", node.id))),
    );
}

fn quote_path(path: &Path) -> String {
    quote(&path.display().to_string())
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    let mut quoted = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_as_toml_with_the_cluster_table() {
        let node = NodeSpec {
            id: "ams-1".into(),
            region: "ams".into(),
            region_index: 0,
            dns: "127.100.1.1:5300".parse().unwrap(),
            gossip: "127.100.1.1:5301".parse().unwrap(),
            quic: "127.100.1.1:5302".parse().unwrap(),
            dir: PathBuf::from("/tmp/x \"y\""),
            namespace: None,
        };
        let zone = ZoneSettings {
            name: "drill.example.".into(),
            primary: "127.100.0.1:5300".parse().unwrap(),
            tsig: Some(("k".into(), "c2VjcmV0".into())),
            expiry_policy: "rfc".into(),
        };
        let files = ClusterFiles {
            key_file: "/k".into(),
            ca_cert: "/ca.pem".into(),
            certs: "/certs".into(),
        };
        let seeds = ["127.100.2.1:5301".parse().unwrap()];
        let text = node_config(&node, &zone, Some((&files, &seeds)));
        let value: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(value["cluster"]["cert"].as_str(), Some("/certs/ams-1.pem"));
        assert_eq!(value["zone"][0]["tsig_key"].as_str(), Some("k"));
        assert_eq!(
            value["node"]["data_dir"].as_str(),
            Some("/tmp/x \"y\"/data")
        );
    }
}
