//! Building test queries and reading responses, leniently: a response that
//! cannot be fully parsed is still described as far as it goes.

use std::fmt::Write as _;

use crate::wire::{self, WireError, class_name, name_to_text, read_name, type_name};

/// Header flag bits (in the 16-bit flags word).
pub mod flag {
    /// Query response.
    pub const QR: u16 = 0x8000;
    /// Authoritative answer.
    pub const AA: u16 = 0x0400;
    /// Truncated.
    pub const TC: u16 = 0x0200;
    /// Recursion desired.
    pub const RD: u16 = 0x0100;
    /// Recursion available.
    pub const RA: u16 = 0x0080;
    /// Authentic data.
    pub const AD: u16 = 0x0020;
    /// Checking disabled.
    pub const CD: u16 = 0x0010;
}

/// The EDNS part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdnsQuery {
    /// Advertised UDP payload size.
    pub udp_size: u16,
    /// EDNS version (0 is the only one defined).
    pub version: u8,
    /// DNSSEC OK.
    pub dnssec_ok: bool,
    /// Ask for the server's NSID (RFC 5001).
    pub nsid: bool,
}

/// A query message to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMessage {
    /// Message id.
    pub id: u16,
    /// Opcode (0 query, 2 status, 4 NOTIFY, 5 UPDATE).
    pub opcode: u8,
    /// Header flags to set (from [`flag`]).
    pub flags: u16,
    /// Question name in presentation form.
    pub name: String,
    /// Question type.
    pub qtype: u16,
    /// Question class.
    pub qclass: u16,
    /// EDNS, or none.
    pub edns: Option<EdnsQuery>,
}

impl QueryMessage {
    /// A plain IN query with EDNS 1232 and no DO bit.
    pub fn new(name: &str, qtype: u16) -> QueryMessage {
        QueryMessage {
            id: 0x1234,
            opcode: 0,
            flags: 0,
            name: name.to_string(),
            qtype,
            qclass: 1,
            edns: Some(EdnsQuery {
                udp_size: 1232,
                version: 0,
                dnssec_ok: false,
                nsid: false,
            }),
        }
    }

    /// The message in wire form.
    pub fn to_wire(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.id.to_be_bytes());
        let flags = (self.flags & !0x7800) | (u16::from(self.opcode & 0x0f) << 11);
        out.extend_from_slice(&flags.to_be_bytes());
        let arcount: u16 = self.edns.is_some().into();
        for count in [1, 0, 0, arcount] {
            out.extend_from_slice(&u16::to_be_bytes(count));
        }
        out.extend_from_slice(&wire::name_to_wire(&self.name)?);
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&self.qclass.to_be_bytes());
        if let Some(edns) = &self.edns {
            out.push(0);
            out.extend_from_slice(&41u16.to_be_bytes());
            out.extend_from_slice(&edns.udp_size.to_be_bytes());
            out.push(0);
            out.push(edns.version);
            let do_bit: u16 = if edns.dnssec_ok { 0x8000 } else { 0 };
            out.extend_from_slice(&do_bit.to_be_bytes());
            if edns.nsid {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&3u16.to_be_bytes());
                out.extend_from_slice(&0u16.to_be_bytes());
            } else {
                out.extend_from_slice(&0u16.to_be_bytes());
            }
        }
        Ok(out)
    }
}

/// One resource record as received, names in RDATA decompressed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rr {
    /// Owner name, uncompressed wire form, case as received.
    pub owner: Vec<u8>,
    /// Type.
    pub rtype: u16,
    /// Class.
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// RDATA with compressed names expanded.
    pub rdata: Vec<u8>,
}

impl Rr {
    /// The record in a dig-like one-line presentation form.
    pub fn to_text(&self) -> String {
        format!(
            "{} {} {} {} {}",
            name_to_text(&self.owner),
            self.ttl,
            class_name(self.class),
            type_name(self.rtype),
            rdata_to_text(self.rtype, &self.rdata)
        )
    }
}

