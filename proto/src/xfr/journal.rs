//! A bounded journal of consecutive diffs, from which IXFR is served.
//!
//! The journal remembers the serial the zone is at even when every diff has
//! been dropped for space, so that the next diff is still checked to follow
//! on. Its byte form is versioned and carries a SHA-256 of its body: a
//! truncated or corrupt file is an error, never a panic or a wrong answer.

use std::collections::VecDeque;

use ring::digest;

use crate::name::{self, Name};
use crate::record::{Class, Record, Rtype};

use super::diff::{ApplyError, Diff};

const MAGIC: &[u8; 8] = b"USJRNL\r\n";
const VERSION: u16 = 1;
/// Magic, version, reserved, body length, SHA-256.
const HEADER_LEN: usize = 8 + 2 + 2 + 8 + 32;
/// Smallest encoded record: root owner, type, class, TTL, RDATA length.
const MIN_RECORD_LEN: usize = 2 + 2 + 2 + 4 + 4;

/// How much history to keep; the oldest diffs are dropped first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalLimits {
    /// Most diffs kept.
    pub max_diffs: usize,
    /// Most record octets kept, summed over the diffs.
    pub max_bytes: usize,
}

impl Default for JournalLimits {
    /// The config defaults: 100 diffs, 64 MiB.
    fn default() -> JournalLimits {
        JournalLimits {
            max_diffs: 100,
            max_bytes: 64 << 20,
        }
    }
}

/// Why a diff cannot be journaled or a journal cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The diff does not start at the journal's serial.
    #[error("diff starts at serial {found}, journal is at {expected}")]
    NotConsecutive {
        /// The journal's serial.
        expected: u32,
        /// The diff's `from`.
        found: u32,
    },
    /// The diff is not well formed.
    #[error("{0}")]
    BadDiff(#[from] ApplyError),
    /// The bytes are not a journal (wrong magic).
    #[error("not a journal")]
    NotAJournal,
    /// A journal format this version does not read.
    #[error("unsupported journal version {0}")]
    UnsupportedVersion(u16),
    /// Fewer or more bytes than the header announces.
    #[error("journal truncated or padded")]
    Truncated,
    /// The body does not match its checksum.
    #[error("journal checksum mismatch")]
    Corrupt,
    /// The body passed its checksum but does not decode.
    #[error("journal body malformed")]
    Malformed,
    /// The journal belongs to another zone.
    #[error("journal is for zone {0}")]
    WrongZone(Name),
}

/// Consecutive diffs for one zone, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    zone: Name,
    limits: JournalLimits,
    diffs: VecDeque<Diff>,
    serial: Option<u32>,
    bytes: usize,
}

impl Journal {
    /// An empty journal for `zone`.
    pub fn new(zone: Name, limits: JournalLimits) -> Journal {
        Journal {
            zone,
            limits,
            diffs: VecDeque::new(),
            serial: None,
            bytes: 0,
        }
    }

    /// Appends `diff`, which must start at the journal's serial (any serial
    /// when the journal has none yet), then drops the oldest diffs beyond
    /// the limits.
    pub fn push(&mut self, diff: Diff) -> Result<(), JournalError> {
        diff.check()?;
        if let Some(expected) = self.serial
            && diff.from != expected
        {
            return Err(JournalError::NotConsecutive {
                expected,
                found: diff.from,
            });
        }
        self.serial = Some(diff.to);
        self.bytes += diff.byte_size();
        self.diffs.push_back(diff);
        self.trim();
        Ok(())
    }

    /// Forgets every diff: the zone is now at `serial` by other means (an
    /// AXFR), and history starts again from there.
    pub fn reset(&mut self, serial: u32) {
        self.diffs.clear();
        self.bytes = 0;
        self.serial = Some(serial);
    }

    /// Changes the limits, dropping diffs beyond the new ones.
    pub fn set_limits(&mut self, limits: JournalLimits) {
        self.limits = limits;
        self.trim();
    }

    fn trim(&mut self) {
        while self.diffs.len() > self.limits.max_diffs || self.bytes > self.limits.max_bytes {
            match self.diffs.pop_front() {
                Some(dropped) => self.bytes -= dropped.byte_size(),
                None => break,
            }
        }
    }

    /// The zone.
    pub fn zone(&self) -> &Name {
        &self.zone
    }

    /// The serial the last diff leads to (or the last reset).
    pub fn serial(&self) -> Option<u32> {
        self.serial
    }

    /// The oldest serial a client may ask diffs from.
    pub fn first_serial(&self) -> Option<u32> {
        self.diffs.front().map(|diff| diff.from).or(self.serial)
    }

    /// Number of diffs held.
    pub fn len(&self) -> usize {
        self.diffs.len()
    }

