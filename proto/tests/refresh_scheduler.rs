//! `proto::refresh::RefreshScheduler`: a thousand zones' refreshes spread
//! out under jitter, and a NOTIFY is served promptly while they run.

use std::collections::{BTreeMap, HashMap};

use understudy_proto::Name;
use understudy_proto::refresh::{
    ActionClass, ActionKind, DRIVER_GRACE, Dispatch, EventKind, NotifyDisposition, PersistedState,
    Priority, RefreshConfig, RefreshScheduler, ReportError, Restore, SchedulerConfig,
    SchedulerConfigError, SoaTimers, TransferOutcome, XfrKind, ZoneRefresh,
};
use understudy_proto::{Timestamp, ZoneVersion};

const ZONES: usize = 1_000;
const REFRESH: u32 = 3_600;
const RETRY: u32 = 600;

fn zone(i: usize) -> Name {
    Name::from_ascii(&format!("zone{i}.example.")).unwrap()
}

fn soa(serial: u32) -> SoaTimers {
    SoaTimers {
        serial,
        refresh: REFRESH,
        retry: RETRY,
        expire: 14 * 86_400,
    }
}

fn t(seconds: u64) -> Timestamp {
    Timestamp::from_millis(seconds * 1_000)
}

fn refresh_config(jitter: f64) -> RefreshConfig {
    RefreshConfig {
        primaries: 1,
        jitter,
        ..RefreshConfig::default()
    }
}

fn limits(max_soa: usize, reserved_soa: usize) -> SchedulerConfig {
    SchedulerConfig {
        max_soa_queries: max_soa,
        reserved_soa_queries: reserved_soa,
        max_transfers: 8,
        reserved_transfers: 2,
    }
}

/// Carries out `dispatch` at once against a primary holding `serial`.
fn answer(scheduler: &mut RefreshScheduler, now: Timestamp, dispatch: &Dispatch, serial: u32) {
    let id = dispatch.action.id;
    match dispatch.action.kind {
        ActionKind::QuerySoa { .. } => {
            scheduler
                .handle_soa_response(now, &dispatch.zone, id, Ok(soa(serial)))
                .unwrap();
        }
        ActionKind::Transfer { kind, .. } => {
            let version = scheduler.install_version(&dispatch.zone, id, serial);
            assert!(version.is_some());
            let sent = match kind {
                understudy_proto::refresh::TransferKind::Ixfr { .. } => XfrKind::Ixfr,
                understudy_proto::refresh::TransferKind::Axfr => XfrKind::Axfr,
            };
            let outcome = TransferOutcome::Installed {
                soa: soa(serial),
                kind: sent,
            };
            scheduler
                .handle_transfer_response(now, &dispatch.zone, id, outcome)
                .unwrap();
        }
    }
}

/// Runs the scheduler from `start` to `end` with every primary answering
/// at once with `serial`; returns each dispatch with its time.
fn run(
    scheduler: &mut RefreshScheduler,
    start: Timestamp,
    end: Timestamp,
    serial: u32,
) -> Vec<(Timestamp, Dispatch)> {
    let mut now = start;
    let mut log = Vec::new();
    loop {
        while let Some(dispatch) = scheduler.poll_action(now) {
            answer(scheduler, now, &dispatch, serial);
            log.push((now, dispatch));
        }
        match scheduler.poll_timeout() {
            Some(at) if at <= end => {
                now = at.max(now);
                scheduler.handle_timeout(now);
            }
            _ => return log,
        }
    }
}

/// Most zones whose time falls in any one second.
fn busiest_second(times: &[Timestamp]) -> usize {
    let mut buckets: HashMap<u64, usize> = HashMap::new();
    for at in times {
        *buckets.entry(at.as_millis() / 1_000).or_default() += 1;
    }
    buckets.values().copied().max().unwrap_or(0)
}

fn first_soa_queries(log: &[(Timestamp, Dispatch)]) -> Vec<Timestamp> {
    let mut first: BTreeMap<Name, Timestamp> = BTreeMap::new();
    for (at, dispatch) in log {
        if matches!(dispatch.action.kind, ActionKind::QuerySoa { .. }) {
            first.entry(dispatch.zone.clone()).or_insert(*at);
        }
    }
    first.into_values().collect()
}

