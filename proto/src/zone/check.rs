//! Consistency checks on a loaded archive, beyond what bytecheck proves.
//!
//! bytecheck guarantees the archive's own pointers and lengths are sound;
//! these checks guarantee the offsets *we* store point where they should,
//! so that a snapshot from disk or a peer is either fully usable or refused.

use super::build::image_len;
use super::error::LoadError;
use super::header::Header;
use super::layout::{self, ArchivedBody, IMAGE_FIXED, NSEC3_HASH_LEN};
use crate::name;

/// Checks the body against its header and its own internal references.
pub(crate) fn check_body(body: &ArchivedBody, header: &Header<'_>) -> Result<(), LoadError> {
    let fail = LoadError::Inconsistent;
    if body.origin.as_slice() != header.origin {
        return Err(fail("origin differs from the header"));
    }
    if body.serial.to_native() != header.serial {
        return Err(fail("serial differs from the header"));
    }
    let node_count = body.nodes.len();
    if node_count == 0 || node_count >= u32::MAX as usize {
        return Err(fail("node count"));
    }
    let mut records = 0u64;
    for (index, node) in body.nodes.iter().enumerate() {
        let start = node.name_start.to_native() as usize;
        let wire = body
            .names
            .get(start..start + node.name_len as usize)
            .ok_or(fail("name out of range"))?;
        if name::wire_len(wire) != Ok(wire.len())
            || name::labels(wire).count() != node.label_count as usize
        {
            return Err(fail("bad owner name"));
        }
        let parent = node.parent.to_native() as usize;
        let parent_ok = if index == 0 {
            parent == 0
        } else {
            parent < index
        };
        if !parent_ok || !name::is_subdomain(wire, &body.origin) {
            return Err(fail("bad parent or owner outside the zone"));
        }
        let (first, end) = (
            node.rrsets_start.to_native() as usize,
            node.rrsets_end.to_native() as usize,
        );
        let rrsets = body
            .rrsets
            .get(first..end)
            .ok_or(fail("RRsets out of range"))?;
        for rrset in rrsets {
            records += u64::from(rrset.count.to_native());
            check_images(
                body,
                rrset.rtype.to_native(),
                rrset.start.to_native(),
                rrset.end.to_native(),
                rrset.count.to_native(),
            )?;
            check_images(
                body,
                layout::RRSIG,
                rrset.sig_start.to_native(),
                rrset.sig_end.to_native(),
                rrset.sig_count.to_native(),
            )?;
        }
    }
    let apex = body.nodes.first().ok_or(fail("no nodes"))?;
    if apex.name_len as usize != body.origin.len() || apex.flags.to_native() & layout::APEX == 0 {
        return Err(fail("first node is not the apex"));
    }
    if records != body.record_count.to_native() {
        return Err(fail("record count"));
    }
    let index = &body.index;
    if !index.len().is_power_of_two()
        || index
            .iter()
            .any(|slot| slot.to_native() as usize > node_count)
    {
        return Err(fail("hash index"));
    }
    if let Some(chain) = body.nsec3.as_ref() {
        let ok = chain.hashes.len() == chain.nodes.len() * NSEC3_HASH_LEN
            && chain
                .nodes
                .iter()
                .all(|n| (n.to_native() as usize) < node_count);
        if !ok {
            return Err(fail("NSEC3 chain"));
        }
    }
    Ok(())
}

/// Checks that `[start, end)` of the images holds exactly `count` images of
/// type `rtype` whose lengths add up.
fn check_images(
    body: &ArchivedBody,
    rtype: u16,
    start: u32,
    end: u32,
    count: u32,
) -> Result<(), LoadError> {
    let run = body
        .images
        .get(start as usize..end as usize)
        .ok_or(LoadError::Inconsistent("images out of range"))?;
    let mut pos = 0;
    let mut seen = 0;
    while pos < run.len() {
        let image = &run[pos..];
        let len = image_len(image);
        if image.len() < IMAGE_FIXED || len > image.len() || image[..2] != rtype.to_be_bytes() {
            return Err(LoadError::Inconsistent("bad RR image"));
        }
        pos += len;
        seen += 1;
    }
    if seen != count {
        return Err(LoadError::Inconsistent("RR count"));
    }
    Ok(())
}
