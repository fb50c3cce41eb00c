//! Conformance tests for the choices NSD makes where the RFCs leave room
//! (and Knot's where NSD's depend on load order), and a check that the
//! pre-written NS blocks give the same bytes as the general writer.

use hickory_proto::op::{Message, ResponseCode};

use super::tests::{ZONE, query, query_in_class, zone};
use super::*;
use crate::name::Name;
use crate::record::Record;
use crate::zone::testing::{name, records, snapshot};

/// Several zones served together, some without data.
struct Zones<'a>(Vec<(&'a str, Option<&'a Snapshot>)>);

impl ZoneSet for Zones<'_> {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        let (_, snapshot) = self
            .0
            .iter()
            .find(|(o, _)| name(o).to_lowercase().as_wire() == origin)?;
        Some(ServedZone {
            snapshot: *snapshot,
            freshness: Freshness::Fresh,
        })
    }
}

fn render(message: &Message) -> [Vec<String>; 3] {
    let text =
        |records: &[hickory_proto::rr::Record]| records.iter().map(|r| r.to_string()).collect();
    [
        text(&message.answers),
        text(&message.authorities),
        text(&message.additionals),
    ]
}

fn ask(zones: &impl ZoneSet, packet: &[u8]) -> (Message, u16) {
    let mut out = [0u8; 65535];
    match Responder::default().respond(zones, packet, Transport::Udp, &mut out) {
        Outcome::Reply { len, rcode } => (Message::from_vec(&out[..len]).expect("decodes"), rcode),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Stand-in RRSIGs over every RRset (never verified on the answer path).
fn signed(origin: &str, text: &str) -> Snapshot {
    let mut all = records(text);
    let mut seen: Vec<(Name, Rtype, u32)> = all
        .iter()
        .map(|r| (r.owner.clone(), r.rtype, r.ttl))
        .collect();
    seen.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    for (owner, rtype, ttl) in seen {
        let mut rdata = rtype.0.to_be_bytes().to_vec();
        rdata.extend([13, owner.label_count() as u8]);
        rdata.extend(ttl.to_be_bytes());
        rdata.extend([0x7F, 0, 0, 0, 0x60, 0, 0, 0, 0x30, 0x39]);
        rdata.extend_from_slice(name(origin).as_wire());
        rdata.extend((0..64u8).map(|i| i ^ rtype.0 as u8));
        all.push(Record {
            owner,
            rtype: Rtype::RRSIG,
            class: Class::IN,
            ttl,
            rdata: rdata.into(),
        });
    }
    Snapshot::build(&name(origin), all).expect("signed test zone builds")
}

const MANY_NS: &str = "
many. 3600 SOA ns01.many. h.many. 1 3600 600 86400 60
many. 3600 NS ns01.many.
many. 3600 NS ns02.many.
many. 3600 NS ns03.many.
many. 3600 NS ns04.many.
many. 3600 NS ns05.many.
many. 3600 NS ns06.many.
many. 3600 NS ns07.many.
many. 3600 NS ns08.many.
many. 3600 NS ns.elsewhere.test.
many. 3600 NS a.b.many.
ns01.many. 3600 A 192.0.2.1
ns01.many. 3600 AAAA 2001:db8::1
ns02.many. 3600 A 192.0.2.2
ns02.many. 3600 AAAA 2001:db8::2
ns03.many. 3600 A 192.0.2.3
ns03.many. 3600 AAAA 2001:db8::3
ns04.many. 3600 A 192.0.2.4
ns04.many. 3600 AAAA 2001:db8::4
ns05.many. 3600 A 192.0.2.5
ns05.many. 3600 AAAA 2001:db8::5
ns06.many. 3600 A 192.0.2.6
ns06.many. 3600 AAAA 2001:db8::6
ns07.many. 3600 A 192.0.2.7
ns08.many. 3600 AAAA 2001:db8::8
a.b.many. 3600 A 192.0.2.9
www.many. 300 A 192.0.2.80
www.many. 300 MX 10 ns01.many.
big.many. 300 TXT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
big.many. 300 TXT bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
big.many. 300 TXT ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
alias.many. 300 CNAME ns02.many.
soa.many. 300 PTR ns03.many.
";

/// Every name of `snapshot`, one below each, in scrambled case.
fn names_of(snapshot: &Snapshot) -> Vec<Name> {
    let mut names: Vec<Name> = snapshot.records().map(|r| r.owner).collect();
    names.dedup();
    let below: Vec<Name> = names.iter().filter_map(|n| n.prepend(b"zZ").ok()).collect();
    names.extend(below);
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let wire: Vec<u8> = n
                .as_wire()
                .iter()
                .enumerate()
                .map(|(j, b)| {
                    if (i + j) % 3 == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        *b
                    }
                })
                .collect();
            Name::from_wire(&wire).expect("scrambled name")
        })
        .collect()
}

