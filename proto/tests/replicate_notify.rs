//! NOTIFY fan-out: one fetcher per region by rendezvous hashing, the
//! others holding their SOA check (RFC 1996 NOTIFY, DESIGN.md decision 7).

mod replicate_support;

use std::collections::BTreeMap;

use replicate_support::fleet::{Fleet, soa};
use replicate_support::*;
use understudy_proto::refresh::{
    ActionKind, EventKind, NotifyDisposition, Priority, RefreshConfig, RefreshScheduler,
    SchedulerConfig, XfrKind, ZoneRefresh,
};

const LAYOUT: [(&str, &str); 8] = [
    ("eu-1", "eu"),
    ("eu-2", "eu"),
    ("eu-3", "eu"),
    ("eu-4", "eu"),
    ("us-1", "us"),
    ("us-2", "us"),
    ("us-3", "us"),
    ("ap-1", "ap"),
];

/// Each node's replicator, seeing every other node alive and advertising
/// `zones`, and serving 0/1 of them itself.
fn cluster(zones: &[Name]) -> Vec<Replicator> {
    LAYOUT
        .iter()
        .map(|(own, region)| {
            let mut r = replicator(own, region);
            for (other, other_region) in LAYOUT.iter().filter(|(other, _)| other != own) {
                join(&mut r, other, other_region, Some(10));
                for z in zones {
                    advertise(&mut r, ms(0), other, z, v(0, 1), secs(5));
                }
            }
            for z in zones {
                r.handle_local(ms(0), z, loaded(v(0, 1), secs(5)));
            }
            r
        })
        .collect()
}

fn zones(count: usize) -> Vec<Name> {
    (0..count)
        .map(|i| name(&format!("zone{i}.example.")))
        .collect()
}

/// Per zone and region, the nodes that check the primary themselves.
fn fetchers(cluster: &mut [Replicator], zones: &[Name]) -> BTreeMap<(Name, String), Vec<String>> {
    let mut found: BTreeMap<(Name, String), Vec<String>> = BTreeMap::new();
    for (node, (own, region)) in cluster.iter_mut().zip(LAYOUT) {
        for z in zones {
            let key = (z.clone(), region.to_string());
            match node.handle_notify(ms(0), z, Some(2)) {
                NotifyPlan::Direct(DirectReason::Fetcher | DirectReason::Alone) => {
                    found.entry(key).or_default().push(own.to_string());
                }
                NotifyPlan::Hold { fetcher, until } => {
                    assert_eq!(until, ms(2_000));
                    found.entry(key).or_default();
                    assert_ne!(fetcher.as_str(), own);
                }
                other => panic!("unexpected plan {other:?}"),
            }
        }
    }
    found
}

#[test]
fn rendezvous_picks_the_same_fetcher_on_every_node_of_a_region() {
    let zones = zones(40);
    let mut cluster = cluster(&zones);
    let found = fetchers(&mut cluster, &zones);
    for ((z, region), nodes) in &found {
        assert_eq!(nodes.len(), 1, "{z} in {region}: {nodes:?}");
    }
    // Every waiter names that same fetcher.
    for (node, (own, region)) in cluster.iter().zip(LAYOUT) {
        for z in &zones {
            let chosen = &found[&(z.clone(), region.to_string())][0];
            if chosen != own {
                assert_eq!(node.notify_wait(z).unwrap().0.as_str(), chosen);
            }
        }
    }
}

#[test]
fn rendezvous_spreads_zones_over_the_region() {
    let zones = zones(200);
    let mut cluster = cluster(&zones);
    let found = fetchers(&mut cluster, &zones);
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for ((_, region), nodes) in &found {
        if region == "eu" {
            *per_node.entry(nodes[0].clone()).or_default() += 1;
        }
    }
    assert_eq!(
        per_node.len(),
        4,
        "every eu node fetches some: {per_node:?}"
    );
    for (node, count) in &per_node {
        assert!((25..=75).contains(count), "{node} fetches {count} of 200");
    }
}

#[test]
fn a_dead_fetcher_is_replaced_the_same_way_everywhere() {
    let zones = zones(20);
    let mut cluster = cluster(&zones);
    let before = fetchers(&mut cluster.clone(), &zones);
    // For zones whose eu fetcher is eu-1, eu-1 dies in everyone's view.
    for node in cluster
        .iter_mut()
        .filter(|node| node.view().own_id() != &id("eu-1"))
    {
        node.handle_liveness(ms(0), &id("eu-1"), Liveness::Dead);
    }
    let survivors: Vec<usize> = (1..LAYOUT.len()).collect();
    for z in &zones {
        let picks: Vec<NodeId> = survivors
            .iter()
            .filter(|i| LAYOUT[**i].1 == "eu")
            .map(|i| cluster[*i].region_fetcher(z).unwrap())
            .collect();
        assert!(picks.iter().all(|pick| *pick == picks[0]), "{z}: {picks:?}");
        assert_ne!(picks[0], id("eu-1"));
        let was = &before[&(z.clone(), "eu".to_string())][0];
        if was != "eu-1" {
            assert_eq!(picks[0].as_str(), was, "only the dead node's zones move");
        }
    }
}

