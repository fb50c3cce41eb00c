//! Differential test: every response of our responder must equal, as a
//! whole (header, question, every section as a multiset, OPT), the response
//! of a real NSD or of a real Knot DNS to the same query.
//!
//! NSD and Knot serve the same zone files as primaries on loopback high
//! ports; our responder answers in-process from snapshots loaded by AXFR
//! from NSD, as a secondary would. The zones are the fixture zones of
//! `tests/zones/`, the tricky zone of `answer_support/zones/` under four
//! origins (unsigned, NSEC, NSEC3, NSEC3 opt-out), signed copies of
//! fixture zones, a child zone and a sibling zone that CNAMEs lead into, and
//! zones that are configured but have no data. Queries are generated: every
//! name of a zone, a name below it and one beside it, times many types,
//! times EDNS variants (none, 512, 1232, 4096, DO on and off, NSID, TCP),
//! with the case of the question name scrambled; plus classes, opcodes,
//! EDNS versions and malformed packets. Fails, never skips, when `nsd`,
//! `knotd` or BIND's signing tools are missing.
//!
//! `ANSWER_PARITY_REPORT=FILE` writes every query on which NSD and Knot
//! disagree, and which one we matched, to FILE.

mod answer_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;

use answer_support::compare::Seen;
use answer_support::knot::Knot;
use answer_support::nsd::{self, Nsd, ask_udp};
use answer_support::{TempDir, name};
use understudy_proto::Name;
use understudy_proto::answer::{
    AnswerConfig, Freshness, Outcome, Responder, ServedZone, Transport, ZoneSet,
};
use understudy_proto::record::{Class, Rtype};
use understudy_proto::zone::Snapshot;

/// How a zone is served.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// From this file, by both oracles.
    File,
    /// From this file, by NSD only (Knot refuses the zone).
    NsdOnly,
    /// Configured everywhere, but no data.
    Unloaded,
}

struct ZoneSpec {
    origin: String,
    file: PathBuf,
    source: Source,
}

/// The zones: fixtures, the tricky zone under four origins, signed fixture
/// copies, the child and sibling zones, and two zones without data.
fn write_zones(dir: &Path) -> Vec<ZoneSpec> {
    let mut zones = Vec::new();
    let mut add = |origin: &str, text: String, signing: Option<&[&str]>, source| {
        let plain = dir.join(format!("{origin}zone"));
        std::fs::write(&plain, text).unwrap();
        let file = match signing {
            None => plain,
            Some(args) => sign(dir, origin, &plain, args),
        };
        zones.push(ZoneSpec {
            origin: origin.to_string(),
            file,
            source,
        });
    };
    let parity = support_zone("parity.zone");
    let nsec: &[&str] = &[];
    let nsec3: &[&str] = &["-3", "aabbccdd", "-H", "2"];
    let optout: &[&str] = &["-3", "-", "-H", "0", "-A"];
    for (origin, signing) in [
        ("parity.test.", None),
        ("nsec.test.", Some(nsec)),
        ("nsec3.test.", Some(nsec3)),
        ("optout.test.", Some(optout)),
    ] {
        let text = format!("$ORIGIN {origin}\n{parity}");
        add(origin, text, signing, Source::File);
    }
    for (origin, file) in [
        ("child.parity.test.", "child.zone"),
        ("other.test.", "other.zone"),
        ("apexdname.test.", "apexdname.zone"),
        ("outns.test.", "outns.zone"),
    ] {
        let text = format!("$ORIGIN {origin}\n{}", support_zone(file));
        add(origin, text, None, Source::File);
    }
    for fixture in ["wildcard", "chains", "deleg", "types"] {
        let origin = format!("{fixture}.test.");
        add(&origin, fixture_zone(fixture), None, Source::File);
    }
    add("loops.test.", fixture_zone("loops"), None, Source::NsdOnly);
    for (fixture, origin, signing) in [
        ("wildcard", "wcnsec.test.", nsec),
        ("wildcard", "wcnsec3.test.", nsec3),
        ("chains", "chnsec3.test.", nsec3),
        ("deleg", "dgoptout.test.", optout),
        ("deleg", "dgnsec.test.", nsec),
    ] {
        let text = fixture_zone(fixture).replace(&format!("{fixture}.test."), origin);
        add(origin, text, Some(signing), Source::File);
    }
    for origin in ["unloaded.test.", "unloaded.parity.test."] {
        zones.push(ZoneSpec {
            origin: origin.to_string(),
            file: dir.join(format!("{origin}missing")),
            source: Source::Unloaded,
        });
    }
    zones
}

