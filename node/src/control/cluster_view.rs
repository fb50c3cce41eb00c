//! What `ctl health` and `ctl cluster members` show, as they travel on the
//! control socket. The metrics read the same structs, so the two agree.

use serde::{Deserialize, Serialize};

use super::protocol::TimePoint;

/// The anycast health verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// Whether BIRD or ExaBGP should announce the anycast prefix.
    pub healthy: bool,
    /// Whether an operator drained the node (`ctl drain`).
    pub drained: bool,
    /// Why not healthy, one word from [`HealthView::REASONS`].
    pub reason: Option<String>,
    /// Why not healthy, for the operator: zone, peer, lag.
    pub detail: Option<String>,
    /// A change seen but not yet held long enough to flip the verdict.
    pub pending: Option<String>,
    /// Evaluations in a row that disagree with the verdict.
    pub streak: u32,
    /// Clean evaluations needed to turn healthy.
    pub rise: u32,
    /// Evaluations with a problem needed to turn unhealthy.
    pub fall: u32,
    /// Zones worse here than at a peer, at the last evaluation.
    pub problem_zones: usize,
    /// When the verdict last changed.
    pub since: TimePoint,
}

impl HealthView {
    /// Every value `reason` takes: a bounded set, fit for a metric label.
    pub const REASONS: [&'static str; 6] = [
        "starting",
        "drained",
        "not-loaded",
        "expired",
        "stale",
        "lagging",
    ];

    /// The `/healthz` body: `healthy`, or the reason in words.
    pub fn summary(&self) -> String {
        match (&self.detail, &self.reason) {
            _ if self.healthy => "healthy".to_owned(),
            (Some(detail), _) => detail.clone(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => "unhealthy".to_owned(),
        }
    }
}

/// The cluster as this node sees it: members, then zones against the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    /// `[cluster] name`; none when the node runs alone.
    pub cluster: Option<String>,
    /// This node's id.
    pub node: String,
    /// Every member, this node first.
    pub members: Vec<MemberView>,
    /// Per zone served here, this node against the fleet.
    pub zones: Vec<FleetZoneView>,
}

/// Whether the failure detector holds a member alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Heard from recently.
    Alive,
    /// Not heard from within the failure detector's bound.
    Dead,
}

impl MemberState {
    /// Both states, for metrics that publish one series per state.
    pub const ALL: [MemberState; 2] = [MemberState::Alive, MemberState::Dead];

    /// The word shown to operators.
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Alive => "alive",
            MemberState::Dead => "dead",
        }
    }
}

/// One member of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// Its node id.
    pub id: String,
    /// Whether it is the node answering.
    pub this_node: bool,
    /// Its region.
    pub region: String,
    /// Alive or dead.
    pub state: MemberState,
    /// Raised at each start of the member.
    pub generation: u64,
    /// Its QUIC address, once known.
    pub quic: Option<String>,
    /// Its DNS address, once known.
    pub dns: Option<String>,
    /// Round-trip time of our QUIC connection to it, in milliseconds.
    pub rtt_ms: Option<u64>,
    /// The zone versions it serves.
    pub zones: Vec<MemberZoneView>,
}

/// One zone as a member serves it, compared with this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberZoneView {
    /// The zone.
    pub zone: String,
    /// Its retransfer epoch.
    pub epoch: u32,
    /// Its serial.
    pub serial: u32,
    /// Its serial minus ours (RFC 1982 distance); none when this node has
    /// no version of the zone or the epochs differ.
    pub serial_delta: Option<i64>,
    /// Seconds since a primary confirmed the version, as it advertises.
    pub confirmed_age_seconds: Option<u64>,
}

/// One zone served here, against what the fleet offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetZoneView {
    /// The zone.
    pub zone: String,
    /// The serial served here.
    pub serial: Option<u32>,
    /// The newest serial a live member advertises (gossip; advisory).
    pub fleet_serial: Option<u32>,
    /// How long this node has lagged a verified newer version, in seconds
    /// (0 when it does not).
    pub lag_seconds: u64,
    /// A peer that confirmed over QUIC it serves the zone fresh.
    pub fresh_peer: Option<String>,
}
