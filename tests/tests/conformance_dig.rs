//! Conformance checks with the real `dig` and `kdig` against a running
//! node (the secondary of an NSD primary holding the fixture zones), named
//! after the RFC section they check.

use understudy_e2e::client::{self, Transport};
use understudy_e2e::dig::{DigAnswer, dig, kdig};
use understudy_e2e::env::fixture;
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::message::{QueryMessage, flag};
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::wire::name_to_text;
use understudy_e2e::zones::{EXAMPLE, example};
use understudy_e2e::{Config, Understudy, ZoneConfig};

const NSID: &str = "e2e-node-7";
const VERSION: &str = "understudy-test-version";
const FIXTURES: &[&str] = &[
    "wildcard.test.",
    "chains.test.",
    "types.test.",
    "deleg.test.",
];

fn setup(config: Config) -> (Server, Understudy) {
    let mut spec = ServerSpec::new().primary_zone(EXAMPLE, &example(1, 5));
    for origin in FIXTURES {
        spec = spec.primary_zone(origin, &fixture(&format!("{origin}zone")));
    }
    let primary = servers::nsd(spec);
    let mut config = config;
    for origin in [EXAMPLE].iter().chain(FIXTURES) {
        config = config.zone(ZoneConfig::new(origin, &[primary.addr()]));
    }
    let node = Understudy::start_serving(config, FIRST_TRANSFER);
    (primary, node)
}

fn node() -> (Server, Understudy) {
    setup(
        Config::new("conformance")
            .dns("nsid", &format!("\"{NSID}\""))
            .dns("identity", &format!("\"{NSID}\""))
            .dns("version", &format!("\"{VERSION}\"")),
    )
}

fn both(node: &Understudy, args: &[&str]) -> [DigAnswer; 2] {
    [dig(node.addr(), args), kdig(node.addr(), args)]
}

#[test]
fn rfc1035_4_1_1_aa_set_on_authoritative_answers() {
    let (_primary, node) = node();
    for answer in both(&node, &["www.example.test.", "A"]) {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        assert!(
            answer.has_flag("qr") && answer.has_flag("aa"),
            "{}",
            answer.text
        );
        assert!(
            !answer.has_flag("ra"),
            "an authoritative-only server: {}",
            answer.text
        );
        let a = answer.answers_of("A");
        assert_eq!(a.len(), 1, "{}", answer.text);
        assert_eq!((a[0].ttl, a[0].rdata.as_str()), (300, "192.0.2.80"));
    }
}

#[test]
fn rfc2308_3_nxdomain_has_soa_with_negative_ttl() {
    let (_primary, node) = node();
    // negative TTL = min(SOA TTL, SOA MINIMUM)
    for (name, ttl) in [
        ("x.host.wildcard.test.", 600),
        ("nothing.chains.test.", 600),
        ("nx.types.test.", 300),
        ("nx.example.test.", 60),
    ] {
        for answer in both(&node, &[name, "A"]) {
            assert_eq!(answer.rcode, "NXDOMAIN", "{}", answer.text);
            assert!(answer.has_flag("aa"), "{}", answer.text);
            assert!(answer.answer.is_empty(), "{}", answer.text);
            let soa: Vec<_> = answer
                .records("authority")
                .into_iter()
                .filter(|r| r.rtype == "SOA")
                .collect();
            assert_eq!(soa.len(), 1, "{}", answer.text);
            assert_eq!(soa[0].ttl, ttl, "{}", answer.text);
        }
    }
}

#[test]
fn rfc2308_2_2_nodata_has_soa() {
    let (_primary, node) = node();
    for (name, rtype) in [
        ("www.example.test.", "TXT"),
        ("ent.wildcard.test.", "A"),
        ("c.d.e.types.test.", "A"),
        ("anything.wildcard.test.", "AAAA"),
    ] {
        for answer in both(&node, &[name, rtype]) {
            assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
            assert!(answer.has_flag("aa"), "{}", answer.text);
            assert!(answer.answer.is_empty(), "{}", answer.text);
            let authority = answer.records("authority");
            assert!(
                authority.iter().any(|r| r.rtype == "SOA"),
                "{}",
                answer.text
            );
        }
    }
}

