//! Why a request to a peer failed, and what the replicator makes of it.

use std::time::Duration;

use understudy_proto::replicate::PeerFailure;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::cluster::CodecError;
use understudy_proto::xfr::ApplyError;
use understudy_proto::zone::{BuildError, LoadError};

use crate::cluster::{RequestError, StreamError};

/// Why a confirm, fetch or zone-list request failed. Nothing was returned.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No connection within the client's connect timeout.
    #[error("connect timed out after {0:?}")]
    ConnectTimedOut(Duration),
    /// The connection or stream could not be set up (peer down, TLS
    /// refused either way, endpoint closed).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The stream failed midway (reset, closed, idle too long).
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The whole exchange did not finish by its deadline.
    #[error("no complete answer within {0:?}")]
    TimedOut(Duration),
    /// The payload arrived slower than the minimum rate.
    #[error("{received} of {length} bytes by the minimum-rate deadline")]
    TooSlow {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        length: u64,
    },
    /// The peer does not serve the zone, or only an older version.
    #[error("peer does not hold the zone at the version wanted")]
    NotHeld,
    /// The peer sends as many transfers as it allows.
    #[error("peer busy")]
    Busy,
    /// No protocol version both sides speak.
    #[error("peer speaks protocol versions {lowest}..={highest} only")]
    Unsupported {
        /// Its oldest.
        lowest: u16,
        /// Its newest.
        highest: u16,
    },
    /// The answer is not a valid message.
    #[error("malformed answer: {0}")]
    Malformed(CodecError),
    /// The answer announces a payload beyond this node's limits.
    #[error("answer refused: {0}")]
    TooLarge(CodecError),
    /// A valid message that does not answer the request.
    #[error("unexpected answer: {0}")]
    Unexpected(&'static str),
    /// The snapshot bytes do not load.
    #[error("snapshot does not verify: {0}")]
    Snapshot(#[from] LoadError),
    /// The diffs do not apply to the client's snapshot.
    #[error("diffs do not apply: {0}")]
    Apply(#[from] ApplyError),
    /// The records after the diffs do not make a zone.
    #[error("zone after the diffs does not build: {0}")]
    Build(#[from] BuildError),
    /// The data is not what the answer announced.
    #[error("announced {announced}, received {received}")]
    Mismatch {
        /// What the head said (zone, version or digest).
        announced: String,
        /// What the data holds.
        received: String,
    },
    /// An answer older than the version asked for.
    #[error("peer sent {sent}, older than {wanted} asked for")]
    Stale {
        /// The version sent.
        sent: ZoneVersion,
        /// The version wanted.
        wanted: ZoneVersion,
    },
    /// Verification could not run here.
    #[error("verification failed locally: {0}")]
    Local(String),
}

impl PeerError {
    /// What the replicator is told.
    ///
    /// A busy peer is a `Network` failure: it is up but not serving now,
    /// like one refusing connections, and is not blamed for the data. A
    /// payload beyond this node's own limits is `Local`: every peer would
    /// send the same, and the fix is this node's configuration.
    pub fn failure(&self) -> PeerFailure {
        match self {
            PeerError::ConnectTimedOut(_)
            | PeerError::TimedOut(_)
            | PeerError::TooSlow { .. }
            | PeerError::Request(RequestError::ConnectTimedOut { .. })
            | PeerError::Stream(StreamError::TimedOut(_))
            | PeerError::Request(RequestError::Stream {
                source: StreamError::TimedOut(_),
                ..
            }) => PeerFailure::Timeout,
            PeerError::Request(_)
            | PeerError::Stream(_)
            | PeerError::Busy
            | PeerError::Unsupported { .. } => PeerFailure::Network,
            PeerError::NotHeld => PeerFailure::Refused,
            PeerError::TooLarge(_) | PeerError::Local(_) => PeerFailure::Local,
            PeerError::Malformed(_)
            | PeerError::Unexpected(_)
            | PeerError::Snapshot(_)
            | PeerError::Apply(_)
            | PeerError::Build(_)
            | PeerError::Mismatch { .. }
            | PeerError::Stale { .. } => PeerFailure::Corrupt,
        }
    }
}
