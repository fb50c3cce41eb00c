//! A NOTIFY held back while a cluster peer fetches the new serial for us.
//!
//! ```text
//!   NOTIFY, not the region's fetcher
//!        |
//!        v
//!   +----------+  peer install (or any install) reaches the serial
//!   |   held   | ------------------------------------------------> dropped
//!   | until T  |  a direct NOTIFY covering the serial ----------->  dropped
//!   +----------+
//!        | T passes, serial still not served
//!        v
//!   urgent SOA check, as for a plain NOTIFY (the primary's fallback)
//! ```
//!
//! In a cluster, one node per region checks the primary after a NOTIFY and
//! the others fetch the new version from it; this is what lets one NOTIFY
//! cost the primary about one transfer per region. The waiting nodes hold
//! the NOTIFY's SOA check for a bounded time instead of dropping it, so a
//! fetcher that never delivers costs only the wait (RFC 1996 §3.7: a NOTIFY
//! is never lost).
//!
//! A held NOTIFY is not persisted: after a restart the zone is checked soon
//! anyway.

use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::cycle::Recheck;
use super::event::{EventKind, NotifyDisposition};
use super::machine::ZoneRefresh;

/// The NOTIFY held and the version served when it came.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) serial: Option<Serial>,
    pub(super) source: Option<usize>,
    pub(super) until: Timestamp,
    /// What was served when the NOTIFY came: a NOTIFY without a serial is
    /// satisfied by any newer version.
    pub(super) baseline: Option<ZoneVersion>,
}

impl ZoneRefresh {
    /// A NOTIFY whose SOA check waits until `until` for a cluster peer to
    /// deliver the new version (through [`ZoneRefresh::handle_peer_install`]).
    ///
    /// Arguments and the "not newer: noted" rule are those of
    /// [`ZoneRefresh::handle_notify`]. A newer NOTIFY is held
    /// ([`NotifyDisposition::Held`]): if by `until` no install has brought
    /// the zone to its serial (to anything newer, for a NOTIFY without a
    /// serial), an urgent SOA check starts then, exactly as if the NOTIFY
    /// had arrived at that moment. With nothing loaded, or `until` not in
    /// the future, this is [`ZoneRefresh::handle_notify`]. A second held
    /// NOTIFY keeps the earlier deadline and the newer serial.
    pub fn handle_notify_deferred(
        &mut self,
        now: Timestamp,
        serial: Option<u32>,
        source: Option<usize>,
        until: Timestamp,
    ) -> NotifyDisposition {
        if until <= now || self.serving.is_none() {
            return self.handle_notify(now, serial, source);
        }
        let serial = self.note_notify(serial);
        let disposition = match self.notify_is_newer(serial) {
            true => {
                self.hold(Held {
                    serial,
                    source,
                    until,
                    baseline: self.serving(),
                });
                NotifyDisposition::Held
            }
            false => NotifyDisposition::Noted,
        };
        self.record(
            now,
            EventKind::Notify {
                serial,
                disposition,
            },
        );
        self.settle(now);
        disposition
    }

    /// When the held NOTIFY's SOA check starts unless a peer delivers first.
    pub fn notify_held_until(&self) -> Option<Timestamp> {
        self.held.map(|held| held.until)
    }

    fn hold(&mut self, held: Held) {
        self.held = Some(match self.held.take() {
            None => held,
            Some(earlier) => Held {
                serial: newest(earlier.serial, held.serial),
                source: earlier.source.or(held.source),
                until: earlier.until.min(held.until),
                baseline: earlier.baseline,
            },
        });
    }

    /// Drops a held NOTIFY that a direct check for `serial` covers.
    pub(super) fn release_hold_covered_by(&mut self, serial: Option<Serial>) {
        let covered = self.held.is_some_and(|held| match (held.serial, serial) {
            (Some(held), Some(direct)) => !held.is_newer_than(direct),
            (_, None) => true,
            (None, Some(_)) => false,
        });
        if covered {
            self.held = None;
        }
    }

    /// Drops a held NOTIFY once the zone serves what it announced.
    pub(super) fn release_hold_if_served(&mut self) {
        let Some(held) = self.held else {
            return;
        };
        let Some(ours) = self.serving() else {
            return;
        };
        let served = match held.serial {
            Some(notified) => !notified.is_newer_than(ours.serial),
            None => held.baseline.is_none_or(|base| ours.is_newer_than(base)),
        };
        if served {
            self.held = None;
        }
    }

    /// At its deadline a held NOTIFY becomes an urgent check.
    pub(super) fn run_held(&mut self, now: Timestamp) {
        let Some(held) = self.held.filter(|held| held.until <= now) else {
            return;
        };
        self.held = None;
        let disposition = self.urgent_check(Recheck {
            serial: held.serial,
            source: held.source,
        });
        self.record(
            now,
            EventKind::HeldNotifyReleased {
                serial: held.serial,
                disposition,
            },
        );
    }
}

/// The serial a merged hold waits for: the newer of two, and a serial
/// over none (reaching it also satisfies "anything newer").
fn newest(a: Option<Serial>, b: Option<Serial>) -> Option<Serial> {
    match (a, b) {
        (Some(a), Some(b)) if b.is_newer_than(a) => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}
