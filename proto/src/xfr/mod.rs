//! Zone transfers: AXFR and IXFR in and out, diffs and the journal.
//!
//! - [`Interpreter`] turns the response messages to an SOA, AXFR or IXFR
//!   query into a [`Transfer`] (RFC 5936, RFC 1995), enforcing [`Limits`]
//!   and rejecting every inconsistency with an [`XfrError`] that says
//!   whether an AXFR fallback is worth trying.
//! - [`apply_diffs`] applies IXFR [`Diff`]s to a zone's records, strictly.
//! - [`Journal`] keeps recent diffs for serving IXFR, bounded, and
//!   round-trips through bytes with a checksum.
//! - [`axfr_stream`] and [`ixfr_stream`] build the messages we send to
//!   downstream secondaries.

mod diff;
mod error;
mod interpreter;
mod journal;
mod outbound;

pub use diff::{ApplyError, Diff, apply_diffs};
pub use error::XfrError;
pub use interpreter::{Interpreter, Limits, Progress, Request, Transfer};
pub use journal::{Journal, JournalError, JournalLimits};
pub use outbound::{
    MESSAGE_LIMIT, OutboundError, ResponseStream, axfr_stream, ixfr_client_serial, ixfr_stream,
    soa_response,
};

#[cfg(test)]
mod tests;
