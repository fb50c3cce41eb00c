//! What the cluster looks like from this node: the one structure that
//! `ctl cluster members`, the metrics and the health check read, so they
//! never disagree.
//!
//! The zone manager (which drives gossip and the replicator) publishes a
//! new [`ClusterStatus`] whenever members or evidence change; readers load
//! the latest one without locking. Counters are shared atomics that the
//! transfer and gossip paths bump as they go.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use understudy_proto::Name;
use understudy_proto::health::FleetEvidence;
use understudy_proto::serial::ZoneVersion;

/// The cluster as this node sees it at one moment.
#[derive(Debug, Clone, Default)]
pub struct ClusterStatus {
    /// `[cluster] name`; empty when the node runs alone.
    pub cluster: String,
    /// This node's id.
    pub node: String,
    /// This node's region.
    pub region: String,
    /// Every member gossip knows of, this node first.
    pub members: Vec<MemberStatus>,
    /// Per zone, what the fleet offers compared with this node.
    pub zones: BTreeMap<Name, ZoneFleet>,
}

/// One member as gossip and QUIC describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    /// Its node id.
    pub id: String,
    /// Its region.
    pub region: String,
    /// Raised at each start of the member.
    pub generation: u64,
    /// Whether the failure detector holds it alive.
    pub alive: bool,
    /// Its QUIC address, once gossiped.
    pub quic: Option<SocketAddr>,
    /// Its DNS address, once gossiped.
    pub dns: Option<SocketAddr>,
    /// Round-trip time of our QUIC connection to it, when there is one.
    pub rtt: Option<Duration>,
    /// The zone versions it advertises.
    pub zones: Vec<MemberZone>,
}

/// One zone as a member advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberZone {
    /// The zone.
    pub zone: Name,
    /// The version it serves.
    pub version: ZoneVersion,
    /// How long ago a primary confirmed it, as advertised.
    pub confirmed_age: Option<Duration>,
}

/// One zone compared with the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneFleet {
    /// The newest version any live member advertises (gossip; advisory).
    pub newest: Option<ZoneVersion>,
    /// Authenticated evidence for health (QUIC confirmations, fetches, SOA).
    pub evidence: FleetEvidence,
}

/// Where a transfer came from, for counters and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A configured primary (SOA check, AXFR, IXFR).
    Primary,
    /// A cluster member over QUIC.
    Peer,
}

impl SourceKind {
    /// The label value used in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Primary => "primary",
            SourceKind::Peer => "peer",
        }
    }
}

/// Counters of the cluster paths, bumped where the work happens.
#[derive(Debug, Default)]
pub struct ClusterCounters {
    transfers: [[AtomicU64; 2]; 2],
    /// Snapshot and diff bytes received from peers.
    pub peer_bytes_received: AtomicU64,
    /// Snapshot and diff bytes sent to peers.
    pub peer_bytes_sent: AtomicU64,
    /// Confirmations a peer answered for a zone we serve.
    pub confirms_ok: AtomicU64,
    /// Confirmations that failed (timeout, refused, mismatch).
    pub confirms_failed: AtomicU64,
}

impl ClusterCounters {
    /// Counts one finished transfer of a new version.
    pub fn transfer(&self, source: SourceKind, ok: bool) {
        self.transfers[source as usize][usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
    }

    /// Transfers from `source` that succeeded (`ok`) or failed.
    pub fn transfers(&self, source: SourceKind, ok: bool) -> u64 {
        self.transfers[source as usize][usize::from(!ok)].load(Ordering::Relaxed)
    }
}

/// The shared handle: the manager stores, everyone else loads.
#[derive(Debug, Default)]
pub struct ClusterShared {
    status: ArcSwap<ClusterStatus>,
    /// Counters of the cluster paths.
    pub counters: ClusterCounters,
}

impl ClusterShared {
    /// The latest status.
    pub fn status(&self) -> Arc<ClusterStatus> {
        self.status.load_full()
    }

    /// Publishes a new status.
    pub fn publish(&self, status: ClusterStatus) {
        self.status.store(Arc::new(status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_counted_by_source_and_result() {
        let counters = ClusterCounters::default();
        counters.transfer(SourceKind::Peer, true);
        counters.transfer(SourceKind::Peer, true);
        counters.transfer(SourceKind::Primary, false);
        assert_eq!(counters.transfers(SourceKind::Peer, true), 2);
        assert_eq!(counters.transfers(SourceKind::Peer, false), 0);
        assert_eq!(counters.transfers(SourceKind::Primary, false), 1);
        assert_eq!(counters.transfers(SourceKind::Primary, true), 0);
    }

    #[test]
    fn readers_see_the_latest_publication() {
        let shared = ClusterShared::default();
        assert!(shared.status().members.is_empty());
        shared.publish(ClusterStatus {
            node: "ams-1".into(),
            ..ClusterStatus::default()
        });
        assert_eq!(shared.status().node, "ams-1");
    }
}
