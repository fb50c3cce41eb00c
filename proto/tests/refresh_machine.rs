//! `proto::refresh::ZoneRefresh`: SOA checks, transfers, fallbacks, failures
//! and serial regressions, one test per transition, named after the RFC
//! section it follows where there is one.

mod refresh_support;

use refresh_support::*;

#[test]
fn rfc1035_4_3_5_empty_zone_starts_with_axfr() {
    let mut zone = ZoneRefresh::new(config(), 1, t(0));
    assert_eq!(zone.state(t(0)), ZoneState::Loading);
    assert_eq!(zone.freshness(t(0)), Freshness::Expired);
    assert_eq!(
        zone.pending(),
        Some((ActionClass::Transfer, Priority::Background))
    );
    let action = next(&mut zone, t(0));
    assert_eq!(
        action.kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Axfr,
            forced: false
        }
    );
    assert_eq!(action.deadline, t(0) + config().transfer_timeout);
    assert_eq!(zone.poll_action(t(0)), None, "one action in flight at most");
    assert_eq!(
        zone.install_version(action.id, 7),
        Some(ZoneVersion::new(0, 7))
    );
    install(&mut zone, t(2), action, 7, XfrKind::Axfr);
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)));
    assert_eq!(zone.state(t(2)), ZoneState::Ok);
    assert_eq!(zone.freshness(t(2)), Freshness::Fresh);
    assert_eq!(zone.status(t(2)).counters.transfers_axfr, 1);
}

#[test]
fn rfc1035_4_3_5_refresh_timer_starts_soa_query() {
    let mut zone = loaded(7);
    assert_eq!(zone.poll_timeout(), Some(t(REFRESH)));
    zone.handle_timeout(t(REFRESH - 1));
    assert_eq!(zone.poll_action(t(REFRESH - 1)), None);
    zone.handle_timeout(t(REFRESH));
    let action = next(&mut zone, t(REFRESH));
    assert_eq!(action.kind, soa_query(0));
    assert_eq!(action.priority, Priority::Background);
    assert_eq!(action.deadline, t(REFRESH) + config().soa_timeout);
    assert_eq!(zone.state(t(REFRESH)), ZoneState::Refreshing);
}

#[test]
fn rfc1035_4_3_5_same_serial_verifies_and_reschedules() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH + 1), query.id, Ok(soa(7)))
        .unwrap();
    let status = zone.status(t(REFRESH + 1));
    assert_eq!(status.state, ZoneState::Ok);
    assert_eq!(status.verified_at, Some(t(REFRESH + 1)));
    assert_eq!(status.expire_at, Some(t(REFRESH + 1 + EXPIRE)));
    assert_eq!(status.next_refresh, Some(t(2 * REFRESH + 1)));
    assert_eq!(status.last_result, Some(RefreshResult::Verified));
    assert_eq!(status.primary_serial, Some(Serial(7)));
    assert_eq!(zone.poll_action(t(REFRESH + 1)), None, "no transfer");
    let kinds = events(&mut zone);
    assert!(kinds.contains(&EventKind::Verified {
        primary: 0,
        elapsed: secs(1)
    }));
}

#[test]
fn rfc1995_newer_serial_requests_ixfr_from_serving_serial() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(9)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    assert_eq!(
        transfer.kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Ixfr { from: Serial(7) },
            forced: false
        }
    );
    install(&mut zone, t(REFRESH + 3), transfer, 9, XfrKind::Ixfr);
    let status = zone.status(t(REFRESH + 3));
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 9)));
    assert_eq!(
        status.last_result,
        Some(RefreshResult::Transferred(XfrKind::Ixfr))
    );
    assert_eq!(status.counters.transfers_ixfr, 1);
    assert_eq!(status.verified_at, Some(t(REFRESH + 3)));
}

