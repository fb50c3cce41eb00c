//! `proto::replicate::Replicator`: choosing the peer to fetch a newer zone
//! version from (DESIGN.md decision 7).

mod replicate_support;

use replicate_support::*;

/// Node "a" in eu serving 0/1 of example.com, with peers placed by `peers`.
fn eu_node(peers: &[(&str, &str, Option<u64>)]) -> Replicator {
    let mut r = replicator("a", "eu");
    for (who, region, rtt) in peers {
        join(&mut r, who, region, *rtt);
    }
    r.handle_local(ms(0), &zone(), loaded(v(0, 1), secs(10)));
    r
}

#[test]
fn same_region_peer_is_preferred_over_a_nearer_other_region() {
    let mut r = eu_node(&[("b", "us", Some(5)), ("c", "eu", Some(50))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 2), secs(1));
    let (action, peer, want) = fetch(&mut r, ms(0));
    assert_eq!(peer, id("c"));
    assert_eq!(want, v(0, 2));
    assert_eq!(
        action.kind,
        ReplicaActionKind::Fetch {
            want: v(0, 2),
            have: Some(v(0, 1))
        }
    );
}

#[test]
fn other_regions_are_ordered_by_round_trip() {
    let mut r = eu_node(&[
        ("x", "asia", Some(200)),
        ("y", "us", Some(120)),
        ("z", "us", Some(80)),
        ("w", "africa", None),
    ]);
    for who in ["x", "y", "w"] {
        advertise(&mut r, ms(0), who, &zone(), v(0, 2), secs(1));
    }
    // "us" is 80 ms away through z (which lacks the zone), so its y goes
    // before asia's x, and the unmeasured region comes last.
    let (_, peer, _) = fetch(&mut r, ms(0));
    assert_eq!(peer, id("y"));
    let mut second = eu_node(&[("x", "asia", Some(200)), ("w", "africa", None)]);
    for who in ["x", "w"] {
        advertise(&mut second, ms(0), who, &zone(), v(0, 2), secs(1));
    }
    assert_eq!(fetch(&mut second, ms(0)).1, id("x"));
}

#[test]
fn dead_peers_are_never_sources() {
    let mut r = eu_node(&[("b", "eu", Some(1)), ("c", "us", Some(90))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 2), secs(1));
    r.handle_liveness(ms(0), &id("b"), Liveness::Dead);
    assert_eq!(fetch(&mut r, ms(0)).1, id("c"));

    let mut alone = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut alone, ms(0), "b", &zone(), v(0, 2), secs(1));
    alone.handle_liveness(ms(0), &id("b"), Liveness::Dead);
    assert_eq!(alone.poll_action(ms(0)), None);
    alone.handle_liveness(ms(5), &id("b"), Liveness::Alive);
    assert_eq!(fetch(&mut alone, ms(5)).1, id("b"));
}

#[test]
fn a_failing_peer_is_backed_off_exponentially_per_zone() {
    let mut r = eu_node(&[("b", "eu", Some(1)), ("c", "us", Some(90))]);
    let other = name("example.net.");
    r.handle_local(ms(0), &other, loaded(v(0, 1), secs(10)));
    for z in [zone(), other.clone()] {
        advertise(&mut r, ms(0), "b", &z, v(0, 2), secs(1));
    }
    advertise(&mut r, ms(0), "c", &zone(), v(0, 2), secs(1));
    let actions = drain(&mut r, ms(0));
    assert_eq!(actions.len(), 2, "one fetch for each zone: {actions:?}");
    assert!(actions.iter().all(|action| action.peer == id("b")));
    let first = actions.iter().find(|a| a.zone == zone()).unwrap();
    r.handle_fetch_result(
        ms(100),
        first.id,
        FetchOutcome::Failed(PeerFailure::Timeout),
    )
    .unwrap();
    // b is avoided for example.com only; c, further away, is asked.
    let (retry, peer, _) = fetch(&mut r, ms(100));
    assert_eq!(peer, id("c"));
    assert!(r.is_backed_off(&id("b"), &zone(), ms(100)));
    assert!(!r.is_backed_off(&id("b"), &other, ms(100)));
    r.handle_fetch_result(
        ms(200),
        retry.id,
        FetchOutcome::Failed(PeerFailure::Network),
    )
    .unwrap();
    assert_eq!(r.poll_action(ms(200)), None, "both sources backed off");
    // b's first backoff (1 s) ends first.
    assert_eq!(r.poll_timeout(ms(200)), Some(ms(1_100)));
    let (again, peer, _) = fetch(&mut r, ms(1_100));
    assert_eq!(peer, id("b"));
    r.handle_fetch_result(
        ms(1_200),
        again.id,
        FetchOutcome::Failed(PeerFailure::Timeout),
    )
    .unwrap();
    let backoff = r.backoff(&id("b"), &zone()).unwrap();
    assert_eq!(backoff.failures, 2);
    assert_eq!(backoff.until, ms(3_200), "doubled to 2 s");
}

