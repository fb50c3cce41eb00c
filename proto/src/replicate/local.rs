//! What this node serves of a zone, as the replicator needs to know it.

use std::time::Duration;

use crate::refresh::{Intervals, RefreshResult, ZoneRefresh};
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

/// One zone's local state, taken from its refresh machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalZone {
    /// The version served, if any.
    pub serving: Option<ZoneVersion>,
    /// How long ago a primary confirmed it (directly or through a peer).
    pub verified_age: Option<Duration>,
    /// The newest version a primary's SOA showed, in our epoch: verified
    /// evidence of a newer version when it is newer than ours.
    pub primary_version: Option<ZoneVersion>,
    /// The clamped SOA timers of the version served.
    pub timers: Option<Intervals>,
    /// Whether the last check of the primaries succeeded (or none ran
    /// yet): this node may be its region's fetcher after a NOTIFY.
    pub primary_reachable: bool,
}

impl LocalZone {
    /// The zone's state in its refresh machine at `now`.
    pub fn of(machine: &ZoneRefresh, now: Timestamp) -> LocalZone {
        let serving = machine.serving();
        let epoch = serving.map_or(0, |version| version.epoch);
        let status = machine.status(now);
        let primary_version = status
            .primary_serial
            .map(|serial| ZoneVersion { epoch, serial });
        LocalZone {
            serving,
            verified_age: machine.verified_age(now),
            primary_version,
            timers: machine.timers(),
            primary_reachable: status.last_result != Some(RefreshResult::Failed),
        }
    }
}
