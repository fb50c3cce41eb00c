//! The snapshot header: what a reader checks before touching the archive.
//!
//! ```text
//!  0  magic "USNAPSHT"            8 octets
//!  8  format version              u16, big-endian
//! 10  header length               u16, a multiple of 16 (the archive is aligned)
//! 12  serial                      u32
//! 16  body length                 u64
//! 24  SHA-256 of the body         32 octets
//! 56  origin length n             u8
//! 57  origin, wire form           n octets
//!     zero padding up to the header length
//! ```

use super::error::LoadError;
use crate::name;

/// The first eight octets of every snapshot.
pub(crate) const MAGIC: [u8; 8] = *b"USNAPSHT";
/// The format this code writes and reads.
pub(crate) const VERSION: u16 = 1;
/// Alignment of the archive that follows the header.
pub(crate) const ALIGN: usize = 16;
const FIXED: usize = 57;

/// The decoded header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub serial: u32,
    pub body_len: u64,
    pub digest: [u8; 32],
    pub origin: &'a [u8],
    pub header_len: usize,
}

/// The header length for an origin of `origin_len` octets.
pub(crate) fn header_len(origin_len: usize) -> usize {
    (FIXED + origin_len).div_ceil(ALIGN) * ALIGN
}

/// Appends the encoded header to `out`.
pub(crate) fn write(
    out: &mut impl Extend<u8>,
    serial: u32,
    body_len: u64,
    digest: &[u8; 32],
    origin: &[u8],
) {
    let len = header_len(origin.len());
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_be_bytes());
    bytes.extend_from_slice(&(len as u16).to_be_bytes());
    bytes.extend_from_slice(&serial.to_be_bytes());
    bytes.extend_from_slice(&body_len.to_be_bytes());
    bytes.extend_from_slice(digest);
    bytes.push(origin.len() as u8);
    bytes.extend_from_slice(origin);
    bytes.resize(len, 0);
    out.extend(bytes);
}

/// Reads and checks the header at the start of `bytes`.
pub(crate) fn read(bytes: &[u8]) -> Result<Header<'_>, LoadError> {
    if bytes.len() < MAGIC.len() {
        return Err(LoadError::Truncated(bytes.len()));
    }
    if bytes[..MAGIC.len()] != MAGIC {
        return Err(LoadError::BadMagic);
    }
    if bytes.len() < FIXED {
        return Err(LoadError::Truncated(bytes.len()));
    }
    let version = u16::from_be_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(LoadError::UnsupportedVersion(version));
    }
    let header_len = u16::from_be_bytes([bytes[10], bytes[11]]) as usize;
    let serial = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(&bytes[16..24]);
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&bytes[24..56]);
    let origin_len = bytes[56] as usize;
    if header_len != self::header_len(origin_len) {
        return Err(LoadError::BadHeader(
            "header length does not match the origin length",
        ));
    }
    let header = bytes
        .get(..header_len)
        .ok_or(LoadError::Truncated(bytes.len()))?;
    let origin = &header[FIXED..FIXED + origin_len];
    if name::wire_len(origin) != Ok(origin_len) {
        return Err(LoadError::BadHeader("origin is not a valid name"));
    }
    if header[FIXED + origin_len..].iter().any(|&byte| byte != 0) {
        return Err(LoadError::BadHeader("non-zero padding"));
    }
    Ok(Header {
        serial,
        body_len: u64::from_be_bytes(body_len),
        digest,
        origin,
        header_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        let origin = b"\x07example\x00";
        let mut out = Vec::new();
        write(&mut out, 7, 1234, &[9; 32], origin);
        assert_eq!(out.len() % ALIGN, 0);
        let header = read(&out).unwrap();
        assert_eq!(
            (header.serial, header.body_len, header.origin),
            (7, 1234, &origin[..])
        );
        assert_eq!(header.header_len, out.len());
        let mut bad = out.clone();
        bad[0] ^= 1;
        assert_eq!(read(&bad), Err(LoadError::BadMagic));
        let mut bad = out.clone();
        bad[9] = 2;
        assert_eq!(read(&bad), Err(LoadError::UnsupportedVersion(2)));
        assert!(matches!(read(&out[..40]), Err(LoadError::Truncated(40))));
    }
}