#[test]
fn zone_ns_blocks_write_what_the_general_writer_writes() {
    let plain = zone();
    let many = snapshot("many.", MANY_NS);
    let many_signed = signed("many.", MANY_NS);
    let example_signed = signed(
        "example.",
        &ZONE
            .lines()
            .filter(|l| !l.contains("placeholder"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let config = AnswerConfig {
        nsid: Some(b"node-7".to_vec()),
        ..AnswerConfig::default()
    };
    let fast = Responder::new(config.clone());
    let general = Responder::without_template(config);
    let types = [
        Rtype::A,
        Rtype::AAAA,
        Rtype::MX,
        Rtype::TXT,
        Rtype::NS,
        Rtype::SOA,
        Rtype::PTR,
        Rtype::CNAME,
        Rtype::ANY,
    ];
    let variants: [(Option<(u16, bool)>, Transport); 6] = [
        (None, Transport::Udp),
        (Some((512, true)), Transport::Udp),
        (Some((700, false)), Transport::Udp),
        (Some((1232, true)), Transport::Udp),
        (Some((4096, true)), Transport::Udp),
        (Some((1232, true)), Transport::Tcp),
    ];
    let mut compared = 0;
    for snapshot in [&plain, &many, &many_signed, &example_signed] {
        assert!(
            snapshot.zone_ns().block(false).is_some(),
            "a block is built"
        );
        for qname in names_of(snapshot) {
            for qtype in types {
                for (edns, transport) in variants {
                    let mut packet = query(&qname.to_string(), qtype, edns);
                    if edns.is_some() && qtype == Rtype::TXT {
                        // Ask for NSID too: more room kept for the OPT RR.
                        let rdlength = packet.len() - 2;
                        packet[rdlength + 1] = 4;
                        packet.extend([0, 3, 0, 0]);
                    }
                    let mut a = [0u8; 65535];
                    let mut b = [0u8; 65535];
                    let x = fast.respond(snapshot, &packet, transport, &mut a);
                    let y = general.respond(snapshot, &packet, transport, &mut b);
                    assert_eq!(x, y, "{qname} {qtype} {edns:?} {transport:?}");
                    if let Outcome::Reply { len, .. } = x {
                        assert_eq!(a[..len], b[..len], "{qname} {qtype} {edns:?} {transport:?}");
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1000);
}

#[test]
fn rfc1034_4_3_2_zone_ns_left_out_without_tc_when_it_does_not_fit() {
    let many = snapshot("many.", MANY_NS);
    let (tight, _) = ask(&many, &query("big.many.", Rtype::TXT, None));
    let [answer, authority, _] = render(&tight);
    assert_eq!(answer.len(), 3, "the answer fits");
    assert!(authority.is_empty(), "the 10 NS records do not");
    assert!(!tight.metadata.truncation, "optional data: no TC (NSD)");
    let (roomy, _) = ask(&many, &query("big.many.", Rtype::TXT, Some((1232, false))));
    let [_, authority, additional] = render(&roomy);
    assert_eq!(authority.len(), 10);
    assert!(!additional.is_empty() && !roomy.metadata.truncation);
}

#[test]
fn rfc1034_4_3_2_referral_glue_that_does_not_fit_is_left_out_a_first() {
    let mut text = String::from(
        "p. 3600 SOA ns.p. h.p. 1 3600 600 86400 60\np. 3600 NS ns.p.\nns.p. 3600 A 192.0.2.1\n",
    );
    for i in 0..14 {
        text.push_str(&format!("child.p. 3600 NS ns{i:02}.child.p.\n"));
        text.push_str(&format!("ns{i:02}.child.p. 3600 A 192.0.2.{}\n", 10 + i));
        text.push_str(&format!(
            "ns{i:02}.child.p. 3600 AAAA 2001:db8::{}\n",
            10 + i
        ));
    }
    let p = snapshot("p.", &text);
    let (referral, rcode) = ask(&p, &query("www.child.p.", Rtype::A, None));
    let [answer, authority, additional] = render(&referral);
    assert!(answer.is_empty() && authority.len() == 14);
    assert!(!referral.metadata.authoritative && rcode == rcode::NOERROR);
    assert!(!additional.is_empty(), "some addresses fit");
    assert!(
        additional.iter().all(|r| r.contains(" A ")),
        "every A before any AAAA"
    );
    assert!(
        !referral.metadata.truncation,
        "NSD sets TC only when no address fits"
    );
}

#[test]
fn rfc1034_4_3_2_cname_into_another_served_zone_is_followed() {
    let parent = zone();
    let other = snapshot(
        "other.test.",
        "other.test. 60 SOA ns.other.test. h.other.test. 5 1 1 1 60\n\
         other.test. 60 NS ns.other.test.\n\
         ns.other.test. 60 A 192.0.2.70\n\
         www.other.test. 60 A 192.0.2.71\n",
    );
    let linked = snapshot(
        "linked.",
        "linked. 60 SOA ns.other.test. h.linked. 5 1 1 1 60\n\
         linked. 60 NS ns.other.test.\n\
         to.linked. 60 CNAME www.other.test.\n",
    );
    let zones = Zones(vec![
        ("example.", Some(&parent)),
        ("other.test.", Some(&other)),
        ("linked.", Some(&linked)),
    ]);
    let (message, _) = ask(&zones, &query("to.linked.", Rtype::A, None));
    let [answer, authority, additional] = render(&message);
    assert_eq!(
        answer,
        [
            "to.linked. 60 IN CNAME www.other.test.",
            "www.other.test. 60 IN A 192.0.2.71"
        ]
    );
    assert_eq!(
        authority,
        ["other.test. 60 IN NS ns.other.test."],
        "the target zone's NS"
    );
    assert_eq!(additional, ["ns.other.test. 60 IN A 192.0.2.70"]);
    assert!(message.metadata.authoritative);
}

#[test]
fn rfc1035_4_3_2_zone_without_data_is_servfail_not_a_parent_answer() {
    let parent = zone();
    let zones = Zones(vec![("example.", Some(&parent)), ("sub.example.", None)]);
    let mut packet = query("www.sub.example.", Rtype::A, Some((1232, false)));
    let (message, rcode) = ask(&zones, &packet);
    assert_eq!(message.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(rcode, rcode::SERVFAIL);
    assert!(
        render(&message).iter().all(Vec::is_empty),
        "no referral from the parent"
    );
    let mut out = [0u8; 512];
    let Outcome::Reply { len, .. } =
        Responder::default().respond(&zones, &packet, Transport::Udp, &mut out)
    else {
        panic!("no reply");
    };
    let text = b"Zone is configured but not loaded";
    assert!(out[..len].ends_with(text), "EDE 14 with NSD's text");
    // A CNAME into it stops there, as NSD does: NOERROR with the CNAME.
    let linked = snapshot(
        "linked.",
        "linked. 60 SOA ns.linked. h.linked. 5 1 1 1 60\nlinked. 60 NS ns.linked.\n\
         ns.linked. 60 A 192.0.2.9\nto.linked. 60 CNAME www.sub.example.\n",
    );
    let zones = Zones(vec![("sub.example.", None), ("linked.", Some(&linked))]);
    packet = query("to.linked.", Rtype::A, None);
    let (message, rcode) = ask(&zones, &packet);
    assert_eq!((rcode, render(&message)[0].len()), (rcode::NOERROR, 1));
}

#[test]
fn rfc6672_3_1_synthesised_name_keeps_the_question_case_only_in_the_owner() {
    let (message, _) = ask(&zone(), &query("WwW.Dn.example.", Rtype::A, None));
    let [answer, _, _] = render(&message);
    assert!(
        answer.contains(&"WwW.Dn.example. 300 IN CNAME www.target.test.".to_string()),
        "{answer:?}"
    );
}

#[test]
fn rfc8482_4_1_any_picks_the_rrset_independent_of_load_order() {
    let text = "
k. 60 SOA ns.k. h.k. 1 1 1 1 60
k. 60 NS ns.k.
k. 60 A 192.0.2.1
ns.k. 60 A 192.0.2.2
both.k. 60 MX 10 ns.k.
both.k. 60 AAAA 2001:db8::1
mixed.k. 60 MX 10 ns.k.
mixed.k. 60 HINFO \\# 4 01410142
plain.k. 60 TXT hello
plain.k. 60 HINFO \\# 4 01410142
";
    let k = snapshot("k.", text);
    let first = |qname: &str| {
        let (message, _) = ask(&k, &query(qname, Rtype::ANY, None));
        let [answer, authority, _] = render(&message);
        assert!(authority.is_empty(), "no NS RRset with ANY (NSD)");
        answer
            .first()
            .map(|r| r.split(' ').nth(3).unwrap_or_default().to_string())
    };
    assert_eq!(
        first("k.").as_deref(),
        Some("SOA"),
        "the apex: the SOA, which loads first"
    );
    assert_eq!(
        first("mixed.k.").as_deref(),
        Some("MX"),
        "NSD: the one preferred type"
    );
    assert_eq!(
        first("both.k.").as_deref(),
        Some("MX"),
        "two preferred: Knot's lowest type"
    );
    assert_eq!(
        first("plain.k.").as_deref(),
        Some("HINFO"),
        "two others: Knot's lowest type"
    );
}

#[test]
fn rfc6891_7_outcome_carries_the_full_rcode() {
    let (_, nx) = ask(&zone(), &query("nope.example.", Rtype::A, None));
    assert_eq!(nx, rcode::NXDOMAIN);
    let mut badvers = query("www.example.", Rtype::A, Some((1232, false)));
    let version_at = badvers.len() - 5;
    badvers[version_at] = 1;
    let mut out = [0u8; 512];
    let outcome = Responder::default().respond(&zone(), &badvers, Transport::Udp, &mut out);
    assert!(matches!(
        outcome,
        Outcome::Reply {
            rcode: rcode::BADVERS,
            ..
        }
    ));
    let (_, refused) = ask(
        &zone(),
        &query_in_class("example.", Rtype::SOA, Class::HS, None),
    );
    assert_eq!(refused, rcode::REFUSED);
}
