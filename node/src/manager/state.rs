//! The per-zone state file (`state.json`): the refresh machine's persisted
//! state in a stable, documented JSON shape.

use serde::{Deserialize, Serialize};
use understudy_proto::Serial;
use understudy_proto::refresh::{PersistedState, RefreshResult, Regression, SoaTimers, XfrKind};

/// Version of the state file's shape.
const STATE_FORMAT: u32 = 1;

/// `state.json` of one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    /// Shape version.
    pub format: u32,
    /// Raised by each forced retransfer.
    pub epoch: u32,
    /// The SOA timers of the version served.
    pub serving: Option<SoaFields>,
    /// When a primary last confirmed that serial, Unix seconds.
    pub verified_at: Option<u64>,
    /// When the next check is due, Unix seconds.
    pub next_refresh: Option<u64>,
    /// The serial a primary last showed.
    pub primary_serial: Option<u32>,
    /// The serial of the last NOTIFY.
    pub notified_serial: Option<u32>,
    /// A primary seen behind our serial.
    pub regression: Option<RegressionFields>,
    /// An operator's retransfer not yet done.
    pub retransfer_pending: bool,
    /// Checks failed at every primary since the last success.
    pub failures_in_row: u32,
    /// When the last check completed, Unix seconds.
    pub last_refresh: Option<u64>,
    /// How it ended: `verified`, `ixfr`, `axfr`, `failed`, `regressed`.
    pub last_result: Option<String>,
    /// The last failure's text.
    pub last_error: Option<String>,
    /// Index of the primary last talked to.
    pub last_primary: Option<usize>,
}

/// An SOA's serial and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoaFields {
    /// SERIAL.
    pub serial: u32,
    /// REFRESH.
    pub refresh: u32,
    /// RETRY.
    pub retry: u32,
    /// EXPIRE.
    pub expire: u32,
}

/// A primary seen with an older serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionFields {
    /// The older serial.
    pub serial: u32,
    /// Index of the primary.
    pub primary: usize,
}

impl StateFile {
    /// The file for `state`.
    pub fn from_persisted(state: &PersistedState) -> StateFile {
        StateFile {
            format: STATE_FORMAT,
            epoch: state.epoch,
            serving: state.serving.map(SoaFields::from),
            verified_at: state.verified_at,
            next_refresh: state.next_refresh,
            primary_serial: state.primary_serial.map(|serial| serial.0),
            notified_serial: state.notified_serial.map(|serial| serial.0),
            regression: state.regression.map(|regression| RegressionFields {
                serial: regression.serial.0,
                primary: regression.primary,
            }),
            retransfer_pending: state.retransfer_pending,
            failures_in_row: state.failures_in_row,
            last_refresh: state.last_refresh,
            last_result: state
                .last_result
                .map(|result| result_name(result).to_string()),
            last_error: state.last_error.clone(),
            last_primary: state.last_primary,
        }
    }

    /// The state to restore, or `None` when the file has another shape.
    pub fn to_persisted(&self) -> Option<PersistedState> {
        if self.format != STATE_FORMAT {
            return None;
        }
        Some(PersistedState {
            epoch: self.epoch,
            serving: self.serving.map(SoaTimers::from),
            verified_at: self.verified_at,
            next_refresh: self.next_refresh,
            primary_serial: self.primary_serial.map(Serial),
            notified_serial: self.notified_serial.map(Serial),
            regression: self.regression.map(|fields| Regression {
                serial: Serial(fields.serial),
                primary: fields.primary,
            }),
            retransfer_pending: self.retransfer_pending,
            failures_in_row: self.failures_in_row,
            last_refresh: self.last_refresh,
            last_result: self.last_result.as_deref().and_then(result_from_name),
            last_error: self.last_error.clone(),
            last_primary: self.last_primary,
        })
    }
}

impl From<SoaTimers> for SoaFields {
    fn from(soa: SoaTimers) -> SoaFields {
        SoaFields {
            serial: soa.serial,
            refresh: soa.refresh,
            retry: soa.retry,
            expire: soa.expire,
        }
    }
}

impl From<SoaFields> for SoaTimers {
    fn from(soa: SoaFields) -> SoaTimers {
        SoaTimers {
            serial: soa.serial,
            refresh: soa.refresh,
            retry: soa.retry,
            expire: soa.expire,
        }
    }
}

/// The name of a refresh result, as in the state file and ctl.
pub fn result_name(result: RefreshResult) -> &'static str {
    match result {
        RefreshResult::Verified => "verified",
        RefreshResult::Transferred(XfrKind::Ixfr) => "ixfr",
        RefreshResult::Transferred(XfrKind::Axfr) => "axfr",
        RefreshResult::Failed => "failed",
        RefreshResult::Regressed => "regressed",
    }
}

fn result_from_name(name: &str) -> Option<RefreshResult> {
    [
        RefreshResult::Verified,
        RefreshResult::Transferred(XfrKind::Ixfr),
        RefreshResult::Transferred(XfrKind::Axfr),
        RefreshResult::Failed,
        RefreshResult::Regressed,
    ]
    .into_iter()
    .find(|result| result_name(*result) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_round_trips_through_json() {
        let state = PersistedState {
            epoch: 3,
            serving: Some(SoaTimers {
                serial: 42,
                refresh: 3600,
                retry: 600,
                expire: 86400,
            }),
            verified_at: Some(1_700_000_000),
            next_refresh: Some(1_700_003_600),
            primary_serial: Some(Serial(42)),
            notified_serial: None,
            regression: Some(Regression {
                serial: Serial(7),
                primary: 1,
            }),
            retransfer_pending: true,
            failures_in_row: 2,
            last_refresh: Some(1_700_000_000),
            last_result: Some(RefreshResult::Regressed),
            last_error: Some("timed out".into()),
            last_primary: Some(1),
        };
        let json = serde_json::to_string(&StateFile::from_persisted(&state)).unwrap();
        let back: StateFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_persisted(), Some(state));
    }

    #[test]
    fn unknown_format_is_not_restored() {
        let mut file = StateFile::from_persisted(&PersistedState::default());
        file.format = 99;
        assert_eq!(file.to_persisted(), None);
    }
}