#[test]
fn request_ixfr_off_asks_for_axfr() {
    let mut zone = loaded_with(
        RefreshConfig {
            request_ixfr: false,
            ..config()
        },
        7,
    );
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    assert!(matches!(
        next(&mut zone, t(REFRESH)).kind,
        ActionKind::Transfer {
            kind: TransferKind::Axfr,
            ..
        }
    ));
}

#[test]
fn rfc1995_4_single_soa_answer_means_up_to_date() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    let outcome = TransferOutcome::UpToDate { soa: soa(7) };
    zone.handle_transfer_response(t(REFRESH + 1), transfer.id, outcome)
        .unwrap();
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)));
    assert_eq!(
        zone.status(t(REFRESH + 1)).last_result,
        Some(RefreshResult::Verified)
    );
    assert_eq!(
        zone.status(t(REFRESH + 1)).verified_at,
        Some(t(REFRESH + 1))
    );
}

#[test]
fn rfc1995_4_single_newer_soa_falls_back_to_axfr() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let ixfr = next(&mut zone, t(REFRESH));
    let outcome = TransferOutcome::UpToDate { soa: soa(8) };
    zone.handle_transfer_response(t(REFRESH), ixfr.id, outcome)
        .unwrap();
    let axfr = next(&mut zone, t(REFRESH));
    assert_eq!(
        axfr.kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Axfr,
            forced: false
        }
    );
    assert_eq!(zone.status(t(REFRESH)).counters.axfr_fallbacks, 1);
}

#[test]
fn rfc1995_ixfr_unusable_falls_back_to_axfr_from_same_primary() {
    let mut zone = loaded(7);
    let first = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), first.id, Err(Failure::Timeout))
        .unwrap();
    let query = next(&mut zone, t(REFRESH + 10));
    assert_eq!(query.kind, soa_query(1));
    zone.handle_soa_response(t(REFRESH + 10), query.id, Ok(soa(8)))
        .unwrap();
    let ixfr = next(&mut zone, t(REFRESH + 10));
    let broken =
        TransferOutcome::FallbackToAxfr(Failure::Malformed("diff removes absent record".into()));
    zone.handle_transfer_response(t(REFRESH + 11), ixfr.id, broken)
        .unwrap();
    let axfr = next(&mut zone, t(REFRESH + 11));
    assert_eq!(
        axfr.kind,
        ActionKind::Transfer {
            primary: 1,
            kind: TransferKind::Axfr,
            forced: false
        }
    );
    install(&mut zone, t(REFRESH + 12), axfr, 8, XfrKind::Axfr);
    let status = zone.status(t(REFRESH + 12));
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 8)));
    assert_eq!(status.counters.axfr_fallbacks, 1);
    assert_eq!(status.counters.transfers_axfr, 2);
    assert_eq!(status.last_primary, Some(1));
    let kinds = events(&mut zone);
    assert!(
        kinds
            .iter()
            .any(|kind| matches!(kind, EventKind::FallbackToAxfr { primary: 1, .. }))
    );
}

#[test]
fn failed_axfr_moves_to_next_primary_not_another_axfr() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let ixfr = next(&mut zone, t(REFRESH));
    let fallback = TransferOutcome::FallbackToAxfr(Failure::Rcode(5));
    zone.handle_transfer_response(t(REFRESH), ixfr.id, fallback.clone())
        .unwrap();
    let axfr = next(&mut zone, t(REFRESH));
    zone.handle_transfer_response(t(REFRESH), axfr.id, fallback)
        .unwrap();
    assert_eq!(next(&mut zone, t(REFRESH)).kind, soa_query(1));
}

