//! Reading a query without allocating: header, one question, and the
//! additional section (OPT, TSIG), with NSD's rules for what is malformed.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Rtype, opcode, rcode};

/// Length of the DNS header.
pub(crate) const HEADER_LEN: usize = 12;
/// Most authority records an IXFR query may carry (NSD's bound).
const MAX_IXFR_AUTHORITY: u16 = 64;
/// EDNS option code of NSID (RFC 5001).
const OPTION_NSID: u16 = 3;
/// EDNS option code of COOKIE (RFC 7873).
const OPTION_COOKIE: u16 = 10;

/// The EDNS parameters of a query (RFC 6891 §6.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edns {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
    pub nsid: bool,
    pub cookie: bool,
}

/// A well-formed query, borrowed from the packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query<'q> {
    pub id: u16,
    pub opcode: u8,
    pub recursion_desired: bool,
    /// The question exactly as received (name, type, class).
    pub question: &'q [u8],
    /// The question name, as received (uncompressed, case preserved).
    pub qname: &'q [u8],
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<Edns>,
    /// Byte offset of the TSIG RR, if the query is signed.
    pub tsig: Option<usize>,
    /// The serial of the client's SOA in an IXFR query's authority section.
    pub ixfr_serial: Option<u32>,
}

/// What reading a query found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parsed<'q> {
    /// No usable header, or a response: say nothing (RFC 1035 §7.3).
    Drop,
    /// The header is readable but the rest is not acceptable: answer with
    /// this RCODE, header only, as NSD does.
    Error {
        id: u16,
        opcode: u8,
        recursion_desired: bool,
        rcode: u16,
    },
    /// A query to answer or hand to the node.
    Query(Query<'q>),
}

impl<'q> Query<'q> {
    /// A plain query for `question` (name of `name_len` octets, type,
    /// class), as if received without EDNS.
    pub(crate) fn synthetic(question: &'q [u8], name_len: usize) -> Query<'q> {
        let fixed = question.get(name_len..).unwrap_or(&[]);
        let field = |i: usize| {
            u16::from_be_bytes([*fixed.get(i).unwrap_or(&0), *fixed.get(i + 1).unwrap_or(&0)])
        };
        Query {
            id: 0,
            opcode: opcode::QUERY,
            recursion_desired: false,
            question,
            qname: question.get(..name_len).unwrap_or(&[0]),
            qtype: field(0),
            qclass: field(2),
            edns: None,
            tsig: None,
            ixfr_serial: None,
        }
    }

    /// The question name in lower case, copied into `buffer`.
    pub(crate) fn lower_qname<'b>(&self, buffer: &'b mut [u8; MAX_NAME_LEN]) -> &'b [u8] {
        let len = self.qname.len().min(MAX_NAME_LEN);
        for (out, byte) in buffer.iter_mut().zip(&self.qname[..len]) {
            *out = byte.to_ascii_lowercase();
        }
        &buffer[..len]
    }
}

/// Reads a query message.
pub(crate) fn parse(packet: &[u8]) -> Parsed<'_> {
    let Some(header) = packet.get(..HEADER_LEN) else {
        return Parsed::Drop;
    };
    let id = u16::from_be_bytes([header[0], header[1]]);
    let flags = u16::from_be_bytes([header[2], header[3]]);
    let count = |i: usize| u16::from_be_bytes([header[4 + 2 * i], header[5 + 2 * i]]);
    if flags & 0x8000 != 0 {
        return Parsed::Drop;
    }
    let op = ((flags >> 11) & 0xF) as u8;
    let recursion_desired = flags & 0x0100 != 0;
    let error = |rcode| Parsed::Error {
        id,
        opcode: op,
        recursion_desired,
        rcode,
    };
    if op != opcode::QUERY && op != opcode::NOTIFY {
        return error(rcode::NOTIMP);
    }
    if count(0) != 1 {
        // NSD clears every flag, RD included, for a wrong question count.
        return Parsed::Error {
            id,
            opcode: op,
            recursion_desired: false,
            rcode: rcode::FORMERR,
        };
    }
    if flags & 0x000F != 0 {
        return error(rcode::FORMERR);
    }
    match parse_sections(packet, op, [count(0), count(1), count(2), count(3)]) {
        Some(sections) => Parsed::Query(Query {
            id,
            opcode: op,
            recursion_desired,
            ..sections
        }),
        None => error(rcode::FORMERR),
    }
}

