//! The scenario language shared by the simulator and the live drills.
//!
//! A scenario is a TOML file: the fleet (regions and their nodes), the zones
//! the primary serves with their SOA timers and expiry policy, the network
//! between regions, a timeline of changes and faults, and what the run must
//! show (`[expect]`). The simulator runs it over a virtual clock; a live
//! drill maps the same timeline onto real processes (kill -9, SIGSTOP,
//! restarts, namespaces), scaling times down where it must.
//!
//! Durations are written `"250ms"`, `"90s"`, `"10m"`, `"2h"`, `"1d"` (or a
//! bare integer of seconds). Nodes are named by selectors: `"fra"` (every
//! node of region `fra`), `"fra/1"` (node 1 of `fra`, counted from 0),
//! `"all"`, and in partitions `"primary"` for the primary itself.
//!
//! ```toml
//! name = "region-partition-during-change"
//! description = "sin is cut off from everyone while the primary changes the zones"
//! duration = "3h"                 # simulated time the run covers
//!
//! [[regions]]
//! name = "fra"
//! nodes = 3
//! location = "frankfurt"          # a named place (see `location`) ...
//! [[regions]]
//! name = "sin"
//! nodes = 2
//! coordinates = [1.35, 103.82]    # ... or latitude, longitude in degrees
//!
//! [zones]
//! count = 20
//! primary_region = "fra"          # where the primary sits on the latency map
//! refresh = "30m"                 # SOA REFRESH, RETRY, EXPIRE of every zone
//! retry = "5m"
//! expire = "1d"
//! policy = "serve-stale"          # rfc | serve-stale | never
//!
//! [network]
//! jitter = 0.1                    # up to ±10% of each one-way latency
//! loss = 0.001                    # probability a message is lost
//! latency = [["fra", "sin", 170]] # explicit round trip ms, overrides distance
//!
//! [gossip]
//! interval = "1s"                 # chitchat's gossip interval
//! fanout = 3
//! phi = 8.0                       # failure detector threshold
//! dead_grace = "1h"               # dead members forgotten after this
//!
//! [[timeline]]
//! at = "10m"
//! do = "partition"
//! groups = [["sin"], ["fra", "primary"]]
//! [[timeline]]
//! at = "20m"
//! do = "change"                   # the primary raises the serial, NOTIFY sent
//! zones = 20                      # how many zones change (default: all)
//! [[timeline]]
//! at = "1h"
//! do = "heal"                     # every partition and link fault ends
//!
//! [expect]
//! converge = "auto"               # bound after each heal/change; or e.g. "15m"
//! transfers_per_change = 2        # primary transfers per zone change, at most
//! may_stop_answering = []         # regions allowed to go dark (rfc expiry)
//! ```
//!
//! Timeline actions (`do = …`): `change`, `primary-down`, `primary-up`,
//! `partition` (`groups`: lists of selectors; traffic between different
//! groups is dropped), `heal`, `link-down` / `link-up` (`between` two
//! selectors), `flap` (`between`, `period`, `count`: the link goes down and
//! up `count` times, `period` per half cycle), `crash` / `restart`
//! (`nodes`: a crashed node loses its memory but keeps its disk: the last
//! installed snapshot and the persisted refresh state), `freeze` / `thaw`
//! (`nodes`: the process is stopped but keeps its memory), and `loss`
//! (`rate`, for the rest of the run or until the next `loss`).

pub mod duration;
mod expect;
pub mod location;
mod parse;
mod selector;
mod timeline;

use std::time::Duration;

use serde::Deserialize;

pub use expect::{Converge, Expect};
pub use parse::ScenarioError;
pub use selector::{NodeRef, Selector};
pub use timeline::{Step, StepAction};

/// One scenario, checked: every region and selector it names exists.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, printed in reports.
    pub name: String,
    /// What the scenario rehearses, in a sentence.
    #[serde(default)]
    pub description: String,
    /// How much (simulated) time the run covers.
    #[serde(with = "duration")]
    pub duration: Duration,
    /// The fleet, region by region.
    pub regions: Vec<Region>,
    /// The zones the primary serves.
    pub zones: Zones,
    /// The network between regions.
    #[serde(default)]
    pub network: Network,
    /// The gossip layer's timing.
    #[serde(default)]
    pub gossip: Gossip,
    /// Changes and faults, in any order (run sorted by time, stable).
    #[serde(default)]
    pub timeline: Vec<Step>,
    /// What the run must show.
    #[serde(default)]
    pub expect: Expect,
}

