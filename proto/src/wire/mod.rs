//! DNS messages on the wire: reading and building whole messages.
//!
//! This is the general message layer used for transfers, NOTIFY, TSIG and
//! the messages a secondary sends; the query fast path in [`crate::answer`]
//! works on the bytes directly instead.
//!
//! - [`Message::parse`] reads a message into owned parts: header, questions,
//!   the three record sections with RDATA names expanded and RDATA layouts
//!   checked, the OPT record, and the TSIG record with its offset. Any
//!   malformed input is a [`WireError`], never a panic.
//! - [`MessageBuilder`] writes one, compressing owner names and the RDATA
//!   names of the RFC 1035 types (RFC 3597 §4), and refuses an entry that
//!   would pass the size limit with [`BuildError::Full`] so that a caller can
//!   start the next message of a stream.
//! - [`soa_query`], [`axfr_query`], [`ixfr_query`], [`notify`],
//!   [`notify_response`] and [`error_response`] build the messages a
//!   secondary sends.
//! - [`cluster`] frames the requests nodes of a cluster send each other
//!   over QUIC.

mod builder;
pub mod cluster;
mod compress;
mod edns;
mod error;
pub mod gossip;
mod header;
mod message;
mod queries;
mod rdata;

pub use builder::{MAX_MESSAGE_LEN, MessageBuilder};
pub use edns::{EdnsOption, Opt};
pub use error::{BuildError, Section, WireError};
pub use header::{HEADER_LEN, Header};
pub use message::{Message, Question, TsigRecord};
pub use queries::{axfr_query, error_response, ixfr_query, notify, notify_response, soa_query};

#[cfg(test)]
mod tests;
