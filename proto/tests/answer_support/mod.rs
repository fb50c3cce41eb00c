//! Shared helpers for the answer integration tests: a reader for the zone
//! text the tests and `shared/bench/gen_zone.py` write, stand-in DNSSEC
//! records for zones whose signatures are never checked, the benchmark
//! zone and query mix, and query packets.

#![allow(dead_code)]

pub mod compare;
pub mod knot;
pub mod nsd;

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use understudy_proto::Name;
use understudy_proto::record::{Class, Record, Rtype};
use understudy_proto::zone::Snapshot;

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap_or_else(|e| panic!("bad name {text}: {e}"))
}

/// Reads one-record-per-line zone text with absolute owners:
/// `owner ttl [IN] TYPE rdata` for A, AAAA, NS, CNAME, DNAME, PTR, MX, SRV,
/// SOA, TXT (quoted strings) and RFC 3597 `\# len hex` for anything else.
pub fn parse_zone(text: &str) -> Vec<Record> {
    text.lines()
        .map(|line| line.split(';').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty() && !line.starts_with('$'))
        .map(parse_record)
        .collect()
}

fn parse_record(line: &str) -> Record {
    let fields = tokens(line);
    let mut rest = &fields[..];
    let owner = name(&rest[0]);
    let ttl: u32 = rest[1].parse().unwrap_or_else(|_| panic!("ttl in {line}"));
    rest = &rest[2..];
    if rest[0].eq_ignore_ascii_case("IN") {
        rest = &rest[1..];
    }
    let rtype = Rtype::from_mnemonic(&rest[0]).unwrap_or_else(|| panic!("type in {line}"));
    let rdata = rdata(rtype, &rest[1..]);
    Record {
        owner,
        rtype,
        class: Class::IN,
        ttl,
        rdata: rdata.into(),
    }
}

/// Splits on whitespace, keeping quoted strings (quotes removed) whole.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut token = String::new();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                token.push(c);
            }
            out.push(format!("\"{token}"));
        } else {
            let mut token = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                token.push(c);
                chars.next();
            }
            out.push(token);
        }
    }
    out
}

fn rdata(rtype: Rtype, fields: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    if fields.first().map(String::as_str) == Some("\\#") {
        let hex: String = fields[2..].concat();
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
    }
    let put_name = |out: &mut Vec<u8>, text: &str| out.extend_from_slice(name(text).as_wire());
    let num = |text: &str| -> u32 { text.parse().unwrap_or_else(|_| panic!("number {text}")) };
    match rtype {
        Rtype::A => out.extend(fields[0].parse::<Ipv4Addr>().unwrap().octets()),
        Rtype::AAAA => out.extend(fields[0].parse::<Ipv6Addr>().unwrap().octets()),
        Rtype::NS | Rtype::CNAME | Rtype::DNAME | Rtype::PTR => put_name(&mut out, &fields[0]),
        Rtype::MX => {
            out.extend((num(&fields[0]) as u16).to_be_bytes());
            put_name(&mut out, &fields[1]);
        }
        Rtype::SRV => {
            for field in &fields[..3] {
                out.extend((num(field) as u16).to_be_bytes());
            }
            put_name(&mut out, &fields[3]);
        }
        Rtype::SOA => {
            put_name(&mut out, &fields[0]);
            put_name(&mut out, &fields[1]);
            for field in &fields[2..7] {
                out.extend(num(field).to_be_bytes());
            }
        }
        Rtype::TXT => {
            for string in fields {
                let bytes = string.strip_prefix('"').unwrap_or(string).as_bytes();
                out.push(bytes.len() as u8);
                out.extend_from_slice(bytes);
            }
        }
        other => panic!("type {other} needs RFC 3597 form in test zones"),
    }
    out
}

