//! One zone's refresh machine.
//!
//! ```text
//!                     refresh / retry timer, NOTIFY (newer or no serial),
//!                     `ctl zone refresh`
//!   +--------+  ----------------------------------------->  +---------------+
//!   |  idle  |                                              | SOA query to  |<------------+
//!   | (timer |  <-- same serial: verified, refresh timer -- | primary i     |             |
//!   |  set)  |                                              +---------------+             |
//!   +--------+                                     newer |      | error, or older serial |
//!     ^  ^  ^                                            v      +--> next primary -------+
//!     |  |  |                             +-----------------+       (all tried: retry
//!     |  |  |  nothing loaded, or         | IXFR from ours  |        timer; "serial
//!     |  |  |  `ctl zone retransfer` ---->| (AXFR if none)  |        regressed" if one
//!     |  |  |  (forced AXFR)              +-----------------+        was older)
//!     |  |  |                     broken / refused |   | other error --> next primary
//!     |  |  |                                      v   |
//!     |  |  |                             +-----------------+
//!     |  |  |                             | AXFR, same      | -- error --> next primary
//!     |  |  |                             | primary         |
//!     |  |  |                             +-----------------+
//!     |  |  +--- installed: serving := new version, verified, refresh timer
//!     |  +------ (forced) epoch + 1, serial regression cleared
//!     +--------- NOTIFY during a check is remembered: another check follows
//! ```
//!
//! A *check* is one pass over the primaries in order (from the notifying
//! primary, after a NOTIFY). At most one action (SOA query or transfer) is
//! in flight. A NOTIFY always leads to an SOA query rather than straight to
//! a transfer (RFC 1996 §3.11 treats it as the refresh timer expiring): the
//! query costs one round trip, settles which primary has the serial, and
//! keeps an unsigned, spoofable NOTIFY from costing the primary a transfer.
//!
//! Expiry counts from *verified-at*, the last time a primary (or, later, a
//! peer) confirmed the serial served, not from the last transfer.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::time::Duration;

use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::action::{
    Action, ActionClass, ActionId, ActionKind, Failure, Priority, ReportError, TransferKind,
    TransferOutcome, XfrKind,
};
use super::config::{ExpiryPolicy, Intervals, MIN_INTERVAL, RefreshConfig, SoaTimers};
use super::event::{Event, EventKind, NotifyDisposition, Op};
use super::jitter::Jitter;
use super::status::{Counters, Freshness, RefreshResult, Regression, ZoneState, ZoneStatus};

/// Time the driver gets past an action's deadline to report before the
/// machine counts the action as lost and moves on.
pub const DRIVER_GRACE: Duration = Duration::from_secs(5);

/// Events kept for the driver; older ones are dropped (and counted) when
/// the driver does not drain them.
const MAX_EVENTS: usize = 64;

/// One zone's refresh state machine; see the module documentation.
#[derive(Debug, Clone)]
pub struct ZoneRefresh {
    pub(super) config: RefreshConfig,
    pub(super) jitter: Jitter,
    pub(super) epoch: u32,
    pub(super) serving: Option<SoaTimers>,
    /// Milliseconds on the driver's clock; negative when restored from
    /// before the driver's origin.
    pub(super) verified_ms: Option<i64>,
    pub(super) primary_serial: Option<Serial>,
    pub(super) notified_serial: Option<Serial>,
    pub(super) regression: Option<Regression>,
    pub(super) retransfer_pending: bool,
    pub(super) next_refresh: Option<Timestamp>,
    pub(super) cycle: Option<Cycle>,
    pub(super) recheck: Option<Recheck>,
    pub(super) next_action: u64,
    pub(super) failures_in_row: u32,
    pub(super) last_refresh: Option<Timestamp>,
    pub(super) last_result: Option<RefreshResult>,
    pub(super) last_error: Option<String>,
    pub(super) last_primary: Option<usize>,
    pub(super) counters: Counters,
    pub(super) events: VecDeque<Event>,
    pub(super) reported: Reported,
}

