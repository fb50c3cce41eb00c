//! IXFR out (RFC 1995): a downstream client allowed by ACL asking `IXFR=n`
//! for a serial in the node's journal gets the diffs, not the whole zone,
//! before and after a restart; everyone else is REFUSED.

use std::time::Duration;

use understudy_e2e::client::{self, Transport};
use understudy_e2e::dig::{DigAnswer, kdig};
use understudy_e2e::interop::{FIRST_TRANSFER, NOTIFY_BOUND, kdig_with_key, key, node_addr};
use understudy_e2e::message::QueryMessage;
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{Config, Understudy, ZoneConfig};

const HOSTS: usize = 300;

fn soa_serials(answer: &DigAnswer) -> Vec<u32> {
    answer
        .answers_of("SOA")
        .iter()
        .filter_map(|r| r.rdata.split_whitespace().nth(2)?.parse().ok())
        .collect()
}

fn sorted(answer: &DigAnswer) -> Vec<String> {
    let mut records = answer.answer.clone();
    records.sort();
    records
}

/// A Knot primary taken from serial 1 to 3 in two changes, and a node that
/// followed it with `allow_transfer` for 127.0.0.1 and the key.
fn setup() -> (Server, Understudy) {
    let config = Config::new("ixfr-out").tsig_key(key());
    let mut primary = servers::knot(
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, HOSTS))
            .ixfr()
            .notify(node_addr(&config)),
    );
    let zone = ZoneConfig::new(EXAMPLE, &[primary.addr()])
        .allow_transfer("127.0.0.1")
        .allow_transfer("key:xfr-key");
    let node = Understudy::start(config.zone(zone));
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    primary.update_zone(EXAMPLE, &example_changed(2, HOSTS, 3));
    node.wait_serial(EXAMPLE, 2, NOTIFY_BOUND);
    primary.update_zone(EXAMPLE, &example_changed(3, HOSTS, 5));
    node.wait_serial(EXAMPLE, 3, NOTIFY_BOUND);
    (primary, node)
}

fn assert_diffs_from_1(node: &Understudy) -> Vec<String> {
    let ixfr = kdig(node.addr(), &["IXFR=1", EXAMPLE]);
    assert!(ixfr.success, "{}", ixfr.text);
    let serials = soa_serials(&ixfr);
    assert_eq!(serials.first(), Some(&3), "{}", ixfr.text);
    assert_eq!(serials.last(), Some(&3), "{}", ixfr.text);
    assert!(
        serials.contains(&1),
        "the diff starts at serial 1: {serials:?}"
    );
    assert!(serials.len() >= 4, "IXFR, not AXFR: {serials:?}");
    assert!(
        ixfr.answer.len() < 40,
        "{} records: the whole zone?",
        ixfr.answer.len()
    );
    assert!(
        !ixfr.answer.iter().any(|r| r.starts_with("h150.")),
        "{}",
        ixfr.text
    );
    assert!(
        ixfr.answer.iter().any(|r| r.contains("\"added at 3\"")),
        "{}",
        ixfr.text
    );
    assert!(
        ixfr.answer
            .iter()
            .any(|r| r.contains("serial.example.test.") && r.contains("\"1\""))
    );
    sorted(&ixfr)
}

#[test]
fn rfc1995_ixfr_answered_with_diffs_before_and_after_restart() {
    let (mut primary, mut node) = setup();
    let before = assert_diffs_from_1(&node);

    let current = kdig(node.addr(), &["IXFR=3", EXAMPLE]);
    assert_eq!(
        soa_serials(&current),
        vec![3],
        "up to date: one SOA\n{}",
        current.text
    );

    let from_2 = kdig(node.addr(), &["IXFR=2", EXAMPLE]);
    let serials = soa_serials(&from_2);
    assert_eq!(
        (serials.first(), serials.last()),
        (Some(&3), Some(&3)),
        "{}",
        from_2.text
    );
    assert!(serials.contains(&2) && !serials.contains(&1), "{serials:?}");

    let axfr = kdig(node.addr(), &["AXFR", EXAMPLE]);
    assert!(axfr.answer.len() > HOSTS, "{} records", axfr.answer.len());

    primary.stop();
    assert!(node.stop());
    node.restart();
    node.wait_serial(EXAMPLE, 3, Duration::from_secs(10));
    let after = assert_diffs_from_1(&node);
    assert_eq!(before, after, "the journal survives a restart");
    assert_eq!(
        sorted(&axfr),
        sorted(&kdig(node.addr(), &["AXFR", EXAMPLE]))
    );
}

#[test]
fn rfc1995_ixfr_for_an_unknown_serial_falls_back_to_the_full_zone() {
    let (_primary, node) = setup();
    let old = kdig(node.addr(), &["IXFR=4000000000", EXAMPLE]);
    let serials = soa_serials(&old);
    assert_eq!(serials.first(), Some(&3), "{}", old.text);
    let full = old.answer.len() > HOSTS || serials == [3];
    assert!(
        full,
        "AXFR-style full zone or a single SOA: {} records",
        old.answer.len()
    );
}

#[test]
fn rfc5936_transfer_refused_without_acl() {
    let primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(1, 20)));
    let node = Understudy::start_serving(
        Config::new("no-acl").zone(ZoneConfig::new(EXAMPLE, &[primary.addr()])),
        FIRST_TRANSFER,
    );
    for qtype in [252u16, 251] {
        let mut query = QueryMessage::new(EXAMPLE, qtype);
        query.edns = None;
        let reply = client::query(node.addr(), &query, Transport::Tcp);
        assert_eq!(reply.rcode, 5, "REFUSED: {}", reply.to_text());
        assert!(reply.answer.is_empty(), "{}", reply.to_text());
    }
    let dig_axfr = kdig(node.addr(), &["AXFR", EXAMPLE]);
    assert!(dig_axfr.answers_of("SOA").is_empty(), "{}", dig_axfr.text);
    assert!(dig_axfr.text.contains("REFUSED"), "{}", dig_axfr.text);
}

#[test]
fn transfer_allowed_by_key_only_with_that_key() {
    let config = Config::new("key-acl").tsig_key(key());
    let primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(1, 20)));
    let zone = ZoneConfig::new(EXAMPLE, &[primary.addr()]).allow_transfer("key:xfr-key");
    let node = Understudy::start_serving(config.zone(zone), FIRST_TRANSFER);
    let signed = kdig_with_key(node.addr(), &key(), &["AXFR", EXAMPLE]);
    assert!(signed.answer.len() > 20, "{}", signed.text);
    assert!(
        signed.text.contains("TSIG"),
        "a signed response: {}",
        signed.text
    );
    let unsigned = kdig(node.addr(), &["AXFR", EXAMPLE]);
    assert!(unsigned.answers_of("SOA").is_empty(), "{}", unsigned.text);
    let mut query = QueryMessage::new(EXAMPLE, 252);
    query.edns = None;
    let reply = client::query(node.addr(), &query, Transport::Tcp);
    assert_eq!(reply.rcode, 5, "{}", reply.to_text());
}
