//! Shared set-up for the `refresh_*` tests of one zone's machine: a zone
//! loaded at t=0 and small helpers to drive it.
#![allow(dead_code, unused_imports)]

pub use std::time::Duration;

pub use understudy_proto::refresh::{
    Action, ActionClass, ActionId, ActionKind, EventKind, ExpiryPolicy, Failure, Freshness,
    NotifyDisposition, Op, Priority, RefreshConfig, RefreshResult, ReportError, SoaTimers,
    TransferKind, TransferOutcome, XfrKind, ZoneRefresh, ZoneState,
};
pub use understudy_proto::{Serial, Timestamp, ZoneVersion};

pub const REFRESH: u64 = 3_600;
pub const RETRY: u64 = 600;
pub const EXPIRE: u64 = 7 * 86_400;

pub fn config() -> RefreshConfig {
    RefreshConfig {
        primaries: 2,
        jitter: 0.0,
        ..RefreshConfig::default()
    }
}

pub fn soa(serial: u32) -> SoaTimers {
    SoaTimers {
        serial,
        refresh: REFRESH as u32,
        retry: RETRY as u32,
        expire: EXPIRE as u32,
    }
}

pub fn t(seconds: u64) -> Timestamp {
    Timestamp::from_millis(seconds * 1_000)
}

pub fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

pub fn next(zone: &mut ZoneRefresh, now: Timestamp) -> Action {
    zone.poll_action(now).expect("an action is ready")
}

pub fn install(zone: &mut ZoneRefresh, now: Timestamp, action: Action, serial: u32, kind: XfrKind) {
    assert!(zone.install_version(action.id, serial).is_some());
    let outcome = TransferOutcome::Installed {
        soa: soa(serial),
        kind,
    };
    zone.handle_transfer_response(now, action.id, outcome)
        .unwrap();
}

/// A zone with `config`, loaded by its first AXFR at t=0 with `serial`.
pub fn loaded_with(config: RefreshConfig, serial: u32) -> ZoneRefresh {
    let mut zone = ZoneRefresh::new(config, 1, t(0));
    let first = next(&mut zone, t(0));
    install(&mut zone, t(0), first, serial, XfrKind::Axfr);
    while zone.poll_event().is_some() {}
    zone
}

pub fn loaded(serial: u32) -> ZoneRefresh {
    loaded_with(config(), serial)
}

pub fn soa_query(primary: usize) -> ActionKind {
    ActionKind::QuerySoa { primary }
}

pub fn events(zone: &mut ZoneRefresh) -> Vec<EventKind> {
    std::iter::from_fn(|| zone.poll_event())
        .map(|event| event.kind)
        .collect()
}