#[test]
fn thousand_zones_first_refreshes_spread_under_jitter() {
    let mut scheduler = RefreshScheduler::new(limits(16, 4));
    for i in 0..ZONES {
        scheduler.insert(
            zone(i),
            ZoneRefresh::new(refresh_config(0.1), i as u64, t(0)),
        );
    }
    let log = run(&mut scheduler, t(0), t(u64::from(REFRESH) + 1), 1);
    let loads = log
        .iter()
        .filter(|(_, d)| matches!(d.action.kind, ActionKind::Transfer { .. }))
        .count();
    assert_eq!(loads, ZONES, "every zone loaded first");
    let first = first_soa_queries(&log);
    assert_eq!(
        first.len(),
        ZONES,
        "every zone refreshed once within REFRESH"
    );
    // Jitter brings refreshes forward by up to 10%: the window is 360 s.
    assert!(first.iter().all(|at| *at >= t(3_240) && *at <= t(3_600)));
    let busiest = busiest_second(&first);
    assert!(
        busiest * 100 <= ZONES,
        "{busiest} of {ZONES} zones refresh in one second"
    );
    let earliest = first.iter().min().unwrap();
    let latest = first.iter().max().unwrap();
    assert!(
        latest.since(*earliest).as_secs() >= 340,
        "spread over the whole window"
    );
}

#[test]
fn thousand_restored_zones_overdue_spread_their_checks() {
    let mut scheduler = RefreshScheduler::new(limits(16, 4));
    let unix_now = 1_700_000_000;
    for i in 0..ZONES {
        let saved = PersistedState {
            serving: Some(soa(1)),
            verified_at: Some(unix_now - 10_000),
            next_refresh: Some(unix_now - 6_400),
            ..PersistedState::default()
        };
        let restore = Restore {
            loaded: Some(soa(1)),
            persisted: Some(saved),
            unix_now,
        };
        let machine = ZoneRefresh::restore(refresh_config(0.1), i as u64, t(0), restore);
        scheduler.insert(zone(i), machine);
    }
    let log = run(&mut scheduler, t(0), t(120), 1);
    let first = first_soa_queries(&log);
    assert_eq!(first.len(), ZONES);
    // Spread over 10% of RETRY: 60 s, about 17 zones a second.
    assert!(first.iter().all(|at| *at < t(60)));
    let busiest = busiest_second(&first);
    assert!(
        busiest * 100 <= 4 * ZONES,
        "{busiest} of {ZONES} in one second"
    );
}

/// A thousand loaded zones all due for a check at t=0 (no jitter: the
/// worst case), the scheduler holding `limits`.
fn thousand_due(limits: SchedulerConfig) -> RefreshScheduler {
    let mut scheduler = RefreshScheduler::new(limits);
    for i in 0..ZONES {
        let restore = Restore {
            loaded: Some(soa(1)),
            persisted: None,
            unix_now: 1_700_000_000,
        };
        let machine = ZoneRefresh::restore(refresh_config(0.0), i as u64, t(0), restore);
        scheduler.insert(zone(i), machine);
    }
    scheduler
}

fn drain(scheduler: &mut RefreshScheduler, now: Timestamp) -> Vec<Dispatch> {
    std::iter::from_fn(|| scheduler.poll_action(now)).collect()
}

#[test]
fn rfc1996_notify_served_at_once_while_background_slots_are_busy() {
    let mut scheduler = thousand_due(limits(8, 2));
    let background = drain(&mut scheduler, t(0));
    assert_eq!(
        background.len(),
        6,
        "background stops short of the reserved slots"
    );
    assert!(
        background
            .iter()
            .all(|d| d.action.priority == Priority::Background)
    );
    let load = scheduler.load();
    assert_eq!(load.soa_queries, 6);
    assert_eq!(load.background_waiting, ZONES - 6);
    // zone 500 waits in the background queue; the NOTIFY jumps it ahead.
    let notified = zone(500);
    let disposition = scheduler.handle_notify(t(1), &notified, Some(2), Some(0));
    assert_eq!(disposition, Some(NotifyDisposition::CheckQueued));
    let dispatch = scheduler.poll_action(t(1)).expect("handed out at once");
    assert_eq!(dispatch.zone, notified);
    assert_eq!(dispatch.action.kind, ActionKind::QuerySoa { primary: 0 });
    assert_eq!(dispatch.action.priority, Priority::Urgent);
    // Its transfer follows at once too, ahead of all background work.
    answer_soa(&mut scheduler, t(1), &dispatch, 2);
    let transfer = scheduler.poll_action(t(1)).expect("transfer handed out");
    assert_eq!(transfer.zone, notified);
    assert_eq!(transfer.action.kind.class(), ActionClass::Transfer);
    assert_eq!(transfer.action.priority, Priority::Urgent);
}

