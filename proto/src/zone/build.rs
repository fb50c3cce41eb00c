//! Building the canonical snapshot body from records in any order.
//!
//! Records are sorted into canonical order (owner per RFC 4034 §6.1, then
//! type, then canonical RDATA) and duplicates dropped, keeping the first of
//! each group under a total order, so any input order gives the same body.
//! Nodes come out in canonical order, which is a depth-first pre-order of the
//! name tree: a stack of the current node's ancestors is enough to find each
//! node's parent and to insert empty non-terminals where they belong.

use crate::name::{self, MAX_LABELS, Name};
use crate::record::{Class, Record, Rtype};

use super::error::BuildError;
use super::hash;
use super::layout::{self, Body, Node, Nsec3Chain, Rrset};
use super::nsec3::{self, Nsec3Params};
use super::rdata;

struct Entry {
    /// The first 16 octets of `key` after the origin's part, which every
    /// key shares: compared first, inline, it settles almost every
    /// comparison without following a pointer.
    prefix: u128,
    key: Box<[u8]>,
    canonical: Option<Box<[u8]>>,
    record: Record,
}

impl Entry {
    fn rdata_key(&self) -> &[u8] {
        self.canonical.as_deref().unwrap_or(&self.record.rdata)
    }
}

/// Builds the body of a snapshot; see [`Snapshot::build`](super::Snapshot::build).
pub(crate) fn build_body(origin: &Name, records: Vec<Record>) -> Result<Body, BuildError> {
    let entries = sorted_entries(origin, records)?;
    let first_is_apex = entries.first().is_some_and(|e| e.record.owner == *origin);
    if !first_is_apex {
        return Err(BuildError::MissingSoa);
    }
    let mut builder = BodyBuilder::default();
    let mut start = 0;
    while start < entries.len() {
        let key = &entries[start].key;
        let end = start
            + entries[start..]
                .iter()
                .take_while(|e| &e.key == key)
                .count();
        builder.add_owner(&entries[start..end])?;
        start = end;
    }
    builder.finish(entries.len())
}

/// Checks each record, computes its sort keys, sorts and de-duplicates.
fn sorted_entries(origin: &Name, records: Vec<Record>) -> Result<Vec<Entry>, BuildError> {
    let mut entries = Vec::with_capacity(records.len());
    let shared = canonical_key(origin.as_wire()).len();
    for record in records {
        check_record(origin, &record)?;
        let key = canonical_key(record.owner.as_wire());
        let mut prefix = [0u8; 16];
        let distinct = key.get(shared..).unwrap_or(&[]);
        let len = distinct.len().min(16);
        prefix[..len].copy_from_slice(&distinct[..len]);
        let canonical = rdata::canonical_rdata(record.rtype, &record.rdata);
        entries.push(Entry {
            prefix: u128::from_be_bytes(prefix),
            key,
            canonical,
            record,
        });
    }
    // Zero padding keeps the prefix order consistent with the key order:
    // a key's zero octets are always followed by a non-zero one.
    entries.sort_unstable_by(|a, b| {
        (a.prefix, a.key.as_ref(), a.record.rtype, a.rdata_key())
            .cmp(&(b.prefix, b.key.as_ref(), b.record.rtype, b.rdata_key()))
            .then_with(|| a.record.owner.as_wire().cmp(b.record.owner.as_wire()))
            .then_with(|| a.record.rdata.cmp(&b.record.rdata))
            .then_with(|| a.record.ttl.cmp(&b.record.ttl))
    });
    entries.dedup_by(|later, first| {
        later.key == first.key
            && later.record.rtype == first.record.rtype
            && later.rdata_key() == first.rdata_key()
    });
    Ok(entries)
}

fn check_record(origin: &Name, record: &Record) -> Result<(), BuildError> {
    let owner = &record.owner;
    if !owner.is_subdomain_of(origin) {
        return Err(BuildError::OutOfZone(owner.clone()));
    }
    if record.class != Class::IN {
        return Err(BuildError::WrongClass(owner.clone(), record.class));
    }
    if record.rtype.is_meta() {
        return Err(BuildError::MetaType(owner.clone(), record.rtype));
    }
    if record.rdata.len() > usize::from(u16::MAX) {
        return Err(BuildError::RdataTooLong(owner.clone(), record.rtype));
    }
    if !rdata::shape_ok(record.rtype, &record.rdata) {
        return Err(BuildError::BadRdata(owner.clone(), record.rtype));
    }
    Ok(())
}