#[test]
fn backoff_is_bounded_and_a_success_forgets_it() {
    let config = ReplicateConfig {
        backoff_max: secs(4),
        ..ReplicateConfig::default()
    };
    let mut r = Replicator::new(config, id("a"), "eu");
    join(&mut r, "b", "eu", Some(1));
    r.handle_local(ms(0), &zone(), loaded(v(0, 1), secs(10)));
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let mut now = ms(0);
    let mut waits = Vec::new();
    for _ in 0..5 {
        let (action, _, _) = fetch(&mut r, now);
        r.handle_fetch_result(now, action.id, FetchOutcome::Failed(PeerFailure::Refused))
            .unwrap();
        let until = r.backoff(&id("b"), &zone()).unwrap().until;
        waits.push(until.since(now).as_secs());
        now = until;
    }
    assert_eq!(waits, [1, 2, 4, 4, 4]);
    let (action, _, _) = fetch(&mut r, now);
    let installed = FetchOutcome::Installed {
        version: v(0, 2),
        age: secs(3),
    };
    r.handle_fetch_result(now, action.id, installed).unwrap();
    assert_eq!(r.backoff(&id("b"), &zone()), None);
}

#[test]
fn corrupt_data_backs_the_peer_off_for_the_longest_time() {
    let mut r = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let (action, _, _) = fetch(&mut r, ms(0));
    r.handle_fetch_result(
        ms(10),
        action.id,
        FetchOutcome::Failed(PeerFailure::Corrupt),
    )
    .unwrap();
    let max = ReplicateConfig::default().backoff_max;
    assert_eq!(r.backoff(&id("b"), &zone()).unwrap().until, ms(10) + max);
}

#[test]
fn a_local_store_failure_waits_without_blaming_the_peer() {
    let mut r = eu_node(&[("b", "eu", Some(1)), ("c", "eu", Some(2))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 2), secs(1));
    let (action, peer, _) = fetch(&mut r, ms(0));
    r.handle_fetch_result(ms(10), action.id, FetchOutcome::Failed(PeerFailure::Local))
        .unwrap();
    assert_eq!(r.backoff(&peer, &zone()), None);
    assert!(r.backoff(&id("a"), &zone()).is_some());
    assert_eq!(r.poll_action(ms(10)), None, "no busy loop on a full disk");
    assert_eq!(fetch(&mut r, ms(1_010)).1, peer, "the same peer afterwards");
}

