//! The zone's NS RRset and its servers' addresses, written once per
//! snapshot and copied into positive answers.
//!
//! NSD adds the apex NS RRset to the authority section of every positive
//! answer, and the addresses of those servers to the additional section.
//! That is the same few records for every query, so a snapshot keeps them
//! as a pre-written block (with and without RRSIGs): the bytes the general
//! writer produces when the zone's origin is the question name, cut into
//! one segment per RRset, with the compression pointers that must move
//! when the block is copied. A response uses the block only when that is
//! provably byte-for-byte what the general writer would produce there (see
//! [`Block::usable`]); otherwise it takes the general path.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Class, Rtype};
use crate::zone::ZoneView;

use super::emit::Emit;
use super::plan::{Data, Item, Plan, Section};
use super::query::{HEADER_LEN, Query};
use super::writer::Writer;

/// Where the zone's origin sits in the response the block is cut from.
const ORIGIN_AT: usize = HEADER_LEN;

/// The blocks of one zone: without and with RRSIGs.
#[derive(Default)]
pub(crate) struct ZoneNs {
    plain: Option<Block>,
    signed: Option<Block>,
}

impl ZoneNs {
    /// The blocks for `zone` (none if it has no apex NS RRset).
    pub(crate) fn build(zone: ZoneView<'_>) -> ZoneNs {
        ZoneNs {
            plain: Block::build(zone, false),
            signed: zone.is_signed().then(|| Block::build(zone, true)).flatten(),
        }
    }

    /// The block for responses with (`signed`) or without RRSIGs.
    pub(crate) fn block(&self, signed: bool) -> Option<&Block> {
        if signed {
            self.signed.as_ref()
        } else {
            self.plain.as_ref()
        }
    }
}

/// Which pass of NSD's encoder an RRset belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// The optional authority NS RRset.
    Ns,
    /// An A RRset in the additional section.
    A,
    /// An AAAA RRset in the additional section.
    Aaaa,
}

/// One RRset (with its RRSIGs) of the block.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub start: usize,
    pub end: usize,
    pub records: u16,
    pub pass: Pass,
    /// This segment's compression pointers: a range of `Block::pointers`.
    pointers: (usize, usize),
}

/// A compression pointer in the block and what it points to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// `k` octets into the zone's origin wherever that was written.
    Origin(usize),
    /// An offset in the NS segment, which is copied first and whole.
    Inside(usize),
}

/// A name the general writer would write as labels (at least its first
/// `labels` labels): none of those suffixes may be known to the writer
/// already, or it would compress them differently.
#[derive(Debug, Clone)]
struct Fresh {
    /// Lower-cased wire name.
    name: Box<[u8]>,
    labels: usize,
}

/// The pre-written records.
#[derive(Debug)]
pub(crate) struct Block {
    /// The zone's origin, lower case.
    origin: Box<[u8]>,
    bytes: Box<[u8]>,
    segments: Box<[Segment]>,
    pointers: Box<[(usize, Target)]>,
    fresh: Box<[Fresh]>,
    /// Owner (lower case) and type of each address RRset, which must not
    /// be planned already (it would not be written twice).
    addresses: Box<[(Box<[u8]>, u16)]>,
    /// Records in the authority and additional sections.
    counts: (u16, u16),
}

impl Block {
    fn build(zone: ZoneView<'_>, signed: bool) -> Option<Block> {
        let apex = zone.apex()?;
        let ns = apex.rrset(Rtype::NS.0)?;
        let origin = apex.name();
        let mut question = origin.to_vec();
        question.extend(Rtype::A.0.to_be_bytes());
        question.extend(Class::IN.0.to_be_bytes());
        let query = Query::synthetic(&question, origin.len());
        let mut plan = Plan::new();
        plan.push(Item {
            section: Section::OptionalAuthority,
            owner: origin,
            data: Data::Rrset(ns),
            zone,
            signed,
            ttl: None,
            question_wildcard: false,
        });
        let emit = Emit {
            query: &query,
            plan: &plan,
            opt: None,
            tcp: true,
            template: false,
        };
        let mut out = vec![0u8; 65535];
        let len = emit.write(&mut out, 65535)?;
        let start = ORIGIN_AT + question.len();
        let mut block = cut(out.get(..len)?, start, origin.len())?;
        block.origin = origin.to_ascii_lowercase().into();
        Some(block)
    }

