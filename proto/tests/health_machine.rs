//! `proto::health::Health`: when a node withdraws its anycast route
//! (DESIGN.md decision 8), with rise / fall hysteresis.

mod replicate_support;

use replicate_support::fleet::Fleet;
use replicate_support::*;

fn fresh(zone: &str) -> ZoneHealth {
    ZoneHealth {
        zone: name(zone),
        freshness: Freshness::Fresh,
        loaded: true,
        fleet: FleetEvidence::default(),
    }
}

fn expired_while(zone: &str, peer: Option<&str>) -> ZoneHealth {
    ZoneHealth {
        freshness: Freshness::Expired,
        fleet: FleetEvidence {
            fresh_peer: peer.map(id),
            lag: None,
        },
        ..fresh(zone)
    }
}

fn lagging(zone: &str, since: Timestamp) -> ZoneHealth {
    ZoneHealth {
        fleet: FleetEvidence {
            fresh_peer: None,
            lag: Some(Lag {
                since,
                behind: v(0, 9),
            }),
        },
        ..fresh(zone)
    }
}

/// A machine with rise 2, fall 3, max lag 60 s that turned healthy at t=2.
fn healthy() -> Health {
    let config = HealthConfig {
        rise: 2,
        fall: 3,
        max_lag: secs(60),
    };
    let mut health = Health::new(config, s(0));
    assert!(!health.evaluate(s(1), false, [fresh("a.")]));
    assert!(health.evaluate(s(2), false, [fresh("a.")]));
    assert!(health.is_healthy());
    health
}

#[test]
fn a_node_starts_unhealthy_and_rises_after_rise_clean_evaluations() {
    let mut health = Health::new(HealthConfig::default(), s(0));
    assert!(!health.is_healthy());
    assert_eq!(health.status().reason, Some(Reason::Starting));
    for second in 1..3 {
        assert!(!health.evaluate(s(second), false, [fresh("a.")]));
        assert_eq!(health.status().streak, second as u32);
    }
    assert!(health.evaluate(s(3), false, [fresh("a.")]));
    assert!(health.is_healthy());
    assert_eq!(health.status().since, s(3));
    assert_eq!(health.status().reason, None);
}

#[test]
fn a_drain_withdraws_at_once_and_an_undrain_rises_with_hysteresis() {
    let mut health = healthy();
    assert!(health.evaluate(s(3), true, [fresh("a.")]));
    assert!(!health.is_healthy());
    assert_eq!(health.status().reason, Some(Reason::Drained));
    assert_eq!(
        health.status().reason.as_ref().unwrap().to_string(),
        "drained"
    );
    assert!(!health.evaluate(s(4), false, [fresh("a.")]));
    assert!(health.evaluate(s(5), false, [fresh("a.")]));
}

#[test]
fn expired_here_while_a_peer_serves_it_fresh_withdraws_after_fall() {
    let mut health = healthy();
    let bad = || [fresh("a."), expired_while("b.", Some("ams-2"))];
    assert!(!health.evaluate(s(3), false, bad()));
    assert!(!health.evaluate(s(4), false, bad()));
    assert!(health.is_healthy(), "two bad evaluations are not enough");
    assert!(health.status().pending.is_some());
    assert!(health.evaluate(s(5), false, bad()));
    assert!(!health.is_healthy());
    let reason = health.status().reason.clone().unwrap();
    assert_eq!(
        reason,
        Reason::Expired {
            zone: name("b."),
            peer: id("ams-2")
        }
    );
    assert_eq!(
        reason.to_string(),
        "zone b. expired here while ams-2 serves it fresh"
    );
    assert_eq!(health.status().problem_zones, 1);
}

#[test]
fn hysteresis_ignores_a_single_bad_evaluation() {
    let mut health = healthy();
    let bad = [expired_while("b.", Some("ams-2"))];
    for second in 3..20 {
        // Bad, bad, good, repeated: never three in a row.
        let withdrawn = match second % 3 {
            2 => health.evaluate(s(second), false, [fresh("b.")]),
            _ => health.evaluate(s(second), false, bad.clone()),
        };
        assert!(!withdrawn);
        assert!(health.is_healthy());
    }
}

