//! Cluster drills with real processes: most of the fleet and the primary
//! lost at once, and a forced retransfer after the primary's serial went
//! backwards.

use std::net::SocketAddr;
use std::time::Duration;

use understudy_e2e::cluster::{ClusterAddrs, Credentials, member, source, wait_all};
use understudy_e2e::dig::dig;
use understudy_e2e::interop::{FIRST_TRANSFER, node_addr};
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{Config, Kind, Server, ServerSpec, Understudy, ZoneConfig};

/// How long a version may take to reach a node (gossip rounds of a
/// second, a fetch over QUIC, on two loaded cores).
const SPREAD: Duration = Duration::from_secs(10);

/// Configs of nodes `prefix-N`, one per region entry, all transferring
/// `EXAMPLE` from `primary` and seeded with the first node.
fn plan(
    prefix: &str,
    regions: &[&str],
    credentials: &Credentials,
    primary: SocketAddr,
) -> Vec<Config> {
    let addrs: Vec<ClusterAddrs> = regions.iter().map(|_| ClusterAddrs::new()).collect();
    let seed = [addrs[0].gossip];
    regions
        .iter()
        .enumerate()
        .map(|(index, region)| {
            let config = Config::new(&format!("{prefix}-{index}"))
                .zone(ZoneConfig::new(EXAMPLE, &[primary]));
            let seeds: &[SocketAddr] = if index == 0 { &[] } else { &seed };
            member(config, region, addrs[index], seeds, credentials)
        })
        .collect()
}

/// A Knot primary on a port chosen before the nodes, notifying all of them.
fn knot(port: u16, zone_text: &str, nodes: &[Config], ixfr: bool) -> Server {
    let mut spec = ServerSpec::new()
        .primary_zone(EXAMPLE, zone_text)
        .port(port);
    if ixfr {
        spec = spec.ixfr();
    }
    for config in nodes {
        spec = spec.notify(node_addr(config));
    }
    Server::start(Kind::Knot, spec)
}

/// The `serial.example.test. TXT` value a node answers: the data, not the
/// SOA, tells which version it serves.
fn sentinel(node: &Understudy) -> Option<String> {
    let answer = dig(node.addr(), &["serial.example.test.", "TXT"]);
    answer
        .answers_of("TXT")
        .first()
        .map(|record| record.rdata.trim_matches('"').to_string())
}

/// The zone's entry of `ctl zone status --json`.
fn status(node: &Understudy) -> serde_json::Value {
    node.zone_statuses()
        .into_iter()
        .find(|entry| understudy_e2e::understudy::status_zone(entry) == Some(EXAMPLE))
        .unwrap_or_else(|| panic!("{} has no status for {EXAMPLE}", node.config().node_id))
}

fn epoch(node: &Understudy) -> u64 {
    status(node)
        .get("epoch")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("{}: no epoch in status", node.config().node_id))
}

fn assert_serves(node: &Understudy, serial: u32, what: &str) {
    assert_eq!(
        node.serial(EXAMPLE),
        Some(serial),
        "{} {what}:\n{}",
        node.config().node_id,
        node.log()
    );
    let expected = serial.to_string();
    assert_eq!(
        sentinel(node).as_deref(),
        Some(expected.as_str()),
        "{} {what}: wrong data",
        node.config().node_id
    );
}

