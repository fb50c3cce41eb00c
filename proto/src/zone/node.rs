//! The node record: one owner name with everything needed to answer it.
//!
//! ```text
//!  0  record length            u32   (header, name, RRset table, images)
//!  4  node index               u32   (position in canonical order)
//!  8  parent index             u32   (the apex is its own parent)
//! 12  flags                    u16
//! 14  label count              u8
//! 15  name length n            u8
//! 16  RRset count k            u16
//! 18  owner name               n octets, wire form, case preserved
//!     RRset table              k entries of 26 octets, sorted by type:
//!       type u16, records u32, images start u32, end u32,
//!       RRSIGs u32, RRSIG images start u32, end u32
//!       (offsets from the start of the record)
//!     RR images                TYPE CLASS TTL RDLENGTH RDATA, back to back
//! ```
//!
//! All integers are big-endian. Readers use bounds-checked access only.

use super::error::BuildError;
use super::layout::{Node, Rrset};

/// Length of the fixed header.
pub(crate) const HEADER: usize = 18;
/// Length of one RRset table entry.
pub(crate) const RRSET_ENTRY: usize = 26;

/// Appends the record of `node` to `out`. `images` is the builder's image
/// buffer, where the node's RRsets occupy one contiguous range.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    index: u32,
    node: &Node,
    name: &[u8],
    rrsets: &[Rrset],
    images: &[u8],
) -> Result<(), BuildError> {
    let base = rrsets.first().map_or(0, |r| r.start as usize);
    let end = rrsets.last().map_or(0, |r| r.end as usize);
    let images_at = HEADER + name.len() + rrsets.len() * RRSET_ENTRY;
    let len = images_at + (end - base);
    let too_large = |_| BuildError::TooLarge;
    let rebase = |offset: u32| -> Result<u32, BuildError> {
        u32::try_from(images_at + (offset as usize).saturating_sub(base)).map_err(too_large)
    };
    out.extend_from_slice(&u32::try_from(len).map_err(too_large)?.to_be_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&node.parent.to_be_bytes());
    out.extend_from_slice(&node.flags.to_be_bytes());
    out.extend_from_slice(&[node.label_count, node.name_len]);
    out.extend_from_slice(
        &u16::try_from(rrsets.len())
            .map_err(too_large)?
            .to_be_bytes(),
    );
    out.extend_from_slice(name);
    for rrset in rrsets {
        let (sig_start, sig_end) = match rrset.sig_count {
            0 => (0, 0),
            _ => (rebase(rrset.sig_start)?, rebase(rrset.sig_end)?),
        };
        out.extend_from_slice(&rrset.rtype.to_be_bytes());
        for value in [
            rrset.count,
            rebase(rrset.start)?,
            rebase(rrset.end)?,
            rrset.sig_count,
            sig_start,
            sig_end,
        ] {
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
    out.extend_from_slice(&images[base..end]);
    Ok(())
}

/// The fields of a node record's header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub len: u32,
    pub index: u32,
    pub parent: u32,
    pub flags: u16,
    pub label_count: u8,
    pub name_len: u8,
    pub rrset_count: u16,
}

/// Reads the header at the start of `record`.
pub(crate) fn header(record: &[u8]) -> Option<Header> {
    let h = record.get(..HEADER)?;
    let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(Header {
        len: u32_at(0),
        index: u32_at(4),
        parent: u32_at(8),
        flags: u16::from_be_bytes([h[12], h[13]]),
        label_count: h[14],
        name_len: h[15],
        rrset_count: u16::from_be_bytes([h[16], h[17]]),
    })
}

/// One decoded RRset table entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub rtype: u16,
    pub count: u32,
    pub start: u32,
    pub end: u32,
    pub sig_count: u32,
    pub sig_start: u32,
    pub sig_end: u32,
}

/// Reads an RRset table entry.
pub(crate) fn entry(bytes: &[u8]) -> Option<Entry> {
    let e = bytes.get(..RRSET_ENTRY)?;
    let u32_at = |i: usize| u32::from_be_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]);
    Some(Entry {
        rtype: u16::from_be_bytes([e[0], e[1]]),
        count: u32_at(2),
        start: u32_at(6),
        end: u32_at(10),
        sig_count: u32_at(14),
        sig_start: u32_at(18),
        sig_end: u32_at(22),
    })
}
