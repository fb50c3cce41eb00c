//! `[cluster]`: how this node joins a fleet. Absent: a single node.
//!
//! The key file and the certificates are read and checked when the config
//! is loaded, so `check-config` (and a reload) catches a wrong path, a key
//! that does not match its certificate, or a certificate issued to another
//! node, before anything listens.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::resolve::{Failure, endpoint, label};
use super::units::{Quantity, parse_duration};
use super::{Invalid, LoadError};
use crate::cluster::gossip::{GossipKeys, GossipSettings, KeysError};
use crate::cluster::identity::{Revocation, valid_node_id};
use crate::cluster::pem::PemError;
use crate::cluster::{QuicSettings, TlsError, TlsMaterial};

/// Port of `gossip_listen` and of seeds when none is given.
pub const DEFAULT_GOSSIP_PORT: u16 = 7946;
/// Port of `quic_listen` when none is given.
pub const DEFAULT_QUIC_PORT: u16 = 7947;

/// `[cluster]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// `name`, required.
    pub name: String,
    /// `gossip_listen`
    pub gossip_listen: Option<String>,
    /// `quic_listen`
    pub quic_listen: Option<String>,
    /// `advertise`: the address peers reach this node at.
    pub advertise: Option<String>,
    /// `seeds`
    #[serde(default)]
    pub seeds: Vec<String>,
    /// `gossip_interval`
    pub gossip_interval: Option<Quantity>,
    /// `key_file`, required.
    pub key_file: PathBuf,
    /// `ca_cert`: one file, or a list during a CA rotation.
    pub ca_cert: OneOrMany,
    /// `cert`, required.
    pub cert: PathBuf,
    /// `key`, required.
    pub key: PathBuf,
    /// `revoked`: `serial:HEX` or `spki-sha256:HEX`.
    #[serde(default)]
    pub revoked: Vec<String>,
}

/// A path, or a list of paths.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `ca_cert = "ca.pem"`
    One(PathBuf),
    /// `ca_cert = ["new-ca.pem", "old-ca.pem"]`
    Many(Vec<PathBuf>),
}

/// `[cluster]`, checked, with its key file and certificates loaded.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// Nodes of other clusters are ignored.
    pub name: String,
    /// UDP address of gossip.
    pub gossip_listen: SocketAddr,
    /// UDP address of the QUIC endpoint.
    pub quic_listen: SocketAddr,
    /// The address peers reach this node at (gossip and QUIC), when the
    /// listen addresses are wildcards.
    pub advertise: Option<IpAddr>,
    /// Gossip addresses to join through.
    pub seeds: Vec<SocketAddr>,
    /// Interval between gossip rounds.
    pub gossip_interval: Duration,
    /// The key file, absolute.
    pub key_file: PathBuf,
    /// The CA files, absolute.
    pub ca_certs: Vec<PathBuf>,
    /// This node's certificate, absolute.
    pub cert: PathBuf,
    /// This node's private key, absolute.
    pub key: PathBuf,
    /// The keys read from `key_file`.
    pub gossip_keys: GossipKeys,
    /// Certificates, key and revocations, checked against the node id.
    pub tls: TlsMaterial,
}

impl ClusterSettings {
    /// Gossip settings of node `node_id` starting as `generation`.
    pub fn gossip_settings(&self, node_id: &str, generation: u64) -> GossipSettings {
        let mut settings = GossipSettings::new(&self.name, node_id, self.gossip_listen);
        settings.generation = generation;
        settings.advertise = self.advertise;
        settings.seeds = self.seeds.clone();
        settings.interval = self.gossip_interval;
        settings
    }

    /// QUIC endpoint settings of node `node_id`.
    pub fn quic_settings(&self, node_id: &str) -> QuicSettings {
        QuicSettings::new(node_id, self.quic_listen)
    }

    /// The QUIC address to publish to peers, given the address the
    /// endpoint is bound to (its port is the one to use when `quic_listen`
    /// asked for port 0).
    pub fn quic_advertise(&self, bound: SocketAddr) -> SocketAddr {
        let ip = self.advertise.unwrap_or(self.quic_listen.ip());
        SocketAddr::new(ip, bound.port())
    }
}