#[test]
fn the_last_two_nodes_keep_the_newest_serial_and_a_restarted_node_catches_up_from_them() {
    let credentials = Credentials::new();
    let knot_port = understudy_e2e::free_port();
    let knot_addr = SocketAddr::from(([127, 0, 0, 1], knot_port));
    let regions = ["eu", "eu", "us", "us", "ap", "ap"];
    let configs = plan("lost", &regions, &credentials, knot_addr);
    let mut primary = knot(knot_port, &example(1, 50), &configs, true);
    let mut nodes: Vec<Understudy> = configs.into_iter().map(Understudy::start).collect();
    let all: Vec<&Understudy> = nodes.iter().collect();
    wait_all(&all, EXAMPLE, 1, FIRST_TRANSFER);
    primary.update_zone(EXAMPLE, &example_changed(2, 50, 3));
    wait_all(&all, EXAMPLE, 2, SPREAD);

    // One node is left in eu and one in ap; us loses both.
    for index in [1, 2, 3, 5] {
        nodes[index].kill();
    }
    primary.update_zone(EXAMPLE, &example_changed(3, 50, 5));
    let survivors = [&nodes[0], &nodes[4]];
    let took = wait_all(&survivors, EXAMPLE, 3, SPREAD);
    eprintln!("serial 3 on the two survivors {took:?} after the NOTIFY");
    primary.stop();
    for node in survivors {
        assert_serves(node, 3, "survives with the newest serial");
    }

    let restarted = &mut nodes[2];
    restarted.restart();
    let start = std::time::Instant::now();
    let first = restarted.wait_zone(EXAMPLE, SPREAD);
    eprintln!(
        "the restarted node answered serial {first} after {:?}",
        start.elapsed()
    );
    let took = restarted.wait_serial(EXAMPLE, 3, SPREAD);
    eprintln!("the restarted node served serial 3 after {took:?}");
    assert_eq!(
        first, 2,
        "the restarted node first serves what it had on disk"
    );
    assert_serves(restarted, 3, "caught up");
    let from = source(restarted, EXAMPLE).unwrap_or_default();
    assert!(
        from == "peer lost-0" || from == "peer lost-4",
        "caught up from {from:?}, not a survivor"
    );
    let from_peers = restarted.metrics().sum(
        "understudy_transfers_by_source_total",
        &[("source", "peer"), ("result", "ok")],
    );
    assert!(from_peers >= 1.0, "{from_peers} peer transfers counted");
}

/// `text` with SOA timers asking for a refresh every second.
fn quick_refresh(text: String) -> String {
    let timers = " 3600 600 86400 60\n";
    assert!(text.contains(timers), "the SOA timers of `example` changed");
    text.replace(timers, " 1 1 86400 60\n")
}

#[test]
fn a_retransfer_on_one_node_takes_the_fleet_back_to_a_primary_whose_serial_was_reset() {
    let credentials = Credentials::new();
    let knot_port = understudy_e2e::free_port();
    let knot_addr = SocketAddr::from(([127, 0, 0, 1], knot_port));
    // A NOTIFY with a lower serial is only noted; the regression shows at
    // the next refresh, so the nodes check the primary every second.
    let configs: Vec<Config> = plan("reset", &["eu", "us", "ap"], &credentials, knot_addr)
        .into_iter()
        .map(|config| config.zone_default("refresh_min", "\"1s\""))
        .collect();
    // Knot refuses to load a lower serial over its IXFR journal, so this
    // primary keeps whole zones only.
    let mut primary = knot(knot_port, &quick_refresh(example(100, 50)), &configs, false);
    let nodes: Vec<Understudy> = configs.into_iter().map(Understudy::start).collect();
    let all: Vec<&Understudy> = nodes.iter().collect();
    wait_all(&all, EXAMPLE, 100, FIRST_TRANSFER);
    let old_epoch = epoch(&nodes[0]);

    primary.update_zone(EXAMPLE, &quick_refresh(example_changed(5, 50, 2)));
    primary.wait_serial(EXAMPLE, 5, SPREAD);
    let regressed = understudy_e2e::wait_until(SPREAD, "a node sees the serial regress", || {
        nodes.iter().any(|node| {
            status(node)
                .get("state")
                .and_then(serde_json::Value::as_str)
                == Some("serial-regressed")
        })
    });
    eprintln!("serial regression seen after {regressed:?}");
    for node in &nodes {
        assert_serves(node, 100, "keeps its serial while the primary's is lower");
    }

    let (ok, text) = nodes[0].ctl(&["zone", "retransfer", EXAMPLE]);
    assert!(ok, "ctl zone retransfer failed: {text}");
    let took = nodes[0].wait_serial(EXAMPLE, 5, SPREAD);
    eprintln!("serial 5 on the retransferring node after {took:?}");
    assert_serves(&nodes[0], 5, "retransferred");
    assert_eq!(
        epoch(&nodes[0]),
        old_epoch + 1,
        "the retransfer raises the epoch"
    );

    let others = [&nodes[1], &nodes[2]];
    let took = wait_all(&others, EXAMPLE, 5, SPREAD);
    eprintln!(
        "serial 5 in epoch {} on the others after {took:?}",
        old_epoch + 1
    );
    for node in others {
        eprintln!(
            "{} took epoch {} from {:?}",
            node.config().node_id,
            old_epoch + 1,
            source(node, EXAMPLE)
        );
        assert_serves(node, 5, "follows the new epoch");
        assert_eq!(epoch(node), old_epoch + 1, "{}", node.config().node_id);
    }
}
