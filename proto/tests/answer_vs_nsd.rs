//! Differential tests: the same zones served by a real NSD (the oracle, on
//! a loopback high port) and by our responder, which loads them through
//! AXFR from that NSD as a secondary would. Each query goes to both; RCODE,
//! flags, question, OPT and every section (as a multiset of records) must
//! agree. Fails, never skips, when `nsd` or BIND's signing tools are missing.
//!
//! One deliberate difference is normalised away: NSD's default adds the
//! apex NS RRset (and its addresses) to positive answers; we give minimal
//! responses like Knot DNS, which RFC 1034 §4.3.2 allows.

mod answer_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use answer_support::nsd::{self, Decoded, Nsd, read_message};
use answer_support::{TempDir, name, query};
use understudy_proto::Name;
use understudy_proto::answer::{AnswerConfig, Outcome, Responder, ServedZone, Transport, ZoneSet};
use understudy_proto::record::{Record, Rtype};
use understudy_proto::zone::Snapshot;

const TRICKY: &str = r#"
tricky.test. 3600 IN SOA ns1.tricky.test. hostmaster.tricky.test. 2024 3600 600 604800 300
tricky.test. 3600 IN NS ns1.tricky.test.
tricky.test. 3600 IN NS ns2.tricky.test.
tricky.test. 3600 IN MX 10 mail.tricky.test.
tricky.test. 3600 IN MX 20 mx.external.example.
tricky.test. 3600 IN A 192.0.2.1
ns1.tricky.test. 3600 IN A 192.0.2.53
ns2.tricky.test. 3600 IN A 192.0.2.54
ns2.tricky.test. 3600 IN AAAA 2001:db8::54
mail.tricky.test. 3600 IN A 192.0.2.25
mail.tricky.test. 3600 IN AAAA 2001:db8::25
www.tricky.test. 300 IN A 192.0.2.80
www.tricky.test. 300 IN A 192.0.2.81
www.tricky.test. 300 IN AAAA 2001:db8::80
www.tricky.test. 300 IN TXT "hello world"
alias.tricky.test. 300 IN CNAME www.tricky.test.
chain1.tricky.test. 300 IN CNAME chain2.tricky.test.
chain2.tricky.test. 300 IN CNAME chain3.tricky.test.
chain3.tricky.test. 300 IN CNAME www.tricky.test.
loop1.tricky.test. 300 IN CNAME loop2.tricky.test.
loop2.tricky.test. 300 IN CNAME loop1.tricky.test.
dangling.tricky.test. 300 IN CNAME missing.tricky.test.
external.tricky.test. 300 IN CNAME www.external.example.
todeleg.tricky.test. 300 IN CNAME host.deleg.tricky.test.
towild.tricky.test. 300 IN CNAME foo.wild.tricky.test.
*.wild.tricky.test. 300 IN A 192.0.2.99
*.wild.tricky.test. 300 IN TXT "wildcard"
*.wild.tricky.test. 300 IN MX 10 mail.tricky.test.
sub.wild.tricky.test. 300 IN A 192.0.2.98
a.ent.wild.tricky.test. 300 IN A 192.0.2.97
*.cwild.tricky.test. 300 IN CNAME www.tricky.test.
a.b.c.ent.tricky.test. 300 IN A 192.0.2.70
deleg.tricky.test. 3600 IN NS ns.deleg.tricky.test.
deleg.tricky.test. 3600 IN NS ns.other.tricky.test.
deleg.tricky.test. 3600 IN NS ns.external.example.
ns.deleg.tricky.test. 3600 IN A 192.0.2.200
ns.deleg.tricky.test. 3600 IN AAAA 2001:db8::200
other.tricky.test. 3600 IN NS ns.other.tricky.test.
ns.other.tricky.test. 3600 IN A 192.0.2.201
dsdeleg.tricky.test. 3600 IN NS ns1.tricky.test.
dsdeleg.tricky.test. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
dn.tricky.test. 300 IN DNAME target.tricky.test.
x.target.tricky.test. 300 IN A 192.0.2.150
dnext.tricky.test. 300 IN DNAME external.example.
_sip._tcp.tricky.test. 300 IN SRV 0 5 5060 mail.tricky.test.
"#;

