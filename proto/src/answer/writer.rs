//! Writing a response into the caller's buffer: name compression with a
//! small fixed table, and marks to roll back an RRset that does not fit.

use crate::record::{RdataNames, Rtype};

/// Names remembered for compression; later names are written in full.
/// NSD remembers every name; this is enough for the largest referrals and
/// answers seen in practice.
const TABLE_SIZE: usize = 64;
/// Compression pointers can only reach the first 16 KiB.
const MAX_POINTER: usize = 0x3FFF;
/// Offset of the TTL inside an RR image (after TYPE and CLASS).
const IMAGE_TTL: usize = 4;
/// Length of an RR image's fixed part.
const IMAGE_FIXED: usize = 10;

/// The response did not fit within the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// A position to roll back to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pos: usize,
    entries: usize,
}

/// A response being written; `'n` is the lifetime of every name written
/// (zone data and the query's buffers), which the compression table keeps.
pub(crate) struct Writer<'o, 'n> {
    buf: &'o mut [u8],
    pos: usize,
    limit: usize,
    table: [(&'n [u8], u16); TABLE_SIZE],
    entries: usize,
}

impl<'o, 'n> Writer<'o, 'n> {
    /// A writer over `buf` that refuses to go past `limit` octets.
    pub(crate) fn new(buf: &'o mut [u8], limit: usize) -> Writer<'o, 'n> {
        let limit = limit.min(buf.len());
        Writer {
            buf,
            pos: 0,
            limit,
            table: [(&[], 0); TABLE_SIZE],
            entries: 0,
        }
    }

    /// Octets written so far.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    /// Octets left under the size limit.
    pub(crate) fn room(&self) -> usize {
        self.limit.saturating_sub(self.pos)
    }

    /// Lowers the size limit (e.g. to keep room for OPT).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(self.buf.len());
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            entries: self.entries,
        }
    }

