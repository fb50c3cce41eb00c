//! The fixed parts of every response: header, question, OPT, and the small
//! responses that need no zone (errors, BADVERS, CHAOS identity).

use crate::record::{Class, Rtype};

use super::plan::Ede;
use super::query::{HEADER_LEN, Query};
use super::writer::{Full, Writer};

/// EDNS option code of NSID (RFC 5001).
const OPTION_NSID: u16 = 3;
/// EDNS option code of Extended DNS Errors (RFC 8914).
const OPTION_EDE: u16 = 15;
/// Length of an OPT RR without options.
const OPT_FIXED: usize = 11;
/// An option's code and length.
const OPTION_HEADER: usize = 4;
/// Room NSD keeps for its server cookie (RFC 7873) when a client sends one.
const COOKIE_ROOM: usize = OPTION_HEADER + 24;

/// Header flag bits.
pub(crate) const QR: u16 = 0x8000;
pub(crate) const AA: u16 = 0x0400;
pub(crate) const TC: u16 = 0x0200;
pub(crate) const RD: u16 = 0x0100;

/// The OPT RR of a response (RFC 6891 §6.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt<'c> {
    pub payload: u16,
    pub dnssec_ok: bool,
    /// The upper eight bits of a 12-bit RCODE.
    pub extended_rcode: u8,
    pub nsid: Option<&'c [u8]>,
    /// An Extended DNS Error (RFC 8914).
    pub ede: Option<Ede>,
    /// The client sent a cookie: NSD keeps room for its own, so the same
    /// room is kept here (no cookie is sent back; RFC 7873 §5.2.1 allows
    /// servers that do not implement cookies to ignore them).
    pub cookie: bool,
}

impl Opt<'_> {
    /// Octets the OPT RR takes.
    pub(crate) fn len(&self) -> usize {
        OPT_FIXED + self.nsid_len() + self.unreserved_len()
    }

    /// Octets kept free for the OPT RR while the sections are written, as
    /// NSD keeps them: the RR, NSID, and room for a cookie.
    pub(crate) fn reserved_len(&self) -> usize {
        OPT_FIXED + self.nsid_len() + if self.cookie { COOKIE_ROOM } else { 0 }
    }

    /// Octets of the EDE option, which NSD adds beyond the reserved room.
    pub(crate) fn unreserved_len(&self) -> usize {
        self.ede.map_or(0, |ede| OPTION_HEADER + 2 + ede.text.len())
    }

    fn nsid_len(&self) -> usize {
        self.nsid.map_or(0, |id| OPTION_HEADER + id.len())
    }

    pub(crate) fn write(&self, writer: &mut Writer<'_, '_>) -> Result<(), Full> {
        writer.put_bytes(&[0])?;
        writer.put_u16(Rtype::OPT.0)?;
        writer.put_u16(self.payload)?;
        let flags = if self.dnssec_ok { 0x8000 } else { 0 };
        writer.put_u32((u32::from(self.extended_rcode) << 24) | flags)?;
        writer.put_u16((self.len() - OPT_FIXED) as u16)?;
        if let Some(id) = self.nsid {
            writer.put_u16(OPTION_NSID)?;
            writer.put_u16(id.len() as u16)?;
            writer.put_bytes(id)?;
        }
        if let Some(ede) = self.ede {
            writer.put_u16(OPTION_EDE)?;
            writer.put_u16(2 + ede.text.len() as u16)?;
            writer.put_u16(ede.code)?;
            writer.put_bytes(ede.text.as_bytes())?;
        }
        Ok(())
    }
}

/// Header fields of a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub id: u16,
    pub opcode: u8,
    pub flags: u16,
    pub rcode: u16,
    pub counts: [u16; 4],
}

impl Header {
    /// A response header for `query` (QR set, RD copied, as NSD does).
    pub(crate) fn for_query(query: &Query<'_>, rcode: u16) -> Header {
        let rd = if query.recursion_desired { RD } else { 0 };
        Header {
            id: query.id,
            opcode: query.opcode,
            flags: QR | rd,
            rcode,
            counts: [0; 4],
        }
    }