fn support_zone(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/answer_support/zones")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_zone(fixture: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/zones")
        .join(format!("{fixture}.test.zone"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
        .arg("-d")
        .arg(dir)
        .args(args)
        .args(["-o", origin, "-f"])
        .arg(&signed)
        .arg(plain));
    signed
}

/// Our side: every zone's snapshot (none for the unloaded ones).
struct Zones(Vec<(Vec<u8>, Option<Snapshot>)>);

impl ZoneSet for Zones {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        let (_, snapshot) = self.0.iter().find(|(o, _)| o.as_slice() == origin)?;
        Some(ServedZone {
            snapshot: snapshot.as_ref(),
            freshness: Freshness::Fresh,
        })
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

/// How a query is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variant {
    /// EDNS payload size and DO, or no OPT.
    edns: Option<(u16, bool)>,
    tcp: bool,
    nsid: bool,
    rd_cd: bool,
    /// QCLASS ANY instead of IN.
    class_any: bool,
}

const fn variant(edns: Option<(u16, bool)>, tcp: bool) -> Variant {
    Variant {
        edns,
        tcp,
        nsid: false,
        rd_cd: false,
        class_any: false,
    }
}

const VARIANTS: [Variant; 9] = [
    variant(None, false),
    variant(Some((1232, false)), false),
    variant(Some((1232, true)), false),
    variant(Some((512, true)), false),
    Variant {
        nsid: true,
        ..variant(Some((4096, true)), false)
    },
    variant(Some((1232, true)), true),
    variant(None, true),
    Variant {
        rd_cd: true,
        ..variant(Some((1400, false)), false)
    },
    Variant {
        class_any: true,
        ..variant(Some((1232, true)), false)
    },
];

/// Types asked at every name of a zone (plus the types the name has).
const TYPES: [Rtype; 19] = [
    Rtype::A,
    Rtype::AAAA,
    Rtype::NS,
    Rtype::SOA,
    Rtype::MX,
    Rtype::TXT,
    Rtype::CNAME,
    Rtype::DNAME,
    Rtype::SRV,
    Rtype::DS,
    Rtype::DNSKEY,
    Rtype::NSEC,
    Rtype::NSEC3,
    Rtype::NSEC3PARAM,
    Rtype::RRSIG,
    Rtype::ANY,
    Rtype::PTR,
    Rtype::HINFO,
    Rtype::CAA,
];

/// Types asked at names below and beside the zone's names.
const DERIVED_TYPES: [Rtype; 8] = [
    Rtype::A,
    Rtype::AAAA,
    Rtype::TXT,
    Rtype::MX,
    Rtype::DS,
    Rtype::NSEC,
    Rtype::CNAME,
    Rtype::ANY,
];

/// Types asked two labels below the zone's names.
const DEEP_TYPES: [Rtype; 4] = [Rtype::A, Rtype::TXT, Rtype::DS, Rtype::ANY];

/// A query to send: its label for reports, its bytes, and how.
struct Probe {
    label: String,
    packet: Vec<u8>,
    tcp: bool,
}

/// A small deterministic generator for case scrambling and variant choice.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn build_query(id: u16, qname: &[u8], qtype: u16, qclass: u16, variant: Variant) -> Vec<u8> {
    let flags: u16 = if variant.rd_cd { 0x0110 } else { 0 };
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend(flags.to_be_bytes());
    packet.extend([0, 1, 0, 0, 0, 0, 0, u8::from(variant.edns.is_some())]);
    packet.extend_from_slice(qname);
    packet.extend(qtype.to_be_bytes());
    packet.extend(qclass.to_be_bytes());
    if let Some((payload, dnssec_ok)) = variant.edns {
        packet.extend([0, 0, 41]);
        packet.extend(payload.to_be_bytes());
        packet.extend([0, 0, if dnssec_ok { 0x80 } else { 0 }, 0]);
        if variant.nsid {
            packet.extend([0, 4, 0, 3, 0, 0]);
        } else {
            packet.extend([0, 0]);
        }
    }
    packet
}

/// `wire` with the case of its letters scrambled.
fn scramble(wire: &[u8], rng: &mut Lcg) -> Vec<u8> {
    wire.iter()
        .map(|&b| {
            if b.is_ascii_alphabetic() && rng.next().is_multiple_of(3) {
                b ^ 0x20
            } else {
                b
            }
        })
        .collect()
}

