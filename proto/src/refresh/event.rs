//! Events a machine records for its driver to log, one line each.
//!
//! A log line carries the fixed fields `zone` (the driver knows it),
//! `serial` ([`Event::serving`]), `remote` ([`Event::primary`]), `op`
//! ([`Event::op`]) and `elapsed_ms` ([`Event::elapsed`]), and the event's
//! `Display` as the message.

use std::fmt;
use std::time::Duration;

use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::action::{Failure, XfrKind};
use super::status::ZoneState;

/// The operation an event is about: the `op` field of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// An SOA query to a primary.
    Soa,
    /// An IXFR.
    Ixfr,
    /// An AXFR.
    Axfr,
    /// A NOTIFY received.
    Notify,
    /// An operator's refresh.
    Refresh,
    /// An operator's retransfer.
    Retransfer,
    /// A confirmation of the serving version from elsewhere (a peer).
    Confirm,
    /// A version installed from a peer.
    Peer,
    /// A change of state.
    State,
}

impl Op {
    /// Lower-case name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Soa => "soa",
            Op::Ixfr => "ixfr",
            Op::Axfr => "axfr",
            Op::Notify => "notify",
            Op::Refresh => "refresh",
            Op::Retransfer => "retransfer",
            Op::Confirm => "confirm",
            Op::Peer => "peer",
            Op::State => "state",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a NOTIFY led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyDisposition {
    /// Its serial is not newer than ours (RFC 1996 §4.7): only noted.
    Noted,
    /// An urgent SOA check was queued (or a queued one made urgent).
    CheckQueued,
    /// A check is under way; another follows when it ends.
    Deferred,
    /// Held: the check waits a bounded time for a cluster peer to deliver
    /// the new version (see `ZoneRefresh::handle_notify_deferred`).
    Held,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A primary's SOA showed the serial we serve.
    Verified {
        /// Index of the primary.
        primary: usize,
        /// Time the query took.
        elapsed: Duration,
    },
    /// A primary's SOA showed a newer serial; a transfer follows.
    NewerSerial {
        /// Index of the primary.
        primary: usize,
        /// Its serial.
        serial: Serial,
        /// Time the query took.
        elapsed: Duration,
    },
    /// A primary showed a serial older than ours (RFC 1982); not followed.
    SerialRegressed {
        /// Index of the primary.
        primary: usize,
        /// Its serial.
        serial: Serial,
        /// Time the query took.
        elapsed: Duration,
    },
    /// A new version was installed.
    Transferred {
        /// Index of the primary.
        primary: usize,
        /// What the primary sent.
        kind: XfrKind,
        /// An operator's retransfer (the epoch rose).
        forced: bool,
        /// Time the transfer took.
        elapsed: Duration,
    },
    /// IXFR was unusable; AXFR from the same primary follows.
    FallbackToAxfr {
        /// Index of the primary.
        primary: usize,
        /// What was wrong with the IXFR.
        reason: Failure,
        /// Time the IXFR took.
        elapsed: Duration,
    },
    /// An SOA query or transfer failed.
    Failed {
        /// Index of the primary.
        primary: usize,
        /// The operation that failed.
        op: Op,
        /// Why.
        failure: Failure,
        /// Time until the failure.
        elapsed: Duration,
    },
    /// No primary confirmed our serial or offered a newer one (each failed
    /// or lagged behind); the next check waits for the retry interval.
    RetryScheduled {
        /// When it starts.
        next: Timestamp,
        /// How long from now.
        delay: Duration,
    },
    /// A NOTIFY arrived.
    Notify {
        /// The serial it carried, if any.
        serial: Option<Serial>,
        /// What it led to.
        disposition: NotifyDisposition,
    },
    /// A held NOTIFY's wait ended without a peer delivering its serial;
    /// the primaries are checked now.
    HeldNotifyReleased {
        /// The serial it carried, if any.
        serial: Option<Serial>,
        /// What it led to: a check queued, or one after the check under way.
        disposition: NotifyDisposition,
    },
    /// An operator asked for an immediate check.
    RefreshRequested,
    /// An operator asked for a forced AXFR.
    RetransferRequested,
    /// A peer's confirmation moved the verified-at time forward.
    Confirmed {
        /// How old the confirmation was.
        age: Duration,
    },
    /// A version from a peer was installed.
    PeerInstalled {
        /// How long ago a primary confirmed it.
        age: Duration,
    },
    /// The zone's state changed.
    StateChanged {
        /// Before.
        from: ZoneState,
        /// After.
        to: ZoneState,
    },
}

/// One event: what happened, when, and the version served afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
    /// The version served after it.
    pub serving: Option<ZoneVersion>,
}