#[test]
fn rfc1035_4_3_5_every_primary_failing_waits_for_retry() {
    let mut zone = loaded(7);
    let first = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), first.id, Err(Failure::Timeout))
        .unwrap();
    let second = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), second.id, Err(Failure::Rcode(5)))
        .unwrap();
    assert_eq!(zone.poll_action(t(REFRESH)), None);
    let status = zone.status(t(REFRESH));
    assert_eq!(status.state, ZoneState::Retrying);
    assert_eq!(status.next_refresh, Some(t(REFRESH + RETRY)));
    assert_eq!(status.last_result, Some(RefreshResult::Failed));
    assert_eq!(status.counters.failures, 2);
    assert!(status.last_error.unwrap().contains("rcode 5"));
    assert_eq!(status.verified_at, Some(t(0)), "failures verify nothing");
    zone.handle_timeout(t(REFRESH + RETRY));
    assert_eq!(next(&mut zone, t(REFRESH + RETRY)).kind, soa_query(0));
}

#[test]
fn store_failure_retries_later_instead_of_next_primary() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    let full = TransferOutcome::Failed(Failure::Store("no space left on device".into()));
    zone.handle_transfer_response(t(REFRESH), transfer.id, full)
        .unwrap();
    assert_eq!(zone.poll_action(t(REFRESH)), None);
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)));
    assert_eq!(zone.state(t(REFRESH)), ZoneState::Retrying);
}

#[test]
fn nothing_loaded_retries_back_off() {
    let mut zone = ZoneRefresh::new(config(), 1, t(0));
    let mut now = t(0);
    let mut waits = Vec::new();
    for _ in 0..5 {
        for _ in 0..2 {
            let action = next(&mut zone, now);
            let failed = TransferOutcome::Failed(Failure::Network("connection refused".into()));
            zone.handle_transfer_response(now, action.id, failed)
                .unwrap();
        }
        let retry_at = zone.poll_timeout().unwrap();
        waits.push(retry_at.since(now).as_secs());
        now = retry_at;
        zone.handle_timeout(now);
    }
    assert_eq!(waits, vec![10, 20, 40, 80, 160]);
    assert_eq!(zone.state(now), ZoneState::Loading);
}

#[test]
fn rfc1982_older_serial_is_a_regression_not_followed() {
    let mut zone = loaded_with(
        RefreshConfig {
            primaries: 1,
            ..config()
        },
        100,
    );
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(3)))
        .unwrap();
    assert_eq!(
        zone.poll_action(t(REFRESH)),
        None,
        "no transfer of an older serial"
    );
    let status = zone.status(t(REFRESH));
    assert_eq!(status.state, ZoneState::SerialRegressed);
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 100)));
    assert_eq!(status.primary_serial, Some(Serial(3)));
    assert_eq!(status.regression.map(|r| r.serial), Some(Serial(3)));
    assert_eq!(status.last_result, Some(RefreshResult::Regressed));
    assert_eq!(status.counters.regressions, 1);
    assert_eq!(
        status.verified_at,
        Some(t(0)),
        "an older serial confirms nothing"
    );
    let kinds = events(&mut zone);
    assert!(kinds.contains(&EventKind::StateChanged {
        from: ZoneState::Refreshing,
        to: ZoneState::SerialRegressed
    }));
    // Still behind at the next check: still flagged.
    let now = zone.poll_timeout().unwrap();
    let query = next(&mut zone, now);
    zone.handle_soa_response(now, query.id, Ok(soa(4))).unwrap();
    assert_eq!(zone.state(now), ZoneState::SerialRegressed);
    // The primary catches up: the flag clears with the transfer.
    let now = zone.poll_timeout().unwrap();
    let query = next(&mut zone, now);
    zone.handle_soa_response(now, query.id, Ok(soa(101)))
        .unwrap();
    let transfer = next(&mut zone, now);
    install(&mut zone, now, transfer, 101, XfrKind::Ixfr);
    assert_eq!(zone.state(now), ZoneState::Ok);
    assert_eq!(zone.status(now).regression, None);
}

#[test]
fn rfc1982_wrapped_serial_is_newer() {
    let mut zone = loaded(u32::MAX - 1);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(3)))
        .unwrap();
    assert!(matches!(
        next(&mut zone, t(REFRESH)).kind,
        ActionKind::Transfer { .. }
    ));
}

