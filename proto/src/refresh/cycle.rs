//! One check: a pass over the primaries, its steps and how it ends.
//!
//! A check starts with an SOA query to the first primary (or a transfer,
//! when nothing is loaded or a retransfer is forced), moves through the
//! transfer and the AXFR fallback, on to the next primary on failure, and
//! ends verified, transferred, regressed or failed; the end sets the
//! timers and starts any check a NOTIFY asked for meanwhile.

use std::cmp::Ordering;
use std::time::Duration;

use crate::serial::Serial;
use crate::time::Timestamp;

use super::action::{
    ActionClass, ActionId, ActionKind, Failure, Priority, ReportError, TransferKind, XfrKind,
};
use super::config::SoaTimers;
use super::event::{EventKind, NotifyDisposition, Op};
use super::machine::{ZoneRefresh, millis};
use super::status::{RefreshResult, Regression};

/// One pass over the primaries.
#[derive(Debug, Clone)]
pub(super) struct Cycle {
    pub(super) priority: Priority,
    pub(super) forced: bool,
    pub(super) first: usize,
    pub(super) attempts: usize,
    pub(super) step: ActionKind,
    pub(super) flight: Option<Flight>,
    pub(super) regression: Option<Regression>,
}

/// The action in flight: when it left and when it is lost.
#[derive(Debug, Clone, Copy)]
pub(super) struct Flight {
    pub(super) id: ActionId,
    pub(super) started: Timestamp,
    pub(super) deadline: Timestamp,
    pub(super) priority: Priority,
}

/// A NOTIFY or command that arrived while a check was under way.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recheck {
    pub(super) serial: Option<Serial>,
    pub(super) source: Option<usize>,
}

/// How a check ended.
enum CycleEnd {
    Verified,
    Transferred(XfrKind),
    Regressed(Regression),
    Failed,
}

impl ZoneRefresh {
    pub(super) fn abandon(&mut self, now: Timestamp) {
        let Some(cycle) = self.cycle.as_mut() else {
            return;
        };
        let Some(flight) = cycle.flight.take() else {
            return;
        };
        let elapsed = now.since(flight.started);
        let (primary, op) = match cycle.step {
            ActionKind::QuerySoa { primary } => (primary, Op::Soa),
            ActionKind::Transfer { primary, kind, .. } => (primary, transfer_op(kind)),
        };
        self.action_failed(now, primary, op, Failure::Timeout, elapsed);
    }

    pub(super) fn start_cycle(&mut self, priority: Priority, first: usize) {
        let primaries = self.config.primaries;
        self.next_refresh = None;
        if primaries == 0 {
            self.cycle = None;
            return;
        }
        let first = if first < primaries { first } else { 0 };
        let forced = self.retransfer_pending;
        self.cycle = Some(Cycle {
            priority,
            forced,
            first,
            attempts: 0,
            step: opening_step(first, forced, self.serving.is_some()),
            flight: None,
            regression: None,
        });
    }

    pub(super) fn urgent_check(&mut self, recheck: Recheck) -> NotifyDisposition {
        let has_data = self.serving.is_some();
        let primaries = self.config.primaries;
        let Some(cycle) = self.cycle.as_mut() else {
            self.start_cycle(Priority::Urgent, recheck.source.unwrap_or(0));
            return NotifyDisposition::CheckQueued;
        };
        cycle.priority = Priority::Urgent;
        if cycle.flight.is_none() && cycle.attempts == 0 {
            if let Some(source) = recheck.source.filter(|source| *source < primaries) {
                cycle.first = source;
                cycle.step = opening_step(source, cycle.forced, has_data);
            }
            return NotifyDisposition::CheckQueued;
        }
        self.remember(recheck);
        NotifyDisposition::Deferred
    }

    fn remember(&mut self, recheck: Recheck) {
        self.recheck = Some(match self.recheck.take() {
            None => recheck,
            Some(earlier) => Recheck {
                serial: match (earlier.serial, recheck.serial) {
                    (Some(a), Some(b)) if b.is_newer_than(a) => Some(b),
                    (Some(a), Some(_)) => Some(a),
                    _ => None,
                },
                source: earlier.source.or(recheck.source),
            },
        });
    }

    /// Takes the action `id` out of flight: its step and how long it took.
    pub(super) fn land(
        &mut self,
        now: Timestamp,
        id: ActionId,
        class: ActionClass,
    ) -> Result<(ActionKind, Duration), ReportError> {
        let cycle = self.cycle.as_mut().ok_or(ReportError::NotInFlight(id))?;
        let flight = cycle
            .flight
            .filter(|flight| flight.id == id)
            .ok_or(ReportError::NotInFlight(id))?;
        if cycle.step.class() != class {
            return Err(ReportError::WrongKind(id));
        }
        cycle.flight = None;
        Ok((cycle.step, now.since(flight.started)))
    }

