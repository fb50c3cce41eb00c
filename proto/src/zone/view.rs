//! Zero-copy reading of an archived snapshot body, as the answer path does.
//!
//! Every access is bounds-checked with `get`: a loaded snapshot has passed
//! the consistency checks, but reading it must not be able to panic even if
//! a check were missing.

use std::cmp::Ordering;

use super::hash;
use super::layout::{self, ArchivedBody, NSEC3_HASH_LEN};
use super::node::{self, HEADER, RRSET_ENTRY};
use crate::name;

/// A read-only view of one zone's archived body.
#[derive(Clone, Copy)]
pub struct ZoneView<'a> {
    body: &'a ArchivedBody,
}

/// One node of the zone: an owner name (or empty non-terminal) and its RRsets.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    zone: ZoneView<'a>,
    /// The whole node record.
    record: &'a [u8],
    header: node::Header,
}

/// One RRset: its RR images and those of its covering RRSIGs.
#[derive(Clone, Copy, Debug)]
pub struct RrsetRef<'a> {
    /// The type.
    pub rtype: u16,
    /// Number of records.
    pub count: u32,
    /// The RR images (TYPE, CLASS, TTL, RDLENGTH, RDATA) back to back.
    pub images: &'a [u8],
    /// Number of covering RRSIGs.
    pub sig_count: u32,
    /// The covering RRSIG images back to back.
    pub sigs: &'a [u8],
}

impl<'a> ZoneView<'a> {
    pub(crate) fn new(body: &'a ArchivedBody) -> ZoneView<'a> {
        ZoneView { body }
    }

    /// The origin, wire form, case as in the zone.
    pub fn origin(&self) -> &'a [u8] {
        &self.body.origin
    }

    /// Whether the apex SOA carries an RRSIG.
    pub fn is_signed(&self) -> bool {
        self.body.signed
    }

    /// Number of nodes, empty non-terminals included.
    pub fn node_count(&self) -> usize {
        self.body.offsets.len()
    }

    /// The apex node.
    pub fn apex(&self) -> Option<NodeRef<'a>> {
        self.node(0)
    }

    /// The node at `index` in canonical order.
    pub fn node(&self, index: u32) -> Option<NodeRef<'a>> {
        let offset = self.body.offsets.get(index as usize)?.to_native();
        self.node_at(offset)
    }

    /// The node whose record starts at `offset`.
    fn node_at(&self, offset: u32) -> Option<NodeRef<'a>> {
        let rest = self.body.nodes.get(offset as usize..)?;
        let header = node::header(rest)?;
        let record = rest.get(..header.len as usize)?;
        Some(NodeRef {
            zone: *self,
            record,
            header,
        })
    }

    /// The node whose owner is `lower`, a lower-cased wire name.
    pub fn find(&self, lower: &[u8]) -> Option<NodeRef<'a>> {
        let hash = hash::name_hash(lower);
        let tag = hash & 0xFFFF_FFFF_0000_0000;
        let table = &self.body.index;
        let mask = table.len().checked_sub(1)?;
        let mut slot = hash as usize & mask;
        for _ in 0..table.len() {
            let entry = table.get(slot)?.to_native();
            if entry == 0 {
                return None;
            }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let offset = (entry as u32).checked_sub(1)?;
                let node = self.node_at(offset)?;
                if super::case::eq_ignore_case(node.name(), lower) {
                    return Some(node);
                }
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// The last node at or before `wire` in canonical order (the apex if
    /// `wire` sorts before every other node).
    pub fn predecessor(&self, wire: &[u8]) -> Option<NodeRef<'a>> {
        // Every node ends with the origin: only the labels before it need
        // comparing, and there are few of them.
        let origin = self.origin().len();
        let in_zone = wire.len() >= origin && name::is_subdomain(wire, self.origin());
        let probe = Labels::of(
            wire.get(..wire.len() - origin)
                .filter(|_| in_zone)
                .unwrap_or(wire),
        );
        let (mut low, mut high) = (0usize, self.node_count());
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            let mid_name = self.node(mid as u32).map_or(&[0][..], |n| n.name());
            let order = if in_zone {
                let relative = mid_name
                    .get(..mid_name.len().saturating_sub(origin))
                    .unwrap_or(&[]);
                Labels::of(relative).canonical_cmp(&probe)
            } else {
                Labels::of(mid_name).canonical_cmp(&probe)
            };
            match order {
                Ordering::Greater => high = mid,
                _ => low = mid,
            }
        }
        self.node(low as u32)
    }

    /// The NSEC3 chain in use, if the zone is signed with NSEC3.
    pub fn nsec3(&self) -> Option<Nsec3View<'a>> {
        let chain = self.body.nsec3.as_ref()?;
        Some(Nsec3View { zone: *self, chain })
    }
}

