//! The report as text for a terminal.

use std::fmt::Write as _;

use super::Report;

/// The report, readable.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Report of {} ({:.1}s, {} probes, primary serials {:?}; once steady: {} wrong answers, \
         {} error answers)",
        report.name,
        report.duration_s,
        report.probes,
        report.primary_serials,
        report.wrong_answers,
        report.error_answers
    );
    let _ = writeln!(
        out,
        "\n{:<8} {:>9} {:>9} {:>14} {:>8} {:>6} {:>5}",
        "region", "region-up", "nodes-up", "worst-stale", "primary", "peers", "disk"
    );
    for region in &report.regions {
        let stale = if region.worst_serials_behind == 0 {
            "never".to_string()
        } else {
            format!(
                "{} for {:.1}s",
                region.worst_serials_behind, region.longest_stale_s
            )
        };
        let _ = writeln!(
            out,
            "{:<8} {:>8.2}% {:>8.2}% {:>14} {:>8} {:>6} {:>5}",
            region.region,
            region.region_availability_pct,
            region.node_availability_pct,
            stale,
            region.transfers_from_primary,
            region.copies_from_peers,
            region.copies_from_disk
        );
    }
    let _ = writeln!(
        out,
        "  (region-up: probe windows in which some node of the region answered correctly; \
         nodes-up: probes answered correctly; worst-stale: serials behind the primary and \
         for how long; primary: transfers the primary served; peers / disk: copies nodes \
         reported taking from a peer / loading from disk)"
    );
    let _ = writeln!(
        out,
        "\nConvergence (seconds until every running node of a region served the serial):"
    );
    for event in &report.convergence {
        let regions: Vec<String> = event
            .regions
            .iter()
            .map(|(region, time)| match time {
                Some(t) => format!("{region} {t:.2}s"),
                None => format!("{region} never"),
            })
            .collect();
        let during = if event.during_faults {
            "; faults active, checked from the heal"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:>6.1}s {:<40} serial {:<3} {}  ({} transfers from the primary{during})",
            event.at_s,
            event.event,
            event.serial,
            regions.join(", "),
            event.primary_transfers
        );
    }
    let _ = writeln!(out, "\nExpectations:");
    for check in &report.checks {
        let verdict = if check.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "  {verdict} {} — {}",
            check.expectation, check.observed
        );
    }
    let _ = writeln!(out, "\n{}", if report.passed { "PASSED" } else { "FAILED" });
    out
}
