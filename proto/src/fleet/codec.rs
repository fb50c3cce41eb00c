//! The list's binary form, as it is stored on disk and sent to peers.
//!
//! ```text
//! +------+---------+-----------+------------------------------------+
//! | USZL | version | count u32 | entries, names strictly ascending  |
//! +------+---------+-----------+------------------------------------+
//! entry:  name_len u8 | name (wire, lower case) | counter u64 | node_len u8 | node
//!         | state u8: 0 removed, 1 live [| zone]
//! zone:   primaries list | tsig_key opt | allow_transfer list | allow_notify list
//!         | transfer_source opt | options: u32 n, n × (text, text)
//!         | catalog: 0 | 1 name_len u8 name | member_id: 0 | 1 bytes
//! text / bytes: u32 length, then that many bytes (text is UTF-8)
//! list:  u32 n, then n texts       opt: 0 | 1 text
//! ```
//!
//! All integers are big-endian. Decoding checks every length against what
//! is left, so arbitrary bytes give a [`DecodeError`], never a panic or an
//! allocation larger than the input.

use crate::name::{Name, NameError};

use super::entry::{Entry, EntryState, FleetZone, MAX_NODE_ID_LEN, Tag};
use super::list::ZoneList;

const MAGIC: &[u8; 4] = b"USZL";
/// The encoding's version; a list of another version is refused.
pub const FORMAT_VERSION: u8 = 1;
/// The largest encoded list accepted (peers send at most this much).
pub const MAX_ENCODED_LEN: usize = 16 << 20;

const REMOVED: u8 = 0;
const LIVE: u8 = 1;

/// Why bytes are not a fleet list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Longer than [`MAX_ENCODED_LEN`].
    #[error("list of {0} bytes is larger than the {MAX_ENCODED_LEN} allowed")]
    TooLarge(usize),
    /// Does not start with the list's magic bytes.
    #[error("not a fleet zone list (bad magic)")]
    BadMagic,
    /// A format version this node does not read.
    #[error("fleet list format version {0} is not supported (this node reads {FORMAT_VERSION})")]
    UnsupportedVersion(u8),
    /// The bytes end inside a field.
    #[error("fleet list truncated")]
    Truncated,
    /// A zone or catalog name is malformed.
    #[error("bad name in fleet list: {0}")]
    BadName(#[from] NameError),
    /// Names are not strictly ascending (out of order or repeated).
    #[error("fleet list entries out of order or repeated at {0}")]
    Order(Name),
    /// Text that is not UTF-8.
    #[error("fleet list text is not UTF-8")]
    BadText,
    /// A node id longer than [`MAX_NODE_ID_LEN`].
    #[error("node id longer than {MAX_NODE_ID_LEN} bytes")]
    NodeIdTooLong,
    /// An unknown tag byte (entry state or optional field).
    #[error("unknown marker byte {0}")]
    BadMarker(u8),
    /// Bytes after the last entry.
    #[error("{0} bytes after the last entry")]
    TrailingBytes(usize),
}

impl ZoneList {
    /// The list's canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 * self.len() + 9);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        put_len(&mut out, self.len());
        for (zone, entry) in self.entries() {
            put_entry(&mut out, zone, entry);
        }
        out
    }

    /// Reads a list from `bytes`, checking every field.
    pub fn from_bytes(bytes: &[u8]) -> Result<ZoneList, DecodeError> {
        if bytes.len() > MAX_ENCODED_LEN {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let mut reader = Reader { bytes };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        match reader.byte()? {
            FORMAT_VERSION => {}
            other => return Err(DecodeError::UnsupportedVersion(other)),
        }
        let count = reader.u32()?;
        let mut list = ZoneList::new();
        for _ in 0..count {
            let (zone, entry) = read_entry(&mut reader)?;
            if list.last_name().is_some_and(|last| *last >= zone) {
                return Err(DecodeError::Order(zone));
            }
            list.insert_decoded(zone, entry);
        }
        match reader.bytes.len() {
            0 => Ok(list),
            left => Err(DecodeError::TrailingBytes(left)),
        }
    }
}

