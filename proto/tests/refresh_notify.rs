//! `proto::refresh::ZoneRefresh`: NOTIFY (RFC 1996) and the operator's
//! refresh and retransfer commands.

mod refresh_support;

use refresh_support::*;

#[test]
fn retransfer_forces_axfr_and_raises_epoch() {
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
    assert_eq!(zone.state(t(REFRESH)), ZoneState::SerialRegressed);
    zone.handle_retransfer_command(t(REFRESH + 5));
    let axfr = next(&mut zone, t(REFRESH + 5));
    assert_eq!(
        axfr.kind,
        ActionKind::Transfer {
            primary: 0,
            kind: TransferKind::Axfr,
            forced: true
        }
    );
    assert_eq!(axfr.priority, Priority::Urgent);
    assert_eq!(
        zone.install_version(axfr.id, 3),
        Some(ZoneVersion::new(1, 3))
    );
    install(&mut zone, t(REFRESH + 6), axfr, 3, XfrKind::Axfr);
    let status = zone.status(t(REFRESH + 6));
    assert_eq!(status.serving, Some(ZoneVersion::new(1, 3)));
    assert!(ZoneVersion::new(1, 3).is_newer_than(ZoneVersion::new(0, 100)));
    assert_eq!(status.state, ZoneState::Ok);
    assert_eq!(status.regression, None);
    assert!(!status.retransfer_pending);
    assert_eq!(status.counters.retransfers, 1);
    // Back to normal checks afterwards.
    let query = next(&mut zone, t(REFRESH + 6 + REFRESH));
    assert_eq!(query.kind, soa_query(0));
}

#[test]
fn retransfer_during_soa_query_runs_after_it() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_retransfer_command(t(REFRESH));
    assert_eq!(zone.poll_action(t(REFRESH)), None);
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(7)))
        .unwrap();
    let axfr = next(&mut zone, t(REFRESH));
    assert!(matches!(
        axfr.kind,
        ActionKind::Transfer { forced: true, .. }
    ));
}

#[test]
fn failed_retransfer_stays_pending_and_retries_forced() {
    let mut zone = loaded(7);
    zone.handle_retransfer_command(t(10));
    for _ in 0..2 {
        let axfr = next(&mut zone, t(10));
        let failed = TransferOutcome::Failed(Failure::Timeout);
        zone.handle_transfer_response(t(10), axfr.id, failed)
            .unwrap();
    }
    assert_eq!(zone.poll_action(t(10)), None, "no busy loop");
    let status = zone.status(t(10));
    assert!(status.retransfer_pending);
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 7)));
    let retry = status.next_refresh.unwrap();
    assert_eq!(retry, t(10 + RETRY));
    let axfr = next(&mut zone, retry);
    assert!(matches!(
        axfr.kind,
        ActionKind::Transfer {
            forced: true,
            primary: 0,
            ..
        }
    ));
}

#[test]
fn rfc1996_3_7_notify_starts_urgent_soa_check_at_notifying_primary() {
    let mut zone = loaded(7);
    let disposition = zone.handle_notify(t(100), Some(8), Some(1));
    assert_eq!(disposition, NotifyDisposition::CheckQueued);
    let query = next(&mut zone, t(100));
    assert_eq!(query.kind, soa_query(1));
    assert_eq!(query.priority, Priority::Urgent);
    assert_eq!(zone.status(t(100)).notified_serial, Some(Serial(8)));
    zone.handle_soa_response(t(100), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(100));
    assert_eq!(
        transfer.priority,
        Priority::Urgent,
        "the transfer inherits urgency"
    );
    assert_eq!(transfer.kind.primary(), 1);
}

#[test]
fn rfc1996_3_11_notify_without_serial_queries_soa() {
    let mut zone = loaded(7);
    assert_eq!(
        zone.handle_notify(t(100), None, None),
        NotifyDisposition::CheckQueued
    );
    assert_eq!(next(&mut zone, t(100)).kind, soa_query(0));
}