/// An octet string whose byte order is the canonical order of names.
///
/// Labels from the rightmost, lower-cased, each followed by `00 00`; a zero
/// octet inside a label becomes `00 01` so that the terminator still sorts
/// first and a label sorts before any longer label it is a prefix of.
pub(crate) fn canonical_key(wire: &[u8]) -> Box<[u8]> {
    let mut offsets = [0u8; MAX_LABELS];
    let count = name::label_offsets(wire, &mut offsets);
    let mut key = Vec::with_capacity(wire.len() + count * 2);
    for &offset in offsets[..count].iter().rev() {
        let start = offset as usize + 1;
        let len = wire[offset as usize] as usize;
        for &byte in &wire[start..start + len] {
            match byte.to_ascii_lowercase() {
                0 => key.extend_from_slice(&[0, 1]),
                lower => key.push(lower),
            }
        }
        key.extend_from_slice(&[0, 0]);
    }
    key.into()
}

#[derive(Default)]
struct BodyBuilder {
    names: Vec<u8>,
    nodes: Vec<Node>,
    rrsets: Vec<Rrset>,
    images: Vec<u8>,
    /// Indexes of the current node's ancestors, apex first.
    stack: Vec<u32>,
}

impl BodyBuilder {
    /// Adds the node owning `records` (all at one owner, sorted), preceded by
    /// the empty non-terminals between it and its closest existing ancestor.
    fn add_owner(&mut self, records: &[Entry]) -> Result<(), BuildError> {
        let wire = records[0].record.owner.as_wire();
        while let Some(&top) = self.stack.last() {
            if name::is_subdomain(wire, self.node_name(top))
                && self.node_name(top).len() < wire.len()
            {
                break;
            }
            self.stack.pop();
        }
        if let Some(&top) = self.stack.last() {
            let depth = self.nodes[top as usize].label_count as usize;
            let mut offsets = [0u8; MAX_LABELS];
            let count = name::label_offsets(wire, &mut offsets);
            // Ancestors strictly between the stack top and this owner, shallowest first.
            for &offset in offsets[1..count - depth].iter().rev() {
                let index = self.push_node(&wire[offset as usize..], &[])?;
                self.stack.push(index);
            }
        }
        let index = self.push_node(wire, records)?;
        self.stack.push(index);
        Ok(())
    }

    fn node_name(&self, index: u32) -> &[u8] {
        let node = &self.nodes[index as usize];
        let start = node.name_start as usize;
        &self.names[start..start + node.name_len as usize]
    }

    fn push_node(&mut self, wire: &[u8], records: &[Entry]) -> Result<u32, BuildError> {
        let index = offset_u32(self.nodes.len())?;
        let parent = self.stack.last().copied().unwrap_or(index);
        let name_start = offset_u32(self.names.len())?;
        self.names.extend_from_slice(wire);
        let rrsets_start = offset_u32(self.rrsets.len())?;
        self.push_rrsets(records)?;
        self.assign_signatures(rrsets_start as usize);
        let rrsets_end = offset_u32(self.rrsets.len())?;
        let mut node = Node {
            name_start,
            name_len: wire.len() as u8,
            label_count: name::labels(wire).count() as u8,
            flags: 0,
            parent,
            rrsets_start,
            rrsets_end,
        };
        node.flags = self.node_flags(&node, index == 0, wire)?;
        if wire.starts_with(b"\x01*") && index != parent {
            self.nodes[parent as usize].flags |= layout::WILDCARD_CHILD;
        }
        self.nodes.push(node);
        Ok(index)
    }

    fn push_rrsets(&mut self, records: &[Entry]) -> Result<(), BuildError> {
        let mut start = 0;
        while start < records.len() {
            let rtype = records[start].record.rtype;
            let count = records[start..]
                .iter()
                .take_while(|e| e.record.rtype == rtype)
                .count();
            let image_start = offset_u32(self.images.len())?;
            for entry in &records[start..start + count] {
                push_image(&mut self.images, &entry.record);
            }
            let end = offset_u32(self.images.len())?;
            self.rrsets.push(Rrset {
                rtype: rtype.0,
                count: count as u32,
                start: image_start,
                end,
                sig_count: 0,
                sig_start: 0,
                sig_end: 0,
            });
            start += count;
        }
        Ok(())
    }