/// A wire name (or the labels of one before a common suffix) with its
/// label offsets, for repeated canonical comparisons.
struct Labels<'w> {
    wire: &'w [u8],
    offsets: [u8; name::MAX_LABELS],
    count: usize,
}

impl<'w> Labels<'w> {
    /// The labels of `wire`, which may lack its terminating root label.
    fn of(wire: &'w [u8]) -> Labels<'w> {
        let mut offsets = [0u8; name::MAX_LABELS];
        let mut count = 0;
        let mut pos = 0;
        while let Some(&len) = wire
            .get(pos)
            .filter(|&&len| len != 0 && count < name::MAX_LABELS)
        {
            offsets[count] = pos as u8;
            count += 1;
            pos += 1 + usize::from(len);
        }
        Labels {
            wire,
            offsets,
            count,
        }
    }

    /// The label `i` from the right (0 is the rightmost).
    fn label_from_right(&self, i: usize) -> &'w [u8] {
        let start = self.offsets[self.count - 1 - i] as usize;
        let len = *self.wire.get(start).unwrap_or(&0) as usize;
        self.wire.get(start + 1..start + 1 + len).unwrap_or(&[])
    }

    /// RFC 4034 §6.1 order of `self` against `other`.
    fn canonical_cmp(&self, other: &Labels<'_>) -> Ordering {
        for i in 0..self.count.min(other.count) {
            let (a, b) = (self.label_from_right(i), other.label_from_right(i));
            let order = a
                .iter()
                .map(u8::to_ascii_lowercase)
                .cmp(b.iter().map(u8::to_ascii_lowercase));
            if order != Ordering::Equal {
                return order;
            }
        }
        self.count.cmp(&other.count)
    }
}

impl<'a> NodeRef<'a> {
    /// Position in canonical order.
    pub fn index(&self) -> u32 {
        self.header.index
    }

    /// The owner name, wire form, case as in the zone.
    pub fn name(&self) -> &'a [u8] {
        let end = HEADER + self.header.name_len as usize;
        self.record.get(HEADER..end).unwrap_or(&[0])
    }

    /// Number of labels of the owner, root excluded.
    pub fn label_count(&self) -> usize {
        self.header.label_count as usize
    }

    pub(crate) fn flags(&self) -> u16 {
        self.header.flags
    }

    /// Whether the node has RRsets (it is not an empty non-terminal).
    pub fn exists(&self) -> bool {
        self.flags() & layout::EXISTS != 0
    }

    /// Whether this is the zone apex.
    pub fn is_apex(&self) -> bool {
        self.flags() & layout::APEX != 0
    }

    /// Whether this node is a zone cut (NS below the apex).
    pub fn is_delegation(&self) -> bool {
        self.flags() & layout::DELEGATION != 0
    }

    /// Whether this node lies strictly below a zone cut.
    pub fn is_below_cut(&self) -> bool {
        self.flags() & layout::BELOW_CUT != 0
    }

    /// Whether this node has a `*` child.
    pub fn has_wildcard_child(&self) -> bool {
        self.flags() & layout::WILDCARD_CHILD != 0
    }

    /// Whether this node owns a DNAME.
    pub fn has_dname(&self) -> bool {
        self.flags() & layout::DNAME != 0
    }

    /// Whether this node owns a CNAME.
    pub fn has_cname(&self) -> bool {
        self.flags() & layout::CNAME != 0
    }

    /// Whether this node holds only NSEC3 data (a hashed owner).
    pub fn is_nsec3_only(&self) -> bool {
        self.flags() & layout::NSEC3_ONLY != 0
    }

    /// The parent node (the apex is its own parent).
    pub fn parent(&self) -> NodeRef<'a> {
        self.zone.node(self.header.parent).unwrap_or(*self)
    }

    fn table(&self) -> &'a [u8] {
        let start = HEADER + self.header.name_len as usize;
        let end = start + self.header.rrset_count as usize * RRSET_ENTRY;
        self.record.get(start..end).unwrap_or(&[])
    }

    /// The RRsets, sorted by type.
    pub fn rrsets(self) -> impl Iterator<Item = RrsetRef<'a>> + Clone + 'a {
        let record = self.record;
        self.table()
            .chunks_exact(RRSET_ENTRY)
            .filter_map(move |entry| rrset_ref(record, entry))
    }

    /// The RRset of type `rtype`, if present.
    pub fn rrset(&self, rtype: u16) -> Option<RrsetRef<'a>> {
        let wanted = rtype.to_be_bytes();
        let entry = self
            .table()
            .chunks_exact(RRSET_ENTRY)
            .find(|entry| entry[..2] == wanted)?;
        rrset_ref(self.record, entry)
    }

    /// The number of RRsets.
    pub fn rrset_count(&self) -> usize {
        self.header.rrset_count as usize
    }
}

