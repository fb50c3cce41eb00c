//! One zone's entry in the fleet list: its tag and its state.

use std::cmp::Ordering;

use crate::name::Name;

/// Longest node id a tag may carry, in bytes.
pub const MAX_NODE_ID_LEN: usize = 255;

/// Who wrote an entry, and when in Lamport time. Tags order entries of the
/// same zone: higher counter wins, the node id breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    /// The Lamport counter: above every counter the writer had seen.
    pub counter: u64,
    /// The id of the node that wrote the entry.
    pub node: String,
}

/// A zone as `ctl zone add` describes it, in a form every node can turn
/// back into its own zone configuration. Values are kept as the operator
/// wrote them; each node validates them when it applies the entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FleetZone {
    /// Primaries, `address[:port]`, tried in order.
    pub primaries: Vec<String>,
    /// The name of the TSIG key, which each node must have configured.
    pub tsig_key: Option<String>,
    /// `allow_transfer` entries.
    pub allow_transfer: Vec<String>,
    /// `allow_notify` entries.
    pub allow_notify: Vec<String>,
    /// Local address for SOA queries and transfers.
    pub transfer_source: Option<String>,
    /// Policy keys and their values (as JSON scalars), sorted by key.
    pub options: Vec<(String, String)>,
    /// The catalog zone that provisioned this zone, if one did.
    pub catalog: Option<Name>,
    /// The member's unique-N label in that catalog (RFC 9432 §4.1): a
    /// change resets the zone.
    pub member_id: Option<Vec<u8>>,
}

/// What an entry says about its zone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryState {
    /// Removed: a tombstone.
    Removed,
    /// Served by the fleet, as described.
    Live(FleetZone),
}

/// A zone's entry: the last write to it that the list knows of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Who wrote it, when.
    pub tag: Tag,
    /// What it says.
    pub state: EntryState,
}

impl Entry {
    /// The zone's description if the entry is live.
    pub fn live(&self) -> Option<&FleetZone> {
        match &self.state {
            EntryState::Live(zone) => Some(zone),
            EntryState::Removed => None,
        }
    }
}

/// Tags first; equal tags (only possible when a node lost its list and
/// reused a counter) are ordered by content, so that every node still picks
/// the same winner.
impl Ord for Entry {
    fn cmp(&self, other: &Entry) -> Ordering {
        self.tag
            .cmp(&other.tag)
            .then_with(|| self.state.cmp(&other.state))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
