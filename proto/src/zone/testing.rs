//! A tiny zone-text reader for unit tests: absolute names, one record per
//! line, the handful of types the tests use.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::name::Name;
use crate::record::{Class, Record, Rtype};

use super::Snapshot;

/// Reads `owner ttl TYPE rdata...` lines (blank lines and `;` comments skipped).
pub(crate) fn records(text: &str) -> Vec<Record> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .map(record)
        .collect()
}

/// A snapshot of `text` with origin `origin`.
pub(crate) fn snapshot(origin: &str, text: &str) -> Snapshot {
    Snapshot::build(&name(origin), records(text)).expect("test zone builds")
}

pub(crate) fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test name")
}

fn record(line: &str) -> Record {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (owner, ttl, rtype, rest) = (fields[0], fields[1], fields[2], &fields[3..]);
    let rtype = Rtype::from_mnemonic(rtype).expect("type");
    let mut rdata = Vec::new();
    let put_name = |rdata: &mut Vec<u8>, text: &str| rdata.extend_from_slice(name(text).as_wire());
    match rtype {
        Rtype::A => rdata.extend(rest[0].parse::<Ipv4Addr>().unwrap().octets()),
        Rtype::AAAA => rdata.extend(rest[0].parse::<Ipv6Addr>().unwrap().octets()),
        Rtype::NS | Rtype::CNAME | Rtype::DNAME | Rtype::PTR => put_name(&mut rdata, rest[0]),
        Rtype::MX => {
            rdata.extend(rest[0].parse::<u16>().unwrap().to_be_bytes());
            put_name(&mut rdata, rest[1]);
        }
        Rtype::SRV => {
            for field in &rest[..3] {
                rdata.extend(field.parse::<u16>().unwrap().to_be_bytes());
            }
            put_name(&mut rdata, rest[3]);
        }
        Rtype::SOA => {
            put_name(&mut rdata, rest[0]);
            put_name(&mut rdata, rest[1]);
            for field in &rest[2..7] {
                rdata.extend(field.parse::<u32>().unwrap().to_be_bytes());
            }
        }
        Rtype::TXT => {
            for string in rest {
                rdata.push(string.len() as u8);
                rdata.extend_from_slice(string.as_bytes());
            }
        }
        _ => {
            assert_eq!(rest[0], "\\#", "generic RDATA expected");
            let hex: String = rest[2..].concat();
            rdata.extend(
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()),
            );
        }
    }
    Record {
        owner: name(owner),
        rtype,
        class: Class::IN,
        ttl: ttl.parse().unwrap(),
        rdata: rdata.into(),
    }
}
