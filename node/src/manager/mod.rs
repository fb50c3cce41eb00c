//! The zone manager: one task that drives every zone's refresh machine.
//!
//! It is the daemon's driver of `proto::refresh`: it feeds the scheduler
//! its inputs (timers, NOTIFYs, operator commands, results of network work)
//! with the current time, carries out the actions handed back, installs new
//! versions and keeps the disk and the query path in step.
//!
//! ```text
//!   commands ──┐      ┌── scheduler (proto) ──┐
//!   timers   ──┼──▶ handle_* ──▶ poll_action ──┼──▶ network work (SOA, XFR)
//!   results  ──┘                poll_event  ───┼──▶ log lines, metrics
//!                                              └──▶ freshness, state.json
//!   transfer done ─▶ install_version ─▶ store writer ─▶ publish ─▶ Installed
//! ```
//!
//! A new version is written to disk before it is served: a full disk keeps
//! the old version serving and the failure shows in the zone's status.

mod announce;
mod commands;
mod events;
mod peer_install;
pub mod replica;
pub mod serving;
pub mod state;
mod status;
mod work;
pub mod writer;
pub mod zone;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use understudy_proto::Name;
use understudy_proto::refresh::{
    Action, ActionId, ActionKind, Failure, PersistedState, RefreshScheduler, SchedulerConfig,
    SoaTimers, TransferKind, TransferOutcome,
};
use understudy_proto::tsig::Key;
use understudy_proto::xfr::{Journal, JournalLimits};

use crate::clock::Clock;
use crate::cluster::gossip::MemberWatch;
use crate::cluster::status::{ClusterShared, SourceKind};
use crate::config::{Config, ZoneSpec};
use crate::control::{Command as ControlCommand, Response, ZoneStatusView};
use crate::metrics::Metrics;
use crate::primary::transport::StreamLimits;
use crate::primary::xfr::TransferLimits;
use crate::zones::Zones;

use self::replica::{ReplicaDone, Replication};
use self::serving::ServingTable;
use self::work::{Fetched, TransferResult, ZoneLimits};
use self::writer::{Job, Writer, WriterThread};
use self::zone::{ManagedZone, Source, ZoneAccess, ZoneData};

/// How often every zone's freshness, state file and status view are
/// brought up to date even without an event.
const VIEW_INTERVAL: Duration = Duration::from_secs(1);
/// Connect and per-read timeout towards primaries during a transfer.
const TRANSFER_IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the rest of the node sends the manager.
pub enum Command {
    /// A NOTIFY that passed its checks and was answered.
    Notify {
        /// The zone.
        zone: Name,
        /// The serial of the SOA it carried.
        serial: Option<u32>,
        /// Index of the primary that sent it, if it was one.
        source: Option<usize>,
    },
    /// A control request.
    Control {
        /// The request.
        command: ControlCommand,
        /// Where the response goes.
        reply: oneshot::Sender<Response>,
    },
    /// The fleet's zone list changed (a merge from a peer): apply it.
    Fleet,
}

/// State the manager shares with the query, NOTIFY and transfer-out paths.
#[derive(Default)]
pub struct Shared {
    /// The zones served, for the query path.
    pub zones: Arc<Zones>,
    /// Per-zone access rules, for NOTIFY and transfer-out.
    pub access: ArcSwap<HashMap<Name, Arc<ZoneAccess>>>,
    /// The latest status of every zone, for metrics and health.
    views: std::sync::Mutex<std::collections::BTreeMap<Name, ZoneStatusView>>,
    /// The cluster as this node sees it, and the cluster paths' counters.
    pub cluster: Arc<ClusterShared>,
    /// What is served, for peers asking over QUIC.
    pub serving: Arc<ServingTable>,
}

impl Shared {
    /// The status of every zone as of the last change (at most a second old).
    pub fn views(&self) -> Vec<ZoneStatusView> {
        self.lock_views().values().cloned().collect()
    }

    pub(crate) fn set_view(&self, zone: &Name, view: Option<ZoneStatusView>) {
        match view {
            Some(view) => self.lock_views().insert(zone.clone(), view),
            None => self.lock_views().remove(zone),
        };
    }

