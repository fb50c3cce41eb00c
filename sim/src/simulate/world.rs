//! The simulated world: nodes, primary, network, gossip, the clock, and
//! the event loop with the scenario's timeline.

use std::collections::HashMap;
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::replicate::NodeId;
use understudy_proto::time::Timestamp;

use crate::scenario::{Scenario, Step, StepAction};

use super::bounds;
use super::check::{Checker, Rule};
use super::coarse::{COARSE_ABOVE, Coarse};
use super::event::{Event, Queue};
use super::gossip::Gossip;
use super::network::{Endpoint, Group, Network};
use super::node::{Life, SimNode};
use super::primary::Primary;
use super::rng::Rng;
use super::trace::Trace;

/// A deliberately broken replication rule, for tests that the invariants
/// catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// Take any version a peer advertises that differs from ours, older
    /// ones included, without asking the refresh machine.
    AcceptAnyPeerVersion,
    /// Skip the digest check of peer data, with a peer that flips bits.
    SkipDigestCheck,
}

/// Counts for the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Events processed.
    pub events: u64,
    /// Snapshots installed from peers.
    pub peer_installs: u64,
    /// Snapshots installed from the primary.
    pub primary_installs: u64,
    /// Gossip exchanges started.
    pub gossip_exchanges: u64,
    /// Changes of serial at the primary (zone changes).
    pub zone_changes: u64,
}

/// Everything simulated.
pub struct World<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) seed: u64,
    pub(super) now: Timestamp,
    pub(super) queue: Queue,
    pub(super) rng: Rng,
    pub(super) net: Network,
    pub(super) primary: Primary,
    pub(super) nodes: Vec<SimNode>,
    pub(super) names: Vec<Name>,
    pub(super) zone_of: HashMap<Name, u32>,
    pub(super) node_of: HashMap<NodeId, usize>,
    pub(super) gossip: Gossip,
    pub(super) coarse: Option<Coarse>,
    pub(super) check: Checker,
    pub(super) trace: Trace,
    pub(super) mutant: Option<Mutant>,
    pub(super) stats: Stats,
    pub(super) timeline: Vec<Step>,
    pub(super) converge_bound: Duration,
    pub(super) transfer_bound: u32,
    faults: Faults,
}

#[derive(Debug, Default)]
struct Faults {
    primary_down: bool,
    flaps: u32,
}

