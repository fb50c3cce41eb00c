//! The fleet's zone list on this node: kept on disk, pulled from peers,
//! applied by the zone manager.
//!
//! The list itself (a CRDT) lives in `understudy_proto::fleet`; here are
//! its file ([`FleetList`]), its conversion to and from the node's zone
//! description ([`convert`]) and the task that pulls peers' lists over QUIC
//! ([`FleetSync`]). The manager applies the list in
//! `manager/commands/fleet.rs`: `ctl zone add` / `zone remove` on a node with
//! `[cluster]` write to the list, then the manager brings its zones in line.

pub mod convert;
mod list;
mod sync;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;

pub use list::{Author, FILE_NAME, FleetList, MergeError};
pub use sync::{FleetSync, ListSource, PullError, SyncSettings, live_peers, start};