/// Reads the question and the sections after it; `None` means FORMERR.
fn parse_sections(packet: &[u8], op: u8, counts: [u16; 4]) -> Option<Query<'_>> {
    let [_, answers, authorities, additionals] = counts;
    // A NOTIFY may carry the new SOA in its answer section (RFC 1996 §3.7).
    let notify = op == opcode::NOTIFY;
    let name_len = name::wire_len(packet.get(HEADER_LEN..)?).ok()?;
    let qname_end = HEADER_LEN + name_len;
    let fixed = packet.get(qname_end..qname_end + 4)?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
    let mut pos = qname_end + 4;
    let is_ixfr = qtype == Rtype::IXFR.0;
    let allowed = notify || is_ixfr || authorities == 0;
    if (answers != 0 && !notify) || !allowed || answers.max(authorities) > MAX_IXFR_AUTHORITY {
        return None;
    }
    let mut ixfr_serial = None;
    for _ in 0..answers {
        pos = read_rr(packet, pos)?.end;
    }
    for _ in 0..authorities {
        let rr = read_rr(packet, pos)?;
        if rr.rtype == Rtype::SOA.0 && ixfr_serial.is_none() {
            ixfr_serial = crate::record::soa_serial(rr.rdata);
        }
        pos = rr.end;
    }
    let (edns, tsig) = parse_additional(packet, pos, additionals)?;
    Some(Query {
        id: 0,
        opcode: 0,
        recursion_desired: false,
        question: &packet[HEADER_LEN..qname_end + 4],
        qname: &packet[HEADER_LEN..qname_end],
        qtype,
        qclass,
        edns,
        tsig,
        ixfr_serial,
    })
}

/// The additional section may hold one OPT and then one TSIG, which must be
/// last (RFC 6891 §6.1.1, RFC 8945 §5.1); anything else is FORMERR, as NSD has it.
fn parse_additional(
    packet: &[u8],
    mut pos: usize,
    count: u16,
) -> Option<(Option<Edns>, Option<usize>)> {
    let mut edns = None;
    let mut tsig = None;
    for _ in 0..count {
        let rr = read_rr(packet, pos)?;
        match rr.rtype {
            _ if tsig.is_some() => return None,
            41 if edns.is_none() && rr.owner_is_root => edns = Some(read_opt(&rr)?),
            250 => tsig = Some(pos),
            _ => return None,
        }
        pos = rr.end;
    }
    Some((edns, tsig))
}

fn read_opt(rr: &RawRr<'_>) -> Option<Edns> {
    let mut nsid = false;
    let mut cookie = false;
    let mut options = rr.rdata;
    while !options.is_empty() {
        let [c0, c1, l0, l1, ref rest @ ..] = *options else {
            return None;
        };
        let len = u16::from_be_bytes([l0, l1]) as usize;
        let code = u16::from_be_bytes([c0, c1]);
        nsid |= code == OPTION_NSID;
        cookie |= code == OPTION_COOKIE;
        options = rest.get(len..)?;
    }
    Some(Edns {
        payload: rr.class,
        version: (rr.ttl >> 16) as u8,
        dnssec_ok: rr.ttl & 0x8000 != 0,
        nsid,
        cookie,
    })
}

/// One resource record as it sits in the packet.
struct RawRr<'q> {
    owner_is_root: bool,
    rtype: u16,
    class: u16,
    ttl: u32,
    rdata: &'q [u8],
    end: usize,
}

