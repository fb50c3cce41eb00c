//! A scenario mapped onto a live drill: its timeline compressed into a
//! time budget, flaps expanded into link-down / link-up steps, SOA timers
//! scaled by the same factor, and its expectations translated. What a live
//! drill cannot reproduce (latency, jitter, loss, many zones) is listed.

use std::time::Duration;

use crate::live::primary::SoaTimers;
use crate::live::report::Expectations;
use crate::scenario::{Converge, Policy, Scenario, Selector, StepAction};

/// One live step.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStep {
    /// From the moment every node first serves the zone.
    pub at: Duration,
    /// What to do.
    pub action: LiveAction,
}

/// What a live drill does at a step.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveAction {
    /// The primary publishes a new serial.
    Change,
    /// The primary's sockets close.
    PrimaryDown,
    /// The primary listens again.
    PrimaryUp,
    /// Drop traffic between these groups of selectors.
    Partition(Vec<Vec<Selector>>),
    /// Remove every cut.
    Heal,
    /// Drop traffic between two selectors.
    LinkDown(Selector, Selector),
    /// Let it flow again.
    LinkUp(Selector, Selector),
    /// SIGKILL.
    Crash(Vec<Selector>),
    /// Start again on the same disk.
    Restart(Vec<Selector>),
    /// SIGSTOP.
    Freeze(Vec<Selector>),
    /// SIGCONT.
    Thaw(Vec<Selector>),
}

impl LiveAction {
    /// Whether the step needs nftables.
    pub fn needs_partitions(&self) -> bool {
        matches!(
            self,
            LiveAction::Partition(_) | LiveAction::LinkDown(..) | LiveAction::LinkUp(..)
        )
    }
}

/// A scenario ready to run live.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePlan {
    /// Live seconds per scenario second.
    pub factor: f64,
    /// The steps, in time order.
    pub steps: Vec<LiveStep>,
    /// Regions and node counts.
    pub regions: Vec<(String, usize)>,
    /// The zone's SOA timers, scaled (at least one second each).
    pub timers: SoaTimers,
    /// The nodes' expiry policy.
    pub expiry_policy: String,
    /// What the report must show.
    pub expect: Expectations,
    /// How long to wait after the last step for the fleet to converge.
    pub settle: Duration,
    /// What the scenario asks that a live drill does not reproduce.
    pub notes: Vec<String>,
}

impl LivePlan {
    /// Whether any step needs nftables (and so root).
    pub fn needs_partitions(&self) -> bool {
        self.steps.iter().any(|s| s.action.needs_partitions())
    }
}

/// Maps `scenario` so that its last timeline step falls `budget` after the
/// start (times are never stretched).
pub fn plan(scenario: &Scenario, budget: Duration) -> LivePlan {
    let last = scenario
        .timeline
        .iter()
        .map(|s| s.at)
        .max()
        .unwrap_or_default();
    let factor = if last > budget {
        budget.as_secs_f64() / last.as_secs_f64()
    } else {
        1.0
    };
    let scale = |d: Duration| d.mul_f64(factor);
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    for step in scenario.sorted_timeline() {
        let at = scale(step.at);
        match &step.action {
            StepAction::Flap {
                between,
                period,
                count,
            } => {
                for k in 0..*count {
                    let down = at + scale(*period * (2 * k));
                    let up = at + scale(*period * (2 * k + 1));
                    let (a, b) = between.clone();
                    steps.push(LiveStep {
                        at: down,
                        action: LiveAction::LinkDown(a.clone(), b.clone()),
                    });
                    steps.push(LiveStep {
                        at: up,
                        action: LiveAction::LinkUp(a, b),
                    });
                }
            }
            StepAction::Loss { rate } => {
                notes.push(format!(
                    "loss {rate} at {:?} not reproduced (no netem)",
                    step.at
                ));
            }
            action => {
                if let Some(action) = live_action(action) {
                    steps.push(LiveStep { at, action });
                }
            }
        }
    }
    steps.sort_by_key(|s| s.at);
    notes.extend(unsupported(scenario));
    let timers = SoaTimers {
        refresh: scaled_seconds(scenario.zones.refresh, factor),
        retry: scaled_seconds(scenario.zones.retry, factor),
        expire: scaled_seconds(scenario.zones.expire, factor),
    };
    let settle = match scenario.expect.converge {
        Converge::Auto => Duration::from_secs(10 + 3 * u64::from(timers.refresh)),
        Converge::Within(bound) => scale(bound).max(Duration::from_secs(5)),
    };
    LivePlan {
        factor,
        steps,
        regions: scenario
            .regions
            .iter()
            .map(|r| (r.name.clone(), r.nodes as usize))
            .collect(),
        timers,
        expiry_policy: policy_name(scenario.zones.policy).to_string(),
        expect: expectations(scenario, settle),
        settle,
        notes,
    }
}