    pub(super) fn soa_answered(
        &mut self,
        now: Timestamp,
        primary: usize,
        soa: SoaTimers,
        elapsed: Duration,
    ) {
        let theirs = Serial(soa.serial);
        self.primary_serial = Some(theirs);
        let order = self.serving.map(|ours| theirs.compare(Serial(ours.serial)));
        match order {
            None | Some(Some(Ordering::Greater)) => {
                let kind = self.transfer_kind();
                self.record(
                    now,
                    EventKind::NewerSerial {
                        primary,
                        serial: theirs,
                        elapsed,
                    },
                );
                self.set_step(ActionKind::Transfer {
                    primary,
                    kind,
                    forced: false,
                });
            }
            Some(Some(Ordering::Equal)) => {
                self.record(now, EventKind::Verified { primary, elapsed });
                self.finish_cycle(now, CycleEnd::Verified);
            }
            Some(_) => self.primary_behind(now, primary, theirs, elapsed),
        }
    }

    fn primary_behind(
        &mut self,
        now: Timestamp,
        primary: usize,
        serial: Serial,
        elapsed: Duration,
    ) {
        self.record(
            now,
            EventKind::SerialRegressed {
                primary,
                serial,
                elapsed,
            },
        );
        if let Some(cycle) = self.cycle.as_mut() {
            cycle.regression = Some(Regression { primary, serial });
        }
        self.next_primary(now);
    }

    pub(super) fn installed(
        &mut self,
        now: Timestamp,
        primary: usize,
        soa: SoaTimers,
        sent: XfrKind,
        forced: bool,
        elapsed: Duration,
    ) {
        let Some(version) = self.version_for(soa.serial, forced) else {
            let failure = Failure::Malformed(format!(
                "installed serial {} is not newer than the one served",
                soa.serial
            ));
            self.action_failed(now, primary, transfer_op_sent(sent), failure, elapsed);
            return;
        };
        self.epoch = version.epoch;
        self.serving = Some(soa);
        self.primary_serial = Some(Serial(soa.serial));
        match sent {
            XfrKind::Ixfr => self.counters.transfers_ixfr += 1,
            XfrKind::Axfr => self.counters.transfers_axfr += 1,
        }
        if forced {
            self.retransfer_pending = false;
            self.counters.retransfers += 1;
        }
        self.record(
            now,
            EventKind::Transferred {
                primary,
                kind: sent,
                forced,
                elapsed,
            },
        );
        self.finish_cycle(now, CycleEnd::Transferred(sent));
    }

    pub(super) fn up_to_date(
        &mut self,
        now: Timestamp,
        (primary, kind, forced): (usize, TransferKind, bool),
        soa: SoaTimers,
        elapsed: Duration,
    ) {
        let theirs = Serial(soa.serial);
        self.primary_serial = Some(theirs);
        let ours = self.serving.map(|ours| Serial(ours.serial));
        let order = ours.filter(|_| !forced).map(|ours| theirs.compare(ours));
        match order {
            Some(Some(Ordering::Equal)) => {
                self.record(now, EventKind::Verified { primary, elapsed });
                self.finish_cycle(now, CycleEnd::Verified);
            }
            Some(Some(Ordering::Greater)) => {
                let reason =
                    Failure::Malformed(format!("IXFR answered with newer SOA {theirs} only"));
                self.fall_back(now, (primary, kind, forced), reason, elapsed);
            }
            Some(_) => self.primary_behind(now, primary, theirs, elapsed),
            None => {
                let failure = Failure::Malformed("primary sent its SOA only, not the zone".into());
                self.action_failed(now, primary, transfer_op(kind), failure, elapsed);
            }
        }
    }

    pub(super) fn fall_back(
        &mut self,
        now: Timestamp,
        (primary, kind, forced): (usize, TransferKind, bool),
        reason: Failure,
        elapsed: Duration,
    ) {
        if kind == TransferKind::Axfr {
            self.action_failed(now, primary, Op::Axfr, reason, elapsed);
            return;
        }
        self.counters.axfr_fallbacks += 1;
        self.record(
            now,
            EventKind::FallbackToAxfr {
                primary,
                reason,
                elapsed,
            },
        );
        self.set_step(ActionKind::Transfer {
            primary,
            kind: TransferKind::Axfr,
            forced,
        });
    }

    pub(super) fn action_failed(
        &mut self,
        now: Timestamp,
        primary: usize,
        op: Op,
        failure: Failure,
        elapsed: Duration,
    ) {
        self.counters.failures += 1;
        self.last_error = Some(format!("{op} from primary {primary}: {failure}"));
        let local = matches!(failure, Failure::Store(_));
        self.record(
            now,
            EventKind::Failed {
                primary,
                op,
                failure,
                elapsed,
            },
        );
        match local {
            true => self.finish_cycle(now, CycleEnd::Failed),
            false => self.next_primary(now),
        }
    }

