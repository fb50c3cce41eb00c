//! Human output of `understudy ctl cluster members` and `ctl health`:
//! aligned tables in the manner of `zone status`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::cluster_view::{ClusterView, HealthView, MemberView, MemberZoneView};
use super::render::{relative, span};

const MEMBER_COLUMNS: [&str; 7] = ["NODE", "REGION", "STATE", "GEN", "QUIC", "DNS", "RTT"];

/// The members table, then a zone table: one row per zone, one column per
/// member, each cell the member's serial and its distance from ours.
pub fn members(view: &ClusterView) -> String {
    let mut out = match &view.cluster {
        Some(name) => format!("cluster {name}, seen from {}\n\n", view.node),
        None => format!("{} runs alone (no [cluster])\n\n", view.node),
    };
    let mut rows = vec![MEMBER_COLUMNS.map(str::to_owned).to_vec()];
    rows.extend(view.members.iter().map(member_row));
    out.push_str(&columns(&rows));
    if view.zones.is_empty() {
        out.push_str("\nno zones\n");
        return out;
    }
    out.push('\n');
    out.push_str(&columns(&zone_rows(view)));
    out
}

fn member_row(member: &MemberView) -> Vec<String> {
    let id = match member.this_node {
        true => format!("{} (this node)", member.id),
        false => member.id.clone(),
    };
    let dash = || "-".to_owned();
    vec![
        id,
        member.region.clone(),
        member.state.name().to_owned(),
        member.generation.to_string(),
        member.quic.clone().unwrap_or_else(dash),
        member.dns.clone().unwrap_or_else(dash),
        member.rtt_ms.map_or_else(dash, |rtt| format!("{rtt}ms")),
    ]
}

/// `ZONE  LAG  <member>...`: the lag is this node's, against a verified
/// newer version.
fn zone_rows(view: &ClusterView) -> Vec<Vec<String>> {
    let mut header = vec!["ZONE".to_owned(), "LAG".to_owned()];
    header.extend(view.members.iter().map(|member| member.id.clone()));
    let served: Vec<BTreeMap<&str, &MemberZoneView>> = view
        .members
        .iter()
        .map(|member| member.zones.iter().map(|z| (z.zone.as_str(), z)).collect())
        .collect();
    let mut rows = vec![header];
    for zone in &view.zones {
        let lag = match zone.lag_seconds {
            0 => "-".to_owned(),
            seconds => span(seconds),
        };
        let mut row = vec![zone.zone.clone(), lag];
        row.extend(
            served
                .iter()
                .map(|zones| match zones.get(zone.zone.as_str()) {
                    Some(version) => cell(version),
                    None => "-".to_owned(),
                }),
        );
        rows.push(row);
    }
    rows
}

/// `2024010102 (+1)`, `3/17` (another epoch), `2024010101`.
fn cell(version: &MemberZoneView) -> String {
    let serial = match version.epoch {
        0 => version.serial.to_string(),
        epoch => format!("{epoch}/{}", version.serial),
    };
    match version.serial_delta {
        Some(0) | None => serial,
        Some(delta) => format!("{serial} ({delta:+})"),
    }
}

/// Cells padded to the widest in their column, two spaces apart.
fn columns(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(index) {
                Some(known) => *known = (*known).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The verdict on the first line, the details below.
pub fn health(view: &HealthView) -> String {
    let mut out = match view.healthy {
        true => "healthy\n".to_owned(),
        false => format!("unhealthy: {}\n", view.summary()),
    };
    let fields = [
        (
            "since",
            format!("{} ({})", view.since.utc, relative(&view.since)),
        ),
        (
            "drained",
            if view.drained { "yes" } else { "no" }.to_owned(),
        ),
        (
            "pending",
            match &view.pending {
                Some(pending) => format!("{pending} ({}/{})", view.streak, view.fall),
                None if !view.healthy && view.streak > 0 => {
                    format!("healthy ({}/{})", view.streak, view.rise)
                }
                None => "-".to_owned(),
            },
        ),
        ("problem zones", view.problem_zones.to_string()),
    ];
    for (name, value) in fields {
        let _ = writeln!(out, "{:<15} {value}", format!("{name}:"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::cluster_view::{FleetZoneView, MemberState};
    use crate::control::protocol::TimePoint;

    fn member(id: &str, this_node: bool, serial: u32, delta: Option<i64>) -> MemberView {
        MemberView {
            id: id.into(),
            this_node,
            region: "eu".into(),
            state: MemberState::Alive,
            generation: 7,
            quic: Some("127.0.0.1:7947".into()),
            dns: None,
            rtt_ms: (!this_node).then_some(12),
            zones: vec![MemberZoneView {
                zone: "example.com.".into(),
                epoch: 0,
                serial,
                serial_delta: delta,
                confirmed_age_seconds: Some(3),
            }],
        }
    }

    #[test]
    fn members_and_zone_serials_line_up() {
        let view = ClusterView {
            cluster: Some("prod".into()),
            node: "ams-1".into(),
            members: vec![
                member("ams-1", true, 5, Some(0)),
                member("fra-long-name-1", false, 7, Some(2)),
            ],
            zones: vec![FleetZoneView {
                zone: "example.com.".into(),
                serial: Some(5),
                fleet_serial: Some(7),
                lag_seconds: 75,
                fresh_peer: None,
            }],
        };
        let text = members(&view);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "cluster prod, seen from ams-1", "{text}");
        let header = lines[2];
        let region = header.find("REGION").unwrap();
        assert_eq!(lines[3].find("eu"), Some(region), "{text}");
        assert_eq!(lines[4].find("eu"), Some(region), "{text}");
        assert!(lines[3].starts_with("ams-1 (this node)"), "{text}");
        assert!(lines[4].ends_with("12ms"), "{text}");
        assert!(lines[3].contains("127.0.0.1:7947  -"), "{text}");
        let zone = lines[7];
        assert!(zone.starts_with("example.com.  1m15s"), "{text}");
        assert!(zone.ends_with("7 (+2)"), "{text}");
        let fra = lines[6].find("fra-long-name-1").unwrap();
        assert_eq!(zone.find("7 (+2)"), Some(fra), "{text}");
    }

    #[test]
    fn health_shows_the_reason_and_what_is_pending() {
        let view = HealthView {
            healthy: false,
            drained: true,
            reason: Some("drained".into()),
            detail: Some("drained".into()),
            pending: None,
            streak: 0,
            rise: 3,
            fall: 3,
            problem_zones: 0,
            since: TimePoint::from_unix(1_700_000_000 - 5, 1_700_000_000),
        };
        let text = health(&view);
        assert!(text.starts_with("unhealthy: drained\n"), "{text}");
        assert!(text.contains("drained:        yes"), "{text}");
        assert!(text.contains("(5s ago)"), "{text}");
        let rising = HealthView {
            drained: false,
            reason: Some("starting".into()),
            detail: Some("starting".into()),
            streak: 2,
            ..view
        };
        assert!(health(&rising).contains("pending:        healthy (2/3)"));
    }
}
