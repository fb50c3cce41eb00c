//! Consistency checks on a loaded archive, beyond what bytecheck proves.
//!
//! bytecheck guarantees the archive's own pointers and lengths are sound;
//! these checks guarantee the offsets *we* store point where they should,
//! so that a snapshot from disk or a peer is either fully usable or refused.

use super::build::image_len;
use super::error::LoadError;
use super::header::Header;
use super::layout::{self, ArchivedBody, IMAGE_FIXED, NSEC3_HASH_LEN};
use super::node::{self, HEADER, RRSET_ENTRY};
use crate::name;
use crate::record::Rtype;

const fn fail(what: &'static str) -> LoadError {
    LoadError::Inconsistent(what)
}

/// Checks the body against its header and its own internal references.
pub(crate) fn check_body(body: &ArchivedBody, header: &Header<'_>) -> Result<(), LoadError> {
    if body.origin.as_slice() != header.origin {
        return Err(fail("origin differs from the header"));
    }
    if body.serial.to_native() != header.serial {
        return Err(fail("serial differs from the header"));
    }
    let offsets = &body.offsets;
    if offsets.is_empty() || offsets.len() >= u32::MAX as usize {
        return Err(fail("node count"));
    }
    let mut records = 0u64;
    for (index, offset) in offsets.iter().enumerate() {
        let start = offset.to_native() as usize;
        let end = offsets
            .get(index + 1)
            .map_or(body.nodes.len(), |next| next.to_native() as usize);
        let record = body
            .nodes
            .get(start..end)
            .ok_or(fail("node record out of range"))?;
        records += check_node(body, record, index)?;
    }
    if offsets.first().map(|o| o.to_native()) != Some(0) {
        return Err(fail("first node record"));
    }
    if records != body.record_count.to_native() {
        return Err(fail("record count"));
    }
    check_index(body)?;
    if let Some(chain) = body.nsec3.as_ref() {
        let ok = chain.hashes.len() == chain.nodes.len() * NSEC3_HASH_LEN
            && chain
                .nodes
                .iter()
                .all(|n| (n.to_native() as usize) < offsets.len());
        if !ok {
            return Err(fail("NSEC3 chain"));
        }
    }
    Ok(())
}

/// Checks one node record; returns its number of records.
fn check_node(body: &ArchivedBody, record: &[u8], index: usize) -> Result<u64, LoadError> {
    let header = node::header(record).ok_or(fail("node header"))?;
    if header.len as usize != record.len() || header.index as usize != index {
        return Err(fail("node record length or index"));
    }
    let name_end = HEADER + header.name_len as usize;
    let wire = record
        .get(HEADER..name_end)
        .ok_or(fail("owner name out of range"))?;
    if name::wire_len(wire) != Ok(wire.len())
        || name::labels(wire).count() != header.label_count as usize
    {
        return Err(fail("bad owner name"));
    }
    let parent = header.parent as usize;
    let parent_ok = if index == 0 {
        parent == 0
    } else {
        parent < index
    };
    if !parent_ok || !name::is_subdomain(wire, &body.origin) {
        return Err(fail("bad parent or owner outside the zone"));
    }
    if index == 0 && (wire != body.origin.as_slice() || header.flags & layout::APEX == 0) {
        return Err(fail("first node is not the apex"));
    }
    let table_end = name_end + header.rrset_count as usize * RRSET_ENTRY;
    let table = record
        .get(name_end..table_end)
        .ok_or(fail("RRset table out of range"))?;
    let mut records = 0u64;
    for entry in table.chunks_exact(RRSET_ENTRY) {
        let entry = node::entry(entry).ok_or(fail("RRset entry"))?;
        records += u64::from(entry.count);
        let images = (entry.start as usize, entry.end as usize);
        let sigs = (entry.sig_start as usize, entry.sig_end as usize);
        check_images(record, table_end, images, entry.rtype, entry.count)?;
        check_images(record, table_end, sigs, Rtype::RRSIG.0, entry.sig_count)?;
    }
    Ok(records)
}

/// Checks that `range` of the record, past its table, holds exactly `count`
/// images of type `rtype` whose lengths add up.
fn check_images(
    record: &[u8],
    table_end: usize,
    range: (usize, usize),
    rtype: u16,
    count: u32,
) -> Result<(), LoadError> {
    if count == 0 && range == (0, 0) {
        return Ok(());
    }
    if range.0 < table_end {
        return Err(fail("images overlap the RRset table"));
    }
    let run = record
        .get(range.0..range.1)
        .ok_or(fail("images out of range"))?;
    let mut pos = 0;
    let mut seen = 0;
    while pos < run.len() {
        let image = &run[pos..];
        let len = image_len(image);
        if image.len() < IMAGE_FIXED || len > image.len() || image[..2] != rtype.to_be_bytes() {
            return Err(fail("bad RR image"));
        }
        pos += len;
        seen += 1;
    }
    if seen != count {
        return Err(fail("RR count"));
    }
    Ok(())
}

/// Every slot of the hash index is empty or names the start of a record.
fn check_index(body: &ArchivedBody) -> Result<(), LoadError> {
    let index = &body.index;
    if !index.len().is_power_of_two() || index.len() < body.offsets.len() {
        return Err(fail("hash index size"));
    }
    for slot in index.iter().map(|s| s.to_native()).filter(|&s| s != 0) {
        let offset = (slot as u32)
            .checked_sub(1)
            .ok_or(fail("hash index slot"))?;
        if body
            .offsets
            .binary_search_by_key(&offset, |o| o.to_native())
            .is_err()
        {
            return Err(fail("hash index points between records"));
        }
    }
    Ok(())
}
