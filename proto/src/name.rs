//! Domain names: uncompressed wire form, case preserved, compared without case.
//!
//! A [`Name`] owns the uncompressed wire bytes of an absolute name (RFC 1035
//! §3.1): length-prefixed labels ending in the root label. Case is kept as
//! received so that answers carry the primary's spelling; equality, hashing and
//! ordering ignore ASCII case as RFC 4343 requires. [`Ord`] is the canonical
//! DNS order of RFC 4034 §6.1.
//!
//! The free functions work on wire slices so that code reading names straight
//! out of a snapshot or a packet needs no owned copy.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Longest name in wire form, root label included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Most labels a name can have, root excluded.
pub const MAX_LABELS: usize = 127;
/// Most compression pointers followed while reading one name.
const MAX_POINTER_HOPS: usize = 64;

/// Why bytes or text are not a valid domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name ran past the end of the buffer.
    #[error("name runs past the end of the data")]
    Truncated,
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// The whole name is longer than 255 octets.
    #[error("name longer than 255 octets")]
    NameTooLong,
    /// A label type other than a normal label or a pointer (RFC 6891 §5).
    #[error("unsupported label type {0:#04x}")]
    BadLabelType(u8),
    /// A compression pointer that does not point strictly backwards, or too many.
    #[error("compression pointer loop or forward pointer")]
    BadPointer,
    /// A compression pointer where none is allowed.
    #[error("compression pointer in uncompressed name")]
    UnexpectedPointer,
    /// Bytes left after the root label.
    #[error("trailing bytes after the root label")]
    TrailingBytes,
    /// Presentation form that cannot be read.
    #[error("bad presentation form: {0}")]
    BadText(&'static str),
}

/// An absolute domain name in uncompressed wire form, case preserved.
#[derive(Clone)]
pub struct Name {
    wire: Box<[u8]>,
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name {
            wire: Box::new([0]),
        }
    }

    /// Takes uncompressed wire bytes that hold exactly one name.
    pub fn from_wire(bytes: &[u8]) -> Result<Name, NameError> {
        let len = wire_len(bytes)?;
        if len != bytes.len() {
            return Err(NameError::TrailingBytes);
        }
        Ok(Name { wire: bytes.into() })
    }

    /// Reads a possibly compressed name at `pos` of a whole DNS message.
    ///
    /// Returns the name and the position right after it in the message (after
    /// the first pointer, if the name was compressed).
    pub fn read_compressed(msg: &[u8], pos: usize) -> Result<(Name, usize), NameError> {
        let mut out = [0u8; MAX_NAME_LEN];
        let (len, next) = read_compressed_into(msg, pos, &mut out)?;
        Ok((
            Name {
                wire: out[..len].into(),
            },
            next,
        ))
    }

    /// Parses presentation form (`www.example.com.`, escapes `\.` and `\DDD`).
    ///
    /// The name is always taken as absolute: a missing trailing dot is added.
    pub fn from_ascii(text: &str) -> Result<Name, NameError> {
        let mut wire = Vec::with_capacity(text.len() + 2);
        if text == "." {
            return Ok(Name::root());
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut label = Vec::with_capacity(MAX_LABEL_LEN);
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if label.is_empty() {
                        return Err(NameError::BadText("empty label"));
                    }
                    push_label(&mut wire, &label)?;
                    label.clear();
                    i += 1;
                }
                b'\\' => {
                    let (byte, used) = unescape(&bytes[i + 1..])?;
                    label.push(byte);
                    i += 1 + used;
                }
                byte => {
                    label.push(byte);
                    i += 1;
                }
            }
        }
        if !label.is_empty() {
            push_label(&mut wire, &label)?;
        }
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        Ok(Name { wire: wire.into() })
    }

    /// The uncompressed wire bytes, root label included.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// Length of the wire form in octets.
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire.len() == 1
    }

    /// The labels, leftmost first, root excluded.
    pub fn labels(&self) -> Labels<'_> {
        Labels { wire: &self.wire }
    }

    /// Number of labels, root excluded.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The same name in ASCII lower case.
    pub fn to_lowercase(&self) -> Name {
        Name {
            wire: self.wire.to_ascii_lowercase().into(),
        }
    }

    /// The name with its leftmost label removed; `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        if self.is_root() {
            return None;
        }
        let skip = 1 + self.wire[0] as usize;
        Some(Name {
            wire: self.wire[skip..].into(),
        })
    }

    /// Whether `self` is `ancestor` or below it (case-insensitive).
    pub fn is_subdomain_of(&self, ancestor: &Name) -> bool {
        is_subdomain(&self.wire, &ancestor.wire)
    }

    /// `label` prepended to this name, e.g. `*` for a wildcard.
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameError> {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        let len = self.wire.len() + 1 + label.len();
        if len > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        let mut wire = Vec::with_capacity(len);
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
        wire.extend_from_slice(&self.wire);
        Ok(Name { wire: wire.into() })
    }

    /// Whether the leftmost label is `*` (RFC 4592 §2.1.1).
    pub fn is_wildcard(&self) -> bool {
        self.wire.starts_with(&[1, b'*'])
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        eq_ignore_case(&self.wire, &other.wire)
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for byte in self.wire.iter() {
            state.write_u8(byte.to_ascii_lowercase());
        }
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        canonical_cmp(&self.wire, &other.wire)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_presentation(&self.wire, f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Name, NameError> {
        Name::from_ascii(text)
    }
}

/// Iterator over the labels of a wire name, leftmost first, root excluded.
#[derive(Clone)]
pub struct Labels<'a> {
    wire: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.first()? as usize;
        if len == 0 || self.wire.len() < 1 + len {
            return None;
        }
        let label = &self.wire[1..1 + len];
        self.wire = &self.wire[1 + len..];
        Some(label)
    }
}

