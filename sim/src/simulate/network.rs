//! The virtual network: round trips between regions, jitter, loss,
//! partitions and cut links.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::scenario::{Scenario, Selector, location};

use super::rng::Rng;

/// A party on the network: a node (by index) or the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// Node number `n` (in scenario order).
    Node(usize),
    /// The primary.
    Primary,
}

/// A set of endpoints: node indices, and whether the primary is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    nodes: BTreeSet<usize>,
    primary: bool,
}

impl Group {
    /// The endpoints the selectors name (selectors are checked on load).
    pub fn of(scenario: &Scenario, selectors: &[&Selector]) -> Group {
        let index: Vec<(usize, u32)> = scenario.nodes().map(|n| (n.region, n.index)).collect();
        let mut nodes = BTreeSet::new();
        for selector in selectors {
            for node in selector.resolve(scenario).unwrap_or_default() {
                if let Some(i) = index.iter().position(|&n| n == (node.region, node.index)) {
                    nodes.insert(i);
                }
            }
        }
        Group {
            nodes,
            primary: selectors.iter().any(|s| s.is_primary()),
        }
    }

    fn contains(&self, endpoint: Endpoint) -> bool {
        match endpoint {
            Endpoint::Node(n) => self.nodes.contains(&n),
            Endpoint::Primary => self.primary,
        }
    }

    /// The nodes in the group.
    pub fn nodes(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().copied()
    }
}

/// The network's state.
#[derive(Debug, Clone)]
pub struct Network {
    /// One-way latency in ms between regions (half the round trip).
    one_way_ms: Vec<Vec<f64>>,
    region_of: Vec<usize>,
    primary_region: usize,
    jitter: f64,
    loss: f64,
    partition: Vec<Group>,
    cut: Vec<(Group, Group)>,
}

impl Network {
    /// The network of a scenario, all links up.
    pub fn new(scenario: &Scenario) -> Network {
        let regions = scenario.regions.len();
        let mut rtt = vec![vec![0.0; regions]; regions];
        for (a, row) in rtt.iter_mut().enumerate() {
            for (b, cell) in row.iter_mut().enumerate() {
                *cell = match a == b {
                    true => f64::from(scenario.network.local_rtt_ms),
                    false => location::rtt_ms(scenario.coordinates(a), scenario.coordinates(b)),
                };
            }
        }
        for (a, b, ms) in &scenario.network.latency {
            if let (Some(a), Some(b)) = (scenario.region_index(a), scenario.region_index(b)) {
                rtt[a][b] = f64::from(*ms);
                rtt[b][a] = f64::from(*ms);
            }
        }
        Network {
            one_way_ms: rtt
                .into_iter()
                .map(|row| row.into_iter().map(|ms| ms / 2.0).collect())
                .collect(),
            region_of: scenario.nodes().map(|n| n.region).collect(),
            primary_region: scenario
                .region_index(&scenario.zones.primary_region)
                .unwrap_or(0),
            jitter: scenario.network.jitter,
            loss: scenario.network.loss,
            partition: Vec::new(),
            cut: Vec::new(),
        }
    }

    fn region(&self, endpoint: Endpoint) -> usize {
        match endpoint {
            Endpoint::Node(n) => self.region_of[n],
            Endpoint::Primary => self.primary_region,
        }
    }

    /// The round trip between two endpoints without jitter.
    pub fn rtt(&self, a: Endpoint, b: Endpoint) -> Duration {
        let ms = 2.0 * self.one_way_ms[self.region(a)][self.region(b)];
        Duration::from_micros((ms * 1_000.0) as u64)
    }

    /// The largest round trip between any two regions.
    pub fn max_rtt(&self) -> Duration {
        let ms = self
            .one_way_ms
            .iter()
            .flatten()
            .fold(0.0_f64, |max, ms| max.max(2.0 * ms));
        Duration::from_micros((ms * 1_000.0) as u64)
    }

    /// One message's delay from `a` to `b`, or `None` when it is lost or
    /// the path is cut.
    pub fn send(&self, rng: &mut Rng, a: Endpoint, b: Endpoint) -> Option<Duration> {
        if !self.connected(a, b) || rng.chance(self.loss) {
            return None;
        }
        let base = self.one_way_ms[self.region(a)][self.region(b)];
        let spread = (rng.unit() * 2.0 - 1.0) * self.jitter;
        let ms = (base * (1.0 + spread)).max(0.05);
        Some(Duration::from_micros((ms * 1_000.0) as u64))
    }

    /// Whether `a` and `b` can talk (no partition or cut between them).
    pub fn connected(&self, a: Endpoint, b: Endpoint) -> bool {
        if a == b {
            return true;
        }
        let group = |e: Endpoint| self.partition.iter().position(|g| g.contains(e));
        if let (Some(ga), Some(gb)) = (group(a), group(b))
            && ga != gb
        {
            return false;
        }
        !self
            .cut
            .iter()
            .any(|(x, y)| (x.contains(a) && y.contains(b)) || (x.contains(b) && y.contains(a)))
    }

    /// Splits the network into groups.
    pub fn partition(&mut self, groups: Vec<Group>) {
        self.partition = groups;
    }

    /// Cuts the link between two groups.
    pub fn cut(&mut self, a: Group, b: Group) {
        self.cut.push((a, b));
    }

    /// Restores the link between two groups.
    pub fn restore(&mut self, a: &Group, b: &Group) {
        self.cut
            .retain(|(x, y)| !((x == a && y == b) || (x == b && y == a)));
    }

    /// Ends every partition and cut.
    pub fn heal(&mut self) {
        self.partition.clear();
        self.cut.clear();
    }

    /// Whether any partition or cut is in force.
    pub fn is_faulty(&self) -> bool {
        !self.partition.is_empty() || !self.cut.is_empty()
    }

    /// Sets the loss probability.
    pub fn set_loss(&mut self, loss: f64) {
        self.loss = loss;
    }

    /// The loss probability.
    pub fn loss(&self) -> f64 {
        self.loss
    }
}