/// Names asked about in every zone (relative to the origin; "@" is the apex).
const NAMES: &[&str] = &[
    "@",
    "www",
    "WwW",
    "alias",
    "chain1",
    "loop1",
    "dangling",
    "external",
    "todeleg",
    "towild",
    "nope",
    "a.nope",
    "foo.wild",
    "Bar.Wild",
    "sub.wild",
    "x.sub.wild",
    "ent.wild",
    "x.ent.wild",
    "x.y.wild",
    "a.cwild",
    "c.ent",
    "b.c.ent",
    "a.b.c.ent",
    "z.c.ent",
    "deleg",
    "host.deleg",
    "ns.deleg",
    "other",
    "ns.other",
    "dsdeleg",
    "x.dsdeleg",
    "dn",
    "www.dn",
    "a.b.dn",
    "dnext",
    "x.dnext",
    "x.target",
    "_sip._tcp",
    "_tcp",
    "big",
    "manyns",
    "x.manyns",
    "ns1",
    "mail",
    "ns2",
];

const TYPES: &[Rtype] = &[
    Rtype::A,
    Rtype::AAAA,
    Rtype::TXT,
    Rtype::MX,
    Rtype::NS,
    Rtype::SOA,
    Rtype::CNAME,
    Rtype::DS,
    Rtype::ANY,
    Rtype::SRV,
    Rtype::DNAME,
    Rtype::NSEC,
    Rtype::RRSIG,
    Rtype::DNSKEY,
    Rtype::NSEC3PARAM,
];

fn tricky_text() -> String {
    let mut text = TRICKY.to_string();
    for i in 0..24 {
        text.push_str(&format!(
            "big.tricky.test. 300 IN TXT \"{}\"\n",
            format!("{i:02}-").repeat(20)
        ));
    }
    for i in 0..14 {
        text.push_str(&format!(
            "manyns.tricky.test. 3600 IN NS ns{i}.manyns.tricky.test.\n"
        ));
        text.push_str(&format!(
            "ns{i}.manyns.tricky.test. 3600 IN A 192.0.2.{}\n",
            100 + i
        ));
        text.push_str(&format!(
            "ns{i}.manyns.tricky.test. 3600 IN AAAA 2001:db8::{}\n",
            100 + i
        ));
    }
    text
}

/// The zones served: an unsigned one, one signed with NSEC, one with NSEC3
/// (opt-out, salted), all with the same content under their own origin.
fn write_zones(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut zones = Vec::new();
    for (origin, signing) in [
        ("tricky.test.", None),
        ("nsec.test.", Some(&[][..])),
        (
            "nsec3.test.",
            Some(&["-3", "aabbccdd", "-H", "1", "-A"][..]),
        ),
    ] {
        let text = tricky_text().replace("tricky.test.", origin);
        let plain = dir.join(format!("{origin}zone"));
        std::fs::write(&plain, text).unwrap();
        let file = match signing {
            None => plain,
            Some(args) => sign(dir, origin, &plain, args),
        };
        zones.push((origin.to_string(), file));
    }
    zones
}

fn sign(dir: &Path, origin: &str, plain: &Path, args: &[&str]) -> PathBuf {
    let run = |command: &mut Command| {
        let output = command
            .output()
            .expect("BIND's dnssec tools must be installed (apt-get install bind9)");
        assert!(
            output.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let keys = dir.join(format!("keys-{origin}"));
    std::fs::create_dir_all(&keys).unwrap();
    run(Command::new("dnssec-keygen")
        .args(["-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K"])
        .arg(&keys)
        .arg(origin));
    run(Command::new("dnssec-keygen")
        .args(["-q", "-a", "ECDSAP256SHA256", "-K"])
        .arg(&keys)
        .arg(origin));
    let signed = dir.join(format!("{origin}signed"));
    run(Command::new("dnssec-signzone")
        .args(["-q", "-S", "-K"])
        .arg(&keys)
        .args(args)
        .args(["-o", origin, "-f"])
        .arg(&signed)
        .arg(plain));
    signed
}

struct Zones(Vec<Snapshot>);

impl ZoneSet for Zones {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        self.0.iter().find_map(|zone| zone.find(origin))
    }
}

fn responder() -> Responder {
    Responder::new(AnswerConfig {
        nsid: Some(nsd::NSID.as_bytes().to_vec()),
        identity: Some(nsd::IDENTITY.into()),
        version: Some(nsd::VERSION.into()),
        ..AnswerConfig::default()
    })
}

fn ours(zones: &Zones, packet: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 65535];
    match responder().respond(zones, packet, transport, &mut out) {
        Outcome::Reply(len) => Some(out[..len].to_vec()),
        Outcome::Drop => None,
        Outcome::Special(special) => panic!("unexpected special {special:?}"),
    }
}

