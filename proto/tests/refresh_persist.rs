//! `proto::refresh`: saving a zone's state and resuming after a restart,
//! when the driver's monotonic clock starts again from zero.

use understudy_proto::refresh::{
    ActionKind, Failure, Freshness, PersistedState, RefreshConfig, RefreshResult, Restore,
    SoaTimers, TransferKind, TransferOutcome, XfrKind, ZoneRefresh, ZoneState,
};
use understudy_proto::{Serial, Timestamp, ZoneVersion};

const REFRESH: u64 = 3_600;
const RETRY: u64 = 600;
const EXPIRE: u64 = 86_400;
/// Wall clock at the first run's driver origin.
const BOOT: u64 = 1_700_000_000;

fn config() -> RefreshConfig {
    RefreshConfig {
        primaries: 2,
        jitter: 0.0,
        ..RefreshConfig::default()
    }
}

fn soa(serial: u32) -> SoaTimers {
    SoaTimers {
        serial,
        refresh: REFRESH as u32,
        retry: RETRY as u32,
        expire: EXPIRE as u32,
    }
}

fn t(seconds: u64) -> Timestamp {
    Timestamp::from_millis(seconds * 1_000)
}

/// A zone that loaded serial 7 at t=0 and was confirmed at t=1000.
fn running() -> ZoneRefresh {
    let mut zone = ZoneRefresh::new(config(), 1, t(0));
    let axfr = zone.poll_action(t(0)).unwrap();
    let outcome = TransferOutcome::Installed {
        soa: soa(7),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(t(0), axfr.id, outcome)
        .unwrap();
    zone.handle_refresh_command(t(1_000));
    let query = zone.poll_action(t(1_000)).unwrap();
    zone.handle_soa_response(t(1_000), query.id, Ok(soa(7)))
        .unwrap();
    zone
}

fn restore(loaded: Option<SoaTimers>, saved: Option<PersistedState>, unix_now: u64) -> ZoneRefresh {
    let restore = Restore {
        loaded,
        persisted: saved,
        unix_now,
    };
    ZoneRefresh::restore(config(), 2, t(0), restore)
}

#[test]
fn persisted_state_carries_wall_clock_times() {
    let zone = running();
    let saved = zone.persisted(t(1_200), BOOT + 1_200);
    assert_eq!(saved.epoch, 0);
    assert_eq!(saved.serving, Some(soa(7)));
    assert_eq!(saved.verified_at, Some(BOOT + 1_000));
    assert_eq!(saved.next_refresh, Some(BOOT + 1_000 + REFRESH));
    assert_eq!(saved.last_refresh, Some(BOOT + 1_000));
    assert_eq!(saved.last_result, Some(RefreshResult::Verified));
    assert_eq!(saved.primary_serial, Some(Serial(7)));
    assert_eq!(saved.last_primary, Some(0));
}

#[test]
fn restart_resumes_timers_instead_of_resetting() {
    let saved = running().persisted(t(1_200), BOOT + 1_200);
    // Down for 10 minutes; the new driver clock starts at zero.
    let unix_now = BOOT + 1_800;
    let mut zone = restore(Some(soa(7)), Some(saved), unix_now);
    let status = zone.status(t(0));
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 7)));
    assert_eq!(status.state, ZoneState::Ok);
    // Confirmed 800 s before the restart: the check is due REFRESH - 800 s on.
    assert_eq!(status.next_refresh, Some(t(REFRESH - 800)));
    assert_eq!(zone.poll_action(t(0)), None, "not checked again at once");
    // Expiry keeps counting from the confirmation before the restart.
    let expire_at = t(EXPIRE - 800);
    assert_eq!(status.expire_at, Some(expire_at));
    assert_eq!(zone.freshness(t(EXPIRE - 801)), Freshness::Fresh);
    let mut zone2 = zone.clone();
    zone2.handle_timeout(expire_at);
    assert_eq!(zone2.freshness(expire_at), Freshness::Expired);
    // And saving again gives back the same wall-clock times.
    let again = zone.persisted(t(5), unix_now + 5);
    assert_eq!(again.verified_at, Some(BOOT + 1_000));
    assert_eq!(again.next_refresh, Some(BOOT + 1_000 + REFRESH));
    zone.handle_timeout(t(REFRESH - 800));
    assert!(matches!(
        zone.poll_action(t(REFRESH - 800)).unwrap().kind,
        ActionKind::QuerySoa { primary: 0 }
    ));
}

#[test]
fn restart_past_expire_with_primary_down_is_expired_at_once() {
    let saved = running().persisted(t(1_200), BOOT + 1_200);
    let zone = restore(Some(soa(7)), Some(saved), BOOT + 1_000 + EXPIRE + 60);
    assert_eq!(zone.freshness(t(0)), Freshness::Expired);
    assert_eq!(zone.state(t(0)), ZoneState::Expired);
    let again = zone.persisted(t(0), BOOT + 1_000 + EXPIRE + 60);
    assert_eq!(
        again.verified_at,
        Some(BOOT + 1_000),
        "age before the origin is kept"
    );
}