/// Labels of an uncompressed wire name that is already known to be valid.
pub fn labels(wire: &[u8]) -> Labels<'_> {
    Labels { wire }
}

/// Validates an uncompressed wire name at the start of `bytes`; returns its length.
pub fn wire_len(bytes: &[u8]) -> Result<usize, NameError> {
    let mut pos = 0;
    loop {
        let len = *bytes.get(pos).ok_or(NameError::Truncated)? as usize;
        if len & 0xC0 == 0xC0 {
            return Err(NameError::UnexpectedPointer);
        }
        if len > MAX_LABEL_LEN {
            return Err(NameError::BadLabelType(len as u8));
        }
        pos += 1 + len;
        if pos > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        if len == 0 {
            return Ok(pos);
        }
        if pos > bytes.len() {
            return Err(NameError::Truncated);
        }
    }
}

/// Reads a possibly compressed name at `pos` of `msg` into `out`.
///
/// Returns the uncompressed length written to `out` and the position after
/// the name in `msg`. Pointers must point strictly backwards, which rules out
/// loops; the number of hops is bounded as well.
pub fn read_compressed_into(
    msg: &[u8],
    pos: usize,
    out: &mut [u8; MAX_NAME_LEN],
) -> Result<(usize, usize), NameError> {
    let mut read = pos;
    let mut written = 0;
    let mut next = None;
    let mut hops = 0;
    let mut limit = pos;
    loop {
        let len = *msg.get(read).ok_or(NameError::Truncated)? as usize;
        match len & 0xC0 {
            0xC0 => {
                let low = *msg.get(read + 1).ok_or(NameError::Truncated)? as usize;
                let target = ((len & 0x3F) << 8) | low;
                hops += 1;
                if target >= limit || hops > MAX_POINTER_HOPS {
                    return Err(NameError::BadPointer);
                }
                next.get_or_insert(read + 2);
                limit = target;
                read = target;
            }
            0x00 => {
                if written + 1 + len > MAX_NAME_LEN {
                    return Err(NameError::NameTooLong);
                }
                let label = msg.get(read..read + 1 + len).ok_or(NameError::Truncated)?;
                out[written..written + 1 + len].copy_from_slice(label);
                written += 1 + len;
                read += 1 + len;
                if len == 0 {
                    return Ok((written, next.unwrap_or(read)));
                }
            }
            _ => return Err(NameError::BadLabelType(len as u8)),
        }
    }
}

/// Case-insensitive equality of two wire names.
///
/// Length octets are at most 63, so ASCII case folding never changes them and
/// the whole wire form can be compared at once.
pub fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether wire name `name` equals or lies below wire name `ancestor`.
pub fn is_subdomain(name: &[u8], ancestor: &[u8]) -> bool {
    if ancestor.len() > name.len() {
        return false;
    }
    let mut rest = name;
    loop {
        if rest.len() == ancestor.len() {
            return eq_ignore_case(rest, ancestor);
        }
        if rest.len() < ancestor.len() || rest[0] == 0 {
            return false;
        }
        rest = &rest[1 + rest[0] as usize..];
    }
}

/// Offsets of each label's length octet in a valid wire name, root excluded.
///
/// Returns the number of labels written into `offsets`.
pub fn label_offsets(wire: &[u8], offsets: &mut [u8; MAX_LABELS]) -> usize {
    let mut count = 0;
    let mut pos = 0;
    while pos < wire.len() && wire[pos] != 0 && count < MAX_LABELS {
        offsets[count] = pos as u8;
        count += 1;
        pos += 1 + wire[pos] as usize;
    }
    count
}

/// Canonical DNS name order (RFC 4034 §6.1) of two valid wire names.
///
/// Labels are compared from the rightmost, each as a lower-cased octet string
/// where a shorter label sorts before a longer one it is a prefix of.
pub fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let mut a_offsets = [0u8; MAX_LABELS];
    let mut b_offsets = [0u8; MAX_LABELS];
    let a_count = label_offsets(a, &mut a_offsets);
    let b_count = label_offsets(b, &mut b_offsets);
    for i in 1..=a_count.min(b_count) {
        let a_label = label_at(a, a_offsets[a_count - i]);
        let b_label = label_at(b, b_offsets[b_count - i]);
        let order = cmp_label(a_label, b_label);
        if order != Ordering::Equal {
            return order;
        }
    }
    a_count.cmp(&b_count)
}

