//! Clusters of real `understudy` processes on loopback gossiping serials
//! and forwarding zones over QUIC, with a real Knot primary.

use std::net::SocketAddr;
use std::time::Duration;

use understudy_e2e::cluster::{self, ClusterAddrs, Credentials, member, peer_installs, source};
use understudy_e2e::env::free_addr;
use understudy_e2e::interop::{FIRST_TRANSFER, node_addr};
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{Config, Kind, Server, ServerSpec, Understudy, ZoneConfig};

/// How long a version may take to reach every node (gossip rounds of a
/// second, a fetch over QUIC, on two loaded cores).
const SPREAD: Duration = Duration::from_secs(10);

/// The metric family of transfers by source kind and result.
const TRANSFERS: &str = "understudy_transfers_by_source_total";

/// A primary address where nothing answers.
fn closed_port() -> SocketAddr {
    free_addr()
}

struct Planned {
    config: Config,
}

/// Node configs `prefix-N` in the given regions, each serving `EXAMPLE`
/// from `primaries(index)`, all seeded with the first node.
fn plan(
    prefix: &str,
    regions: &[&str],
    credentials: &Credentials,
    primaries: impl Fn(usize) -> SocketAddr,
) -> Vec<Planned> {
    let addrs: Vec<ClusterAddrs> = regions.iter().map(|_| ClusterAddrs::new()).collect();
    let seed = addrs[0].gossip;
    regions
        .iter()
        .enumerate()
        .map(|(index, region)| {
            let config = Config::new(&format!("{prefix}-{index}"))
                .zone(ZoneConfig::new(EXAMPLE, &[primaries(index)]));
            let seeds: Vec<SocketAddr> = if index == 0 { Vec::new() } else { vec![seed] };
            Planned {
                config: member(config, region, addrs[index], &seeds, credentials),
            }
        })
        .collect()
}

/// A Knot primary with `records` names in the example zone, reachable by
/// and notifying every node, and the nodes of `regions`, started.
fn notified_cluster(
    prefix: &str,
    regions: &[&str],
    credentials: &Credentials,
    records: usize,
) -> (Server, Vec<Understudy>) {
    let knot_port = understudy_e2e::free_port();
    let knot_addr = SocketAddr::from(([127, 0, 0, 1], knot_port));
    let planned = plan(prefix, regions, credentials, |_| knot_addr);
    let mut spec = ServerSpec::new()
        .primary_zone(EXAMPLE, &example(1, records))
        .ixfr()
        .port(knot_port);
    for node in &planned {
        spec = spec.notify(node_addr(&node.config));
    }
    let primary = Server::start(Kind::Knot, spec);
    let nodes = planned
        .into_iter()
        .map(|planned| Understudy::start(planned.config))
        .collect();
    (primary, nodes)
}