#[test]
fn overdue_check_runs_soon_spread_over_jitter_window() {
    let saved = running().persisted(t(1_200), BOOT + 1_200);
    let unix_now = BOOT + 1_000 + REFRESH + 3_000;
    let window = (RETRY as f64 * 0.2 * 1_000.0) as u64;
    let mut times = Vec::new();
    for seed in 0..100 {
        let config = RefreshConfig {
            jitter: 0.2,
            ..config()
        };
        let restore = Restore {
            loaded: Some(soa(7)),
            persisted: Some(saved.clone()),
            unix_now,
        };
        let zone = ZoneRefresh::restore(config, seed, t(0), restore);
        times.push(zone.poll_timeout().unwrap().as_millis());
    }
    assert!(times.iter().all(|at| *at < window));
    let distinct: std::collections::HashSet<_> = times.iter().map(|at| at / 1_000).collect();
    assert!(distinct.len() > 50, "spread, not lockstep: {distinct:?}");
}

#[test]
fn epoch_survives_restart() {
    let mut zone = running();
    zone.handle_retransfer_command(t(1_100));
    let axfr = zone.poll_action(t(1_100)).unwrap();
    let outcome = TransferOutcome::Installed {
        soa: soa(2),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(t(1_100), axfr.id, outcome)
        .unwrap();
    let saved = zone.persisted(t(1_100), BOOT + 1_100);
    assert_eq!(saved.epoch, 1);
    let zone = restore(Some(soa(2)), Some(saved.clone()), BOOT + 1_200);
    assert_eq!(zone.serving(), Some(ZoneVersion::new(1, 2)));
    // Even when the snapshot on disk could not be read.
    let mut empty = restore(None, Some(saved), BOOT + 1_200);
    assert_eq!(empty.serving(), None);
    let axfr = empty.poll_action(t(0)).unwrap();
    assert_eq!(
        axfr.kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Axfr,
            forced: false
        }
    );
    assert_eq!(
        empty.install_version(axfr.id, 5),
        Some(ZoneVersion::new(1, 5))
    );
}

#[test]
fn snapshot_not_matching_saved_state_counts_from_restart() {
    let saved = running().persisted(t(1_200), BOOT + 1_200);
    let zone = restore(Some(soa(6)), Some(saved), BOOT + 100_000);
    let status = zone.status(t(0));
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 6)));
    assert_eq!(status.verified_at, Some(t(0)));
    assert_eq!(status.expire_at, Some(t(EXPIRE)));
    assert_eq!(status.freshness, Freshness::Fresh);
}

#[test]
fn loaded_snapshot_without_saved_state_checks_soon() {
    let mut zone = restore(Some(soa(7)), None, BOOT);
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)));
    // jitter 0: due at once.
    assert!(matches!(
        zone.poll_action(t(0)).unwrap().kind,
        ActionKind::QuerySoa { primary: 0 }
    ));
}

#[test]
fn serial_regression_and_pending_retransfer_survive_restart() {
    let config = RefreshConfig {
        primaries: 1,
        ..config()
    };
    let mut zone = ZoneRefresh::new(config.clone(), 1, t(0));
    let axfr = zone.poll_action(t(0)).unwrap();
    let outcome = TransferOutcome::Installed {
        soa: soa(100),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(t(0), axfr.id, outcome)
        .unwrap();
    zone.handle_refresh_command(t(10));
    let query = zone.poll_action(t(10)).unwrap();
    zone.handle_soa_response(t(10), query.id, Ok(soa(1)))
        .unwrap();
    zone.handle_retransfer_command(t(20));
    let forced = zone.poll_action(t(20)).unwrap();
    let failed = TransferOutcome::Failed(Failure::Timeout);
    zone.handle_transfer_response(t(20), forced.id, failed)
        .unwrap();
    let saved = zone.persisted(t(20), BOOT + 20);
    assert!(saved.retransfer_pending);
    assert!(saved.regression.is_some());
    let restore = Restore {
        loaded: Some(soa(100)),
        persisted: Some(saved),
        unix_now: BOOT + 10_000,
    };
    let mut zone = ZoneRefresh::restore(config, 3, t(0), restore);
    assert_eq!(zone.state(t(0)), ZoneState::SerialRegressed);
    let action = zone.poll_action(t(0)).unwrap();
    assert!(matches!(
        action.kind,
        ActionKind::Transfer { forced: true, .. }
    ));
}

#[test]
fn saved_time_far_in_the_future_is_capped_at_one_refresh() {
    let mut saved = running().persisted(t(1_200), BOOT + 1_200);
    saved.next_refresh = Some(BOOT + 10_000_000);
    let zone = restore(Some(soa(7)), Some(saved), BOOT + 1_300);
    assert_eq!(zone.poll_timeout(), Some(t(REFRESH)));
}
