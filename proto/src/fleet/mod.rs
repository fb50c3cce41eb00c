//! The fleet's zone list: which secondary zones every node of the cluster
//! serves, as a state-based CRDT (a last-writer-wins map with tombstones).
//!
//! `understudy ctl zone add` on any node writes one entry, `zone remove` one
//! tombstone; nodes pull each other's lists over mutually authenticated QUIC
//! and [`ZoneList::merge`] them. Every entry carries a [`Tag`]: a Lamport
//! counter (which the node lifts to its wall clock in milliseconds, see
//! [`ZoneList::add_after`]) and the id of the node that wrote it. Per zone
//! name the entry with the higher tag wins, whatever the order lists
//! arrive in:
//!
//! ```text
//!   node a: add x (tag 4/a) ─┐
//!                            ├─ merge ─▶ x: removed (5/b) on every node
//!   node b: remove x (5/b) ──┘
//! ```
//!
//! Merge is commutative, associative and idempotent (the property tests in
//! `tests.rs` check the three laws), so nodes that have seen the same
//! operations hold the same list, byte for byte, and the same [`digest`].
//!
//! Tombstones are kept, never pruned. Pruning one safely needs proof that
//! every node, including those down for weeks, has seen it; without that a
//! node returning with the old live entry would bring the zone back. A
//! tombstone costs its name, a tag and a byte (about 50 bytes for a typical
//! name): ten thousand removals add about half a megabyte to the list.
//! Correctness never depends on a guess of how long nodes stay away.
//!
//! [`digest`]: ZoneList::digest

mod codec;
mod entry;
mod list;
#[cfg(test)]
mod tests;

pub use codec::{DecodeError, FORMAT_VERSION, MAX_ENCODED_LEN};
pub use entry::{Entry, EntryState, FleetZone, MAX_NODE_ID_LEN, Tag};
pub use list::{Change, ZoneList};