/// Checks `[cluster]` for node `node_id`; relative paths from `base`.
pub(super) fn resolve(
    spec: &ClusterSpec,
    base: &Path,
    node_id: &str,
) -> Result<ClusterSettings, Failure> {
    let at = |key: &str| Invalid::new(format!("cluster: {key}"));
    let name = label(&spec.name, "cluster: name")?;
    valid_node_id(node_id).map_err(|reason| Invalid::new("node: id").because(reason))?;
    let address = |text: &Option<String>, port: u16, key: &str| match text {
        Some(text) => endpoint(text, port).map_err(|reason| at(key).because(reason)),
        None => Ok(SocketAddr::from(([0, 0, 0, 0], port))),
    };
    let gossip_listen = address(&spec.gossip_listen, DEFAULT_GOSSIP_PORT, "gossip_listen")?;
    let quic_listen = address(&spec.quic_listen, DEFAULT_QUIC_PORT, "quic_listen")?;
    if gossip_listen == quic_listen && gossip_listen.port() != 0 {
        return Err(at("quic_listen")
            .because(format!("{quic_listen} is also gossip_listen; both are UDP"))
            .into());
    }
    let advertise = advertise(spec, gossip_listen, quic_listen)?;
    let mut seeds = Vec::with_capacity(spec.seeds.len());
    for text in &spec.seeds {
        seeds.push(
            endpoint(text, DEFAULT_GOSSIP_PORT).map_err(|reason| at("seeds").because(reason))?,
        );
    }
    let gossip_interval = match &spec.gossip_interval {
        Some(value) => {
            parse_duration(value).map_err(|reason| at("gossip_interval").because(reason))?
        }
        None => Duration::from_secs(1),
    };
    if gossip_interval.is_zero() {
        return Err(at("gossip_interval").because("must not be 0").into());
    }
    let revoked = spec
        .revoked
        .iter()
        .map(|text| text.parse::<Revocation>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| at("revoked").because(reason))?;
    let key_file = base.join(&spec.key_file);
    let gossip_keys =
        GossipKeys::load(&key_file).map_err(|error| keys_failure(error, &key_file))?;
    let ca_certs: Vec<PathBuf> = match &spec.ca_cert {
        OneOrMany::One(path) => vec![base.join(path)],
        OneOrMany::Many(paths) => paths.iter().map(|path| base.join(path)).collect(),
    };
    if ca_certs.is_empty() {
        return Err(at("ca_cert").because("needs at least one CA file").into());
    }
    let cert = base.join(&spec.cert);
    let key = base.join(&spec.key);
    let tls = TlsMaterial::load(&ca_certs, &cert, &key, revoked).map_err(tls_failure)?;
    tls.check_own(node_id).map_err(tls_failure)?;
    Ok(ClusterSettings {
        name,
        gossip_listen,
        quic_listen,
        advertise,
        seeds,
        gossip_interval,
        key_file,
        ca_certs,
        cert,
        key,
        gossip_keys,
        tls,
    })
}

/// `advertise`, required when a listen address is a wildcard.
fn advertise(
    spec: &ClusterSpec,
    gossip_listen: SocketAddr,
    quic_listen: SocketAddr,
) -> Result<Option<IpAddr>, Invalid> {
    let at = Invalid::new("cluster: advertise");
    match &spec.advertise {
        Some(text) => {
            let ip = text.trim().parse::<IpAddr>().map_err(|_| {
                at.clone()
                    .because(format!("\"{text}\" is not an IP address"))
            })?;
            if ip.is_unspecified() {
                return Err(at.because(format!("{ip} cannot be reached")));
            }
            Ok(Some(ip))
        }
        None if gossip_listen.ip().is_unspecified() || quic_listen.ip().is_unspecified() => Err(at
            .because(
                "is required when gossip_listen or quic_listen is a wildcard address: \
                 give the address peers reach this node at",
            )),
        None => Ok(None),
    }
}

fn keys_failure(error: KeysError, path: &Path) -> Failure {
    match error {
        KeysError::Read { path, source } => Failure::Read(LoadError::Read { path, source }),
        other => Invalid::new("cluster: key_file")
            .because(format!("{}: {other}", path.display()))
            .into(),
    }
}

fn tls_failure(error: TlsError) -> Failure {
    match error {
        TlsError::File(PemError::Io { path, source }) => {
            Failure::Read(LoadError::Read { path, source })
        }
        other => Invalid::new("cluster").because(other.to_string()).into(),
    }
}
