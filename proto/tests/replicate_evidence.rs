//! The fleet's side of health: which statements count as evidence that a
//! peer serves a zone fresh, or that we lag a verified newer version.
//! Gossip alone never does (DESIGN.md decision 6).

mod replicate_support;

use replicate_support::*;

/// Node a (eu) serving 0/1 with peers b (eu) and c (us).
fn node() -> Replicator {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    join(&mut r, "c", "us", Some(80));
    r.handle_local(s(0), &zone(), loaded(v(0, 1), secs(10)));
    r
}

/// The primary's SOA showed `version` (our epoch).
fn primary_shows(r: &mut Replicator, now: Timestamp, version: ZoneVersion) {
    let mut local = loaded(v(0, 1), secs(10));
    local.primary_version = Some(version);
    r.handle_local(now, &zone(), local);
}

/// Makes `who` state `version`, confirmed `age` ago, in answer to our
/// confirmation request.
fn peer_states(r: &mut Replicator, now: Timestamp, who: &str, version: ZoneVersion, age: u64) {
    let mut local = loaded(v(0, 1), secs(REFRESH + 10));
    local.primary_reachable = false;
    r.handle_local(now, &zone(), local);
    advertise(r, now, who, &zone(), version, secs(age));
    let action = std::iter::from_fn(|| r.poll_action(now))
        .find(|action| {
            action.peer == id(who) && matches!(action.kind, ReplicaActionKind::Confirm { .. })
        })
        .expect("a confirmation request to that peer");
    let said = ConfirmOutcome::Confirmed {
        version,
        age: secs(age),
    };
    r.handle_confirm_result(now, action.id, said).unwrap();
}

#[test]
fn gossip_alone_is_no_evidence() {
    let mut r = node();
    advertise(&mut r, s(0), "b", &zone(), v(0, 5), secs(1));
    let evidence = r.evidence(&zone(), s(100));
    assert_eq!(evidence, FleetEvidence::default());
}

#[test]
fn the_primary_showing_a_version_the_fleet_has_starts_the_lag() {
    let mut r = node();
    primary_shows(&mut r, s(5), v(0, 3));
    assert_eq!(r.evidence(&zone(), s(5)).lag, None, "nobody has it yet");
    advertise(&mut r, s(8), "c", &zone(), v(0, 3), secs(1));
    let lag = r.evidence(&zone(), s(9)).lag.unwrap();
    assert_eq!((lag.since, lag.behind), (s(8), v(0, 3)));
    // A newer one keeps the start of the lag.
    primary_shows(&mut r, s(20), v(0, 4));
    advertise(&mut r, s(21), "c", &zone(), v(0, 4), secs(1));
    let lag = r.evidence(&zone(), s(21)).lag.unwrap();
    assert_eq!((lag.since, lag.behind), (s(8), v(0, 4)));
    // Installing it ends the lag.
    r.handle_local(s(30), &zone(), loaded(v(0, 4), secs(0)));
    assert_eq!(r.evidence(&zone(), s(30)).lag, None);
}

#[test]
fn a_peer_confirming_a_newer_version_over_quic_is_a_lag() {
    let mut r = node();
    peer_states(&mut r, s(50), "c", v(0, 2), 30);
    let evidence = r.evidence(&zone(), s(60));
    assert_eq!(
        evidence.lag.map(|lag| (lag.since, lag.behind)),
        Some((s(50), v(0, 2)))
    );
    assert_eq!(evidence.fresh_peer, Some(id("c")));
    // The peer dies: its word no longer counts.
    r.handle_liveness(s(61), &id("c"), Liveness::Dead);
    assert_eq!(r.evidence(&zone(), s(61)), FleetEvidence::default());
}

#[test]
fn a_peer_is_fresh_until_its_confirmation_is_older_than_expire() {
    let mut r = node();
    peer_states(&mut r, s(0), "b", v(0, 1), 100);
    assert_eq!(
        r.evidence(&zone(), s(EXPIRE - 101)).fresh_peer,
        Some(id("b"))
    );
    assert_eq!(r.evidence(&zone(), s(EXPIRE - 100)).fresh_peer, None);
}

#[test]
fn a_restarted_peer_must_state_it_again() {
    let mut r = node();
    peer_states(&mut r, s(0), "b", v(0, 1), 100);
    let restarted = MemberInfo {
        id: id("b"),
        generation: 2,
        region: "eu".into(),
    };
    r.handle_member(s(1), restarted);
    assert_eq!(r.evidence(&zone(), s(1)).fresh_peer, None);
}

#[test]
fn a_fetched_version_is_evidence_of_its_source() {
    let mut r = replicator("a", "eu");
    join(&mut r, "b", "eu", Some(1));
    r.handle_local(s(0), &zone(), unloaded());
    advertise(&mut r, s(0), "b", &zone(), v(0, 3), secs(5));
    let (action, _, _) = fetch(&mut r, s(0));
    let installed = FetchOutcome::Installed {
        version: v(0, 3),
        age: secs(5),
    };
    r.handle_fetch_result(s(1), action.id, installed).unwrap();
    assert_eq!(r.evidence(&zone(), s(1)).fresh_peer, Some(id("b")));
}
