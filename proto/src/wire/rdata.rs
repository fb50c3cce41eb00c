//! Reading RDATA out of a message: names expanded, layouts checked.
//!
//! RFC 3597 §4: names inside the RDATA of the RFC 1035 types may be
//! compressed, and a few later types (RP, AFSDB, RT, SIG, PX, NXT, NAPTR,
//! SRV) were compressed by old implementations, so all of those are expanded
//! here. RDATA of types with a fixed layout is checked against it, so a
//! record that reaches a zone always has the shape its type promises.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{NameField, RdataNames, Rtype};

/// Reads the RDATA of a `rtype` record at `msg[start..end]` into
/// uncompressed form; `None` if it does not fit the type's layout.
pub(crate) fn read_rdata(msg: &[u8], start: usize, end: usize, rtype: Rtype) -> Option<Box<[u8]>> {
    if end > msg.len() {
        return None;
    }
    let mut reader = RdataReader {
        msg,
        pos: start,
        end,
        out: Vec::with_capacity(end.saturating_sub(start) + 16),
    };
    reader.layout(rtype)?;
    reader.finish()
}

/// Types whose RDATA goes on after their one name (signature, type bitmap).
fn has_opaque_tail(rtype: Rtype) -> bool {
    matches!(rtype, Rtype::RRSIG | Rtype::SIG | Rtype::NSEC | Rtype::NXT)
}

struct RdataReader<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    out: Vec<u8>,
}

