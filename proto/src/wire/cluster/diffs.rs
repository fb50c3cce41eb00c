//! The payload of a `Diffs` answer: consecutive IXFR diffs out of the
//! peer's journal, in the journal's own record layout.

use std::borrow::Borrow;

use crate::record::Record;
use crate::xfr::Diff;

use super::cursor::{MIN_RECORD_LEN, Reader, put_record, record_len};
use super::error::CodecError;

/// Smallest encoded diff: serials and two empty record lists.
const MIN_DIFF_LEN: usize = 4 + 4 + 4 + 4;

/// The payload for `diffs`, oldest first.
pub fn encode_diffs<D: Borrow<Diff>>(diffs: &[D]) -> Vec<u8> {
    let size: usize = diffs
        .iter()
        .map(|diff| {
            let diff = diff.borrow();
            MIN_DIFF_LEN
                + diff
                    .removed
                    .iter()
                    .chain(&diff.added)
                    .map(record_len)
                    .sum::<usize>()
        })
        .sum();
    let mut out = Vec::with_capacity(4 + size);
    put_count(&mut out, diffs.len());
    for diff in diffs {
        let diff = diff.borrow();
        out.extend_from_slice(&diff.from.to_be_bytes());
        out.extend_from_slice(&diff.to.to_be_bytes());
        put_records(&mut out, &diff.removed);
        put_records(&mut out, &diff.added);
    }
    out
}

/// Reads a payload written by [`encode_diffs`] holding at most `max_diffs`
/// diffs. Only the layout is checked here; whether the diffs apply is the
/// caller's question.
pub fn decode_diffs(bytes: &[u8], max_diffs: u32) -> Result<Vec<Diff>, CodecError> {
    let mut reader = Reader(bytes);
    let count = reader.u32()?;
    if count > max_diffs {
        return Err(CodecError::TooLarge {
            what: "diff count",
            length: u64::from(count),
            limit: u64::from(max_diffs),
        });
    }
    let fits = reader.0.len() / MIN_DIFF_LEN;
    let mut diffs = Vec::with_capacity((count as usize).min(fits));
    for _ in 0..count {
        let from = reader.u32()?;
        let to = reader.u32()?;
        let removed = records(&mut reader)?;
        let added = records(&mut reader)?;
        diffs.push(Diff {
            from,
            to,
            removed,
            added,
        });
    }
    reader.finish()?;
    Ok(diffs)
}

fn put_count(out: &mut Vec<u8>, count: usize) {
    out.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_records(out: &mut Vec<u8>, records: &[Record]) {
    put_count(out, records.len());
    for record in records {
        put_record(out, record);
    }
}

fn records(reader: &mut Reader<'_>) -> Result<Vec<Record>, CodecError> {
    let count = reader.u32()? as usize;
    // The count is the peer's word; the bytes left bound the allocation.
    let mut records = Vec::with_capacity(count.min(reader.0.len() / MIN_RECORD_LEN));
    for _ in 0..count {
        records.push(reader.record()?);
    }
    Ok(records)
}