#[test]
fn a_primary_reachable_from_one_node_feeds_the_others_through_it() {
    let credentials = Credentials::new();
    let closed = closed_port();
    // The primary notifies node 0, so the nodes are planned before it runs.
    let knot_port = understudy_e2e::free_port();
    let knot_addr = SocketAddr::from(([127, 0, 0, 1], knot_port));
    let planned = plan(
        "reach",
        &["eu", "eu", "us", "us", "ap", "ap"],
        &credentials,
        |index| {
            if index == 0 { knot_addr } else { closed }
        },
    );
    let spec = ServerSpec::new()
        .primary_zone(EXAMPLE, &example(1, 50))
        .ixfr()
        .notify(node_addr(&planned[0].config))
        .port(knot_port);
    let mut primary = Server::start(Kind::Knot, spec);
    let nodes: Vec<Understudy> = planned
        .into_iter()
        .map(|planned| Understudy::start(planned.config))
        .collect();
    let all: Vec<&Understudy> = nodes.iter().collect();
    let took = cluster::wait_all(&all, EXAMPLE, 1, FIRST_TRANSFER);
    eprintln!("serial 1 on all six nodes after {took:?}");

    primary.update_zone(EXAMPLE, &example_changed(2, 50, 3));
    let took = cluster::wait_all(&all, EXAMPLE, 2, SPREAD);
    eprintln!("serial 2 on all six nodes {took:?} after the NOTIFY");

    let first = source(&nodes[0], EXAMPLE).unwrap_or_default();
    assert!(first.starts_with("primary "), "node 0's source: {first}");
    for node in &nodes[1..] {
        let from = source(node, EXAMPLE).unwrap_or_default();
        assert!(
            from.starts_with("peer reach-"),
            "{}: source {from}",
            node.config().node_id
        );
        assert!(
            peer_installs(node) >= 2,
            "{} should have installed both serials from a peer:\n{}",
            node.config().node_id,
            node.log()
        );
        let metrics = node.metrics();
        let peer_ok = metrics.sum(TRANSFERS, &[("source", "peer"), ("result", "ok")]);
        assert!(
            peer_ok >= 2.0,
            "{}: {peer_ok} peer transfers counted",
            node.config().node_id
        );
        let primary_ok = metrics.sum(TRANSFERS, &[("source", "primary"), ("result", "ok")]);
        assert_eq!(
            primary_ok,
            0.0,
            "{} cannot reach the primary",
            node.config().node_id
        );
        let bytes = metrics.sum("understudy_peer_bytes_total", &[("direction", "received")]);
        assert!(
            bytes > 0.0,
            "{}: no peer bytes counted",
            node.config().node_id
        );
    }
    assert_eq!(
        peer_installs(&nodes[0]),
        0,
        "node 0 reaches the primary itself"
    );
    let metrics = nodes[0].metrics();
    let primary_ok = metrics.sum(TRANSFERS, &[("source", "primary"), ("result", "ok")]);
    assert!(
        primary_ok >= 2.0,
        "node 0: {primary_ok} primary transfers counted"
    );
    assert_eq!(
        metrics.sum(TRANSFERS, &[("source", "peer"), ("result", "ok")]),
        0.0
    );
}

#[test]
fn a_node_started_with_the_primary_unreachable_gets_the_zone_from_a_peer() {
    let credentials = Credentials::new();
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new().primary_zone(EXAMPLE, &example(7, 20)),
    );
    let closed = closed_port();
    let primary_addr = primary.addr();
    let mut planned = plan("late", &["r", "r"], &credentials, |index| {
        if index == 0 { primary_addr } else { closed }
    });
    let second = planned.pop().map(|planned| planned.config);
    let first = planned.pop().map(|planned| planned.config);
    let (Some(first), Some(second)) = (first, second) else {
        panic!("two nodes planned");
    };
    let holder = Understudy::start(first);
    holder.wait_serial(EXAMPLE, 7, FIRST_TRANSFER);
    primary.stop();

    let late = Understudy::start(second);
    let took = late.wait_serial(EXAMPLE, 7, SPREAD);
    eprintln!("the late node answered serial 7 after {took:?}");
    let from = source(&late, EXAMPLE).unwrap_or_default();
    assert_eq!(from, "peer late-0");
    let answer = understudy_e2e::dig::dig(late.addr(), &["serial.example.test.", "TXT"]);
    assert_eq!(
        answer
            .answers_of("TXT")
            .first()
            .map(|record| record.rdata.as_str()),
        Some("\"7\""),
        "{}",
        answer.text
    );
    let mut late = late;
    assert!(late.stop(), "a cluster node stops cleanly on SIGTERM");
}

#[test]
fn a_notify_to_six_nodes_in_three_regions_costs_the_primary_about_three_transfers() {
    let credentials = Credentials::new();
    let regions = ["eu", "eu", "us", "us", "ap", "ap"];
    let (mut primary, nodes) = notified_cluster("fan", &regions, &credentials, 50);
    let all: Vec<&Understudy> = nodes.iter().collect();
    cluster::wait_all(&all, EXAMPLE, 1, FIRST_TRANSFER);
    // Every node must know its region's members before the NOTIFY, or it
    // believes itself alone and checks the primary directly.
    std::thread::sleep(Duration::from_secs(4));

    let before = primary.transfers_served();
    primary.update_zone(EXAMPLE, &example_changed(2, 50, 3));
    let took = cluster::wait_all(&all, EXAMPLE, 2, SPREAD);
    std::thread::sleep(Duration::from_secs(1));
    let transfers = primary.transfers_served() - before;
    let from_peers: usize = nodes
        .iter()
        .filter(|node| source(node, EXAMPLE).is_some_and(|from| from.starts_with("peer ")))
        .count();
    eprintln!(
        "serial 2 on six nodes {took:?} after the NOTIFY; the primary served {transfers} \
         transfers, {from_peers} nodes took it from a peer"
    );
    assert!(
        transfers >= 1,
        "someone must have transferred from the primary"
    );
    assert!(
        transfers <= 4,
        "the primary served {transfers} transfers for one change to six nodes in three regions"
    );
    assert!(
        from_peers >= 2,
        "only {from_peers} nodes fetched from a peer"
    );
}

