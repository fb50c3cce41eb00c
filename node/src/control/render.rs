//! Human output of `understudy ctl zone status`: an aligned table for all
//! zones, every field for one.

use std::fmt::Write as _;

use super::protocol::{TimePoint, ZoneStatusView};

const COLUMNS: [&str; 8] = [
    "ZONE",
    "STATE",
    "SERIAL",
    "PRIMARY",
    "LAST REFRESH",
    "NEXT REFRESH",
    "EXPIRES",
    "RECORDS",
];

/// One row per zone under a header, columns padded to their widest cell;
/// zones with an error get it on an indented line below their row.
pub fn table(zones: &[ZoneStatusView]) -> String {
    let rows: Vec<[String; 8]> = zones.iter().map(row).collect();
    let mut widths = COLUMNS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    line(&mut out, &COLUMNS.map(str::to_owned), &widths);
    for (row, zone) in rows.iter().zip(zones) {
        line(&mut out, row, &widths);
        if let Some(error) = &zone.last_error {
            let _ = writeln!(out, "  last error: {error}");
        }
    }
    out
}

fn row(zone: &ZoneStatusView) -> [String; 8] {
    let last_refresh = match (&zone.last_refresh, &zone.last_result) {
        (Some(at), Some(result)) => format!("{} ({result})", relative(at)),
        (Some(at), None) => relative(at),
        (None, _) => "-".into(),
    };
    [
        zone.zone.clone(),
        zone.state.name().to_owned(),
        versioned(zone.epoch, zone.serial),
        optional(zone.primary_serial),
        last_refresh,
        zone.next_refresh
            .as_ref()
            .map_or_else(|| "-".into(), relative),
        zone.expires_at
            .as_ref()
            .map_or_else(|| "-".into(), relative),
        zone.records.to_string(),
    ]
}

fn line(out: &mut String, cells: &[String; 8], widths: &[usize; 8]) {
    let mut text = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if index + 1 == cells.len() {
            text.push_str(cell);
        } else {
            let _ = write!(text, "{cell:<width$}  ");
        }
    }
    out.push_str(text.trim_end());
    out.push('\n');
}

/// Every field of one zone, one per line.
pub fn detail(zone: &ZoneStatusView) -> String {
    let time = |point: &Option<TimePoint>| {
        point.as_ref().map_or_else(
            || "-".to_owned(),
            |point| format!("{} ({})", point.utc, relative(point)),
        )
    };
    let fields = [
        ("zone", zone.zone.clone()),
        ("state", zone.state.name().to_owned()),
        ("epoch", zone.epoch.to_string()),
        ("serial", optional(zone.serial)),
        ("primary serial", optional(zone.primary_serial)),
        ("last refresh", time(&zone.last_refresh)),
        (
            "last result",
            zone.last_result.clone().unwrap_or_else(|| "-".into()),
        ),
        ("next refresh", time(&zone.next_refresh)),
        ("expires", time(&zone.expires_at)),
        (
            "verified",
            zone.verified_age_seconds
                .map_or_else(|| "-".into(), |age| format!("{} ago", span(age))),
        ),
        (
            "last primary",
            zone.last_primary.clone().unwrap_or_else(|| "-".into()),
        ),
        ("source", zone.source.clone().unwrap_or_else(|| "-".into())),
        (
            "last error",
            zone.last_error.clone().unwrap_or_else(|| "-".into()),
        ),
        ("records", zone.records.to_string()),
        ("bytes", zone.bytes.to_string()),
        (
            "transfers",
            format!(
                "{} ixfr, {} axfr, {} fallbacks",
                zone.transfers.ixfr, zone.transfers.axfr, zone.transfers.fallbacks
            ),
        ),
    ];
    let mut out = String::new();
    for (name, value) in fields {
        let _ = writeln!(out, "{:<15} {value}", format!("{name}:"));
    }
    out
}