fn answer_soa(scheduler: &mut RefreshScheduler, now: Timestamp, dispatch: &Dispatch, serial: u32) {
    scheduler
        .handle_soa_response(now, &dispatch.zone, dispatch.action.id, Ok(soa(serial)))
        .unwrap();
}

#[test]
fn rfc1996_notify_served_within_one_completion_when_every_slot_is_busy() {
    let mut scheduler = thousand_due(limits(8, 2));
    let mut busy = drain(&mut scheduler, t(0));
    // Two NOTIFYs fill the reserved slots; a third finds every slot busy.
    for i in [900, 901] {
        scheduler.handle_notify(t(1), &zone(i), Some(2), None);
        busy.push(scheduler.poll_action(t(1)).unwrap());
    }
    assert_eq!(scheduler.load().soa_queries, 8);
    let third = zone(902);
    scheduler.handle_notify(t(1), &third, Some(2), None);
    assert_eq!(scheduler.poll_action(t(1)), None);
    // One background check completes: the NOTIFY takes its slot, not the
    // 990-odd background checks queued before it.
    let done = busy.remove(0);
    assert_eq!(done.action.priority, Priority::Background);
    answer_soa(&mut scheduler, t(2), &done, 1);
    let next = scheduler.poll_action(t(2)).unwrap();
    assert_eq!(next.zone, third);
    assert_eq!(next.action.priority, Priority::Urgent);
    assert_eq!(scheduler.poll_action(t(2)), None, "slots full again");
}

#[test]
fn without_reserved_slots_notify_waits_one_completion_only() {
    let mut scheduler = thousand_due(SchedulerConfig {
        max_soa_queries: 4,
        reserved_soa_queries: 0,
        max_transfers: 1,
        reserved_transfers: 0,
    });
    let mut busy = drain(&mut scheduler, t(0));
    assert_eq!(busy.len(), 4);
    scheduler.handle_notify(t(1), &zone(777), None, None);
    assert_eq!(scheduler.poll_action(t(1)), None);
    answer_soa(&mut scheduler, t(1), &busy.remove(0), 1);
    assert_eq!(scheduler.poll_action(t(1)).unwrap().zone, zone(777));
}

#[test]
fn notify_for_zone_in_flight_is_deferred_then_served_first() {
    let mut scheduler = thousand_due(limits(8, 2));
    let busy = drain(&mut scheduler, t(0));
    let first = &busy[0];
    let disposition = scheduler.handle_notify(t(1), &first.zone, Some(2), None);
    assert_eq!(disposition, Some(NotifyDisposition::Deferred));
    answer_soa(&mut scheduler, t(2), first, 1);
    let recheck = scheduler.poll_action(t(2)).unwrap();
    assert_eq!(recheck.zone, first.zone);
    assert_eq!(recheck.action.priority, Priority::Urgent);
}

#[test]
fn transfers_have_their_own_limit() {
    let mut scheduler = thousand_due(SchedulerConfig {
        max_soa_queries: 50,
        reserved_soa_queries: 0,
        max_transfers: 3,
        reserved_transfers: 1,
    });
    let queries = drain(&mut scheduler, t(0));
    assert_eq!(queries.len(), 50);
    for dispatch in &queries {
        answer_soa(&mut scheduler, t(1), dispatch, 2);
    }
    let transfers: Vec<_> = drain(&mut scheduler, t(1))
        .into_iter()
        .filter(|d| d.action.kind.class() == ActionClass::Transfer)
        .collect();
    assert_eq!(
        transfers.len(),
        2,
        "background transfers leave one slot reserved"
    );
    assert_eq!(scheduler.load().transfers, 2);
}

