//! Whole-response comparison for the differential tests: a response reduced
//! to everything a resolver could act on, record order aside.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use understudy_proto::Name;
use understudy_proto::record::{Record, Rtype};

use super::nsd::{Decoded, read_message};

/// A response reduced for comparison: header word (flags, opcode and the low
/// RCODE bits), the full RCODE, the question as echoed (case kept), each
/// section as a sorted multiset of records (owner case kept), and the OPT
/// RR's payload size, DO bit, version and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub header: String,
    pub question: String,
    pub sections: [Vec<String>; 3],
    pub opt: String,
}

/// What a server did with one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// No response (dropped, or the TCP connection closed).
    Nothing,
    /// Bytes that are not a DNS message.
    Garbage(Vec<u8>),
    /// A response.
    Reply(Canonical),
}

impl Seen {
    /// Reduces raw response bytes (or their absence).
    pub fn of(bytes: Option<&[u8]>) -> Seen {
        let Some(bytes) = bytes else {
            return Seen::Nothing;
        };
        match read_message(bytes) {
            Some(decoded) => Seen::Reply(Canonical::of(&decoded)),
            None => Seen::Garbage(bytes.to_vec()),
        }
    }

    /// One line per difference between `self` and `other`.
    pub fn diff(&self, other: &Seen) -> Vec<String> {
        match (self, other) {
            (Seen::Reply(a), Seen::Reply(b)) => a.diff(b),
            (a, b) if a == b => Vec::new(),
            (a, b) => vec![format!("{}  <>  {}", a.summary(), b.summary())],
        }
    }

    fn summary(&self) -> String {
        match self {
            Seen::Nothing => "no response".into(),
            Seen::Garbage(bytes) => format!("unparsable {bytes:02x?}"),
            Seen::Reply(reply) => reply.header.clone(),
        }
    }
}

impl Canonical {
    fn of(message: &Decoded) -> Canonical {
        let flags = message.flags;
        let mut names = String::new();
        for (bit, name) in [
            (0x8000, "qr"),
            (0x0400, "aa"),
            (0x0200, "tc"),
            (0x0100, "rd"),
            (0x0080, "ra"),
            (0x0040, "z"),
            (0x0020, "ad"),
            (0x0010, "cd"),
        ] {
            if flags & bit != 0 {
                names.push(' ');
                names.push_str(name);
            }
        }
        let header = format!(
            "opcode={} rcode={} flags=[{}] qdcount={}",
            (flags >> 11) & 0xF,
            message.rcode,
            names.trim(),
            message.qdcount
        );
        let opt = match &message.opt {
            None => "no OPT".to_string(),
            Some(opt) => format!(
                "OPT payload={} do={} version={} options={:02x?}",
                opt.payload, opt.dnssec_ok, opt.version, opt.options
            ),
        };
        let section = |records: &[Record]| {
            let mut lines: Vec<String> = records.iter().map(record_text).collect();
            lines.sort();
            lines
        };
        Canonical {
            header,
            question: question_text(&message.question),
            sections: [
                section(&message.sections[0]),
                section(&message.sections[1]),
                section(&message.sections[2]),
            ],
            opt,
        }
    }

    fn diff(&self, other: &Canonical) -> Vec<String> {
        let mut lines = Vec::new();
        if self.header != other.header {
            lines.push(format!("header: {}  <>  {}", self.header, other.header));
        }
        if self.question != other.question {
            lines.push(format!(
                "question: {}  <>  {}",
                self.question, other.question
            ));
        }
        if self.opt != other.opt {
            lines.push(format!("opt: {}  <>  {}", self.opt, other.opt));
        }
        for (i, name) in ["answer", "authority", "additional"].iter().enumerate() {
            let (left, right) = (&self.sections[i], &other.sections[i]);
            for line in left.iter().filter(|l| !right.contains(l)) {
                lines.push(format!("{name}: only left:  {line}"));
            }
            for line in right.iter().filter(|l| !left.contains(l)) {
                lines.push(format!("{name}: only right: {line}"));
            }
            if left != right && lines.is_empty() {
                lines.push(format!("{name}: same records, different multiplicity"));
            }
        }
        lines
    }
}

fn question_text(wire: &[u8]) -> String {
    let Ok(name) = understudy_proto::name::wire_len(wire).map(|len| &wire[..len]) else {
        return format!("{wire:02x?}");
    };
    let Ok(owner) = Name::from_wire(name) else {
        return format!("{wire:02x?}");
    };
    let rest = &wire[name.len()..];
    match rest {
        [t0, t1, c0, c1, tail @ ..] => format!(
            "{owner} class {} type {} {}",
            u16::from_be_bytes([*c0, *c1]),
            Rtype(u16::from_be_bytes([*t0, *t1])),
            if tail.is_empty() {
                String::new()
            } else {
                format!("+{tail:02x?}")
            }
        ),
        _ => format!("{owner} {rest:02x?}"),
    }
}

/// A record as text: owner (case kept), TTL, class, type, readable RDATA.
pub fn record_text(record: &Record) -> String {
    let mut text = format!(
        "{} {} {} {} ",
        record.owner, record.ttl, record.class.0, record.rtype
    );
    let rdata = &record.rdata[..];
    let names = |text: &mut String, mut rest: &[u8]| {
        while let Ok(len) = understudy_proto::name::wire_len(rest) {
            let Ok(name) = Name::from_wire(&rest[..len]) else {
                break;
            };
            let _ = write!(text, "{name} ");
            rest = &rest[len..];
        }
        let _ = write!(text, "{rest:02x?}");
    };
    match record.rtype {
        Rtype::A if rdata.len() == 4 => {
            let _ = write!(
                text,
                "{}",
                Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])
            );
        }
        Rtype::AAAA if rdata.len() == 16 => {
            let octets: [u8; 16] = rdata.try_into().unwrap();
            let _ = write!(text, "{}", Ipv6Addr::from(octets));
        }
        Rtype::NS | Rtype::CNAME | Rtype::DNAME | Rtype::PTR | Rtype::SOA => {
            names(&mut text, rdata)
        }
        Rtype::MX if rdata.len() > 2 => {
            let _ = write!(text, "{} ", u16::from_be_bytes([rdata[0], rdata[1]]));
            names(&mut text, &rdata[2..]);
        }
        Rtype::TXT => {
            let _ = write!(text, "{:?}", String::from_utf8_lossy(rdata));
        }
        Rtype::RRSIG if rdata.len() > 18 => {
            let covered = Rtype(u16::from_be_bytes([rdata[0], rdata[1]]));
            let _ = write!(
                text,
                "{covered} labels={} ttl={} sig={}",
                rdata[3],
                u32::from_be_bytes([rdata[4], rdata[5], rdata[6], rdata[7]]),
                digest(rdata)
            );
        }
        _ => {
            let _ = write!(text, "{} octets {}", rdata.len(), digest(rdata));
        }
    }
    text
}

/// A short fingerprint of long RDATA, enough to tell records apart.
fn digest(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("#{hash:016x}")
}
