//! DNS names, types and classes on the wire and in presentation form.
//!
//! The harness carries its own small codec so that its checks do not depend
//! on the code under test.

use std::fmt::Write as _;

/// Why a name or message could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

fn fail<T>(what: impl Into<String>) -> Result<T, WireError> {
    Err(WireError(what.into()))
}

const TYPES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (28, "AAAA"),
    (29, "LOC"),
    (33, "SRV"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (39, "DNAME"),
    (41, "OPT"),
    (43, "DS"),
    (44, "SSHFP"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (108, "EUI48"),
    (109, "EUI64"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
];

/// The mnemonic of a record type (`TYPE1234` when unknown).
pub fn type_name(rtype: u16) -> String {
    TYPES
        .iter()
        .find(|(code, _)| *code == rtype)
        .map_or_else(|| format!("TYPE{rtype}"), |(_, name)| (*name).to_string())
}

/// The code of a type mnemonic or `TYPEnnn`.
pub fn type_code(text: &str) -> Option<u16> {
    let upper = text.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("TYPE") {
        return number.parse().ok();
    }
    TYPES
        .iter()
        .find(|(_, name)| *name == upper)
        .map(|(code, _)| *code)
}

/// The mnemonic of a class (`CLASS1234` when unknown).
pub fn class_name(class: u16) -> String {
    match class {
        1 => "IN".into(),
        3 => "CH".into(),
        4 => "HS".into(),
        254 => "NONE".into(),
        255 => "ANY".into(),
        other => format!("CLASS{other}"),
    }
}

/// The code of a class mnemonic or `CLASSnnn`.
pub fn class_code(text: &str) -> Option<u16> {
    let upper = text.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("CLASS") {
        return number.parse().ok();
    }
    match upper.as_str() {
        "IN" => Some(1),
        "CH" | "CHAOS" => Some(3),
        "HS" => Some(4),
        "NONE" => Some(254),
        "ANY" => Some(255),
        _ => None,
    }
}

/// The mnemonic of an RCODE, extended ones included.
pub fn rcode_name(rcode: u16) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        other => return format!("RCODE{other}"),
    };
    name.to_string()
}

/// Uncompressed wire form of a presentation-form name (`www.example.`,
/// escapes `\.` and `\DDD` allowed; relative names are taken as absolute).
pub fn name_to_wire(text: &str) -> Result<Vec<u8>, WireError> {
    let mut wire = Vec::with_capacity(text.len() + 2);
    let mut label = Vec::new();
    let mut chars = text.bytes().peekable();
    let mut any = false;
    while let Some(byte) = chars.next() {
        any = true;
        match byte {
            b'.' => {
                if label.is_empty() {
                    if chars.peek().is_none() && wire.is_empty() {
                        break;
                    }
                    return fail(format!("empty label in {text:?}"));
                }
                push_label(&mut wire, &label, text)?;
                label.clear();
            }
            b'\\' => label.push(unescape(&mut chars, text)?),
            other => label.push(other),
        }
    }
    if !label.is_empty() {
        push_label(&mut wire, &label, text)?;
    }
    if !any {
        return fail("empty name");
    }
    wire.push(0);
    if wire.len() > 255 {
        return fail(format!("name too long: {text:?}"));
    }
    Ok(wire)
}

fn push_label(wire: &mut Vec<u8>, label: &[u8], text: &str) -> Result<(), WireError> {
    let Ok(len) = u8::try_from(label.len()) else {
        return fail(format!("label too long in {text:?}"));
    };
    if len > 63 {
        return fail(format!("label too long in {text:?}"));
    }
    wire.push(len);
    wire.extend_from_slice(label);
    Ok(())
}

fn unescape(
    chars: &mut std::iter::Peekable<impl Iterator<Item = u8>>,
    text: &str,
) -> Result<u8, WireError> {
    let Some(first) = chars.next() else {
        return fail(format!("dangling escape in {text:?}"));
    };
    if !first.is_ascii_digit() {
        return Ok(first);
    }
    let mut value = u32::from(first - b'0');
    for _ in 0..2 {
        match chars.next() {
            Some(digit) if digit.is_ascii_digit() => value = value * 10 + u32::from(digit - b'0'),
            _ => return fail(format!("bad \\DDD escape in {text:?}")),
        }
    }
    u8::try_from(value).or_else(|_| fail(format!("escape above 255 in {text:?}")))
}

/// Presentation form of an uncompressed wire name.
pub fn name_to_text(wire: &[u8]) -> String {
    let mut text = String::new();
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let end = (pos + 1 + usize::from(len)).min(wire.len());
        for &byte in wire.get(pos + 1..end).unwrap_or_default() {
            match byte {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    text.push('\\');
                    text.push(char::from(byte));
                }
                0x21..=0x7e => text.push(char::from(byte)),
                _ => {
                    let _ = write!(text, "\\{byte:03}");
                }
            }
        }
        text.push('.');
        pos = end;
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

/// Reads a possibly compressed name at `pos` of `msg`; returns the
/// uncompressed wire form and the position after the name.
pub fn read_name(msg: &[u8], mut pos: usize) -> Result<(Vec<u8>, usize), WireError> {
    let mut name = Vec::new();
    let mut next = None;
    let mut jumps = 0;
    loop {
        let Some(&len) = msg.get(pos) else {
            return fail(format!("name runs past the message at {pos}"));
        };
        match len {
            0 => {
                name.push(0);
                return Ok((name, next.unwrap_or(pos + 1)));
            }
            1..=63 => {
                let Some(label) = msg.get(pos..pos + 1 + usize::from(len)) else {
                    return fail(format!("label runs past the message at {pos}"));
                };
                name.extend_from_slice(label);
                if name.len() > 255 {
                    return fail("name longer than 255 octets");
                }
                pos += 1 + usize::from(len);
            }
            0xc0..=0xff => {
                let Some(&low) = msg.get(pos + 1) else {
                    return fail("truncated compression pointer");
                };
                jumps += 1;
                if jumps > 64 {
                    return fail("compression pointer loop");
                }
                next.get_or_insert(pos + 2);
                pos = usize::from(u16::from_be_bytes([len & 0x3f, low]));
            }
            _ => return fail(format!("unknown label type {len:#x}")),
        }
    }
}

/// Lower-cases the ASCII letters of a wire name (length octets are < 64 and
/// so never letters).
pub fn lowercase_wire(wire: &[u8]) -> Vec<u8> {
    wire.to_ascii_lowercase()
}
