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

use std::collections::VecDeque;
use std::time::Duration;

use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::action::{
    Action, ActionClass, ActionId, ActionKind, Failure, Priority, ReportError, TransferKind,
    TransferOutcome,
};
use super::config::{Intervals, MIN_INTERVAL, RefreshConfig, SoaTimers};
use super::cycle::{Cycle, Flight, Recheck, transfer_op};
use super::event::{Event, EventKind, NotifyDisposition, Op};
use super::held::Held;
use super::jitter::Jitter;
use super::status::{Counters, RefreshResult, Regression, ZoneState};

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
    pub(super) held: Option<Held>,
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

/// What the driver was last told, to report changes once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reported {
    pub(super) state: ZoneState,
    pub(super) past_expire: bool,
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
            held: None,
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
        let serial = self.note_notify(serial);
        let disposition = match self.notify_is_newer(serial) {
            true => {
                self.release_hold_covered_by(serial);
                self.urgent_check(Recheck { serial, source })
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

    /// Counts a NOTIFY and remembers its serial.
    pub(super) fn note_notify(&mut self, serial: Option<u32>) -> Option<Serial> {
        self.counters.notifies += 1;
        let serial = serial.map(Serial);
        if serial.is_some() {
            self.notified_serial = serial;
        }
        serial
    }

    /// Whether a NOTIFY's serial asks for a check (RFC 1996 §4.7): newer
    /// than ours, or no serial, or nothing loaded.
    pub(super) fn notify_is_newer(&self, serial: Option<Serial>) -> bool {
        match (serial, self.serving) {
            (Some(theirs), Some(ours)) => theirs.is_newer_than(Serial(ours.serial)),
            _ => true,
        }
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
                    self.adopt_late_install(now, id, soa);
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

    /// A version obtained elsewhere than from the zone's primaries (a
    /// cluster peer's snapshot), which a primary confirmed `age` ago.
    ///
    /// Taken, and `true` returned, only when [`ZoneRefresh::accepts_version`]
    /// holds; install the snapshot only then. Verified-at becomes
    /// `now - age` (the freshness clock travels with the data); a higher
    /// epoch clears a serial regression, as the fleet has followed a
    /// retransfer. The primaries keep being polled on the zone's timers.
    pub fn handle_peer_install(
        &mut self,
        now: Timestamp,
        version: ZoneVersion,
        soa: SoaTimers,
        age: Duration,
    ) -> bool {
        if soa.serial != version.serial.0 || !self.accepts_version(version) {
            return false;
        }
        if version.epoch > self.epoch {
            self.regression = None;
        }
        self.epoch = version.epoch;
        self.serving = Some(soa);
        self.verified_ms = Some(millis(now).saturating_sub(duration_millis(age)));
        // A transfer not yet started was planned from the old version;
        // ask the same primary's SOA again instead.
        if let Some(cycle) = self.cycle.as_mut() {
            let unforced = matches!(cycle.step, ActionKind::Transfer { forced: false, .. });
            if unforced && cycle.flight.is_none() {
                cycle.step = ActionKind::QuerySoa {
                    primary: cycle.step.primary(),
                };
            }
        }
        self.record(now, EventKind::PeerInstalled { age });
        self.settle(now);
        true
    }

    /// New settings for the zone (a configuration reload), keeping its
    /// data, timers and history. A check waiting to start at a primary that
    /// no longer exists starts over at primary 0; an action in flight runs
    /// to its end. The next check moves earlier if the new clamps make the
    /// refresh interval shorter than the time left.
    pub fn reconfigure(&mut self, now: Timestamp, config: RefreshConfig) {
        self.config = config;
        let primaries = self.config.primaries;
        let stranded = self
            .cycle
            .as_ref()
            .is_some_and(|cycle| cycle.flight.is_none() && cycle.step.primary() >= primaries);
        if stranded {
            let priority = self
                .cycle
                .as_ref()
                .map_or(Priority::Background, |c| c.priority);
            self.start_cycle(priority, 0);
        }
        if self.cycle.is_none() && primaries > 0 && self.next_refresh.is_none() {
            self.next_refresh = Some(now);
        }
        let latest = now + self.intervals().refresh;
        if let Some(next) = self.next_refresh.as_mut() {
            *next = (*next).min(latest);
        }
        self.settle(now);
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
            priority: cycle.priority,
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
        self.run_held(now);
        let due = self.next_refresh.is_some_and(|at| at <= now);
        if self.cycle.is_none() && due {
            self.start_cycle(Priority::Background, 0);
        }
    }

    pub(super) fn record(&mut self, now: Timestamp, kind: EventKind) {
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
    pub(super) fn settle(&mut self, now: Timestamp) {
        self.release_hold_if_served();
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

    /// Whether events wait to be drained with [`ZoneRefresh::poll_event`].
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The version served, if any.
    pub fn serving(&self) -> Option<ZoneVersion> {
        self.serving
            .map(|soa| ZoneVersion::new(self.epoch, soa.serial))
    }

    /// The clamped SOA intervals of the version served, if any.
    pub fn timers(&self) -> Option<Intervals> {
        self.serving.map(|soa| self.config.intervals(soa))
    }

    /// How long ago a primary (directly or through a peer) last confirmed
    /// the version served, at `now`; exact even when that was before the
    /// driver's origin (restored from disk).
    pub fn verified_age(&self, now: Timestamp) -> Option<Duration> {
        let verified = self.verified_ms?;
        let age = millis(now).saturating_sub(verified).max(0);
        Some(Duration::from_millis(u64::try_from(age).unwrap_or(0)))
    }

    /// The settings the machine runs with.
    pub fn config(&self) -> &RefreshConfig {
        &self.config
    }

    /// When [`ZoneRefresh::handle_timeout`] must next be called: the
    /// refresh or retry timer, an in-flight action's deadline plus
    /// [`DRIVER_GRACE`], the expire time, or the end of a held NOTIFY. `None`: nothing is timed (an
    /// action may still be ready: see [`ZoneRefresh::pending`]).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let lost = self.flight().map(|flight| flight.deadline + DRIVER_GRACE);
        let refresh = self.next_refresh.filter(|_| self.cycle.is_none());
        let expire = self
            .expire_ms()
            .filter(|_| !self.reported.past_expire)
            .map(timestamp);
        let held = self.notify_held_until();
        [lost, refresh, expire, held].into_iter().flatten().min()
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

    /// The action in flight, if any, as it was handed out.
    pub fn in_flight(&self) -> Option<Action> {
        let cycle = self.cycle.as_ref()?;
        let flight = cycle.flight?;
        Some(Action {
            id: flight.id,
            kind: cycle.step,
            deadline: flight.deadline,
            priority: flight.priority,
        })
    }

    /// Whether `version` from elsewhere (a peer) would replace what we
    /// serve: it is newer, a higher epoch counting as newer.
    pub fn accepts_version(&self, version: ZoneVersion) -> bool {
        self.serving()
            .is_none_or(|ours| version.is_newer_than(ours))
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

    pub(super) fn version_for(&self, serial: u32, forced: bool) -> Option<ZoneVersion> {
        if forced {
            return Some(ZoneVersion::new(self.epoch.saturating_add(1), serial));
        }
        let newer = self
            .serving
            .is_none_or(|ours| Serial(serial).is_newer_than(Serial(ours.serial)));
        newer.then(|| ZoneVersion::new(self.epoch, serial))
    }

    pub(super) fn flight(&self) -> Option<Flight> {
        self.cycle.as_ref()?.flight
    }

    pub(super) fn transfer_kind(&self) -> TransferKind {
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

    pub(super) fn expire_ms(&self) -> Option<i64> {
        self.serving?;
        let expire = duration_millis(self.intervals().expire);
        Some(self.verified_ms?.saturating_add(expire))
    }

    pub(super) fn past_expire(&self, now: Timestamp) -> bool {
        self.expire_ms().is_some_and(|expire| millis(now) >= expire)
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
