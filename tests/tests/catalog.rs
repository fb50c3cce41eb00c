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

/// A version-2 catalog at `serial` listing `members` (unique-N = m0, m1…).
fn catalog(serial: u32, members: &[&str]) -> String {
    let mut text = format!(
        "$ORIGIN {CATALOG}\n$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 86400 0\n\
         @ NS invalid.\nversion TXT \"2\"\n"
    );
    for (index, member) in members.iter().enumerate() {
        text.push_str(&format!("m{index}.zones PTR {member}\n"));
    }
    text.push_str("group.m0.zones TXT \"gold\"\n");
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
    assert!(
        !node.data_dir().join("member-b.test").exists(),
        "a removed member's data is deleted"
    );

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
