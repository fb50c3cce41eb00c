//! The harness proven against the real servers alone (no understudy):
//! primaries start and answer, transfers and NOTIFY flow between Knot, NSD
//! and BIND, TSIG is enforced, Knot signs, dig/kdig output parses.

use std::time::Duration;

use understudy_e2e::dig::{dig, kdig};
use understudy_e2e::servers::{self, Kind, Server, ServerSpec, Signing, TsigKey};
use understudy_e2e::zones::{EXAMPLE, example};
use understudy_e2e::{free_port, wait_until};

const NOTIFY_BOUND: Duration = Duration::from_secs(20);

fn key() -> TsigKey {
    TsigKey::new(
        "xfr-key",
        "hmac-sha256",
        "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    )
}

fn axfr_records(server: &Server, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["AXFR", EXAMPLE];
    args.extend_from_slice(extra);
    let answer = dig(server.addr(), &args);
    let mut records: Vec<String> = answer
        .answer
        .iter()
        .filter(|r| !r.contains("TSIG"))
        .cloned()
        .collect();
    records.sort();
    records.dedup();
    records
}

/// Primary of `kind` with NOTIFY to a Knot secondary: initial transfer, then
/// a change reaches the secondary through NOTIFY well before any refresh.
fn primary_notifies_knot_secondary(kind: Kind, ixfr: bool) {
    let secondary_port = free_port();
    let mut spec = ServerSpec::new()
        .primary_zone(EXAMPLE, &example(1, 20))
        .notify(std::net::SocketAddr::from(([127, 0, 0, 1], secondary_port)));
    if ixfr {
        spec = spec.ixfr();
    }
    let mut primary = Server::start(kind, spec);
    let secondary = servers::knot(
        ServerSpec::new()
            .port(secondary_port)
            .secondary_zone(EXAMPLE, &[primary.addr()]),
    );
    secondary.wait_serial(EXAMPLE, 1, NOTIFY_BOUND);
    primary.update_zone(EXAMPLE, &example(2, 21));
    secondary.wait_serial(EXAMPLE, 2, NOTIFY_BOUND);
    assert_eq!(axfr_records(&primary, &[]), axfr_records(&secondary, &[]));
    wait_until(
        Duration::from_secs(5),
        "the primary logged two transfers",
        || primary.transfers_served() >= 2,
    );
}

#[test]
fn nsd_primary_notifies_knot_secondary() {
    primary_notifies_knot_secondary(Kind::Nsd, false);
}

#[test]
fn bind_primary_notifies_knot_secondary() {
    primary_notifies_knot_secondary(Kind::Bind, true);
}

#[test]
fn knot_primary_notifies_knot_secondary() {
    primary_notifies_knot_secondary(Kind::Knot, true);
}

/// `kdig IXFR=1` after one change: Knot and BIND send the diff (the SOA
/// four times: new, old, new, new), NSD 4.6 sends the whole zone.
fn ixfr_after_change(kind: Kind) -> Vec<String> {
    let mut primary = Server::start(
        kind,
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 50))
            .ixfr(),
    );
    primary.update_zone(EXAMPLE, &example(2, 50));
    wait_until(
        Duration::from_secs(10),
        "the primary serves serial 2",
        || primary.serial(EXAMPLE) == Some(2),
    );
    let answer = kdig(primary.addr(), &["IXFR=1", EXAMPLE]);
    assert!(answer.success, "kdig IXFR failed:\n{}", answer.text);
    answer.answer
}

#[test]
fn knot_and_bind_serve_ixfr_diffs_nsd_the_full_zone() {
    for kind in [Kind::Knot, Kind::Bind] {
        let records = ixfr_after_change(kind);
        let soas = records.iter().filter(|r| r.contains(" SOA ")).count();
        assert_eq!(soas, 4, "{kind:?} IXFR should be a diff:\n{records:#?}");
        assert!(
            records.len() < 10,
            "{kind:?} IXFR sent {} records",
            records.len()
        );
        assert!(
            records.iter().any(|r| r.contains("\"2\"")),
            "{kind:?}: {records:#?}"
        );
    }
    let records = ixfr_after_change(Kind::Nsd);
    assert!(
        records.len() > 50,
        "NSD answered IXFR with {} records",
        records.len()
    );
}

