//! Talking to primaries: SOA queries, IXFR and AXFR over TCP.

pub mod soa;
pub mod transport;
pub mod xfr;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use understudy_proto::refresh::Failure;
use understudy_proto::tsig::Key;

use transport::TransportError;

/// One primary of a zone, as the zone's configuration names it.
#[derive(Debug, Clone)]
pub struct Primary {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The local address to send from, if configured.
    pub source: Option<IpAddr>,
    /// The TSIG key to sign with and expect on answers.
    pub key: Option<Arc<Key>>,
}

/// The wall clock in Unix seconds, for TSIG.
pub fn unix_now() -> u64 {
    crate::clock::unix_seconds(SystemTime::now())
}

/// How a transport error counts for the refresh machine.
fn failure(error: TransportError) -> Failure {
    match error {
        TransportError::Timeout(_)
        | TransportError::Deadline(_)
        | TransportError::TooSlow { .. } => Failure::Timeout,
        other => Failure::Network(other.to_string()),
    }
}