    /// A transfer the machine gave up on was installed after all: the
    /// driver serves it, so it is served here too if it is newer. Ids never
    /// handed out are ignored.
    pub(super) fn adopt_late_install(&mut self, now: Timestamp, id: ActionId, soa: SoaTimers) {
        let issued = id.0 < self.next_action;
        let newer = self
            .serving
            .is_none_or(|ours| Serial(soa.serial).is_newer_than(Serial(ours.serial)));
        if issued && newer {
            self.serving = Some(soa);
            self.verified_ms = Some(millis(now));
            self.settle(now);
        }
    }

    fn set_step(&mut self, step: ActionKind) {
        if let Some(cycle) = self.cycle.as_mut() {
            cycle.step = step;
            cycle.flight = None;
        }
    }

    fn next_primary(&mut self, now: Timestamp) {
        let primaries = self.config.primaries;
        let has_data = self.serving.is_some();
        let Some(cycle) = self.cycle.as_mut() else {
            return;
        };
        cycle.attempts += 1;
        if cycle.attempts < primaries {
            let primary = (cycle.first + cycle.attempts) % primaries;
            cycle.step = opening_step(primary, cycle.forced, has_data);
            cycle.flight = None;
            return;
        }
        let end = match cycle.regression {
            Some(regression) => CycleEnd::Regressed(regression),
            None => CycleEnd::Failed,
        };
        self.finish_cycle(now, end);
    }

    fn finish_cycle(&mut self, now: Timestamp, end: CycleEnd) {
        let forced = self.cycle.take().is_some_and(|cycle| cycle.forced);
        self.counters.refreshes += 1;
        self.last_refresh = Some(now);
        let failed = match end {
            CycleEnd::Verified | CycleEnd::Transferred(_) => {
                self.verified_ms = Some(millis(now));
                self.regression = None;
                self.failures_in_row = 0;
                self.last_error = None;
                self.last_result = Some(match end {
                    CycleEnd::Transferred(kind) => RefreshResult::Transferred(kind),
                    _ => RefreshResult::Verified,
                });
                self.schedule(now, self.intervals().refresh);
                false
            }
            CycleEnd::Regressed(regression) => {
                self.regression = Some(regression);
                self.counters.regressions += 1;
                self.last_result = Some(RefreshResult::Regressed);
                self.schedule_retry(now);
                false
            }
            CycleEnd::Failed => {
                self.failures_in_row = self.failures_in_row.saturating_add(1);
                self.last_result = Some(RefreshResult::Failed);
                self.schedule_retry(now);
                true
            }
        };
        self.follow_up(forced && failed);
    }

    /// Starts the check a NOTIFY, command or retransfer asked for while the
    /// last one ran; a forced retransfer that just failed everywhere waits
    /// for the retry timer instead of looping.
    fn follow_up(&mut self, forced_failed: bool) {
        if self.retransfer_pending && !forced_failed {
            self.recheck = None;
            self.start_cycle(Priority::Urgent, 0);
            return;
        }
        let Some(recheck) = self.recheck.take() else {
            return;
        };
        let satisfied = match (recheck.serial, self.serving) {
            (Some(notified), Some(ours)) => !notified.is_newer_than(Serial(ours.serial)),
            _ => false,
        };
        if !satisfied {
            self.start_cycle(Priority::Urgent, recheck.source.unwrap_or(0));
        }
    }

    fn schedule(&mut self, now: Timestamp, interval: Duration) {
        let delay = self.jitter.shorten(interval, self.config.jitter);
        self.next_refresh = Some(now + delay);
    }

    fn schedule_retry(&mut self, now: Timestamp) {
        self.schedule(now, self.retry_interval());
        if let Some(next) = self.next_refresh {
            let delay = next.since(now);
            self.record(now, EventKind::RetryScheduled { next, delay });
        }
    }
}

fn opening_step(primary: usize, forced: bool, has_data: bool) -> ActionKind {
    match forced || !has_data {
        true => ActionKind::Transfer {
            primary,
            kind: TransferKind::Axfr,
            forced,
        },
        false => ActionKind::QuerySoa { primary },
    }
}

pub(super) fn transfer_op(kind: TransferKind) -> Op {
    match kind {
        TransferKind::Ixfr { .. } => Op::Ixfr,
        TransferKind::Axfr => Op::Axfr,
    }
}

fn transfer_op_sent(kind: XfrKind) -> Op {
    match kind {
        XfrKind::Ixfr => Op::Ixfr,
        XfrKind::Axfr => Op::Axfr,
    }
}
