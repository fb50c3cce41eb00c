//! One zone's state as ctl, metrics and logs show it.
//!
//! There is one struct, [`ZoneStatus`], built by the machine at a given
//! time; every view renders it, so they cannot disagree.

use std::fmt;

pub use crate::answer::Freshness;
use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::action::{Action, XfrKind};
use super::config::ExpiryPolicy;
use super::machine::{ZoneRefresh, timestamp};

/// The one word ctl, metrics and logs use for a zone's state.
///
/// When several apply, the most serious wins, in this order: `Loading`,
/// `Expired`, `Stale`, `SerialRegressed`, `Refreshing`, `Retrying`, `Ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoneState {
    /// Nothing loaded yet; the first transfer is under way or being retried.
    Loading,
    /// Past expire under policy `rfc`: answered with SERVFAIL.
    Expired,
    /// Past expire under policy `serve-stale` or `never`: still answered.
    Stale,
    /// A primary's serial is older than ours (RFC 1982); we keep serving
    /// ours until it catches up or an operator forces a retransfer.
    SerialRegressed,
    /// An SOA check or transfer is queued or under way.
    Refreshing,
    /// The last check failed at every primary; waiting for the retry timer.
    Retrying,
    /// Serving, confirmed, waiting for the refresh timer.
    Ok,
}

impl ZoneState {
    /// Every state, for metrics that export one series per state.
    pub const ALL: [ZoneState; 7] = [
        ZoneState::Loading,
        ZoneState::Expired,
        ZoneState::Stale,
        ZoneState::SerialRegressed,
        ZoneState::Refreshing,
        ZoneState::Retrying,
        ZoneState::Ok,
    ];

    /// Lower-case name for ctl, metric labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneState::Loading => "loading",
            ZoneState::Expired => "expired",
            ZoneState::Stale => "stale",
            ZoneState::SerialRegressed => "serial-regressed",
            ZoneState::Refreshing => "refreshing",
            ZoneState::Retrying => "retrying",
            ZoneState::Ok => "ok",
        }
    }
}

impl fmt::Display for ZoneState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the last completed check (one pass over the primaries) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshResult {
    /// A primary confirmed the serial we serve.
    Verified,
    /// A new version was transferred and installed.
    Transferred(XfrKind),
    /// No primary confirmed or offered newer; one had an older serial.
    Regressed,
    /// Every primary failed.
    Failed,
}

impl fmt::Display for RefreshResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshResult::Verified => f.write_str("verified"),
            RefreshResult::Transferred(kind) => write!(f, "transferred ({kind})"),
            RefreshResult::Regressed => f.write_str("serial regressed"),
            RefreshResult::Failed => f.write_str("failed"),
        }
    }
}

/// A primary seen holding an older serial than ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Regression {
    /// Index of the primary.
    pub primary: usize,
    /// The serial it showed.
    pub serial: Serial,
}

/// Running totals since the machine was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counters {
    /// Checks completed (one pass over the primaries, whatever the result).
    pub refreshes: u64,
    /// SOA queries answered or failed.
    pub soa_queries: u64,
    /// SOA queries and transfers that failed.
    pub failures: u64,
    /// Versions installed from an IXFR.
    pub transfers_ixfr: u64,
    /// Versions installed from an AXFR.
    pub transfers_axfr: u64,
    /// IXFRs that fell back to AXFR.
    pub axfr_fallbacks: u64,
    /// NOTIFYs received.
    pub notifies: u64,
    /// Checks that found a primary's serial older than ours.
    pub regressions: u64,
    /// Operator retransfers that succeeded (each raised the epoch).
    pub retransfers: u64,
    /// Events dropped because the driver did not drain them.
    pub events_dropped: u64,
}

/// A zone's state at one time: what ctl shows, metrics export and logs say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneStatus {
    /// The one-word state.
    pub state: ZoneState,
    /// What the answer path does with the data.
    pub freshness: Freshness,
    /// The version served, if any.
    pub serving: Option<ZoneVersion>,
    /// The serial a primary last showed (SOA answer or transfer).
    pub primary_serial: Option<Serial>,
    /// The serial of the last NOTIFY that carried one.
    pub notified_serial: Option<Serial>,
    /// Set while a primary's serial is older than ours.
    pub regression: Option<Regression>,
    /// An operator's retransfer waits to run or to succeed.
    pub retransfer_pending: bool,
    /// When a primary last confirmed the serial we serve (clamped at the
    /// driver's origin when it was before it, e.g. restored from disk).
    pub verified_at: Option<Timestamp>,
    /// When the last check completed.
    pub last_refresh: Option<Timestamp>,
    /// How it ended.
    pub last_result: Option<RefreshResult>,
    /// The last failure's text, kept until a check succeeds.
    pub last_error: Option<String>,
    /// The primary last talked to.
    pub last_primary: Option<usize>,
    /// When the next check starts; `None` while one is queued or running.
    pub next_refresh: Option<Timestamp>,
    /// When a NOTIFY held for a cluster peer turns into a check, if one is.
    pub notify_held_until: Option<Timestamp>,
    /// When the data expires (or expired) without a new confirmation.
    pub expire_at: Option<Timestamp>,
    /// The action under way, if any.
    pub in_flight: Option<Action>,
    /// Running totals.
    pub counters: Counters,
}

impl ZoneRefresh {
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
            notify_held_until: self.notify_held_until(),
            expire_at: self.expire_ms().map(timestamp),
            in_flight: self.in_flight(),
            counters: self.counters,
        }
    }
}
