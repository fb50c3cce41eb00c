//! The differential checker proven on real servers: it finds nothing
//! between identical servers, finds a changed record, and the differences
//! between NSD and a Knot secondary of it over the fixture query lists are
//! exactly the documented ones (`tests/zones/nsd-vs-knot.expected`, written
//! up in `tests/zones/README.md`).

use understudy_e2e::differential::{compare, left_only_adds_authority_ns, report};
use understudy_e2e::env::zones_dir;
use understudy_e2e::fixture;
use understudy_e2e::fixtures::{self, KNOT_REFUSES};
use understudy_e2e::query::Query;
use understudy_e2e::servers::{self, ServerSpec};

fn all_queries(skip: &[&str]) -> Vec<Query> {
    let mut queries = Vec::new();
    for origin in fixtures::origins() {
        if !skip.contains(&origin.as_str()) {
            queries.extend(fixtures::queries(&origin));
        }
    }
    queries.extend(fixtures::queries("general"));
    queries
}

#[test]
fn query_lists_expand_to_hundreds_of_queries() {
    let queries = all_queries(&[]);
    assert!(queries.len() > 1500, "only {} queries", queries.len());
    for origin in fixtures::origins() {
        let count = fixtures::queries(&origin).len();
        assert!(count >= 50, "{origin} has only {count} queries");
    }
}

#[test]
fn identical_servers_show_no_difference() {
    let left = fixtures::nsd_primary(&[]);
    let right = fixtures::nsd_primary(&[]);
    let differences = compare(left.addr(), right.addr(), &all_queries(&[]));
    assert!(differences.is_empty(), "{}", report(&differences));
}

#[test]
fn a_changed_record_is_reported() {
    let original = fixture("wildcard.test.zone");
    let changed = original.replace(
        "host                A    192.0.2.11",
        "host                A    192.0.2.99",
    );
    assert_ne!(original, changed);
    let left = servers::nsd(ServerSpec::new().primary_zone("wildcard.test.", &original));
    let right = servers::nsd(ServerSpec::new().primary_zone("wildcard.test.", &changed));
    let queries = fixtures::queries("wildcard.test.");
    let differences = compare(left.addr(), right.addr(), &queries);
    let text = report(&differences);
    assert!(!differences.is_empty());
    assert!(
        differences
            .iter()
            .all(|d| d.query.contains("host.wildcard.test. A") || d.query.contains("ANY")),
        "{text}"
    );
    assert!(
        text.contains("only left:  host.wildcard.test. 3600 IN A 192.0.2.11"),
        "{text}"
    );
    assert!(
        text.contains("only right: host.wildcard.test. 3600 IN A 192.0.2.99"),
        "{text}"
    );
}

/// NSD and Knot both follow the RFCs; where they differ the RFCs allow
/// both. The list of such queries is committed so that a change in either
/// server's behaviour (or in the fixtures) is noticed and written up; the
/// one systematic difference (NSD adds the zone's NS RRset to the authority
/// section of positive answers) is recognised rather than listed.
#[test]
fn nsd_and_knot_differ_only_where_documented() {
    let nsd = fixtures::nsd_primary(&[]);
    let knot = fixtures::knot_secondary(&nsd);
    let differences = compare(nsd.addr(), knot.addr(), &all_queries(KNOT_REFUSES));
    let (systematic, listed): (Vec<_>, Vec<_>) = differences
        .into_iter()
        .partition(left_only_adds_authority_ns);
    assert!(
        systematic.len() > 100,
        "NSD should add the NS RRset to positive answers: {}",
        systematic.len()
    );
    let full = report(&listed);
    let found: Vec<String> = listed.iter().map(|d| d.query.clone()).collect();
    let expected_path = zones_dir().join("nsd-vs-knot.expected");
    if std::env::var_os("UNDERSTUDY_E2E_BLESS").is_some() {
        std::fs::write(&expected_path, found.join("\n") + "\n").expect("write expected list");
        std::fs::write(zones_dir().join("nsd-vs-knot.report"), &full).expect("write report");
    }
    let expected: Vec<String> = std::fs::read_to_string(&expected_path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(found, expected, "NSD vs Knot differences changed:\n{full}");
}

/// The signed-zone check used by the interop tests, with a Knot secondary
/// in place of understudy: a real secondary passes it.
#[test]
fn a_knot_secondary_passes_the_signed_zone_check() {
    use understudy_e2e::differential::compare_with_oracles;
    use understudy_e2e::interop::SignedSetup;
    use understudy_e2e::servers::{Kind, Signing};
    for (kind, signing, origin) in [
        (Kind::Nsd, Signing::Nsec, "wildcard.test."),
        (Kind::Bind, Signing::Nsec3, "deleg.test."),
    ] {
        let setup = SignedSetup::new(kind, signing, origin);
        let secondary = servers::knot(
            ServerSpec::new()
                .identity(fixtures::IDENTITY)
                .secondary_zone(origin, &[setup.primary_addr()]),
        );
        secondary.wait_serial(origin, setup.serial, fixtures::TRANSFER_TIMEOUT);
        let differences = compare_with_oracles(
            secondary.addr(),
            &setup.oracles(),
            &fixtures::queries(origin),
        );
        assert!(differences.is_empty(), "{kind:?}: {}", report(&differences));
        let denial = match signing {
            Signing::Nsec => " IN NSEC ",
            Signing::Nsec3 => " IN NSEC3 ",
        };
        let nx = Query::parse(&format!("nx-name.ns1.{origin} A do")).expect("query");
        match understudy_e2e::differential::outcome(setup.primary_addr(), &nx) {
            understudy_e2e::differential::Outcome::Reply(reply) => {
                assert!(reply.header.contains("NXDOMAIN"), "{reply:?}");
                assert!(
                    reply.authority.iter().any(|r| r.contains(denial)),
                    "{reply:?}"
                );
                assert!(
                    reply.authority.iter().any(|r| r.contains(" IN RRSIG ")),
                    "{reply:?}"
                );
            }
            other => panic!("{kind:?} did not answer: {other:?}"),
        }
    }
}
