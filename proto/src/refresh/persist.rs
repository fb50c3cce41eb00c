//! The zone state the node writes to disk, and resuming from it.
//!
//! The driver's monotonic clock starts again at every restart, so times on
//! disk are Unix seconds: the driver passes its wall clock (`unix_now`)
//! alongside `now` when saving and restoring, and the machine converts. A
//! restart therefore resumes the timers — a zone checked ten minutes before
//! the restart is not checked again at once, and expiry keeps counting from
//! the last confirmation, not from the restart.

use std::time::Duration;

use crate::serial::Serial;
use crate::time::Timestamp;

use super::action::Priority;
use super::config::{RefreshConfig, SoaTimers};
use super::machine::{ZoneRefresh, millis, timestamp};
use super::status::{RefreshResult, Regression};

/// One zone's refresh state as stored by the node (no serde here: the
/// node maps it to its own file format).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistedState {
    /// The epoch (raised by each forced retransfer).
    pub epoch: u32,
    /// The SOA of the version served.
    pub serving: Option<SoaTimers>,
    /// When a primary last confirmed that serial, Unix seconds.
    pub verified_at: Option<u64>,
    /// When the next check is due, Unix seconds; `None` when one was under
    /// way (a check then runs soon after the restart).
    pub next_refresh: Option<u64>,
    /// The serial a primary last showed.
    pub primary_serial: Option<Serial>,
    /// The serial of the last NOTIFY.
    pub notified_serial: Option<Serial>,
    /// A primary seen with an older serial, not yet caught up.
    pub regression: Option<Regression>,
    /// An operator's retransfer not yet done.
    pub retransfer_pending: bool,
    /// Checks that failed at every primary since the last success.
    pub failures_in_row: u32,
    /// When the last check completed, Unix seconds.
    pub last_refresh: Option<u64>,
    /// How it ended.
    pub last_result: Option<RefreshResult>,
    /// The last failure's text.
    pub last_error: Option<String>,
    /// The primary last talked to.
    pub last_primary: Option<usize>,
}

/// What a restarted node found on disk for one zone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restore {
    /// The SOA of the snapshot loaded and now served; `None` when there was
    /// none or it was corrupt (the zone then loads from a primary).
    pub loaded: Option<SoaTimers>,
    /// The saved state, if it could be read.
    pub persisted: Option<PersistedState>,
    /// The wall clock now, Unix seconds.
    pub unix_now: u64,
}

impl ZoneRefresh {
    /// A zone resuming after a restart.
    ///
    /// The epoch is always taken from the saved state. The saved timers,
    /// verified-at and regression are taken only when the saved serving
    /// serial is the one loaded; a snapshot that does not match is treated
    /// as verified at the restart (expiry counts from now, as BIND counts
    /// it from loading a secondary's file). A check that was due while the
    /// node was down runs soon, spread over the jitter fraction of the
    /// retry interval so that a thousand zones do not start it together.
    pub fn restore(
        config: RefreshConfig,
        seed: u64,
        now: Timestamp,
        restore: Restore,
    ) -> ZoneRefresh {
        let mut zone = ZoneRefresh::blank(config, seed);
        let saved = restore.persisted.unwrap_or_default();
        let clock = Clock {
            now,
            unix_now: restore.unix_now,
        };
        zone.epoch = saved.epoch;
        zone.primary_serial = saved.primary_serial;
        zone.notified_serial = saved.notified_serial;
        zone.retransfer_pending = saved.retransfer_pending;
        zone.last_refresh = saved
            .last_refresh
            .map(|unix| timestamp(clock.driver_millis(unix)));
        zone.last_result = saved.last_result;
        zone.last_error = saved.last_error.clone();
        zone.last_primary = saved.last_primary;
        match restore.loaded {
            None => zone.resume_empty(),
            Some(soa) => zone.resume_loaded(clock, soa, &saved),
        }
        zone.reported = zone.observe(now);
        zone
    }

    fn resume_empty(&mut self) {
        self.start_cycle(Priority::Background, 0);
    }

    fn resume_loaded(&mut self, clock: Clock, soa: SoaTimers, saved: &PersistedState) {
        self.serving = Some(soa);
        let same = saved
            .serving
            .is_some_and(|saved| saved.serial == soa.serial);
        let verified = saved.verified_at.filter(|_| same);
        self.verified_ms =
            Some(verified.map_or(millis(clock.now), |unix| clock.driver_millis(unix)));
        if same {
            self.regression = saved.regression;
            self.failures_in_row = saved.failures_in_row;
        }
        let due = saved.next_refresh.filter(|_| same);
        self.next_refresh = Some(self.resume_time(clock, due));
    }

    /// The next check: the saved time if still ahead (but never further
    /// than one refresh interval, in case the wall clock jumped), else soon.
    fn resume_time(&mut self, clock: Clock, due: Option<u64>) -> Timestamp {
        let ahead = due
            .and_then(|unix| unix.checked_sub(clock.unix_now))
            .filter(|seconds| *seconds > 0)
            .map(Duration::from_secs);
        match ahead {
            Some(ahead) => clock.now + ahead.min(self.intervals().refresh),
            None => {
                let window = self
                    .retry_interval()
                    .mul_f64(self.config.jitter.clamp(0.0, 1.0));
                clock.now + self.jitter.spread(window)
            }
        }
    }

    /// The state to write to disk now; `unix_now` is the wall clock.
    pub fn persisted(&self, now: Timestamp, unix_now: u64) -> PersistedState {
        let clock = Clock { now, unix_now };
        let status = self.status(now);
        PersistedState {
            epoch: self.epoch,
            serving: self.serving,
            verified_at: self.verified_ms.map(|ms| clock.unix(ms)),
            next_refresh: status.next_refresh.map(|at| clock.unix(millis(at))),
            primary_serial: self.primary_serial,
            notified_serial: self.notified_serial,
            regression: self.regression,
            retransfer_pending: self.retransfer_pending,
            failures_in_row: self.failures_in_row,
            last_refresh: self.last_refresh.map(|at| clock.unix(millis(at))),
            last_result: self.last_result,
            last_error: self.last_error.clone(),
            last_primary: self.last_primary,
        }
    }
}

/// The driver's clock and the wall clock read at the same moment.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: Timestamp,
    unix_now: u64,
}

impl Clock {
    /// Unix seconds to milliseconds on the driver's clock (negative when
    /// before its origin); a time in the future is taken as now.
    fn driver_millis(self, unix: u64) -> i64 {
        let age_seconds = self.unix_now.saturating_sub(unix);
        let age = i64::try_from(age_seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        millis(self.now).saturating_sub(age)
    }

    /// Milliseconds on the driver's clock to Unix seconds, rounded down.
    fn unix(self, driver_millis: i64) -> u64 {
        let offset = driver_millis
            .saturating_sub(millis(self.now))
            .div_euclid(1000);
        let unix = i64::try_from(self.unix_now)
            .unwrap_or(i64::MAX)
            .saturating_add(offset);
        u64::try_from(unix).unwrap_or(0)
    }
}