fn rrset_ref<'a>(record: &'a [u8], entry: &[u8]) -> Option<RrsetRef<'a>> {
    let entry = node::entry(entry)?;
    let range = |start: u32, end: u32| record.get(start as usize..end as usize).unwrap_or(&[]);
    Some(RrsetRef {
        rtype: entry.rtype,
        count: entry.count,
        images: range(entry.start, entry.end),
        sig_count: entry.sig_count,
        sigs: range(entry.sig_start, entry.sig_end),
    })
}

impl<'a> RrsetRef<'a> {
    /// The RDATA of each record.
    pub fn rdatas(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        super::build::images(self.images)
    }

    /// The TTL of the first record.
    pub fn ttl(&self) -> u32 {
        match self.images.get(4..8) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }
}

/// The NSEC3 chain: parameters and owners sorted by hash.
#[derive(Clone, Copy)]
pub struct Nsec3View<'a> {
    zone: ZoneView<'a>,
    chain: &'a layout::ArchivedNsec3Chain,
}

impl<'a> Nsec3View<'a> {
    /// The salt.
    pub fn salt(&self) -> &'a [u8] {
        &self.chain.salt
    }

    /// The number of additional iterations.
    pub fn iterations(&self) -> u16 {
        self.chain.iterations.to_native()
    }

    fn len(&self) -> usize {
        self.chain.nodes.len()
    }

    fn hash_at(&self, i: usize) -> &'a [u8] {
        self.chain
            .hashes
            .get(i * NSEC3_HASH_LEN..(i + 1) * NSEC3_HASH_LEN)
            .unwrap_or(&[])
    }

    fn node_at(&self, i: usize) -> Option<NodeRef<'a>> {
        self.zone.node(self.chain.nodes.get(i)?.to_native())
    }

    /// The NSEC3 owner whose hash equals `hash`, if any.
    pub fn matching(&self, hash: &[u8]) -> Option<NodeRef<'a>> {
        let i = self.position(hash).ok()?;
        self.node_at(i)
    }

    /// The NSEC3 owner whose hash is the closest before `hash` (wrapping
    /// around to the last), which covers `hash` in a complete chain.
    pub fn covering(&self, hash: &[u8]) -> Option<NodeRef<'a>> {
        let i = match self.position(hash) {
            Ok(i) | Err(i) => i,
        };
        let before = i.checked_sub(1).unwrap_or(self.len().checked_sub(1)?);
        self.node_at(before)
    }

    fn position(&self, hash: &[u8]) -> Result<usize, usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.hash_at(mid).cmp(hash) {
                Ordering::Less => low = mid + 1,
                Ordering::Greater => high = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(low)
    }
}
