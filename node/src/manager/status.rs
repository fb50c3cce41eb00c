//! A zone's status as ctl, metrics and health show it: the refresh
//! machine's status plus what the manager knows of the data served.

use understudy_proto::refresh::{self, ZoneStatus};
use understudy_proto::{Name, Timestamp};

use crate::clock::unix_seconds;
use crate::control::{TimePoint, TransferCounts, ZoneState, ZoneStatusView};

use super::Manager;
use super::state::result_name;

/// The view of `name` at `now`, if the zone is managed.
pub fn view(manager: &Manager, name: &Name, now: Timestamp) -> Option<ZoneStatusView> {
    let managed = manager.zones.get(name)?;
    let status = manager.scheduler.zone(name)?.status(now);
    let data = managed.data.as_ref();
    let at = |moment: Timestamp| time_point(manager, moment, now);
    Some(ZoneStatusView {
        zone: name.to_string(),
        state: state(&status),
        epoch: status.serving.map_or(0, |version| version.epoch),
        serial: status.serving.map(|version| version.serial.0),
        primary_serial: status.primary_serial.map(|serial| serial.0),
        last_refresh: status.last_refresh.map(at),
        last_result: status
            .last_result
            .map(|result| result_name(result).to_string()),
        next_refresh: status.next_refresh.map(at),
        expires_at: status.expire_at.map(at),
        last_error: status.last_error.clone(),
        last_primary: status
            .last_primary
            .and_then(|index| managed.config.primaries.get(index))
            .map(|addr| addr.to_string()),
        source: managed.source.as_ref().map(ToString::to_string),
        verified_age_seconds: status
            .verified_at
            .map(|verified| now.since(verified).as_secs()),
        records: data.map_or(0, |data| data.snapshot.record_count() as u64),
        bytes: data.map_or(0, |data| data.snapshot.as_bytes().len() as u64),
        transfers: TransferCounts {
            ixfr: status.counters.transfers_ixfr,
            axfr: status.counters.transfers_axfr,
            fallbacks: status.counters.axfr_fallbacks,
        },
    })
}

fn time_point(manager: &Manager, moment: Timestamp, now: Timestamp) -> TimePoint {
    let at = unix_seconds(manager.clock.wall(moment)) as i64;
    let now = unix_seconds(manager.clock.wall(now)) as i64;
    TimePoint::from_unix(at, now)
}

fn state(status: &ZoneStatus) -> ZoneState {
    match status.state {
        refresh::ZoneState::Ok => ZoneState::Ok,
        refresh::ZoneState::Refreshing => ZoneState::Refreshing,
        refresh::ZoneState::Retrying => ZoneState::Retrying,
        refresh::ZoneState::Expired => ZoneState::Expired,
        refresh::ZoneState::Stale => ZoneState::Stale,
        refresh::ZoneState::SerialRegressed => ZoneState::SerialRegressed,
        refresh::ZoneState::Loading => ZoneState::Loading,
    }
}