/// Adds stand-in DNSSEC records: a DNSKEY, an RRSIG over every
/// authoritative RRset and an NSEC chain. The signatures are random-looking
/// bytes: the answer path never verifies them, and the sizes are realistic.
pub fn fake_sign(origin: &Name, records: Vec<Record>) -> Vec<Record> {
    let snapshot = Snapshot::build(origin, records).expect("unsigned zone builds");
    let records: Vec<Record> = snapshot.records().collect();
    let cuts: BTreeSet<Name> = records
        .iter()
        .filter(|r| r.rtype == Rtype::NS && r.owner != *origin)
        .map(|r| r.owner.clone())
        .collect();
    let below_cut = |owner: &Name| {
        let mut current = owner.parent();
        while let Some(parent) = current {
            if cuts.contains(&parent) {
                return true;
            }
            current = parent.parent();
        }
        false
    };
    let mut owners: Vec<Name> = Vec::new();
    for record in &records {
        if !below_cut(&record.owner) && owners.last() != Some(&record.owner) {
            owners.push(record.owner.clone());
        }
    }
    let mut out = records.clone();
    let dnskey = Record {
        owner: origin.clone(),
        rtype: Rtype::DNSKEY,
        class: Class::IN,
        ttl: 3600,
        rdata: vec![1, 0, 3, 8, 0xAA, 0xBB].into(),
    };
    out.push(dnskey);
    for (i, owner) in owners.iter().enumerate() {
        let next = &owners[(i + 1) % owners.len()];
        let mut rdata = next.as_wire().to_vec();
        rdata.extend([0, 6, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03]);
        out.push(Record {
            owner: owner.clone(),
            rtype: Rtype::NSEC,
            class: Class::IN,
            ttl: 300,
            rdata: rdata.into(),
        });
    }
    let signed: Vec<(Name, Rtype, u32)> = {
        let mut sets: Vec<(Name, Rtype, u32)> = out
            .iter()
            .filter(|r| !(below_cut(&r.owner) || (r.rtype == Rtype::NS && cuts.contains(&r.owner))))
            .map(|r| (r.owner.clone(), r.rtype, r.ttl))
            .collect();
        sets.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        sets
    };
    for (owner, rtype, ttl) in signed {
        out.push(rrsig(origin, &owner, rtype, ttl));
    }
    out
}

/// As [`fake_sign`] with an NSEC3 chain (SHA-1, `iterations`, salt
/// `aabbccdd`, empty non-terminals included) instead of NSEC.
pub fn fake_sign_nsec3(origin: &Name, records: Vec<Record>, iterations: u16) -> Vec<Record> {
    let nsec_signed = fake_sign(origin, records);
    let salt = [0xAA, 0xBB, 0xCC, 0xDD];
    let mut owners: BTreeSet<Name> = BTreeSet::new();
    for record in nsec_signed.iter().filter(|r| r.rtype == Rtype::NSEC) {
        let mut name = Some(record.owner.clone());
        while let Some(current) = name.filter(|n| n.is_subdomain_of(origin)) {
            name = current.parent();
            owners.insert(current);
        }
    }
    let mut hashes: Vec<[u8; 20]> = owners
        .iter()
        .map(|o| nsec3_hash(o, &salt, iterations))
        .collect();
    hashes.sort();
    let mut out: Vec<Record> = nsec_signed
        .into_iter()
        .filter(|r| {
            r.rtype != Rtype::NSEC && !(r.rtype == Rtype::RRSIG && r.rdata.starts_with(&[0, 47]))
        })
        .collect();
    let mut params = vec![1, 0];
    params.extend(iterations.to_be_bytes());
    params.push(4);
    params.extend(salt);
    out.push(Record {
        owner: origin.clone(),
        rtype: Rtype::NSEC3PARAM,
        class: Class::IN,
        ttl: 0,
        rdata: params.clone().into(),
    });
    out.push(rrsig(origin, origin, Rtype::NSEC3PARAM, 0));
    for (i, hash) in hashes.iter().enumerate() {
        let owner = origin.prepend(base32hex(hash).as_bytes()).unwrap();
        let mut rdata = params.clone();
        rdata.push(20);
        rdata.extend(hashes[(i + 1) % hashes.len()]);
        rdata.extend([0, 1, 0x40]);
        out.push(Record {
            owner: owner.clone(),
            rtype: Rtype::NSEC3,
            class: Class::IN,
            ttl: 300,
            rdata: rdata.into(),
        });
        out.push(rrsig(origin, &owner, Rtype::NSEC3, 300));
    }
    out
}

