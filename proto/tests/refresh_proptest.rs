//! `proto::refresh`: random inputs in random order, checking invariants
//! after every step.
//!
//! Machine: the serving version never goes backwards within an epoch and
//! the epoch never falls; at most one action is in flight; after
//! `handle_timeout(now)` the next timeout is never at or before `now`;
//! status, state and freshness agree. Scheduler: slots in use match the
//! machines' actions in flight and stay within the limits.

use std::time::Duration;

use proptest::prelude::*;
use understudy_proto::Name;
use understudy_proto::refresh::{
    Action, ActionClass, ActionId, ActionKind, ExpiryPolicy, Failure, Freshness, Priority,
    RefreshConfig, RefreshScheduler, SchedulerConfig, SoaTimers, TransferKind, TransferOutcome,
    XfrKind, ZoneRefresh, ZoneState,
};
use understudy_proto::{Serial, Timestamp, ZoneVersion};

#[derive(Debug, Clone)]
enum Input {
    Advance(u64),
    Poll,
    SoaAnswer(i64),
    SoaFailure,
    Installed(i64),
    RogueInstall(i64),
    UpToDate(i64),
    Fallback,
    TransferFailure(bool),
    WrongId,
    Notify(Option<i64>, Option<usize>),
    Refresh,
    Retransfer,
    Confirm(bool, u64),
    Peer(i64, bool, u64),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => (0u64..20_000_000).prop_map(Input::Advance),
        4 => Just(Input::Poll),
        3 => (-3i64..4).prop_map(Input::SoaAnswer),
        1 => Just(Input::SoaFailure),
        2 => (-3i64..4).prop_map(Input::Installed),
        1 => (-3i64..4).prop_map(Input::RogueInstall),
        1 => (-3i64..4).prop_map(Input::UpToDate),
        1 => Just(Input::Fallback),
        1 => any::<bool>().prop_map(Input::TransferFailure),
        1 => Just(Input::WrongId),
        2 => (proptest::option::of(-3i64..4), proptest::option::of(0usize..4)).prop_map(|(s, p)| Input::Notify(s, p)),
        1 => Just(Input::Refresh),
        1 => Just(Input::Retransfer),
        1 => (any::<bool>(), 0u64..2_000_000).prop_map(|(same, age)| Input::Confirm(same, age)),
        1 => (-3i64..4, any::<bool>(), 0u64..2_000_000).prop_map(|(d, e, age)| Input::Peer(d, e, age)),
    ]
}

fn policy() -> impl Strategy<Value = ExpiryPolicy> {
    prop_oneof![
        Just(ExpiryPolicy::Rfc),
        Just(ExpiryPolicy::ServeStale),
        Just(ExpiryPolicy::Never)
    ]
}

fn soa(serial: u32) -> SoaTimers {
    SoaTimers {
        serial,
        refresh: 3_600,
        retry: 600,
        expire: 86_400,
    }
}

/// The driver in the test: carries out at most the one action handed out.
struct Driver {
    zone: ZoneRefresh,
    now: Timestamp,
    action: Option<Action>,
    base: u32,
}

impl Driver {
    fn serial(&self, delta: i64) -> u32 {
        let base = self.zone.serving().map_or(self.base, |v| v.serial.0);
        base.wrapping_add(delta as u32)
    }

    fn take(&mut self, class: ActionClass) -> Option<Action> {
        let action = self.action.filter(|a| a.kind.class() == class)?;
        self.action = None;
        Some(action)
    }

