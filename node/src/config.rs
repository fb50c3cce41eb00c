//! The node configuration: TOML, `version = 1`, unknown keys rejected.
//!
//! [`Config::load`] reads the file, checks every value and resolves it into
//! typed settings (durations, sizes, socket addresses, TSIG secrets, paths
//! made absolute against the config file's directory). A problem is
//! reported with the table, zone and key it concerns. Zones added at run
//! time go through the same checks with [`Config::resolve_zone`].

mod catalog;
mod check;
mod cluster;
mod health;
mod key_file;
mod policy;
mod resolve;
mod scalar;
mod spec;
mod tsig_key;
mod units;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::acl::Acl;

pub use catalog::{CatalogSettings, CatalogSpec};
pub use check::check_config;
pub use cluster::{
    ClusterSettings, ClusterSpec, DEFAULT_GOSSIP_PORT, DEFAULT_QUIC_PORT, OneOrMany,
};
pub use health::{DEFAULT_HEALTH_INTERVAL, HealthSettings};
pub use key_file::{KeyFileError, KeyStatement, parse_key_file};
pub use policy::{ExpiryPolicy, ZonePolicy};
pub use scalar::Scalar;
pub use spec::{PolicySpec, ZoneSpec};
pub use tsig_key::{AlgorithmError, TsigAlgorithm, TsigKey};
pub use units::{Quantity, format_duration, format_size, parse_duration, parse_size};

/// Where the daemon's files live unless `[node] data_dir` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/understudy";
/// The control socket unless `[control] socket` says otherwise.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/understudy/control.sock";
/// CHAOS `version.bind` unless `[dns] version` says otherwise.
pub const DEFAULT_VERSION_TEXT: &str = concat!("understudy ", env!("CARGO_PKG_VERSION"));
/// The port of `[metrics] listen` when the address has none.
pub const DEFAULT_METRICS_PORT: u16 = 9553;

/// A loaded and validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (empty when parsed from a string).
    pub source: PathBuf,
    /// `[node]`
    pub node: NodeSettings,
    /// `[dns]`
    pub dns: DnsSettings,
    /// `[control]`
    pub control: ControlSettings,
    /// `[metrics]`
    pub metrics: MetricsSettings,
    /// `[log]`
    pub log: LogSettings,
    /// `[zone_defaults]`, the policy of zones that set nothing themselves.
    pub zone_defaults: ZonePolicy,
    /// `[[tsig_key]]`, secrets loaded.
    pub tsig_keys: Vec<TsigKey>,
    /// `[[zone]]`, in file order.
    pub zones: Vec<ZoneConfig>,
    /// `[cluster]`, credentials loaded; `None` runs a single node.
    pub cluster: Option<ClusterSettings>,
    /// `[[catalog]]`: zones read as RFC 9432 catalogs.
    pub catalogs: Vec<CatalogSettings>,
    /// `[health]`
    pub health: HealthSettings,
}

/// `[node]`
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSettings {
    /// This node's name in logs, NSID, CHAOS and the cluster.
    pub id: String,
    /// The region it belongs to.
    pub region: String,
    /// Where snapshots, journals and state are kept.
    pub data_dir: PathBuf,
}

/// `[dns]`
#[derive(Debug, Clone, PartialEq)]
pub struct DnsSettings {
    /// Addresses to answer queries on, UDP and TCP.
    pub listen: Vec<SocketAddr>,
    /// UDP sockets per listen address; 0 means one per core.
    pub udp_workers: usize,
    /// How long an idle TCP connection is kept (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: Duration,
    /// Most TCP connections open at once.
    pub tcp_max_connections: usize,
    /// NSID payload (RFC 5001); `None` disables NSID.
    pub nsid: Option<Vec<u8>>,
    /// CHAOS `id.server` / `hostname.bind`; `None` refuses them.
    pub identity: Option<String>,
    /// CHAOS `version.bind`; `None` refuses it.
    pub version: Option<String>,
}

