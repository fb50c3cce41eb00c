//! Catalog zones (RFC 9432) from a real Knot primary: the node provisions
//! the members the catalog lists and drops those it no longer lists.

use std::time::Duration;

use understudy_e2e::client::soa_serial;
use understudy_e2e::interop::{FIRST_TRANSFER, NOTIFY_BOUND, node_addr};
use understudy_e2e::zones::tiny;
use understudy_e2e::{Config, Kind, Server, ServerSpec, Understudy, ZoneConfig, wait_until};

const CATALOG: &str = "catalog.invalid.";
const MEMBER_A: &str = "member-a.test.";
const MEMBER_B: &str = "member-b.test.";

/// A version-2 catalog at `serial` listing `members`, each under a
/// unique-N made of its first label (stable across versions, so a member
/// kept is not reset), each in group "gold".
fn catalog(serial: u32, members: &[&str]) -> String {
    let mut text = format!(
        "$ORIGIN {CATALOG}\n$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 86400 0\n\
         @ NS invalid.\nversion TXT \"2\"\n"
    );
    for member in members {
        let id = member.split('.').next().unwrap_or_default();
        text.push_str(&format!(
            "{id}.zones PTR {member}\ngroup.{id}.zones TXT \"gold\"\n"
        ));
    }
    text
}

fn catalog_node(primary: &Server, config: Config) -> Understudy {
    let config = config
        .zone(ZoneConfig::new(CATALOG, &[primary.addr()]))
        .table(&format!("[[catalog]]\nzone = \"{CATALOG}\""));
    Understudy::start(config)
}

#[test]
fn members_of_a_knot_catalog_are_served_and_removed_with_it() {
    let config = Config::new("catalog");
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new()
            .primary_zone(CATALOG, &catalog(1, &[MEMBER_A, MEMBER_B]))
            .primary_zone(MEMBER_A, &tiny(MEMBER_A, 11))
            .primary_zone(MEMBER_B, &tiny(MEMBER_B, 21))
            .notify(node_addr(&config)),
    );
    let mut node = catalog_node(&primary, config);
    node.wait_serial(CATALOG, 1, FIRST_TRANSFER);
    node.wait_serial(MEMBER_A, 11, FIRST_TRANSFER);
    node.wait_serial(MEMBER_B, 21, FIRST_TRANSFER);

    // Member b leaves the catalog; Knot's reload sends NOTIFY.
    primary.update_zone(CATALOG, &catalog(2, &[MEMBER_A]));
    node.wait_serial(CATALOG, 2, NOTIFY_BOUND);
    wait_until(NOTIFY_BOUND, "member b no longer served", || {
        soa_serial(node.addr(), MEMBER_B).is_none()
    });
    assert_eq!(node.serial(MEMBER_A), Some(11));
    wait_until(NOTIFY_BOUND, "a removed member's data is deleted", || {
        !node.data_dir().join("member-b.test").exists()
    });

    // A new unique-N for member a resets it (RFC 9432 §5.4): dropped and
    // transferred again.
    let renamed = catalog(3, &[MEMBER_A]).replace("member-a.zones", "renamed.zones");
    primary.update_zone(CATALOG, &renamed);
    node.wait_serial(CATALOG, 3, NOTIFY_BOUND);
    wait_until(NOTIFY_BOUND, "member a reset and served again", || {
        node.log().contains("op=\"fleet-reset\"") && node.serial(MEMBER_A) == Some(11)
    });

    // Members come back from disk after a restart, without the primary.
    primary.stop();
    node.restart();
    node.wait_serial(MEMBER_A, 11, Duration::from_secs(10));
    assert_eq!(soa_serial(node.addr(), MEMBER_B), None);
}

#[test]
fn a_catalog_of_another_version_changes_nothing() {
    let config = Config::new("catalog-v1");
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new()
            .primary_zone(CATALOG, &catalog(1, &[MEMBER_A]))
            .primary_zone(MEMBER_A, &tiny(MEMBER_A, 11))
            .primary_zone(MEMBER_B, &tiny(MEMBER_B, 21))
            .notify(node_addr(&config)),
    );
    let node = catalog_node(&primary, config);
    node.wait_serial(MEMBER_A, 11, FIRST_TRANSFER);
    let broken = catalog(2, &[MEMBER_B]).replace("version TXT \"2\"", "version TXT \"1\"");
    primary.update_zone(CATALOG, &broken);
    node.wait_serial(CATALOG, 2, NOTIFY_BOUND);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(node.serial(MEMBER_A), Some(11), "the last good list stays");
    assert_eq!(soa_serial(node.addr(), MEMBER_B), None);
    assert!(node.log().contains("catalog version refused"));
}

