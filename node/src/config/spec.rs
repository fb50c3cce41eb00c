//! The config file as written: serde structs mirroring the TOML tables, with
//! values still as text so that validation can name the key that is wrong.
//!
//! `[zone_defaults]` and `[[zone]]` share the policy keys through
//! `#[serde(flatten)]`, which serde cannot combine with
//! `deny_unknown_fields`; those two tables instead collect leftover keys in
//! `unknown`, and validation rejects them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::scalar::Scalar;
use super::units::Quantity;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Format version; only 1 exists. Checked before this struct is read
    /// (through `VersionSpec`), so that a wrong version is the first error.
    #[allow(dead_code)]
    pub version: i64,
    /// `[node]`: required for its `id`.
    pub node: NodeSpec,
    /// `[dns]`
    #[serde(default)]
    pub dns: DnsSpec,
    /// `[control]`
    #[serde(default)]
    pub control: ControlSpec,
    /// `[metrics]`
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// `[log]`
    #[serde(default)]
    pub log: LogSpec,
    /// `[zone_defaults]`
    #[serde(default)]
    pub zone_defaults: ZoneDefaultsSpec,
    /// `[[tsig_key]]`
    #[serde(default)]
    pub tsig_key: Vec<KeySpec>,
    /// `[[zone]]`
    #[serde(default)]
    pub zone: Vec<ZoneSpec>,
    /// `[cluster]`; absent for a single node.
    pub cluster: Option<super::cluster::ClusterSpec>,
    /// `[[catalog]]`
    #[serde(default)]
    pub catalog: Vec<super::catalog::CatalogSpec>,
    /// `[health]`
    #[serde(default)]
    pub health: super::health::HealthSpec,
}

/// Reads only `version`, so that a file of another version gets a version
/// error rather than complaints about keys this version does not know.
#[derive(Debug, Deserialize)]
pub struct VersionSpec {
    /// The `version` key, any TOML type.
    pub version: Option<toml::Value>,
}

/// Reads only `[control] socket`, for `understudy ctl --config`.
#[derive(Debug, Default, Deserialize)]
pub struct ControlOnlySpec {
    /// The `[control]` table.
    #[serde(default)]
    pub control: ControlSpec,
}

/// `[node]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// `id`, required.
    pub id: String,
    /// `region`
    pub region: Option<String>,
    /// `data_dir`
    pub data_dir: Option<PathBuf>,
}

/// `[dns]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    /// `listen`
    pub listen: Option<Vec<String>>,
    /// `udp_workers`
    pub udp_workers: Option<u64>,
    /// `tcp_idle_timeout`
    pub tcp_idle_timeout: Option<Quantity>,
    /// `tcp_max_connections`
    pub tcp_max_connections: Option<u64>,
    /// `nsid`
    pub nsid: Option<String>,
    /// `identity`
    pub identity: Option<String>,
    /// `version`
    pub version: Option<String>,
}

/// `[control]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    /// `socket`
    pub socket: Option<PathBuf>,
}

/// `[metrics]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// `listen`
    pub listen: Option<String>,
}

/// `[log]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSpec {
    /// `format`
    pub format: Option<String>,
    /// `level`
    pub level: Option<String>,
}

/// `[zone_defaults]`
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ZoneDefaultsSpec {
    /// The policy keys.
    #[serde(flatten)]
    pub policy: PolicySpec,
    /// Keys that are not policy keys: an error.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// The per-zone policy keys, allowed in `[zone_defaults]` and in each
/// `[[zone]]`; absent keys inherit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// `expiry_policy`: `rfc`, `serve-stale` or `never`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_policy: Option<Scalar>,
    /// `refresh_min`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_min: Option<Scalar>,
    /// `refresh_max`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_max: Option<Scalar>,
    /// `retry_min`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_min: Option<Scalar>,
    /// `retry_max`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_max: Option<Scalar>,
    /// `expire_min`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_min: Option<Scalar>,
    /// `expire_max`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_max: Option<Scalar>,
    /// `jitter`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Scalar>,
    /// `max_records`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_records: Option<Scalar>,
    /// `max_zone_bytes`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_zone_bytes: Option<Scalar>,
    /// `transfer_timeout`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_timeout: Option<Scalar>,
    /// `transfer_min_rate` (bytes per second)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_min_rate: Option<Scalar>,
    /// `journal_max_diffs`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_max_diffs: Option<Scalar>,
    /// `journal_max_bytes`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_max_bytes: Option<Scalar>,
}

/// `[[tsig_key]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// `name`
    pub name: String,
    /// `algorithm`; optional when `file` names it.
    pub algorithm: Option<String>,
    /// `secret` (base64)
    pub secret: Option<String>,
    /// `file`: a BIND-format key file.
    pub file: Option<PathBuf>,
}

/// `[[zone]]` as written in the config, and the zone description `understudy
/// ctl zone add` sends and `zones.json` keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneSpec {
    /// `name`
    pub name: String,
    /// `primaries`: `address[:port]`, tried in order.
    pub primaries: Vec<String>,
    /// `tsig_key`: the name of a `[[tsig_key]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsig_key: Option<String>,
    /// `allow_transfer`: addresses, prefixes, `key:NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_transfer: Vec<String>,
    /// `allow_notify`: addresses, prefixes, `key:NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_notify: Vec<String>,
    /// `transfer_source`: local address for SOA queries and transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_source: Option<String>,
    /// Policy keys overriding `[zone_defaults]`.
    #[serde(flatten)]
    pub policy: PolicySpec,
    /// Keys that are neither zone nor policy keys: an error.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}