    fn lock_views(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<Name, ZoneStatusView>> {
        self.views
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The result of one piece of network or disk work.
struct Done {
    zone: Name,
    id: ActionId,
    outcome: Outcome,
}

enum Outcome {
    Soa(Result<SoaTimers, Failure>),
    Transfer {
        result: TransferResult,
        forced: bool,
        primary: usize,
    },
    Stored {
        fetched: Box<Fetched>,
        journal: Arc<Journal>,
        result: Result<(), String>,
        primary: usize,
    },
}

/// The zone manager.
pub struct Manager {
    clock: Clock,
    config: Arc<Config>,
    scheduler: RefreshScheduler,
    zones: HashMap<Name, ManagedZone>,
    written: HashMap<Name, PersistedState>,
    shared: Arc<Shared>,
    writer: Writer,
    keys: Vec<Arc<Key>>,
    dirty: std::collections::HashSet<Name>,
    network: JoinSet<Done>,

    storing: JoinSet<Done>,
    /// Zones with a new version on its way to disk.
    writing: std::collections::HashSet<Name>,
    metrics: Option<Arc<Metrics>>,
    seed: u64,
    fleet: commands::FleetState,
    cluster: Option<Replication>,
    member_watch: Option<MemberWatch>,
    replica_work: JoinSet<ReplicaDone>,
}

impl Manager {
    /// A manager for the zones of `config`; `restore` loads what `store` has.
    pub fn new(
        config: Arc<Config>,
        clock: Clock,
        shared: Arc<Shared>,
        writer: Writer,
        keys: Vec<Arc<Key>>,
        metrics: Option<Arc<Metrics>>,
    ) -> Manager {
        let scheduler = RefreshScheduler::new(scheduler_config());
        Manager {
            clock,
            config,
            scheduler,
            zones: HashMap::new(),
            written: HashMap::new(),
            shared,
            writer,
            keys,
            dirty: std::collections::HashSet::new(),
            network: JoinSet::new(),

            storing: JoinSet::new(),
            writing: std::collections::HashSet::new(),
            metrics,
            seed: rand::random(),
            fleet: commands::FleetState::default(),
            cluster: None,
            member_watch: None,
            replica_work: JoinSet::new(),
        }
    }

    /// Takes part in the cluster through `replication`: the manager drives
    /// its replicator and publishes this node's zones in gossip.
    pub async fn join_cluster(&mut self, replication: Replication) {
        self.member_watch = Some(replication.watch().await);
        self.cluster = Some(replication);
    }

    /// Runs until `stop` fires (or `commands` closes), then finishes
    /// pending writes.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let mut views = tokio::time::interval(VIEW_INTERVAL);
        let mut rtts = tokio::time::interval(replica::RTT_INTERVAL);
        loop {
            self.drain();
            self.announce().await;
            let wake = self
                .scheduler
                .poll_timeout()
                .map(|at| self.clock.instant(at));
            let replica_wake = self.replica_timeout();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Notify { zone, serial, source }) => self.notify(zone, serial, source),
                    Some(command) => self.handle_command(command),
                    None => break,
                },
                Some(done) = self.network.join_next(), if !self.network.is_empty() => self.finish(done),
                Some(done) = self.storing.join_next(), if !self.storing.is_empty() => self.finish(done),
                Some(done) = self.replica_work.join_next(), if !self.replica_work.is_empty() => self.finish_replica(done),
                _ = sleep_until(wake) => self.scheduler.handle_timeout(self.clock.now()),
                _ = sleep_until(replica_wake) => self.poll_replicator(),
                alive = member_changed(&mut self.member_watch) => match alive {
                    true => self.read_gossip().await,
                    false => self.member_watch = None,
                },
                _ = views.tick() => {
                    self.sync_all();
                    self.publish_cluster();
                }
                _ = rtts.tick(), if self.cluster.is_some() => self.probe_rtts(),
                _ = &mut stop => break,
            }
        }
        self.shut_down().await;
    }

    /// Drains the scheduler's actions and events, then brings freshness,
    /// state files and views up to date.
    fn drain(&mut self) {
        let now = self.clock.now();
        while let Some(dispatch) = self.scheduler.poll_action(now) {
            self.dirty.insert(dispatch.zone.clone());
            self.start(dispatch.zone, dispatch.action);
        }
        while let Some((zone, event)) = self.scheduler.poll_event() {
            events::log(&zone, &event, self.zones.get(&zone), &self.config.node);
            if let Some(metrics) = &self.metrics {
                events::count(metrics, &event);
            }
            self.dirty.insert(zone);
        }
        let dirty = std::mem::take(&mut self.dirty);
        for zone in &dirty {
            self.sync_zone(zone, now);
        }
        if !dirty.is_empty() {
            self.poll_replicator();
        }
    }

    /// Brings every zone's freshness and state file up to date, once a
    /// second, for changes that came with no event (time passing).
    fn sync_all(&mut self) {
        let now = self.clock.now();
        let names: Vec<Name> = self.zones.keys().cloned().collect();
        for zone in &names {
            self.sync_zone(zone, now);
        }
    }

    /// Publishes `zone`'s freshness and writes its state file if it changed.
    fn sync_zone(&mut self, zone: &Name, now: understudy_proto::Timestamp) {
        self.shared.set_view(zone, status::view(self, zone, now));
        self.replica_local(zone, now);
        let Some(machine) = self.scheduler.zone(zone) else {
            self.shared.serving.set(zone, None, None);
            return;
        };
        let data = self
            .zones
            .get(zone)
            .and_then(|managed| managed.data.clone());
        let serving = machine.serving().zip(data);
        self.shared
            .serving
            .set(zone, serving, machine.verified_age(now));
        self.shared
            .zones
            .set_freshness(zone, machine.freshness(now));
        let (second, unix_second) = self.clock.whole_second();
        let persisted = machine.persisted(second, unix_second);
        if self.written.get(zone) != Some(&persisted) {
            let state = Box::new(state::StateFile::from_persisted(&persisted));
            self.writer.submit(Job::State {
                zone: zone.clone(),
                state,
            });
            self.written.insert(zone.clone(), persisted);
        }
    }

    /// Starts the network work of `action` for `zone`.
    fn start(&mut self, zone: Name, action: Action) {
        let Some(managed) = self.zones.get(&zone) else {
            return;
        };
        let Some(primary) = managed.primaries.get(action.kind.primary()).cloned() else {
            let id = action.id;
            let failure = Failure::Network("no such primary".into());
            self.network.spawn(async move {
                Done {
                    zone,
                    id,
                    outcome: Outcome::Soa(Err(failure)),
                }
            });
            return;
        };
        let deadline = self.clock.instant(action.deadline);
        let id = action.id;
        let index = action.kind.primary();
        match action.kind {
            ActionKind::QuerySoa { .. } => {
                let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
                self.network.spawn(async move {
                    let result = crate::primary::soa::query_soa(&primary, &zone, timeout).await;
                    Done {
                        zone,
                        id,
                        outcome: Outcome::Soa(result),
                    }
                });
            }
            ActionKind::Transfer { kind, forced, .. } => {
                let current = managed.data.as_ref().map(|data| data.snapshot.clone());
                let ixfr = matches!(kind, TransferKind::Ixfr { .. });
                let (limits, zone_limits) = transfer_limits(managed, deadline, ixfr);
                self.network.spawn(async move {
                    let result =
                        work::transfer(primary, zone.clone(), current, kind, limits, zone_limits)
                            .await;
                    Done {
                        zone,
                        id,
                        outcome: Outcome::Transfer {
                            result,
                            forced,
                            primary: index,
                        },
                    }
                });
            }
        }
    }

    /// Feeds the result of finished work back into the scheduler.
    fn finish(&mut self, done: Result<Done, tokio::task::JoinError>) {
        let Ok(Done { zone, id, outcome }) = done else {
            return;
        };
        self.dirty.insert(zone.clone());

        let now = self.clock.now();
        let report = match outcome {
            Outcome::Soa(result) => self.scheduler.handle_soa_response(now, &zone, id, result),
            Outcome::Transfer {
                result,
                forced,
                primary,
            } => match result {
                TransferResult::New(fetched) => {
                    return self.install(zone, id, fetched, forced, primary);
                }
                TransferResult::UpToDate(soa) => self.scheduler.handle_transfer_response(
                    now,
                    &zone,
                    id,
                    TransferOutcome::UpToDate { soa },
                ),
                TransferResult::Fallback(reason) => self.scheduler.handle_transfer_response(
                    now,
                    &zone,
                    id,
                    TransferOutcome::FallbackToAxfr(Failure::Malformed(reason)),
                ),
                TransferResult::Failed(failure) => {
                    self.count_primary_transfer(false);
                    self.scheduler.handle_transfer_response(
                        now,
                        &zone,
                        id,
                        TransferOutcome::Failed(failure),
                    )
                }
            },
            Outcome::Stored {
                fetched,
                journal,
                result,
                primary,
            } => {
                self.writing.remove(&zone);
                self.installed(&zone, fetched.as_ref(), journal, result.clone(), primary);
                let outcome = match result {
                    Ok(()) => TransferOutcome::Installed {
                        soa: fetched.soa,
                        kind: fetched.kind,
                    },
                    Err(error) => TransferOutcome::Failed(Failure::Store(error)),
                };
                self.scheduler
                    .handle_transfer_response(now, &zone, id, outcome)
            }
        };
        if let Err(error) = report {
            tracing::debug!(zone = %zone, %error, "late report ignored");
        }
    }

    /// A transfer brought a new version: decide, then write it to disk.
    fn install(
        &mut self,
        zone: Name,
        id: ActionId,
        fetched: Box<Fetched>,
        forced: bool,
        primary: usize,
    ) {
        let now = self.clock.now();
        let Some(managed) = self.zones.get(&zone) else {
            return;
        };
        if self
            .scheduler
            .install_version(&zone, id, fetched.soa.serial)
            .is_none()
        {
            let failure = Failure::Malformed(format!(
                "serial {} is not newer than ours",
                fetched.soa.serial
            ));
            let _ = self.scheduler.handle_transfer_response(
                now,
                &zone,
                id,
                TransferOutcome::Failed(failure),
            );
            return;
        }
        let journal = next_journal(managed, &fetched, forced);
        let (done, stored) = oneshot::channel();
        let job = Job::Version {
            zone: zone.clone(),
            snapshot: fetched.snapshot.clone(),
            journal: journal.to_bytes(),
            done,
        };
        if !self.writer.submit(job) {
            let failure = Failure::Store("the store writer has stopped".into());
            let _ = self.scheduler.handle_transfer_response(
                now,
                &zone,
                id,
                TransferOutcome::Failed(failure),
            );
            return;
        }
        let journal = Arc::new(journal);
        self.writing.insert(zone.clone());
        self.storing.spawn(async move {
            let result = stored
                .await
                .unwrap_or_else(|_| Err("the store writer has stopped".into()));
            Done {
                zone,
                id,
                outcome: Outcome::Stored {
                    fetched,
                    journal,
                    result,
                    primary,
                },
            }
        });
    }

    /// The new version reached the disk (or not): serve it.
    fn installed(
        &mut self,
        zone: &Name,
        fetched: &Fetched,
        journal: Arc<Journal>,
        result: Result<(), String>,
        primary: usize,
    ) {
        self.count_primary_transfer(result.is_ok());
        let Some(managed) = self.zones.get_mut(zone) else {
            return;
        };
        match result {
            Ok(()) => {
                let data = ZoneData {
                    snapshot: fetched.snapshot.clone(),
                    journal,
                };
                self.shared.zones.publish(zone, Some(data.clone()));
                managed.data = Some(data);
                managed.source = managed
                    .config
                    .primaries
                    .get(primary)
                    .copied()
                    .map(Source::Primary);
                self.catalog_installed(zone);
            }
            Err(error) => {
                tracing::error!(zone = %zone, %error, "new version not stored; the old one keeps serving")
            }
        }
    }

    fn count_primary_transfer(&self, ok: bool) {
        self.shared
            .cluster
            .counters
            .transfer(SourceKind::Primary, ok);
    }

    /// Stops network work, lets queued writes finish, writes final states.
    async fn shut_down(mut self) {
        self.network.abort_all();
        self.replica_work.abort_all();
        while let Some(done) = self.storing.join_next().await {
            self.finish(done);
        }
        self.sync_all();

        drop(self.writer);
    }

    /// Publishes the access rules of every zone.
    fn publish_access(&self) {
        let access = self
            .zones
            .iter()
            .map(|(name, zone)| (name.clone(), Arc::new(zone.access())))
            .collect();
        self.shared.access.store(Arc::new(access));
    }

    /// Zones added at run time, for `zones.json`.
    fn runtime_specs(&self) -> Vec<ZoneSpec> {
        let mut specs: Vec<ZoneSpec> = self
            .zones
            .values()
            .filter(|zone| zone.origin == zone::ZoneOrigin::Runtime)
            .map(|zone| zone.config.spec.clone())
            .collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        specs
    }
}

