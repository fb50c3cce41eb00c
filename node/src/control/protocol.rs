//! The control protocol: one JSON request per line, one JSON response per
//! line, over the local Unix socket.
//!
//! ```text
//! -> {"op":"zone_status","zone":"example.com."}
//! <- {"result":"zone_status","zones":[{"zone":"example.com.","state":"ok",...}]}
//! -> {"op":"zone_refresh","zone":"example.com."}
//! <- {"result":"done","message":"refresh of example.com. scheduled"}
//! -> {"op":"drain"}
//! <- {"result":"done","message":"drained: /healthz answers 503 until undrain"}
//! -> {"op":"health"}
//! <- {"result":"health","health":{"healthy":false,"reason":"drained",...}}
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::cluster_view::{ClusterView, HealthView};
use crate::config::ZoneSpec;

/// A request as it travels on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Status of one zone, or of all when `zone` is absent.
    ZoneStatus {
        /// The zone's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// Add a zone at run time (kept in `zones.json`).
    ZoneAdd {
        /// The zone, as a `[[zone]]` table would give it.
        spec: Box<ZoneSpec>,
    },
    /// Stop serving a zone added at run time and delete its data.
    ZoneRemove {
        /// The zone's name.
        zone: String,
    },
    /// Check the primary's SOA now.
    ZoneRefresh {
        /// The zone's name.
        zone: String,
    },
    /// Take the primary's data with a full AXFR, whatever its serial, and
    /// bump the zone's epoch.
    ZoneRetransfer {
        /// The zone's name.
        zone: String,
    },
    /// The members of the cluster.
    ClusterMembers,
    /// Withdraw this node from anycast.
    Drain,
    /// Undo `drain`.
    Undrain,
    /// The anycast health verdict and its reason.
    Health,
    /// Reload the configuration.
    Reload,
}

impl Request {
    /// The operation's name, as on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            Request::ZoneStatus { .. } => "zone_status",
            Request::ZoneAdd { .. } => "zone_add",
            Request::ZoneRemove { .. } => "zone_remove",
            Request::ZoneRefresh { .. } => "zone_refresh",
            Request::ZoneRetransfer { .. } => "zone_retransfer",
            Request::ClusterMembers => "cluster_members",
            Request::Drain => "drain",
            Request::Undrain => "undrain",
            Request::Health => "health",
            Request::Reload => "reload",
        }
    }
}

/// A response as it travels on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    /// The answer to `zone_status`.
    ZoneStatus {
        /// One entry per zone, in name order.
        zones: Vec<ZoneStatusView>,
    },
    /// The answer to `cluster_members`.
    ClusterMembers {
        /// Members and zones against the fleet.
        cluster: ClusterView,
    },
    /// The answer to `health`.
    Health {
        /// The verdict.
        health: HealthView,
    },
    /// The command was carried out (or scheduled).
    Done {
        /// What was done, for the operator.
        message: String,
    },
    /// The command failed or was refused.
    Error {
        /// Why, for the operator.
        message: String,
    },
}

impl Response {
    /// A successful command.
    pub fn done(message: impl Into<String>) -> Response {
        Response::Done {
            message: message.into(),
        }
    }

    /// A failed command.
    pub fn error(message: impl Into<String>) -> Response {
        Response::Error {
            message: message.into(),
        }
    }

    /// The answer to an operation this node does not offer (yet).
    pub fn not_available(op: &str) -> Response {
        Response::error(format!("{op} is not available on this node"))
    }
}

/// A zone's state, one word, as ctl, metrics and logs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneState {
    /// Serving, confirmed by the primary within its refresh interval.
    Ok,
    /// An SOA check or a transfer is under way.
    Refreshing,
    /// The last attempt failed; waiting for the retry timer.
    Retrying,
    /// Past expire with the `rfc` policy: answering SERVFAIL.
    Expired,
    /// Past expire with the `serve-stale` policy: still answering.
    Stale,
    /// The primary's serial went backwards; ours is kept until a retransfer.
    SerialRegressed,
    /// No data yet (first transfer, or loading from disk).
    Loading,
}

impl ZoneState {
    /// Every state, for metrics that publish one series per state.
    pub const ALL: [ZoneState; 7] = [
        ZoneState::Ok,
        ZoneState::Refreshing,
        ZoneState::Retrying,
        ZoneState::Expired,
        ZoneState::Stale,
        ZoneState::SerialRegressed,
        ZoneState::Loading,
    ];

