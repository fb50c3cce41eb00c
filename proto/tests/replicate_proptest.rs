//! Random clusters, versions and fetch outcomes: the fetch planner never
//! asks for an older-or-equal version, never asks a dead or backed-off
//! peer, never leaves an eligible source unused, prefers the nearest
//! holder of the newest version, and is deterministic.

mod replicate_support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use replicate_support::*;

const REGIONS: [&str; 3] = ["eu", "us", "ap"];

/// Serials clustered near the RFC 1982 wrap and the half-space edge.
const SERIALS: [u32; 7] = [0, 1, 2, 5, u32::MAX, u32::MAX - 1, 1 << 31];

#[derive(Debug, Clone)]
struct PeerSpec {
    region: usize,
    rtt: Option<u64>,
    alive: bool,
    /// Per zone: (epoch, serial index), or nothing advertised.
    adverts: Vec<Option<(u32, usize)>>,
}

#[derive(Debug, Clone)]
struct Scenario {
    peers: Vec<PeerSpec>,
    ours: Vec<Option<(u32, usize)>>,
    outcomes: Vec<u8>,
    max_fetches: usize,
}

fn version((epoch, serial): (u32, usize)) -> ZoneVersion {
    v(epoch, SERIALS[serial % SERIALS.len()])
}

fn version_strategy() -> impl Strategy<Value = Option<(u32, usize)>> {
    proptest::option::of((0u32..2, 0usize..SERIALS.len()))
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..4).prop_flat_map(|zones| {
        let peer = (
            0usize..REGIONS.len(),
            proptest::option::of(1u64..300),
            proptest::bool::weighted(0.75),
            proptest::collection::vec(version_strategy(), zones),
        )
            .prop_map(|(region, rtt, alive, adverts)| PeerSpec {
                region,
                rtt,
                alive,
                adverts,
            });
        (
            proptest::collection::vec(peer, 0..8),
            proptest::collection::vec(version_strategy(), zones),
            proptest::collection::vec(any::<u8>(), 40),
            1usize..4,
        )
            .prop_map(|(peers, ours, outcomes, max_fetches)| Scenario {
                peers,
                ours,
                outcomes,
                max_fetches,
            })
    })
}

fn zone_name(index: usize) -> Name {
    name(&format!("z{index}.example."))
}

fn peer_name(index: usize) -> String {
    format!("p{index}")
}

fn local(version: Option<ZoneVersion>) -> LocalZone {
    match version {
        Some(version) => loaded(version, secs(10)),
        None => unloaded(),
    }
}

/// The replicator of node "me" (eu) for the scenario; members are added in
/// forward or reverse order.
fn build(scenario: &Scenario, reverse: bool) -> Replicator {
    let config = ReplicateConfig {
        max_fetches: scenario.max_fetches,
        ..ReplicateConfig::default()
    };
    let mut r = Replicator::new(config, id("me"), "eu");
    let mut order: Vec<usize> = (0..scenario.peers.len()).collect();
    if reverse {
        order.reverse();
    }
    for &index in &order {
        let spec = &scenario.peers[index];
        join(&mut r, &peer_name(index), REGIONS[spec.region], spec.rtt);
        if !spec.alive {
            r.handle_liveness(ms(0), &id(&peer_name(index)), Liveness::Dead);
        }
        for (zone, advert) in spec.adverts.iter().enumerate() {
            if let Some(advert) = advert {
                let who = peer_name(index);
                advertise(
                    &mut r,
                    ms(0),
                    &who,
                    &zone_name(zone),
                    version(*advert),
                    secs(5),
                );
            }
        }
    }
    for (zone, ours) in scenario.ours.iter().enumerate() {
        r.handle_local(ms(0), &zone_name(zone), local(ours.map(version)));
    }
    r
}

/// Live peers that are not backed off and advertise a version newer than
/// ours, with that version.
fn eligible(
    r: &Replicator,
    scenario: &Scenario,
    zone: usize,
    ours: Option<ZoneVersion>,
    now: Timestamp,
) -> Vec<(NodeId, ZoneVersion)> {
    let z = zone_name(zone);
    if r.is_backed_off(&id("me"), &z, now) {
        return Vec::new();
    }
    (0..scenario.peers.len())
        .filter_map(|index| {
            let who = id(&peer_name(index));
            let advert = r.view().advert(&z, &who)?;
            let newer = ours.is_none_or(|ours| advert.version.is_newer_than(ours));
            let usable = r.view().is_alive(&who) && !r.is_backed_off(&who, &z, now);
            (newer && usable).then_some((who, advert.version))
        })
        .collect()
}