/// The journal after installing `fetched`: extended by its diffs, or
/// started afresh when there are none (first load, forced retransfer).
fn next_journal(managed: &ManagedZone, fetched: &Fetched, forced: bool) -> Journal {
    let limits = journal_limits(managed);
    let mut journal = match &managed.data {
        Some(data) if !forced => (*data.journal).clone(),
        _ => Journal::new(managed.config.name.clone(), limits),
    };
    // A peer's version may have been installed while the transfer ran
    // from the one before: diffs that do not continue the journal start
    // it afresh.
    let continues = match (&managed.data, fetched.diffs.first()) {
        (Some(data), Some(first)) => first.from == data.snapshot.serial(),
        _ => false,
    };
    if forced || !continues {
        journal.reset(fetched.soa.serial);
        return journal;
    }
    for diff in &fetched.diffs {
        if journal.push(diff.clone()).is_err() {
            journal.reset(fetched.soa.serial);
            break;
        }
    }
    journal
}

/// The journal bounds of a zone.
pub fn journal_limits(managed: &ManagedZone) -> JournalLimits {
    let policy = &managed.config.policy;
    JournalLimits {
        max_diffs: usize::try_from(policy.journal_max_diffs).unwrap_or(usize::MAX),
        max_bytes: usize::try_from(policy.journal_max_bytes).unwrap_or(usize::MAX),
    }
}

