//! Why a transfer failed, and whether falling back to AXFR makes sense.

use crate::name::Name;
use crate::record::{Class, Rtype, rcode};
use crate::wire::WireError;

/// Why a response to an SOA, IXFR or AXFR query was rejected. The zone
/// being served is never touched by a failed transfer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XfrError {
    /// A message could not be parsed (garbage mid-stream).
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    /// The message id is not the query's.
    #[error("response id {received} does not match query id {expected}")]
    IdMismatch {
        /// The query's id.
        expected: u16,
        /// The id received.
        received: u16,
    },
    /// Not a response (QR clear) or not to a standard query.
    #[error("not a response to a standard query")]
    NotResponse,
    /// The question is not the one asked.
    #[error("response question does not match the query")]
    QuestionMismatch,
    /// The primary answered with an error code.
    #[error("primary answered rcode {0}")]
    Rcode(u16),
    /// TC set: retry over TCP (SOA query) or the primary cannot send the transfer.
    #[error("response truncated")]
    Truncated,
    /// An SOA answer without AA: the server is not authoritative for the zone.
    #[error("answer is not authoritative")]
    NotAuthoritative,
    /// The answer does not start with the zone's SOA.
    #[error("response does not start with the zone's SOA")]
    MissingSoa,
    /// A record whose owner lies outside the zone.
    #[error("record {0} is outside the zone")]
    OutOfZone(Name),
    /// A record of another class than the zone's.
    #[error("record of class {0} in an IN zone")]
    WrongClass(Class),
    /// A meta type (AXFR, ANY, …) among the records.
    #[error("meta type {0} among the zone's records")]
    MetaType(Rtype),
    /// An SOA in the middle of a transfer whose serial fits no sequence.
    #[error("SOA serial {found} where {expected} was expected")]
    SerialMismatch {
        /// The serial the sequence called for.
        expected: u32,
        /// The serial received.
        found: u32,
    },
    /// An IXFR diff going backwards or nowhere (RFC 1982 order).
    #[error("IXFR diff from {from} to {to} does not move forward")]
    BadDiffOrder {
        /// The diff's starting serial.
        from: u32,
        /// The diff's ending serial.
        to: u32,
    },
    /// Records after the closing SOA, or messages after the transfer ended.
    #[error("records after the closing SOA")]
    TrailingRecords,
    /// The stream ended before the closing SOA. The interpreter cannot see
    /// the connection; the caller reports this when the primary closes early.
    #[error("transfer ended before the closing SOA")]
    Incomplete,
    /// More records than allowed for this zone.
    #[error("zone exceeds {limit} records")]
    TooManyRecords {
        /// The configured maximum.
        limit: usize,
    },
    /// More octets than allowed for this zone.
    #[error("transfer exceeds {limit} octets")]
    TooManyBytes {
        /// The configured maximum.
        limit: usize,
    },
}

impl XfrError {
    /// After an IXFR query: whether asking the same primary for AXFR is
    /// appropriate. True when the primary refuses or cannot do IXFR, or sent
    /// a broken or inconsistent diff; false when the zone is too large or
    /// the primary fails outright (SERVFAIL), where AXFR would fail the same
    /// way. (After an AXFR or SOA query there is nothing to fall back to.)
    /// TSIG failures are [`crate::tsig::VerifyError`]s and never fall back.
    pub fn fallback(&self) -> bool {
        match self {
            XfrError::Rcode(code) => matches!(
                *code,
                rcode::FORMERR | rcode::NOTIMP | rcode::REFUSED | rcode::NOTAUTH
            ),
            XfrError::TooManyRecords { .. } | XfrError::TooManyBytes { .. } => false,
            _ => true,
        }
    }
}
