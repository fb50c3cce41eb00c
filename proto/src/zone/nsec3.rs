//! NSEC3 hashing (RFC 5155 §5) and the base32hex owner labels.

use ring::digest;

use super::layout::NSEC3_HASH_LEN;

/// The only NSEC3 hash algorithm defined (RFC 5155 §11).
pub(crate) const SHA1: u8 = 1;

/// Parameters of an NSEC3 chain, read from NSEC3PARAM or NSEC3 RDATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nsec3Params<'a> {
    pub algorithm: u8,
    pub flags: u8,
    pub iterations: u16,
    pub salt: &'a [u8],
}

impl<'a> Nsec3Params<'a> {
    /// Reads NSEC3PARAM RDATA, which must hold nothing after the salt.
    pub(crate) fn from_nsec3param(rdata: &'a [u8]) -> Option<Nsec3Params<'a>> {
        let (params, used) = Nsec3Params::read(rdata)?;
        (used == rdata.len()).then_some(params)
    }

    /// Reads the parameter prefix of NSEC3 or NSEC3PARAM RDATA.
    pub(crate) fn read(rdata: &'a [u8]) -> Option<(Nsec3Params<'a>, usize)> {
        let [algorithm, flags, high, low, salt_len, ..] = *rdata else {
            return None;
        };
        let end = 5 + salt_len as usize;
        let salt = rdata.get(5..end)?;
        let iterations = u16::from_be_bytes([high, low]);
        Some((
            Nsec3Params {
                algorithm,
                flags,
                iterations,
                salt,
            },
            end,
        ))
    }

    /// Whether two parameter sets describe the same chain (flags aside).
    pub(crate) fn same_chain(&self, other: &Nsec3Params<'_>) -> bool {
        self.algorithm == other.algorithm
            && self.iterations == other.iterations
            && self.salt == other.salt
    }
}

/// Checks NSEC3 RDATA layout (RFC 5155 §3.2) and returns the next hashed owner.
pub(crate) fn nsec3_next_hash(rdata: &[u8]) -> Option<&[u8]> {
    let (_, used) = Nsec3Params::read(rdata)?;
    let hash_len = *rdata.get(used)? as usize;
    let next = rdata.get(used + 1..used + 1 + hash_len)?;
    (hash_len > 0).then_some(next)
}

/// The NSEC3 hash of a lower-cased wire name (RFC 5155 §5).
///
/// Iterations are bounded by the u16 of the format; a zone with many
/// iterations makes its own denial answers slow, as RFC 9276 §3.1 warns.
pub(crate) fn hash_name(lower_wire: &[u8], salt: &[u8], iterations: u16) -> [u8; NSEC3_HASH_LEN] {
    let mut context = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(lower_wire);
    context.update(salt);
    let mut hash = context.finish();
    for _ in 0..iterations {
        let mut context = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        context.update(hash.as_ref());
        context.update(salt);
        hash = context.finish();
    }
    let mut out = [0u8; NSEC3_HASH_LEN];
    out.copy_from_slice(hash.as_ref());
    out
}

/// Decodes a base32hex label (RFC 4648 §7, either case, no padding) holding
/// an SHA-1 hash.
pub(crate) fn decode_base32hex(label: &[u8]) -> Option<[u8; NSEC3_HASH_LEN]> {
    if label.len() != NSEC3_HASH_LEN * 8 / 5 {
        return None;
    }
    let mut out = [0u8; NSEC3_HASH_LEN];
    let mut acc: u64 = 0;
    let mut bits = 0;
    let mut written = 0;
    for &ch in label {
        let value = match ch.to_ascii_uppercase() {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'A'..=b'V' => c - b'A' + 10,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out[written] = (acc >> bits) as u8;
            written += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 5155 Appendix A: H(example) with salt aabbccdd, 12 iterations is
    /// 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.
    #[test]
    fn rfc5155_appendix_a_hash_of_apex() {
        let hash = hash_name(b"\x07example\x00", &[0xaa, 0xbb, 0xcc, 0xdd], 12);
        let expected = decode_base32hex(b"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom").unwrap();
        assert_eq!(hex(&hash), hex(&expected));
        let a = hash_name(b"\x01a\x07example\x00", &[0xaa, 0xbb, 0xcc, 0xdd], 12);
        assert_eq!(
            a,
            decode_base32hex(b"35MTHGPGCU1QG68FAB165KLNSNK3DPVL").unwrap()
        );
    }

    #[test]
    fn base32hex_rejects_bad_labels() {
        assert!(decode_base32hex(b"0p9mhaveqvm6t7vbl5lop2u3t2rp3to").is_none());
        assert!(decode_base32hex(b"0p9mhaveqvm6t7vbl5lop2u3t2rp3toz").is_none());
    }

    #[test]
    fn reads_parameters() {
        let rdata = [1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd];
        let params = Nsec3Params::from_nsec3param(&rdata).unwrap();
        assert_eq!(
            (params.algorithm, params.iterations, params.salt),
            (1, 12, &rdata[5..])
        );
        assert!(Nsec3Params::from_nsec3param(&rdata[..8]).is_none());
    }
}