#[test]
fn nodes_that_cannot_reach_the_primary_are_not_fetchers() {
    let mut r = replicator("eu-1", "eu");
    join(&mut r, "eu-2", "eu", Some(1));
    join(&mut r, "eu-3", "eu", Some(1));
    let z = zone();
    let mut local = loaded(v(0, 1), secs(5));
    local.primary_reachable = false;
    r.handle_local(ms(0), &z, local);
    for (who, reachable) in [("eu-2", false), ("eu-3", true)] {
        let advert = Advert {
            version: v(0, 1),
            confirmed_age: Some(secs(5)),
            primary_reachable: reachable,
        };
        r.handle_advert(ms(0), &id(who), 1, &z, Some(advert));
    }
    assert_eq!(r.region_fetcher(&z), Some(id("eu-3")));
    // When nobody reaches it, the choice is among all of them.
    let advert = Advert {
        version: v(0, 1),
        confirmed_age: Some(secs(5)),
        primary_reachable: false,
    };
    r.handle_advert(ms(0), &id("eu-3"), 1, &z, Some(advert));
    assert!(r.region_fetcher(&z).is_some());
}

#[test]
fn rfc1996_notify_goes_direct_when_nothing_to_share() {
    let mut alone = replicator("eu-1", "eu");
    join(&mut alone, "us-1", "us", Some(80));
    advertise(&mut alone, ms(0), "us-1", &zone(), v(0, 1), secs(1));
    alone.handle_local(ms(0), &zone(), loaded(v(0, 1), secs(1)));
    assert_eq!(
        alone.handle_notify(ms(0), &zone(), Some(2)),
        NotifyPlan::Direct(DirectReason::Alone)
    );
    assert_eq!(
        alone.handle_notify(ms(0), &zone(), Some(1)),
        NotifyPlan::Direct(DirectReason::NotNewer),
        "RFC 1996 §4.7: not newer"
    );
    assert_eq!(
        alone.handle_notify(ms(0), &name("other.example."), Some(2)),
        NotifyPlan::Direct(DirectReason::NotLoaded)
    );
    let off = ReplicateConfig {
        notify_wait: Duration::ZERO,
        ..ReplicateConfig::default()
    };
    let mut r = Replicator::new(off, id("eu-1"), "eu");
    join(&mut r, "eu-2", "eu", Some(1));
    advertise(&mut r, ms(0), "eu-2", &zone(), v(0, 1), secs(1));
    r.handle_local(ms(0), &zone(), loaded(v(0, 1), secs(1)));
    assert_eq!(
        r.handle_notify(ms(0), &zone(), Some(2)),
        NotifyPlan::Direct(DirectReason::FanOutOff)
    );
}

/// A waiter: eu-1 in eu with eu-2 as its zone's fetcher, plus us-1.
fn waiter() -> Replicator {
    let z = zone();
    for own in ["eu-1", "eu-2"] {
        let mut r = replicator(own, "eu");
        let other = if own == "eu-1" { "eu-2" } else { "eu-1" };
        join(&mut r, other, "eu", Some(1));
        join(&mut r, "us-1", "us", Some(80));
        advertise(&mut r, ms(0), other, &z, v(0, 1), secs(1));
        advertise(&mut r, ms(0), "us-1", &z, v(0, 1), secs(1));
        r.handle_local(ms(0), &z, loaded(v(0, 1), secs(1)));
        if let NotifyPlan::Hold { .. } = r.handle_notify(ms(0), &z, Some(2)) {
            return r;
        }
    }
    unreachable!("one of the two waits for the other")
}

#[test]
fn a_held_notify_fetches_only_from_its_region_until_the_wait_ends() {
    let mut r = waiter();
    let (fetcher, until) = r.notify_wait(&zone()).unwrap();
    assert_eq!(until, ms(2_000));
    let own = r.view().own_id().clone();
    assert_ne!(fetcher, own);
    // The other region has the change first: not taken during the wait.
    advertise(&mut r, ms(300), "us-1", &zone(), v(0, 2), secs(0));
    assert_eq!(r.poll_action(ms(300)), None);
    // The fetcher advertises it: fetched from the fetcher.
    advertise(&mut r, ms(400), fetcher.as_str(), &zone(), v(0, 2), secs(0));
    let (action, peer, want) = fetch(&mut r, ms(400));
    assert_eq!((peer, want), (fetcher.clone(), v(0, 2)));
    r.handle_fetch_result(
        ms(450),
        action.id,
        FetchOutcome::Failed(PeerFailure::Corrupt),
    )
    .unwrap();
    assert_eq!(r.poll_action(ms(450)), None, "us-1 still waits its turn");
    // After the wait, any region will do (the fetcher is backed off).
    assert_eq!(fetch(&mut r, ms(2_000)).1, id("us-1"));
}