/// One pass over the primaries.
#[derive(Debug, Clone)]
pub(super) struct Cycle {
    priority: Priority,
    forced: bool,
    first: usize,
    attempts: usize,
    step: ActionKind,
    flight: Option<Flight>,
    regression: Option<Regression>,
}

#[derive(Debug, Clone, Copy)]
struct Flight {
    id: ActionId,
    started: Timestamp,
    deadline: Timestamp,
}

/// A NOTIFY or command that arrived while a check was under way.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recheck {
    serial: Option<Serial>,
    source: Option<usize>,
}

/// What the driver was last told, to report changes once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reported {
    state: ZoneState,
    past_expire: bool,
}

enum CycleEnd {
    Verified,
    Transferred(XfrKind),
    Regressed(Regression),
    Failed,
}

impl ZoneRefresh {
    /// A zone with nothing loaded: its first transfer (AXFR from primary 0)
    /// is queued at once. `seed` drives the jitter; give each zone its own.
    pub fn new(config: RefreshConfig, seed: u64, now: Timestamp) -> ZoneRefresh {
        let mut zone = ZoneRefresh::blank(config, seed);
        zone.start_cycle(Priority::Background, 0);
        zone.reported = zone.observe(now);
        zone
    }

    pub(super) fn blank(config: RefreshConfig, seed: u64) -> ZoneRefresh {
        ZoneRefresh {
            config,
            jitter: Jitter::new(seed),
            epoch: 0,
            serving: None,
            verified_ms: None,
            primary_serial: None,
            notified_serial: None,
            regression: None,
            retransfer_pending: false,
            next_refresh: None,
            cycle: None,
            recheck: None,
            next_action: 1,
            failures_in_row: 0,
            last_refresh: None,
            last_result: None,
            last_error: None,
            last_primary: None,
            counters: Counters::default(),
            events: VecDeque::new(),
            reported: Reported {
                state: ZoneState::Loading,
                past_expire: false,
            },
        }
    }