fn live_action(action: &StepAction) -> Option<LiveAction> {
    Some(match action {
        StepAction::Change { .. } => LiveAction::Change,
        StepAction::PrimaryDown => LiveAction::PrimaryDown,
        StepAction::PrimaryUp => LiveAction::PrimaryUp,
        StepAction::Partition { groups } => LiveAction::Partition(groups.clone()),
        StepAction::Heal => LiveAction::Heal,
        StepAction::LinkDown { between } => {
            LiveAction::LinkDown(between.0.clone(), between.1.clone())
        }
        StepAction::LinkUp { between } => LiveAction::LinkUp(between.0.clone(), between.1.clone()),
        StepAction::Crash { nodes } => LiveAction::Crash(nodes.clone()),
        StepAction::Restart { nodes } => LiveAction::Restart(nodes.clone()),
        StepAction::Freeze { nodes } => LiveAction::Freeze(nodes.clone()),
        StepAction::Thaw { nodes } => LiveAction::Thaw(nodes.clone()),
        StepAction::Flap { .. } | StepAction::Loss { .. } => return None,
    })
}

fn unsupported(scenario: &Scenario) -> Vec<String> {
    let mut notes = Vec::new();
    if scenario.zones.count > 1 {
        notes.push(format!(
            "{} zones in the scenario; the live primary serves one",
            scenario.zones.count
        ));
    }
    let network = &scenario.network;
    if !network.latency.is_empty() || network.jitter > 0.0 || network.loss > 0.0 {
        notes.push("latency, jitter and loss live in the simulator (no netem here)".to_string());
    }
    notes
}

fn scaled_seconds(duration: Duration, factor: f64) -> u32 {
    (duration.as_secs_f64() * factor)
        .round()
        .clamp(1.0, f64::from(u32::MAX)) as u32
}

fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::Rfc => "rfc",
        Policy::ServeStale => "serve-stale",
        Policy::Never => "never",
    }
}

fn expectations(scenario: &Scenario, settle: Duration) -> Expectations {
    let regions = scenario.regions.len();
    let region_availability = match scenario.expect.availability {
        Some(share) => scenario
            .regions
            .iter()
            .filter(|r| !scenario.expect.may_stop_answering.contains(&r.name))
            .map(|r| (r.name.clone(), share * 100.0))
            .collect(),
        None => Vec::new(),
    };
    Expectations {
        converge_within_ms: Some(settle.as_millis() as u64),
        region_availability,
        max_primary_transfers_per_change: Some(
            scenario
                .expect
                .transfers_per_change
                .map_or(regions + 1, |n| n as usize),
        ),
        final_serial_everywhere: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
        name = "t"
        duration = "2h"
        [[regions]]
        name = "fra"
        nodes = 2
        location = "frankfurt"
        [[regions]]
        name = "sin"
        nodes = 1
        location = "singapore"
        [zones]
        count = 3
        primary_region = "fra"
        refresh = "10m"
        retry = "1m"
        expire = "1d"
        policy = "serve-stale"
        [[timeline]]
        at = "20m"
        do = "heal"
        [[timeline]]
        at = "5m"
        do = "flap"
        between = ["sin", "primary"]
        period = "1m"
        count = 2
        [[timeline]]
        at = "10m"
        do = "crash"
        nodes = ["fra/1"]
        [expect]
        availability = 0.9
        may_stop_answering = ["sin"]
    "#;

    #[test]
    fn timeline_is_compressed_into_the_budget_and_flaps_expanded() {
        let scenario: Scenario = SCENARIO.parse().unwrap();
        let plan = plan(&scenario, Duration::from_secs(20));
        assert!((plan.factor - 20.0 / 1_200.0).abs() < 1e-12);
        let at: Vec<u64> = plan.steps.iter().map(|s| s.at.as_millis() as u64).collect();
        assert_eq!(at, vec![5_000, 6_000, 7_000, 8_000, 10_000, 20_000]);
        assert!(matches!(plan.steps[0].action, LiveAction::LinkDown(..)));
        assert!(matches!(plan.steps[3].action, LiveAction::LinkUp(..)));
        assert_eq!(plan.steps[5].action, LiveAction::Heal);
        assert!(plan.needs_partitions());
        assert_eq!(
            plan.timers,
            SoaTimers {
                refresh: 10,
                retry: 1,
                expire: 1_440
            }
        );
        assert_eq!(plan.expiry_policy, "serve-stale");
        assert_eq!(
            plan.expect.region_availability,
            vec![("fra".to_string(), 90.0)]
        );
        assert_eq!(plan.expect.max_primary_transfers_per_change, Some(3));
        assert!(plan.notes.iter().any(|n| n.contains("3 zones")));
    }

    #[test]
    fn short_timelines_run_in_real_time() {
        let mut scenario: Scenario = SCENARIO.parse().unwrap();
        scenario
            .timeline
            .retain(|s| matches!(s.action, StepAction::Crash { .. }));
        scenario.timeline[0].at = Duration::from_secs(3);
        let plan = plan(&scenario, Duration::from_secs(20));
        assert_eq!(plan.factor, 1.0);
        assert!(!plan.needs_partitions());
        assert_eq!(plan.steps[0].at, Duration::from_secs(3));
    }
}