/// The limits of one transfer. An IXFR may carry each changed record twice
/// (removed and added), so its message limit is twice the zone's; the zone
/// that results is held to the zone's limits either way.
fn transfer_limits(
    managed: &ManagedZone,
    deadline: tokio::time::Instant,
    ixfr: bool,
) -> (TransferLimits, ZoneLimits) {
    let policy = &managed.config.policy;
    let max_records = usize::try_from(policy.max_records).unwrap_or(usize::MAX);
    let max_bytes = usize::try_from(policy.max_zone_bytes).unwrap_or(usize::MAX);
    let factor = if ixfr { 2 } else { 1 };
    let limits = TransferLimits {
        size: understudy_proto::xfr::Limits {
            max_records: max_records.saturating_mul(factor),
            max_bytes: max_bytes.saturating_mul(factor),
        },
        stream: StreamLimits {
            io_timeout: TRANSFER_IO_TIMEOUT,
            deadline: deadline.saturating_duration_since(tokio::time::Instant::now()),
            min_rate: policy.transfer_min_rate,
        },
    };
    (
        limits,
        ZoneLimits {
            max_records,
            max_bytes,
        },
    )
}

fn scheduler_config() -> SchedulerConfig {
    SchedulerConfig {
        max_soa_queries: 64,
        max_transfers: 8,
        reserved_soa_queries: 8,
        reserved_transfers: 2,
    }
}

/// Waits for gossip to change; `false` once it stopped. Never returns
/// without a cluster.
async fn member_changed(watch: &mut Option<MemberWatch>) -> bool {
    match watch {
        Some(watch) => watch.changed().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(wake: Option<tokio::time::Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Starts the manager's writer over the node's store.
pub fn start_writer(store: Arc<crate::store::Store>) -> std::io::Result<(Writer, WriterThread)> {
    Writer::start(store)
}