    /// Points each RRset of the node at the RRSIGs that cover it.
    fn assign_signatures(&mut self, first: usize) {
        let Some(sigs) = self.rrsets[first..]
            .iter()
            .find(|r| r.rtype == Rtype::RRSIG.0)
            .copied()
        else {
            return;
        };
        let mut pos = sigs.start as usize;
        while pos < sigs.end as usize {
            let covered = image_covered_type(&self.images[pos..]);
            let group_start = pos;
            let mut count = 0;
            while pos < sigs.end as usize && image_covered_type(&self.images[pos..]) == covered {
                pos += image_len(&self.images[pos..]);
                count += 1;
            }
            if let Some(rrset) = self.rrsets[first..].iter_mut().find(|r| r.rtype == covered) {
                rrset.sig_count = count;
                rrset.sig_start = group_start as u32;
                rrset.sig_end = pos as u32;
            }
        }
    }

    fn node_flags(&self, node: &Node, apex: bool, wire: &[u8]) -> Result<u16, BuildError> {
        let owner = || Name::from_wire(wire).unwrap_or_else(|_| Name::root());
        let rrsets = &self.rrsets[node.rrsets_start as usize..node.rrsets_end as usize];
        let has = |rtype: Rtype| rrsets.iter().find(|r| r.rtype == rtype.0);
        let parent_flags = if apex {
            0
        } else {
            self.nodes[node.parent as usize].flags
        };
        if parent_flags & layout::DNAME != 0 {
            return Err(BuildError::BelowDname(owner()));
        }
        let mut flags = if apex { layout::APEX } else { 0 };
        if !rrsets.is_empty() {
            flags |= layout::EXISTS;
        }
        if parent_flags & (layout::DELEGATION | layout::BELOW_CUT) != 0 {
            flags |= layout::BELOW_CUT;
        }
        match has(Rtype::SOA) {
            Some(_) if !apex => return Err(BuildError::MisplacedSoa(owner())),
            Some(soa) if soa.count > 1 => return Err(BuildError::MultipleSoa),
            None if apex => return Err(BuildError::MissingSoa),
            _ => {}
        }
        match has(Rtype::NS) {
            Some(_) if !apex && flags & layout::BELOW_CUT == 0 => flags |= layout::DELEGATION,
            None if apex => return Err(BuildError::MissingApexNs),
            _ => {}
        }
        if let Some(cname) = has(Rtype::CNAME) {
            if cname.count > 1 {
                return Err(BuildError::MultipleCname(owner()));
            }
            let allowed = [Rtype::CNAME.0, Rtype::RRSIG.0, Rtype::NSEC.0];
            if rrsets.iter().any(|r| !allowed.contains(&r.rtype)) {
                return Err(BuildError::CnameWithOtherData(owner()));
            }
            flags |= layout::CNAME;
        }
        if let Some(dname) = has(Rtype::DNAME) {
            if dname.count > 1 {
                return Err(BuildError::MultipleDname(owner()));
            }
            flags |= layout::DNAME;
        }
        let nsec3_only = [Rtype::NSEC3.0, Rtype::RRSIG.0];
        if has(Rtype::NSEC3).is_some() && rrsets.iter().all(|r| nsec3_only.contains(&r.rtype)) {
            flags |= layout::NSEC3_ONLY;
        }
        Ok(flags)
    }

    fn finish(self, record_count: usize) -> Result<Body, BuildError> {
        let apex = self.nodes.first().copied().ok_or(BuildError::MissingSoa)?;
        let origin = self.node_name(0).to_vec();
        let apex_rrsets = &self.rrsets[apex.rrsets_start as usize..apex.rrsets_end as usize];
        let soa = apex_rrsets
            .iter()
            .find(|r| r.rtype == Rtype::SOA.0)
            .ok_or(BuildError::MissingSoa)?;
        let soa_image = &self.images[soa.start as usize..soa.end as usize];
        let serial = crate::record::soa_serial(&soa_image[layout::IMAGE_FIXED..])
            .ok_or(BuildError::MissingSoa)?;
        let signed = soa.sig_count > 0;
        let nsec3 = if signed {
            self.nsec3_chain(apex_rrsets)
        } else {
            None
        };
        if let Some(chain) = &nsec3
            && chain.iterations > MAX_NSEC3_ITERATIONS
        {
            return Err(BuildError::Nsec3Iterations(chain.iterations));
        }
        let mut nodes =
            Vec::with_capacity(self.names.len() + self.images.len() + self.nodes.len() * 64);
        let mut offsets = Vec::with_capacity(self.nodes.len());
        for (index, node) in self.nodes.iter().enumerate() {
            offsets.push(offset_u32(nodes.len())?);
            let rrsets = &self.rrsets[node.rrsets_start as usize..node.rrsets_end as usize];
            super::node::encode(
                &mut nodes,
                index as u32,
                node,
                self.node_name(index as u32),
                rrsets,
                &self.images,
            )?;
        }
        offset_u32(nodes.len())?;
        let index = hash::build_index(
            (0..self.nodes.len()).map(|i| (self.node_name(i as u32), offsets[i])),
        );
        Ok(Body {
            origin,
            serial,
            signed,
            record_count: record_count as u64,
            nodes,
            offsets,
            index,
            nsec3,
        })
    }

