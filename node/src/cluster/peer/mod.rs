//! Zone data between nodes: the peer protocol of
//! `understudy_proto::wire::cluster` over the cluster's QUIC endpoint.
//!
//! ```text
//!  PeerClient::confirm ─ Confirm ──────────────▶ PeerServer ─ LocalZones::serving
//!                      ◀─ Version | NotHeld ─────
//!  PeerClient::fetch ─── Fetch(want, have) ────▶ journal covers have → Diffs + payload
//!                      ◀─ Diffs | Snapshot ──────  otherwise        → Snapshot + bytes
//!                         | NotHeld | Busy         too many sends   → Busy
//!    verify: diffs applied to `have` and rebuilt, digest equal; or
//!            Snapshot::from_bytes, origin and serial as announced
//!  PeerClient::zone_list ─ ZoneList ───────────▶ LocalZones::zone_list
//! ```
//!
//! Every request starts with a protocol version; a peer answering
//! `Unsupported` is asked again in the highest version both speak, and that
//! version is remembered for the peer. Nothing a client returns has not
//! been verified; every failure maps to a `PeerFailure` for the replicator
//! ([`PeerError::failure`]).

mod client;
mod error;
mod server;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::xfr::Diff;
use understudy_proto::zone::Snapshot;

use crate::manager::zone::ZoneData;

pub use client::{ClientSettings, PeerClient};
pub use error::PeerError;
pub use server::{PeerServer, STREAM_BAD_REQUEST};

/// What the peer server needs from the node (the daemon implements it over
/// its zone table).
pub trait LocalZones: Send + Sync + 'static {
    /// What the node serves of `zone`, if anything.
    fn serving(&self, zone: &Name) -> Option<Serving>;
    /// The fleet zone list, as the fleet's zone-list CRDT encodes it.
    fn zone_list(&self) -> Vec<u8>;
}

/// A zone as the node serves it.
#[derive(Clone)]
pub struct Serving {
    /// Its epoch and serial; the serial is the snapshot's.
    pub version: ZoneVersion,
    /// The snapshot and the journal leading to it.
    pub data: Arc<ZoneData>,
    /// How long ago a primary confirmed this version, directly or through
    /// the peer it came from; `None` if never.
    pub confirmed_age: Option<Duration>,
}

/// A peer's answer to a confirm request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerVersion {
    /// The version it serves.
    pub version: ZoneVersion,
    /// Its snapshot digest.
    pub digest: [u8; 32],
    /// How long ago a primary confirmed it, as the peer says.
    pub confirmed_age: Option<Duration>,
}

/// How a fetch was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    /// Diffs from the version the client had.
    Diffs,
    /// The whole snapshot.
    Full,
}

/// A verified fetch.
#[derive(Debug)]
pub struct Fetched {
    /// The version received (the peer's current, possibly newer than the
    /// one wanted).
    pub version: ZoneVersion,
    /// The snapshot at `version`, verified.
    pub snapshot: Snapshot,
    /// The diffs that led there from the client's version, for its
    /// journal, when the peer sent diffs.
    pub diffs: Option<Vec<Diff>>,
    /// How long ago a primary confirmed `version`, as the peer says.
    pub confirmed_age: Option<Duration>,
    /// Payload bytes received.
    pub bytes: u64,
    /// Diffs or full snapshot.
    pub kind: FetchKind,
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