    /// Where the zone's origin is in `writer`, if copying the block there
    /// gives exactly what the general writer would write: the origin is
    /// known to the writer, the names the block writes as labels are not,
    /// no planned RRset is one of the block's address RRsets, and (over
    /// TCP, where NSD keeps part of an RRset that does not fit) it fits.
    pub(super) fn usable(
        &self,
        writer: &Writer<'_, '_>,
        plan: &Plan<'_>,
        qname_len: usize,
        tcp: bool,
    ) -> Option<usize> {
        if tcp && writer.room() < self.bytes.len() {
            return None;
        }
        for fresh in &self.fresh {
            let mut rest: &[u8] = &fresh.name;
            for _ in 0..fresh.labels {
                if writer.lookup(rest).is_some() {
                    return None;
                }
                rest = rest.get(1 + usize::from(*rest.first()?)..)?;
            }
        }
        let address_types = [Rtype::A.0, Rtype::AAAA.0];
        let planned = plan.items().any(|item| match item.data {
            Data::Rrset(rrset) if address_types.contains(&rrset.rtype) => {
                self.addresses.iter().any(|(owner, rtype)| {
                    *rtype == rrset.rtype && crate::zone::eq_ignore_case(owner, item.owner)
                })
            }
            _ => false,
        });
        if planned {
            return None;
        }
        if plan.zone_ns_in_question {
            return Some(HEADER_LEN + qname_len.checked_sub(self.origin.len())?);
        }
        writer.lookup(&self.origin).map(usize::from)
    }

    pub(super) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The whole block, if it may go out whole: it fits, and over UDP it
    /// ends within `cap` (NSD's minimal response size).
    pub(super) fn fits_whole(&self, writer: &Writer<'_, '_>, tcp: bool, cap: usize) -> bool {
        writer.room() >= self.bytes.len() && (tcp || writer.len() + self.bytes.len() <= cap)
    }

    /// Counts of (authority, additional) records in the whole block.
    pub(super) fn counts(&self) -> (u16, u16) {
        self.counts
    }

    /// Copies the whole block to the end of `writer`, moving its pointers
    /// for an origin written at `origin`.
    pub(super) fn copy_whole(&self, writer: &mut Writer<'_, '_>, origin: usize) -> bool {
        let at = writer.len();
        if writer.put_bytes(&self.bytes).is_err() {
            return false;
        }
        self.relocate(writer, &self.pointers, at, 0, origin, at);
        true
    }

    /// Copies `segment` to the end of `writer`, moving its pointers for an
    /// origin at `origin` and an NS segment copied at `ns_at`.
    pub(super) fn copy(
        &self,
        writer: &mut Writer<'_, '_>,
        segment: &Segment,
        origin: usize,
        ns_at: usize,
    ) -> bool {
        let at = writer.len();
        let Some(bytes) = self.bytes.get(segment.start..segment.end) else {
            return false;
        };
        if writer.put_bytes(bytes).is_err() {
            return false;
        }
        let pointers = self
            .pointers
            .get(segment.pointers.0..segment.pointers.1)
            .unwrap_or(&[]);
        self.relocate(writer, pointers, at, segment.start, origin, ns_at);
        true
    }

    fn relocate(
        &self,
        writer: &mut Writer<'_, '_>,
        pointers: &[(usize, Target)],
        at: usize,
        start: usize,
        origin: usize,
        ns_at: usize,
    ) {
        for &(pos, target) in pointers {
            let value = match target {
                Target::Origin(k) => origin + k,
                Target::Inside(offset) => ns_at + offset,
            };
            writer.patch_u16(at + pos - start, 0xC000 | value as u16);
        }
    }
}

