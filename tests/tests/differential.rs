//! understudy against NSD and Knot over the fixture zones and their query
//! lists: every response must equal NSD's or Knot's (they serve the same
//! data: NSD is the primary, Knot and understudy its secondaries), except
//! for queries listed in `tests/zones/understudy-allowed.txt`.

use understudy_e2e::differential::{Difference, compare_with_oracles, report};
use understudy_e2e::env::zones_dir;
use understudy_e2e::fixtures::{self, IDENTITY, KNOT_REFUSES};
use understudy_e2e::interop::node_addr;
use understudy_e2e::{Config, Understudy, ZoneConfig};

fn allowed() -> Vec<String> {
    let path = zones_dir().join("understudy-allowed.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Runs the query lists `lists` (zone origins or `general`) against a node
/// holding every fixture zone.
fn check(lists: &[&str]) {
    let config = Config::new("differential")
        .dns("nsid", &format!("\"{IDENTITY}\""))
        .dns("identity", &format!("\"{IDENTITY}\""))
        .dns("version", &format!("\"{IDENTITY}\""));
    let nsd = fixtures::nsd_primary(&[node_addr(&config)]);
    let knot = fixtures::knot_secondary(&nsd);
    let mut config = config;
    for origin in fixtures::origins() {
        // Transfers allowed from loopback, as the NSD and Knot oracles are.
        let zone = ZoneConfig::new(&origin, &[nsd.addr()])
            .allow_transfer("127.0.0.0/8")
            .allow_transfer("::1");
        config = config.zone(zone);
    }
    let node = Understudy::start(config);
    for origin in fixtures::origins() {
        node.wait_serial(
            &origin,
            fixtures::serial(&origin),
            fixtures::TRANSFER_TIMEOUT,
        );
    }
    let allowed = allowed();
    let mut differences: Vec<Difference> = Vec::new();
    let mut total = 0;
    for list in lists {
        let oracles = if KNOT_REFUSES.contains(list) {
            vec![nsd.addr()]
        } else {
            vec![nsd.addr(), knot.addr()]
        };
        let queries = fixtures::queries(list);
        total += queries.len();
        differences.extend(
            compare_with_oracles(node.addr(), &oracles, &queries)
                .into_iter()
                .filter(|d| !allowed.iter().any(|a| d.query.starts_with(a.as_str()))),
        );
    }
    eprintln!("{total} queries, {} differences", differences.len());
    assert!(
        differences.is_empty(),
        "understudy differs from both NSD (oracle 0) and Knot (oracle 1):\n{}",
        report(&differences)
    );
}

#[test]
fn wildcards_match_nsd_or_knot() {
    check(&["wildcard.test."]);
}

#[test]
fn cname_and_dname_chains_match_nsd_or_knot() {
    check(&["chains.test."]);
}

#[test]
fn delegations_match_nsd_or_knot() {
    check(&["deleg.test."]);
}

#[test]
fn truncation_and_types_match_nsd_or_knot() {
    check(&["types.test."]);
}

#[test]
fn loops_match_nsd() {
    check(&["loops.test."]);
}

#[test]
fn classes_opcodes_edns_and_malformed_match_nsd_or_knot() {
    check(&["general"]);
}