    /// The NSEC3 chain named by the first usable apex NSEC3PARAM (flags 0,
    /// SHA-1), as NSD selects it.
    fn nsec3_chain(&self, apex_rrsets: &[Rrset]) -> Option<Nsec3Chain> {
        let param_set = apex_rrsets
            .iter()
            .find(|r| r.rtype == Rtype::NSEC3PARAM.0)?;
        let params = images(&self.images[param_set.start as usize..param_set.end as usize])
            .filter_map(Nsec3Params::from_nsec3param)
            .find(|p| p.flags == 0 && p.algorithm == nsec3::SHA1)?;
        let mut chain: Vec<([u8; layout::NSEC3_HASH_LEN], u32)> = Vec::new();
        for (index, node) in self.nodes.iter().enumerate() {
            let rrsets = &self.rrsets[node.rrsets_start as usize..node.rrsets_end as usize];
            let Some(set) = rrsets.iter().find(|r| r.rtype == Rtype::NSEC3.0) else {
                continue;
            };
            let in_chain = images(&self.images[set.start as usize..set.end as usize])
                .any(|rdata| Nsec3Params::read(rdata).is_some_and(|(p, _)| p.same_chain(&params)));
            let label = name::labels(self.node_name(index as u32)).next();
            if let (true, Some(hash)) = (in_chain, label.and_then(nsec3::decode_base32hex)) {
                chain.push((hash, index as u32));
            }
        }
        chain.sort_unstable();
        chain.dedup_by_key(|(hash, _)| *hash);
        Some(Nsec3Chain {
            algorithm: params.algorithm,
            iterations: params.iterations,
            salt: params.salt.to_vec(),
            hashes: chain.iter().flat_map(|(hash, _)| *hash).collect(),
            nodes: chain.iter().map(|(_, node)| *node).collect(),
        })
    }
}

/// Most NSEC3 iterations a zone may use (RFC 5155 §10.3: the largest
/// allowed for any key size). Every negative answer hashes the query name
/// this many times, so a primary asking for more could make each such
/// answer cost milliseconds; RFC 9276 asks for 0.
pub const MAX_NSEC3_ITERATIONS: u16 = 2_500;

fn offset_u32(value: usize) -> Result<u32, BuildError> {
    u32::try_from(value).map_err(|_| BuildError::TooLarge)
}

fn push_image(images: &mut Vec<u8>, record: &Record) {
    images.extend_from_slice(&record.rtype.0.to_be_bytes());
    images.extend_from_slice(&record.class.0.to_be_bytes());
    images.extend_from_slice(&record.ttl.to_be_bytes());
    images.extend_from_slice(&(record.rdata.len() as u16).to_be_bytes());
    images.extend_from_slice(&record.rdata);
}

/// Length of the RR image at the start of `image` (fixed part plus RDATA).
pub(crate) fn image_len(image: &[u8]) -> usize {
    match image.get(8..10) {
        Some(&[high, low]) => layout::IMAGE_FIXED + u16::from_be_bytes([high, low]) as usize,
        _ => image.len(),
    }
}

fn image_covered_type(image: &[u8]) -> u16 {
    match image.get(layout::IMAGE_FIXED..layout::IMAGE_FIXED + 2) {
        Some(&[high, low]) => u16::from_be_bytes([high, low]),
        _ => 0,
    }
}

/// The RDATA of each RR image in a run of images.
pub(crate) fn images(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = run;
    std::iter::from_fn(move || {
        if rest.len() < layout::IMAGE_FIXED {
            return None;
        }
        let len = image_len(rest).min(rest.len());
        let (image, tail) = rest.split_at(len);
        rest = tail;
        Some(&image[layout::IMAGE_FIXED..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_key_orders_like_rfc4034() {
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\000.z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let keys: Vec<Box<[u8]>> = ordered
            .iter()
            .map(|t| canonical_key(Name::from_ascii(t).unwrap().as_wire()))
            .collect();
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        let a = canonical_key(Name::from_ascii("a\\000.example.").unwrap().as_wire());
        let b = canonical_key(Name::from_ascii("a.example.").unwrap().as_wire());
        assert!(b < a);
    }
}