#[test]
fn regression_at_one_primary_while_another_confirms_is_ok() {
    let mut zone = loaded(100);
    let first = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), first.id, Ok(soa(50)))
        .unwrap();
    let second = next(&mut zone, t(REFRESH));
    assert_eq!(second.kind, soa_query(1));
    zone.handle_soa_response(t(REFRESH), second.id, Ok(soa(100)))
        .unwrap();
    assert_eq!(zone.state(t(REFRESH)), ZoneState::Ok);
    assert_eq!(zone.status(t(REFRESH)).regression, None);
}

#[test]
fn reports_for_unknown_or_mismatched_actions_are_refused() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    let bogus = ActionId(query.id.0 + 100);
    assert_eq!(
        zone.handle_soa_response(t(REFRESH), bogus, Ok(soa(8))),
        Err(ReportError::NotInFlight(bogus))
    );
    let outcome = TransferOutcome::Failed(Failure::Timeout);
    assert_eq!(
        zone.handle_transfer_response(t(REFRESH), query.id, outcome),
        Err(ReportError::WrongKind(query.id))
    );
    assert_eq!(zone.in_flight(), Some(query), "still in flight");
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(7)))
        .unwrap();
    assert_eq!(
        zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(7))),
        Err(ReportError::NotInFlight(query.id)),
        "a second report for the same action"
    );
}

#[test]
fn action_without_report_is_lost_after_grace() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    let lost_at = query.deadline + understudy_proto::refresh::DRIVER_GRACE;
    assert_eq!(zone.poll_timeout(), Some(lost_at));
    zone.handle_timeout(lost_at);
    let second = next(&mut zone, lost_at);
    assert_eq!(second.kind, soa_query(1));
    assert_eq!(
        zone.handle_soa_response(lost_at, query.id, Ok(soa(7))),
        Err(ReportError::NotInFlight(query.id))
    );
    assert!(
        zone.status(lost_at)
            .last_error
            .unwrap()
            .contains("timed out")
    );
}

#[test]
fn transfer_older_than_served_is_discarded() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(9)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    assert_eq!(zone.install_version(transfer.id, 6), None);
    assert_eq!(zone.install_version(transfer.id, 7), None);
    assert_eq!(zone.install_version(ActionId(999), 9), None);
    // A driver that installs anyway is not followed backwards.
    let outcome = TransferOutcome::Installed {
        soa: soa(6),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(t(REFRESH), transfer.id, outcome)
        .unwrap();
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)));
    assert_eq!(next(&mut zone, t(REFRESH)).kind, soa_query(1));
}

#[test]
fn events_carry_the_log_fields() {
    let mut zone = ZoneRefresh::new(config(), 1, t(0));
    let axfr = next(&mut zone, t(0));
    install(&mut zone, t(3), axfr, 42, XfrKind::Axfr);
    let all: Vec<_> = std::iter::from_fn(|| zone.poll_event()).collect();
    let transferred = all
        .iter()
        .find(|event| matches!(event.kind, EventKind::Transferred { .. }))
        .unwrap();
    assert_eq!(transferred.op(), Op::Axfr);
    assert_eq!(transferred.primary(), Some(0));
    assert_eq!(transferred.elapsed(), Some(secs(3)));
    assert_eq!(transferred.serving, Some(ZoneVersion::new(0, 42)));
    assert_eq!(transferred.at, t(3));
    let changed = all.last().unwrap();
    assert_eq!(
        changed.kind,
        EventKind::StateChanged {
            from: ZoneState::Loading,
            to: ZoneState::Ok
        }
    );
    assert_eq!(changed.op(), Op::State);
    assert_eq!(changed.kind.to_string(), "state loading -> ok");
}

#[test]
fn undrained_events_are_bounded_and_counted() {
    let mut zone = loaded(7);
    for i in 0..200 {
        zone.handle_notify(t(i), Some(1), None);
    }
    let kept = std::iter::from_fn(|| zone.poll_event()).count();
    assert!(kept <= 64);
    assert_eq!(
        zone.status(t(200)).counters.events_dropped,
        200 - kept as u64
    );
}

