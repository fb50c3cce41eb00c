//! IXFR diffs and applying them to a zone's records.

use std::collections::HashMap;

use crate::record::{Record, Rtype, soa_serial};

/// The changes from one serial to the next (RFC 1995 §4).
///
/// `removed` holds the zone's SOA at `from` and `added` its SOA at `to`,
/// each exactly once, next to the other records removed and added; the
/// journal can thus serve the diff as IXFR without looking elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The serial the diff applies to.
    pub from: u32,
    /// The serial it produces.
    pub to: u32,
    /// Records removed, the old SOA among them.
    pub removed: Vec<Record>,
    /// Records added, the new SOA among them.
    pub added: Vec<Record>,
}

/// Why diffs could not be applied. Every variant calls for an AXFR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The records hold no SOA, or more than one.
    #[error("the zone has no single SOA")]
    NoSoa,
    /// A diff does not start where the zone or the previous diff ended.
    #[error("diff starts at serial {found}, expected {expected}")]
    SerialGap {
        /// Serial the diff should start at.
        expected: u32,
        /// Serial it starts at.
        found: u32,
    },
    /// A diff without exactly one SOA in each list matching its serials.
    #[error("diff {from} to {to} does not carry its two SOAs")]
    BadDiff {
        /// The diff's `from`.
        from: u32,
        /// The diff's `to`.
        to: u32,
    },
    /// A removed record is not in the zone.
    #[error("removing absent record {0:?}")]
    RemoveAbsent(Box<Record>),
    /// An added record is already in the zone.
    #[error("adding present record {0:?}")]
    AddPresent(Box<Record>),
}

impl Diff {
    /// A diff starting at `old_soa`, whose serial becomes `from`.
    pub(crate) fn starting_at(old_soa: Record) -> Diff {
        let from = soa_serial(&old_soa.rdata).unwrap_or_default();
        Diff {
            from,
            to: from,
            removed: vec![old_soa],
            added: Vec::new(),
        }
    }

    /// The SOA before the diff.
    pub fn old_soa(&self) -> Option<&Record> {
        self.removed.iter().find(|r| r.rtype == Rtype::SOA)
    }

    /// The SOA after the diff.
    pub fn new_soa(&self) -> Option<&Record> {
        self.added.iter().find(|r| r.rtype == Rtype::SOA)
    }

    /// Checks that each list holds exactly one SOA, at `from` and `to`.
    pub fn check(&self) -> Result<(), ApplyError> {
        let single_soa = |records: &[Record], serial: u32| {
            let mut soas = records.iter().filter(|r| r.rtype == Rtype::SOA);
            let first = soas.next().and_then(|soa| soa_serial(&soa.rdata));
            first == Some(serial) && soas.next().is_none()
        };
        if single_soa(&self.removed, self.from) && single_soa(&self.added, self.to) {
            Ok(())
        } else {
            Err(ApplyError::BadDiff {
                from: self.from,
                to: self.to,
            })
        }
    }

    /// The diff from zone `old` to zone `new` (each with one SOA), as a
    /// primary with `ixfr-from-differences` computes it. A TTL change shows
    /// as the old record removed and the new one added. Linear in both.
    pub fn between(old: &[Record], new: &[Record]) -> Result<Diff, ApplyError> {
        let (old_soa, new_soa) = (single_soa(old)?, single_soa(new)?);
        let mut key = Vec::with_capacity(512);
        let mut before: HashMap<Vec<u8>, (&Record, bool)> = HashMap::with_capacity(old.len());
        for record in old.iter().filter(|r| r.rtype != Rtype::SOA) {
            identity(record, &mut key);
            before.insert(key.clone(), (record, false));
        }
        let mut removed = vec![old_soa.clone()];
        let mut added = vec![new_soa.clone()];
        for record in new.iter().filter(|r| r.rtype != Rtype::SOA) {
            identity(record, &mut key);
            match before.get_mut(key.as_slice()) {
                Some((previous, seen)) => {
                    *seen = true;
                    if previous.ttl != record.ttl {
                        removed.push((*previous).clone());
                        added.push(record.clone());
                    }
                }
                None => added.push(record.clone()),
            }
        }
        let gone = old
            .iter()
            .filter(|r| r.rtype != Rtype::SOA)
            .filter(|record| {
                identity(record, &mut key);
                before.get(key.as_slice()).is_some_and(|(_, seen)| !seen)
            });
        removed.extend(gone.cloned());
        Ok(Diff {
            from: soa_serial(&old_soa.rdata).ok_or(ApplyError::NoSoa)?,
            to: soa_serial(&new_soa.rdata).ok_or(ApplyError::NoSoa)?,
            removed,
            added,
        })
    }

    /// Approximate wire size of the diff's records, for journal bounds.
    pub fn byte_size(&self) -> usize {
        self.removed
            .iter()
            .chain(&self.added)
            .map(record_size)
            .sum()
    }
}

/// Wire size of a record without compression.
pub(crate) fn record_size(record: &Record) -> usize {
    record.owner.wire_len() + 10 + record.rdata.len()
}