#[test]
fn at_most_one_fetch_per_zone_and_a_bounded_number_overall() {
    let config = ReplicateConfig {
        max_fetches: 3,
        ..ReplicateConfig::default()
    };
    let mut r = Replicator::new(config, id("a"), "eu");
    join(&mut r, "b", "eu", Some(1));
    join(&mut r, "c", "eu", Some(2));
    let zones: Vec<Name> = (0..10).map(|i| name(&format!("z{i}.example."))).collect();
    for z in &zones {
        r.handle_local(ms(0), z, loaded(v(0, 1), secs(10)));
        advertise(&mut r, ms(0), "b", z, v(0, 2), secs(1));
        advertise(&mut r, ms(0), "c", z, v(0, 3), secs(1));
    }
    let first = drain(&mut r, ms(0));
    assert_eq!(first.len(), 3);
    let mut zones_fetched: Vec<&Name> = first.iter().map(|a| &a.zone).collect();
    zones_fetched.dedup();
    assert_eq!(zones_fetched.len(), 3, "three different zones");
    assert_eq!(r.load(), (3, 0));
    let done = FetchOutcome::Installed {
        version: v(0, 3),
        age: secs(1),
    };
    r.handle_fetch_result(ms(5), first[0].id, done).unwrap();
    let next = drain(&mut r, ms(5));
    assert_eq!(next.len(), 1);
    assert!(!first.iter().any(|a| a.zone == next[0].zone));
    // Nothing more for the installed zone: it serves the newest version.
    assert_eq!(
        r.in_flight(&first[0].zone),
        Vec::<ReplicaAction>::new(),
        "installed zone needs nothing"
    );
}

#[test]
fn the_newest_advertised_version_is_fetched_epoch_first() {
    let mut r = eu_node(&[
        ("b", "eu", Some(1)),
        ("c", "us", Some(90)),
        ("d", "asia", Some(200)),
    ]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 3), secs(1));
    let (_, peer, want) = fetch(&mut r, ms(0));
    assert_eq!((peer, want), (id("c"), v(0, 3)));

    let mut r = eu_node(&[("b", "eu", Some(1)), ("d", "asia", Some(200))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 3_000_000), secs(1));
    advertise(&mut r, ms(0), "d", &zone(), v(1, 5), secs(1));
    let (_, peer, want) = fetch(&mut r, ms(0));
    assert_eq!((peer, want), (id("d"), v(1, 5)), "a higher epoch wins");
}

#[test]
fn rfc1982_older_or_equal_versions_are_never_fetched() {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    join(&mut r, "c", "eu", Some(1));
    join(&mut r, "d", "eu", Some(1));
    r.handle_local(ms(0), &zone(), loaded(v(1, 10), secs(10)));
    advertise(&mut r, ms(0), "b", &zone(), v(1, 10), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 20), secs(1));
    // 10 + 2^31 is exactly half the serial space away: undefined, not newer.
    advertise(&mut r, ms(0), "d", &zone(), v(1, 10 + (1 << 31)), secs(1));
    assert_eq!(r.poll_action(ms(0)), None);
    // Wrapping around 2^32 is newer (RFC 1982 §3.2).
    let mut wrap = replicator("a", "eu");
    join(&mut wrap, "b", "eu", Some(1));
    wrap.handle_local(ms(0), &zone(), loaded(v(0, u32::MAX), secs(10)));
    advertise(&mut wrap, ms(0), "b", &zone(), v(0, 3), secs(1));
    assert_eq!(fetch(&mut wrap, ms(0)).2, v(0, 3));
}

#[test]
fn nothing_loaded_fetches_whatever_a_peer_has() {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "us", Some(80));
    r.handle_local(ms(0), &zone(), unloaded());
    advertise(&mut r, ms(0), "b", &zone(), v(0, 7), secs(1));
    let (action, peer, want) = fetch(&mut r, ms(0));
    assert_eq!((peer, want), (id("b"), v(0, 7)));
    assert_eq!(
        action.kind,
        ReplicaActionKind::Fetch {
            want: v(0, 7),
            have: None
        }
    );
}

#[test]
fn a_restarted_member_is_forgotten_until_it_advertises_again() {
    let mut r = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let (action, _, _) = fetch(&mut r, ms(0));
    r.handle_fetch_result(ms(1), action.id, FetchOutcome::Failed(PeerFailure::Network))
        .unwrap();
    let restarted = MemberInfo {
        id: id("b"),
        generation: 2,
        region: "eu".into(),
    };
    r.handle_member(ms(2), restarted);
    assert_eq!(r.backoff(&id("b"), &zone()), None, "a new process");
    assert_eq!(r.poll_action(ms(2)), None, "its old adverts are gone");
    let old = Advert {
        version: v(0, 2),
        confirmed_age: None,
        primary_reachable: true,
    };
    assert!(!r.handle_advert(ms(3), &id("b"), 1, &zone(), Some(old)));
    assert!(r.handle_advert(ms(3), &id("b"), 2, &zone(), Some(old)));
    assert_eq!(fetch(&mut r, ms(3)).1, id("b"));
}