/// The OPT record of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// Advertised UDP payload size.
    pub udp_size: u16,
    /// Upper eight bits of the extended RCODE.
    pub extended_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// DNSSEC OK.
    pub dnssec_ok: bool,
    /// Options as (code, data).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Edns {
    /// Data of the first option with this code.
    pub fn option(&self, code: u16) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, data)| data.as_slice())
    }
}

/// A question entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Name, uncompressed wire form, case as received.
    pub name: Vec<u8>,
    /// Type.
    pub qtype: u16,
    /// Class.
    pub qclass: u16,
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Message id.
    pub id: u16,
    /// The flags word (opcode and rcode bits included).
    pub flags: u16,
    /// Full RCODE (extended bits from OPT included).
    pub rcode: u16,
    /// Opcode.
    pub opcode: u8,
    /// Question section.
    pub questions: Vec<Question>,
    /// Answer section.
    pub answer: Vec<Rr>,
    /// Authority section.
    pub authority: Vec<Rr>,
    /// Additional section without OPT (TSIG kept).
    pub additional: Vec<Rr>,
    /// The OPT record.
    pub edns: Option<Edns>,
    /// Bytes on the wire.
    pub size: usize,
}

impl Response {
    /// Parses a response; any malformation is an error describing where.
    pub fn parse(msg: &[u8]) -> Result<Response, WireError> {
        let Some(header) = msg.get(..12) else {
            return Err(WireError(format!(
                "{} bytes: shorter than a header",
                msg.len()
            )));
        };
        let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
        let flags = word(2);
        let counts = [word(4), word(6), word(8), word(10)];
        let mut pos = 12;
        let mut questions = Vec::new();
        for _ in 0..counts[0] {
            let (name, next) = read_name(msg, pos)?;
            let fixed = msg
                .get(next..next + 4)
                .ok_or_else(|| WireError("question runs past the message".into()))?;
            questions.push(Question {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            });
            pos = next + 4;
        }
        let mut sections = [Vec::new(), Vec::new(), Vec::new()];
        for (section, &count) in sections.iter_mut().zip(&counts[1..]) {
            for _ in 0..count {
                let (rr, next) = read_rr(msg, pos)?;
                section.push(rr);
                pos = next;
            }
        }
        if pos != msg.len() {
            return Err(WireError(format!("{} trailing bytes", msg.len() - pos)));
        }
        let [answer, authority, mut additional] = sections;
        let edns = take_opt(&mut additional)?;
        let extended = edns.as_ref().map_or(0, |e| u16::from(e.extended_rcode));
        Ok(Response {
            id: word(0),
            flags,
            rcode: (extended << 4) | (flags & 0x000f),
            opcode: ((flags >> 11) & 0x0f) as u8,
            questions,
            answer,
            authority,
            additional,
            edns,
            size: msg.len(),
        })
    }

    /// Whether a header flag from [`flag`] is set.
    pub fn has(&self, bit: u16) -> bool {
        self.flags & bit != 0
    }

    /// Records of `rtype` in the answer section.
    pub fn answers_of(&self, rtype: u16) -> Vec<&Rr> {
        self.answer.iter().filter(|rr| rr.rtype == rtype).collect()
    }

    /// A dig-like multi-line rendering for failure messages.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "id {} opcode {} rcode {} flags{}{}{}{}{}{}{} size {}\n",
            self.id,
            self.opcode,
            wire::rcode_name(self.rcode),
            if self.has(flag::QR) { " qr" } else { "" },
            if self.has(flag::AA) { " aa" } else { "" },
            if self.has(flag::TC) { " tc" } else { "" },
            if self.has(flag::RD) { " rd" } else { "" },
            if self.has(flag::RA) { " ra" } else { "" },
            if self.has(flag::AD) { " ad" } else { "" },
            if self.has(flag::CD) { " cd" } else { "" },
            self.size
        );
        if let Some(edns) = &self.edns {
            let _ = writeln!(
                text,
                "EDNS version {} udp {} do {} options {:?}",
                edns.version, edns.udp_size, edns.dnssec_ok, edns.options
            );
        }
        for (title, section) in [
            ("ANSWER", &self.answer),
            ("AUTHORITY", &self.authority),
            ("ADDITIONAL", &self.additional),
        ] {
            for rr in section.iter() {
                let _ = writeln!(text, "{title}: {}", rr.to_text());
            }
        }
        text
    }
}