/// `[control]`
#[derive(Debug, Clone, PartialEq)]
pub struct ControlSettings {
    /// Path of the control socket.
    pub socket: PathBuf,
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSettings {
    /// Address of the /metrics and /healthz listener; `None` runs none.
    pub listen: Option<SocketAddr>,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// Line format.
    pub format: LogFormat,
    /// A `tracing_subscriber::EnvFilter` directive (`info`, `understudy=debug`).
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// One zone, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneConfig {
    /// The zone apex.
    pub name: Name,
    /// Primaries, tried in order.
    pub primaries: Vec<SocketAddr>,
    /// Key signing SOA queries, transfers and expected on NOTIFY.
    pub tsig_key: Option<Name>,
    /// Who may AXFR/IXFR this zone from us; empty: nobody.
    pub allow_transfer: Acl,
    /// Who besides the primaries may NOTIFY us.
    pub allow_notify: Acl,
    /// Local address to send SOA queries and transfers from.
    pub transfer_source: Option<IpAddr>,
    /// Timers, expiry and limits.
    pub policy: ZonePolicy,
    /// The zone as written, for `zones.json` and `ctl zone status`.
    pub spec: ZoneSpec,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file (or a key file it names) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown or of the wrong type.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// `version` is missing or not 1.
    #[error("{}: {found}; this understudy reads `version = 1`", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// What was there instead.
        found: String,
    },
    /// A value that parses but is not acceptable.
    #[error("{}: {invalid}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        invalid: Invalid,
    },
}

/// A value that is not acceptable, and the table and key it sits at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {reason}")]
pub struct Invalid {
    /// Table, zone and key, e.g. `zone "example.com.": primaries`.
    pub context: String,
    /// What is wrong with the value.
    pub reason: String,
}

impl Invalid {
    fn new(context: impl Into<String>) -> Invalid {
        Invalid {
            context: context.into(),
            reason: String::new(),
        }
    }

    fn because(mut self, reason: impl Into<String>) -> Invalid {
        self.reason = reason.into();
        self
    }
}

impl Config {
    /// Reads, checks and resolves the file at `path`.
    pub fn load(path: &Path) -> Result<Config, LoadError> {
        let text = read(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Config::parse(&text, base, path)?;
        config.source = path.to_path_buf();
        Ok(config)
    }

    /// Parses TOML text; relative paths are taken from `base`, and `path`
    /// names the file in errors.
    pub fn parse(text: &str, base: &Path, path: &Path) -> Result<Config, LoadError> {
        resolve::parse(text, base, path)
    }

    /// Checks a zone given at run time (`ctl zone add`, `zones.json`) against
    /// this config's keys and defaults.
    pub fn resolve_zone(&self, spec: &ZoneSpec) -> Result<ZoneConfig, Invalid> {
        resolve::zone(spec, &self.tsig_keys, &self.zone_defaults)
    }

    /// The key with this name.
    pub fn tsig_key(&self, name: &Name) -> Option<&TsigKey> {
        self.tsig_keys.iter().find(|key| &key.name == name)
    }

    /// The zone with this apex.
    pub fn zone(&self, name: &Name) -> Option<&ZoneConfig> {
        self.zones.iter().find(|zone| &zone.name == name)
    }

    /// One paragraph describing what this config will run.
    pub fn summary(&self) -> String {
        check::summary(self)
    }
}

impl DnsSettings {
    /// UDP workers to start: the configured number, or one per core.
    pub fn udp_worker_count(&self) -> usize {
        if self.udp_workers > 0 {
            return self.udp_workers;
        }
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// The control socket named by the config at `path`, for `understudy ctl
/// --config`: only `[control] socket` is read, so a node with a config
/// problem elsewhere can still be reached.
pub fn control_socket(path: &Path) -> Result<PathBuf, LoadError> {
    let text = read(path)?;
    let spec: spec::ControlOnlySpec = toml::from_str(&text).map_err(|error| LoadError::Syntax {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let socket = spec
        .control
        .socket
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONTROL_SOCKET));
    Ok(base.join(socket))
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