    /// Forgets everything written since `mark`, compression entries included.
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.entries = mark.entries;
    }

    pub(crate) fn put_bytes(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.pos + bytes.len();
        if end > self.limit {
            return Err(Full);
        }
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn put_u16(&mut self, value: u16) -> Result<(), Full> {
        self.put_bytes(&value.to_be_bytes())
    }

    pub(crate) fn put_u32(&mut self, value: u32) -> Result<(), Full> {
        self.put_bytes(&value.to_be_bytes())
    }

    /// Overwrites two octets already written at `at`.
    pub(crate) fn patch_u16(&mut self, at: usize, value: u16) {
        if let Some(slot) = self.buf.get_mut(at..at + 2) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
    }

    /// Remembers `name`, written in full at `offset`, and all its suffixes.
    pub(crate) fn remember(&mut self, name: &'n [u8], offset: usize) {
        let mut rest = name;
        let mut at = offset;
        while rest.len() > 1 {
            self.add_entry(rest, at);
            let skip = 1 + rest[0] as usize;
            at += skip;
            rest = rest.get(skip..).unwrap_or(&[]);
        }
    }

    fn add_entry(&mut self, name: &'n [u8], at: usize) {
        if self.entries < TABLE_SIZE && at <= MAX_POINTER {
            self.table[self.entries] = (name, at as u16);
            self.entries += 1;
        }
    }

    /// Where `name` was written first, if it is known for compression.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<u16> {
        let entries = &self.table[..self.entries];
        entries
            .iter()
            .find(|(known, _)| crate::zone::eq_ignore_case(known, name))
            .map(|e| e.1)
    }

    /// Writes a wire name, pointing at the longest suffix already written.
    pub(crate) fn put_name(&mut self, name: &'n [u8]) -> Result<(), Full> {
        let mut rest = name;
        while rest.len() > 1 {
            if let Some(offset) = self.lookup(rest) {
                return self.put_u16(0xC000 | offset);
            }
            let skip = 1 + rest[0] as usize;
            let Some(label) = rest.get(..skip) else {
                break;
            };
            let at = self.pos;
            self.put_bytes(label)?;
            self.add_entry(rest, at);
            rest = &rest[skip..];
        }
        self.put_bytes(&[0])
    }

    /// Writes one resource record: `owner`, then its image (TYPE, CLASS, TTL,
    /// RDLENGTH, RDATA), compressing RDATA names where RFC 3597 §4 allows.
    pub(crate) fn put_record(
        &mut self,
        owner: &'n [u8],
        image: &'n [u8],
        ttl: Option<u32>,
    ) -> Result<(), Full> {
        self.put_name(owner)?;
        let Some(&[t0, t1]) = image.get(..2) else {
            return Err(Full);
        };
        let (prefix, names) = match Rtype(u16::from_be_bytes([t0, t1])).rdata_names() {
            RdataNames::Compressible(fields) => (0, fields.len()),
            RdataNames::CompressibleAfterPrefix(prefix) => (prefix, 1),
            _ => (0, 0),
        };
        let start = self.pos;
        if names == 0 {
            self.put_bytes(image)?;
        } else {
            self.put_compressed_image(image, prefix, names)?;
        }
        if let Some(ttl) = ttl
            && let Some(slot) = self.buf.get_mut(start + IMAGE_TTL..start + IMAGE_TTL + 4)
        {
            slot.copy_from_slice(&ttl.to_be_bytes());
        }
        Ok(())
    }

    /// The image with its first `names` RDATA names (after `prefix` octets)
    /// compressed, falling back to a verbatim copy if RDATA is not as expected.
    fn put_compressed_image(
        &mut self,
        image: &'n [u8],
        prefix: usize,
        names: usize,
    ) -> Result<(), Full> {
        let Some(rdata) = image.get(IMAGE_FIXED..) else {
            return self.put_bytes(image);
        };
        let mut spans = [(0usize, 0usize); 2];
        let mut pos = prefix;
        for span in spans.iter_mut().take(names) {
            let Ok(len) = crate::name::wire_len(rdata.get(pos..).unwrap_or(&[])) else {
                return self.put_bytes(image);
            };
            *span = (pos, pos + len);
            pos += len;
        }
        let fixed_start = self.pos;
        self.put_bytes(&image[..IMAGE_FIXED])?;
        let rdata_start = self.pos;
        self.put_bytes(rdata.get(..prefix).unwrap_or(&[]))?;
        for &(start, end) in &spans[..names] {
            self.put_name(&rdata[start..end])?;
        }
        self.put_bytes(&rdata[pos..])?;
        let rdlength = (self.pos - rdata_start) as u16;
        self.patch_u16(fixed_start + 8, rdlength);
        Ok(())
    }

    /// The finished response.
    pub(crate) fn finish(self) -> usize {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compressed_against_earlier_suffixes() {
        let mut buf = [0u8; 512];
        let mut writer = Writer::new(&mut buf, 512);
        writer.put_bytes(&[0; 12]).unwrap();
        let qname = b"\x03www\x07example\x00";
        writer.put_bytes(qname).unwrap();
        writer.remember(qname, 12);
        writer.put_name(b"\x03WWW\x07example\x00").unwrap();
        writer.put_name(b"\x04mail\x07EXAMPLE\x00").unwrap();
        let len = writer.finish();
        assert_eq!(&buf[25..27], &[0xC0, 12]);
        assert_eq!(&buf[27..len], b"\x04mail\xC0\x10");
    }

    #[test]
    fn rollback_forgets_names_and_limit_holds() {
        let mut buf = [0u8; 64];
        let mut writer = Writer::new(&mut buf, 20);
        let mark = writer.mark();
        writer.put_name(b"\x03abc\x00").unwrap();
        writer.rollback(mark);
        writer.put_name(b"\x03abc\x00").unwrap();
        assert_eq!(writer.len(), 5, "not a pointer to rolled-back bytes");
        assert_eq!(writer.put_bytes(&[0; 16]), Err(Full));
    }

    #[test]
    fn mx_rdata_is_compressed_and_rdlength_fixed() {
        let mut buf = [0u8; 128];
        let mut writer = Writer::new(&mut buf, 128);
        let owner = b"\x07example\x00";
        let mut image = vec![0, 15, 0, 1, 0, 0, 0, 60, 0, 16, 0, 10];
        image.extend_from_slice(b"\x04mail\x07example\x00");
        let image: &'static [u8] = Box::leak(image.into_boxed_slice());
        writer.put_record(owner, image, Some(30)).unwrap();
        let len = writer.finish();
        assert_eq!(&buf[9..19], &[0, 15, 0, 1, 0, 0, 0, 30, 0, 9]);
        assert_eq!(&buf[19..len], b"\x00\x0a\x04mail\xC0\x00");
    }
}
