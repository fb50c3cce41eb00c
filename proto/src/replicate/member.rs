//! Cluster members as gossip describes them.

use std::fmt;
use std::time::Duration;

use crate::serial::ZoneVersion;
use crate::time::Timestamp;

/// A node's configured id (`[node] id`), stable across restarts.
///
/// Ordered by its bytes, so every node sorts members the same way.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(Box<str>);

impl NodeId {
    /// The id `id`.
    pub fn new(id: impl Into<Box<str>>) -> NodeId {
        NodeId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(id: &str) -> NodeId {
        NodeId::new(id)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// What gossip says about a member itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberInfo {
    /// Its node id.
    pub id: NodeId,
    /// Raised at every start of the node, so a restarted node is told apart
    /// from its former self (its old adverts no longer count).
    pub generation: u64,
    /// Its region (`[node] region`).
    pub region: String,
}

/// Whether the failure detector holds a member alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Liveness {
    /// Heard from recently.
    Alive,
    /// Not heard from: never chosen as a source or a fetcher.
    Dead,
}

/// One member's zone version as gossip advertises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Advert {
    /// The version it serves.
    pub version: ZoneVersion,
    /// How long before the advert was read a primary confirmed that
    /// version (directly, or inherited from the peer it came from); `None`
    /// when it does not know.
    pub confirmed_age: Option<Duration>,
    /// Whether its last check of the zone's primaries succeeded (it may be
    /// the region's fetcher after a NOTIFY). `true` when gossip does not
    /// say.
    pub primary_reachable: bool,
}

/// A point in the past given as an age at a known time, so that no
/// negative or pre-origin timestamp is ever needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Confirmation {
    /// When the age was read.
    pub read_at: Timestamp,
    /// The age then.
    pub age: Duration,
}

impl Confirmation {
    /// The age at `now` (never less than the age read).
    pub fn age_at(&self, now: Timestamp) -> Duration {
        self.age.saturating_add(now.since(self.read_at))
    }
}

/// A member as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Id, generation and region.
    pub info: MemberInfo,
    /// The failure detector's verdict.
    pub liveness: Liveness,
    /// The round-trip time the driver last measured to it.
    pub rtt: Option<Duration>,
}

impl Member {
    /// Whether it may be chosen as a source or a fetcher.
    pub fn is_alive(&self) -> bool {
        self.liveness == Liveness::Alive
    }
}

/// A member's advert as the view holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeldAdvert {
    /// The version it serves.
    pub version: ZoneVersion,
    /// When a primary confirmed it, if known.
    pub confirmed: Option<Confirmation>,
    /// Whether its last check of the primaries succeeded.
    pub primary_reachable: bool,
}