/// A record's identity in a zone: owner (without case), type, class and
/// RDATA. The TTL is not part of it: IXFR changes a TTL by removing the old
/// record and adding the new one.
fn identity(record: &Record, out: &mut Vec<u8>) {
    out.clear();
    out.extend(record.owner.as_wire().iter().map(u8::to_ascii_lowercase));
    out.extend_from_slice(&record.rtype.0.to_be_bytes());
    out.extend_from_slice(&record.class.0.to_be_bytes());
    out.extend_from_slice(&record.rdata);
}

/// The net effect of a diff sequence on one record identity.
struct Change<'a> {
    /// Whether the zone must hold the record before the diffs.
    present_before: bool,
    /// The record after the diffs, if present.
    after: Option<&'a Record>,
    /// Whether the zone was seen to hold it.
    seen: bool,
    /// The first record of the diffs with this identity, for errors.
    first: &'a Record,
}

/// Applies consecutive `diffs` to a zone's `records`, returning the new
/// record list (the SOA replaced, removals dropped, additions appended).
///
/// Strict, like BIND's and Knot's IXFR: removing a record the zone lacks,
/// adding one it has, or a serial gap fails, and the caller falls back to
/// AXFR. Linear in the zone plus the diffs: the diffs are condensed into
/// one map, and the zone is streamed past it once.
pub fn apply_diffs(records: Vec<Record>, diffs: &[Diff]) -> Result<Vec<Record>, ApplyError> {
    let Some(last) = diffs.last() else {
        return Ok(records);
    };
    check_chain(&records, diffs)?;
    let mut changes = condense(diffs)?;
    let mut key = Vec::with_capacity(512);
    let mut out = Vec::with_capacity(records.len() + last.added.len());
    for record in records {
        if record.rtype == Rtype::SOA {
            out.push(last.new_soa().cloned().ok_or(ApplyError::NoSoa)?);
            continue;
        }
        identity(&record, &mut key);
        match changes.get_mut(key.as_slice()) {
            None => out.push(record),
            Some(change) if !change.present_before => {
                return Err(ApplyError::AddPresent(Box::new(record)));
            }
            Some(change) => {
                change.seen = true;
                out.extend(change.after.cloned());
            }
        }
    }
    for change in changes.into_values() {
        match (change.present_before, change.seen, change.after) {
            (true, false, _) => {
                return Err(ApplyError::RemoveAbsent(Box::new(change.first.clone())));
            }
            (false, _, Some(record)) => out.push(record.clone()),
            _ => {}
        }
    }
    Ok(out)
}

/// The one SOA of a zone's records.
fn single_soa(records: &[Record]) -> Result<&Record, ApplyError> {
    let mut soas = records.iter().filter(|r| r.rtype == Rtype::SOA);
    match (soas.next(), soas.next()) {
        (Some(soa), None) if soa_serial(&soa.rdata).is_some() => Ok(soa),
        _ => Err(ApplyError::NoSoa),
    }
}

fn check_chain(records: &[Record], diffs: &[Diff]) -> Result<(), ApplyError> {
    let soa = single_soa(records)?;
    let mut expected = soa_serial(&soa.rdata).ok_or(ApplyError::NoSoa)?;
    for diff in diffs {
        diff.check()?;
        if diff.from != expected {
            return Err(ApplyError::SerialGap {
                expected,
                found: diff.from,
            });
        }
        expected = diff.to;
    }
    Ok(())
}

/// Folds the non-SOA changes of all diffs into one entry per identity.
fn condense(diffs: &[Diff]) -> Result<HashMap<Vec<u8>, Change<'_>>, ApplyError> {
    let mut changes: HashMap<Vec<u8>, Change<'_>> = HashMap::new();
    let mut key = Vec::new();
    for diff in diffs {
        for record in diff.removed.iter().filter(|r| r.rtype != Rtype::SOA) {
            identity(record, &mut key);
            fold(&mut changes, &key, record, false)?;
        }
        for record in diff.added.iter().filter(|r| r.rtype != Rtype::SOA) {
            identity(record, &mut key);
            fold(&mut changes, &key, record, true)?;
        }
    }
    Ok(changes)
}

/// Records one removal or addition of `record` in `changes`.
fn fold<'a>(
    changes: &mut HashMap<Vec<u8>, Change<'a>>,
    key: &[u8],
    record: &'a Record,
    add: bool,
) -> Result<(), ApplyError> {
    let Some(change) = changes.get_mut(key) else {
        let change = Change {
            present_before: !add,
            after: add.then_some(record),
            seen: false,
            first: record,
        };
        changes.insert(key.to_vec(), change);
        return Ok(());
    };
    match (add, change.after.is_some()) {
        (false, false) => Err(ApplyError::RemoveAbsent(Box::new(record.clone()))),
        (true, true) => Err(ApplyError::AddPresent(Box::new(record.clone()))),
        _ => {
            change.after = add.then_some(record);
            Ok(())
        }
    }
}