/// A record as compared: owner as written (0x20 kept), type, class, TTL, RDATA.
fn key(record: &Record) -> String {
    format!(
        "{} {} {} {} {:?}",
        record.owner, record.ttl, record.class, record.rtype, record.rdata
    )
}

fn sorted(records: &[Record]) -> Vec<String> {
    let mut keys: Vec<String> = records.iter().map(key).collect();
    keys.sort();
    keys
}

/// Drops what NSD's non-minimal responses add to positive answers: the apex
/// NS RRset (and its RRSIG) in authority and the addresses of those servers
/// in additional, where our response has none of them. Returns whether it
/// did: NSD then had less room, and we may carry more additional data.
fn normalise_nsd(nsd: &mut Decoded, ours: &Decoded, apex: &Name) -> bool {
    let positive = nsd.rcode == 0 && !nsd.sections[0].is_empty();
    let is_apex_ns = |r: &Record| {
        &r.owner == apex
            && (r.rtype == Rtype::NS || (r.rtype == Rtype::RRSIG && r.rdata.starts_with(&[0, 2])))
    };
    if !positive
        || ours.sections[1].iter().any(is_apex_ns)
        || !nsd.sections[1].iter().any(is_apex_ns)
    {
        return false;
    }
    let targets: Vec<Name> = nsd.sections[1]
        .iter()
        .filter(|r| &r.owner == apex && r.rtype == Rtype::NS)
        .filter_map(|r| Name::from_wire(&r.rdata).ok())
        .collect();
    nsd.sections[1].retain(|r| !is_apex_ns(r));
    let ours_additional = sorted(&ours.sections[2]);
    nsd.sections[2].retain(|r| !targets.contains(&r.owner) || ours_additional.contains(&key(r)));
    true
}

/// RFC 9471 §3: a referral whose in-domain glue does not all fit sets TC;
/// NSD 4.6 does not. Accepts exactly that difference.
fn rfc9471_truncation(ours: &Decoded, nsd: &Decoded) -> bool {
    let referral =
        ours.flags & 0x0400 == 0 && ours.sections[0].is_empty() && !ours.sections[1].is_empty();
    let only_tc = ours.flags == nsd.flags | 0x0200 && ours.flags != nsd.flags;
    let subset = sorted(&ours.sections[2])
        .iter()
        .all(|k| sorted(&nsd.sections[2]).contains(k));
    referral && only_tc && subset
}