    fn apply(&mut self, input: Input) {
        let now = self.now;
        match input {
            Input::Advance(millis) => {
                self.now = now + Duration::from_millis(millis);
                self.zone.handle_timeout(self.now);
                if let Some(at) = self.zone.poll_timeout() {
                    assert!(at > self.now, "timeout {at:?} not after {:?}", self.now);
                }
            }
            Input::Poll => match self.zone.poll_action(now) {
                Some(action) => {
                    if let ActionKind::Transfer {
                        kind: TransferKind::Ixfr { from },
                        ..
                    } = action.kind
                    {
                        let ours = self.zone.serving().map(|v| v.serial);
                        assert_eq!(Some(from), ours, "IXFR from the serial served");
                    }
                    assert_eq!(self.zone.in_flight(), Some(action));
                    self.action = Some(action);
                }
                None => {
                    if let Some(flight) = self.zone.in_flight() {
                        assert_eq!(Some(flight), self.action, "one action in flight");
                    }
                }
            },
            Input::SoaAnswer(delta) => {
                let serial = self.serial(delta);
                if let Some(a) = self.take(ActionClass::SoaQuery) {
                    let _ = self.zone.handle_soa_response(now, a.id, Ok(soa(serial)));
                }
            }
            Input::SoaFailure => {
                if let Some(a) = self.take(ActionClass::SoaQuery) {
                    let _ = self
                        .zone
                        .handle_soa_response(now, a.id, Err(Failure::Timeout));
                }
            }
            Input::Installed(delta) => self.install(delta, false),
            Input::RogueInstall(delta) => self.install(delta, true),
            Input::UpToDate(delta) => {
                let serial = self.serial(delta);
                self.transfer(TransferOutcome::UpToDate { soa: soa(serial) });
            }
            Input::Fallback => self.transfer(TransferOutcome::FallbackToAxfr(Failure::Rcode(5))),
            Input::TransferFailure(store) => {
                let failure = match store {
                    true => Failure::Store("disk full".into()),
                    false => Failure::Network("reset".into()),
                };
                self.transfer(TransferOutcome::Failed(failure));
            }
            Input::WrongId => {
                let bogus = ActionId(u64::MAX);
                assert!(
                    self.zone
                        .handle_soa_response(now, bogus, Err(Failure::Timeout))
                        .is_err()
                );
            }
            Input::Notify(delta, source) => {
                let serial = delta.map(|d| self.serial(d));
                self.zone.handle_notify(now, serial, source);
            }
            Input::Refresh => self.zone.handle_refresh_command(now),
            Input::Retransfer => self.zone.handle_retransfer_command(now),
            Input::Peer(delta, bump, age) => {
                let serial = self.serial(delta);
                let epoch = self.zone.serving().map_or(0, |v| v.epoch) + u32::from(bump);
                let version = ZoneVersion::new(epoch, serial);
                let accepted = self.zone.accepts_version(version);
                let taken = self.zone.handle_peer_install(
                    now,
                    version,
                    soa(serial),
                    Duration::from_millis(age),
                );
                assert_eq!(accepted, taken);
                if taken {
                    assert_eq!(self.zone.serving(), Some(version));
                }
            }
            Input::Confirm(same, age) => {
                let version = match (same, self.zone.serving()) {
                    (true, Some(v)) => v,
                    _ => ZoneVersion::new(7, 7),
                };
                self.zone
                    .handle_confirmation(now, version, Duration::from_millis(age));
            }
        }
    }

    fn install(&mut self, delta: i64, rogue: bool) {
        let serial = self.serial(delta);
        let Some(a) = self.take(ActionClass::Transfer) else {
            return;
        };
        let allowed = self.zone.install_version(a.id, serial);
        let outcome = match (allowed, rogue) {
            (Some(_), _) | (None, true) => TransferOutcome::Installed {
                soa: soa(serial),
                kind: XfrKind::Axfr,
            },
            (None, false) => TransferOutcome::Failed(Failure::Malformed("discarded".into())),
        };
        let before = self.zone.serving();
        let current = self.zone.in_flight().is_some_and(|f| f.id == a.id);
        let _ = self.zone.handle_transfer_response(self.now, a.id, outcome);
        if allowed.is_some() {
            let promised = "installed under the promised version";
            assert_eq!(self.zone.serving(), allowed, "{promised}");
        } else if current {
            let refused = "a refused install changes nothing";
            assert_eq!(self.zone.serving(), before, "{refused}");
        }
    }

    fn transfer(&mut self, outcome: TransferOutcome) {
        if let Some(a) = self.take(ActionClass::Transfer) {
            let _ = self.zone.handle_transfer_response(self.now, a.id, outcome);
        }
    }