#[test]
fn the_wait_ends_early_once_the_notified_serial_is_served() {
    let mut r = waiter();
    r.handle_local(ms(500), &zone(), loaded(v(0, 2), secs(0)));
    assert_eq!(r.notify_wait(&zone()), None);
    advertise(&mut r, ms(600), "us-1", &zone(), v(0, 3), secs(0));
    assert_eq!(fetch(&mut r, ms(600)).1, id("us-1"));
}

fn refresh_loaded(serial: u32) -> ZoneRefresh {
    let config = RefreshConfig {
        primaries: 2,
        jitter: 0.0,
        ..RefreshConfig::default()
    };
    let mut zone = ZoneRefresh::new(config, 1, ms(0));
    let first = zone.poll_action(ms(0)).unwrap();
    assert!(zone.install_version(first.id, serial).is_some());
    let installed = understudy_proto::refresh::TransferOutcome::Installed {
        soa: soa(serial),
        kind: XfrKind::Axfr,
    };
    zone.handle_transfer_response(ms(0), first.id, installed)
        .unwrap();
    while zone.poll_event().is_some() {}
    zone
}

#[test]
fn rfc1996_held_notify_falls_back_to_the_primary_after_the_wait() {
    let mut zone = refresh_loaded(1);
    let held = zone.handle_notify_deferred(s(10), Some(2), Some(1), s(12));
    assert_eq!(held, NotifyDisposition::Held);
    assert_eq!(zone.poll_action(s(10)), None, "no SOA query yet");
    assert_eq!(zone.poll_timeout(), Some(s(12)));
    assert_eq!(zone.status(s(10)).notify_held_until, Some(s(12)));
    assert_eq!(zone.poll_action(ms(11_999)), None);
    let query = zone.poll_action(s(12)).expect("the fallback check");
    assert_eq!(query.kind, ActionKind::QuerySoa { primary: 1 });
    assert_eq!(query.priority, Priority::Urgent);
    let kinds: Vec<EventKind> = std::iter::from_fn(|| zone.poll_event())
        .map(|event| event.kind)
        .collect();
    assert!(kinds.iter().any(|kind| matches!(
        kind,
        EventKind::HeldNotifyReleased {
            disposition: NotifyDisposition::CheckQueued,
            ..
        }
    )));
    assert_eq!(zone.status(s(12)).notify_held_until, None);
}

#[test]
fn rfc1996_the_scheduler_holds_a_notify_and_hands_out_its_fallback_check() {
    let mut scheduler = RefreshScheduler::new(SchedulerConfig::default());
    scheduler.insert(zone(), refresh_loaded(1));
    let held = scheduler.handle_notify_deferred(s(10), &zone(), Some(2), None, s(12));
    assert_eq!(held, Some(NotifyDisposition::Held));
    assert_eq!(scheduler.poll_action(s(10)), None);
    assert_eq!(scheduler.poll_timeout(), Some(s(12)));
    let dispatch = scheduler.poll_action(s(12)).expect("the fallback check");
    assert_eq!(dispatch.zone, zone());
    assert_eq!(dispatch.action.priority, Priority::Urgent);
    let missing = scheduler.handle_notify_deferred(s(12), &name("no.such."), Some(2), None, s(14));
    assert_eq!(missing, None);
}

#[test]
fn rfc1996_peer_install_before_the_wait_cancels_the_check() {
    let mut zone = refresh_loaded(1);
    zone.handle_notify_deferred(s(10), Some(3), None, s(12));
    // A peer delivers 2: not yet what the NOTIFY announced.
    assert!(zone.handle_peer_install(s(11), v(0, 2), soa(2), secs(0)));
    assert_eq!(zone.notify_held_until(), Some(s(12)));
    assert!(zone.handle_peer_install(ms(11_500), v(0, 3), soa(3), secs(0)));
    assert_eq!(zone.notify_held_until(), None);
    assert_eq!(zone.poll_action(s(12)), None, "no check at the deadline");
    assert_eq!(zone.status(s(12)).counters.notifies, 1);
}

