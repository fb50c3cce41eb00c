//! The drill report, computed from [`Observations`] alone: per region the
//! availability, the worst staleness, the time to converge after each
//! change and each heal, where copies came from; checked against the
//! scenario's [`Expectations`]. Rendered as text, JSON and an SVG timeline.

mod compute;
mod svg;
#[cfg(test)]
mod tests;
mod text;

use serde::Serialize;

pub use compute::{build, node_up_at_end};
pub use svg::render as svg;
pub use text::render as text;

/// What a drill must show to pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectations {
    /// Every node up at the time converges to the primary's serial within
    /// this long after each change and each heal.
    pub converge_within_ms: Option<u64>,
    /// Regions whose availability (some node answering correctly) must be
    /// at least this percentage.
    pub region_availability: Vec<(String, f64)>,
    /// Most transfers the primary may serve per change.
    pub max_primary_transfers_per_change: Option<usize>,
    /// At the end, every node that is up serves the primary's serial.
    pub final_serial_everywhere: bool,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// Seconds the drill ran.
    pub duration_s: f64,
    /// The primary's serials, oldest first.
    pub primary_serials: Vec<u32>,
    /// Probes sent in all.
    pub probes: usize,
    /// NOERROR answers carrying data the primary never published (an
    /// unknown serial, a TXT of another version), once steady.
    pub wrong_answers: usize,
    /// Answers with an error RCODE (SERVFAIL, REFUSED…), once steady.
    pub error_answers: usize,
    /// One entry per region.
    pub regions: Vec<RegionReport>,
    /// One entry per change and per heal.
    pub convergence: Vec<Convergence>,
    /// The expectations checked.
    pub checks: Vec<Check>,
    /// Whether every check passed.
    pub passed: bool,
}

/// One region's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionReport {
    /// Its name.
    pub region: String,
    /// Its nodes.
    pub nodes: Vec<String>,
    /// % of steady-state probes of its nodes answered correctly.
    pub node_availability_pct: f64,
    /// % of steady-state probe rounds in which some node of the region
    /// answered correctly (what an anycast client of the region sees).
    pub region_availability_pct: f64,
    /// Most serials a node of the region served behind the primary.
    pub worst_serials_behind: u32,
    /// Longest a node of the region served an older serial, in seconds.
    pub longest_stale_s: f64,
    /// Transfers the primary served to nodes of the region.
    pub transfers_from_primary: usize,
    /// Copies nodes reported fetching from a peer.
    pub copies_from_peers: usize,
    /// Times a node reported serving a copy loaded from its own disk.
    pub copies_from_disk: usize,
}

/// How long the fleet took to serve `serial` after one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Convergence {
    /// Seconds from the start to the event.
    pub at_s: f64,
    /// The event, e.g. `change to serial 3` or `primary back`.
    pub event: String,
    /// The primary's serial then.
    pub serial: u32,
    /// Per region, seconds until each of its live nodes served `serial`
    /// (none: never within the drill).
    pub regions: Vec<(String, Option<f64>)>,
    /// Transfers the primary served between this event and the next.
    pub primary_transfers: usize,
    /// The primary was away or links were cut at the time: convergence is
    /// then checked from the heal, not from this event.
    pub during_faults: bool,
}

/// One expectation and whether it held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was expected.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was observed.
    pub observed: String,
}

/// The process exit status of a drill with this report: 0 when every
/// expectation held, 1 otherwise.
pub fn exit_status(report: &Report) -> u8 {
    u8::from(!report.passed)
}

impl Report {
    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }
}
