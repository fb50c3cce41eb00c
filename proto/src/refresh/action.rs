//! What the machine asks the driver to do, and what the driver reports back.

use std::fmt;

use crate::serial::Serial;
use crate::time::Timestamp;

use super::config::SoaTimers;

/// Identifies one action handed out, so its report can be matched to it.
///
/// Reports for an action the machine has already given up on (its deadline
/// passed) carry an old id and are refused with [`ReportError::NotInFlight`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub u64);

/// How urgently an action should run; the scheduler serves urgent work first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Timer-driven refreshes and retries, first loads.
    Background,
    /// Work following a NOTIFY or an operator's command.
    Urgent,
}

/// The two kinds of network work, each with its own concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionClass {
    /// A single SOA query (UDP or TCP).
    SoaQuery,
    /// An IXFR or AXFR over TCP.
    Transfer,
}

/// The transfer to request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// IXFR (RFC 1995) from the serial we serve.
    Ixfr {
        /// The serial we serve, sent in the query's authority SOA.
        from: Serial,
    },
    /// AXFR (RFC 5936).
    Axfr,
}

/// One piece of work for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Ask primary `primary` for the zone's SOA.
    QuerySoa {
        /// Index into the zone's configured primaries.
        primary: usize,
    },
    /// Transfer the zone from primary `primary`.
    Transfer {
        /// Index into the zone's configured primaries.
        primary: usize,
        /// IXFR from a serial, or AXFR.
        kind: TransferKind,
        /// An operator's retransfer: take the primary's data whatever its
        /// serial; on success the zone's epoch rises by one.
        forced: bool,
    },
}

impl ActionKind {
    /// The primary the action goes to.
    pub fn primary(&self) -> usize {
        match *self {
            ActionKind::QuerySoa { primary } | ActionKind::Transfer { primary, .. } => primary,
        }
    }

    /// Which concurrency limit the action counts against.
    pub fn class(&self) -> ActionClass {
        match self {
            ActionKind::QuerySoa { .. } => ActionClass::SoaQuery,
            ActionKind::Transfer { .. } => ActionClass::Transfer,
        }
    }
}

/// An action handed out by `poll_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action {
    /// Pass back with the report.
    pub id: ActionId,
    /// What to do.
    pub kind: ActionKind,
    /// The driver gives up by this time and reports [`Failure::Timeout`].
    pub deadline: Timestamp,
    /// Urgent (NOTIFY, operator) or background.
    pub priority: Priority,
}

/// Which transfer the primary actually sent (a primary may answer an IXFR
/// query with a full zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XfrKind {
    /// Incremental: diffs applied to the serving version.
    Ixfr,
    /// Full zone.
    Axfr,
}

impl fmt::Display for XfrKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            XfrKind::Ixfr => "IXFR",
            XfrKind::Axfr => "AXFR",
        })
    }
}

/// Why an SOA query or transfer did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Failure {
    /// No answer, or a transfer that stalled or ran past its time.
    Timeout,
    /// Connection refused, reset, unreachable.
    Network(String),
    /// The primary answered with this RCODE (REFUSED, NOTAUTH, SERVFAIL…).
    Rcode(u16),
    /// The answer's TSIG was missing or did not verify.
    Tsig(String),
    /// The answer or transfer was malformed or inconsistent.
    Malformed(String),
    /// The transfer exceeded a configured size limit.
    Limit(String),
    /// The transfer arrived but could not be stored or installed here (disk
    /// full); another primary would not help, so the machine retries later.
    Store(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timed out"),
            Failure::Network(detail) => write!(f, "network: {detail}"),
            Failure::Rcode(rcode) => write!(f, "primary answered rcode {rcode}"),
            Failure::Tsig(detail) => write!(f, "TSIG: {detail}"),
            Failure::Malformed(detail) => write!(f, "malformed: {detail}"),
            Failure::Limit(detail) => write!(f, "limit exceeded: {detail}"),
            Failure::Store(detail) => write!(f, "store: {detail}"),
        }
    }
}

/// How a transfer action ended, as the driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The new version was received and installed (swapped in and stored).
    /// Install only under the version `install_version` returned.
    Installed {
        /// The new apex SOA.
        soa: SoaTimers,
        /// What the primary sent.
        kind: XfrKind,
    },
    /// The primary answered the IXFR query with its SOA alone (RFC 1995 §4):
    /// it has nothing newer than that serial.
    UpToDate {
        /// The primary's SOA.
        soa: SoaTimers,
    },
    /// IXFR was refused or unusable (broken diff, inconsistent sequence);
    /// an AXFR from the same primary is appropriate.
    FallbackToAxfr(Failure),
    /// The transfer failed.
    Failed(Failure),
}

/// Why a report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// No action with this id is in flight: it was never handed out, was
    /// already reported, or the machine gave up on it at its deadline.
    #[error("action {0:?} is not in flight")]
    NotInFlight(ActionId),
    /// The action in flight with this id is of the other class (an SOA
    /// query reported as a transfer, or the reverse).
    #[error("action {0:?} is not of the reported kind")]
    WrongKind(ActionId),
    /// The scheduler holds no zone of that name (it was removed).
    #[error("no such zone")]
    UnknownZone,
}