    /// Writes the header over the first twelve octets of `out`.
    pub(crate) fn write_into(&self, out: &mut [u8]) {
        let Some(header) = out.get_mut(..HEADER_LEN) else {
            return;
        };
        let flags = self.flags | (u16::from(self.opcode & 0xF) << 11) | (self.rcode & 0xF);
        header[..2].copy_from_slice(&self.id.to_be_bytes());
        header[2..4].copy_from_slice(&flags.to_be_bytes());
        for (i, count) in self.counts.iter().enumerate() {
            header[4 + 2 * i..6 + 2 * i].copy_from_slice(&count.to_be_bytes());
        }
    }
}

/// A header-only error response (NSD's `query_error`: no question echoed).
pub(crate) fn header_only(
    out: &mut [u8],
    id: u16,
    opcode: u8,
    recursion_desired: bool,
    rcode: u16,
) -> Option<usize> {
    let rd = if recursion_desired { RD } else { 0 };
    let header = Header {
        id,
        opcode,
        flags: QR | rd,
        rcode,
        counts: [0; 4],
    };
    if out.len() < HEADER_LEN {
        return None;
    }
    header.write_into(out);
    Some(HEADER_LEN)
}

/// A response with the question, an optional TXT answer (CHAOS) and OPT.
pub(crate) fn simple(
    out: &mut [u8],
    limit: usize,
    query: &Query<'_>,
    rcode: u16,
    txt: Option<&[u8]>,
    opt: Option<Opt<'_>>,
) -> Option<usize> {
    if let Some(len) = simple_within(out, limit, query, rcode, txt, opt) {
        return Some(len);
    }
    // Too large for the client's limit (a long CHAOS TXT or NSID): TC set,
    // with the OPT if it fits, else with the question alone when the RCODE
    // needs no OPT to carry it.
    let len = simple_within(out, limit, query, rcode, None, opt).or_else(|| {
        (rcode <= 0xF)
            .then(|| simple_within(out, limit, query, rcode, None, None))
            .flatten()
    })?;
    if let Some(flags) = out.get_mut(2) {
        *flags |= (TC >> 8) as u8;
    }
    Some(len)
}

fn simple_within(
    out: &mut [u8],
    limit: usize,
    query: &Query<'_>,
    rcode: u16,
    txt: Option<&[u8]>,
    opt: Option<Opt<'_>>,
) -> Option<usize> {
    let mut header = Header::for_query(query, rcode & 0xF);
    let mut writer = Writer::new(out, limit);
    writer.put_bytes(&[0; HEADER_LEN]).ok()?;
    writer.put_bytes(query.question).ok()?;
    header.counts[0] = 1;
    if let Some(text) = txt {
        write_chaos_txt(&mut writer, text).ok()?;
        header.counts[1] = 1;
    }
    if let Some(opt) = opt {
        opt.write(&mut writer).ok()?;
        header.counts[3] = 1;
    }
    let len = writer.finish();
    header.write_into(out);
    Some(len)
}

/// A TXT record in class CH, TTL 0, owned by the question name.
fn write_chaos_txt(writer: &mut Writer<'_, '_>, text: &[u8]) -> Result<(), Full> {
    writer.put_u16(0xC000 | HEADER_LEN as u16)?;
    writer.put_u16(Rtype::TXT.0)?;
    writer.put_u16(Class::CH.0)?;
    writer.put_u32(0)?;
    let chunks = text.len().div_ceil(255).max(1);
    writer.put_u16((text.len() + chunks) as u16)?;
    if text.is_empty() {
        return writer.put_bytes(&[0]);
    }
    for chunk in text.chunks(255) {
        writer.put_bytes(&[chunk.len() as u8])?;
        writer.put_bytes(chunk)?;
    }
    Ok(())
}

/// What a CHAOS TXT query asks for.
pub(crate) enum ChaosName {
    Identity,
    Version,
    Other,
}

/// Classifies `id.server.`/`hostname.bind.` and `version.bind.`/`version.server.`.
pub(crate) fn chaos_name(lower: &[u8]) -> ChaosName {
    match lower {
        b"\x02id\x06server\x00" | b"\x08hostname\x04bind\x00" => ChaosName::Identity,
        b"\x07version\x04bind\x00" | b"\x07version\x06server\x00" => ChaosName::Version,
        _ => ChaosName::Other,
    }
}