    fn check(&self, previous: Option<ZoneVersion>) {
        let now = self.now;
        let serving = self.zone.serving();
        if let (Some(before), Some(after)) = (previous, serving) {
            assert!(
                after.epoch >= before.epoch,
                "epoch fell: {before} -> {after}"
            );
            if after.epoch == before.epoch {
                assert!(
                    after.serial == before.serial || after.serial.is_newer_than(before.serial),
                    "serving went back: {before} -> {after}"
                );
            }
        }
        assert!(
            previous.is_none() || serving.is_some(),
            "data never unloaded"
        );
        let status = self.zone.status(now);
        assert_eq!(status.state, self.zone.state(now));
        assert_eq!(status.freshness, self.zone.freshness(now));
        assert_eq!(status.serving, serving);
        match status.state {
            ZoneState::Loading => assert_eq!(status.freshness, Freshness::Expired),
            ZoneState::Expired => assert_eq!(status.freshness, Freshness::Expired),
            ZoneState::Stale => assert_ne!(status.freshness, Freshness::Expired),
            _ => assert_eq!(status.freshness, Freshness::Fresh),
        }
        if let Some(in_flight) = status.in_flight {
            assert!(in_flight.kind.primary() < self.zone.config().primaries);
        }
        if status.regression.is_some() {
            assert!(matches!(
                status.state,
                ZoneState::SerialRegressed | ZoneState::Expired | ZoneState::Stale
            ));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn machine_invariants_hold_under_random_inputs(
        primaries in 1usize..4,
        policy in policy(),
        jitter in 0.0f64..1.0,
        seed in any::<u64>(),
        base in any::<u32>(),
        inputs in proptest::collection::vec(input(), 1..200),
    ) {
        let config = RefreshConfig { primaries, expiry_policy: policy, jitter, ..RefreshConfig::default() };
        let mut driver = Driver {
            zone: ZoneRefresh::new(config, seed, Timestamp::ZERO),
            now: Timestamp::ZERO,
            action: None,
            base,
        };
        for input in inputs {
            let previous = driver.zone.serving();
            driver.apply(input);
            driver.check(previous);
            while driver.zone.poll_event().is_some() {}
        }
    }
}

#[derive(Debug, Clone)]
enum SchedulerInput {
    Advance(u64),
    Poll,
    Complete(usize, bool),
    Notify(usize),
    Retransfer(usize),
}

fn scheduler_input() -> impl Strategy<Value = SchedulerInput> {
    prop_oneof![
        2 => (0u64..5_000_000).prop_map(SchedulerInput::Advance),
        4 => Just(SchedulerInput::Poll),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(i, newer)| SchedulerInput::Complete(i, newer)),
        2 => (0usize..40).prop_map(SchedulerInput::Notify),
        1 => (0usize..40).prop_map(SchedulerInput::Retransfer),
    ]
}

fn zone_name(i: usize) -> Name {
    Name::from_ascii(&format!("z{i}.test.")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn scheduler_slots_match_machines_and_limits(
        max_soa in 1usize..6,
        max_transfers in 1usize..4,
        seed in any::<u64>(),
        inputs in proptest::collection::vec(scheduler_input(), 1..300),
    ) {
        let limits = SchedulerConfig {
            max_soa_queries: max_soa,
            reserved_soa_queries: max_soa / 2,
            max_transfers,
            reserved_transfers: max_transfers / 2,
        };
        let mut scheduler = RefreshScheduler::new(limits);
        let config = RefreshConfig { primaries: 2, ..RefreshConfig::default() };
        for i in 0..40 {
            scheduler.insert(zone_name(i), ZoneRefresh::new(config.clone(), seed ^ i as u64, Timestamp::ZERO));
        }
        let mut now = Timestamp::ZERO;
        let mut out: Vec<(Name, Action)> = Vec::new();
        for input in inputs {
            match input {
                SchedulerInput::Advance(millis) => {
                    now = now + Duration::from_millis(millis);
                    scheduler.handle_timeout(now);
                    if let Some(at) = scheduler.poll_timeout() {
                        prop_assert!(at > now);
                    }
                }
                SchedulerInput::Poll => {
                    if let Some(dispatch) = scheduler.poll_action(now) {
                        out.push((dispatch.zone, dispatch.action));
                    }
                }
                SchedulerInput::Complete(pick, newer) if !out.is_empty() => {
                    let (zone, action) = out.swap_remove(pick % out.len());
                    let serving = scheduler.zone(&zone).and_then(|z| z.serving()).map_or(Serial(1), |v| v.serial);
                    let serial = if newer { serving.0.wrapping_add(1) } else { serving.0 };
                    let _ = match action.kind {
                        ActionKind::QuerySoa { .. } => {
                            scheduler.handle_soa_response(now, &zone, action.id, Ok(soa(serial)))
                        }
                        ActionKind::Transfer { .. } => {
                            let outcome = match scheduler.install_version(&zone, action.id, serial) {
                                Some(_) => TransferOutcome::Installed { soa: soa(serial), kind: XfrKind::Axfr },
                                None => TransferOutcome::Failed(Failure::Timeout),
                            };
                            scheduler.handle_transfer_response(now, &zone, action.id, outcome)
                        }
                    };
                }
                SchedulerInput::Complete(..) => {}
                SchedulerInput::Notify(i) => {
                    scheduler.handle_notify(now, &zone_name(i), None, Some(i % 2));
                }
                SchedulerInput::Retransfer(i) => {
                    scheduler.handle_retransfer_command(now, &zone_name(i));
                }
            }
            let load = scheduler.load();
            let in_flight = |class: ActionClass| {
                scheduler.zones().filter(|(_, z)| z.in_flight().is_some_and(|a| a.kind.class() == class)).count()
            };
            prop_assert_eq!(load.soa_queries, in_flight(ActionClass::SoaQuery));
            prop_assert_eq!(load.transfers, in_flight(ActionClass::Transfer));
            prop_assert!(load.soa_queries <= max_soa);
            prop_assert!(load.transfers <= max_transfers);
            let background = scheduler.zones().filter(|(_, z)| {
                z.in_flight().is_some_and(|a| a.priority == Priority::Background)
            }).count();
            prop_assert!(background <= (max_soa - max_soa / 2) + (max_transfers - max_transfers / 2));
            while scheduler.poll_event().is_some() {}
        }
    }
}
