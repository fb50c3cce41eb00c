//! Carrying out the refresh machine's actions: SOA checks and transfers,
//! up to a new snapshot ready to be installed.
//!
//! Everything here runs off the manager's loop. Building a snapshot is CPU
//! work and goes to the blocking pool; the manager decides what to install.

use std::sync::Arc;

use understudy_proto::Name;
use understudy_proto::record::Record;
use understudy_proto::refresh::{Failure, SoaTimers, TransferKind, XfrKind};
use understudy_proto::xfr::{Diff, Transfer, apply_diffs};
use understudy_proto::zone::Snapshot;

use crate::primary::xfr::{TransferError, TransferLimits};
use crate::primary::{self, Primary};

/// A new version received and built, not yet installed.
pub struct Fetched {
    /// The new snapshot.
    pub snapshot: Arc<Snapshot>,
    /// Diffs from the served version to it (empty when there was none).
    pub diffs: Vec<Diff>,
    /// What the primary sent.
    pub kind: XfrKind,
    /// The new SOA's timers.
    pub soa: SoaTimers,
}

/// How a transfer action ended.
pub enum TransferResult {
    /// A new version to install.
    New(Box<Fetched>),
    /// The primary has nothing newer (single-SOA IXFR answer).
    UpToDate(SoaTimers),
    /// Ask the same primary for AXFR.
    Fallback(String),
    /// Failed.
    Failed(Failure),
}

/// What the zone's limits allow a transfer to bring.
#[derive(Debug, Clone, Copy)]
pub struct ZoneLimits {
    /// Most records in the zone.
    pub max_records: usize,
    /// Most bytes of its snapshot.
    pub max_bytes: usize,
}

/// Transfers `zone` from `primary` and builds the new snapshot.
pub async fn transfer(
    primary: Primary,
    zone: Name,
    current: Option<Arc<Snapshot>>,
    kind: TransferKind,
    limits: TransferLimits,
    zone_limits: ZoneLimits,
) -> TransferResult {
    let base = match kind {
        TransferKind::Ixfr { .. } => current.clone(),
        TransferKind::Axfr => None,
    };
    let soa = base.as_ref().map(|snapshot| snapshot.soa());
    let received = match primary::xfr::transfer(&primary, &zone, soa.as_ref(), limits).await {
        Ok(transfer) => transfer,
        Err(TransferError::Fallback(reason)) => return TransferResult::Fallback(reason),
        Err(TransferError::Failed(failure)) => return TransferResult::Failed(failure),
    };
    let built =
        tokio::task::spawn_blocking(move || build(zone, current, received, zone_limits)).await;
    built.unwrap_or_else(|error| {
        TransferResult::Failed(Failure::Store(format!(
            "snapshot build task failed: {error}"
        )))
    })
}

/// Turns what the primary sent into a snapshot, off the async runtime.
fn build(
    zone: Name,
    current: Option<Arc<Snapshot>>,
    received: Transfer,
    limits: ZoneLimits,
) -> TransferResult {
    let started = std::time::Instant::now();
    let (records, kind, diffs) = match received {
        Transfer::UpToDate { soa } | Transfer::Soa { soa } => return up_to_date(&soa),
        Transfer::Full { records, .. } => (records, XfrKind::Axfr, Vec::new()),
        Transfer::Incremental { diffs, .. } => {
            let Some(base) = &current else {
                return TransferResult::Fallback(
                    "IXFR answer without a version to apply it to".into(),
                );
            };
            match apply_diffs(base.records().collect(), &diffs) {
                Ok(records) => (records, XfrKind::Ixfr, diffs),
                Err(error) => {
                    return TransferResult::Fallback(format!("IXFR does not apply: {error}"));
                }
            }
        }
    };
    if records.len() > limits.max_records {
        return TransferResult::Failed(Failure::Limit(format!(
            "zone exceeds {} records",
            limits.max_records
        )));
    }
    let applied = started.elapsed();
    let snapshot = match Snapshot::build(&zone, records) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            return TransferResult::Failed(Failure::Malformed(format!("zone rejected: {error}")));
        }
    };
    if snapshot.as_bytes().len() > limits.max_bytes {
        return TransferResult::Failed(Failure::Limit(format!(
            "zone exceeds {} bytes",
            limits.max_bytes
        )));
    }
    let built = started.elapsed();
    let diffs = match (kind, &current) {
        (XfrKind::Axfr, Some(old)) => journal_diff(old, &snapshot).into_iter().collect(),
        _ => diffs,
    };
    tracing::debug!(
        zone = %zone,
        serial = snapshot.serial(),
        apply_ms = applied.as_millis() as u64,
        build_ms = (built - applied).as_millis() as u64,
        diff_ms = (started.elapsed() - built).as_millis() as u64,
        "new version built"
    );
    let soa = snapshot.soa().soa().map(|soa| SoaTimers::from(&soa));
    match soa {
        Some(soa) => TransferResult::New(Box::new(Fetched {
            snapshot: Arc::new(snapshot),
            diffs,
            kind,
            soa,
        })),
        None => {
            TransferResult::Failed(Failure::Malformed("snapshot without a readable SOA".into()))
        }
    }
}

/// What changed from `old` to `new`, so the journal can serve IXFR even
/// when the primary sent the whole zone; none for the same serial.
fn journal_diff(old: &Snapshot, new: &Snapshot) -> Option<Diff> {
    if old.serial() == new.serial() {
        return None;
    }
    let old: Vec<Record> = old.records().collect();
    let new: Vec<Record> = new.records().collect();
    Diff::between(&old, &new).ok()
}

fn up_to_date(soa: &Record) -> TransferResult {
    match soa.soa() {
        Some(soa) => TransferResult::UpToDate(SoaTimers::from(&soa)),
        None => TransferResult::Failed(Failure::Malformed("unreadable SOA in the answer".into())),
    }
}
