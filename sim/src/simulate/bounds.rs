//! Bounds derived from a scenario's timers and latencies.

use std::time::Duration;

use crate::scenario::{Converge, Scenario};

use super::network::Network;
use super::node::{refresh_config, replicate_config};

/// How long after a change, or after the last fault healed, every node
/// must serve the primary's serial.
///
/// `auto`: the worst path once nothing is faulty is a node that missed the
/// NOTIFY and every gossip advert (messages lost) and waits for its own
/// refresh timer: one refresh interval, plus one retry interval for a lost
/// SOA query or transfer, plus the longest replication backoff a failing
/// peer may have been given, plus gossip spread (rounds of `interval` for
/// the news to reach every node, `log2(nodes) + 10`, and the failure
/// detector's time to see restarted peers alive, about `phi × interval`),
/// plus the NOTIFY hold and twenty worst round trips for the exchanges on
/// the way and the action timeouts that loss can cost.
pub fn converge(scenario: &Scenario, net: &Network) -> Duration {
    if let Converge::Within(bound) = scenario.expect.converge {
        return bound;
    }
    let refresh = refresh_config(scenario);
    let replicate = replicate_config();
    let nodes = scenario.node_count().max(2) as f64;
    let interval = scenario.gossip.interval;
    let rounds = nodes.log2().ceil() + 10.0 + scenario.gossip.phi;
    let gossip = interval.mul_f64(rounds);
    let timeouts = match scenario.network.loss > 0.0 || has_loss_step(scenario) {
        true => refresh.soa_timeout + refresh.transfer_timeout + replicate.fetch_timeout,
        false => Duration::ZERO,
    };
    scenario.zones.refresh
        + scenario.zones.retry
        + replicate.backoff_max
        + gossip
        + replicate.notify_wait
        + net.max_rtt() * 20
        + timeouts
}

fn has_loss_step(scenario: &Scenario) -> bool {
    scenario
        .timeline
        .iter()
        .any(|s| matches!(s.action, crate::scenario::StepAction::Loss { .. }))
}

/// Transfers the primary may serve per changed zone: the scenario's
/// figure, else one per region plus one (a node whose NOTIFY hold ran out
/// before its region's fetcher advertised).
pub fn transfers(scenario: &Scenario) -> u32 {
    scenario
        .expect
        .transfers_per_change
        .unwrap_or(scenario.regions.len() as u32 + 1)
}

/// How often every region is checked to answer every zone, besides the
/// checks after each change of a node.
pub fn sweep_period(scenario: &Scenario) -> Duration {
    let cells = scenario.regions.len() * scenario.zones.count as usize;
    match cells > 10_000 {
        true => Duration::from_secs(60),
        false => Duration::from_secs(10),
    }
}

/// How often each node evaluates its health: every 5 s, or every minute
/// in runs of more than 10,000 node-zones, where a full evaluation of
/// every zone each few seconds would dominate the run.
pub fn health_period(scenario: &Scenario) -> Duration {
    match scenario.node_count() * scenario.zones.count as usize > 10_000 {
        true => Duration::from_secs(60),
        false => Duration::from_secs(5),
    }
}
