//! The coarse gossip model, used above [`COARSE_ABOVE`] nodes.
//!
//! Simulating every exchange of a thousand nodes for a day is out of
//! reach, so news travels by its epidemic timing instead of message by
//! message:
//!
//! * Each node tracks a bounded view: the next [`REGION_VIEW`] nodes of
//!   its own region (in ring order) and the first [`REMOTE_VIEW`] nodes of
//!   every other region. Fetch sources and regional fetchers are chosen
//!   from that view.
//! * A change of a node's state leaves at the node's next round (the
//!   changes of a round travel together); each watcher hears it
//!   `interval × 0.7 × u × log_(fanout+1)(nodes)` later (u uniform in
//!   0..1) plus the one-way latency, at its own next round: the time an
//!   epidemic with that fan-out takes to reach a node, fitted to what
//!   chitchat and the message-level model show (`sim/tests/calibrate.rs`).
//! * A watcher that cannot reach a member (dead, frozen or cut off) holds
//!   it dead after `interval × (1.2 × phi + u)`: chitchat's phi-accrual
//!   detector with a mean heartbeat interval of about 1.2 rounds; a
//!   started node is held alive two heartbeats after it is first heard.
//! * Network changes re-evaluate every (watcher, member) pair.
//!
//! Dead members are not forgotten after the grace period in this model.

use super::event::Event;
use super::gossip::{KeyChange, Learned};
use super::network::Endpoint;
use super::world::World;
use std::collections::BTreeMap;

/// Above this many nodes the coarse model replaces message-level gossip.
pub const COARSE_ABOVE: usize = 100;
/// Own-region members a node tracks.
pub const REGION_VIEW: usize = 8;
/// Fraction of `log_(fanout+1)(nodes)` rounds a piece of news takes at
/// most to reach a watcher, on top of the two partial rounds (leaving at
/// the member's next round, heard at the watcher's); 0.7 puts the mean
/// time to reach a node of a 100-node fleet at 1.6 s, where chitchat
/// measures 1.2 s and the message-level model 1.5 s.
const SPREAD: f64 = 0.7;
/// Members per other region a node tracks.
pub const REMOTE_VIEW: usize = 1;

#[derive(Debug, Clone, Copy, Default)]
struct Heard {
    generation: u64,
    version: u64,
    alive: bool,
}

/// The coarse gossip state of the fleet.
pub struct Coarse {
    views: Vec<Vec<usize>>,
    watchers: Vec<Vec<usize>>,
    history: Vec<Vec<Vec<KeyChange>>>,
    generation: Vec<u64>,
    heard: Vec<BTreeMap<usize, Heard>>,
    pending: Vec<bool>,
}

impl Coarse {
    /// The views of a fleet whose nodes are in `regions` (region index
    /// per node, nodes of a region contiguous).
    pub fn new(regions: &[usize]) -> Coarse {
        let nodes = regions.len();
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (node, region) in regions.iter().enumerate() {
            members.entry(*region).or_default().push(node);
        }
        let mut views = vec![Vec::new(); nodes];
        for (node, region) in regions.iter().enumerate() {
            let own = &members[region];
            let at = own.iter().position(|n| *n == node).unwrap_or(0);
            let ring = (1..own.len()).map(|step| own[(at + step) % own.len()]);
            views[node].extend(ring.take(REGION_VIEW));
            for (other, list) in &members {
                if other != region {
                    views[node].extend(list.iter().take(REMOTE_VIEW));
                }
            }
        }
        let mut watchers = vec![Vec::new(); nodes];
        for (observer, view) in views.iter().enumerate() {
            for member in view {
                watchers[*member].push(observer);
            }
        }
        Coarse {
            views,
            watchers,
            history: vec![Vec::new(); nodes],
            generation: vec![0; nodes],
            heard: vec![BTreeMap::new(); nodes],
            pending: vec![false; nodes],
        }
    }

    fn version(&self, member: usize) -> u64 {
        let generation = self.generation[member] as usize;
        self.history[member]
            .get(generation.wrapping_sub(1))
            .map_or(0, |h| h.len() as u64)
    }
}

