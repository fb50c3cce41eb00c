//! Freshness travels with the data (DESIGN.md decision 5): versions from
//! peers carry their confirmation age, and a node cut off from the primary
//! keeps its zone fresh from peers' confirmations (the fleet-wide form of
//! RFC 7314 EDNS EXPIRE).

mod replicate_support;

use replicate_support::fleet::{Fleet, soa};
use replicate_support::*;
use understudy_proto::refresh::{RefreshConfig, TransferOutcome, XfrKind, ZoneRefresh};

/// A confirmation request must be the next action: (action, peer).
fn confirm(r: &mut Replicator, now: Timestamp) -> (ReplicaAction, NodeId) {
    let action = r.poll_action(now).expect("an action is ready");
    assert!(
        matches!(action.kind, ReplicaActionKind::Confirm { .. }),
        "expected a confirmation, got {action:?}"
    );
    let peer = action.peer.clone();
    (action, peer)
}

#[test]
fn rfc7314_peer_install_inherits_the_confirmation_age() {
    let config = RefreshConfig {
        primaries: 1,
        jitter: 0.0,
        ..RefreshConfig::default()
    };
    let mut zone = ZoneRefresh::new(config, 1, s(0));
    let first = zone.poll_action(s(0)).unwrap();
    assert!(zone.install_version(first.id, 1).is_some());
    let installed = TransferOutcome::Installed {
        soa: soa(1),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(s(0), first.id, installed)
        .unwrap();
    // At t=5000 s a peer hands over 0/2, confirmed by a primary 4000 s ago.
    assert!(zone.handle_peer_install(s(5_000), v(0, 2), soa(2), secs(4_000)));
    assert_eq!(zone.verified_age(s(5_000)), Some(secs(4_000)));
    let status = zone.status(s(5_000));
    assert_eq!(status.verified_at, Some(s(1_000)));
    assert_eq!(status.expire_at, Some(s(1_000 + EXPIRE)));
    // The replicator sees the same age through LocalZone.
    let local = LocalZone::of(&zone, s(5_000));
    assert_eq!(local.serving, Some(v(0, 2)));
    assert_eq!(local.verified_age, Some(secs(4_000)));
    assert_eq!(local.timers, Some(timers()));
}

/// Node a (eu) serving 0/1, last confirmed `age` ago, its last check of
/// the primary failed, with peers b (eu) and c (us).
fn cut_off(age: u64) -> Replicator {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    join(&mut r, "c", "us", Some(80));
    let mut local = loaded(v(0, 1), secs(age));
    local.primary_reachable = false;
    r.handle_local(s(0), &zone(), local);
    r
}

#[test]
fn no_confirmation_is_asked_while_the_primary_confirms_us() {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    r.handle_local(s(0), &zone(), loaded(v(0, 1), secs(100)));
    advertise(&mut r, s(0), "b", &zone(), v(0, 1), secs(1));
    assert_eq!(r.poll_action(s(0)), None);
    // With the primary reachable, our own check gets its chance first:
    // due at refresh + min(retry, refresh / 2).
    let grace_end = REFRESH + RETRY - 100;
    assert_eq!(r.poll_timeout(s(0)), Some(s(grace_end)));
    assert_eq!(r.poll_action(s(grace_end - 1)), None);
    assert_eq!(confirm(&mut r, s(grace_end)).1, id("b"));
    // Once our check failed, due as soon as the confirmation is a refresh
    // interval old.
    let mut failing = cut_off(100);
    advertise(&mut failing, s(0), "b", &zone(), v(0, 1), secs(1));
    assert_eq!(failing.poll_action(s(REFRESH - 101)), None);
    assert_eq!(confirm(&mut failing, s(REFRESH - 100)).1, id("b"));
}

#[test]
fn the_freshest_confirmation_of_our_version_is_asked_for() {
    let mut r = cut_off(REFRESH + 10);
    advertise(&mut r, s(0), "b", &zone(), v(0, 1), secs(3_000));
    advertise(&mut r, s(0), "c", &zone(), v(0, 1), secs(60));
    let (action, peer) = confirm(&mut r, s(0));
    assert_eq!(peer, id("c"), "fresher beats nearer");
    assert_eq!(
        action.kind,
        ReplicaActionKind::Confirm {
            ours: Some(v(0, 1))
        }
    );
    let confirmed = ConfirmOutcome::Confirmed {
        version: v(0, 1),
        age: secs(60),
    };
    r.handle_confirm_result(s(1), action.id, confirmed).unwrap();
    assert_eq!(r.poll_action(s(1)), None);
    // Next due when that confirmation is a refresh interval old.
    assert_eq!(r.poll_timeout(s(1)), Some(s(1 + REFRESH - 60)));
}

#[test]
fn a_peer_no_fresher_than_us_is_not_asked() {
    let mut r = cut_off(REFRESH + 10);
    advertise(&mut r, s(0), "b", &zone(), v(0, 1), secs(REFRESH + 20));
    advertise(&mut r, s(0), "c", &zone(), v(0, 0), secs(1));
    assert_eq!(r.poll_action(s(0)), None, "b is staler, c is older");
    advertise(&mut r, s(5), "b", &zone(), v(0, 1), secs(5));
    assert_eq!(confirm(&mut r, s(5)).1, id("b"));
}

#[test]
fn confirmations_are_spaced_and_a_failure_tries_another_peer() {
    let mut r = cut_off(REFRESH + 10);
    advertise(&mut r, s(0), "b", &zone(), v(0, 1), secs(30));
    advertise(&mut r, s(0), "c", &zone(), v(0, 1), secs(60));
    let (first, peer) = confirm(&mut r, s(0));
    assert_eq!(peer, id("b"));
    r.handle_confirm_result(s(1), first.id, ConfirmOutcome::Failed(PeerFailure::Timeout))
        .unwrap();
    let (second, peer) = confirm(&mut r, s(1));
    assert_eq!(peer, id("c"));
    // c answers with a confirmation no better than ours: we stay due, but
    // the next request waits min(retry, refresh / 2).
    let stale = ConfirmOutcome::Confirmed {
        version: v(0, 1),
        age: secs(REFRESH + 100),
    };
    r.handle_confirm_result(s(2), second.id, stale).unwrap();
    assert_eq!(r.poll_action(s(2)), None);
    assert_eq!(r.poll_timeout(s(2)), Some(s(1 + RETRY)));
    assert_eq!(confirm(&mut r, s(1 + RETRY)).1, id("b"));
}

#[test]
fn a_zone_not_loaded_asks_a_peer_once_its_fetch_failed() {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    r.handle_local(s(0), &zone(), unloaded());
    advertise(&mut r, s(0), "b", &zone(), v(0, 4), secs(30));
    let (action, _, _) = fetch(&mut r, s(0));
    assert_eq!(r.poll_action(s(0)), None, "the fetch settles it");
    r.handle_fetch_result(s(1), action.id, FetchOutcome::Failed(PeerFailure::Local))
        .unwrap();
    let (ask, peer) = confirm(&mut r, s(1));
    assert_eq!(peer, id("b"));
    let said = ConfirmOutcome::Confirmed {
        version: v(0, 4),
        age: secs(31),
    };
    r.handle_confirm_result(s(2), ask.id, said).unwrap();
    assert_eq!(r.evidence(&zone(), s(2)).fresh_peer, Some(id("b")));
}

#[test]
fn a_region_cut_off_from_the_primary_stays_fresh_while_the_fleet_confirms() {
    let layout = [
        ("eu-1", "eu"),
        ("eu-2", "eu"),
        ("us-1", "us"),
        ("us-2", "us"),
    ];
    let mut fleet = Fleet::new(&layout, ReplicateConfig::default(), 1);
    fleet.health_every = secs(60);
    fleet.nodes[2].reaches_primary = false;
    fleet.nodes[3].reaches_primary = false;
    fleet.run_until(s(5 * EXPIRE), |_| false);
    for node in &fleet.nodes {
        assert_eq!(node.unfresh_evaluations, 0, "{} expired", node.id);
        assert_eq!(node.withdrawals, 0, "{} withdrew", node.id);
        assert!(node.health.is_healthy(), "{}", node.id);
    }
    assert!(
        fleet.nodes[2].confirms >= 5 * 24 - 5,
        "about one per refresh"
    );
    assert!(fleet.nodes[3].confirms >= 5 * 24 - 5);
    assert_eq!(fleet.nodes[0].confirms, 0, "the primary confirms eu");
    let age = fleet.nodes[2].refresh.verified_age(fleet.now).unwrap();
    assert!(age < secs(REFRESH + RETRY), "inherited age {age:?}");
}

#[test]
fn without_peer_confirmations_a_cut_off_region_expires() {
    // The control for the test above: no peer to confirm from.
    let layout = [("us-1", "us"), ("us-2", "us")];
    let mut fleet = Fleet::new(&layout, ReplicateConfig::default(), 1);
    for node in fleet.nodes.iter_mut() {
        node.reaches_primary = false;
    }
    fleet.run_until(s(EXPIRE - 1), |_| false);
    assert_eq!(
        fleet.nodes[0].refresh.freshness(fleet.now),
        Freshness::Fresh
    );
    fleet.run_until(s(EXPIRE + 60), |_| false);
    for node in &fleet.nodes {
        assert_eq!(node.refresh.freshness(fleet.now), Freshness::Expired);
    }
}