#[test]
fn an_unhealthy_node_needs_rise_clean_evaluations_in_a_row() {
    let mut health = healthy();
    for second in 3..6 {
        health.evaluate(s(second), false, [expired_while("b.", Some("p"))]);
    }
    assert!(!health.is_healthy());
    assert!(!health.evaluate(s(6), false, [fresh("b.")]));
    assert!(!health.evaluate(s(7), false, [expired_while("b.", Some("p"))]));
    assert!(!health.evaluate(s(8), false, [fresh("b.")]));
    assert!(health.evaluate(s(9), false, [fresh("b.")]));
}

#[test]
fn an_expiry_no_peer_is_spared_does_not_withdraw() {
    let mut health = healthy();
    for second in 3..20 {
        let shared = [expired_while("b.", None), fresh("a.")];
        assert!(!health.evaluate(s(second), false, shared));
    }
    assert!(health.is_healthy());
}

#[test]
fn not_loaded_while_a_peer_serves_it_is_a_reason_at_start() {
    let mut health = Health::new(HealthConfig::default(), s(0));
    let loading = ZoneHealth {
        loaded: false,
        ..expired_while("new.", Some("fra-1"))
    };
    for second in 1..10 {
        health.evaluate(s(second), false, [loading.clone()]);
    }
    assert!(!health.is_healthy());
    assert_eq!(
        health.status().reason,
        Some(Reason::NotLoaded {
            zone: name("new."),
            peer: id("fra-1")
        })
    );
}

#[test]
fn stale_here_while_a_peer_serves_it_fresh_withdraws() {
    let mut health = healthy();
    let stale = ZoneHealth {
        freshness: Freshness::Stale,
        ..expired_while("b.", Some("p"))
    };
    for second in 3..6 {
        health.evaluate(s(second), false, [stale.clone()]);
    }
    assert!(matches!(health.status().reason, Some(Reason::Stale { .. })));
}

#[test]
fn lagging_a_verified_version_longer_than_the_bound_withdraws() {
    let mut health = healthy();
    // Lagging since t=10: within the 60 s bound until t=70.
    for second in [20, 40, 70] {
        assert!(!health.evaluate(s(second), false, [lagging("b.", s(10))]));
    }
    assert!(health.status().pending.is_none(), "60 s is still within");
    for second in [71, 72] {
        assert!(!health.evaluate(s(second), false, [lagging("b.", s(10))]));
    }
    assert!(health.evaluate(s(73), false, [lagging("b.", s(10))]));
    let Some(Reason::Lagging { behind, lag, .. }) = health.status().reason.clone() else {
        panic!("lagging expected: {:?}", health.status());
    };
    assert_eq!(behind, v(0, 9));
    assert_eq!(lag, secs(63));
}

#[test]
fn a_fleet_wide_expiry_withdraws_nobody() {
    let layout = [
        ("eu-1", "eu"),
        ("eu-2", "eu"),
        ("us-1", "us"),
        ("us-2", "us"),
    ];
    let mut fleet = Fleet::new(&layout, ReplicateConfig::default(), 1);
    fleet.health_every = secs(60);
    // Everyone confirms for a while, at different times; then the primary
    // goes away for good.
    fleet.run_until(s(3 * REFRESH), |_| false);
    assert!(fleet.nodes.iter().all(|node| node.health.is_healthy()));
    fleet.primary_up = false;
    fleet.run_until(s(3 * REFRESH + 2 * EXPIRE), |_| false);
    for node in &fleet.nodes {
        assert_eq!(
            node.refresh.freshness(fleet.now),
            Freshness::Expired,
            "{} expired under policy rfc",
            node.id
        );
        assert_eq!(node.withdrawals, 0, "{} withdrew", node.id);
        assert!(node.health.is_healthy(), "{}", node.id);
    }
}