/// Three clustered nodes; only the first has the catalog. Its members are
/// fleet zones: every node serves a member added to the catalog and drops
/// one removed from it.
#[test]
fn catalog_members_reach_every_node_of_a_cluster() {
    use std::net::SocketAddr;
    use understudy_e2e::cluster::{ClusterAddrs, Credentials, member};

    let credentials = Credentials::new();
    let knot_port = understudy_e2e::free_port();
    let knot = SocketAddr::from(([127, 0, 0, 1], knot_port));
    let addrs: Vec<ClusterAddrs> = (0..3).map(|_| ClusterAddrs::new()).collect();
    let configs: Vec<Config> = (0..3)
        .map(|index| {
            let mut config = Config::new(&format!("catz-{index}"));
            if index == 0 {
                config = config
                    .zone(ZoneConfig::new(CATALOG, &[knot]))
                    .table(&format!("[[catalog]]\nzone = \"{CATALOG}\""));
            }
            let seeds = if index == 0 {
                Vec::new()
            } else {
                vec![addrs[0].gossip]
            };
            member(config, "one", addrs[index], &seeds, &credentials)
        })
        .collect();
    let mut primary = Server::start(
        Kind::Knot,
        ServerSpec::new()
            .primary_zone(CATALOG, &catalog(1, &[MEMBER_A]))
            .primary_zone(MEMBER_A, &tiny(MEMBER_A, 11))
            .primary_zone(MEMBER_B, &tiny(MEMBER_B, 21))
            .notify(node_addr(&configs[0]))
            .port(knot_port),
    );
    let nodes: Vec<Understudy> = configs.into_iter().map(Understudy::start).collect();
    let spread = Duration::from_secs(15);
    let everywhere = |zone: &str, serial: Option<u32>, timeout: Duration| {
        let start = std::time::Instant::now();
        wait_until(
            timeout,
            &format!("every node serves {zone} at {serial:?}"),
            || {
                nodes
                    .iter()
                    .all(|node| soa_serial(node.addr(), zone) == serial)
            },
        );
        start.elapsed()
    };
    everywhere(MEMBER_A, Some(11), FIRST_TRANSFER);

    primary.update_zone(CATALOG, &catalog(2, &[MEMBER_A, MEMBER_B]));
    let took = everywhere(MEMBER_B, Some(21), spread);
    eprintln!("a member added to the catalog served by all three nodes after {took:?}");

    primary.update_zone(CATALOG, &catalog(3, &[MEMBER_B]));
    let took = everywhere(MEMBER_A, None, spread);
    eprintln!("a member removed from the catalog gone from all three nodes after {took:?}");
    assert!(nodes.iter().all(|node| node.serial(MEMBER_B) == Some(21)));
    // The node reading the catalog refuses to remove a member by hand.
    let (ok, said) = nodes[0].ctl(&["zone", "remove", MEMBER_B]);
    assert!(!ok && said.contains("catalog"), "{said}");
}

/// A node that cannot reach the primary takes the catalog from a peer and
/// still reads it: the members it finds serve on both nodes.
#[test]
fn a_catalog_fetched_from_a_peer_is_read_too() {
    use std::net::SocketAddr;
    use understudy_e2e::cluster::{ClusterAddrs, Credentials, member};

    let credentials = Credentials::new();
    let primary = Server::start(
        Kind::Knot,
        ServerSpec::new()
            .primary_zone(CATALOG, &catalog(1, &[MEMBER_A]))
            .primary_zone(MEMBER_A, &tiny(MEMBER_A, 11)),
    );
    let closed: SocketAddr = understudy_e2e::env::free_addr();
    let addrs = [ClusterAddrs::new(), ClusterAddrs::new()];
    // Node 0 transfers the catalog but does not read it; node 1 reads it
    // but only a peer can give it to it. Members come from the primary.
    let zero = Config::new("peer-catz-0").zone(ZoneConfig::new(CATALOG, &[primary.addr()]));
    let one = Config::new("peer-catz-1")
        .zone(ZoneConfig::new(CATALOG, &[closed]))
        .table(&format!(
            "[[catalog]]\nzone = \"{CATALOG}\"\nprimaries = [\"{}\"]",
            primary.addr()
        ));
    let nodes = [
        Understudy::start(member(zero, "one", addrs[0], &[], &credentials)),
        Understudy::start(member(
            one,
            "one",
            addrs[1],
            &[addrs[0].gossip],
            &credentials,
        )),
    ];
    wait_until(
        Duration::from_secs(20),
        "both nodes serve the member",
        || {
            nodes
                .iter()
                .all(|node| soa_serial(node.addr(), MEMBER_A) == Some(11))
        },
    );
    assert!(nodes[1].log().contains("installed from peer"));
}