impl Event {
    /// The operation, for the `op` log field.
    pub fn op(&self) -> Op {
        match &self.kind {
            EventKind::Verified { .. }
            | EventKind::NewerSerial { .. }
            | EventKind::SerialRegressed { .. }
            | EventKind::RetryScheduled { .. } => Op::Soa,
            EventKind::Transferred { kind, .. } => match kind {
                XfrKind::Ixfr => Op::Ixfr,
                XfrKind::Axfr => Op::Axfr,
            },
            EventKind::FallbackToAxfr { .. } => Op::Ixfr,
            EventKind::Failed { op, .. } => *op,
            EventKind::Notify { .. } | EventKind::HeldNotifyReleased { .. } => Op::Notify,
            EventKind::RefreshRequested => Op::Refresh,
            EventKind::RetransferRequested => Op::Retransfer,
            EventKind::Confirmed { .. } => Op::Confirm,
            EventKind::PeerInstalled { .. } => Op::Peer,
            EventKind::StateChanged { .. } => Op::State,
        }
    }

    /// The primary involved, for the `remote` log field.
    pub fn primary(&self) -> Option<usize> {
        match &self.kind {
            EventKind::Verified { primary, .. }
            | EventKind::NewerSerial { primary, .. }
            | EventKind::SerialRegressed { primary, .. }
            | EventKind::Transferred { primary, .. }
            | EventKind::FallbackToAxfr { primary, .. }
            | EventKind::Failed { primary, .. } => Some(*primary),
            _ => None,
        }
    }

    /// How long the operation took, for the `elapsed_ms` log field.
    pub fn elapsed(&self) -> Option<Duration> {
        match &self.kind {
            EventKind::Verified { elapsed, .. }
            | EventKind::NewerSerial { elapsed, .. }
            | EventKind::SerialRegressed { elapsed, .. }
            | EventKind::Transferred { elapsed, .. }
            | EventKind::FallbackToAxfr { elapsed, .. }
            | EventKind::Failed { elapsed, .. } => Some(*elapsed),
            _ => None,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Verified { .. } => f.write_str("primary confirmed serial"),
            EventKind::NewerSerial { serial, .. } => write!(f, "primary has newer serial {serial}"),
            EventKind::SerialRegressed { serial, .. } => {
                write!(
                    f,
                    "primary serial {serial} is older than ours; not followed"
                )
            }
            EventKind::Transferred { kind, forced, .. } => match forced {
                true => write!(f, "forced {kind} installed, epoch raised"),
                false => write!(f, "{kind} installed"),
            },
            EventKind::FallbackToAxfr { reason, .. } => {
                write!(f, "IXFR unusable ({reason}); falling back to AXFR")
            }
            EventKind::Failed { failure, .. } => write!(f, "failed: {failure}"),
            EventKind::RetryScheduled { delay, .. } => {
                write!(
                    f,
                    "no primary confirmed the serial; next check in {} s",
                    delay.as_secs()
                )
            }
            EventKind::Notify {
                serial,
                disposition,
            } => {
                match serial {
                    Some(serial) => write!(f, "NOTIFY serial {serial}: ")?,
                    None => f.write_str("NOTIFY: ")?,
                }
                f.write_str(match disposition {
                    NotifyDisposition::Noted => "not newer, noted",
                    NotifyDisposition::CheckQueued => "SOA check queued",
                    NotifyDisposition::Deferred => "check follows the one under way",
                    NotifyDisposition::Held => "held while a peer fetches it",
                })
            }
            EventKind::HeldNotifyReleased { serial, .. } => match serial {
                Some(serial) => write!(
                    f,
                    "no peer delivered NOTIFY serial {serial} in time; checking the primaries"
                ),
                None => f.write_str("no peer delivered the NOTIFY in time; checking the primaries"),
            },
            EventKind::RefreshRequested => f.write_str("refresh requested"),
            EventKind::RetransferRequested => f.write_str("retransfer requested"),
            EventKind::Confirmed { age } => {
                write!(f, "peer confirmed serial, {} ms ago", age.as_millis())
            }
            EventKind::PeerInstalled { age } => {
                write!(
                    f,
                    "installed from a peer, confirmed {} ms ago",
                    age.as_millis()
                )
            }
            EventKind::StateChanged { from, to } => write!(f, "state {from} -> {to}"),
        }
    }
}