#[test]
fn tsig_is_required_by_every_primary() {
    for kind in [Kind::Knot, Kind::Nsd, Kind::Bind] {
        let primary = Server::start(
            kind,
            ServerSpec::new()
                .primary_zone(EXAMPLE, &example(7, 3))
                .tsig(key()),
        );
        let unsigned = axfr_records(&primary, &[]);
        assert!(
            unsigned.iter().all(|r| !r.contains(" SOA ")),
            "{kind:?} served AXFR without TSIG: {unsigned:#?}"
        );
        let signed = axfr_records(&primary, &["-y", &key().to_dig_arg()]);
        assert!(
            signed.iter().any(|r| r.contains(" SOA ")) && signed.len() >= 9,
            "{kind:?} refused AXFR with TSIG: {signed:#?}"
        );
        let wrong = TsigKey::new(
            "xfr-key",
            "hmac-sha256",
            "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=",
        );
        let refused = axfr_records(&primary, &["-y", &wrong.to_dig_arg()]);
        assert!(
            refused.iter().all(|r| !r.contains(" SOA ")),
            "{kind:?} served AXFR with a wrong secret: {refused:#?}"
        );
    }
}

#[test]
fn knot_signs_with_nsec_and_nsec3() {
    for (signing, denial) in [(Signing::Nsec, "NSEC"), (Signing::Nsec3, "NSEC3")] {
        let primary = servers::knot(
            ServerSpec::new()
                .primary_zone(EXAMPLE, &example(1, 3))
                .sign(signing),
        );
        let dnskey = dig(primary.addr(), &["+dnssec", EXAMPLE, "DNSKEY"]);
        assert!(!dnskey.answers_of("DNSKEY").is_empty(), "{}", dnskey.text);
        assert!(!dnskey.answers_of("RRSIG").is_empty(), "{}", dnskey.text);
        let nx = dig(primary.addr(), &["+dnssec", "nope.example.test.", "A"]);
        assert_eq!(nx.rcode, "NXDOMAIN", "{}", nx.text);
        let proofs = nx
            .records("authority")
            .into_iter()
            .filter(|r| r.rtype == denial)
            .count();
        assert!(proofs >= 1, "{denial} missing:\n{}", nx.text);
    }
}

#[test]
fn dig_and_kdig_parse_the_same_answer() {
    let primary = servers::nsd(
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(3, 2))
            .identity("e2e-node")
            .ipv6(),
    );
    for answer in [
        dig(primary.addr(), &["+nsid", "www.example.test.", "A"]),
        kdig(primary.addr(), &["+nsid", "www.example.test.", "A"]),
    ] {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        assert_eq!(answer.opcode, "QUERY", "{}", answer.text);
        assert!(
            answer.has_flag("aa") && answer.has_flag("qr"),
            "{}",
            answer.text
        );
        assert_eq!(answer.edns_version, Some(0), "{}", answer.text);
        let a = answer.answers_of("A");
        assert_eq!(a.len(), 1, "{}", answer.text);
        assert_eq!(a[0].rdata, "192.0.2.80");
        assert_eq!(a[0].ttl, 300);
        assert!(
            answer.nsid.as_deref().unwrap_or("").contains("e2e-node"),
            "{}",
            answer.text
        );
    }
    for answer in [
        dig(primary.addr(), &["nope.example.test.", "A"]),
        kdig(primary.addr(), &["nope.example.test.", "A"]),
    ] {
        assert_eq!(answer.rcode, "NXDOMAIN", "{}", answer.text);
        let soa = answer.records("authority");
        assert_eq!(soa.len(), 1, "{}", answer.text);
        assert_eq!(soa[0].rtype, "SOA");
        assert_eq!(soa[0].ttl, 60, "negative TTL = min(SOA TTL, MINIMUM)");
    }
    let v6 = primary
        .addr6()
        .map(|addr| dig(addr, &["example.test.", "SOA"]));
    assert_eq!(v6.and_then(|a| a.soa_serial()), Some(3));
}

#[test]
fn a_stopped_server_restarts_on_the_same_port_with_its_data() {
    let mut primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(5, 2)));
    let addr = primary.addr();
    primary.stop();
    assert_eq!(primary.serial(EXAMPLE), None);
    primary.restart();
    assert_eq!(primary.addr(), addr);
    assert_eq!(primary.serial(EXAMPLE), Some(5));
}
