//! One simulated node: its memory (the proto machines and what it serves)
//! and its disk (what survives a crash).

use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::ZoneVersion;
use understudy_proto::health::{Health, HealthConfig};
use understudy_proto::refresh::{
    ExpiryPolicy, PersistedState, RefreshConfig, RefreshScheduler, Restore, SchedulerConfig,
    SoaTimers, ZoneRefresh,
};
use understudy_proto::replicate::{Advert, NodeId, ReplicateConfig, Replicator};
use understudy_proto::time::Timestamp;

use crate::scenario::{Policy, Scenario};

/// The simulated wall clock at the virtual origin (Unix seconds); only
/// persisted state uses wall-clock time.
pub const UNIX_ORIGIN: u64 = 1_795_000_000;

/// One version of a zone as a node holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Epoch and serial.
    pub version: ZoneVersion,
    /// Its SOA.
    pub soa: SoaTimers,
    /// The content digest.
    pub digest: u64,
}

/// What a zone leaves on disk.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The last installed snapshot.
    pub snapshot: Option<Snapshot>,
    /// The refresh machine's saved state.
    pub persisted: Option<PersistedState>,
}

/// Whether a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Running.
    Up,
    /// Stopped (SIGSTOP): memory kept, nothing processed or answered.
    Frozen,
    /// Dead (kill -9): memory lost.
    Down,
}

/// What a running node holds in memory.
pub struct Memory {
    /// The refresh machines.
    pub scheduler: RefreshScheduler,
    /// The replication machine.
    pub replicator: Replicator,
    /// The anycast health machine.
    pub health: Health,
    /// What is served, per zone.
    pub serving: Vec<Option<Snapshot>>,
    /// What gossip last advertised, per zone.
    pub published: Vec<Option<Advert>>,
    /// The wake-up time asked for last.
    pub timer: Option<Timestamp>,
    /// When the replicator asked to be polled again.
    pub replica_timer: Option<Timestamp>,
    /// Whether the replicator had an input since it was last drained: its
    /// `poll_action` scans every zone, so it is drained only then.
    pub replica_input: bool,
    /// Whether a wake-up at the current instant is already queued.
    pub poke_queued: bool,
}

/// One node.
pub struct SimNode {
    /// Its id in gossip.
    pub id: NodeId,
    /// Index of its region.
    pub region: usize,
    /// Running, frozen or dead.
    pub life: Life,
    /// Raised at each crash: messages and timers of a former life are
    /// dropped.
    pub incarnation: u32,
    /// Raised at each start (gossip generation).
    pub generation: u64,
    /// Present unless dead.
    pub memory: Option<Memory>,
    /// Survives crashes.
    pub disk: Vec<Stored>,
}

/// The refresh settings every simulated zone uses.
pub fn refresh_config(scenario: &Scenario) -> RefreshConfig {
    RefreshConfig {
        expiry_policy: match scenario.zones.policy {
            Policy::Rfc => ExpiryPolicy::Rfc,
            Policy::ServeStale => ExpiryPolicy::ServeStale,
            Policy::Never => ExpiryPolicy::Never,
        },
        refresh_min: Duration::from_secs(1),
        retry_min: Duration::from_secs(1),
        expire_min: Duration::from_secs(60),
        transfer_timeout: Duration::from_secs(60),
        ..RefreshConfig::default()
    }
}

/// The replication settings every simulated node uses.
pub fn replicate_config() -> ReplicateConfig {
    ReplicateConfig {
        fetch_timeout: Duration::from_secs(60),
        ..ReplicateConfig::default()
    }
}

impl SimNode {
    /// A node that has never run: empty disk.
    pub fn new(id: NodeId, region: usize, zones: usize) -> SimNode {
        SimNode {
            id,
            region,
            life: Life::Down,
            incarnation: 0,
            generation: 0,
            memory: None,
            disk: vec![Stored::default(); zones],
        }
    }

    /// Starts the node from its disk at `now`.
    pub fn start(&mut self, scenario: &Scenario, names: &[Name], seed: u64, now: Timestamp) {
        self.generation += 1;
        self.incarnation += 1;
        self.life = Life::Up;
        let config = refresh_config(scenario);
        let mut scheduler = RefreshScheduler::new(SchedulerConfig::default());
        let unix_now = UNIX_ORIGIN + now.as_millis() / 1_000;
        for (zone, name) in names.iter().enumerate() {
            let stored = &self.disk[zone];
            let zone_seed = seed ^ (zone as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
            let machine = match (&stored.snapshot, &stored.persisted) {
                (None, None) => ZoneRefresh::new(config.clone(), zone_seed, now),
                (snapshot, persisted) => ZoneRefresh::restore(
                    config.clone(),
                    zone_seed,
                    now,
                    Restore {
                        loaded: snapshot.map(|s| s.soa),
                        persisted: persisted.clone(),
                        unix_now,
                    },
                ),
            };
            scheduler.insert(name.clone(), machine);
        }
        let region = scenario.regions[self.region].name.clone();
        let replicator = Replicator::new(replicate_config(), self.id.clone(), region);
        let serving = self
            .disk
            .iter()
            .zip(scheduler.zones())
            .map(|(stored, (_, machine))| {
                stored
                    .snapshot
                    .filter(|s| machine.serving() == Some(s.version))
            })
            .collect();
        self.memory = Some(Memory {
            scheduler,
            replicator,
            health: Health::new(HealthConfig::default(), now),
            serving,
            published: vec![None; names.len()],
            timer: None,
            replica_timer: None,
            replica_input: true,
            poke_queued: false,
        });
    }

    /// Kills the node: memory lost, disk kept.
    pub fn crash(&mut self) {
        self.life = Life::Down;
        self.incarnation += 1;
        self.memory = None;
    }

    /// Whether it answers queries and messages.
    pub fn is_up(&self) -> bool {
        self.life == Life::Up
    }
}
