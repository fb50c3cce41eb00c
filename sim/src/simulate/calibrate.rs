//! The message-level gossip model on its own, timed the way chitchat is
//! timed in the calibration test (`sim/tests/calibrate.rs`): no latency,
//! no loss, every node seeded with node 0, gossip every `interval`.

use std::time::Duration;

use understudy_proto::time::Timestamp;

use super::gossip::Gossip;
use super::rng::Rng;

/// What the calibration measures.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// From a key change at node 0 until every node holds it.
    pub spread: Duration,
    /// From the last node stopping until every other node holds it dead.
    pub detect: Duration,
}

const STEP_MS: u64 = 10;
const GIVE_UP_MS: u64 = 3_600_000;

struct Bench {
    gossip: Gossip,
    rng: Rng,
    phases: Vec<u64>,
    period: u64,
    up: Vec<bool>,
    now: u64,
}

impl Bench {
    /// Runs rounds until `done` holds or `limit` ms pass; the time taken.
    fn run(&mut self, limit: u64, done: impl Fn(&Gossip) -> bool) -> Duration {
        let start = self.now;
        while !done(&self.gossip) && self.now < start + limit {
            self.now += STEP_MS;
            for node in 0..self.up.len() {
                let due = (self.now + self.period - self.phases[node]) % self.period < STEP_MS;
                if self.up[node] && due {
                    self.round(node);
                }
            }
        }
        Duration::from_millis(self.now - start)
    }

    fn round(&mut self, node: usize) {
        let at = Timestamp::from_millis(self.now);
        let mut learned = Vec::new();
        for peer in self.gossip.round(node, at, &mut self.rng, &mut learned) {
            if self.up[peer] {
                self.gossip.merge(node, peer, at, &mut learned);
                self.gossip.merge(peer, node, at, &mut learned);
            }
        }
    }
}

/// Runs the model for `nodes` nodes: until everyone holds everyone alive,
/// a minute more, then a key change at node 0, then the last node stops.
pub fn model(nodes: usize, interval: Duration, seed: u64) -> Timing {
    let mut rng = Rng::new(seed);
    let period = (interval.as_millis() as u64).max(STEP_MS);
    let phases = (0..nodes)
        .map(|_| rng.below(period / STEP_MS) * STEP_MS)
        .collect();
    let gossip = Gossip::new(
        nodes,
        vec![0],
        interval,
        3,
        8.0,
        Duration::from_secs(86_400),
    );
    let mut bench = Bench {
        gossip,
        rng,
        phases,
        period,
        up: vec![true; nodes],
        now: 0,
    };
    for node in 0..nodes {
        bench.gossip.start(node, 1, Timestamp::ZERO);
        bench.gossip.publish(node, 0, None);
    }
    bench.run(GIVE_UP_MS, |g| {
        (0..nodes).all(|o| (0..nodes).all(|m| o == m || g.holds_alive(o, m)))
    });
    bench.run(60_000, |_| false);
    bench.gossip.publish(0, 1, None);
    let spread = bench.run(GIVE_UP_MS, |g| {
        (1..nodes).all(|o| g.version_known(o, 0) == 2)
    });
    let stopped = nodes - 1;
    bench.up[stopped] = false;
    let detect = bench.run(GIVE_UP_MS, |g| {
        (0..stopped).all(|o| !g.holds_alive(o, stopped))
    });
    Timing { spread, detect }
}