/// Cuts the records after `start` in `message` into a block.
fn cut(message: &[u8], start: usize, origin_len: usize) -> Option<Block> {
    let authority = usize::from(u16::from_be_bytes([*message.get(8)?, *message.get(9)?]));
    let mut segments: Vec<Segment> = Vec::new();
    let mut pointers = Vec::new();
    let mut fresh = Vec::new();
    let mut addresses = Vec::new();
    let mut pos = start;
    let mut index = 0;
    while pos < message.len() {
        let owner = pos;
        let (after, labels) = scan_name(message, pos, start, origin_len, &mut pointers)?;
        let owner_name = lower_name(message, owner)?;
        if labels > 0 {
            fresh.push(Fresh {
                name: owner_name.clone(),
                labels,
            });
        }
        pos = after;
        let fixed = message.get(pos..pos + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let rdata = pos + 10;
        if rtype == Rtype::NS.0 {
            let (_, labels) = scan_name(message, rdata, start, origin_len, &mut pointers)?;
            if labels > 0 {
                fresh.push(Fresh {
                    name: lower_name(message, rdata)?,
                    labels,
                });
            }
        }
        let end = rdata + rdlength;
        let pass = match (index < authority, rtype) {
            (true, _) => Pass::Ns,
            (false, t) if t == Rtype::A.0 => Pass::A,
            (false, t) if t == Rtype::AAAA.0 => Pass::Aaaa,
            (false, t) if t == Rtype::RRSIG.0 => segments.last()?.pass,
            _ => return None,
        };
        let joins = rtype == Rtype::RRSIG.0
            || segments
                .last()
                .is_some_and(|s| s.pass == Pass::Ns && pass == Pass::Ns);
        match segments.last_mut() {
            Some(last) if joins => {
                last.end = end - start;
                last.records += 1;
            }
            _ => {
                if pass != Pass::Ns {
                    addresses.push((owner_name, rtype));
                }
                segments.push(Segment {
                    start: owner - start,
                    end: end - start,
                    records: 1,
                    pass,
                    pointers: (0, 0),
                });
            }
        }
        pos = end;
        index += 1;
    }
    for segment in &mut segments {
        let inside = |(pos, _): &(usize, Target)| (segment.start..segment.end).contains(pos);
        let first = pointers.iter().position(inside).unwrap_or(pointers.len());
        let count = pointers[first..].iter().take_while(|p| inside(p)).count();
        segment.pointers = (first, first + count);
    }
    let ns_end = segments.first().filter(|s| s.pass == Pass::Ns)?.end;
    let inside_ns = pointers.iter().all(|(_, target)| match target {
        Target::Inside(offset) => *offset < ns_end,
        Target::Origin(_) => true,
    });
    let counts = segments.iter().fold((0, 0), |(ns, more), s| match s.pass {
        Pass::Ns => (ns + s.records, more),
        _ => (ns, more + s.records),
    });
    inside_ns.then(|| Block {
        counts,
        origin: Box::default(),
        bytes: message[start..].into(),
        segments: segments.into(),
        pointers: pointers.into(),
        fresh: fresh.into(),
        addresses: addresses.into(),
    })
}

/// The name at `pos` in `message`, decompressed and lower-cased.
fn lower_name(message: &[u8], pos: usize) -> Option<Box<[u8]>> {
    let mut buffer = [0u8; MAX_NAME_LEN];
    let (len, _) = name::read_compressed_into(message, pos, &mut buffer).ok()?;
    Some(buffer.get(..len)?.to_ascii_lowercase().into())
}

/// Steps over the name at `pos`, noting its pointer (relative to `start`)
/// if it has one; returns where it ends and how many labels it writes.
fn scan_name(
    message: &[u8],
    mut pos: usize,
    start: usize,
    origin_len: usize,
    pointers: &mut Vec<(usize, Target)>,
) -> Option<(usize, usize)> {
    let mut labels = 0;
    loop {
        let len = usize::from(*message.get(pos)?);
        if len == 0 {
            return Some((pos + 1, labels));
        }
        if len & 0xC0 == 0xC0 {
            let target = usize::from(
                u16::from_be_bytes([*message.get(pos)?, *message.get(pos + 1)?]) & 0x3FFF,
            );
            let target = if target >= start {
                Target::Inside(target - start)
            } else if (ORIGIN_AT..ORIGIN_AT + origin_len).contains(&target) {
                Target::Origin(target - ORIGIN_AT)
            } else {
                return None;
            };
            pointers.push((pos - start, target));
            return Some((pos + 2, labels));
        }
        labels += 1;
        pos += 1 + len;
    }
}
