//! The fleet's zone list across real `understudy` processes on loopback:
//! `ctl zone add` on one node is served by all, `zone remove` on another
//! removes it from all, concurrent add and remove end the same way
//! everywhere, and the list survives a restart of every node.

use std::net::SocketAddr;
use std::time::Duration;

use understudy_e2e::client::soa_serial;
use understudy_e2e::cluster::{ClusterAddrs, Credentials, member};
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::zones::tiny;
use understudy_e2e::{Config, Kind, Server, ServerSpec, Understudy, wait_until};

/// Sync rounds of 1-2 s and a first transfer, on two loaded cores.
const SPREAD: Duration = Duration::from_secs(15);

const ZONE_A: &str = "fleet-a.test.";
const ZONE_B: &str = "fleet-b.test.";

/// Three clustered nodes without any `[[zone]]`, seeded with the first,
/// each answering on its control socket.
fn fleet(credentials: &Credentials) -> Vec<Understudy> {
    let addrs: Vec<ClusterAddrs> = (0..3).map(|_| ClusterAddrs::new()).collect();
    let seed = addrs[0].gossip;
    let nodes: Vec<Understudy> = (0..3)
        .map(|index| {
            let seeds: Vec<SocketAddr> = if index == 0 { Vec::new() } else { vec![seed] };
            let config = member(
                Config::new(&format!("fleet-{index}")),
                "one",
                addrs[index],
                &seeds,
                credentials,
            );
            Understudy::start(config)
        })
        .collect();
    for node in &nodes {
        wait_until(SPREAD, "the node takes control commands", || {
            node.ctl(&["zone", "status"]).0
        });
    }
    nodes
}

/// The node's fleet list as it keeps it on disk.
fn fleet_list(node: &Understudy) -> Option<Vec<u8>> {
    std::fs::read(node.data_dir().join("@fleet-zones")).ok()
}

fn ctl_ok(node: &Understudy, args: &[&str]) -> String {
    let (ok, output) = node.ctl(args);
    assert!(ok, "ctl {args:?} failed: {output}");
    output
}

/// Waits until every node answers `zone` at `serial` (`None`: not at all);
/// returns how long that took.
fn wait_everywhere(nodes: &[Understudy], zone: &str, serial: Option<u32>, what: &str) -> Duration {
    let took = wait_until(SPREAD, what, || {
        nodes
            .iter()
            .all(|node| soa_serial(node.addr(), zone) == serial)
    });
    eprintln!("{what}: {took:?}");
    took
}

#[test]
fn one_add_serves_everywhere_one_remove_removes_everywhere_and_restarts_keep_the_list() {
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new()
            .primary_zone(ZONE_A, &tiny(ZONE_A, 7))
            .primary_zone(ZONE_B, &tiny(ZONE_B, 9)),
    );
    let credentials = Credentials::new();
    let mut nodes = fleet(&credentials);
    let address = primary.addr().to_string();

    let said = ctl_ok(&nodes[0], &["zone", "add", ZONE_A, "--primary", &address]);
    assert!(said.contains("whole fleet"), "{said}");
    wait_until(FIRST_TRANSFER, "node 0 serves zone a", || {
        nodes[0].serial(ZONE_A) == Some(7)
    });
    wait_everywhere(&nodes, ZONE_A, Some(7), "every node serves zone a");

    ctl_ok(&nodes[0], &["zone", "add", ZONE_B, "--primary", &address]);
    wait_everywhere(&nodes, ZONE_B, Some(9), "every node serves zone b");
    ctl_ok(&nodes[2], &["zone", "remove", ZONE_B]);
    wait_everywhere(&nodes, ZONE_B, None, "no node serves zone b");

    // Every node restarts with the primary gone: zone a comes back from
    // each node's own list and disk, zone b stays removed.
    primary.stop();
    for node in &mut nodes {
        node.restart();
    }
    for node in &nodes {
        node.wait_serial(ZONE_A, 7, Duration::from_secs(10));
        assert_eq!(soa_serial(node.addr(), ZONE_B), None);
    }
}

#[test]
fn a_concurrent_add_and_remove_of_one_zone_end_the_same_everywhere() {
    let primary = Server::start(
        Kind::Knot,
        ServerSpec::new().primary_zone(ZONE_A, &tiny(ZONE_A, 7)),
    );
    let credentials = Credentials::new();
    let nodes = fleet(&credentials);
    let address = primary.addr().to_string();
    // Both writes land before either node has pulled the other's list
    // (rounds are 1-2 s apart). Tags carry the wall clock as their least
    // counter, so the later command, fleet-2's removal, wins everywhere.
    ctl_ok(&nodes[0], &["zone", "add", ZONE_A, "--primary", &address]);
    ctl_ok(&nodes[2], &["zone", "remove", ZONE_A]);
    let took = wait_until(SPREAD, "every node holds the same fleet list", || {
        let lists: Vec<Option<Vec<u8>>> = nodes.iter().map(fleet_list).collect();
        lists[0].is_some() && lists.iter().all(|list| *list == lists[0])
    });
    eprintln!("fleet lists equal on all nodes after {took:?}");
    wait_everywhere(&nodes, ZONE_A, None, "no node serves the zone");
    // A later add wins over both.
    ctl_ok(&nodes[1], &["zone", "add", ZONE_A, "--primary", &address]);
    wait_everywhere(&nodes, ZONE_A, Some(7), "every node serves the zone again");
}