#[test]
fn lost_action_frees_its_slot_after_grace() {
    let mut scheduler = thousand_due(limits(2, 1));
    let only = scheduler.poll_action(t(0)).unwrap();
    assert_eq!(scheduler.poll_action(t(0)), None);
    let lost_at = only.action.deadline + DRIVER_GRACE;
    assert!(scheduler.poll_timeout().unwrap() <= lost_at);
    let next = scheduler.poll_action(lost_at).unwrap();
    assert_ne!(
        next.zone, only.zone,
        "the lost zone goes to the back of the queue"
    );
    assert_eq!(
        scheduler.handle_soa_response(lost_at, &only.zone, only.action.id, Ok(soa(1))),
        Err(ReportError::NotInFlight(only.action.id))
    );
}

#[test]
fn removed_zone_frees_its_slot_and_refuses_reports() {
    let mut scheduler = thousand_due(limits(2, 1));
    let only = scheduler.poll_action(t(0)).unwrap();
    assert!(scheduler.remove(&only.zone).is_some());
    assert_eq!(scheduler.len(), ZONES - 1);
    assert!(scheduler.poll_action(t(0)).is_some());
    assert_eq!(
        scheduler.handle_soa_response(t(0), &only.zone, only.action.id, Ok(soa(1))),
        Err(ReportError::UnknownZone)
    );
    assert_eq!(scheduler.handle_notify(t(0), &only.zone, None, None), None);
    assert!(!scheduler.handle_refresh_command(t(0), &only.zone));
}

#[test]
fn events_come_out_with_their_zone() {
    let mut scheduler = RefreshScheduler::new(SchedulerConfig::default());
    scheduler.insert(zone(1), ZoneRefresh::new(refresh_config(0.0), 1, t(0)));
    let load = scheduler.poll_action(t(0)).unwrap();
    let outcome = TransferOutcome::Installed {
        soa: soa(5),
        kind: XfrKind::Axfr,
    };
    scheduler
        .handle_transfer_response(t(1), &zone(1), load.action.id, outcome)
        .unwrap();
    let events: Vec<_> = std::iter::from_fn(|| scheduler.poll_event()).collect();
    assert!(events.iter().all(|(name, _)| *name == zone(1)));
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e.kind, EventKind::Transferred { .. }))
    );
    assert_eq!(scheduler.poll_event(), None);
    assert_eq!(
        scheduler.zone(&zone(1)).unwrap().serving(),
        Some(ZoneVersion::new(0, 5))
    );
}

#[test]
fn timer_is_the_earliest_zone_timer() {
    let mut scheduler = RefreshScheduler::new(SchedulerConfig::default());
    for (i, due) in [(1, 500), (2, 100), (3, 300)] {
        let saved = PersistedState {
            serving: Some(soa(1)),
            verified_at: Some(1_000),
            next_refresh: Some(1_000 + due),
            ..PersistedState::default()
        };
        let restore = Restore {
            loaded: Some(soa(1)),
            persisted: Some(saved),
            unix_now: 1_000,
        };
        scheduler.insert(
            zone(i),
            ZoneRefresh::restore(refresh_config(0.0), 1, t(0), restore),
        );
    }
    assert_eq!(scheduler.poll_timeout(), Some(t(100)));
    let check = scheduler.poll_action(t(100)).unwrap();
    assert_eq!(check.zone, zone(2));
    let lost_at = check.action.deadline + DRIVER_GRACE;
    assert_eq!(
        scheduler.poll_timeout(),
        Some(lost_at),
        "the check's deadline"
    );
    answer_soa(&mut scheduler, t(101), &check, 1);
    assert_eq!(scheduler.poll_timeout(), Some(t(300)));
}

#[test]
fn config_check_keeps_a_background_slot() {
    assert_eq!(SchedulerConfig::default().check(), Ok(()));
    assert_eq!(
        limits(4, 4).check(),
        Err(SchedulerConfigError::NoBackgroundSlots("SOA query"))
    );
}
