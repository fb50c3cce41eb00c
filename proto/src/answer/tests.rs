//! Conformance tests, named after the RFC section they check. Responses are
//! decoded with hickory-proto, an independent implementation.

use hickory_proto::op::{Message, ResponseCode};

use super::*;
use crate::zone::testing::{name, snapshot};

pub(crate) const ZONE: &str = "
example. 3600 SOA ns1.example. hostmaster.example. 2024010101 3600 600 604800 300
example. 3600 NS ns1.example.
example. 3600 NS ns2.example.
example. 3600 MX 10 mail.example.
example. 3600 MX 20 mx.elsewhere.test.
ns1.example. 3600 A 192.0.2.1
ns2.example. 3600 A 192.0.2.2
ns2.example. 3600 AAAA 2001:db8::2
mail.example. 3600 A 192.0.2.3
www.example. 300 A 192.0.2.10
www.example. 300 A 192.0.2.11
www.example. 300 TXT hello
alias.example. 300 CNAME www.example.
chain.example. 300 CNAME alias.example.
out.example. 300 CNAME www.elsewhere.test.
loop1.example. 300 CNAME loop2.example.
loop2.example. 300 CNAME loop1.example.
dangling.example. 300 CNAME nothing.example.
*.wild.example. 300 TXT wildcard
*.wild.example. 300 MX 10 mail.example.
ent.wild.example. ; placeholder replaced below
sub.example. 3600 NS ns.sub.example.
sub.example. 3600 NS ns.other.example.
sub.example. 3600 DS \\# 4 01020304
ns.sub.example. 3600 A 192.0.2.30
other.example. 3600 NS ns.other.example.
ns.other.example. 3600 A 192.0.2.40
dn.example. 300 DNAME target.test.
srv.example. 300 SRV 0 5 443 www.example.
";

pub(crate) fn zone() -> Snapshot {
    let text: String = ZONE
        .lines()
        .filter(|l| !l.contains("placeholder"))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = format!("{text}a.b.wild.example. 300 A 192.0.2.50\n");
    snapshot("example.", &text)
}

/// A query for `qname`/`qtype` in class IN, with EDNS (payload, DO) if given.
pub(crate) fn query(qname: &str, qtype: Rtype, edns: Option<(u16, bool)>) -> Vec<u8> {
    query_in_class(qname, qtype, Class::IN, edns)
}