fn read_rr(packet: &[u8], pos: usize) -> Option<RawRr<'_>> {
    let (owner_is_root, after_name) = skip_name(packet, pos)?;
    let fixed = packet.get(after_name..after_name + 10)?;
    let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
    let rdata_start = after_name + 10;
    let rdata = packet.get(rdata_start..rdata_start + rdlen)?;
    Some(RawRr {
        owner_is_root,
        rtype: u16::from_be_bytes([fixed[0], fixed[1]]),
        class: u16::from_be_bytes([fixed[2], fixed[3]]),
        ttl: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        rdata,
        end: rdata_start + rdlen,
    })
}

/// Steps over a possibly compressed owner name without reading it (as NSD's
/// `packet_skip_dname`); returns whether it is the root and where it ends.
fn skip_name(packet: &[u8], mut pos: usize) -> Option<(bool, usize)> {
    let start = pos;
    loop {
        let len = *packet.get(pos)? as usize;
        match len & 0xC0 {
            0xC0 => {
                packet.get(pos + 1)?;
                return Some((false, pos + 2));
            }
            0x00 if len == 0 => return Some((pos == start, pos + 1)),
            0x00 if pos + 1 + len - start <= MAX_NAME_LEN => pos += 1 + len,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(qname: &[u8], qtype: u16, extra: &[u8], arcount: u16) -> Vec<u8> {
        let mut packet = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0];
        packet.extend(arcount.to_be_bytes());
        packet.extend_from_slice(qname);
        packet.extend(qtype.to_be_bytes());
        packet.extend([0, 1]);
        packet.extend_from_slice(extra);
        packet
    }

    const OPT_DO: [u8; 11] = [0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0];

    #[test]
    fn reads_question_and_edns() {
        let packet = query(b"\x03WwW\x07example\x00", 1, &OPT_DO, 1);
        let Parsed::Query(q) = parse(&packet) else {
            panic!("not a query")
        };
        assert_eq!((q.id, q.qtype, q.qclass), (0x1234, 1, 1));
        assert_eq!(q.qname, b"\x03WwW\x07example\x00");
        let edns = q.edns.unwrap();
        assert_eq!(
            (edns.payload, edns.version, edns.dnssec_ok, edns.nsid),
            (1232, 0, true, false)
        );
        let mut buffer = [0; MAX_NAME_LEN];
        assert_eq!(q.lower_qname(&mut buffer), b"\x03www\x07example\x00");
    }

    #[test]
    fn rfc6891_6_1_1_two_opt_records_are_formerr() {
        let mut extra = OPT_DO.to_vec();
        extra.extend(OPT_DO);
        let packet = query(b"\x00", 1, &extra, 2);
        assert!(matches!(
            parse(&packet),
            Parsed::Error {
                rcode: rcode::FORMERR,
                ..
            }
        ));
    }

    #[test]
    fn rfc1035_4_1_1_malformed_queries() {
        assert!(matches!(parse(&[0; 11]), Parsed::Drop));
        let mut response = query(b"\x00", 1, &[], 0);
        response[2] |= 0x80;
        assert!(matches!(parse(&response), Parsed::Drop));
        let mut two = query(b"\x00", 1, &[], 0);
        two[5] = 2;
        assert!(matches!(
            parse(&two),
            Parsed::Error {
                rcode: rcode::FORMERR,
                ..
            }
        ));
        let truncated = query(b"\x03www", 1, &[], 0);
        assert!(matches!(
            parse(&truncated[..16]),
            Parsed::Error {
                rcode: rcode::FORMERR,
                ..
            }
        ));
        let mut update = query(b"\x00", 1, &[], 0);
        update[2] = 5 << 3;
        assert!(matches!(
            parse(&update),
            Parsed::Error {
                rcode: rcode::NOTIMP,
                ..
            }
        ));
    }

    #[test]
    fn finds_tsig_and_nsid() {
        let mut extra = vec![0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 0];
        let tsig_at = 12 + 1 + 4 + extra.len();
        extra.extend([0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0]);
        let packet = query(b"\x00", 1, &extra, 2);
        let Parsed::Query(q) = parse(&packet) else {
            panic!("not a query")
        };
        assert!(q.edns.unwrap().nsid);
        assert_eq!(q.tsig, Some(tsig_at));
    }
}