fn label_at(wire: &[u8], offset: u8) -> &[u8] {
    let start = offset as usize;
    &wire[start + 1..start + 1 + wire[start] as usize]
}

fn cmp_label(a: &[u8], b: &[u8]) -> Ordering {
    let lower_a = a.iter().map(u8::to_ascii_lowercase);
    let lower_b = b.iter().map(u8::to_ascii_lowercase);
    lower_a.cmp(lower_b)
}

fn push_label(wire: &mut Vec<u8>, label: &[u8]) -> Result<(), NameError> {
    if label.len() > MAX_LABEL_LEN {
        return Err(NameError::LabelTooLong);
    }
    wire.push(label.len() as u8);
    wire.extend_from_slice(label);
    if wire.len() + 1 > MAX_NAME_LEN {
        return Err(NameError::NameTooLong);
    }
    Ok(())
}

/// Reads the character after a backslash: `\DDD` or `\X`.
fn unescape(rest: &[u8]) -> Result<(u8, usize), NameError> {
    match rest {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let value = (a - b'0') as u32 * 100 + (b - b'0') as u32 * 10 + (c - b'0') as u32;
            let byte = u8::try_from(value).map_err(|_| NameError::BadText("\\DDD above 255"))?;
            Ok((byte, 3))
        }
        [a, ..] if a.is_ascii_digit() => Err(NameError::BadText("\\DDD needs three digits")),
        [x, ..] => Ok((*x, 1)),
        [] => Err(NameError::BadText("dangling backslash")),
    }
}

/// Writes a wire name in presentation form, escaping as RFC 4343 §2.1 does.
pub fn write_presentation(wire: &[u8], f: &mut impl fmt::Write) -> fmt::Result {
    if wire.first() == Some(&0) {
        return f.write_char('.');
    }
    for label in labels(wire) {
        for &byte in label {
            match byte {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    f.write_char('\\')?;
                    f.write_char(byte as char)?;
                }
                0x21..=0x7E => f.write_char(byte as char)?,
                _ => write!(f, "\\{byte:03}")?,
            }
        }
        f.write_char('.')?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn presentation_round_trip_keeps_case_and_escapes() {
        for text in [
            ".",
            "example.com.",
            "WwW.Example.COM.",
            "a\\.b.c.",
            "\\000.x.",
            "*.w.example.",
        ] {
            assert_eq!(name(text).to_string(), text);
        }
        assert_eq!(name("example.com").to_string(), "example.com.");
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        use std::collections::hash_map::DefaultHasher;
        let (a, b) = (name("WWW.example.com."), name("www.EXAMPLE.com."));
        assert_eq!(a, b);
        let hash = |n: &Name| {
            let mut h = DefaultHasher::new();
            n.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(name("www.example.com."), name("www.example.org."));
    }

    /// RFC 4034 §6.1 lists these names in canonical order.
    #[test]
    fn rfc4034_section_6_1_canonical_order() {
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let names: Vec<Name> = ordered.iter().map(|t| name(t)).collect();
        for pair in names.windows(2) {
            assert_eq!(
                pair[0].cmp(&pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn rejects_overlong_labels_and_names() {
        let label = "a".repeat(64);
        assert_eq!(Name::from_ascii(&label), Err(NameError::LabelTooLong));
        let long = format!("{}.", ["abcdefghi"; 26].join("."));
        assert_eq!(Name::from_ascii(&long), Err(NameError::NameTooLong));
    }

    #[test]
    fn subdomain_and_parent() {
        assert!(name("a.b.example.").is_subdomain_of(&name("EXAMPLE.")));
        assert!(name("example.").is_subdomain_of(&name("example.")));
        assert!(!name("badexample.").is_subdomain_of(&name("example.")));
        assert!(name("x.").is_subdomain_of(&Name::root()));
        assert_eq!(name("a.b.").parent(), Some(name("b.")));
        assert_eq!(Name::root().parent(), None);
    }

    #[test]
    fn reads_compressed_names_and_rejects_loops() {
        // "example.com." at 0, then "www" + pointer to 0 at 13.
        let mut msg = name("example.com.").as_wire().to_vec();
        msg.extend_from_slice(&[3, b'w', b'w', b'w', 0xC0, 0x00]);
        let (read, next) = Name::read_compressed(&msg, 13).unwrap();
        assert_eq!(read, name("www.example.com."));
        assert_eq!(next, msg.len());
        // A pointer to itself is a loop.
        let looped = [0xC0, 0x00];
        assert_eq!(
            Name::read_compressed(&looped, 0).unwrap_err(),
            NameError::BadPointer
        );
        // A forward pointer is refused.
        let forward = [0xC0, 0x02, 0];
        assert_eq!(
            Name::read_compressed(&forward, 0).unwrap_err(),
            NameError::BadPointer
        );
        assert_eq!(
            Name::read_compressed(&[3, b'a'], 0).unwrap_err(),
            NameError::Truncated
        );
    }
}