fn compare(
    label: &str,
    ours: Option<Vec<u8>>,
    nsd: Option<Vec<u8>>,
    apex: &Name,
) -> Option<String> {
    let (ours, nsd) = match (ours, nsd) {
        (None, None) => return None,
        (Some(_), None) => return Some(format!("{label}: we answered, NSD dropped")),
        (None, Some(_)) => return Some(format!("{label}: we dropped, NSD answered")),
        (Some(ours), Some(nsd)) => (ours, nsd),
    };
    let lengths = format!("(ours {} octets, NSD {})", ours.len(), nsd.len());
    let ours = read_message(&ours).expect("our response decodes");
    let mut nsd = read_message(&nsd).expect("NSD's response decodes");
    let roomier = normalise_nsd(&mut nsd, &ours, apex);
    let glue_tc = rfc9471_truncation(&ours, &nsd);
    let mut problems = Vec::new();
    let flags_match = ours.flags == nsd.flags || glue_tc;
    if ours.id != nsd.id || !flags_match || ours.rcode != nsd.rcode {
        problems.push(format!(
            "header: ours flags {:#06x} rcode {} / nsd flags {:#06x} rcode {}",
            ours.flags, ours.rcode, nsd.flags, nsd.rcode
        ));
    }
    if ours.question != nsd.question || ours.qdcount != nsd.qdcount {
        problems.push("question differs".into());
    }
    let opt = |d: &Decoded| {
        d.opt
            .as_ref()
            .map(|o| (o.payload, o.dnssec_ok, o.version, o.options.clone()))
    };
    if opt(&ours) != opt(&nsd) {
        problems.push(format!("OPT: ours {:?} / nsd {:?}", ours.opt, nsd.opt));
    }
    for (i, section) in ["answer", "authority", "additional"].iter().enumerate() {
        let (a, b) = (sorted(&ours.sections[i]), sorted(&nsd.sections[i]));
        let extra_allowed = i == 2 && roomier && b.iter().all(|k| a.contains(k));
        let missing_allowed = i == 2 && glue_tc;
        if a != b && !extra_allowed && !missing_allowed {
            let only_ours: Vec<&String> = a.iter().filter(|k| !b.contains(k)).collect();
            let only_nsd: Vec<&String> = b.iter().filter(|k| !a.contains(k)).collect();
            problems.push(format!(
                "{section}: only ours {only_ours:#?}\n only NSD {only_nsd:#?}"
            ));
        }
    }
    (!problems.is_empty()).then(|| format!("{label} {lengths}:\n  {}", problems.join("\n  ")))
}

fn qname(relative: &str, origin: &str) -> Name {
    if relative == "@" {
        name(origin)
    } else {
        name(&format!("{relative}.{origin}"))
    }
}

struct Fixture {
    nsd: Nsd,
    zones: Zones,
    _dir: TempDir,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("vs-nsd");
    let files = write_zones(dir.path());
    let list: Vec<(&str, &Path)> = files
        .iter()
        .map(|(o, f)| (o.as_str(), f.as_path()))
        .collect();
    let nsd = Nsd::start(&list);
    let zones = files
        .iter()
        .map(|(origin, _)| {
            Snapshot::build(&name(origin), nsd.axfr(origin)).expect("AXFR'd zone builds")
        })
        .collect();
    Fixture {
        nsd,
        zones: Zones(zones),
        _dir: dir,
    }
}

fn run_matrix(fixture: &Fixture, origin: &str, edns: &[Option<(u16, bool)>]) -> Vec<String> {
    let apex = name(origin);
    let mut problems = Vec::new();
    let mut id = 0u16;
    let mut answered = 0;
    for relative in NAMES {
        for &qtype in TYPES {
            for &edns in edns {
                id = id.wrapping_add(1);
                let packet = query(id, &qname(relative, origin), qtype, edns);
                let label = format!("{relative}.{origin} {qtype} edns={edns:?}");
                let ours = ours(&fixture.zones, &packet, Transport::Udp);
                let nsd = fixture.nsd.ask(&packet);
                answered += usize::from(nsd.is_some());
                problems.extend(compare(&label, ours, nsd, &apex));
            }
        }
    }
    let asked = NAMES.len() * TYPES.len() * edns.len();
    assert_eq!(
        answered, asked,
        "NSD answered {answered} of {asked} queries for {origin}"
    );
    problems
}

fn report(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} differences from NSD:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn differential_against_nsd() {
    let fixture = fixture();
    let mut problems = run_matrix(
        &fixture,
        "tricky.test.",
        &[None, Some((1232, false)), Some((4096, true))],
    );
    problems.extend(run_matrix(
        &fixture,
        "nsec.test.",
        &[Some((1232, true)), Some((512, true))],
    ));
    problems.extend(run_matrix(
        &fixture,
        "nsec3.test.",
        &[Some((1232, true)), None],
    ));
    problems.extend(tcp_and_special_queries(&fixture));
    report(problems);
}