pub(crate) fn query_in_class(
    qname: &str,
    qtype: Rtype,
    class: Class,
    edns: Option<(u16, bool)>,
) -> Vec<u8> {
    let arcount = u16::from(edns.is_some());
    let mut packet = vec![0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, arcount as u8];
    packet.extend_from_slice(name(qname).as_wire());
    packet.extend(qtype.0.to_be_bytes());
    packet.extend(class.0.to_be_bytes());
    if let Some((payload, dnssec_ok)) = edns {
        packet.extend([0, 0, 41]);
        packet.extend(payload.to_be_bytes());
        packet.extend([0, 0, if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
    }
    packet
}

pub(crate) fn respond_with(
    responder: &Responder,
    zones: &impl ZoneSet,
    packet: &[u8],
    transport: Transport,
) -> Message {
    let mut out = [0u8; 65535];
    match responder.respond(zones, packet, transport, &mut out) {
        Outcome::Reply { len, .. } => {
            assert!(len <= 65535);
            Message::from_vec(&out[..len]).expect("hickory decodes our response")
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// The authority section of a positive answer from [`zone`].
const ZONE_NS: [&str; 2] = [
    "example. 3600 IN NS ns1.example.",
    "example. 3600 IN NS ns2.example.",
];

/// The additional data [`ZONE_NS`] brings.
const ZONE_NS_ADDRESSES: [&str; 3] = [
    "ns1.example. 3600 IN A 192.0.2.1",
    "ns2.example. 3600 IN A 192.0.2.2",
    "ns2.example. 3600 IN AAAA 2001:db8::2",
];

/// `first` followed by the addresses of the zone's name servers.
fn with_ns_addresses(first: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    all.extend(ZONE_NS_ADDRESSES.iter().map(|s| s.to_string()));
    all.sort();
    all
}

fn sorted_additional(message: &Message) -> Vec<String> {
    let mut all = additional(message);
    all.sort();
    all
}

fn ask(qname: &str, qtype: Rtype) -> Message {
    respond_with(
        &Responder::default(),
        &zone(),
        &query(qname, qtype, None),
        Transport::Udp,
    )
}

fn rendered(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

fn answers(message: &Message) -> Vec<String> {
    rendered(&message.answers)
}

fn authority(message: &Message) -> Vec<String> {
    rendered(&message.authorities)
}

fn additional(message: &Message) -> Vec<String> {
    rendered(&message.additionals)
}

#[test]
fn rfc1034_4_3_2_exact_match_is_authoritative() {
    let response = ask("www.example.", Rtype::A);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.metadata.authoritative);
    assert!(!response.metadata.truncation);
    assert_eq!(
        answers(&response),
        [
            "www.example. 300 IN A 192.0.2.10",
            "www.example. 300 IN A 192.0.2.11"
        ]
    );
    // The zone's NS RRset and the servers' addresses, as NSD adds them.
    assert_eq!(authority(&response), ZONE_NS);
    assert_eq!(additional(&response), ZONE_NS_ADDRESSES);
    assert_eq!(response.metadata.id, 0xABCD);
    assert!(response.metadata.recursion_desired && !response.metadata.recursion_available);
}

#[test]
fn rfc1034_4_3_2_cname_chain_followed() {
    let response = ask("chain.example.", Rtype::A);
    assert_eq!(
        answers(&response),
        [
            "chain.example. 300 IN CNAME alias.example.",
            "alias.example. 300 IN CNAME www.example.",
            "www.example. 300 IN A 192.0.2.10",
            "www.example. 300 IN A 192.0.2.11",
        ]
    );
    assert!(response.metadata.authoritative);
    let cname = ask("chain.example.", Rtype::CNAME);
    assert_eq!(
        answers(&cname),
        ["chain.example. 300 IN CNAME alias.example."]
    );
}

#[test]
fn rfc1034_4_3_2_cname_out_of_zone_and_loops_stop() {
    let out = ask("out.example.", Rtype::A);
    assert_eq!(
        answers(&out),
        ["out.example. 300 IN CNAME www.elsewhere.test."]
    );
    assert_eq!(out.metadata.response_code, ResponseCode::NoError);
    let looped = ask("loop1.example.", Rtype::A);
    assert_eq!(
        answers(&looped).len(),
        2,
        "each CNAME once: {:?}",
        answers(&looped)
    );
    let dangling = ask("dangling.example.", Rtype::A);
    assert_eq!(
        dangling.metadata.response_code,
        ResponseCode::NXDomain,
        "RFC 6604: RCODE of the last name"
    );
    assert_eq!(answers(&dangling).len(), 1);
    assert_eq!(
        authority(&dangling),
        ["example. 300 IN SOA ns1.example. hostmaster.example. 2024010101 3600 600 604800 300"]
    );
}

#[test]
fn rfc2308_3_nxdomain_has_soa_with_minimum_ttl() {
    let response = ask("nope.example.", Rtype::A);
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
    assert!(response.metadata.authoritative);
    assert!(answers(&response).is_empty());
    assert_eq!(
        authority(&response),
        ["example. 300 IN SOA ns1.example. hostmaster.example. 2024010101 3600 600 604800 300"]
    );
}

#[test]
fn rfc2308_2_2_nodata_has_soa() {
    let response = ask("www.example.", Rtype::AAAA);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(answers(&response).is_empty());
    assert_eq!(authority(&response).len(), 1);
}

#[test]
fn rfc4592_2_2_1_empty_non_terminal_is_nodata_and_blocks_wildcard() {
    let ent = ask("b.wild.example.", Rtype::TXT);
    assert_eq!(ent.metadata.response_code, ResponseCode::NoError);
    assert!(
        answers(&ent).is_empty(),
        "ENT exists: no wildcard synthesis"
    );
    let below_ent = ask("x.b.wild.example.", Rtype::TXT);
    assert_eq!(
        below_ent.metadata.response_code,
        ResponseCode::NXDomain,
        "closer name exists"
    );
}

#[test]
fn rfc4592_3_3_wildcard_synthesis() {
    let response = ask("anything.wild.example.", Rtype::TXT);
    assert_eq!(
        answers(&response),
        ["anything.wild.example. 300 IN TXT wildcard"]
    );
    assert!(response.metadata.authoritative);
    let deep = ask("a.b.c.wild.example.", Rtype::TXT);
    assert_eq!(answers(&deep), ["a.b.c.wild.example. 300 IN TXT wildcard"]);
    let nodata = ask("x.wild.example.", Rtype::AAAA);
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(answers(&nodata).is_empty());
    assert_eq!(authority(&nodata).len(), 1);
    let mx = ask("y.wild.example.", Rtype::MX);
    assert_eq!(answers(&mx), ["y.wild.example. 300 IN MX 10 mail.example."]);
    assert_eq!(
        sorted_additional(&mx),
        with_ns_addresses(&["mail.example. 3600 IN A 192.0.2.3"])
    );
}

#[test]
fn rfc1034_4_3_2_referral_with_glue() {
    let response = ask("www.sub.example.", Rtype::A);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(!response.metadata.authoritative);
    assert!(answers(&response).is_empty());
    assert_eq!(
        authority(&response),
        [
            "sub.example. 3600 IN NS ns.sub.example.",
            "sub.example. 3600 IN NS ns.other.example."
        ]
    );
    assert_eq!(
        additional(&response),
        [
            "ns.sub.example. 3600 IN A 192.0.2.30",
            "ns.other.example. 3600 IN A 192.0.2.40"
        ],
        "in-bailiwick glue, including glue below another delegation"
    );
    let at_cut = ask("sub.example.", Rtype::NS);
    assert!(!at_cut.metadata.authoritative && answers(&at_cut).is_empty());
    let glue = ask("ns.sub.example.", Rtype::A);
    assert!(
        !glue.metadata.authoritative,
        "glue is not authoritative data"
    );
}

#[test]
fn rfc4035_3_1_4_1_ds_answered_from_the_parent_side() {
    let response = ask("sub.example.", Rtype::DS);
    assert!(response.metadata.authoritative);
    assert_eq!(answers(&response).len(), 1);
    let nods = ask("other.example.", Rtype::DS);
    assert!(nods.metadata.authoritative);
    assert!(answers(&nods).is_empty());
    assert_eq!(authority(&nods).len(), 1, "NODATA with the parent's SOA");
}

#[test]
fn rfc6672_3_1_dname_synthesises_cname() {
    let response = ask("www.dn.example.", Rtype::A);
    let rendered = answers(&response);
    assert_eq!(rendered.len(), 2);
    assert!(
        rendered[0].starts_with("dn.example. 300 IN DNAME"),
        "{rendered:?}"
    );
    assert_eq!(rendered[1], "www.dn.example. 300 IN CNAME www.target.test.");
    assert!(response.metadata.authoritative);
    let owner = ask("dn.example.", Rtype::A);
    assert!(
        answers(&owner).is_empty(),
        "the DNAME owner itself is not redirected"
    );
    let long_label = "a".repeat(63);
    let too_long = format!(
        "{long_label}.{long_label}.{long_label}.{}.dn.example.",
        "b".repeat(50)
    );
    let yx = ask(&too_long, Rtype::A);
    assert_eq!(yx.metadata.response_code, ResponseCode::YXDomain);
}

#[test]
fn rfc8482_4_1_any_gets_one_rrset() {
    let response = ask("www.example.", Rtype::ANY);
    assert_eq!(
        answers(&response),
        [
            "www.example. 300 IN A 192.0.2.10",
            "www.example. 300 IN A 192.0.2.11"
        ]
    );
    let apex = ask("example.", Rtype::ANY);
    assert!(
        answers(&apex).iter().all(|a| a.contains(" SOA ")),
        "{:?}",
        answers(&apex)
    );
}

#[test]
fn rfc1035_3_3_9_mx_and_ns_get_additional_addresses() {
    // NSD's order: every A (MX targets first, then the name servers'),
    // then every AAAA.
    let mx = ask("example.", Rtype::MX);
    assert_eq!(answers(&mx).len(), 2);
    assert_eq!(
        additional(&mx),
        [
            "mail.example. 3600 IN A 192.0.2.3",
            "ns1.example. 3600 IN A 192.0.2.1",
            "ns2.example. 3600 IN A 192.0.2.2",
            "ns2.example. 3600 IN AAAA 2001:db8::2"
        ]
    );
    let ns = ask("example.", Rtype::NS);
    assert!(authority(&ns).is_empty(), "the NS RRset is the answer");
    assert_eq!(additional(&ns), ZONE_NS_ADDRESSES);
    let srv = ask("srv.example.", Rtype::SRV);
    assert_eq!(
        sorted_additional(&srv),
        with_ns_addresses(&[
            "www.example. 300 IN A 192.0.2.10",
            "www.example. 300 IN A 192.0.2.11"
        ])
    );
}

#[test]
fn rfc4343_question_case_is_preserved_and_owners_compressed_to_it() {
    let packet = query("wWw.ExAmPlE.", Rtype::A, None);
    let mut out = [0u8; 512];
    let Outcome::Reply { len, .. } =
        Responder::default().respond(&zone(), &packet, Transport::Udp, &mut out)
    else {
        panic!("no reply");
    };
    assert_eq!(&out[12..12 + 13], b"\x03wWw\x07ExAmPlE\x00");
    assert_eq!(
        &out[29..31],
        &[0xC0, 12],
        "answer owner points at the question"
    );
    let message = Message::from_vec(&out[..len]).unwrap();
    assert_eq!(message.answers[0].name.to_string(), "wWw.ExAmPlE.");
}

#[test]
fn rfc1035_4_3_1_names_outside_our_zones_are_refused() {
    let response = ask("www.example.org.", Rtype::A);
    assert_eq!(response.metadata.response_code, ResponseCode::Refused);
    assert!(!response.metadata.authoritative);
    assert_eq!(response.queries.len(), 1);
}

#[test]
fn rfc6891_6_1_1_opt_echoed_with_our_payload_and_do() {
    let packet = query("www.example.", Rtype::A, Some((4096, true)));
    let response = respond_with(&Responder::default(), &zone(), &packet, Transport::Udp);
    let edns = response.edns.clone().expect("OPT echoed");
    assert_eq!(edns.max_payload(), DEFAULT_MAX_UDP_PAYLOAD);
    assert!(edns.flags().dnssec_ok);
    assert_eq!(
        answers(&response).len(),
        2,
        "unsigned zone: no RRSIG even with DO"
    );
}

#[test]
fn rfc6891_6_1_3_unknown_version_is_badvers() {
    let mut packet = query("www.example.", Rtype::A, Some((1232, false)));
    let version_at = packet.len() - 5;
    packet[version_at] = 1;
    let response = respond_with(&Responder::default(), &zone(), &packet, Transport::Udp);
    assert_eq!(u16::from(response.metadata.response_code), rcode::BADVERS);
    assert!(response.answers.is_empty());
}

#[test]
fn rfc5001_nsid_when_asked_and_configured() {
    let config = AnswerConfig {
        nsid: Some(b"ams-1".to_vec()),
        ..AnswerConfig::default()
    };
    let mut packet = query("www.example.", Rtype::A, Some((1232, false)));
    packet.truncate(packet.len() - 2);
    packet.extend([0, 4, 0, 3, 0, 0]);
    let mut out = [0u8; 1232];
    let Outcome::Reply { len, .. } =
        Responder::new(config).respond(&zone(), &packet, Transport::Udp, &mut out)
    else {
        panic!("no reply");
    };
    assert!(out[..len].ends_with(&[0, 3, 0, 5, b'a', b'm', b's', b'-', b'1']));
    let plain = query("www.example.", Rtype::A, Some((1232, false)));
    let config = AnswerConfig {
        nsid: Some(b"ams-1".to_vec()),
        ..AnswerConfig::default()
    };
    let Outcome::Reply { len, .. } =
        Responder::new(config).respond(&zone(), &plain, Transport::Udp, &mut out)
    else {
        panic!("no reply");
    };
    assert!(out[..len].ends_with(&[0, 0]), "no NSID unless asked");
}

#[test]
fn rfc2181_9_truncation_keeps_whole_rrsets_and_sets_tc() {
    let mut text = String::from(
        "big. 3600 SOA ns.big. h.big. 1 2 3 4 5\nbig. 3600 NS ns.big.\nns.big. 1 A 192.0.2.1\n",
    );
    for i in 0..40 {
        text.push_str(&format!(
            "many.big. 300 TXT {}\n",
            format!("{i:02}").repeat(10)
        ));
    }
    let big = snapshot("big.", &text);
    let responder = Responder::default();
    let udp = respond_with(
        &responder,
        &big,
        &query("many.big.", Rtype::TXT, None),
        Transport::Udp,
    );
    assert!(udp.metadata.truncation);
    assert!(
        udp.answers.is_empty(),
        "the RRset does not fit whole in 512 octets"
    );
    let tcp = respond_with(
        &responder,
        &big,
        &query("many.big.", Rtype::TXT, None),
        Transport::Tcp,
    );
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 40);
    let edns = respond_with(
        &responder,
        &big,
        &query("many.big.", Rtype::TXT, Some((4096, false))),
        Transport::Udp,
    );
    assert!(edns.metadata.truncation, "1232 is our cap");
}

#[test]
fn chaos_identity_and_version_are_configurable() {
    let config = AnswerConfig {
        identity: Some("ams-1".into()),
        version: None,
        ..AnswerConfig::default()
    };
    let responder = Responder::new(config);
    let id = respond_with(
        &responder,
        &zone(),
        &query_in_class("id.server.", Rtype::TXT, Class::CH, None),
        Transport::Udp,
    );
    assert_eq!(answers(&id), ["id.server. 0 CH TXT ams-1"]);
    assert!(!id.metadata.authoritative);
    let version = respond_with(
        &responder,
        &zone(),
        &query_in_class("version.bind.", Rtype::TXT, Class::CH, None),
        Transport::Udp,
    );
    assert_eq!(version.metadata.response_code, ResponseCode::Refused);
    let other = respond_with(
        &responder,
        &zone(),
        &query_in_class("example.", Rtype::A, Class::HS, None),
        Transport::Udp,
    );
    assert_eq!(other.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn rfc1996_rfc5936_rfc8945_special_queries_go_to_the_node() {
    let responder = Responder::default();
    let mut out = [0u8; 512];
    let axfr = query("example.", Rtype::AXFR, None);
    assert_eq!(
        responder.respond(&zone(), &axfr, Transport::Tcp, &mut out),
        Outcome::Special(SpecialQuery::Axfr { tsig: None })
    );
    let mut notify = query("example.", Rtype::SOA, None);
    notify[2] = 0x20;
    assert_eq!(
        responder.respond(&zone(), &notify, Transport::Udp, &mut out),
        Outcome::Special(SpecialQuery::Notify { tsig: None })
    );
    let mut signed = query("www.example.", Rtype::A, None);
    signed[11] = 1;
    let tsig_at = signed.len();
    signed.extend([0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0]);
    let outcome = responder.respond(&zone(), &signed, Transport::Udp, &mut out);
    assert_eq!(
        outcome,
        Outcome::Special(SpecialQuery::Signed { tsig: tsig_at })
    );
    let unsigned = unsigned_query(&signed, tsig_at).unwrap();
    assert_eq!(unsigned, query("www.example.", Rtype::A, None));
    let mut update = query("example.", Rtype::SOA, None);
    update[2] = 0x28;
    let Outcome::Reply { len, .. } = responder.respond(&zone(), &update, Transport::Udp, &mut out)
    else {
        panic!("no reply to UPDATE");
    };
    assert_eq!((len, out[3] & 0xF), (12, 4), "header-only NOTIMP, as NSD");
}

struct Aged<'a>(&'a Snapshot, Freshness);

impl ZoneSet for Aged<'_> {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        let served = self.0.find(origin)?;
        Some(ServedZone {
            freshness: self.1,
            ..served
        })
    }
}

#[test]
fn expired_zone_is_servfail_and_stale_carries_ede() {
    let zone = zone();
    let responder = Responder::default();
    let expired = respond_with(
        &responder,
        &Aged(&zone, Freshness::Expired),
        &query("www.example.", Rtype::A, None),
        Transport::Udp,
    );
    assert_eq!(expired.metadata.response_code, ResponseCode::ServFail);
    let packet = query("www.example.", Rtype::A, Some((1232, false)));
    let mut out = [0u8; 1232];
    let Outcome::Reply { len, .. } = responder.respond(
        &Aged(&zone, Freshness::Stale),
        &packet,
        Transport::Udp,
        &mut out,
    ) else {
        panic!("no reply");
    };
    assert!(
        out[..len].ends_with(&[0, 15, 0, 2, 0, 3]),
        "EDE 3 Stale Answer"
    );
    assert_eq!(Message::from_vec(&out[..len]).unwrap().answers.len(), 2);
}

struct Pair<'a>(&'a Snapshot, &'a Snapshot);

impl ZoneSet for Pair<'_> {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        self.0.find(origin).or_else(|| self.1.find(origin))
    }
}

#[test]
fn rfc4035_3_1_4_1_ds_for_a_child_apex_comes_from_the_served_parent() {
    let parent = zone();
    let child = snapshot(
        "sub.example.",
        "sub.example. 60 SOA ns.sub.example. h.sub.example. 9 1 1 1 60\n\
         sub.example. 60 NS ns.sub.example.\n\
         ns.sub.example. 60 A 192.0.2.30\n\
         www.sub.example. 60 A 192.0.2.31\n",
    );
    let zones = Pair(&child, &parent);
    let responder = Responder::default();
    let ds = respond_with(
        &responder,
        &zones,
        &query("sub.example.", Rtype::DS, None),
        Transport::Udp,
    );
    assert!(ds.metadata.authoritative);
    assert_eq!(answers(&ds).len(), 1, "the parent's DS");
    let a = respond_with(
        &responder,
        &zones,
        &query("www.sub.example.", Rtype::A, None),
        Transport::Udp,
    );
    assert_eq!(
        answers(&a),
        ["www.sub.example. 60 IN A 192.0.2.31"],
        "the child answers below its apex"
    );
    let soa = respond_with(
        &responder,
        &zones,
        &query("sub.example.", Rtype::SOA, None),
        Transport::Udp,
    );
    assert!(soa.metadata.authoritative && answers(&soa).len() == 1);
    let alone = respond_with(
        &responder,
        &child,
        &query("sub.example.", Rtype::DS, None),
        Transport::Udp,
    );
    assert!(
        alone.metadata.authoritative && answers(&alone).is_empty(),
        "NODATA from the child"
    );
}