    /// A NOTIFY from the zone's primary number `source` (or from another
    /// allowed sender: `None`), carrying the serial of its SOA if any.
    ///
    /// Not newer than what we serve: noted only (RFC 1996 §4.7). Otherwise
    /// an urgent SOA check, starting at `source`, or, when a check is
    /// under way, another check after it (RFC 1996 §3.7: never lost).
    pub fn handle_notify(
        &mut self,
        now: Timestamp,
        serial: Option<u32>,
        source: Option<usize>,
    ) -> NotifyDisposition {
        self.counters.notifies += 1;
        let serial = serial.map(Serial);
        if serial.is_some() {
            self.notified_serial = serial;
        }
        let newer = match (serial, self.serving) {
            (Some(theirs), Some(ours)) => theirs.is_newer_than(Serial(ours.serial)),
            _ => true,
        };
        let disposition = match newer {
            true => self.urgent_check(Recheck { serial, source }),
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

    /// An operator's `zone refresh`: an urgent SOA check now, or right
    /// after the one under way.
    pub fn handle_refresh_command(&mut self, now: Timestamp) {
        self.record(now, EventKind::RefreshRequested);
        self.urgent_check(Recheck {
            serial: None,
            source: None,
        });
        self.settle(now);
    }

    /// An operator's `zone retransfer`: a forced AXFR from the primaries in
    /// order, whatever their serial, now or right after the action under
    /// way. It stays pending, retried on the retry timer, until one
    /// succeeds; that raises the epoch by one and clears a serial regression.
    pub fn handle_retransfer_command(&mut self, now: Timestamp) {
        self.retransfer_pending = true;
        self.record(now, EventKind::RetransferRequested);
        match &mut self.cycle {
            Some(cycle) if cycle.flight.is_some() => cycle.priority = Priority::Urgent,
            _ => self.start_cycle(Priority::Urgent, 0),
        }
        self.settle(now);
    }

    /// The answer to SOA query action `id`: the primary's SOA, or why none.
    pub fn handle_soa_response(
        &mut self,
        now: Timestamp,
        id: ActionId,
        result: Result<SoaTimers, Failure>,
    ) -> Result<(), ReportError> {
        let (step, elapsed) = self.land(now, id, ActionClass::SoaQuery)?;
        self.counters.soa_queries += 1;
        let primary = step.primary();
        match result {
            Ok(soa) => self.soa_answered(now, primary, soa, elapsed),
            Err(failure) => self.action_failed(now, primary, Op::Soa, failure, elapsed),
        }
        self.settle(now);
        Ok(())
    }

    /// How transfer action `id` ended.
    ///
    /// `Installed` must only be reported for a version the driver installed
    /// under the version [`ZoneRefresh::install_version`] gave; one that is
    /// not newer than ours (and not forced) is counted as a failure. A late
    /// `Installed` for an action the machine had given up on is still taken
    /// as the serving version when it is newer, and refused with the error.
    pub fn handle_transfer_response(
        &mut self,
        now: Timestamp,
        id: ActionId,
        outcome: TransferOutcome,
    ) -> Result<(), ReportError> {
        let (step, elapsed) = match self.land(now, id, ActionClass::Transfer) {
            Ok(landed) => landed,
            Err(error) => {
                if let TransferOutcome::Installed { soa, .. } = outcome {
                    self.adopt_late_install(now, soa);
                }
                return Err(error);
            }
        };
        let ActionKind::Transfer {
            primary,
            kind,
            forced,
        } = step
        else {
            return Err(ReportError::WrongKind(id));
        };
        match outcome {
            TransferOutcome::Installed { soa, kind: sent } => {
                self.installed(now, primary, soa, sent, forced, elapsed)
            }
            TransferOutcome::UpToDate { soa } => {
                self.up_to_date(now, (primary, kind, forced), soa, elapsed)
            }
            TransferOutcome::FallbackToAxfr(reason) => {
                self.fall_back(now, (primary, kind, forced), reason, elapsed)
            }
            TransferOutcome::Failed(failure) => {
                self.action_failed(now, primary, transfer_op(kind), failure, elapsed)
            }
        }
        self.settle(now);
        Ok(())
    }

    /// A confirmation from elsewhere (a peer that fetched from the primary)
    /// that `version` was current `age` ago. When it is the version we
    /// serve and more recent than our own verified-at, verified-at moves to
    /// `now - age` (DESIGN.md decision 5). Returns whether it moved.
    pub fn handle_confirmation(
        &mut self,
        now: Timestamp,
        version: ZoneVersion,
        age: Duration,
    ) -> bool {
        if self.serving() != Some(version) {
            return false;
        }
        let candidate = millis(now).saturating_sub(duration_millis(age));
        if self
            .verified_ms
            .is_some_and(|verified| candidate <= verified)
        {
            return false;
        }
        self.verified_ms = Some(candidate);
        self.record(now, EventKind::Confirmed { age });
        self.settle(now);
        true
    }

    /// Runs what is due at `now`: the refresh or retry timer, an action
    /// past its deadline (plus [`DRIVER_GRACE`]), and expiry.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.run_timers(now);
        self.settle(now);
    }

    /// The next action to carry out, if one is ready; it is in flight until
    /// its report. Also runs due timers, like [`ZoneRefresh::handle_timeout`].
    pub fn poll_action(&mut self, now: Timestamp) -> Option<Action> {
        self.run_timers(now);
        let id = ActionId(self.next_action);
        let cycle = self.cycle.as_mut()?;
        if cycle.flight.is_some() {
            return None;
        }
        let timeout = match cycle.step.class() {
            ActionClass::SoaQuery => self.config.soa_timeout,
            ActionClass::Transfer => self.config.transfer_timeout,
        };
        let deadline = now + timeout;
        cycle.flight = Some(Flight {
            id,
            started: now,
            deadline,
        });
        let action = Action {
            id,
            kind: cycle.step,
            deadline,
            priority: cycle.priority,
        };
        self.next_action += 1;
        self.last_primary = Some(action.kind.primary());
        self.settle(now);
        Some(action)
    }

    /// The next event to log, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn run_timers(&mut self, now: Timestamp) {
        let lost = self
            .flight()
            .is_some_and(|flight| now >= flight.deadline + DRIVER_GRACE);
        if lost {
            self.abandon(now);
        }
        let due = self.next_refresh.is_some_and(|at| at <= now);
        if self.cycle.is_none() && due {
            self.start_cycle(Priority::Background, 0);
        }
    }

