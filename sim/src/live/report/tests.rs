//! The report from hand-made observations: figures, JSON shape, a
//! well-formed SVG, expectations deciding the verdict.

use super::*;
use crate::live::observe::{Mark, MarkKind, NodeInfo, Observations, Outcome, Probe};

fn answered(at_ms: u64, node: usize, serial: u32) -> Probe {
    Probe {
        at_ms,
        node,
        outcome: Outcome::Answered {
            rcode: 0,
            serial: Some(serial),
            txt_serial: Some(serial),
            correct: true,
        },
    }
}

fn refused(at_ms: u64, node: usize) -> Probe {
    Probe {
        at_ms,
        node,
        outcome: Outcome::Refused,
    }
}

/// Two regions of one node each; serial 2 at 1 s; `b` killed from 2 s to
/// 3 s and behind until 1.6 s.
fn observations() -> Observations {
    let mut probes = Vec::new();
    for step in 0..20 {
        let at = step * 200;
        probes.push(answered(at, 0, if at < 1_200 { 1 } else { 2 }));
        let b = match at {
            2_000..3_000 => refused(at, 1),
            _ => answered(at, 1, if at < 1_600 { 1 } else { 2 }),
        };
        probes.push(b);
    }
    let mark = |at_ms, kind, label: &str, nodes: Vec<usize>| Mark {
        at_ms,
        kind,
        label: label.to_string(),
        nodes,
    };
    Observations {
        nodes: vec![
            NodeInfo {
                id: "a-1".into(),
                region: "a".into(),
            },
            NodeInfo {
                id: "b-1".into(),
                region: "b".into(),
            },
        ],
        probes,
        sources: Vec::new(),
        marks: vec![
            mark(1_000, MarkKind::Change, "change to serial 2", vec![]),
            mark(1_900, MarkKind::Fault, "kill -9 b-1 <&>", vec![1]),
            mark(3_000, MarkKind::Heal, "restart b-1", vec![1]),
        ],
        serials: vec![(0, 1), (1_000, 2)],
        primary_transfers: Vec::new(),
        duration_ms: 4_000,
        steady_from_ms: 0,
    }
}

#[test]
fn figures_follow_the_observations() {
    let report = build("t", &observations(), &Expectations::default());
    let a = &report.regions[0];
    let b = &report.regions[1];
    assert_eq!(a.region_availability_pct, 100.0);
    assert_eq!(b.node_availability_pct, 75.0);
    assert!(
        b.region_availability_pct < 80.0 && b.region_availability_pct > 70.0,
        "{b:?}"
    );
    assert_eq!(b.worst_serials_behind, 1);
    assert!((b.longest_stale_s - 0.4).abs() < 1e-9, "{b:?}");
    let change = &report.convergence[0];
    assert_eq!(change.serial, 2);
    assert_eq!(
        change.regions,
        vec![("a".into(), Some(0.2)), ("b".into(), Some(0.6))]
    );
    assert!(report.passed);
}

#[test]
fn json_has_the_documented_shape() {
    let report = build("t", &observations(), &Expectations::default());
    let value: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    for key in [
        "name",
        "duration_s",
        "regions",
        "convergence",
        "checks",
        "passed",
        "wrong_answers",
    ] {
        assert!(value.get(key).is_some(), "missing {key}: {value}");
    }
    let region = &value["regions"][1];
    assert_eq!(region["region"], "b");
    assert!(region["region_availability_pct"].is_number());
    assert!(region["worst_serials_behind"].is_number());
    assert!(value["convergence"][0]["regions"][0].is_array());
}

#[test]
fn svg_is_well_formed_and_escapes_labels() {
    let svg = svg("drill <1>", &observations());
    assert!(svg.contains("kill -9 b-1 &lt;&amp;&gt;"));
    assert!(!svg.contains("<&>"));
    assert_balanced(&svg);
}

/// Every element opened is closed, in order.
fn assert_balanced(xml: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unterminated tag") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn unmet_expectations_fail_the_report_and_the_exit_status() {
    let strict = Expectations {
        converge_within_ms: Some(500),
        region_availability: vec![("b".into(), 99.0), ("a".into(), 99.0)],
        max_primary_transfers_per_change: Some(0),
        final_serial_everywhere: true,
    };
    let report = build("t", &observations(), &strict);
    assert!(!report.passed);
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.expectation.as_str())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].contains("within 0.5s"), "{failed:?}");
    assert!(failed[1].contains("region b"), "{failed:?}");
    assert_eq!(exit_status(&report), 1);
    let lenient = build("t", &observations(), &Expectations::default());
    assert_eq!(exit_status(&lenient), 0);
}

#[test]
fn wrong_data_fails_even_without_expectations() {
    let mut observations = observations();
    observations.probes.push(Probe {
        at_ms: 3_900,
        node: 0,
        outcome: Outcome::Answered {
            rcode: 0,
            serial: Some(7),
            txt_serial: Some(7),
            correct: false,
        },
    });
    let report = build("t", &observations, &Expectations::default());
    assert_eq!(report.wrong_answers, 1);
    assert!(!report.passed);
}