/// Runs the scenario; returns every action handed out, after checking the
/// invariants on each.
fn run(scenario: &Scenario, reverse: bool) -> Result<Vec<ReplicaAction>, TestCaseError> {
    let mut r = build(scenario, reverse);
    let mut ours: BTreeMap<usize, Option<ZoneVersion>> = scenario
        .ours
        .iter()
        .enumerate()
        .map(|(zone, version)| (zone, version.map(version_of)))
        .collect();
    let mut outcomes = scenario.outcomes.iter().copied().cycle();
    let mut log = Vec::new();
    let mut in_flight: Vec<ReplicaAction> = Vec::new();
    for step in 0..12u64 {
        let now = ms(step * 700);
        while let Some(action) = r.poll_action(now) {
            check_fetch(&r, scenario, &ours, &in_flight, &action, now)?;
            in_flight.push(action.clone());
            log.push(action);
        }
        check_progress(&r, scenario, &ours, &in_flight, now)?;
        if let Some(action) = (!in_flight.is_empty()).then(|| in_flight.remove(0)) {
            let zone = zone_index(&action.zone);
            let choice = outcomes.next().unwrap_or(0);
            match action.kind {
                ReplicaActionKind::Fetch { .. } => {
                    let outcome = outcome(choice, &action);
                    if let FetchOutcome::Installed { version, .. } = outcome {
                        ours.insert(zone, Some(version));
                    }
                    r.handle_fetch_result(now, action.id, outcome).unwrap();
                    r.handle_local(now, &action.zone, local(ours[&zone]));
                }
                ReplicaActionKind::Confirm { .. } => {
                    let stated = r
                        .view()
                        .advert(&action.zone, &action.peer)
                        .map(|a| a.version);
                    let outcome = match (choice % 2, stated) {
                        (0, Some(version)) => ConfirmOutcome::Confirmed {
                            version,
                            age: secs(5),
                        },
                        _ => ConfirmOutcome::Failed(PeerFailure::Timeout),
                    };
                    r.handle_confirm_result(now, action.id, outcome).unwrap();
                }
            }
        }
    }
    Ok(log)
}

fn version_of(spec: (u32, usize)) -> ZoneVersion {
    version(spec)
}

fn zone_index(zone: &Name) -> usize {
    (0..4).find(|i| zone_name(*i) == *zone).unwrap_or(0)
}

fn outcome(choice: u8, action: &ReplicaAction) -> FetchOutcome {
    let ReplicaActionKind::Fetch { want, .. } = action.kind else {
        return FetchOutcome::Superseded;
    };
    match choice % 6 {
        0 | 1 => FetchOutcome::Installed {
            version: want,
            age: secs(3),
        },
        2 => FetchOutcome::Failed(PeerFailure::Timeout),
        3 => FetchOutcome::Failed(PeerFailure::Corrupt),
        4 => FetchOutcome::Failed(PeerFailure::Local),
        _ => FetchOutcome::Superseded,
    }
}

fn check_fetch(
    r: &Replicator,
    scenario: &Scenario,
    ours: &BTreeMap<usize, Option<ZoneVersion>>,
    in_flight: &[ReplicaAction],
    action: &ReplicaAction,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let ReplicaActionKind::Fetch { want, have } = action.kind else {
        // Confirmations only go to live members not backed off.
        prop_assert!(r.view().is_alive(&action.peer));
        return Ok(());
    };
    let zone = zone_index(&action.zone);
    let current = ours[&zone];
    prop_assert_eq!(have, current);
    prop_assert!(
        current.is_none_or(|ours| want.is_newer_than(ours)),
        "older fetched"
    );
    prop_assert!(r.view().is_alive(&action.peer), "dead peer chosen");
    prop_assert!(
        !r.is_backed_off(&action.peer, &action.zone, now),
        "backed-off peer"
    );
    let advertised = r
        .view()
        .advert(&action.zone, &action.peer)
        .map(|a| a.version);
    prop_assert_eq!(advertised, Some(want));
    let others = in_flight
        .iter()
        .filter(|other| other.zone == action.zone)
        .filter(|other| matches!(other.kind, ReplicaActionKind::Fetch { .. }))
        .count();
    prop_assert_eq!(others, 0, "two fetches for one zone");
    let fetches = in_flight
        .iter()
        .filter(|other| matches!(other.kind, ReplicaActionKind::Fetch { .. }))
        .count();
    prop_assert!(fetches < scenario.max_fetches);
    // Nobody eligible offers something newer, unless the offers form an
    // RFC 1982 cycle (then every version has a newer one); among the
    // eligible holders of `want`, the nearest.
    let offers = eligible(r, scenario, zone, current, now);
    let beaten =
        |version: ZoneVersion| offers.iter().any(|(_, other)| other.is_newer_than(version));
    let cycle = offers.iter().all(|(_, version)| beaten(*version));
    prop_assert!(cycle || !beaten(want), "a newer version was offered");
    let chosen = r.view().member(&action.peer).map(|m| r.view().proximity(m));
    let nearest = offers
        .iter()
        .filter(|(_, version)| *version == want)
        .filter_map(|(who, _)| r.view().member(who).map(|m| r.view().proximity(m)))
        .min();
    prop_assert_eq!(chosen, nearest);
    Ok(())
}

/// With a fetch slot free, every zone with no fetch in flight has no
/// eligible source.
fn check_progress(
    r: &Replicator,
    scenario: &Scenario,
    ours: &BTreeMap<usize, Option<ZoneVersion>>,
    in_flight: &[ReplicaAction],
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let fetching = |zone: &Name| {
        in_flight
            .iter()
            .any(|a| a.zone == *zone && matches!(a.kind, ReplicaActionKind::Fetch { .. }))
    };
    if r.load().0 >= scenario.max_fetches {
        return Ok(());
    }
    for zone in 0..scenario.ours.len() {
        if fetching(&zone_name(zone)) {
            continue;
        }
        let offers = eligible(r, scenario, zone, ours[&zone], now);
        prop_assert!(
            offers.is_empty(),
            "zone {} left waiting: {:?}",
            zone,
            offers
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fetch_planning_invariants_hold(scenario in scenario()) {
        run(&scenario, false)?;
    }

    #[test]
    fn fetch_planning_is_deterministic(scenario in scenario()) {
        let first = run(&scenario, false)?;
        let again = run(&scenario, false)?;
        prop_assert_eq!(&first, &again);
        let reversed = run(&scenario, true)?;
        prop_assert_eq!(&first, &reversed, "member insertion order matters");
    }
}