fn put_entry(out: &mut Vec<u8>, zone: &Name, entry: &Entry) {
    put_name(out, zone);
    out.extend_from_slice(&entry.tag.counter.to_be_bytes());
    out.push(entry.tag.node.len() as u8);
    out.extend_from_slice(entry.tag.node.as_bytes());
    match &entry.state {
        EntryState::Removed => out.push(REMOVED),
        EntryState::Live(spec) => {
            out.push(LIVE);
            put_zone(out, spec);
        }
    }
}

fn put_zone(out: &mut Vec<u8>, spec: &FleetZone) {
    put_texts(out, &spec.primaries);
    put_optional(out, spec.tsig_key.as_deref().map(str::as_bytes));
    put_texts(out, &spec.allow_transfer);
    put_texts(out, &spec.allow_notify);
    put_optional(out, spec.transfer_source.as_deref().map(str::as_bytes));
    put_len(out, spec.options.len());
    for (key, value) in &spec.options {
        put_bytes(out, key.as_bytes());
        put_bytes(out, value.as_bytes());
    }
    match &spec.catalog {
        None => out.push(0),
        Some(catalog) => {
            out.push(1);
            put_name(out, catalog);
        }
    }
    put_optional(out, spec.member_id.as_deref());
}

fn put_name(out: &mut Vec<u8>, name: &Name) {
    out.push(name.wire_len() as u8);
    out.extend_from_slice(name.as_wire());
}

fn put_texts(out: &mut Vec<u8>, texts: &[String]) {
    put_len(out, texts.len());
    for text in texts {
        put_bytes(out, text.as_bytes());
    }
}

fn put_optional(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            put_bytes(out, bytes);
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Lengths above `u32::MAX` cannot occur in a list that fits in memory
/// with the limits peers apply; they are saturated rather than wrapped so
/// that such a list fails to decode instead of decoding wrongly.
fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

fn read_entry(reader: &mut Reader<'_>) -> Result<(Name, Entry), DecodeError> {
    let zone = reader.name()?;
    let counter = u64::from_be_bytes(reader.array()?);
    let node_len = usize::from(reader.byte()?);
    if node_len > MAX_NODE_ID_LEN {
        return Err(DecodeError::NodeIdTooLong);
    }
    let node = text(reader.take(node_len)?)?;
    let state = match reader.byte()? {
        REMOVED => EntryState::Removed,
        LIVE => EntryState::Live(read_zone(reader)?),
        other => return Err(DecodeError::BadMarker(other)),
    };
    let tag = Tag { counter, node };
    Ok((zone, Entry { tag, state }))
}

fn read_zone(reader: &mut Reader<'_>) -> Result<FleetZone, DecodeError> {
    let primaries = reader.texts()?;
    let tsig_key = reader.optional()?.map(text).transpose()?;
    let allow_transfer = reader.texts()?;
    let allow_notify = reader.texts()?;
    let transfer_source = reader.optional()?.map(text).transpose()?;
    let count = reader.u32()?;
    let mut options = Vec::new();
    for _ in 0..count {
        let key = text(reader.sized()?)?;
        let value = text(reader.sized()?)?;
        options.push((key, value));
    }
    let catalog = match reader.byte()? {
        0 => None,
        1 => Some(reader.name()?),
        other => return Err(DecodeError::BadMarker(other)),
    };
    let member_id = reader.optional()?.map(<[u8]>::to_vec);
    Ok(FleetZone {
        primaries,
        tsig_key,
        allow_transfer,
        allow_notify,
        transfer_source,
        options,
        catalog,
        member_id,
    })
}

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::BadText)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.bytes.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn sized(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()?;
        self.take(usize::try_from(len).map_err(|_| DecodeError::Truncated)?)
    }

    fn texts(&mut self) -> Result<Vec<String>, DecodeError> {
        let count = self.u32()?;
        // Each text takes at least its 4-byte length: a count above what is
        // left is refused before anything is allocated.
        if u64::from(count) * 4 > self.bytes.len() as u64 {
            return Err(DecodeError::Truncated);
        }
        (0..count).map(|_| text(self.sized()?)).collect()
    }

    fn optional(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.sized().map(Some),
            other => Err(DecodeError::BadMarker(other)),
        }
    }

    fn name(&mut self) -> Result<Name, DecodeError> {
        let len = usize::from(self.byte()?);
        let name = Name::from_wire(self.take(len)?)?;
        Ok(name.to_lowercase())
    }
}
