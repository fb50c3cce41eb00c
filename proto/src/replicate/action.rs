//! What the replicator asks the driver to do over QUIC, and the reports.

use std::fmt;
use std::time::Duration;

use crate::name::Name;
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

use super::member::NodeId;

/// Identifies one replication action, so its report can be matched to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplicaId(pub u64);

/// What to ask a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaActionKind {
    /// Fetch the zone: diffs from `have` out of the peer's journal, or the
    /// full snapshot. Verify the digest, then offer the result to the
    /// refresh machine (`handle_peer_install`) before serving it.
    Fetch {
        /// The version the peer advertised, newer than ours.
        want: ZoneVersion,
        /// The version we serve, if any.
        have: Option<ZoneVersion>,
    },
    /// Ask the peer for its (epoch, serial, digest) of the zone and the age
    /// of its primary confirmation.
    Confirm {
        /// The version we serve, if any; a confirmation of it with a
        /// matching digest goes to the refresh machine
        /// (`handle_confirmation`).
        ours: Option<ZoneVersion>,
    },
}

/// One action for the driver.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplicaAction {
    /// Pass back with the report.
    pub id: ReplicaId,
    /// The zone.
    pub zone: Name,
    /// The member to ask.
    pub peer: NodeId,
    /// What to ask it.
    pub kind: ReplicaActionKind,
    /// The driver gives up by this time and reports [`PeerFailure::Timeout`].
    pub deadline: Timestamp,
}

/// Why a fetch or confirmation from a peer did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerFailure {
    /// No answer in time, or a transfer that stalled.
    Timeout,
    /// Connection refused, reset or unreachable; TLS refused.
    Network,
    /// The peer answered that it does not hold the zone or version (any
    /// more).
    Refused,
    /// The data did not verify: bad snapshot bytes, digest mismatch, diffs
    /// that do not apply, or a confirmation of our version with another
    /// digest. The peer is avoided for the longest backoff.
    Corrupt,
    /// The data arrived but could not be stored here (disk full); the peer
    /// is not blamed, the zone waits a backoff.
    Local,
}

impl fmt::Display for PeerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerFailure::Timeout => "timed out",
            PeerFailure::Network => "network error",
            PeerFailure::Refused => "peer does not hold it",
            PeerFailure::Corrupt => "data did not verify",
            PeerFailure::Local => "could not be stored here",
        })
    }
}

/// How a fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchOutcome {
    /// Verified, accepted by the refresh machine, stored and swapped in.
    Installed {
        /// The version installed (the peer may have sent a newer one than
        /// asked for).
        version: ZoneVersion,
        /// How long before the fetch a primary confirmed it, as the peer
        /// said.
        age: Duration,
    },
    /// Verified but not taken: the refresh machine already serves this
    /// version or a newer one (the primary was faster). Not the peer's
    /// fault.
    Superseded,
    /// Failed.
    Failed(PeerFailure),
}

/// How a confirmation request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfirmOutcome {
    /// The peer serves `version`, confirmed by a primary `age` ago (its
    /// digest matched ours when the version is ours).
    Confirmed {
        /// The peer's version.
        version: ZoneVersion,
        /// Its confirmation age.
        age: Duration,
    },
    /// Failed.
    Failed(PeerFailure),
}

/// Why a report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaReportError {
    /// No action with this id is in flight: never handed out, already
    /// reported, given up at its deadline, or its zone was removed.
    #[error("replication action {0:?} is not in flight")]
    NotInFlight(ReplicaId),
    /// The action is a fetch reported as a confirmation, or the reverse.
    #[error("replication action {0:?} is not of the reported kind")]
    WrongKind(ReplicaId),
}
