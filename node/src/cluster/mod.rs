//! The node's cluster transport: who may talk to whom, and how.
//!
//! * [`quic`]: one QUIC endpoint per node, mutual TLS against the cluster
//!   CAs ([`tls`], [`verify`], [`identity`]); requests are plain
//!   bidirectional streams ([`stream`]) whose bytes the caller frames.
//! * [`peer`]: the requests nodes answer each other over that endpoint:
//!   confirm a zone's version, fetch its diffs or snapshot, the zone list.
//! * [`gossip`]: chitchat membership and key-values, every datagram
//!   authenticated with the cluster key and checked against replay.
//!
//! Certificates and keys come from `understudy cert` (`crate::cert`),
//! settings from the config's `[cluster]` table.

pub mod gossip;
pub mod identity;
pub mod peer;
pub mod pem;
pub mod quic;
pub mod runtime;
pub mod status;
pub mod stream;
pub mod tls;
pub mod verify;

pub use peer::{
    ClientSettings, FetchKind, Fetched, LocalZones, PeerClient, PeerError, PeerServer, PeerVersion,
    Serving,
};
pub use quic::{ClusterEndpoint, Peer, QuicCounters, QuicSettings, RequestError, RequestHandler};
pub use stream::{ClusterStream, StreamError};
pub use tls::{ALPN, TlsError, TlsMaterial};

#[cfg(test)]
mod tests;
