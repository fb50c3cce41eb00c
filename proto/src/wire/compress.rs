//! Name compression for messages being built (RFC 1035 §4.1.4).
//!
//! Suffixes already written are remembered by a hash of their exact octets
//! and their offset. Matching is case-sensitive: a pointer to a differently
//! spelled suffix would change the case a reader sees, and understudy hands
//! on names exactly as the primary spelled them. A hash collision is caught
//! by comparing against the message itself and only costs compression.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;

use crate::name::{self, MAX_NAME_LEN};

/// Pointers carry 14 bits of offset.
const MAX_POINTER_OFFSET: usize = 0x3FFF;

/// Suffixes written so far and where.
#[derive(Debug, Default)]
pub(crate) struct Compressor {
    offsets: HashMap<u64, u16>,
    /// Keys in insertion order, so a rejected record can be undone.
    log: Vec<u64>,
}

impl Compressor {
    /// A point to return to with [`Compressor::rollback`].
    pub(crate) fn mark(&self) -> usize {
        self.log.len()
    }

    /// Forgets every suffix remembered since `mark`.
    pub(crate) fn rollback(&mut self, mark: usize) {
        for key in self.log.drain(mark..) {
            self.offsets.remove(&key);
        }
    }

    /// Appends valid uncompressed name `wire` to `buf`, pointing to an
    /// earlier copy of its longest known suffix.
    pub(crate) fn write(&mut self, buf: &mut Vec<u8>, wire: &[u8]) {
        let mut pos = 0;
        while let Some(&len) = wire.get(pos) {
            if len == 0 {
                break;
            }
            let suffix = &wire[pos..];
            let key = hash(suffix);
            if let Some(&target) = self.offsets.get(&key)
                && same_name_at(buf, usize::from(target), suffix)
            {
                buf.extend_from_slice(&(0xC000 | target).to_be_bytes());
                return;
            }
            let here = buf.len();
            if here <= MAX_POINTER_OFFSET && !self.offsets.contains_key(&key) {
                self.offsets.insert(key, here as u16);
                self.log.push(key);
            }
            let label_end = (pos + 1 + usize::from(len)).min(wire.len());
            buf.extend_from_slice(&wire[pos..label_end]);
            pos = label_end;
        }
        buf.push(0);
    }
}

fn hash(suffix: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(suffix);
    hasher.finish()
}

fn same_name_at(buf: &[u8], offset: usize, suffix: &[u8]) -> bool {
    let mut out = [0u8; MAX_NAME_LEN];
    match name::read_compressed_into(buf, offset, &mut out) {
        Ok((len, _)) => out.get(..len) == Some(suffix),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Name;

    fn wire(text: &str) -> Vec<u8> {
        Name::from_ascii(text).unwrap().as_wire().to_vec()
    }

    #[test]
    fn rfc1035_4_1_4_suffixes_become_pointers() {
        let mut buf = vec![0u8; 12];
        let mut compressor = Compressor::default();
        compressor.write(&mut buf, &wire("example.com."));
        compressor.write(&mut buf, &wire("www.example.com."));
        assert_eq!(&buf[25..], b"\x03www\xC0\x0C");
        compressor.write(&mut buf, &wire("example.com."));
        assert_eq!(&buf[31..], b"\xC0\x0C");
        let (name, _) = Name::read_compressed(&buf, 25).unwrap();
        assert_eq!(name.to_string(), "www.example.com.");
    }

    #[test]
    fn case_differences_are_not_compressed_and_rollback_forgets() {
        let mut buf = vec![0u8; 12];
        let mut compressor = Compressor::default();
        compressor.write(&mut buf, &wire("example.com."));
        let mark = compressor.mark();
        let before = buf.len();
        compressor.write(&mut buf, &wire("EXAMPLE.com."));
        assert_eq!(&buf[before..], b"\x07EXAMPLE\xC0\x14");
        compressor.rollback(mark);
        buf.truncate(before);
        compressor.write(&mut buf, &wire("x.EXAMPLE.com."));
        assert_eq!(&buf[before..], b"\x01x\x07EXAMPLE\xC0\x14");
    }
}