impl RdataReader<'_> {
    /// Reads RDATA along the layout of `rtype`'s names and fixed fields.
    fn layout(&mut self, rtype: Rtype) -> Option<()> {
        match rtype.rdata_names() {
            RdataNames::None => self.opaque(rtype)?,
            RdataNames::Compressible(names) => {
                for _ in names.iter() {
                    self.name()?;
                }
                if rtype == Rtype::SOA {
                    self.fixed(20)?;
                }
            }
            RdataNames::CompressibleAfterPrefix(prefix) => {
                self.fixed(prefix)?;
                self.name()?;
            }
            RdataNames::Uncompressed(prefix) => {
                self.fixed(prefix)?;
                self.name()?;
                if has_opaque_tail(rtype) {
                    self.rest();
                }
            }
            RdataNames::Uncompressible(fields) => {
                for field in fields {
                    match field {
                        NameField::Fixed(len) => self.fixed(*len)?,
                        NameField::Name => self.name()?,
                    }
                }
            }
            RdataNames::Naptr => {
                self.fixed(4)?;
                for _ in 0..3 {
                    self.character_string()?;
                }
                self.name()?;
            }
        }
        Some(())
    }

    /// Checks the RDATA of types without names, where a layout is fixed.
    fn opaque(&mut self, rtype: Rtype) -> Option<()> {
        match rtype {
            Rtype::A => self.fixed(4),
            Rtype::AAAA => self.fixed(16),
            Rtype::TXT | Rtype::SPF => {
                while self.pos < self.end {
                    self.character_string()?;
                }
                Some(())
            }
            Rtype::HINFO => {
                self.character_string()?;
                self.character_string()
            }
            _ => {
                self.rest();
                Some(())
            }
        }
    }

    fn fixed(&mut self, len: usize) -> Option<()> {
        let stop = self.pos.checked_add(len)?;
        if stop > self.end {
            return None;
        }
        self.out.extend_from_slice(self.msg.get(self.pos..stop)?);
        self.pos = stop;
        Some(())
    }

    fn character_string(&mut self) -> Option<()> {
        let len = usize::from(*self.msg.get(self.pos)?);
        self.fixed(1 + len)
    }

    fn name(&mut self) -> Option<()> {
        if self.pos >= self.end {
            return None;
        }
        let mut wire = [0u8; MAX_NAME_LEN];
        let (len, next) = name::read_compressed_into(self.msg, self.pos, &mut wire).ok()?;
        if next > self.end {
            return None;
        }
        self.out.extend_from_slice(wire.get(..len)?);
        self.pos = next;
        Some(())
    }

    fn rest(&mut self) {
        if let Some(tail) = self.msg.get(self.pos..self.end) {
            self.out.extend_from_slice(tail);
        }
        self.pos = self.end;
    }

    fn finish(self) -> Option<Box<[u8]>> {
        (self.pos == self.end).then(|| self.out.into_boxed_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(msg: &[u8], start: usize, rtype: Rtype) -> Option<Box<[u8]>> {
        read_rdata(msg, start, msg.len(), rtype)
    }

    #[test]
    fn rfc1035_3_4_1_a_and_aaaa_lengths_are_fixed() {
        assert!(read(&[192, 0, 2, 1], 0, Rtype::A).is_some());
        assert!(read(&[192, 0, 2], 0, Rtype::A).is_none());
        assert!(read(&[0; 16], 0, Rtype::AAAA).is_some());
        assert!(read(&[0; 15], 0, Rtype::AAAA).is_none());
    }

    #[test]
    fn rfc3597_4_compressed_soa_and_mx_are_expanded() {
        // "example." at 0, then SOA RDATA at 9: "ns" + ptr, ptr, 20 octets.
        let mut msg = b"\x07example\x00".to_vec();
        let soa_start = msg.len();
        msg.extend_from_slice(&[2, b'n', b's', 0xC0, 0, 0xC0, 0]);
        msg.extend_from_slice(&[0; 19]);
        msg.push(7);
        let rdata = read(&msg, soa_start, Rtype::SOA).unwrap();
        assert_eq!(&rdata[..12], b"\x02ns\x07example\x00");
        assert_eq!(&rdata[12..21], b"\x07example\x00");
        assert_eq!(rdata.len(), 12 + 9 + 20);
        // One octet short of the 20 fixed ones.
        assert!(read_rdata(&msg, soa_start, msg.len() - 1, Rtype::SOA).is_none());
        let mx_start = msg.len();
        msg.extend_from_slice(&[0, 10, 0xC0, 0]);
        assert_eq!(
            &*read(&msg, mx_start, Rtype::MX).unwrap(),
            b"\x00\x0a\x07example\x00"
        );
    }

    #[test]
    fn rfc3597_4_srv_and_naptr_names_are_expanded() {
        let mut msg = b"\x07example\x00".to_vec();
        let srv_start = msg.len();
        msg.extend_from_slice(&[0, 1, 0, 2, 0, 53, 0xC0, 0]);
        assert_eq!(read(&msg, srv_start, Rtype::SRV).unwrap().len(), 6 + 9);
        let naptr_start = msg.len();
        msg.extend_from_slice(&[0, 1, 0, 2, 1, b'U', 0, 3, b'a', b'b', b'c', 0xC0, 0]);
        assert_eq!(
            read(&msg, naptr_start, Rtype::NAPTR).unwrap().len(),
            4 + 2 + 1 + 4 + 9
        );
    }

    #[test]
    fn names_may_not_run_past_rdlength() {
        let msg = b"\x00\x0a\x07example\x00";
        assert!(read_rdata(msg, 0, msg.len() - 1, Rtype::MX).is_none());
        assert!(read_rdata(msg, 0, msg.len() + 1, Rtype::MX).is_none());
        // A name with octets after it, where the type has nothing more.
        let cname = b"\x01a\x00\x01";
        assert!(read(cname, 0, Rtype::CNAME).is_none());
    }

    #[test]
    fn rfc4034_3_rrsig_keeps_its_signature_after_the_signer() {
        let mut msg = vec![0u8; 18];
        msg.extend_from_slice(b"\x07example\x00");
        msg.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(read(&msg, 0, Rtype::RRSIG).unwrap().len(), msg.len());
    }

    #[test]
    fn rfc1035_3_3_14_txt_strings_fill_rdata() {
        assert!(read(b"\x02hi\x00", 0, Rtype::TXT).is_some());
        assert!(read(b"\x03hi", 0, Rtype::TXT).is_none());
        assert!(read(b"\x01a", 0, Rtype::HINFO).is_none());
    }
}