/// Truncation limits over TCP, CHAOS, out-of-zone, malformed and odd queries.
fn tcp_and_special_queries(fixture: &Fixture) -> Vec<String> {
    let apex = name("tricky.test.");
    let mut problems = Vec::new();
    for relative in ["big", "manyns", "x.manyns", "@"] {
        let packet = query(
            77,
            &qname(relative, "nsec.test."),
            Rtype::ANY,
            Some((1232, true)),
        );
        let ours = ours(&fixture.zones, &packet, Transport::Tcp);
        problems.extend(compare(
            &format!("TCP {relative}"),
            ours,
            Some(fixture.nsd.ask_tcp(&packet)),
            &apex,
        ));
    }
    for packet in odd_queries() {
        let label = format!("odd query {:02x?}", &packet[..packet.len().min(40)]);
        problems.extend(compare(
            &label,
            ours(&fixture.zones, &packet, Transport::Udp),
            fixture.nsd.ask(&packet),
            &apex,
        ));
    }
    problems
}

fn odd_queries() -> Vec<Vec<u8>> {
    let www = name("www.tricky.test.");
    let base = query(5, &www, Rtype::A, None);
    let with_opt = query(6, &www, Rtype::A, Some((1232, false)));
    let mut list = Vec::new();
    for (qname, qtype) in [
        ("id.server.", Rtype::TXT),
        ("hostname.bind.", Rtype::TXT),
        ("version.bind.", Rtype::TXT),
        ("version.server.", Rtype::ANY),
        ("foo.bind.", Rtype::TXT),
        ("id.server.", Rtype::A),
    ] {
        let mut packet = query(8, &name(qname), qtype, Some((1232, false)));
        let class_at = 12 + name(qname).wire_len() + 2;
        packet[class_at + 1] = 3;
        list.push(packet);
    }
    let mut hesiod = base.clone();
    let class_at = 12 + www.wire_len() + 3;
    hesiod[class_at] = 4;
    list.push(hesiod);
    list.push(query(
        9,
        &name("www.example.org."),
        Rtype::A,
        Some((1232, false)),
    ));
    list.push(query(9, &name("."), Rtype::NS, None));
    let mut any_class = base.clone();
    any_class[class_at] = 255;
    list.push(any_class);
    let mut update = base.clone();
    update[2] = 5 << 3;
    list.push(update);
    let mut status = base.clone();
    status[2] = 2 << 3;
    list.push(status);
    let mut no_question = base.clone();
    no_question[5] = 0;
    list.push(no_question);
    let mut two_questions = base.clone();
    two_questions[5] = 2;
    list.push(two_questions);
    list.push(base[..20].to_vec());
    let mut response = base.clone();
    response[2] |= 0x80;
    list.push(response);
    let mut rcode_set = base.clone();
    rcode_set[3] = 1;
    list.push(rcode_set);
    let mut answer_count = base.clone();
    answer_count[7] = 1;
    list.push(answer_count);
    let mut badvers = with_opt.clone();
    let version_at = badvers.len() - 5;
    badvers[version_at] = 1;
    list.push(badvers);
    let mut two_opts = with_opt.clone();
    two_opts[11] = 2;
    two_opts.extend_from_slice(&with_opt[with_opt.len() - 11..]);
    list.push(two_opts);
    let mut nsid = with_opt.clone();
    let rdlen_at = nsid.len() - 2;
    nsid[rdlen_at + 1] = 4;
    nsid.extend([0, 3, 0, 0]);
    list.push(nsid);
    let mut small_payload = with_opt.clone();
    let payload_at = small_payload.len() - 8;
    small_payload[payload_at] = 0;
    small_payload[payload_at + 1] = 100;
    list.push(small_payload);
    let mut trailing = base.clone();
    trailing.extend([1, 2, 3]);
    list.push(trailing);
    let mut upper = query(10, &name("WWW.TRICKY.TEST."), Rtype::A, None);
    upper[2] = 0x01;
    list.push(upper);
    list
}
