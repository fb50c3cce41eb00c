//! One managed zone: its configuration, its data and what the rest of the
//! node needs to see of it.

use std::sync::Arc;
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::acl::Acl;
use understudy_proto::refresh::{ExpiryPolicy, RefreshConfig};
use understudy_proto::tsig::Key;
use understudy_proto::xfr::Journal;
use understudy_proto::zone::Snapshot;

use crate::config::{self, ZoneConfig};
use crate::primary::Primary;

/// How long one SOA query may take.
pub const SOA_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a zone's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneOrigin {
    /// A `[[zone]]` of the configuration file.
    Config,
    /// `ctl zone add`, kept in `zones.json`.
    Runtime,
}

/// What the NOTIFY and transfer-out paths read about a zone: who may
/// notify, who may transfer, and the data they may transfer.
#[derive(Debug)]
pub struct ZoneAccess {
    /// The zone.
    pub name: Name,
    /// Its primaries (always allowed to NOTIFY).
    pub primaries: Vec<std::net::SocketAddr>,
    /// The key NOTIFYs must be signed with, when the zone has one.
    pub notify_key: Option<Name>,
    /// Others allowed to NOTIFY.
    pub allow_notify: Acl,
    /// Who may AXFR/IXFR the zone from us.
    pub allow_transfer: Acl,
}

/// Where the data served came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A transfer from this primary.
    Primary(std::net::SocketAddr),
    /// A fetch over QUIC from this cluster member.
    Peer(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Primary(address) => write!(f, "primary {address}"),
            Source::Peer(node) => write!(f, "peer {node}"),
        }
    }
}

/// The data served for a zone: the snapshot and the journal leading to it,
/// published together so an IXFR answer never runs ahead of the snapshot.
#[derive(Clone)]
pub struct ZoneData {
    /// The served snapshot.
    pub snapshot: Arc<Snapshot>,
    /// Diffs up to the snapshot's serial.
    pub journal: Arc<Journal>,
}

/// A zone under management.
pub struct ManagedZone {
    /// Its configuration.
    pub config: ZoneConfig,
    /// Where that configuration comes from.
    pub origin: ZoneOrigin,
    /// Its primaries, ready to talk to.
    pub primaries: Vec<Primary>,
    /// The data served, if any.
    pub data: Option<ZoneData>,
    /// Where that data came from; `None` when loaded from disk.
    pub source: Option<Source>,
}

impl ManagedZone {
    /// A zone with nothing loaded yet.
    pub fn new(config: ZoneConfig, origin: ZoneOrigin, keys: &[Arc<Key>]) -> ManagedZone {
        let key = config
            .tsig_key
            .as_ref()
            .and_then(|name| keys.iter().find(|key| key.name == *name).cloned());
        let primaries = config
            .primaries
            .iter()
            .map(|addr| Primary {
                addr: *addr,
                source: config.transfer_source,
                key: key.clone(),
            })
            .collect();
        ManagedZone {
            config,
            origin,
            primaries,
            data: None,
            source: None,
        }
    }

    /// The refresh machine's settings for this zone.
    pub fn refresh_config(&self) -> RefreshConfig {
        let policy = &self.config.policy;
        RefreshConfig {
            primaries: self.primaries.len(),
            refresh_min: policy.refresh_min,
            refresh_max: policy.refresh_max,
            retry_min: policy.retry_min,
            retry_max: policy.retry_max,
            expire_min: policy.expire_min,
            expire_max: policy.expire_max,
            jitter: policy.jitter,
            expiry_policy: match policy.expiry_policy {
                config::ExpiryPolicy::Rfc => ExpiryPolicy::Rfc,
                config::ExpiryPolicy::ServeStale => ExpiryPolicy::ServeStale,
                config::ExpiryPolicy::Never => ExpiryPolicy::Never,
            },
            soa_timeout: SOA_TIMEOUT,
            transfer_timeout: policy.transfer_timeout,
            request_ixfr: true,
        }
    }

    /// What the NOTIFY and transfer-out paths need.
    pub fn access(&self) -> ZoneAccess {
        ZoneAccess {
            name: self.config.name.clone(),
            primaries: self.config.primaries.clone(),
            notify_key: self.config.tsig_key.clone(),
            allow_notify: self.config.allow_notify.clone(),
            allow_transfer: self.config.allow_transfer.clone(),
        }
    }

    /// A seed for the zone's jitter, different per zone and per start.
    pub fn seed(&self, node_seed: u64) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.config.name.hash(&mut hasher);
        node_seed ^ hasher.finish()
    }
}