#[test]
fn jitter_brings_refresh_forward_by_at_most_its_fraction() {
    let mut earliest = u64::MAX;
    let mut latest = 0;
    for seed in 0..200 {
        let config = RefreshConfig {
            jitter: 0.1,
            ..config()
        };
        let mut zone = ZoneRefresh::new(config, seed, t(0));
        let axfr = next(&mut zone, t(0));
        install(&mut zone, t(0), axfr, 1, XfrKind::Axfr);
        let at = zone.poll_timeout().unwrap().as_millis();
        earliest = earliest.min(at);
        latest = latest.max(at);
    }
    assert!(earliest >= 3_240_000 && latest <= 3_600_000);
    assert!(
        latest - earliest > 300_000,
        "spread over most of the window"
    );
}

#[test]
fn zone_without_primaries_never_acts() {
    let config = RefreshConfig {
        primaries: 0,
        ..config()
    };
    let mut zone = ZoneRefresh::new(config, 1, t(0));
    assert_eq!(zone.poll_action(t(0)), None);
    assert_eq!(zone.poll_timeout(), None);
    assert_eq!(zone.state(t(0)), ZoneState::Loading);
}

#[test]
fn reconfigure_restarts_a_check_stranded_at_a_removed_primary() {
    let mut zone = loaded(7);
    let first = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), first.id, Err(Failure::Timeout))
        .unwrap();
    assert_eq!(
        zone.pending(),
        Some((ActionClass::SoaQuery, Priority::Background))
    );
    let one = RefreshConfig {
        primaries: 1,
        ..config()
    };
    zone.reconfigure(t(REFRESH), one);
    assert_eq!(next(&mut zone, t(REFRESH)).kind, soa_query(0));
    assert_eq!(zone.serving(), Some(ZoneVersion::new(0, 7)), "data kept");
}

#[test]
fn reconfigure_gives_a_zone_without_primaries_its_first_load() {
    let none = RefreshConfig {
        primaries: 0,
        ..config()
    };
    let mut zone = ZoneRefresh::new(none, 1, t(0));
    assert_eq!(zone.poll_action(t(5)), None);
    zone.reconfigure(t(5), config());
    assert!(matches!(
        next(&mut zone, t(5)).kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Axfr,
            ..
        }
    ));
}

#[test]
fn reconfigure_with_shorter_refresh_clamp_brings_the_check_forward() {
    let mut zone = loaded(7);
    assert_eq!(zone.poll_timeout(), Some(t(REFRESH)));
    let short = RefreshConfig {
        refresh_max: secs(600),
        ..config()
    };
    zone.reconfigure(t(100), short);
    assert_eq!(zone.poll_timeout(), Some(t(700)));
}

#[test]
fn late_install_report_for_an_action_given_up_is_adopted_if_newer() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    let lost_at = transfer.deadline + understudy_proto::refresh::DRIVER_GRACE;
    zone.handle_timeout(lost_at);
    let installed = TransferOutcome::Installed {
        soa: soa(8),
        kind: XfrKind::Ixfr,
    };
    let late = zone.handle_transfer_response(lost_at, transfer.id, installed.clone());
    assert_eq!(late, Err(ReportError::NotInFlight(transfer.id)));
    assert_eq!(
        zone.serving(),
        Some(ZoneVersion::new(0, 8)),
        "the driver serves it"
    );
    let never_issued = ActionId(10_000);
    let bogus = TransferOutcome::Installed {
        soa: soa(9),
        kind: XfrKind::Ixfr,
    };
    assert!(
        zone.handle_transfer_response(lost_at, never_issued, bogus)
            .is_err()
    );
    assert_eq!(
        zone.serving(),
        Some(ZoneVersion::new(0, 8)),
        "unknown ids change nothing"
    );
}
