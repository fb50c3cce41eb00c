//! From observations to figures.

use understudy_proto::Serial;

use super::{Check, Convergence, Expectations, RegionReport, Report};
use crate::live::observe::{MarkKind, Observations, Outcome, Probe};

/// Region availability is judged per window of this many milliseconds: a
/// region is available in a window when one of its nodes answered
/// correctly in it.
const WINDOW_MS: u64 = 250;

/// The report of `observations` named `name`, checked against `expect`.
pub fn build(name: &str, observations: &Observations, expect: &Expectations) -> Report {
    let regions: Vec<RegionReport> = observations
        .regions()
        .iter()
        .map(|region| region_report(observations, region))
        .collect();
    let convergence = convergence(observations);
    let mut report = Report {
        name: name.to_string(),
        duration_s: seconds(observations.duration_ms),
        primary_serials: observations.serials.iter().map(|(_, s)| *s).collect(),
        probes: observations.probes.len(),
        wrong_answers: count_answers(observations, |rcode| rcode == 0),
        error_answers: count_answers(observations, |rcode| rcode != 0),
        regions,
        convergence,
        checks: Vec::new(),
        passed: false,
    };
    report.checks = checks(observations, &report, expect);
    report.passed = report.checks.iter().all(|c| c.passed);
    report
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

/// Steady-state answers that were not correct, with an RCODE `rcode_matches`.
fn count_answers(observations: &Observations, rcode_matches: impl Fn(u16) -> bool) -> usize {
    observations
        .probes
        .iter()
        .filter(|p| p.at_ms >= observations.steady_from_ms)
        .filter(|p| match p.outcome {
            Outcome::Answered {
                correct: false,
                rcode,
                ..
            } => rcode_matches(rcode),
            _ => false,
        })
        .count()
}

fn steady_probes(observations: &Observations, node: usize) -> impl Iterator<Item = &Probe> {
    observations
        .probes
        .iter()
        .filter(move |p| p.node == node && p.at_ms >= observations.steady_from_ms)
}

fn region_report(observations: &Observations, region: &str) -> RegionReport {
    let nodes = observations.region_nodes(region);
    let probes: Vec<&Probe> = nodes
        .iter()
        .flat_map(|&n| steady_probes(observations, n))
        .collect();
    let correct = probes.iter().filter(|p| p.is_correct()).count();
    let (worst_serials_behind, longest_stale_ms) = nodes
        .iter()
        .map(|&n| staleness(observations, n))
        .fold((0, 0), |(a, b), (c, d)| (a.max(c), b.max(d)));
    let count_source = |prefix: &str| {
        observations
            .sources
            .iter()
            .filter(|s| nodes.contains(&s.node) && s.source.starts_with(prefix))
            .count()
    };
    RegionReport {
        region: region.to_string(),
        nodes: nodes
            .iter()
            .map(|&n| observations.nodes[n].id.clone())
            .collect(),
        node_availability_pct: percent(correct, probes.len()),
        region_availability_pct: region_availability(observations, &probes),
        worst_serials_behind,
        longest_stale_s: seconds(longest_stale_ms),
        transfers_from_primary: observations
            .primary_transfers
            .iter()
            .filter(|t| t.node.is_some_and(|n| nodes.contains(&n)))
            .count(),
        copies_from_peers: count_source("peer"),
        copies_from_disk: count_source("disk"),
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

fn region_availability(observations: &Observations, probes: &[&Probe]) -> f64 {
    let from = observations.steady_from_ms;
    let windows = observations.duration_ms.saturating_sub(from) / WINDOW_MS;
    let (mut probed, mut answered) = (0, 0);
    for window in 0..windows {
        let start = from + window * WINDOW_MS;
        let inside: Vec<&&Probe> = probes
            .iter()
            .filter(|p| p.at_ms >= start && p.at_ms < start + WINDOW_MS)
            .collect();
        if inside.is_empty() {
            continue;
        }
        probed += 1;
        if inside.iter().any(|p| p.is_correct()) {
            answered += 1;
        }
    }
    percent(answered, probed)
}

/// The most serials `node` was behind the primary, and the longest run of
/// probes it answered with an older serial, in milliseconds.
fn staleness(observations: &Observations, node: usize) -> (u32, u64) {
    let (mut worst, mut longest) = (0, 0);
    let mut run_start: Option<u64> = None;
    for probe in steady_probes(observations, node) {
        let behind = probe.correct_serial().map(|serial| {
            observations
                .serials
                .iter()
                .filter(|(at, s)| *at <= probe.at_ms && Serial(*s).is_newer_than(Serial(serial)))
                .count() as u32
        });
        match behind {
            Some(behind) if behind > 0 => {
                worst = worst.max(behind);
                let start = *run_start.get_or_insert(probe.at_ms);
                longest = longest.max(probe.at_ms - start);
            }
            _ => run_start = None,
        }
    }
    (worst, longest)
}

/// Whether `node` is running (not killed, not frozen) just after `at_ms`,
/// from the fault and heal marks that name it.
pub(crate) fn node_up_after(observations: &Observations, node: usize, at_ms: u64) -> bool {
    let mut up = true;
    for mark in observations
        .marks
        .iter()
        .filter(|m| m.at_ms <= at_ms && m.nodes.contains(&node))
    {
        match mark.kind {
            MarkKind::Fault => up = false,
            MarkKind::Heal => up = true,
            MarkKind::Change => {}
        }
    }
    up
}

/// Whether `node` is running at the end of the drill.
pub fn node_up_at_end(observations: &Observations, node: usize) -> bool {
    node_up_after(observations, node, u64::MAX)
}

/// Whether the primary is away or a link cut just after `at_ms`: faults
/// that name no node, each undone by a heal that names none, all of them
/// by a `heal`.
fn network_faults_after(observations: &Observations, at_ms: u64) -> bool {
    let mut active = 0usize;
    for mark in observations
        .marks
        .iter()
        .filter(|m| m.at_ms <= at_ms && m.nodes.is_empty())
    {
        match mark.kind {
            MarkKind::Fault => active += 1,
            MarkKind::Heal if mark.label.starts_with("heal") => active = 0,
            MarkKind::Heal => active = active.saturating_sub(1),
            MarkKind::Change => {}
        }
    }
    active > 0
}

fn convergence(observations: &Observations) -> Vec<Convergence> {
    let events: Vec<_> = observations
        .marks
        .iter()
        .filter(|m| m.kind != MarkKind::Fault)
        .collect();
    let mut list = Vec::new();
    for mark in &events {
        let Some(serial) = observations.primary_serial_at(mark.at_ms) else {
            continue;
        };
        let until = observations
            .marks
            .iter()
            .map(|m| m.at_ms)
            .find(|&at| at > mark.at_ms)
            .unwrap_or(u64::MAX);
        let regions = observations
            .regions()
            .into_iter()
            .filter_map(|region| {
                let nodes: Vec<usize> = observations
                    .region_nodes(&region)
                    .into_iter()
                    .filter(|&n| node_up_after(observations, n, mark.at_ms))
                    .collect();
                (!nodes.is_empty()).then(|| {
                    let times: Option<Vec<u64>> = nodes
                        .iter()
                        .map(|&n| first_serving(observations, n, mark.at_ms, serial))
                        .collect();
                    let time = times.map(|t| t.into_iter().max().unwrap_or(mark.at_ms));
                    (region, time.map(|t| seconds(t.saturating_sub(mark.at_ms))))
                })
            })
            .collect();
        list.push(Convergence {
            at_s: seconds(mark.at_ms),
            event: mark.label.clone(),
            serial,
            regions,
            primary_transfers: observations
                .primary_transfers
                .iter()
                .filter(|t| t.at_ms >= mark.at_ms && t.at_ms < until)
                .count(),
            during_faults: network_faults_after(observations, mark.at_ms),
        });
    }
    list
}

/// When `node` first answered `serial` (or newer) correctly at or after
/// `from`.
fn first_serving(observations: &Observations, node: usize, from: u64, serial: u32) -> Option<u64> {
    observations
        .probes
        .iter()
        .filter(|p| p.node == node && p.at_ms >= from)
        .find(|p| {
            p.correct_serial()
                .is_some_and(|s| s == serial || Serial(s).is_newer_than(Serial(serial)))
        })
        .map(|p| p.at_ms)
}

fn checks(observations: &Observations, report: &Report, expect: &Expectations) -> Vec<Check> {
    let mut checks = vec![Check {
        expectation: "no answer carries data the primary did not publish".to_string(),
        passed: report.wrong_answers == 0,
        observed: format!("{} wrong answers", report.wrong_answers),
    }];
    if let Some(bound) = expect.converge_within_ms {
        for event in report.convergence.iter().filter(|e| !e.during_faults) {
            let slowest = event
                .regions
                .iter()
                .map(|(_, t)| *t)
                .try_fold(0.0f64, |a, t| t.map(|t| a.max(t)));
            checks.push(Check {
                expectation: format!(
                    "serial {} everywhere within {:.1}s of \"{}\"",
                    event.serial,
                    seconds(bound),
                    event.event
                ),
                passed: slowest.is_some_and(|s| s <= seconds(bound)),
                observed: slowest.map_or("never".to_string(), |s| format!("{s:.2}s")),
            });
        }
    }
    for (region, minimum) in &expect.region_availability {
        let observed = report
            .regions
            .iter()
            .find(|r| &r.region == region)
            .map(|r| r.region_availability_pct);
        checks.push(Check {
            expectation: format!("region {region} answers at least {minimum}% of the time"),
            passed: observed.is_some_and(|o| o >= *minimum),
            observed: observed.map_or("no such region".to_string(), |o| format!("{o}%")),
        });
    }
    if let Some(limit) = expect.max_primary_transfers_per_change {
        let worst = report
            .convergence
            .iter()
            .filter(|c| c.event.starts_with("change") && !c.during_faults)
            .map(|c| c.primary_transfers)
            .max()
            .unwrap_or(0);
        checks.push(Check {
            expectation: format!("at most {limit} transfers from the primary per change"),
            passed: worst <= limit,
            observed: format!("at most {worst}"),
        });
    }
    if expect.final_serial_everywhere {
        checks.push(final_serial_check(observations));
    }
    checks
}

fn final_serial_check(observations: &Observations) -> Check {
    let serial = observations.serials.last().map(|(_, s)| *s);
    let lagging: Vec<String> = (0..observations.nodes.len())
        .filter(|&n| node_up_after(observations, n, observations.duration_ms))
        .filter(|&n| {
            let last = observations.probes.iter().rev().find(|p| p.node == n);
            last.and_then(Probe::correct_serial) != serial
        })
        .map(|n| observations.nodes[n].id.clone())
        .collect();
    Check {
        expectation: format!(
            "every running node serves serial {} at the end",
            serial.unwrap_or(0)
        ),
        passed: lagging.is_empty(),
        observed: if lagging.is_empty() {
            "all do".to_string()
        } else {
            format!("not {}", lagging.join(", "))
        },
    }
}