/// A region: a set of nodes at one place.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Name used by selectors (`"fra"`, `"fra/0"`).
    pub name: String,
    /// How many nodes the region has.
    pub nodes: u32,
    /// A named place from [`location::PLACES`].
    #[serde(default)]
    pub location: Option<String>,
    /// Latitude and longitude in degrees, when no `location` is given.
    #[serde(default)]
    pub coordinates: Option<[f64; 2]>,
}

/// The zones, all alike: the primary's SOA timers and the nodes' policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zones {
    /// How many zones the primary serves.
    pub count: u32,
    /// The region whose place the primary shares on the latency map.
    pub primary_region: String,
    /// SOA REFRESH.
    #[serde(with = "duration")]
    pub refresh: Duration,
    /// SOA RETRY.
    #[serde(with = "duration")]
    pub retry: Duration,
    /// SOA EXPIRE.
    #[serde(with = "duration")]
    pub expire: Duration,
    /// What nodes serve past expire.
    #[serde(default)]
    pub policy: Policy,
}

/// Expiry policy, as in the node's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// SERVFAIL after expire.
    #[default]
    Rfc,
    /// Keep answering, marked stale.
    ServeStale,
    /// Keep answering as if fresh.
    Never,
}

/// The network between regions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Fraction of each one-way latency added or removed at random.
    #[serde(default = "Network::default_jitter")]
    pub jitter: f64,
    /// Probability that any one message is lost.
    #[serde(default)]
    pub loss: f64,
    /// Round trip inside a region, in milliseconds.
    #[serde(default = "Network::default_local_rtt")]
    pub local_rtt_ms: u32,
    /// Explicit round trips `[region, region, ms]` overriding the
    /// great-circle estimate.
    #[serde(default)]
    pub latency: Vec<(String, String, u32)>,
}

impl Network {
    fn default_jitter() -> f64 {
        0.1
    }

    fn default_local_rtt() -> u32 {
        1
    }
}

impl Default for Network {
    fn default() -> Network {
        Network {
            jitter: Network::default_jitter(),
            loss: 0.0,
            local_rtt_ms: Network::default_local_rtt(),
            latency: Vec::new(),
        }
    }
}

/// The gossip layer's timing (chitchat's settings).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gossip {
    /// Interval between two gossip rounds of one node.
    #[serde(with = "duration", default = "Gossip::default_interval")]
    pub interval: Duration,
    /// Peers contacted per round.
    #[serde(default = "Gossip::default_fanout")]
    pub fanout: u32,
    /// Phi-accrual threshold above which a peer is considered dead.
    #[serde(default = "Gossip::default_phi")]
    pub phi: f64,
    /// How long a dead member is kept before it is forgotten.
    #[serde(with = "duration", default = "Gossip::default_dead_grace")]
    pub dead_grace: Duration,
}

impl Gossip {
    fn default_interval() -> Duration {
        Duration::from_secs(1)
    }

    fn default_fanout() -> u32 {
        3
    }

    fn default_phi() -> f64 {
        8.0
    }

    fn default_dead_grace() -> Duration {
        Duration::from_secs(3_600)
    }
}

impl Default for Gossip {
    fn default() -> Gossip {
        Gossip {
            interval: Gossip::default_interval(),
            fanout: Gossip::default_fanout(),
            phi: Gossip::default_phi(),
            dead_grace: Gossip::default_dead_grace(),
        }
    }
}

impl Scenario {
    /// Total number of nodes.
    pub fn node_count(&self) -> usize {
        self.regions.iter().map(|r| r.nodes as usize).sum()
    }

    /// Every node, region by region, in the order the simulator numbers them.
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef> + '_ {
        self.regions
            .iter()
            .enumerate()
            .flat_map(|(region, r)| (0..r.nodes).map(move |index| NodeRef { region, index }))
    }

    /// The index of the region called `name`.
    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.name == name)
    }

    /// The timeline, sorted by time (steps at the same time keep file order).
    pub fn sorted_timeline(&self) -> Vec<Step> {
        let mut steps = self.timeline.clone();
        steps.sort_by_key(|step| step.at);
        steps
    }
}

#[cfg(test)]
mod tests;