fn optional(serial: Option<u32>) -> String {
    serial.map_or_else(|| "-".into(), |serial| serial.to_string())
}

/// The serial, prefixed with the epoch once a retransfer has raised it.
fn versioned(epoch: u32, serial: Option<u32>) -> String {
    match (epoch, serial) {
        (_, None) => "-".into(),
        (0, Some(serial)) => serial.to_string(),
        (epoch, Some(serial)) => format!("{epoch}/{serial}"),
    }
}

/// `35s ago`, `in 59m25s`, `now`.
pub fn relative(point: &TimePoint) -> String {
    let seconds = point.seconds_from_now;
    match seconds {
        0 => "now".into(),
        s if s < 0 => format!("{} ago", span(s.unsigned_abs())),
        s => format!("in {}", span(s.unsigned_abs())),
    }
}

/// A length of time in its two largest units: `3d4h`, `59m25s`, `7s`.
pub fn span(seconds: u64) -> String {
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut left = seconds;
    for (size, name) in units {
        if left >= size || (size == 1 && parts.is_empty()) {
            parts.push(format!("{}{name}", left / size));
            left %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    // A zero remainder ("2h0m") says nothing.
    if parts.len() == 2 && parts[1].starts_with('0') {
        parts.pop();
    }
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::{TransferCounts, ZoneState};

    fn view(zone: &str, state: ZoneState) -> ZoneStatusView {
        ZoneStatusView {
            zone: zone.into(),
            state,
            epoch: 0,
            serial: Some(2024010101),
            primary_serial: Some(2024010101),
            last_refresh: Some(TimePoint::from_unix(1_700_000_000 - 35, 1_700_000_000)),
            last_result: Some("up-to-date".into()),
            next_refresh: Some(TimePoint::from_unix(1_700_003_565, 1_700_000_000)),
            expires_at: Some(TimePoint::from_unix(
                1_700_000_000 + 7 * 86_400,
                1_700_000_000,
            )),
            last_error: None,
            last_primary: Some("192.0.2.1:53".into()),
            source: None,
            verified_age_seconds: Some(35),
            records: 1234,
            bytes: 56_789,
            transfers: TransferCounts {
                ixfr: 3,
                axfr: 1,
                fallbacks: 0,
            },
        }
    }

    #[test]
    fn spans_use_the_two_largest_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(7), "7s");
        assert_eq!(span(3565), "59m25s");
        assert_eq!(span(7200), "2h");
        assert_eq!(span(3 * 86_400 + 4 * 3600 + 59), "3d4h");
    }

    #[test]
    fn table_columns_line_up() {
        let mut regressed = view("a-much-longer-name.example.", ZoneState::SerialRegressed);
        regressed.epoch = 2;
        regressed.last_error = Some("primary serial 5 is older than 2024010101".into());
        let text = table(&[view("example.com.", ZoneState::Ok), regressed]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        let state_column = lines[0].find("STATE").unwrap();
        assert_eq!(lines[1].find("ok"), Some(state_column), "{text}");
        assert_eq!(
            lines[2].find("serial-regressed"),
            Some(state_column),
            "{text}"
        );
        assert!(lines[1].contains("35s ago (up-to-date)"), "{text}");
        assert!(lines[1].contains("in 59m25s"));
        assert!(lines[1].ends_with("1234"));
        assert!(lines[2].contains("2/2024010101"));
        assert_eq!(
            lines[3],
            "  last error: primary serial 5 is older than 2024010101"
        );
    }

    #[test]
    fn detail_shows_every_field() {
        let text = detail(&view("example.com.", ZoneState::Ok));
        for expected in [
            "zone:           example.com.",
            "state:          ok",
            "last refresh:   2023-11-14T22:12:45Z (35s ago)",
            "verified:       35s ago",
            "transfers:      3 ixfr, 1 axfr, 0 fallbacks",
            "bytes:          56789",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
    }
}