#[test]
fn rfc1035_4_2_1_truncated_over_udp_then_full_over_tcp() {
    let (_primary, node) = node();
    for (name, udp_args, count) in [
        ("huge.types.test.", &["+bufsize=1232"][..], 120),
        ("big.types.test.", &["+bufsize=1232"][..], 30),
        ("mid.types.test.", &["+noedns"][..], 40),
    ] {
        let mut args = vec![name, "TXT", "+ignore", "+notcp"];
        if name.starts_with("mid") {
            args[1] = "A";
        }
        args.extend_from_slice(udp_args);
        let udp = dig(node.addr(), &args);
        assert!(udp.has_flag("tc"), "{}", udp.text);
        let partial = udp.answer.len();
        assert!(
            partial == 0 || partial == count,
            "a partial RRset:\n{}",
            udp.text
        );
        let tcp = dig(node.addr(), &[name, args[1], "+tcp"]);
        assert!(!tcp.has_flag("tc"), "{}", tcp.text);
        assert_eq!(tcp.answer.len(), count, "{}", tcp.text);
    }
    let fits = dig(
        node.addr(),
        &["mid.types.test.", "A", "+bufsize=1232", "+notcp", "+ignore"],
    );
    assert!(
        !fits.has_flag("tc") && fits.answer.len() == 40,
        "{}",
        fits.text
    );
}

#[test]
fn rfc6891_6_1_3_unknown_edns_version_gets_badvers() {
    let (_primary, node) = node();
    for answer in [
        dig(
            node.addr(),
            &["www.example.test.", "A", "+edns=1", "+noednsnegotiation"],
        ),
        kdig(node.addr(), &["www.example.test.", "A", "+edns=1"]),
    ] {
        assert_eq!(answer.rcode, "BADVERS", "{}", answer.text);
        assert_eq!(answer.edns_version, Some(0), "{}", answer.text);
        assert!(answer.answer.is_empty(), "{}", answer.text);
    }
}

#[test]
fn rfc6891_7_opt_echoed_with_do() {
    let (_primary, node) = node();
    for answer in both(&node, &["www.example.test.", "A", "+dnssec"]) {
        assert_eq!(answer.edns_version, Some(0), "{}", answer.text);
        assert!(
            answer.edns_flags.iter().any(|f| f == "do"),
            "{}",
            answer.text
        );
    }
    let plain = dig(node.addr(), &["www.example.test.", "A", "+noedns"]);
    assert_eq!(
        plain.edns_version, None,
        "no OPT without EDNS:\n{}",
        plain.text
    );
}

#[test]
fn rfc5001_nsid_names_the_node() {
    let (_primary, node) = node();
    for answer in both(&node, &["www.example.test.", "A", "+nsid"]) {
        let nsid = answer.nsid.clone().unwrap_or_default();
        assert!(nsid.contains(NSID), "{}", answer.text);
    }
    let without = dig(node.addr(), &["www.example.test.", "A"]);
    assert_eq!(
        without.nsid, None,
        "NSID only when asked:\n{}",
        without.text
    );
}

#[test]
fn chaos_identity_and_version_answered() {
    let (_primary, node) = node();
    for (name, want) in [
        ("version.bind.", VERSION),
        ("id.server.", NSID),
        ("hostname.bind.", NSID),
    ] {
        for answer in both(&node, &[name, "TXT", "CH"]) {
            assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
            let txt = answer.answers_of("TXT");
            assert_eq!(txt.len(), 1, "{}", answer.text);
            assert_eq!(txt[0].rdata, format!("\"{want}\""), "{}", answer.text);
            assert_eq!(txt[0].class, "CH", "{}", answer.text);
        }
    }
}

#[test]
fn chaos_and_nsid_can_be_disabled() {
    let (_primary, node) = setup(
        Config::new("quiet")
            .dns("nsid", "\"\"")
            .dns("identity", "\"\"")
            .dns("version", "\"\""),
    );
    for name in ["version.bind.", "id.server.", "hostname.bind."] {
        let answer = dig(node.addr(), &[name, "TXT", "CH"]);
        assert!(answer.answers_of("TXT").is_empty(), "{}", answer.text);
        assert_ne!(answer.rcode, "NOERROR", "{}", answer.text);
    }
    let answer = dig(node.addr(), &["www.example.test.", "A", "+nsid"]);
    assert_eq!(answer.nsid, None, "{}", answer.text);
    assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
}

#[test]
fn rfc1034_4_3_2_names_outside_the_zones_are_refused() {
    let (_primary, node) = node();
    for name in ["example.com.", "test.", ".", "other.example."] {
        for answer in both(&node, &[name, "A"]) {
            assert_eq!(answer.rcode, "REFUSED", "{}", answer.text);
            assert!(!answer.has_flag("aa"), "{}", answer.text);
            assert!(answer.answer.is_empty(), "{}", answer.text);
        }
    }
}