#[test]
fn rfc1996_4_7_notify_with_serial_not_newer_is_only_noted() {
    let mut zone = loaded(7);
    assert_eq!(
        zone.handle_notify(t(100), Some(7), Some(0)),
        NotifyDisposition::Noted
    );
    assert_eq!(
        zone.handle_notify(t(100), Some(6), Some(0)),
        NotifyDisposition::Noted
    );
    assert_eq!(zone.poll_action(t(100)), None);
    let status = zone.status(t(100));
    assert_eq!(status.notified_serial, Some(Serial(6)));
    assert_eq!(status.counters.notifies, 2);
}

#[test]
fn rfc1996_3_7_notify_during_refresh_is_not_lost() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    let disposition = zone.handle_notify(t(REFRESH), Some(8), Some(0));
    assert_eq!(disposition, NotifyDisposition::Deferred);
    // The query was answered before the primary's change.
    zone.handle_soa_response(t(REFRESH + 1), query.id, Ok(soa(7)))
        .unwrap();
    let again = next(&mut zone, t(REFRESH + 1));
    assert_eq!(again.kind, soa_query(0));
    assert_eq!(again.priority, Priority::Urgent);
}

#[test]
fn rfc1996_3_7_notify_during_failed_check_is_not_lost() {
    let mut zone = loaded(7);
    let first = next(&mut zone, t(REFRESH));
    zone.handle_notify(t(REFRESH), Some(8), Some(1));
    zone.handle_soa_response(t(REFRESH), first.id, Err(Failure::Timeout))
        .unwrap();
    let second = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), second.id, Err(Failure::Timeout))
        .unwrap();
    let again = next(&mut zone, t(REFRESH));
    assert_eq!(again.kind, soa_query(1), "starts at the notifying primary");
    assert_eq!(again.priority, Priority::Urgent);
}

#[test]
fn notify_for_serial_installed_meanwhile_needs_no_recheck() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    assert_eq!(
        zone.handle_notify(t(REFRESH), Some(8), Some(0)),
        NotifyDisposition::Deferred
    );
    install(&mut zone, t(REFRESH + 1), transfer, 8, XfrKind::Ixfr);
    assert_eq!(zone.poll_action(t(REFRESH + 1)), None);
    assert_eq!(zone.state(t(REFRESH + 1)), ZoneState::Ok);
}

#[test]
fn several_notifies_during_a_check_cause_one_recheck() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_notify(t(REFRESH), Some(8), Some(0));
    zone.handle_notify(t(REFRESH), Some(10), Some(0));
    zone.handle_notify(t(REFRESH), Some(9), Some(0));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(9)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    install(&mut zone, t(REFRESH), transfer, 9, XfrKind::Ixfr);
    let recheck = next(&mut zone, t(REFRESH));
    assert_eq!(recheck.kind, soa_query(0), "serial 10 was notified");
    zone.handle_soa_response(t(REFRESH), recheck.id, Ok(soa(10)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    install(&mut zone, t(REFRESH), transfer, 10, XfrKind::Ixfr);
    assert_eq!(zone.poll_action(t(REFRESH)), None);
}

#[test]
fn notify_makes_a_queued_background_check_urgent() {
    let mut zone = loaded(7);
    zone.handle_timeout(t(REFRESH));
    assert_eq!(
        zone.pending(),
        Some((ActionClass::SoaQuery, Priority::Background))
    );
    assert_eq!(
        zone.handle_notify(t(REFRESH), Some(8), Some(1)),
        NotifyDisposition::CheckQueued
    );
    assert_eq!(
        zone.pending(),
        Some((ActionClass::SoaQuery, Priority::Urgent))
    );
    assert_eq!(next(&mut zone, t(REFRESH)).kind, soa_query(1));
}

#[test]
fn refresh_command_checks_now() {
    let mut zone = loaded(7);
    zone.handle_refresh_command(t(50));
    let query = next(&mut zone, t(50));
    assert_eq!(query.kind, soa_query(0));
    assert_eq!(query.priority, Priority::Urgent);
    zone.handle_refresh_command(t(50));
    zone.handle_soa_response(t(51), query.id, Ok(soa(7)))
        .unwrap();
    assert_eq!(
        next(&mut zone, t(51)).kind,
        soa_query(0),
        "the second command was kept"
    );
}