fn nsec3_hash(name: &Name, salt: &[u8], iterations: u16) -> [u8; 20] {
    use ring::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY};
    let mut input = name.to_lowercase().as_wire().to_vec();
    let mut hash = [0u8; 20];
    for _ in 0..=iterations {
        let mut context = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
        context.update(&input);
        context.update(salt);
        hash.copy_from_slice(context.finish().as_ref());
        input = hash.to_vec();
    }
    hash
}

fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    out
}

fn rrsig(signer: &Name, owner: &Name, covered: Rtype, ttl: u32) -> Record {
    let mut rdata = covered.0.to_be_bytes().to_vec();
    rdata.extend([8, owner.label_count() as u8]);
    rdata.extend(ttl.to_be_bytes());
    rdata.extend(2_000_000_000u32.to_be_bytes());
    rdata.extend(1_700_000_000u32.to_be_bytes());
    rdata.extend(12345u16.to_be_bytes());
    rdata.extend_from_slice(signer.as_wire());
    rdata.extend((0..128u32).map(|i| (i * 37 + u32::from(covered.0)) as u8));
    Record {
        owner: owner.clone(),
        rtype: Rtype::RRSIG,
        class: Class::IN,
        ttl,
        rdata: rdata.into(),
    }
}

/// A query packet for `qname`/`qtype`, with EDNS (payload, DO) if given.
pub fn query(id: u16, qname: &Name, qtype: Rtype, edns: Option<(u16, bool)>) -> Vec<u8> {
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    packet.extend_from_slice(qname.as_wire());
    packet.extend(qtype.0.to_be_bytes());
    packet.extend(Class::IN.0.to_be_bytes());
    if let Some((payload, dnssec_ok)) = edns {
        packet.extend([0, 0, 41]);
        packet.extend(payload.to_be_bytes());
        packet.extend([0, 0, if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
    }
    packet
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("understudy-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench_script(file: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/bench")
        .join(file);
    if root.exists() {
        root
    } else {
        PathBuf::from("/work/shared/bench").join(file)
    }
}

/// The benchmark zone from `gen_zone.py` (`names` owner names) and a query
/// mix from `gen_queries.py`, as (records, [(qname, qtype)]).
pub fn bench_zone(names: usize, queries: usize) -> (Vec<Record>, Vec<(Name, Rtype)>) {
    let dir = TempDir::new(&format!("bench-{names}"));
    let zone = dir.path().join("zone");
    let list = dir.path().join("queries");
    let run = |script: &str, args: &[&str]| {
        let status = Command::new("python3")
            .arg(bench_script(script))
            .args(args)
            .output()
            .expect("python3 runs");
        assert!(
            status.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    run(
        "gen_zone.py",
        &[
            "--names",
            &names.to_string(),
            "--out",
            zone.to_str().unwrap(),
        ],
    );
    let count = queries.to_string();
    run(
        "gen_queries.py",
        &[
            "--zone",
            zone.to_str().unwrap(),
            "--out",
            list.to_str().unwrap(),
            "--count",
            &count,
        ],
    );
    let records = parse_zone(&std::fs::read_to_string(&zone).unwrap());
    let mix = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (qname, qtype) = line.split_once(' ')?;
            Some((name(qname), Rtype::from_mnemonic(qtype.trim())?))
        })
        .collect();
    (records, mix)
}
