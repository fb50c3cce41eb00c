//! A zone's directory name: its lower-cased name, safe on any file system.
//!
//! Labels keep `a-z 0-9 - _` and are joined with `.`; every other byte
//! (dots inside a label included) becomes `%XX`, so two different zones never
//! share a directory. The root zone is `@`, which the escaping cannot
//! produce. Names whose escaped form would not fit a file name are cut and
//! suffixed with a digest of the whole name.

use std::fmt::Write as _;

use understudy_proto::Name;

/// The directory of the root zone.
const ROOT: &str = "@";
/// Longest escaped name kept whole (file names stop at 255 bytes).
const MAX_WHOLE: usize = 200;
/// Bytes of escaped name kept in front of the digest when cut.
const KEPT_WHEN_CUT: usize = 150;

/// The directory name of `zone`.
pub fn dir_name(zone: &Name) -> String {
    if zone.is_root() {
        return ROOT.to_owned();
    }
    let mut out = String::new();
    for (index, label) in zone.labels().enumerate() {
        if index > 0 {
            out.push('.');
        }
        for &byte in label {
            let byte = byte.to_ascii_lowercase();
            if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_' {
                out.push(char::from(byte));
            } else {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    if out.len() <= MAX_WHOLE {
        return out;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, zone.to_lowercase().as_wire());
    let mut cut = out;
    cut.truncate(KEPT_WHEN_CUT);
    cut.push('~');
    for byte in &digest.as_ref()[..16] {
        let _ = write!(cut, "{byte:02x}");
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn ordinary_names_read_plainly_in_lower_case() {
        assert_eq!(dir_name(&name("Example.COM.")), "example.com");
        assert_eq!(
            dir_name(&name("_dmarc.xn--bcher-kva.example.")),
            "_dmarc.xn--bcher-kva.example"
        );
        assert_eq!(dir_name(&Name::root()), "@");
    }

    #[test]
    fn unsafe_bytes_are_escaped_and_stay_distinct() {
        assert_eq!(dir_name(&name("a\\.b.example.")), "a%2Eb.example");
        assert_ne!(
            dir_name(&name("a\\.b.example.")),
            dir_name(&name("a.b.example."))
        );
        assert_eq!(dir_name(&name("\\.\\.\\/x.")), "%2E%2E%2Fx");
        assert_eq!(dir_name(&name("\\@.")), "%40");
        assert_eq!(dir_name(&name("sp\\032ace.\\255.")), "sp%20ace.%FF");
        for text in ["x/y.", "\\000.", "a b."] {
            let dir = dir_name(&name(text));
            assert!(
                !dir.contains('/') && !dir.contains('\0') && !dir.contains(' '),
                "{dir}"
            );
        }
    }

    #[test]
    fn long_names_are_cut_with_a_digest() {
        let long_label = "\\255".repeat(60);
        let a = name(&format!("{long_label}.a."));
        let b = name(&format!("{long_label}.b."));
        let (dir_a, dir_b) = (dir_name(&a), dir_name(&b));
        assert!(dir_a.len() <= 255 && dir_b.len() <= 255);
        assert_ne!(dir_a, dir_b);
        assert_eq!(dir_a, dir_name(&a.to_lowercase()));
    }
}
