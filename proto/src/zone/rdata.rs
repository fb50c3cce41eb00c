//! RDATA layouts the snapshot checks, and the canonical form used to order
//! and de-duplicate records.

use crate::name;
use crate::record::{NameField, RdataNames, Rtype};

use super::nsec3;

/// Whether `rdata` fits `rtype`'s layout, for the types whose names the
/// answering code reads or rewrites. Opaque types are always accepted.
pub(crate) fn shape_ok(rtype: Rtype, rdata: &[u8]) -> bool {
    match rtype {
        Rtype::SOA => names_then(rdata, 0, 2) == Some(20),
        Rtype::NSEC3 => nsec3::nsec3_next_hash(rdata).is_some(),
        Rtype::NSEC3PARAM => nsec3::Nsec3Params::from_nsec3param(rdata).is_some(),
        Rtype::RRSIG => rdata.len() > 18 && name::wire_len(&rdata[18..]).is_ok(),
        Rtype::NSEC => name::wire_len(rdata).is_ok(),
        _ => match rtype.rdata_names() {
            RdataNames::None | RdataNames::Naptr => true,
            RdataNames::Compressible(fields) => names_then(rdata, 0, fields.len()) == Some(0),
            RdataNames::CompressibleAfterPrefix(prefix) => names_then(rdata, prefix, 1) == Some(0),
            RdataNames::Uncompressed(prefix) => names_then(rdata, prefix, 1).is_some(),
            RdataNames::Uncompressible(fields) => fields_end(rdata, fields) == Some(rdata.len()),
        },
    }
}

/// Skips `prefix` octets and `count` names; returns how many octets remain.
pub(crate) fn names_then(rdata: &[u8], prefix: usize, count: usize) -> Option<usize> {
    let mut pos = prefix;
    for _ in 0..count {
        pos += name::wire_len(rdata.get(pos..)?).ok()?;
    }
    rdata.len().checked_sub(pos)
}

fn fields_end(rdata: &[u8], fields: &[NameField]) -> Option<usize> {
    let mut pos = 0;
    for field in fields {
        pos += match field {
            NameField::Fixed(len) => *len,
            NameField::Name => name::wire_len(rdata.get(pos..)?).ok()?,
        };
    }
    (pos <= rdata.len()).then_some(pos)
}

/// Lower-cases the names inside RDATA as RFC 4034 §6.2 (with RFC 6840 §5.1:
/// not NSEC) does for the canonical form. Returns `None` when nothing
/// changes, which is the common case.
pub(crate) fn canonical_rdata(rtype: Rtype, rdata: &[u8]) -> Option<Box<[u8]>> {
    let spans = name_spans(rtype, rdata);
    let needs = spans
        .iter()
        .flatten()
        .any(|&(start, end)| rdata[start..end].iter().any(u8::is_ascii_uppercase));
    if !needs {
        return None;
    }
    let mut out: Box<[u8]> = rdata.into();
    for &(start, end) in spans.iter().flatten() {
        out[start..end].make_ascii_lowercase();
    }
    Some(out)
}

/// Byte ranges of the (at most two) names to lower-case in canonical form.
fn name_spans(rtype: Rtype, rdata: &[u8]) -> [Option<(usize, usize)>; 2] {
    let span = |start: usize| -> Option<(usize, usize)> {
        let len = name::wire_len(rdata.get(start..)?).ok()?;
        Some((start, start + len))
    };
    let first_two = |start: usize| {
        let first = span(start);
        let second = first.and_then(|(_, end)| span(end));
        [first, second]
    };
    match rtype {
        Rtype::NSEC => [None, None],
        _ => match rtype.rdata_names() {
            RdataNames::Compressible(fields) if fields.len() == 2 => first_two(0),
            RdataNames::Compressible(_) => [span(0), None],
            RdataNames::CompressibleAfterPrefix(prefix) | RdataNames::Uncompressed(prefix) => {
                [span(prefix), None]
            }
            RdataNames::Uncompressible([NameField::Fixed(prefix), ..]) => first_two(*prefix),
            RdataNames::Uncompressible(_) => first_two(0),
            RdataNames::None | RdataNames::Naptr => [None, None],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Name;

    fn wire(text: &str) -> Vec<u8> {
        Name::from_ascii(text).unwrap().as_wire().to_vec()
    }

    #[test]
    fn shapes_of_name_carrying_types() {
        assert!(shape_ok(Rtype::NS, &wire("ns.example.")));
        assert!(!shape_ok(Rtype::NS, &[3, b'n', b's']));
        let mut mx = vec![0, 10];
        mx.extend(wire("mail.example."));
        assert!(shape_ok(Rtype::MX, &mx));
        mx.push(0);
        assert!(!shape_ok(Rtype::MX, &mx));
        assert!(shape_ok(Rtype::A, &[1, 2, 3]));
        let mut soa = wire("ns.example.");
        soa.extend(wire("host.example."));
        soa.extend([0u8; 20]);
        assert!(shape_ok(Rtype::SOA, &soa));
        assert!(!shape_ok(Rtype::SOA, &soa[..soa.len() - 1]));
    }

    #[test]
    fn canonical_form_lowercases_names_only() {
        let mut mx = vec![0, b'A'];
        mx.extend(wire("MAIL.Example."));
        let canonical = canonical_rdata(Rtype::MX, &mx).unwrap();
        assert_eq!(&canonical[..2], &[0, b'A']);
        assert_eq!(&canonical[2..], wire("mail.example.").as_slice());
        assert_eq!(canonical_rdata(Rtype::TXT, b"\x03ABC"), None);
        assert_eq!(canonical_rdata(Rtype::NSEC, &wire("A.example.")), None);
    }
}
