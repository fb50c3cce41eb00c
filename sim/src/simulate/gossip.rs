//! A model of chitchat's gossip timing, message by message.
//!
//! Each node, every `interval`, raises its heartbeat and starts a
//! three-way exchange (SYN, SYN-ACK, ACK) with `fanout` random peers it
//! holds alive (peers from its seed list while it knows none), plus at
//! random a peer it holds dead, as chitchat's `select_nodes_for_gossip`
//! does. An exchange leaves both sides with the newer of their two views
//! of every member: generation first, then heartbeat and key version.
//! Here the SYN's arrival merges the initiator's view into the peer and,
//! when the SYN-ACK is not lost, the peer's view back into the initiator
//! at the same instant: one event per exchange instead of three, the
//! initiator learning one one-way delay (milliseconds) early in a round of
//! a second. The ACK adds nothing more: chitchat sends in it what the peer
//! lacked, which the first merge has already given it.
//!
//! Failure detection is chitchat's: per observed member, the intervals
//! between heartbeat increases (at most `MAX_INTERVAL`, the last
//! `WINDOW` of them) give a mean smoothed toward a prior of
//! `PRIOR_INTERVAL` with weight 5; phi is the time since the last increase
//! over that mean, and a member is dead when phi exceeds the threshold.
//! Liveness is re-evaluated at each of the observer's gossip rounds; a
//! member dead for `dead_grace` is forgotten.
//!
//! Zone adverts are the keys of a node's state: each change appends
//! `(version, zone, advert)` to the node's history for its current
//! generation, and an observer that moves from version `a` to `b` of a
//! member is handed the entries in `(a, b]`, newest per zone last.

use std::time::Duration;

use understudy_proto::replicate::Advert;
use understudy_proto::time::Timestamp;

use super::rng::Rng;

const MAX_INTERVAL: f64 = 10.0;
const PRIOR_INTERVAL: f64 = 5.0;
const PRIOR_WEIGHT: f64 = 5.0;
const WINDOW: f64 = 1_000.0;

/// One change of a node's state: a zone's advert set or withdrawn.
pub type KeyChange = (u32, Option<Advert>);

/// What an observer learnt about a member; the driver passes it on to the
/// observer's replicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Learned {
    /// A member (or a new generation of it) appeared.
    Member {
        /// Its generation.
        generation: u64,
    },
    /// Its adverts changed (in that generation).
    Adverts(u64, Vec<KeyChange>),
    /// The failure detector's verdict changed.
    Alive(bool),
    /// Dead past the grace period: forgotten.
    Forgotten,
}

#[derive(Debug, Clone, Copy, Default)]
struct Known {
    generation: u64,
    heartbeat: u64,
    version: u64,
    last_beat: Option<Timestamp>,
    sum: f64,
    count: f64,
    alive: bool,
    dead_since: Option<Timestamp>,
}

impl Known {
    fn mean(&self) -> Option<f64> {
        (self.count > 0.0)
            .then(|| (self.sum + PRIOR_INTERVAL * PRIOR_WEIGHT) / (self.count + PRIOR_WEIGHT))
    }

    fn beat(&mut self, now: Timestamp) {
        if let Some(last) = self.last_beat {
            let interval = now.since(last).as_secs_f64();
            if interval <= MAX_INTERVAL {
                if self.count >= WINDOW {
                    self.sum -= self.sum / self.count;
                    self.count -= 1.0;
                }
                self.sum += interval;
                self.count += 1.0;
            }
        }
        self.last_beat = Some(now);
    }

    fn phi(&self, now: Timestamp) -> Option<f64> {
        Some(now.since(self.last_beat?).as_secs_f64() / self.mean()?)
    }
}

/// The gossip layer of the whole fleet.
pub struct Gossip {
    /// Interval between two rounds of one node.
    pub interval: Duration,
    fanout: usize,
    phi: f64,
    dead_grace: Duration,
    seeds: Vec<usize>,
    /// Per node and generation (from 1), its key history.
    history: Vec<Vec<Vec<KeyChange>>>,
    /// `known[observer][member]`.
    known: Vec<Vec<Known>>,
}

impl Gossip {
    /// Gossip among `nodes` nodes, the first of each region being seeds.
    pub fn new(
        nodes: usize,
        seeds: Vec<usize>,
        interval: Duration,
        fanout: u32,
        phi: f64,
        dead_grace: Duration,
    ) -> Gossip {
        Gossip {
            interval,
            fanout: fanout as usize,
            phi,
            dead_grace,
            seeds,
            history: vec![Vec::new(); nodes],
            known: vec![vec![Known::default(); nodes]; nodes],
        }
    }

