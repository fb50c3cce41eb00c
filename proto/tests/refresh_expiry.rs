//! `proto::refresh::ZoneRefresh`: expiry from verified-at (RFC 1035 §4.3.5,
//! DESIGN.md decision 5), the three expiry policies, and confirmations.

mod refresh_support;

use refresh_support::*;

#[test]
fn rfc1035_4_3_5_expiry_counts_from_verified_at() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(7)))
        .unwrap();
    // The primaries go dark: every later check fails.
    let expire_at = t(REFRESH + EXPIRE);
    let mut now = t(REFRESH);
    while let Some(wake) = zone.poll_timeout().filter(|wake| *wake < expire_at) {
        now = wake;
        zone.handle_timeout(now);
        while let Some(action) = zone.poll_action(now) {
            zone.handle_soa_response(now, action.id, Err(Failure::Timeout))
                .unwrap();
        }
        assert_eq!(zone.freshness(now), Freshness::Fresh);
    }
    while zone.poll_event().is_some() {}
    assert_eq!(
        zone.poll_timeout(),
        Some(expire_at),
        "expiry is a timer too"
    );
    zone.handle_timeout(expire_at);
    assert_eq!(zone.freshness(expire_at), Freshness::Expired);
    assert_eq!(zone.state(expire_at), ZoneState::Expired);
    assert!(events(&mut zone).contains(&EventKind::StateChanged {
        from: ZoneState::Retrying,
        to: ZoneState::Expired
    }));
    assert!(now < expire_at);
    // The retry timer falls on the same second here; its check fails too.
    while let Some(action) = zone.poll_action(expire_at) {
        zone.handle_soa_response(expire_at, action.id, Err(Failure::Timeout))
            .unwrap();
    }
    assert!(zone.poll_timeout().unwrap() > expire_at);
    assert_eq!(zone.state(expire_at), ZoneState::Expired);
}

fn expired_zone(policy: ExpiryPolicy) -> (ZoneRefresh, Timestamp) {
    let mut zone = loaded_with(
        RefreshConfig {
            expiry_policy: policy,
            primaries: 1,
            ..config()
        },
        7,
    );
    let now = t(EXPIRE + 1);
    zone.handle_timeout(now);
    if let Some(action) = zone.poll_action(now) {
        zone.handle_soa_response(now, action.id, Err(Failure::Timeout))
            .unwrap();
    }
    (zone, now)
}

#[test]
fn rfc1035_4_3_5_policy_rfc_stops_answering() {
    let (zone, now) = expired_zone(ExpiryPolicy::Rfc);
    assert_eq!(zone.freshness(now), Freshness::Expired);
    assert_eq!(zone.state(now), ZoneState::Expired);
}

#[test]
fn policy_serve_stale_keeps_answering_marked_stale() {
    let (zone, now) = expired_zone(ExpiryPolicy::ServeStale);
    assert_eq!(zone.freshness(now), Freshness::Stale);
    assert_eq!(zone.state(now), ZoneState::Stale);
}

#[test]
fn policy_never_keeps_answering_fresh_but_flagged() {
    let (zone, now) = expired_zone(ExpiryPolicy::Never);
    assert_eq!(zone.freshness(now), Freshness::Fresh);
    assert_eq!(zone.state(now), ZoneState::Stale);
}

#[test]
fn successful_check_after_expiry_unexpires() {
    let (mut zone, now) = expired_zone(ExpiryPolicy::Rfc);
    zone.handle_refresh_command(now);
    let query = next(&mut zone, now);
    zone.handle_soa_response(now, query.id, Ok(soa(7))).unwrap();
    assert_eq!(zone.freshness(now), Freshness::Fresh);
    assert_eq!(zone.state(now), ZoneState::Ok);
    assert!(events(&mut zone).contains(&EventKind::StateChanged {
        from: ZoneState::Expired,
        to: ZoneState::Ok
    }));
}

