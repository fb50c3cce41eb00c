//! The list itself: local writes and merges.

use std::collections::BTreeMap;

use crate::name::Name;

use super::entry::{Entry, EntryState, FleetZone, MAX_NODE_ID_LEN, Tag};

/// The fleet's zone list. Zone names are kept in canonical DNS order and
/// compared without case, so the same set of entries always encodes to the
/// same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneList {
    entries: BTreeMap<Name, Entry>,
}

/// How one zone's effective state changed through a write or a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The zone is now served, as described (newly, or with a new
    /// description).
    Live(Name, FleetZone),
    /// The zone is no longer served.
    Removed(Name),
}

impl ZoneList {
    /// An empty list.
    pub fn new() -> ZoneList {
        ZoneList::default()
    }

    /// Records `node`'s adding (or redefining) `zone`; returns the tag written.
    pub fn add(&mut self, zone: Name, spec: FleetZone, node: &str) -> Tag {
        self.add_after(zone, spec, node, 0)
    }

    /// [`ZoneList::add`] with a counter of at least `floor`. The node passes
    /// its wall clock in milliseconds (a hybrid logical clock): of two
    /// writes that did not see each other, the later operator command wins,
    /// while a write still comes after everything its writer merged.
    pub fn add_after(&mut self, zone: Name, spec: FleetZone, node: &str, floor: u64) -> Tag {
        self.write(zone, EntryState::Live(spec), node, floor)
    }

    /// Records `node`'s removing `zone`; returns the tag written. A zone
    /// the list does not know gets a tombstone too, so that a concurrent add
    /// with a lower tag elsewhere still loses.
    pub fn remove(&mut self, zone: Name, node: &str) -> Tag {
        self.remove_after(zone, node, 0)
    }

    /// [`ZoneList::remove`] with a counter of at least `floor`.
    pub fn remove_after(&mut self, zone: Name, node: &str, floor: u64) -> Tag {
        self.write(zone, EntryState::Removed, node, floor)
    }

    /// Merges `other` into this list: per zone the greater entry wins.
    /// Returns the zones whose effective state changed here.
    pub fn merge(&mut self, other: &ZoneList) -> Vec<Change> {
        other
            .entries
            .iter()
            .filter_map(|(zone, entry)| self.merge_entry(zone.clone(), entry.clone()))
            .collect()
    }

    /// Merges one entry; returns the change it made, if any.
    pub fn merge_entry(&mut self, zone: Name, entry: Entry) -> Option<Change> {
        let zone = zone.to_lowercase();
        let before = self.entries.get(&zone).and_then(Entry::live).cloned();
        match self.entries.get(&zone) {
            Some(held) if *held >= entry => return None,
            _ => {}
        }
        let after = entry.live().cloned();
        self.entries.insert(zone.clone(), entry);
        match (before, after) {
            (before, Some(after)) if before.as_ref() != Some(&after) => {
                Some(Change::Live(zone, after))
            }
            (Some(_), None) => Some(Change::Removed(zone)),
            _ => None,
        }
    }

    /// The entry of `zone`, live or tombstone.
    pub fn entry(&self, zone: &Name) -> Option<&Entry> {
        self.entries.get(zone)
    }

    /// Every entry, tombstones included, in canonical name order.
    pub fn entries(&self) -> impl Iterator<Item = (&Name, &Entry)> {
        self.entries.iter()
    }

    /// The zones the fleet serves, in canonical name order.
    pub fn live(&self) -> impl Iterator<Item = (&Name, &FleetZone)> {
        self.entries
            .iter()
            .filter_map(|(zone, entry)| entry.live().map(|spec| (zone, spec)))
    }

    /// Number of entries, tombstones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entry at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The highest Lamport counter in the list.
    pub fn clock(&self) -> u64 {
        self.entries
            .values()
            .map(|entry| entry.tag.counter)
            .max()
            .unwrap_or(0)
    }

    /// SHA-256 of the encoded list: equal on two nodes exactly when their
    /// lists are equal.
    pub fn digest(&self) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.to_bytes());
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    pub(super) fn insert_decoded(&mut self, zone: Name, entry: Entry) -> bool {
        self.entries.insert(zone, entry).is_none()
    }

    pub(super) fn last_name(&self) -> Option<&Name> {
        self.entries.keys().next_back()
    }

    fn write(&mut self, zone: Name, state: EntryState, node: &str, floor: u64) -> Tag {
        let tag = self.next_tag(node, floor);
        let entry = Entry {
            tag: tag.clone(),
            state,
        };
        self.entries.insert(zone.to_lowercase(), entry);
        tag
    }

    /// A tag above every counter this list has seen and at least `floor`,
    /// so that the write happens after (in Lamport order) everything merged
    /// before it. A node id longer than [`MAX_NODE_ID_LEN`] is cut at a
    /// character boundary (config validation keeps real ids far shorter).
    fn next_tag(&self, node: &str, floor: u64) -> Tag {
        let mut end = node.len().min(MAX_NODE_ID_LEN);
        while !node.is_char_boundary(end) {
            end -= 1;
        }
        Tag {
            counter: self.clock().saturating_add(1).max(floor),
            node: node[..end].to_string(),
        }
    }
}