fn take_opt(additional: &mut Vec<Rr>) -> Result<Option<Edns>, WireError> {
    let Some(index) = additional.iter().position(|rr| rr.rtype == 41) else {
        return Ok(None);
    };
    let opt = additional.remove(index);
    if additional.iter().any(|rr| rr.rtype == 41) {
        return Err(WireError("more than one OPT record".into()));
    }
    let mut options = Vec::new();
    let mut rest = opt.rdata.as_slice();
    while !rest.is_empty() {
        let (Some(code), Some(len)) = (rest.get(..2), rest.get(2..4)) else {
            return Err(WireError("truncated EDNS option".into()));
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let data = rest
            .get(4..4 + len)
            .ok_or_else(|| WireError("EDNS option runs past OPT".into()))?;
        options.push((u16::from_be_bytes([code[0], code[1]]), data.to_vec()));
        rest = rest.get(4 + len..).unwrap_or_default();
    }
    let ttl = opt.ttl.to_be_bytes();
    Ok(Some(Edns {
        udp_size: opt.class,
        extended_rcode: ttl[0],
        version: ttl[1],
        dnssec_ok: ttl[2] & 0x80 != 0,
        options,
    }))
}

fn read_rr(msg: &[u8], pos: usize) -> Result<(Rr, usize), WireError> {
    let (owner, next) = read_name(msg, pos)?;
    let fixed = msg
        .get(next..next + 10)
        .ok_or_else(|| WireError(format!("record header runs past the message at {next}")))?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let class = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let len = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let start = next + 10;
    if msg.get(start..start + len).is_none() {
        return Err(WireError(format!("RDATA runs past the message at {start}")));
    }
    let rdata = expand_rdata(msg, rtype, start, start + len)?;
    let rr = Rr {
        owner,
        rtype,
        class,
        ttl,
        rdata,
    };
    Ok((rr, start + len))
}

/// Field layouts of the types whose RDATA names may be compressed
/// (RFC 3597 §4: the RFC 1035 types, plus those receivers must decompress).
enum Field {
    Name,
    Fixed(usize),
    CharString,
}

fn layout(rtype: u16) -> Option<&'static [Field]> {
    use Field::{CharString, Fixed, Name};
    Some(match rtype {
        2 | 3 | 4 | 5 | 7 | 8 | 9 | 12 => &[Name],
        6 => &[Name, Name],
        14 | 17 => &[Name, Name],
        15 | 18 | 21 | 36 => &[Fixed(2), Name],
        26 => &[Fixed(2), Name, Name],
        33 => &[Fixed(6), Name],
        35 => &[Fixed(4), CharString, CharString, CharString, Name],
        _ => return None,
    })
}

fn expand_rdata(msg: &[u8], rtype: u16, start: usize, end: usize) -> Result<Vec<u8>, WireError> {
    let raw = msg.get(start..end).unwrap_or_default();
    let Some(fields) = layout(rtype) else {
        return Ok(raw.to_vec());
    };
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut pos = start;
    for field in fields {
        match field {
            Field::Name => {
                let (name, next) = read_name(msg, pos)?;
                out.extend_from_slice(&name);
                pos = next;
            }
            Field::Fixed(n) => {
                out.extend_from_slice(msg.get(pos..pos + n).unwrap_or_default());
                pos += n;
            }
            Field::CharString => {
                let len = usize::from(msg.get(pos).copied().unwrap_or_default());
                out.extend_from_slice(msg.get(pos..pos + 1 + len).unwrap_or_default());
                pos += 1 + len;
            }
        }
    }
    if pos > end {
        return Err(WireError(format!(
            "{} RDATA fields run past its length",
            type_name(rtype)
        )));
    }
    out.extend_from_slice(msg.get(pos..end).unwrap_or_default());
    Ok(out)
}