/// The names asked in one zone: every owner (NSEC3 owners but two
/// skipped), every empty non-terminal, and a name below and one beside each.
fn zone_names(snapshot: &Snapshot) -> Vec<(Name, Vec<Rtype>)> {
    let origin = snapshot.origin();
    let hashed: BTreeSet<Name> = snapshot
        .records()
        .filter(|r| r.rtype == Rtype::NSEC3)
        .map(|r| r.owner)
        .skip(2)
        .collect();
    let mut owners: BTreeSet<Name> = BTreeSet::new();
    let mut types: BTreeMap<Name, BTreeSet<Rtype>> = BTreeMap::new();
    let mut targets: BTreeSet<Name> = BTreeSet::new();
    for record in snapshot.records().filter(|r| !hashed.contains(&r.owner)) {
        let at = match record.rtype {
            Rtype::NS | Rtype::CNAME | Rtype::DNAME | Rtype::PTR => Some(0),
            Rtype::MX => Some(2),
            Rtype::SRV => Some(6),
            _ => None,
        };
        let target = at.and_then(|at| Name::from_wire(record.rdata.get(at..)?).ok());
        targets.extend(target.filter(|t| t.is_subdomain_of(&origin)));
        let mut current = Some(record.owner.clone());
        while let Some(owner) = current.filter(|n| n.is_subdomain_of(&origin)) {
            current = owner.parent();
            owners.insert(owner);
        }
        types.entry(record.owner).or_default().insert(record.rtype);
    }
    // Names only referred to (targets of NS, CNAME, MX...) are asked too.
    owners.extend(targets);
    let mut names = Vec::new();
    for owner in &owners {
        let present = types.get(owner).into_iter().flatten();
        let mut wanted: Vec<Rtype> = TYPES.to_vec();
        wanted.extend(present.filter(|t| !TYPES.contains(t)));
        names.push((owner.clone(), wanted));
        if let Ok(below) = owner.prepend(b"zz") {
            if let Ok(deeper) = below.prepend(b"y") {
                names.push((deeper, DEEP_TYPES.to_vec()));
            }
            names.push((below, DERIVED_TYPES.to_vec()));
        }
        if owner != &origin
            && let Some(beside) = beside(owner)
        {
            names.push((beside, DERIVED_TYPES.to_vec()));
        }
    }
    names
}

/// `owner` with "-nx" appended to its first label.
fn beside(owner: &Name) -> Option<Name> {
    let wire = owner.as_wire();
    let len = *wire.first()? as usize;
    if len + 3 > 63 {
        return None;
    }
    let mut out = vec![(len + 3) as u8];
    out.extend_from_slice(wire.get(1..1 + len)?);
    out.extend_from_slice(b"-nx");
    out.extend_from_slice(wire.get(1 + len..)?);
    Name::from_wire(&out).ok()
}

fn zone_probes(snapshot: &Snapshot, rng: &mut Lcg, per_pair: usize) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (qname, types) in zone_names(snapshot) {
        for qtype in types {
            let first = rng.next() as usize;
            for k in 0..per_pair {
                let variant = VARIANTS[(first + k * 3) % VARIANTS.len()];
                let wire = scramble(qname.as_wire(), rng);
                let id = rng.next() as u16;
                let class = if variant.class_any {
                    Class::ANY
                } else {
                    Class::IN
                };
                probes.push(Probe {
                    label: format!("{qname} {qtype} {variant:?}"),
                    packet: build_query(id, &wire, qtype.0, class.0, variant),
                    tcp: variant.tcp,
                });
            }
        }
    }
    probes
}

/// The outcome of running probes: failures, counts and oracle splits.
#[derive(Default)]
struct Tally {
    queries: usize,
    failures: Vec<String>,
    matched_nsd_only: usize,
    matched_knot_only: usize,
    oracles_differ: usize,
    report: String,
}

struct Oracles {
    nsd: Nsd,
    knot: Knot,
    nsd_socket: UdpSocket,
    knot_socket: UdpSocket,
}