#[test]
fn a_fetch_not_reported_by_its_deadline_counts_as_a_timeout() {
    let mut r = eu_node(&[("b", "eu", Some(1)), ("c", "eu", Some(2))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    advertise(&mut r, ms(0), "c", &zone(), v(0, 2), secs(1));
    let (action, first, _) = fetch(&mut r, ms(0));
    assert_eq!(r.poll_action(ms(0)), None);
    let lost = r.poll_timeout(ms(0)).unwrap();
    assert!(lost > action.deadline, "the driver's grace comes first");
    let (_, second, _) = fetch(&mut r, lost);
    assert_ne!(first, second);
    assert!(r.is_backed_off(&first, &zone(), lost));
    assert_eq!(
        r.handle_fetch_result(lost, action.id, FetchOutcome::Superseded),
        Err(ReplicaReportError::NotInFlight(action.id))
    );
}

#[test]
fn reports_must_match_an_action_in_flight() {
    let mut r = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let (action, _, _) = fetch(&mut r, ms(0));
    let confirmed = ConfirmOutcome::Confirmed {
        version: v(0, 2),
        age: secs(1),
    };
    assert_eq!(
        r.handle_confirm_result(ms(1), action.id, confirmed),
        Err(ReplicaReportError::WrongKind(action.id))
    );
    r.handle_fetch_result(ms(1), action.id, FetchOutcome::Superseded)
        .unwrap();
    assert_eq!(
        r.handle_fetch_result(ms(1), action.id, FetchOutcome::Superseded),
        Err(ReplicaReportError::NotInFlight(action.id))
    );
}

#[test]
fn a_superseded_fetch_does_not_back_the_peer_off() {
    let mut r = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let (action, _, _) = fetch(&mut r, ms(0));
    r.handle_fetch_result(ms(1), action.id, FetchOutcome::Superseded)
        .unwrap();
    assert_eq!(r.backoff(&id("b"), &zone()), None);
    // The refresh machine installed 0/2 from the primary meanwhile.
    r.handle_local(ms(1), &zone(), loaded(v(0, 2), secs(0)));
    assert_eq!(r.poll_action(ms(1)), None);
}

#[test]
fn zones_take_turns_when_slots_are_scarce() {
    let config = ReplicateConfig {
        max_fetches: 1,
        ..ReplicateConfig::default()
    };
    let mut r = Replicator::new(config, id("a"), "eu");
    join(&mut r, "b", "eu", Some(1));
    let zones: Vec<Name> = (0..3).map(|i| name(&format!("z{i}.example."))).collect();
    for z in &zones {
        r.handle_local(ms(0), z, loaded(v(0, 1), secs(10)));
        advertise(&mut r, ms(0), "b", z, v(0, 2), secs(1));
    }
    let mut order = Vec::new();
    for step in 0..3 {
        let (action, _, _) = fetch(&mut r, ms(step));
        order.push(action.zone.clone());
        // A peer that keeps refusing would otherwise keep the first zone
        // in front; turns go round.
        r.handle_fetch_result(ms(step), action.id, FetchOutcome::Superseded)
            .unwrap();
    }
    assert_eq!(order, zones);
}

#[test]
fn removed_zone_drops_its_actions() {
    let mut r = eu_node(&[("b", "eu", Some(1))]);
    advertise(&mut r, ms(0), "b", &zone(), v(0, 2), secs(1));
    let (action, _, _) = fetch(&mut r, ms(0));
    r.remove_zone(&zone());
    assert_eq!(r.load(), (0, 0));
    assert_eq!(
        r.handle_fetch_result(ms(1), action.id, FetchOutcome::Superseded),
        Err(ReplicaReportError::NotInFlight(action.id))
    );
    assert_eq!(r.poll_action(ms(1)), None);
}