/// RDATA with the ASCII letters of its embedded domain names lower-cased
/// (types whose names may be compressed, and DNAME), other octets kept.
pub fn lowercase_rdata_names(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    const DNAME: &[Field] = &[Field::Name];
    let Some(fields) = layout(rtype).or((rtype == 39).then_some(DNAME)) else {
        return rdata.to_vec();
    };
    let mut out = rdata.to_vec();
    let mut pos = 0;
    for field in fields {
        match field {
            Field::Name => {
                let Ok((name, next)) = read_name(rdata, pos) else {
                    return rdata.to_vec();
                };
                if let Some(slot) = out.get_mut(pos..pos + name.len()) {
                    slot.copy_from_slice(&name.to_ascii_lowercase());
                }
                pos = next;
            }
            Field::Fixed(n) => pos += n,
            Field::CharString => pos += 1 + usize::from(rdata.get(pos).copied().unwrap_or(0)),
        }
    }
    out
}

/// RDATA in presentation form for the common types, RFC 3597 form otherwise.
pub fn rdata_to_text(rtype: u16, rdata: &[u8]) -> String {
    let names = |count: usize, skip: usize| -> Option<(Vec<String>, usize)> {
        let mut pos = skip;
        let mut out = Vec::new();
        for _ in 0..count {
            let (name, next) = read_name(rdata, pos).ok()?;
            out.push(name_to_text(&name));
            pos = next;
        }
        Some((out, pos))
    };
    let text = match rtype {
        1 if rdata.len() == 4 => Some(format!(
            "{}",
            std::net::Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])
        )),
        28 => <[u8; 16]>::try_from(rdata)
            .ok()
            .map(|octets| std::net::Ipv6Addr::from(octets).to_string()),
        2 | 5 | 12 | 39 => names(1, 0).map(|(n, _)| n.join(" ")),
        6 => names(2, 0).and_then(|(n, pos)| {
            let tail = rdata.get(pos..)?;
            let numbers: Vec<String> = tail
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]).to_string())
                .collect();
            (tail.len() == 20).then(|| format!("{} {}", n.join(" "), numbers.join(" ")))
        }),
        15 => {
            let preference = rdata.get(..2).map(|p| u16::from_be_bytes([p[0], p[1]]));
            preference.and_then(|p| names(1, 2).map(|(n, _)| format!("{p} {}", n[0])))
        }
        16 => Some(character_strings(rdata)),
        _ => None,
    };
    text.unwrap_or_else(|| unknown_rdata(rdata))
}

fn character_strings(rdata: &[u8]) -> String {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(&len) = rdata.get(pos) {
        let bytes = rdata
            .get(pos + 1..pos + 1 + usize::from(len))
            .unwrap_or_default();
        let mut text = String::from("\"");
        for &byte in bytes {
            match byte {
                b'"' | b'\\' => {
                    text.push('\\');
                    text.push(char::from(byte));
                }
                0x20..=0x7e => text.push(char::from(byte)),
                _ => {
                    let _ = write!(text, "\\{byte:03}");
                }
            }
        }
        text.push('"');
        out.push(text);
        pos += 1 + usize::from(len);
    }
    out.join(" ")
}

fn unknown_rdata(rdata: &[u8]) -> String {
    let mut text = format!("\\# {}", rdata.len());
    if !rdata.is_empty() {
        text.push(' ');
        for byte in rdata {
            let _ = write!(text, "{byte:02x}");
        }
    }
    text
}

/// Hex dump of bytes (lower case, no separators).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes from a hex string (whitespace ignored).
pub fn from_hex(text: &str) -> Result<Vec<u8>, WireError> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(WireError(format!("odd number of hex digits in {text:?}")));
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16);
            let lo = char::from(pair[1]).to_digit(16);
            match (hi, lo) {
                (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
                _ => Err(WireError(format!("not hex: {text:?}"))),
            }
        })
        .collect()
}