    /// Whether no diffs are held.
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }

    /// Record octets held.
    pub fn byte_size(&self) -> usize {
        self.bytes
    }

    /// The diffs leading from `serial` to the journal's serial: empty when
    /// `serial` is current, `None` when the journal does not reach back to it.
    pub fn diffs_since(&self, serial: u32) -> Option<Vec<&Diff>> {
        if self.serial == Some(serial) {
            return Some(Vec::new());
        }
        let start = self.diffs.iter().position(|diff| diff.from == serial)?;
        Some(self.diffs.iter().skip(start).collect())
    }

    /// The journal as bytes for disk: header, then the body and its SHA-256.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.bytes + 64);
        push_name(&mut body, &self.zone);
        body.push(u8::from(self.serial.is_some()));
        body.extend_from_slice(&self.serial.unwrap_or_default().to_be_bytes());
        push_u32(&mut body, self.diffs.len());
        for diff in &self.diffs {
            body.extend_from_slice(&diff.from.to_be_bytes());
            body.extend_from_slice(&diff.to.to_be_bytes());
            push_records(&mut body, &diff.removed);
            push_records(&mut body, &diff.added);
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        out.extend_from_slice(digest::digest(&digest::SHA256, &body).as_ref());
        out.extend_from_slice(&body);
        out
    }

    /// Reads a journal written by [`Journal::to_bytes`] for `zone`, then
    /// applies `limits`.
    pub fn from_bytes(
        bytes: &[u8],
        zone: &Name,
        limits: JournalLimits,
    ) -> Result<Journal, JournalError> {
        let body = checked_body(bytes)?;
        let mut reader = Reader(body);
        let stored = reader.name().ok_or(JournalError::Malformed)?;
        if stored != *zone {
            return Err(JournalError::WrongZone(stored));
        }
        let has_serial = reader.u8().ok_or(JournalError::Malformed)?;
        let serial = reader.u32().ok_or(JournalError::Malformed)?;
        let count = reader.u32().ok_or(JournalError::Malformed)? as usize;
        let mut journal = Journal::new(
            stored,
            JournalLimits {
                max_diffs: usize::MAX,
                max_bytes: usize::MAX,
            },
        );
        for _ in 0..count {
            let diff = reader.diff().ok_or(JournalError::Malformed)?;
            journal.push(diff).map_err(|_| JournalError::Malformed)?;
        }
        if !reader.0.is_empty() || has_serial > 1 {
            return Err(JournalError::Malformed);
        }
        let stored_serial = (has_serial == 1).then_some(serial);
        if journal.serial.is_some() && journal.serial != stored_serial {
            return Err(JournalError::Malformed);
        }
        journal.serial = stored_serial;
        journal.set_limits(limits);
        Ok(journal)
    }
}

/// Checks magic, version, length and checksum; returns the body.
fn checked_body(bytes: &[u8]) -> Result<&[u8], JournalError> {
    let (header, body) = bytes
        .split_at_checked(HEADER_LEN)
        .ok_or(JournalError::Truncated)?;
    let mut reader = Reader(header);
    if reader.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(JournalError::NotAJournal);
    }
    let version = reader.u16().ok_or(JournalError::Truncated)?;
    if version != VERSION {
        return Err(JournalError::UnsupportedVersion(version));
    }
    reader.u16().ok_or(JournalError::Truncated)?;
    let length = reader.u64().ok_or(JournalError::Truncated)?;
    if u64::try_from(body.len()).ok() != Some(length) {
        return Err(JournalError::Truncated);
    }
    let expected = reader.take(32).ok_or(JournalError::Truncated)?;
    if digest::digest(&digest::SHA256, body).as_ref() != expected {
        return Err(JournalError::Corrupt);
    }
    Ok(body)
}

fn push_u32(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&u32::try_from(value).unwrap_or(u32::MAX).to_be_bytes());
}

fn push_name(out: &mut Vec<u8>, name: &Name) {
    out.push(name.wire_len() as u8);
    out.extend_from_slice(name.as_wire());
}

fn push_records(out: &mut Vec<u8>, records: &[Record]) {
    push_u32(out, records.len());
    for record in records {
        push_name(out, &record.owner);
        out.extend_from_slice(&record.rtype.0.to_be_bytes());
        out.extend_from_slice(&record.class.0.to_be_bytes());
        out.extend_from_slice(&record.ttl.to_be_bytes());
        push_u32(out, record.rdata.len());
        out.extend_from_slice(&record.rdata);
    }
}

/// A cursor over the body; every read checks bounds.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(len)?;
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn name(&mut self) -> Option<Name> {
        let len = usize::from(self.u8()?);
        let wire = self.take(len)?;
        (name::wire_len(wire).ok()? == len).then(|| Name::from_wire(wire).ok())?
    }

    fn record(&mut self) -> Option<Record> {
        let owner = self.name()?;
        let rtype = Rtype(self.u16()?);
        let class = Class(self.u16()?);
        let ttl = self.u32()?;
        let len = self.u32()? as usize;
        let rdata = self.take(len)?.into();
        Some(Record {
            owner,
            rtype,
            class,
            ttl,
            rdata,
        })
    }

    fn records(&mut self) -> Option<Vec<Record>> {
        let count = self.u32()? as usize;
        let mut records = Vec::with_capacity(count.min(self.0.len() / MIN_RECORD_LEN));
        for _ in 0..count {
            records.push(self.record()?);
        }
        Some(records)
    }

    fn diff(&mut self) -> Option<Diff> {
        let from = self.u32()?;
        let to = self.u32()?;
        let removed = self.records()?;
        let added = self.records()?;
        Some(Diff {
            from,
            to,
            removed,
            added,
        })
    }
}