impl Oracles {
    fn ask(&self, probe: &Probe, knot_too: bool) -> (Seen, Option<Seen>) {
        let (nsd, knot) = if probe.tcp {
            (
                nsd::ask_tcp(self.nsd.addr, &probe.packet),
                knot_too.then(|| self.knot.ask_tcp(&probe.packet)).flatten(),
            )
        } else {
            (
                ask_udp(&self.nsd_socket, self.nsd.addr, &probe.packet),
                knot_too
                    .then(|| ask_udp(&self.knot_socket, self.knot.addr, &probe.packet))
                    .flatten(),
            )
        };
        let knot = knot_too.then(|| Seen::of(knot.as_deref()));
        (Seen::of(nsd.as_deref()), knot)
    }
}

/// Our response; `None` for transfers and NOTIFY, which the node answers
/// with the transfer code (tested elsewhere).
fn ours(zones: &Zones, probe: &Probe) -> Option<Seen> {
    let mut out = vec![0u8; 65535];
    let transport = if probe.tcp {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    match responder().respond(zones, &probe.packet, transport, &mut out) {
        Outcome::Reply { len, rcode } => {
            let seen = Seen::of(Some(&out[..len]));
            if let Seen::Reply(reply) = &seen {
                assert!(
                    reply.header.contains(&format!("rcode={rcode} ")),
                    "{}: Outcome rcode {rcode} but {}",
                    probe.label,
                    reply.header
                );
            }
            Some(seen)
        }
        Outcome::Drop => Some(Seen::Nothing),
        Outcome::Special(_) => None,
    }
}

fn run(oracles: &Oracles, zones: &Zones, probes: &[Probe], knot_too: bool, tally: &mut Tally) {
    for probe in probes {
        let Some(mine) = ours(zones, probe) else {
            continue;
        };
        tally.queries += 1;
        let (nsd, knot) = oracles.ask(probe, knot_too);
        show(
            probe,
            &[
                ("NSD", Some(&nsd)),
                ("Knot", knot.as_ref()),
                ("ours", Some(&mine)),
            ],
        );
        let vs_nsd = nsd.diff(&mine);
        let vs_knot = knot.as_ref().map(|k| k.diff(&mine));
        let knot_ok = vs_knot.as_ref().is_some_and(Vec::is_empty);
        if let Some(knot) = &knot
            && knot != &nsd
        {
            tally.oracles_differ += 1;
            let matched = match (vs_nsd.is_empty(), knot_ok) {
                (true, _) => "NSD",
                (false, true) => "Knot",
                _ => "neither",
            };
            let _ = writeln!(tally.report, "{} -> ours matched {matched}", probe.label);
            for line in nsd.diff(knot) {
                let _ = writeln!(tally.report, "    nsd/knot {line}");
            }
        }
        match (vs_nsd.is_empty(), knot_ok) {
            (true, true) => {}
            (true, false) => tally.matched_nsd_only += usize::from(knot.is_some()),
            (false, true) => tally.matched_knot_only += 1,
            (false, false) => {
                let mut text = format!("{}\n", probe.label);
                for line in vs_nsd {
                    let _ = writeln!(text, "    vs NSD  {line}");
                }
                for line in vs_knot.into_iter().flatten() {
                    let _ = writeln!(text, "    vs Knot {line}");
                }
                tally.failures.push(text);
            }
        }
    }
}

/// With `ANSWER_PARITY_SHOW=TEXT`, prints the three responses to every
/// query whose label contains TEXT.
fn show(probe: &Probe, seen: &[(&str, Option<&Seen>)]) {
    let Some(pattern) = std::env::var_os("ANSWER_PARITY_SHOW") else {
        return;
    };
    if !probe.label.contains(pattern.to_str().unwrap_or("")) {
        return;
    }
    eprintln!("== {}", probe.label);
    for (server, seen) in seen {
        eprintln!("  {server}: {seen:#?}");
    }
}

struct Fixture {
    oracles: Oracles,
    zones: Zones,
    specs: Vec<ZoneSpec>,
    _dir: TempDir,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("vs-knot-nsd");
    let specs = write_zones(dir.path());
    let all: Vec<(&str, &Path)> = specs
        .iter()
        .map(|z| (z.origin.as_str(), z.file.as_path()))
        .collect();
    let knot_zones: Vec<(&str, &Path)> = specs
        .iter()
        .filter(|z| z.source != Source::NsdOnly)
        .map(|z| (z.origin.as_str(), z.file.as_path()))
        .collect();
    let nsd = Nsd::start(&all);
    let knot = Knot::start(&knot_zones);
    let zones = specs
        .iter()
        .map(|spec| {
            let origin = name(&spec.origin);
            let snapshot = (spec.source != Source::Unloaded).then(|| {
                Snapshot::build(&origin, nsd.axfr(&spec.origin)).expect("AXFR'd zone builds")
            });
            (origin.to_lowercase().as_wire().to_vec(), snapshot)
        })
        .collect();
    let oracles = Oracles {
        nsd,
        knot,
        nsd_socket: UdpSocket::bind("127.0.0.1:0").unwrap(),
        knot_socket: UdpSocket::bind("127.0.0.1:0").unwrap(),
    };
    Fixture {
        oracles,
        zones: Zones(zones),
        specs,
        _dir: dir,
    }
}

/// Queries that need no zone data, or probe the server's handling of the
/// message itself: classes, CHAOS, opcodes, EDNS, malformed packets.
fn general_probes(rng: &mut Lcg) -> Vec<Probe> {
    let mut probes = Vec::new();
    let mut push =
        |label: String, packet: Vec<u8>, tcp: bool| probes.push(Probe { label, packet, tcp });
    let plain = variant(Some((1232, false)), false);
    for qname in [
        "parity.test.",
        "www.parity.test.",
        "nx.parity.test.",
        "wildcard.test.",
        "unloaded.test.",
        "example.com.",
        ".",
    ] {
        for qclass in [Class::CH.0, Class::HS.0, Class::NONE.0, Class::ANY.0, 42] {
            for qtype in [Rtype::SOA, Rtype::A, Rtype::ANY, Rtype::NS] {
                for v in [
                    plain,
                    variant(None, false),
                    variant(Some((1232, true)), true),
                ] {
                    let wire = scramble(name(qname).as_wire(), rng);
                    let packet = build_query(rng.next() as u16, &wire, qtype.0, qclass, v);
                    push(
                        format!("{qname} class {qclass} {qtype} {v:?}"),
                        packet,
                        v.tcp,
                    );
                }
            }
        }
    }
    for qname in [
        "id.server.",
        "hostname.bind.",
        "version.bind.",
        "version.server.",
        "authors.bind.",
        "foo.bind.",
    ] {
        for qtype in [Rtype::TXT, Rtype::A, Rtype::ANY] {
            for v in [plain, variant(None, false), variant(None, true)] {
                let packet = build_query(9, name(qname).as_wire(), qtype.0, Class::CH.0, v);
                push(format!("CHAOS {qname} {qtype} {v:?}"), packet, v.tcp);
            }
        }
    }
    for (index, packet) in odd_queries().into_iter().enumerate() {
        let label = format!(
            "odd query {index}: {:02x?}",
            &packet[..packet.len().min(48)]
        );
        push(format!("{label} udp"), packet.clone(), false);
        push(format!("{label} tcp"), packet, true);
    }
    probes
}

/// Messages with something unusual about them.
fn odd_queries() -> Vec<Vec<u8>> {
    let www = name("www.parity.test.");
    let plain = variant(Some((1232, false)), false);
    let base = build_query(5, www.as_wire(), Rtype::A.0, 1, variant(None, false));
    let with_opt = build_query(6, www.as_wire(), Rtype::A.0, 1, plain);
    let opt_at = with_opt.len() - 11;
    let mut list = Vec::new();
    for opcode in [1u8, 2, 3, 5, 6, 15] {
        for template in [&base, &with_opt] {
            let mut packet = template.clone();
            packet[2] = (packet[2] & 0x87) | (opcode << 3);
            list.push(packet);
        }
    }
    for (count_at, value) in [(5, 0), (5, 2), (7, 1), (9, 1), (11, 2)] {
        let mut packet = base.clone();
        packet[count_at] = value;
        list.push(packet);
    }
    list.push(base[..20].to_vec());
    list.push(base[..12].to_vec());
    list.push(base[..5].to_vec());
    for (byte, bits) in [
        (2, 0x80),
        (2, 0x02),
        (2, 0x04),
        (3, 0x01),
        (3, 0x20),
        (3, 0x40),
    ] {
        let mut packet = base.clone();
        packet[byte] |= bits;
        list.push(packet);
    }
    for version in [1u8, 255] {
        for dnssec_ok in [false, true] {
            let mut packet = with_opt.clone();
            packet[opt_at + 6] = version;
            packet[opt_at + 7] = if dnssec_ok { 0x80 } else { 0 };
            list.push(packet);
        }
    }
    for payload in [0u16, 100, 511, 65535] {
        let mut packet = with_opt.clone();
        packet[opt_at + 3..opt_at + 5].copy_from_slice(&payload.to_be_bytes());
        list.push(packet);
    }
    let mut two_opts = with_opt.clone();
    two_opts[11] = 2;
    two_opts.extend_from_slice(&with_opt[opt_at..]);
    list.push(two_opts);
    let mut named_opt = base.clone();
    named_opt[11] = 1;
    named_opt.extend([
        4, b't', b'e', b's', b't', 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0,
    ]);
    list.push(named_opt);
    for options in [
        &[0u8, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8][..],
        &[0xfd, 0xe9, 0, 0],
        &[0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8],
        &[0, 10, 0, 16, 1],
        &[0, 8, 0, 4, 0, 1, 24, 0],
    ] {
        let mut packet = with_opt.clone();
        let rdlen_at = packet.len() - 2;
        packet[rdlen_at..].copy_from_slice(&(options.len() as u16).to_be_bytes());
        packet.extend_from_slice(options);
        list.push(packet);
    }
    let mut trailing = base.clone();
    trailing.extend([0xde, 0xad, 0xbe, 0xef]);
    list.push(trailing);
    for qtype in [0u16, 251, 252, 253, 254, 41, 250, 128, 65535] {
        list.push(build_query(7, www.as_wire(), qtype, 1, plain));
    }
    for qtype in [251u16, 252] {
        for apex in ["parity.test.", "wildcard.test.", "nsec3.test."] {
            list.push(build_query(7, name(apex).as_wire(), qtype, 1, plain));
            list.push(build_query(
                7,
                name(apex).as_wire(),
                qtype,
                1,
                variant(None, false),
            ));
        }
    }
    let mut ixfr_soa = build_query(8, name("parity.test.").as_wire(), 251, 1, plain);
    ixfr_soa[9] = 1;
    let soa = [
        0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0,
        0, 0, 1, 0, 0, 0, 1,
    ];
    let at = 12 + name("parity.test.").wire_len() + 4;
    ixfr_soa.splice(at..at, soa);
    list.push(ixfr_soa);
    list.push(hex("1234 0000 0001 0000 0000 0000 c00c 0006 0001"));
    list.push(hex(
        "1234 0000 0001 0000 0000 0000 c014 0006 0001 0474657374 00",
    ));
    let mut long_label = hex("1234 0000 0001 0000 0000 0000 40");
    long_label.extend([b'a'; 64]);
    long_label.extend([0, 0, 6, 0, 1]);
    list.push(long_label);
    list.push(hex(
        "1234 2400 0001 0000 0000 0000 06706172697479 0474657374 00 0006 0001",
    ));
    list
}

fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn per_pair() -> usize {
    std::env::var("ANSWER_PARITY_VARIANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

#[test]
fn every_response_equals_nsd_or_knot() {
    let fixture = fixture();
    let mut rng = Lcg(0x5eed);
    let mut tally = Tally::default();
    let mut coverage = String::new();
    for spec in &fixture.specs {
        let Some(Some(snapshot)) = fixture
            .zones
            .0
            .iter()
            .find(|(o, _)| o == name(&spec.origin).to_lowercase().as_wire())
            .map(|(_, s)| s.as_ref())
        else {
            continue;
        };
        let probes = zone_probes(snapshot, &mut rng, per_pair());
        let before = tally.failures.len();
        run(
            &fixture.oracles,
            &fixture.zones,
            &probes,
            spec.source == Source::File,
            &mut tally,
        );
        let _ = writeln!(
            coverage,
            "{}: {} queries, {} failures",
            spec.origin,
            probes.len(),
            tally.failures.len() - before
        );
    }
    let general = general_probes(&mut rng);
    run(&fixture.oracles, &fixture.zones, &general, true, &mut tally);
    let _ = writeln!(coverage, "general: {} queries", general.len());
    eprintln!(
        "{coverage}{} queries; NSD and Knot differ on {}; matched only NSD {}, only Knot {}; {} failures",
        tally.queries,
        tally.oracles_differ,
        tally.matched_nsd_only,
        tally.matched_knot_only,
        tally.failures.len()
    );
    if let Some(path) = std::env::var_os("ANSWER_PARITY_REPORT") {
        std::fs::write(path, &tally.report).unwrap();
    }
    assert!(
        tally.failures.is_empty(),
        "{} responses equal neither NSD's nor Knot's:\n{}",
        tally.failures.len(),
        tally.failures.join("")
    );
}
