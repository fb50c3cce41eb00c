//! What one health evaluation looks at, per zone, and why a node withdraws.

use std::fmt;
use std::time::Duration;

use crate::answer::Freshness;
use crate::name::Name;
use crate::replicate::NodeId;
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

/// How long this node has lagged a newer version that is verified (a
/// peer confirmed it over QUIC, or the primary's SOA showed it) and that
/// the fleet has (some live peer serves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lag {
    /// Since when, without interruption.
    pub since: Timestamp,
    /// The newest such version.
    pub behind: ZoneVersion,
}

/// What the fleet offers for a zone that this node might not.
///
/// Built by the replicator from authenticated exchanges only (QUIC
/// confirmations and fetches, the primary's SOA), never from gossip alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetEvidence {
    /// A live peer that confirmed over QUIC that it serves the zone within
    /// its expire time, if any.
    pub fresh_peer: Option<NodeId>,
    /// How long we have lagged the fleet, if we do.
    pub lag: Option<Lag>,
}

/// One zone as a health evaluation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneHealth {
    /// The zone.
    pub zone: Name,
    /// What our answer path does with it (the refresh machine's verdict).
    pub freshness: Freshness,
    /// Whether any version is loaded here.
    pub loaded: bool,
    /// What the fleet offers.
    pub fleet: FleetEvidence,
}

/// Why a node is (or would become) unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Just started: not yet `rise` clean evaluations.
    Starting,
    /// An operator drained the node.
    Drained,
    /// Nothing loaded here, while a peer serves the zone fresh.
    NotLoaded {
        /// The zone.
        zone: Name,
        /// The peer.
        peer: NodeId,
    },
    /// Expired here (SERVFAIL), while a peer serves the zone fresh.
    Expired {
        /// The zone.
        zone: Name,
        /// The peer.
        peer: NodeId,
    },
    /// Past expire and served stale here, while a peer serves it fresh.
    Stale {
        /// The zone.
        zone: Name,
        /// The peer.
        peer: NodeId,
    },
    /// Lagging a verified newer version the fleet has, for too long.
    Lagging {
        /// The zone.
        zone: Name,
        /// The version lagged.
        behind: ZoneVersion,
        /// For how long.
        lag: Duration,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Starting => f.write_str("starting"),
            Reason::Drained => f.write_str("drained"),
            Reason::NotLoaded { zone, peer } => {
                write!(
                    f,
                    "zone {zone} not loaded here while {peer} serves it fresh"
                )
            }
            Reason::Expired { zone, peer } => {
                write!(f, "zone {zone} expired here while {peer} serves it fresh")
            }
            Reason::Stale { zone, peer } => {
                write!(f, "zone {zone} stale here while {peer} serves it fresh")
            }
            Reason::Lagging { zone, behind, lag } => write!(
                f,
                "zone {zone} lags verified version {behind} for {} s",
                lag.as_secs()
            ),
        }
    }
}

impl ZoneHealth {
    /// Why this zone makes the node worse than its peers at `now`, if it
    /// does. A condition no peer is better off in (the whole fleet past
    /// expire, say) is no reason.
    pub fn problem(&self, now: Timestamp, max_lag: Duration) -> Option<Reason> {
        if let Some(peer) = self.fleet.fresh_peer.clone() {
            let zone = self.zone.clone();
            match (self.freshness, self.loaded) {
                (Freshness::Expired, false) => return Some(Reason::NotLoaded { zone, peer }),
                (Freshness::Expired, true) => return Some(Reason::Expired { zone, peer }),
                (Freshness::Stale, _) => return Some(Reason::Stale { zone, peer }),
                (Freshness::Fresh, _) => {}
            }
        }
        let lag = self.fleet.lag?;
        let lagged = now.since(lag.since);
        (lagged > max_lag).then(|| Reason::Lagging {
            zone: self.zone.clone(),
            behind: lag.behind,
            lag: lagged,
        })
    }
}