    /// The word shown to operators.
    pub fn name(self) -> &'static str {
        match self {
            ZoneState::Ok => "ok",
            ZoneState::Refreshing => "refreshing",
            ZoneState::Retrying => "retrying",
            ZoneState::Expired => "expired",
            ZoneState::Stale => "stale",
            ZoneState::SerialRegressed => "serial-regressed",
            ZoneState::Loading => "loading",
        }
    }
}

/// Everything an operator sees about one zone. The same struct feeds
/// `ctl zone status`, the zone metrics and the state-change log lines, so
/// they never disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneStatusView {
    /// The zone's name, presentation form.
    pub zone: String,
    /// Its state.
    pub state: ZoneState,
    /// Bumped by each forced retransfer; compared before the serial.
    pub epoch: u32,
    /// The serial being served; none before the first transfer.
    pub serial: Option<u32>,
    /// The serial the primary reported last.
    pub primary_serial: Option<u32>,
    /// When the primary was last asked.
    pub last_refresh: Option<TimePoint>,
    /// How that ended: `up-to-date`, `ixfr`, `axfr`, `error`, ….
    pub last_result: Option<String>,
    /// When the primary will be asked next.
    pub next_refresh: Option<TimePoint>,
    /// When the zone expires unless confirmed again.
    pub expires_at: Option<TimePoint>,
    /// The last error, kept until a refresh succeeds.
    pub last_error: Option<String>,
    /// The primary (or peer) the data came from last.
    pub last_primary: Option<String>,
    /// Where the data served came from: `primary ADDRESS` or `peer NODE`;
    /// none when it was loaded from disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Seconds since a primary last confirmed the served serial.
    pub verified_age_seconds: Option<u64>,
    /// Records in the served snapshot.
    pub records: u64,
    /// Bytes of the served snapshot.
    pub bytes: u64,
    /// Transfers since the node started.
    pub transfers: TransferCounts,
}

/// Transfers of one zone since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferCounts {
    /// Successful IXFRs.
    pub ixfr: u64,
    /// Successful AXFRs.
    pub axfr: u64,
    /// IXFRs abandoned for an AXFR.
    pub fallbacks: u64,
}

/// A moment shown three ways: RFC 3339 UTC, Unix seconds, and seconds from
/// the time the status was taken (negative: in the past).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimePoint {
    /// `2024-05-01T12:00:00Z`
    pub utc: String,
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
    /// `unix_seconds` minus the status time.
    pub seconds_from_now: i64,
}

impl TimePoint {
    /// `at`, seen from `now`.
    pub fn new(at: SystemTime, now: SystemTime) -> TimePoint {
        TimePoint::from_unix(unix_seconds(at), unix_seconds(now))
    }

    /// `at`, seen from `now`, both in Unix seconds.
    pub fn from_unix(at: i64, now: i64) -> TimePoint {
        TimePoint {
            utc: rfc3339(at),
            unix_seconds: at,
            seconds_from_now: at.saturating_sub(now),
        }
    }
}

fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// RFC 3339 UTC with second precision, from Unix seconds.
pub fn rfc3339(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01, after Howard
/// Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small by construction: day in 1..=31, month in 1..=12.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn time_points_are_relative_to_now() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let past = TimePoint::new(now - std::time::Duration::from_secs(35), now);
        assert_eq!(past.seconds_from_now, -35);
        assert_eq!(past.utc, "2023-11-14T22:12:45Z");
        assert_eq!(TimePoint::from_unix(10, 4).seconds_from_now, 6);
    }

    #[test]
    fn requests_use_snake_case_ops() {
        let request: Request =
            serde_json::from_str(r#"{"op":"zone_status","zone":"example.com."}"#).unwrap();
        assert_eq!(
            request,
            Request::ZoneStatus {
                zone: Some("example.com.".into())
            }
        );
        let all: Request = serde_json::from_str(r#"{"op":"zone_status"}"#).unwrap();
        assert_eq!(all, Request::ZoneStatus { zone: None });
        let add: Request = serde_json::from_str(
            r#"{"op":"zone_add","spec":{"name":"example.net.","primaries":["192.0.2.1"],"tsig_key":"k"}}"#,
        )
        .unwrap();
        let Request::ZoneAdd { spec } = &add else {
            panic!("{add:?}")
        };
        assert_eq!(spec.tsig_key.as_deref(), Some("k"));
        assert_eq!(
            serde_json::to_string(&Request::Drain).unwrap(),
            r#"{"op":"drain"}"#
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"zone_refresh"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"op":"format_disk"}"#).is_err());
        assert!(
            serde_json::from_str::<Request>(r#"{"op":"zone_refresh","zone":"a.","force":true}"#)
                .is_err()
        );
    }

    #[test]
    fn states_print_as_operators_read_them() {
        for state in ZoneState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
    }
}
