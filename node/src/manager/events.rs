//! One log line per event of a zone, with fixed field names, and the
//! counters events feed.

use understudy_proto::Name;
use understudy_proto::refresh::{Event, EventKind, Op, XfrKind};

use crate::config::NodeSettings;
use crate::metrics::{self, Metrics};

use super::zone::ManagedZone;

/// Logs `event` of `zone`: fields `zone`, `serial`, `remote`, `op`,
/// `elapsed_ms`, `node`, `region`.
pub fn log(zone: &Name, event: &Event, managed: Option<&ManagedZone>, node: &NodeSettings) {
    let serial = event.serving.map(|version| version.serial.0);
    let remote = primary_index(&event.kind)
        .and_then(|index| managed?.config.primaries.get(index))
        .map(|addr| addr.to_string());
    let elapsed_ms = elapsed(&event.kind).map(|elapsed| elapsed.as_millis() as u64);
    let op = event.op().as_str();
    let (node, region) = (node.id.as_str(), node.region.as_str());
    match &event.kind {
        EventKind::Failed { .. }
        | EventKind::FallbackToAxfr { .. }
        | EventKind::SerialRegressed { .. } => {
            tracing::warn!(zone = %zone, serial, remote, op, elapsed_ms, node, region, "{}", event.kind)
        }
        _ => {
            tracing::info!(zone = %zone, serial, remote, op, elapsed_ms, node, region, "{}", event.kind)
        }
    }
}

/// Counts `event` in the metrics it feeds.
pub fn count(metrics: &Metrics, event: &Event) {
    let kind = |kind: &XfrKind| match kind {
        XfrKind::Ixfr => metrics::TransferKind::Ixfr,
        XfrKind::Axfr => metrics::TransferKind::Axfr,
    };
    match &event.kind {
        EventKind::Transferred { kind: xfr, .. } => {
            metrics.transfer(kind(xfr), metrics::TransferResult::Ok)
        }
        EventKind::FallbackToAxfr { .. } => metrics.transfer(
            metrics::TransferKind::Ixfr,
            metrics::TransferResult::Fallback,
        ),
        EventKind::Verified { .. } => metrics.refresh_check(metrics::RefreshResult::UpToDate),
        EventKind::NewerSerial { .. } => metrics.refresh_check(metrics::RefreshResult::Newer),
        EventKind::SerialRegressed { .. } => {
            metrics.refresh_check(metrics::RefreshResult::SerialRegressed)
        }
        EventKind::Failed { op: Op::Ixfr, .. } => {
            metrics.transfer(metrics::TransferKind::Ixfr, metrics::TransferResult::Error)
        }
        EventKind::Failed { op: Op::Axfr, .. } => {
            metrics.transfer(metrics::TransferKind::Axfr, metrics::TransferResult::Error)
        }
        EventKind::Failed { .. } => metrics.refresh_check(metrics::RefreshResult::Error),
        _ => {}
    }
}

fn primary_index(kind: &EventKind) -> Option<usize> {
    match kind {
        EventKind::Verified { primary, .. }
        | EventKind::NewerSerial { primary, .. }
        | EventKind::SerialRegressed { primary, .. }
        | EventKind::Transferred { primary, .. }
        | EventKind::FallbackToAxfr { primary, .. }
        | EventKind::Failed { primary, .. } => Some(*primary),
        _ => None,
    }
}

fn elapsed(kind: &EventKind) -> Option<std::time::Duration> {
    match kind {
        EventKind::Verified { elapsed, .. }
        | EventKind::NewerSerial { elapsed, .. }
        | EventKind::SerialRegressed { elapsed, .. }
        | EventKind::Transferred { elapsed, .. }
        | EventKind::FallbackToAxfr { elapsed, .. }
        | EventKind::Failed { elapsed, .. } => Some(*elapsed),
        _ => None,
    }
}