#[test]
fn rfc1996_held_notify_not_newer_is_only_noted() {
    let mut zone = refresh_loaded(5);
    let noted = zone.handle_notify_deferred(s(10), Some(5), None, s(12));
    assert_eq!(noted, NotifyDisposition::Noted);
    assert_eq!(zone.notify_held_until(), None);
    assert_eq!(zone.poll_action(s(12)), None);
}

#[test]
fn rfc1996_direct_notify_takes_over_a_held_one() {
    let mut zone = refresh_loaded(1);
    zone.handle_notify_deferred(s(10), Some(2), None, s(12));
    let direct = zone.handle_notify(s(11), Some(2), Some(0));
    assert_eq!(direct, NotifyDisposition::CheckQueued);
    assert_eq!(zone.notify_held_until(), None);
    let query = zone.poll_action(s(11)).unwrap();
    zone.handle_soa_response(s(11), query.id, Ok(soa(1)))
        .unwrap();
    assert_eq!(zone.poll_action(s(12)), None, "no second check");
}

#[test]
fn rfc1996_second_held_notify_keeps_the_first_deadline() {
    let mut zone = refresh_loaded(1);
    zone.handle_notify_deferred(s(10), Some(2), None, s(12));
    zone.handle_notify_deferred(s(11), Some(3), None, s(13));
    assert_eq!(zone.notify_held_until(), Some(s(12)));
    assert!(zone.handle_peer_install(ms(11_500), v(0, 2), soa(2), secs(0)));
    assert_eq!(zone.notify_held_until(), Some(s(12)), "waits for 3 now");
}

const SIX: [(&str, &str); 6] = [
    ("eu-1", "eu"),
    ("eu-2", "eu"),
    ("us-1", "us"),
    ("us-2", "us"),
    ("ap-1", "ap"),
    ("ap-2", "ap"),
];

fn everyone_serves(fleet: &Fleet, serial: u32) -> bool {
    (0..fleet.nodes.len()).all(|node| fleet.serving(node) == Some(v(0, serial)))
}

#[test]
fn one_notify_costs_the_primary_one_transfer_per_region() {
    let mut fleet = Fleet::new(&SIX, ReplicateConfig::default(), 1);
    fleet.run_until(s(5), |_| false);
    let start = fleet.now;
    fleet.change_and_notify(2, &[0, 1, 2, 3, 4, 5]);
    fleet.run_until(start + secs(2), |fleet| everyone_serves(fleet, 2));
    assert!(everyone_serves(&fleet, 2), "all six within 2 s");
    fleet.run_until(start + secs(30), |_| false);
    assert_eq!(fleet.primary_transfers, 3, "one per region, not six");
    let held = fleet
        .notify_plans
        .iter()
        .filter(|(_, plan)| matches!(plan, NotifyPlan::Hold { .. }))
        .count();
    assert_eq!(held, 3);
    let from_peers: u32 = fleet.nodes.iter().map(|node| node.peer_installs).sum();
    assert_eq!(from_peers, 3);
}

#[test]
fn a_notify_reaches_every_node_when_only_one_reaches_the_primary() {
    for reachable in 0..SIX.len() {
        let mut fleet = Fleet::new(&SIX, ReplicateConfig::default(), 1);
        for (index, node) in fleet.nodes.iter_mut().enumerate() {
            node.reaches_primary = index == reachable;
        }
        // The others' checks fail first, so gossip says who reaches it.
        fleet.run_until(s(4_000), |_| false);
        let start = fleet.now;
        fleet.change_and_notify(2, &[0, 1, 2, 3, 4, 5]);
        fleet.run_until(start + secs(2), |fleet| everyone_serves(fleet, 2));
        assert!(
            everyone_serves(&fleet, 2),
            "node {reachable} reaching the primary: all six within 2 s"
        );
        assert_eq!(fleet.primary_transfers, 1);
    }
}

#[test]
fn a_waiter_falls_back_to_the_primary_when_its_fetcher_is_silent() {
    let mut fleet = Fleet::new(&SIX, ReplicateConfig::default(), 1);
    fleet.run_until(s(5), |_| false);
    let start = fleet.now;
    // Only the eu waiter is notified; its fetcher never hears of it.
    let waiter = (0..2)
        .find(|node| {
            let zone = fleet.zone.clone();
            let own = fleet.nodes[*node].id.clone();
            fleet.nodes[*node].replicator.region_fetcher(&zone) != Some(own)
        })
        .unwrap();
    fleet.change_and_notify(2, &[waiter]);
    fleet.run_until(start + Duration::from_millis(1_900), |_| false);
    assert_eq!(fleet.serving(waiter), Some(v(0, 1)), "still waiting");
    fleet.run_until(start + secs(3), |fleet| everyone_serves(fleet, 2));
    assert!(everyone_serves(&fleet, 2), "the fallback, then peers");
    assert_eq!(fleet.primary_transfers, 1);
}