#[test]
fn confirmation_moves_verified_at_forward_only() {
    let mut zone = loaded(7);
    let now = t(1_000);
    assert!(
        !zone.handle_confirmation(now, ZoneVersion::new(0, 8), secs(10)),
        "other serial"
    );
    assert!(
        !zone.handle_confirmation(now, ZoneVersion::new(1, 7), secs(10)),
        "other epoch"
    );
    assert!(
        !zone.handle_confirmation(now, ZoneVersion::new(0, 7), secs(1_001)),
        "older"
    );
    assert!(zone.handle_confirmation(now, ZoneVersion::new(0, 7), secs(100)));
    let status = zone.status(now);
    assert_eq!(status.verified_at, Some(t(900)));
    assert_eq!(status.expire_at, Some(t(900 + EXPIRE)));
    assert!(!zone.handle_confirmation(now, ZoneVersion::new(0, 7), secs(200)));
    assert_eq!(zone.status(now).verified_at, Some(t(900)));
}

#[test]
fn confirmation_unexpires_an_expired_zone() {
    let (mut zone, now) = expired_zone(ExpiryPolicy::Rfc);
    assert!(zone.handle_confirmation(now, ZoneVersion::new(0, 7), secs(5)));
    assert_eq!(zone.freshness(now), Freshness::Fresh);
}

#[test]
fn peer_version_newer_is_installed_with_its_confirmation_age() {
    let mut zone = loaded(7);
    let now = t(5_000);
    assert!(zone.accepts_version(ZoneVersion::new(0, 8)));
    assert!(!zone.accepts_version(ZoneVersion::new(0, 7)));
    assert!(!zone.accepts_version(ZoneVersion::new(0, 6)));
    assert!(!zone.handle_peer_install(now, ZoneVersion::new(0, 6), soa(6), secs(1)));
    assert!(
        !zone.handle_peer_install(now, ZoneVersion::new(0, 8), soa(9), secs(1)),
        "SOA and version disagree"
    );
    assert!(zone.handle_peer_install(now, ZoneVersion::new(0, 8), soa(8), secs(30)));
    let status = zone.status(now);
    assert_eq!(status.serving, Some(ZoneVersion::new(0, 8)));
    assert_eq!(status.verified_at, Some(t(4_970)));
    assert_eq!(status.expire_at, Some(t(4_970 + EXPIRE)));
    assert_eq!(
        status.next_refresh,
        Some(t(REFRESH)),
        "primaries still polled on time"
    );
}

#[test]
fn peer_version_in_a_higher_epoch_is_followed_and_clears_regression() {
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
    let reset = ZoneVersion::new(1, 3);
    assert!(zone.handle_peer_install(t(REFRESH + 1), reset, soa(3), secs(2)));
    assert_eq!(zone.serving(), Some(reset));
    assert_eq!(zone.state(t(REFRESH + 1)), ZoneState::Ok);
    // The primary at 3 now confirms the fleet's version.
    zone.handle_refresh_command(t(REFRESH + 2));
    let query = next(&mut zone, t(REFRESH + 2));
    zone.handle_soa_response(t(REFRESH + 2), query.id, Ok(soa(3)))
        .unwrap();
    assert_eq!(
        zone.status(t(REFRESH + 2)).last_result,
        Some(RefreshResult::Verified)
    );
}

#[test]
fn peer_version_before_first_load_turns_the_axfr_into_an_soa_check() {
    let mut zone = ZoneRefresh::new(config(), 1, t(0));
    assert!(zone.handle_peer_install(t(1), ZoneVersion::new(0, 5), soa(5), secs(0)));
    assert_eq!(zone.freshness(t(1)), Freshness::Fresh);
    assert_eq!(
        next(&mut zone, t(1)).kind,
        ActionKind::QuerySoa { primary: 0 }
    );
}

#[test]
fn transfer_in_flight_cannot_undo_a_peer_version() {
    let mut zone = loaded(7);
    let query = next(&mut zone, t(REFRESH));
    zone.handle_soa_response(t(REFRESH), query.id, Ok(soa(8)))
        .unwrap();
    let transfer = next(&mut zone, t(REFRESH));
    assert!(zone.handle_peer_install(t(REFRESH), ZoneVersion::new(0, 9), soa(9), secs(0)));
    assert_eq!(zone.install_version(transfer.id, 8), None);
}