impl<'a> World<'a> {
    /// A world for `scenario` from `seed`, every node started empty.
    pub fn new(
        scenario: &'a Scenario,
        seed: u64,
        trace: Trace,
        mutant: Option<Mutant>,
    ) -> World<'a> {
        let mut rng = Rng::new(seed);
        let coarse = scenario.node_count() > COARSE_ABOVE;
        let zones = match coarse {
            true => scenario.zones.count.min(ZONE_GROUPS),
            false => scenario.zones.count,
        };
        let primary = Primary::new(scenario, zones as usize, &mut rng.fork());
        let names: Vec<Name> = (0..zones)
            .map(|z| {
                Name::from_ascii(&format!("z{z:05}.example.")).unwrap_or_else(|_| Name::root())
            })
            .collect();
        let zone_of = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        let mut nodes = Vec::new();
        let mut seeds = Vec::new();
        for node in scenario.nodes() {
            if node.index == 0 {
                seeds.push(nodes.len());
            }
            let id = NodeId::new(format!(
                "{}-{}",
                scenario.regions[node.region].name, node.index
            ));
            nodes.push(SimNode::new(id, node.region, names.len()));
        }
        let node_of = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let g = &scenario.gossip;
        let exchanging = if coarse { 0 } else { nodes.len() };
        let gossip = Gossip::new(exchanging, seeds, g.interval, g.fanout, g.phi, g.dead_grace);
        let regions: Vec<usize> = nodes.iter().map(|n| n.region).collect();
        let coarse = coarse.then(|| Coarse::new(&regions));
        let net = Network::new(scenario);
        let converge_bound = bounds::converge(scenario, &net);
        let transfer_bound = bounds::transfers(scenario);
        World {
            scenario,
            seed,
            now: Timestamp::ZERO,
            queue: Queue::default(),
            rng,
            net,
            primary,
            check: Checker::new(nodes.len(), names.len()),
            nodes,
            names,
            zone_of,
            node_of,
            gossip,
            coarse,
            trace,
            mutant,
            stats: Stats::default(),
            timeline: scenario.sorted_timeline(),
            converge_bound,
            transfer_bound,
            faults: Faults::default(),
        }
    }

    /// Runs the scenario to its end or to the first violation.
    pub fn run(&mut self) -> std::io::Result<()> {
        for node in 0..self.nodes.len() {
            let start = Timestamp::from_millis(self.rng.below(1_000));
            self.start_node(node, start);
        }
        for (i, step) in self.timeline.iter().enumerate() {
            self.queue
                .push(Timestamp::ZERO + step.at, Event::Timeline(i));
        }
        self.queue.push(
            Timestamp::ZERO + bounds::sweep_period(self.scenario),
            Event::Sweep,
        );
        let end = Timestamp::ZERO + self.scenario.duration;
        while let Some((at, event)) = self.queue.pop_until(end) {
            self.now = at;
            self.stats.events += 1;
            self.check.step = self.stats.events;
            self.check.now = at;
            let step = self.stats.events;
            self.trace.record(|line| {
                use std::fmt::Write;
                let _ = write!(line, "{step} {} ", at.as_millis());
                event.write_trace(line);
            })?;
            self.handle(event);
            if self.check.violation.is_some() {
                return Ok(());
            }
        }
        self.now = end;
        self.check_regions();
        Ok(())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Timeline(step) => self.timeline_step(step),
            Event::Flap { step, down, left } => self.flap(step, down, left),
            Event::Sweep => {
                self.check_regions();
                let next = self.now + bounds::sweep_period(self.scenario);
                self.queue.push(next, Event::Sweep);
            }
            Event::Converge { since, serials } => self.check_converged(since, &serials),
            Event::GossipRound { node, inc } => self.gossip_round(node, inc),
            Event::Syn { from, from_inc, to } => self.gossip_syn(from, from_inc, to),
            Event::Spread { member, inc } => {
                if self.alive_incarnation(member, inc) {
                    self.coarse_spread(member);
                }
            }
            Event::Hear {
                observer,
                inc,
                member,
                generation,
                version,
            } => {
                if self.alive_incarnation(observer, inc) {
                    self.coarse_hear(observer, member, generation, version);
                }
            }
            Event::Suspect {
                observer,
                inc,
                member,
                generation,
            } => {
                if self.alive_incarnation(observer, inc) {
                    self.coarse_suspect(observer, member, generation);
                }
            }
            other => self.node_event(other),
        }
    }

    fn timeline_step(&mut self, index: usize) {
        let action = self.timeline[index].action.clone();
        let group = |world: &World<'_>, selectors: &[crate::scenario::Selector]| {
            Group::of(world.scenario, &selectors.iter().collect::<Vec<_>>())
        };
        match action {
            StepAction::Change { zones } => self.change(zones),
            StepAction::PrimaryDown => self.faults.primary_down = true,
            StepAction::PrimaryUp => self.faults.primary_down = false,
            StepAction::Partition { groups } => {
                let groups = groups.iter().map(|g| group(self, g)).collect();
                self.net.partition(groups);
            }
            StepAction::Heal => self.net.heal(),
            StepAction::LinkDown { between } => {
                let (a, b) = (group(self, &[between.0]), group(self, &[between.1]));
                self.net.cut(a, b);
            }
            StepAction::LinkUp { between } => {
                let (a, b) = (group(self, &[between.0]), group(self, &[between.1]));
                self.net.restore(&a, &b);
            }
            StepAction::Flap { count, .. } => {
                self.faults.flaps += 1;
                self.flap(index, true, count.saturating_sub(1));
            }
            StepAction::Crash { nodes } => {
                for node in group(self, &nodes).nodes().collect::<Vec<_>>() {
                    self.crash_node(node);
                }
            }
            StepAction::Restart { nodes } => {
                for node in group(self, &nodes).nodes().collect::<Vec<_>>() {
                    if self.nodes[node].life == Life::Down {
                        self.start_node(node, self.now);
                    }
                }
            }
            StepAction::Freeze { nodes } => {
                for node in group(self, &nodes).nodes().collect::<Vec<_>>() {
                    self.freeze_node(node);
                }
            }
            StepAction::Thaw { nodes } => {
                for node in group(self, &nodes).nodes().collect::<Vec<_>>() {
                    self.thaw_node(node);
                }
            }
            StepAction::Loss { rate } => self.net.set_loss(rate),
        }
        self.primary.up = !self.faults.primary_down;
        if action_touches_network(&self.timeline[index].action) {
            self.coarse_recheck(None);
        }
        self.schedule_convergence();
    }

    fn flap(&mut self, step: usize, down: bool, left: u32) {
        let StepAction::Flap {
            between, period, ..
        } = self.timeline[step].action.clone()
        else {
            return;
        };
        let a = Group::of(self.scenario, &[&between.0]);
        let b = Group::of(self.scenario, &[&between.1]);
        self.coarse_recheck(None);
        if down {
            self.net.cut(a, b);
            self.queue.push(
                self.now + period,
                Event::Flap {
                    step,
                    down: false,
                    left,
                },
            );
        } else {
            self.net.restore(&a, &b);
            if left > 0 {
                self.queue.push(
                    self.now + period,
                    Event::Flap {
                        step,
                        down: true,
                        left: left - 1,
                    },
                );
            } else {
                self.faults.flaps = self.faults.flaps.saturating_sub(1);
                self.schedule_convergence();
            }
        }
    }

    /// Whether any fault is in force now.
    pub(super) fn faulty(&self) -> bool {
        self.faults.primary_down
            || self.faults.flaps > 0
            || self.net.is_faulty()
            || self.nodes.iter().any(|n| n.life != Life::Up)
    }

    /// When no fault is in force, every node must serve the primary's
    /// current serials within the bound.
    fn schedule_convergence(&mut self) {
        if self.faulty() {
            return;
        }
        let serials = (0..self.names.len())
            .map(|z| self.primary.serial(z))
            .collect();
        let at = self.now + self.converge_bound;
        self.queue.push(
            at,
            Event::Converge {
                since: self.now,
                serials,
            },
        );
    }

    fn change(&mut self, zones: Option<u32>) {
        let all = self.scenario.zones.count;
        let changed = zones.unwrap_or(all).min(all);
        // Above 100 nodes each simulated zone stands for a group of zones.
        let groups = self.names.len() as u32;
        let count = (u64::from(changed) * u64::from(groups)).div_ceil(u64::from(all)) as u32;
        let mut rng = self.rng.fork();
        for zone in 0..count as usize {
            self.primary.change(zone, &mut rng);
            self.stats.zone_changes += 1;
            if !self.primary.up {
                continue;
            }
            let serial = self.primary.serial(zone);
            for node in 0..self.nodes.len() {
                if let Some(delay) =
                    self.net
                        .send(&mut self.rng, Endpoint::Primary, Endpoint::Node(node))
                {
                    let inc = self.nodes[node].incarnation;
                    let event = Event::Notify {
                        node,
                        inc,
                        zone: zone as u32,
                        serial,
                    };
                    self.queue.push(self.now + delay, event);
                }
            }
        }
    }

    fn check_converged(&mut self, since: Timestamp, serials: &[u32]) {
        if self.faulty() {
            return;
        }
        for node in &self.nodes {
            let Some(memory) = node.memory.as_ref() else {
                continue;
            };
            for (zone, want) in serials.iter().enumerate() {
                let have = memory.serving[zone].map(|s| s.version.serial);
                let behind =
                    have.is_none_or(|have| understudy_proto::Serial(*want).is_newer_than(have));
                if behind {
                    let detail = format!(
                        "{} zone {zone} serves {:?}, primary had {want} since t={}s (bound {}s)",
                        node.id,
                        have.map(|s| s.0),
                        since.as_millis() / 1_000,
                        self.converge_bound.as_secs()
                    );
                    self.check.fail(Rule::NotConverged, detail);
                    return;
                }
            }
        }
    }

    /// Every region with a node up that ever loaded a zone answers it.
    pub(super) fn check_regions(&mut self) {
        for region in 0..self.scenario.regions.len() {
            for zone in 0..self.names.len() as u32 {
                self.check_region(region, zone);
            }
        }
    }

    pub(super) fn check_region(&mut self, region: usize, zone: u32) {
        let mut obliged = false;
        for (n, node) in self.nodes.iter().enumerate() {
            if node.region != region || !node.is_up() {
                continue;
            }
            if self.answers(n, zone) {
                return;
            }
            obliged |= self.check.ever_loaded(n, zone);
        }
        if !obliged {
            return;
        }
        let name = &self.scenario.regions[region].name;
        let allowed = self.scenario.zones.policy == crate::scenario::Policy::Rfc
            && self.scenario.expect.may_stop_answering.contains(name);
        if !allowed {
            self.check.fail(
                Rule::RegionDark,
                format!("region {name} does not answer zone {zone}"),
            );
        }
    }

    /// The run's counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The node ids.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.id.to_string()).collect()
    }

    /// Consumes the world, returning its trace, checker and primary.
    pub fn finish(self) -> (Trace, Checker, Primary, Stats, Duration) {
        (
            self.trace,
            self.check,
            self.primary,
            self.stats,
            self.converge_bound,
        )
    }

    pub(super) fn alive_incarnation(&self, node: usize, inc: u32) -> bool {
        let n = &self.nodes[node];
        n.incarnation == inc && n.is_up()
    }

    pub(super) fn seed(&self) -> u64 {
        self.seed
    }
}

impl World<'_> {
    /// The simulated time of the first violation, in ms.
    pub fn check_violation_time(&self) -> Option<u64> {
        self.check.violation.as_ref().map(|v| v.at.as_millis())
    }
}

/// Zone groups simulated above [`COARSE_ABOVE`] nodes: the zones of a
/// scenario share timers and changes, so a group of them behaves as one.
pub const ZONE_GROUPS: u32 = 10;

fn action_touches_network(action: &StepAction) -> bool {
    matches!(
        action,
        StepAction::Partition { .. }
            | StepAction::Heal
            | StepAction::LinkDown { .. }
            | StepAction::LinkUp { .. }
    )
}

impl World<'_> {
    /// How many zones (or zone groups) are simulated.
    pub fn zone_count(&self) -> usize {
        self.names.len()
    }
}