impl World<'_> {
    pub(super) fn coarse_start(&mut self, node: usize, generation: u64) {
        let Some(coarse) = self.coarse.as_mut() else {
            return;
        };
        while coarse.history[node].len() < generation as usize {
            coarse.history[node].push(Vec::new());
        }
        coarse.generation[node] = generation;
        coarse.heard[node].clear();
        let view = coarse.views[node].clone();
        self.coarse_spread(node);
        for member in view {
            self.coarse_pair(node, member);
        }
    }

    pub(super) fn coarse_publish(&mut self, node: usize, change: KeyChange) {
        let Some(coarse) = self.coarse.as_mut() else {
            return;
        };
        let generation = coarse.generation[node] as usize;
        if let Some(history) = coarse.history[node].get_mut(generation.wrapping_sub(1)) {
            history.push(change);
        }
        if !std::mem::replace(&mut coarse.pending[node], true) {
            let inc = self.nodes[node].incarnation;
            let wait = self.scenario.gossip.interval.mul_f64(self.rng.unit());
            self.queue
                .push(self.now + wait, Event::Spread { member: node, inc });
        }
    }

    /// The member's news leaves for every watcher.
    pub(super) fn coarse_spread(&mut self, member: usize) {
        let Some(coarse) = self.coarse.as_mut() else {
            return;
        };
        coarse.pending[member] = false;
        for observer in coarse.watchers[member].clone() {
            self.coarse_pair(observer, member);
        }
    }

    /// Brings what `observer` holds about `member` in line with the
    /// network and the member's state: news on its way, or suspicion.
    pub(super) fn coarse_pair(&mut self, observer: usize, member: usize) {
        let Some(coarse) = self.coarse.as_ref() else {
            return;
        };
        let held = coarse.heard[observer]
            .get(&member)
            .copied()
            .unwrap_or_default();
        let (generation, version) = (coarse.generation[member], coarse.version(member));
        let reachable = self.nodes[member].is_up()
            && self
                .net
                .connected(Endpoint::Node(observer), Endpoint::Node(member));
        let inc = self.nodes[observer].incarnation;
        let interval = self.scenario.gossip.interval;
        if !reachable {
            if held.alive {
                let wait = interval.mul_f64(1.2 * self.scenario.gossip.phi + self.rng.unit());
                let event = Event::Suspect {
                    observer,
                    inc,
                    member,
                    generation: held.generation,
                };
                self.queue.push(self.now + wait, event);
            }
            return;
        }
        let news = generation > held.generation || version > held.version || !held.alive;
        if news && generation > 0 {
            let rounds =
                (self.nodes.len() as f64).ln() / f64::from(self.scenario.gossip.fanout + 1).ln();
            let latency = self
                .net
                .rtt(Endpoint::Node(observer), Endpoint::Node(member))
                / 2;
            let mut delay = interval.mul_f64(SPREAD * self.rng.unit() * rounds) + latency;
            if !held.alive {
                delay += interval * 2;
            }
            // Heard at the observer's next gossip round, as chitchat does.
            let phase = (observer as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                % interval.as_millis().max(1) as u64;
            let period = interval.as_millis().max(1) as u64;
            let at = (self.now + delay).as_millis();
            let round = (at.saturating_sub(phase)).div_ceil(period) * period + phase;
            let event = Event::Hear {
                observer,
                inc,
                member,
                generation,
                version,
            };
            self.queue.push(
                understudy_proto::time::Timestamp::from_millis(round.max(at)),
                event,
            );
        }
    }

    pub(super) fn coarse_hear(
        &mut self,
        observer: usize,
        member: usize,
        generation: u64,
        version: u64,
    ) {
        let Some(coarse) = self.coarse.as_mut() else {
            return;
        };
        let held = coarse.heard[observer].entry(member).or_default();
        if generation < held.generation {
            return;
        }
        let mut learned = Vec::new();
        if generation > held.generation {
            *held = Heard {
                generation,
                version: 0,
                alive: true,
            };
            learned.push((member, Learned::Member { generation }));
        } else if !held.alive {
            held.alive = true;
            learned.push((member, Learned::Alive(true)));
        }
        if version > held.version {
            let history = &coarse.history[member][generation as usize - 1];
            let end = (version as usize).min(history.len());
            let start = (held.version as usize).min(end);
            learned.push((
                member,
                Learned::Adverts(generation, history[start..end].to_vec()),
            ));
            held.version = version;
        }
        self.learn(observer, learned);
    }

    pub(super) fn coarse_suspect(&mut self, observer: usize, member: usize, generation: u64) {
        let reachable = self.nodes[member].is_up()
            && self
                .net
                .connected(Endpoint::Node(observer), Endpoint::Node(member));
        let Some(coarse) = self.coarse.as_mut() else {
            return;
        };
        let Some(held) = coarse.heard[observer].get_mut(&member) else {
            return;
        };
        if reachable || !held.alive || held.generation != generation {
            return;
        }
        held.alive = false;
        self.learn(observer, vec![(member, Learned::Alive(false))]);
    }

    /// After a change of the network or of a node's life: every pair that
    /// involves `only` (or every pair).
    pub(super) fn coarse_recheck(&mut self, only: Option<usize>) {
        let Some(coarse) = self.coarse.as_ref() else {
            return;
        };
        let pairs: Vec<(usize, usize)> = match only {
            Some(node) => coarse.watchers[node].iter().map(|o| (*o, node)).collect(),
            None => (0..coarse.views.len())
                .flat_map(|o| coarse.views[o].iter().map(move |m| (o, *m)))
                .collect(),
        };
        for (observer, member) in pairs {
            if self.nodes[observer].is_up() {
                self.coarse_pair(observer, member);
            }
        }
    }

    /// Whether `observer` holds `member` alive.
    pub(super) fn coarse_alive(&self, observer: usize, member: usize) -> bool {
        self.coarse
            .as_ref()
            .and_then(|c| c.heard[observer].get(&member))
            .is_some_and(|h| h.alive)
    }
}