/// A zone whose SOA asks for a check every 2 s and expires after 20 s.
fn short_lived(serial: u32) -> String {
    format!(
        "$ORIGIN {EXAMPLE}\n$TTL 300\n@ SOA ns1 hostmaster {serial} 2 1 20 60\n\
         @ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n"
    )
}

#[test]
fn a_node_cut_off_from_the_primary_stays_fresh_on_a_peers_confirmations() {
    let credentials = Credentials::new();
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new().primary_zone(EXAMPLE, &short_lived(3)),
    );
    let closed = closed_port();
    let primary_addr = primary.addr();
    let planned = plan("fresh", &["r", "r"], &credentials, |index| {
        if index == 0 { primary_addr } else { closed }
    });
    let nodes: Vec<Understudy> = planned
        .into_iter()
        .map(|planned| {
            let config = planned
                .config
                .zone_default("refresh_min", "\"1s\"")
                .zone_default("retry_min", "\"1s\"")
                .zone_default("expire_min", "\"1s\"");
            Understudy::start(config)
        })
        .collect();
    let all: Vec<&Understudy> = nodes.iter().collect();
    cluster::wait_all(&all, EXAMPLE, 3, FIRST_TRANSFER);
    // Past the zone's expire time: without a peer's confirmations the
    // cut-off node would answer SERVFAIL by now.
    std::thread::sleep(Duration::from_secs(25));
    let cut_off = &nodes[1];
    let answer = understudy_e2e::dig::dig(cut_off.addr(), &["www.example.test.", "A"]);
    assert_eq!(
        answer.rcode,
        "NOERROR",
        "{}\n{}",
        answer.text,
        cut_off.log()
    );
    let confirms = cut_off
        .metrics()
        .sum("understudy_peer_confirms_total", &[("result", "ok")]);
    assert!(confirms >= 2.0, "{confirms} confirmations from the peer");
    let status = cut_off.zone_statuses();
    let age = status
        .first()
        .and_then(|zone| zone.get("verified_age_seconds"))
        .and_then(serde_json::Value::as_u64);
    assert!(
        age.is_some_and(|age| age < 20),
        "verified {age:?} s ago: {status:?}"
    );
    primary.stop();
}

/// Measurement, not a test: NOTIFY to every node of an `n`-node cluster in
/// three regions (all reaching the primary), ten changes; prints the median
/// and longest time until every node serves the new serial and the
/// transfers the primary served per change.
fn measure_spread(nodes: usize) {
    let credentials = Credentials::new();
    let regions: Vec<&str> = (0..nodes)
        .map(|index| ["eu", "us", "ap"][index % 3])
        .collect();
    let (mut primary, nodes) = notified_cluster("spread", &regions, &credentials, 200);
    let all: Vec<&Understudy> = nodes.iter().collect();
    cluster::wait_all(&all, EXAMPLE, 1, FIRST_TRANSFER);
    std::thread::sleep(Duration::from_secs(5));
    let mut times = Vec::new();
    let mut transfers = Vec::new();
    for serial in 2..12 {
        let before = primary.transfers_served();
        primary.update_zone(EXAMPLE, &example_changed(serial, 200, 3));
        times.push(cluster::wait_all(&all, EXAMPLE, serial, SPREAD * 3));
        std::thread::sleep(Duration::from_secs(3));
        transfers.push(primary.transfers_served() - before);
    }
    times.sort();
    println!(
        "{} nodes: NOTIFY to all serving: median {:?}, max {:?}; primary transfers per change {:?}",
        nodes.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        transfers
    );
}

/// `cargo test --release -p understudy-e2e --test cluster spread -- --ignored --nocapture`
#[test]
#[ignore]
fn spread_measured_on_6_nodes() {
    measure_spread(6);
}

/// See [`spread_measured_on_6_nodes`].
#[test]
#[ignore]
fn spread_measured_on_20_nodes() {
    measure_spread(20);
}
