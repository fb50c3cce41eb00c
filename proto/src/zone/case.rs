//! ASCII case-insensitive comparison of wire names, eight octets at a time.
//!
//! Names are compared many times per query (zone and node lookups,
//! compression, duplicate checks); the standard library's comparison is
//! built for long strings and costs more than a whole hash probe for names
//! this short.

/// Whether `a` and `b` are equal ignoring ASCII case (RFC 4343).
#[inline]
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_folded(a, b)
}

/// [`eq_ignore_case`] for slices of the same length.
fn same_folded(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len < 8 {
        return a
            .iter()
            .zip(b)
            .all(|(&x, &y)| fold_octet(x) == fold_octet(y));
    }
    let words = a.chunks_exact(8).zip(b.chunks_exact(8));
    if !words
        .into_iter()
        .all(|(x, y)| fold(word(x)) == fold(word(y)))
    {
        return false;
    }
    // The last eight octets, overlapping the last whole word.
    let tail = len - 8;
    fold(word(&a[tail..])) == fold(word(&b[tail..]))
}

/// The first eight octets of `bytes` as a word (zero if there are fewer).
fn word(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

fn fold_octet(octet: u8) -> u8 {
    octet.to_ascii_lowercase()
}

/// Every octet of `w` in `A..=Z` turned to lower case, the rest unchanged.
fn fold(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = w & !HIGH;
    // The high bit of each octet: set if that octet is >= 'A', resp. > 'Z'
    // (for octets below 0x80, which is all `low7` holds).
    let at_least_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let above_z = low7 + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = at_least_a & !above_z & !w & HIGH;
    w | (upper >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4343_3_case_folds_only_ascii_letters() {
        assert!(eq_ignore_case(
            b"\x03WwW\x07ExAmPlE\x00",
            b"\x03www\x07example\x00"
        ));
        assert!(!eq_ignore_case(b"\x03www\x00", b"\x03wwx\x00"));
        assert!(
            !eq_ignore_case(b"\x01@", b"\x01`"),
            "@ and ` differ by 0x20 but are not letters"
        );
        assert!(!eq_ignore_case(b"\x01[", b"\x01{"));
        assert!(
            !eq_ignore_case(&[1, 0xC1], &[1, 0xE1]),
            "no folding above 0x7F"
        );
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let expected = a.eq_ignore_ascii_case(&b);
                assert_eq!(eq_ignore_case(&[a; 9], &[b; 9]), expected, "{a} {b}");
                assert_eq!(eq_ignore_case(&[a; 3], &[b; 3]), expected, "{a} {b}");
            }
        }
    }
}