    /// Node `node` starts with `generation`: it knows only itself.
    pub fn start(&mut self, node: usize, generation: u64, now: Timestamp) {
        let history = &mut self.history[node];
        while history.len() < generation as usize {
            history.push(Vec::new());
        }
        self.known[node] = vec![Known::default(); self.known.len()];
        self.known[node][node] = Known {
            generation,
            last_beat: Some(now),
            alive: true,
            ..Known::default()
        };
    }

    /// Node `node` changes its advert for `zone`.
    pub fn publish(&mut self, node: usize, zone: u32, advert: Option<Advert>) {
        let own = &mut self.known[node][node];
        let Some(history) = self.history[node].get_mut(own.generation as usize - 1) else {
            return;
        };
        history.push((zone, advert));
        own.version = history.len() as u64;
    }

    /// One round of `node` at `now`: its heartbeat, its failure detector,
    /// and the peers it opens an exchange with.
    pub fn round(
        &mut self,
        node: usize,
        now: Timestamp,
        rng: &mut Rng,
        learned: &mut Vec<(usize, Learned)>,
    ) -> Vec<usize> {
        self.known[node][node].heartbeat += 1;
        self.detect(node, now, learned);
        let known = &self.known[node];
        let others = |alive: bool| -> Vec<usize> {
            (0..known.len())
                .filter(|&m| m != node && known[m].generation > 0 && known[m].alive == alive)
                .collect()
        };
        let (live, dead) = (others(true), others(false));
        let mut peers = sample(rng, &live, self.fanout);
        if !dead.is_empty() && rng.unit() < dead.len() as f64 / (live.len() + 1) as f64 {
            peers.push(dead[rng.below(dead.len() as u64) as usize]);
        }
        let seeds: Vec<usize> = self.seeds.iter().copied().filter(|&s| s != node).collect();
        let with_seed = peers.iter().any(|p| seeds.contains(p));
        if !seeds.is_empty() && (!with_seed || live.len() < seeds.len()) {
            let odds = seeds.len() as f64 / (live.len() + dead.len()).max(1) as f64;
            if live.is_empty() || rng.unit() < odds {
                let seed = seeds[rng.below(seeds.len() as u64) as usize];
                if !peers.contains(&seed) {
                    peers.push(seed);
                }
            }
        }
        peers
    }

    fn detect(&mut self, node: usize, now: Timestamp, learned: &mut Vec<(usize, Learned)>) {
        for member in 0..self.known.len() {
            let known = &mut self.known[node][member];
            if member == node || known.generation == 0 {
                continue;
            }
            let alive = known.phi(now).is_some_and(|phi| phi <= self.phi);
            if alive != known.alive {
                known.alive = alive;
                if alive {
                    known.dead_since = None;
                } else {
                    known.dead_since = Some(now);
                    known.sum = 0.0;
                    known.count = 0.0;
                }
                learned.push((member, Learned::Alive(alive)));
            }
            if let Some(since) = known.dead_since
                && now.since(since) >= self.dead_grace
            {
                *known = Known::default();
                learned.push((member, Learned::Forgotten));
            }
        }
    }

    /// Merges `from`'s view into `into`'s at `now` (one direction of an
    /// exchange); what `into` learnt goes to `learned`.
    pub fn merge(
        &mut self,
        from: usize,
        into: usize,
        now: Timestamp,
        learned: &mut Vec<(usize, Learned)>,
    ) {
        for member in 0..self.known.len() {
            if member == into {
                continue;
            }
            let theirs = self.known[from][member];
            let ours = self.known[into][member];
            if theirs.generation == 0 || theirs.generation < ours.generation {
                continue;
            }
            let mut updated = ours;
            if theirs.generation > ours.generation {
                updated = Known {
                    generation: theirs.generation,
                    ..Known::default()
                };
                learned.push((
                    member,
                    Learned::Member {
                        generation: theirs.generation,
                    },
                ));
            }
            if theirs.heartbeat > updated.heartbeat {
                updated.heartbeat = theirs.heartbeat;
                updated.beat(now);
            }
            if theirs.version > updated.version {
                let history = &self.history[member][theirs.generation as usize - 1];
                let fresh = &history[updated.version as usize..theirs.version as usize];
                learned.push((member, Learned::Adverts(theirs.generation, fresh.to_vec())));
                updated.version = theirs.version;
            }
            self.known[into][member] = updated;
        }
    }

    /// The version of `member`'s state `observer` holds.
    pub fn version_known(&self, observer: usize, member: usize) -> u64 {
        self.known[observer][member].version
    }

    /// Whether `observer` holds `member` alive.
    pub fn holds_alive(&self, observer: usize, member: usize) -> bool {
        self.known[observer][member].alive
    }
}

fn sample(rng: &mut Rng, from: &[usize], count: usize) -> Vec<usize> {
    let mut pool = from.to_vec();
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count && !pool.is_empty() {
        let i = rng.below(pool.len() as u64) as usize;
        picked.push(pool.swap_remove(i));
    }
    picked
}