#[test]
fn rfc2136_update_is_refused_by_a_read_only_copy() {
    let (_primary, node) = node();
    let mut update = QueryMessage::new(EXAMPLE, 6);
    update.opcode = 5;
    for transport in [Transport::Udp, Transport::Tcp] {
        let reply = client::query(node.addr(), &update, transport);
        assert!(reply.has(flag::QR));
        assert_eq!(reply.opcode, 5, "{}", reply.to_text());
        assert!(
            matches!(reply.rcode, 4 | 5),
            "REFUSED or NOTIMP: {}",
            reply.to_text()
        );
        assert!(reply.answer.is_empty());
    }
    assert_eq!(node.serial(EXAMPLE), Some(1));
}

#[test]
fn ipv6_loopback_is_answered() {
    let (_primary, node) = node();
    for answer in [
        dig(node.addr6(), &["www.example.test.", "AAAA"]),
        kdig(node.addr6(), &["www.example.test.", "AAAA", "+tcp"]),
    ] {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        assert!(answer.has_flag("aa"), "{}", answer.text);
        assert_eq!(
            answer.answers_of("AAAA")[0].rdata,
            "2001:db8::80",
            "{}",
            answer.text
        );
    }
}

#[test]
fn rfc1034_3_1_question_case_preserved() {
    let (_primary, node) = node();
    for transport in [Transport::Udp, Transport::Tcp] {
        let query = QueryMessage::new("WwW.ExAmPlE.TeSt.", 1);
        let reply = client::query(node.addr(), &query, transport);
        assert_eq!(reply.rcode, 0, "{}", reply.to_text());
        assert_eq!(reply.questions.len(), 1);
        assert_eq!(name_to_text(&reply.questions[0].name), "WwW.ExAmPlE.TeSt.");
        assert_eq!(reply.answer.len(), 1, "{}", reply.to_text());
    }
}

#[test]
fn rfc8482_any_is_answered_from_the_zone() {
    let (_primary, node) = node();
    for args in [
        &["www.example.test.", "ANY"][..],
        &["www.example.test.", "ANY", "+tcp"][..],
    ] {
        for answer in both(&node, args) {
            assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
            assert!(answer.has_flag("aa"), "{}", answer.text);
            assert!(!answer.answer.is_empty(), "{}", answer.text);
            assert!(
                answer
                    .records("answer")
                    .iter()
                    .all(|r| r.owner == "www.example.test."),
                "{}",
                answer.text
            );
        }
    }
}

#[test]
fn rfc4592_wildcard_synthesised_with_the_query_name() {
    let (_primary, node) = node();
    for answer in both(&node, &["Some.Thing.wildcard.test.", "A"]) {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        let a = answer.records("answer");
        assert_eq!(a.len(), 1, "{}", answer.text);
        assert!(
            a[0].owner.eq_ignore_ascii_case("some.thing.wildcard.test."),
            "{}",
            answer.text
        );
        assert_eq!(a[0].rdata, "192.0.2.10");
    }
    let closer = dig(node.addr(), &["x.host.sub.wildcard.test.", "A"]);
    assert_eq!(
        closer.rcode, "NXDOMAIN",
        "closer name exists: {}",
        closer.text
    );
}

#[test]
fn rfc6672_2_2_dname_synthesises_a_cname() {
    let (_primary, node) = node();
    for answer in both(&node, &["www.dname.chains.test.", "A"]) {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        let records = answer.records("answer");
        assert!(
            records
                .iter()
                .any(|r| r.rtype == "DNAME" && r.owner == "dname.chains.test.")
        );
        assert!(records.iter().any(|r| r.rtype == "CNAME"
            && r.owner == "www.dname.chains.test."
            && r.rdata == "www.tgt.chains.test."));
        assert!(
            records
                .iter()
                .any(|r| r.rtype == "A" && r.rdata == "192.0.2.50"),
            "{}",
            answer.text
        );
    }
}

#[test]
fn rfc1034_4_3_2_referral_with_glue() {
    let (_primary, node) = node();
    for answer in both(&node, &["www.child.deleg.test.", "A"]) {
        assert_eq!(answer.rcode, "NOERROR", "{}", answer.text);
        assert!(
            !answer.has_flag("aa"),
            "a referral is not authoritative: {}",
            answer.text
        );
        assert!(
            answer.answer.is_empty(),
            "occluded data served: {}",
            answer.text
        );
        let ns: Vec<_> = answer
            .records("authority")
            .into_iter()
            .filter(|r| r.rtype == "NS")
            .collect();
        assert_eq!(ns.len(), 2, "{}", answer.text);
        let glue = answer.records("additional");
        assert!(
            glue.iter()
                .any(|r| r.owner == "ns1.child.deleg.test." && r.rdata == "192.0.2.53")
        );
    }
    let ds = dig(node.addr(), &["secure.deleg.test.", "DS"]);
    assert!(
        ds.has_flag("aa") && ds.answers_of("DS").len() == 2,
        "DS from the parent: {}",
        ds.text
    );
}