    fn abandon(&mut self, now: Timestamp) {
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

    fn urgent_check(&mut self, recheck: Recheck) -> NotifyDisposition {
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
    fn land(
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

    fn soa_answered(&mut self, now: Timestamp, primary: usize, soa: SoaTimers, elapsed: Duration) {
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

    fn installed(
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

    fn up_to_date(
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

    fn fall_back(
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

    fn action_failed(
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

    fn adopt_late_install(&mut self, now: Timestamp, soa: SoaTimers) {
        let newer = self
            .serving
            .is_none_or(|ours| Serial(soa.serial).is_newer_than(Serial(ours.serial)));
        if newer {
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
            self.record(now, EventKind::RetryScheduled { next });
        }
    }

    fn record(&mut self, now: Timestamp, kind: EventKind) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.counters.events_dropped += 1;
        }
        let serving = self.serving();
        self.events.push_back(Event {
            at: now,
            kind,
            serving,
        });
    }

    /// Records a state change, and whether expiry has been passed.
    fn settle(&mut self, now: Timestamp) {
        let observed = self.observe(now);
        if observed.state != self.reported.state {
            let from = self.reported.state;
            self.record(
                now,
                EventKind::StateChanged {
                    from,
                    to: observed.state,
                },
            );
        }
        self.reported = observed;
    }

    pub(super) fn observe(&self, now: Timestamp) -> Reported {
        Reported {
            state: self.state(now),
            past_expire: self.past_expire(now),
        }
    }

    /// The version served, if any.
    pub fn serving(&self) -> Option<ZoneVersion> {
        self.serving
            .map(|soa| ZoneVersion::new(self.epoch, soa.serial))
    }

    /// The settings the machine runs with.
    pub fn config(&self) -> &RefreshConfig {
        &self.config
    }

    /// When [`ZoneRefresh::handle_timeout`] must next be called: the
    /// refresh or retry timer, an in-flight action's deadline plus
    /// [`DRIVER_GRACE`], or the expire time. `None`: nothing is timed (an
    /// action may still be ready: see [`ZoneRefresh::pending`]).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let lost = self.flight().map(|flight| flight.deadline + DRIVER_GRACE);
        let refresh = self.next_refresh.filter(|_| self.cycle.is_none());
        let expire = self
            .expire_ms()
            .filter(|_| !self.reported.past_expire)
            .map(timestamp);
        [lost, refresh, expire].into_iter().flatten().min()
    }

    /// The class and priority of the action `poll_action` would hand out
    /// next, if one is ready (the scheduler's view).
    pub fn pending(&self) -> Option<(ActionClass, Priority)> {
        let cycle = self.cycle.as_ref()?;
        match cycle.flight {
            None => Some((cycle.step.class(), cycle.priority)),
            Some(_) => None,
        }
    }

    /// The action in flight, if any.
    pub fn in_flight(&self) -> Option<Action> {
        let cycle = self.cycle.as_ref()?;
        let flight = cycle.flight?;
        Some(Action {
            id: flight.id,
            kind: cycle.step,
            deadline: flight.deadline,
            priority: cycle.priority,
        })
    }

    /// The version under which the driver must install the result of
    /// transfer action `id` whose new SOA has `serial`, or `None` when it
    /// must be discarded: not in flight, or not newer than ours (a primary
    /// that went back between SOA query and transfer). A forced transfer is
    /// always installed, in the next epoch.
    pub fn install_version(&self, id: ActionId, serial: u32) -> Option<ZoneVersion> {
        let action = self.in_flight().filter(|action| action.id == id)?;
        match action.kind {
            ActionKind::Transfer { forced, .. } => self.version_for(serial, forced),
            ActionKind::QuerySoa { .. } => None,
        }
    }

    fn version_for(&self, serial: u32, forced: bool) -> Option<ZoneVersion> {
        if forced {
            return Some(ZoneVersion::new(self.epoch.saturating_add(1), serial));
        }
        let newer = self
            .serving
            .is_none_or(|ours| Serial(serial).is_newer_than(Serial(ours.serial)));
        newer.then(|| ZoneVersion::new(self.epoch, serial))
    }

    /// What the answer path does with the zone's data at `now`.
    pub fn freshness(&self, now: Timestamp) -> Freshness {
        if self.serving.is_none() {
            return Freshness::Expired;
        }
        match (self.past_expire(now), self.config.expiry_policy) {
            (false, _) | (true, ExpiryPolicy::Never) => Freshness::Fresh,
            (true, ExpiryPolicy::ServeStale) => Freshness::Stale,
            (true, ExpiryPolicy::Rfc) => Freshness::Expired,
        }
    }

    /// The one-word state at `now` (see [`ZoneState`] for precedence).
    pub fn state(&self, now: Timestamp) -> ZoneState {
        if self.serving.is_none() {
            ZoneState::Loading
        } else if self.past_expire(now) {
            match self.config.expiry_policy {
                ExpiryPolicy::Rfc => ZoneState::Expired,
                ExpiryPolicy::ServeStale | ExpiryPolicy::Never => ZoneState::Stale,
            }
        } else if self.regression.is_some() {
            ZoneState::SerialRegressed
        } else if self.cycle.is_some() {
            ZoneState::Refreshing
        } else if self.failures_in_row > 0 {
            ZoneState::Retrying
        } else {
            ZoneState::Ok
        }
    }

    /// Everything ctl, metrics and logs show about the zone at `now`.
    pub fn status(&self, now: Timestamp) -> ZoneStatus {
        ZoneStatus {
            state: self.state(now),
            freshness: self.freshness(now),
            serving: self.serving(),
            primary_serial: self.primary_serial,
            notified_serial: self.notified_serial,
            regression: self.regression,
            retransfer_pending: self.retransfer_pending,
            verified_at: self.verified_ms.map(timestamp),
            last_refresh: self.last_refresh,
            last_result: self.last_result,
            last_error: self.last_error.clone(),
            last_primary: self.last_primary,
            next_refresh: self.next_refresh.filter(|_| self.cycle.is_none()),
            expire_at: self.expire_ms().map(timestamp),
            in_flight: self.in_flight(),
            counters: self.counters,
        }
    }

    fn flight(&self) -> Option<Flight> {
        self.cycle.as_ref()?.flight
    }

    fn transfer_kind(&self) -> TransferKind {
        match self.serving {
            Some(ours) if self.config.request_ixfr => TransferKind::Ixfr {
                from: Serial(ours.serial),
            },
            _ => TransferKind::Axfr,
        }
    }

    pub(super) fn intervals(&self) -> Intervals {
        let soa = self.serving.unwrap_or(SoaTimers {
            serial: 0,
            refresh: 0,
            retry: 0,
            expire: 0,
        });
        self.config.intervals(soa)
    }

    /// The SOA RETRY interval; with nothing loaded there is no SOA, so
    /// retries back off from `retry_min`, doubling up to `retry_max`.
    pub(super) fn retry_interval(&self) -> Duration {
        if self.serving.is_some() {
            return self.intervals().retry;
        }
        let doublings = self.failures_in_row.saturating_sub(1).min(20);
        let backoff = self.config.retry_min.saturating_mul(1 << doublings);
        backoff.min(self.config.retry_max).max(MIN_INTERVAL)
    }

    fn expire_ms(&self) -> Option<i64> {
        self.serving?;
        let expire = duration_millis(self.intervals().expire);
        Some(self.verified_ms?.saturating_add(expire))
    }

    fn past_expire(&self, now: Timestamp) -> bool {
        self.expire_ms().is_some_and(|expire| millis(now) >= expire)
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

fn transfer_op(kind: TransferKind) -> Op {
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

pub(super) fn millis(at: Timestamp) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

pub(super) fn timestamp(millis: i64) -> Timestamp {
    Timestamp::from_millis(u64::try_from(millis).unwrap_or(0))
}

pub(super) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
