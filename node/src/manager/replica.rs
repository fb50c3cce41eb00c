//! The manager as the driver of `proto::replicate`: the replicator's
//! inputs (gossip, round trips, each zone's local state, NOTIFYs) and its
//! actions (fetch from a peer, ask a peer for a confirmation) carried out
//! over QUIC.
//!
//! ```text
//!   gossip watch ─▶ read_gossip ─▶ handle_member / _liveness / _advert
//!   zone change  ─▶ sync_zone   ─▶ handle_local
//!   NOTIFY       ─▶ handle_notify ─▶ Direct: scheduler.handle_notify
//!                                    Hold:   scheduler.handle_notify_deferred
//!   poll_action ─▶ Fetch   ─▶ PeerClient::fetch  ─▶ peer_install (writer) ─▶ report
//!               └▶ Confirm ─▶ PeerClient::confirm ─▶ handle_confirmation   ─▶ report
//!   one timer at poll_timeout ─▶ poll_action again
//! ```
//!
//! The calling order is the one `proto::replicate`'s module documentation
//! gives; every action is reported back, whatever became of it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::Timestamp;
use understudy_proto::replicate::{
    ConfirmOutcome, FetchOutcome, LocalZone, NodeId, NotifyPlan, PeerFailure, ReplicaAction,
    ReplicaActionKind, ReplicateConfig, Replicator,
};
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::gossip::ZoneAdvert;

use crate::cluster::gossip::{Gossip, MemberWatch};
use crate::cluster::peer::{self, PeerClient, PeerError, PeerVersion};
use crate::cluster::status::SourceKind;
use crate::cluster::{ClusterEndpoint, Peer};

use super::Manager;
use super::announce::Announced;
use super::zone::ZoneData;

/// Gossip rounds a held NOTIFY waits for the region's fetcher.
const NOTIFY_WAIT_ROUNDS: u32 = 4;
/// How often round trips to members are measured.
pub(super) const RTT_INTERVAL: Duration = Duration::from_secs(5);
/// Age assumed when a peer does not know when a primary confirmed its
/// version: as old as can be, so it never makes a zone look fresh.
pub(super) const UNKNOWN_AGE: Duration = Duration::from_secs(u32::MAX as u64);

/// The cluster side of the manager.
pub struct Replication {
    pub(super) replicator: Replicator,
    pub(super) gossip: Arc<Gossip>,
    pub(super) client: PeerClient,
    pub(super) endpoint: ClusterEndpoint,
    pub(super) cluster_name: String,
    /// Members as last read from gossip, by id.
    pub(super) members: BTreeMap<NodeId, Known>,
    /// What this node last published per zone.
    pub(super) announced: BTreeMap<Name, Announced>,
    /// Zones synced since gossip was last brought up to date.
    pub(super) synced: std::collections::BTreeSet<Name>,
    /// Zones the replicator was told about.
    pub(super) local_zones: std::collections::BTreeSet<Name>,
    /// Whether round trips are being measured (one probe at a time).
    probing: bool,
}

/// One member as last read from gossip.
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub(super) generation: u64,
    pub(super) region: String,
    pub(super) alive: bool,
    pub(super) quic: Option<SocketAddr>,
    pub(super) dns: Option<SocketAddr>,
    pub(super) adverts: BTreeMap<Name, ZoneAdvert>,
}

/// The result of one replication action, or of a round-trip probe.
pub(super) enum ReplicaDone {
    Fetched {
        action: ReplicaAction,
        result: Result<Box<peer::Fetched>, PeerError>,
    },
    Confirmed {
        action: ReplicaAction,
        result: Result<PeerVersion, PeerError>,
    },
    Stored {
        action: ReplicaAction,
        installed: Box<super::peer_install::PeerVersionStored>,
    },
    Rtts(Vec<(NodeId, Duration)>),
}

impl Replication {
    /// The driver of node `own` in `region`, over running gossip and QUIC.
    pub fn new(
        own: &str,
        region: &str,
        cluster_name: &str,
        gossip_interval: Duration,
        gossip: Arc<Gossip>,
        endpoint: ClusterEndpoint,
    ) -> Replication {
        let client = PeerClient::new(endpoint.clone(), peer::ClientSettings::default());
        let defaults = ReplicateConfig::default();
        // A held NOTIFY waits for the fetcher's advert, which takes a gossip
        // round or two to arrive: waiting less would send every node to the
        // primary anyway.
        let config = ReplicateConfig {
            notify_wait: defaults
                .notify_wait
                .max(gossip_interval * NOTIFY_WAIT_ROUNDS),
            ..defaults
        };
        Replication {
            replicator: Replicator::new(config, NodeId::new(own), region),
            gossip,
            client,
            endpoint,
            cluster_name: cluster_name.to_owned(),
            members: BTreeMap::new(),
            announced: BTreeMap::new(),
            synced: std::collections::BTreeSet::new(),
            local_zones: std::collections::BTreeSet::new(),
            probing: false,
        }
    }

    /// The member's QUIC address as a peer to connect to.
    fn peer(&self, id: &NodeId) -> Option<Peer> {
        let known = self.members.get(id)?;
        Some(Peer {
            id: id.as_str().to_owned(),
            address: known.quic?,
        })
    }

    /// A watch on gossip membership and key-values.
    pub async fn watch(&self) -> MemberWatch {
        self.gossip.watch().await
    }
}

impl Manager {
    /// A NOTIFY that passed its checks: straight to the refresh machine, or
    /// held while the region's fetcher gets the new version.
    pub(super) fn notify(&mut self, zone: Name, serial: Option<u32>, source: Option<usize>) {
        let now = self.clock.now();
        self.dirty.insert(zone.clone());
        let Some(cluster) = self.cluster.as_mut() else {
            self.scheduler.handle_notify(now, &zone, serial, source);
            return;
        };
        match cluster.replicator.handle_notify(now, &zone, serial) {
            NotifyPlan::Direct(reason) => {
                tracing::debug!(zone = %zone, ?reason, "NOTIFY checked with the primary now");
                self.scheduler.handle_notify(now, &zone, serial, source);
            }
            NotifyPlan::Hold { fetcher, until } => {
                tracing::debug!(zone = %zone, fetcher = %fetcher, "NOTIFY held for the region's fetcher");
                self.scheduler
                    .handle_notify_deferred(now, &zone, serial, source, until);
            }
        }
    }

    /// Tells the replicator what the zone's refresh machine now holds.
    pub(super) fn replica_local(&mut self, zone: &Name, now: Timestamp) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        cluster.synced.insert(zone.clone());
        if let Some(machine) = self.scheduler.zone(zone) {
            cluster.local_zones.insert(zone.clone());
            cluster
                .replicator
                .handle_local(now, zone, LocalZone::of(machine, now));
        }
    }

    /// Hands out every action the replicator has ready.
    pub(super) fn poll_replicator(&mut self) {
        let now = self.clock.now();
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let mut actions = Vec::new();
        while let Some(action) = cluster.replicator.poll_action(now) {
            actions.push(action);
        }
        for action in actions {
            self.start_replica(action);
        }
    }

    /// When the replicator next needs [`Manager::poll_replicator`].
    pub(super) fn replica_timeout(&self) -> Option<tokio::time::Instant> {
        let cluster = self.cluster.as_ref()?;
        let at = cluster.replicator.poll_timeout(self.clock.now())?;
        Some(self.clock.instant(at))
    }

    fn start_replica(&mut self, action: ReplicaAction) {
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        let Some(peer) = cluster.peer(&action.peer) else {
            // Gossip has not told its QUIC address (yet): as unreachable.
            self.replica_failed(action, PeerFailure::Network);
            return;
        };
        let client = cluster.client.clone();
        let timeout = self
            .clock
            .instant(action.deadline)
            .saturating_duration_since(tokio::time::Instant::now());
        match action.kind {
            ReplicaActionKind::Fetch { want, have } => {
                let have = have.and_then(|have| self.have(&action.zone, have));
                self.replica_work.spawn(async move {
                    let fetch = client.fetch(&peer, &action.zone, want, have);
                    let result = match tokio::time::timeout(timeout, fetch).await {
                        Ok(result) => result.map(Box::new),
                        Err(_) => Err(PeerError::TimedOut(timeout)),
                    };
                    ReplicaDone::Fetched { action, result }
                });
            }
            ReplicaActionKind::Confirm { .. } => {
                self.replica_work.spawn(async move {
                    let confirm = client.confirm(&peer, &action.zone);
                    let result = match tokio::time::timeout(timeout, confirm).await {
                        Ok(result) => result,
                        Err(_) => Err(PeerError::TimedOut(timeout)),
                    };
                    ReplicaDone::Confirmed { action, result }
                });
            }
        }
    }

    /// The data served at `version`, to ask a peer for diffs from it.
    fn have(&self, zone: &Name, version: ZoneVersion) -> Option<(ZoneVersion, Arc<ZoneData>)> {
        let data = self.zones.get(zone)?.data.as_ref()?;
        (data.snapshot.serial() == version.serial.0).then(|| (version, Arc::new(data.clone())))
    }

    /// Feeds a finished action back.
    pub(super) fn finish_replica(&mut self, done: Result<ReplicaDone, tokio::task::JoinError>) {
        let Ok(done) = done else {
            return;
        };
        match done {
            ReplicaDone::Fetched { action, result } => match result {
                Ok(fetched) => self.peer_install(action, fetched),
                Err(error) => {
                    tracing::info!(zone = %action.zone, node = %action.peer, %error, op = "peer", "fetch from peer failed");
                    self.count_peer_transfer(false);
                    self.replica_failed(action, error.failure());
                }
            },
            ReplicaDone::Confirmed { action, result } => self.confirmed(action, result),
            ReplicaDone::Stored { action, installed } => self.peer_stored(action, *installed),
            ReplicaDone::Rtts(rtts) => {
                if let Some(cluster) = self.cluster.as_mut() {
                    cluster.probing = false;
                    for (id, rtt) in rtts {
                        cluster.replicator.handle_rtt(&id, rtt);
                    }
                }
            }
        }
    }

    fn confirmed(&mut self, action: ReplicaAction, result: Result<PeerVersion, PeerError>) {
        let now = self.clock.now();
        let ours = self
            .scheduler
            .zone(&action.zone)
            .and_then(|machine| machine.serving());
        let digest = self
            .zones
            .get(&action.zone)
            .and_then(|zone| zone.data.as_ref())
            .map(|data| data.snapshot.digest());
        let outcome = match result {
            Err(error) => {
                tracing::debug!(zone = %action.zone, node = %action.peer, %error, "confirmation failed");
                ConfirmOutcome::Failed(error.failure())
            }
            Ok(stated) if Some(stated.version) == ours && Some(stated.digest) != digest => {
                tracing::warn!(zone = %action.zone, node = %action.peer, "peer confirmed our serial with another digest");
                ConfirmOutcome::Failed(PeerFailure::Corrupt)
            }
            Ok(stated) => {
                let age = stated.confirmed_age.unwrap_or(UNKNOWN_AGE);
                if Some(stated.version) == ours {
                    self.scheduler
                        .handle_confirmation(now, &action.zone, stated.version, age);
                    self.dirty.insert(action.zone.clone());
                }
                ConfirmOutcome::Confirmed {
                    version: stated.version,
                    age,
                }
            }
        };
        let counters = &self.shared.cluster.counters;
        match outcome {
            ConfirmOutcome::Confirmed { .. } => &counters.confirms_ok,
            ConfirmOutcome::Failed(_) => &counters.confirms_failed,
        }
        .fetch_add(1, Ordering::Relaxed);
        if let Some(cluster) = self.cluster.as_mut()
            && let Err(error) = cluster
                .replicator
                .handle_confirm_result(now, action.id, outcome)
        {
            tracing::debug!(zone = %action.zone, %error, "late confirmation ignored");
        }
    }

    /// Reports a fetch that failed.
    pub(super) fn replica_failed(&mut self, action: ReplicaAction, failure: PeerFailure) {
        let now = self.clock.now();
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let report = match action.kind {
            ReplicaActionKind::Fetch { .. } => cluster.replicator.handle_fetch_result(
                now,
                action.id,
                FetchOutcome::Failed(failure),
            ),
            ReplicaActionKind::Confirm { .. } => cluster.replicator.handle_confirm_result(
                now,
                action.id,
                ConfirmOutcome::Failed(failure),
            ),
        };
        if let Err(error) = report {
            tracing::debug!(zone = %action.zone, %error, "late replication report ignored");
        }
    }

    /// Reports how a fetch ended.
    pub(super) fn report_fetch(&mut self, action: &ReplicaAction, outcome: FetchOutcome) {
        let now = self.clock.now();
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        if let Err(error) = cluster
            .replicator
            .handle_fetch_result(now, action.id, outcome)
        {
            tracing::debug!(zone = %action.zone, %error, "late fetch report ignored");
        }
    }

    pub(super) fn count_peer_transfer(&self, ok: bool) {
        self.shared.cluster.counters.transfer(SourceKind::Peer, ok);
    }

    /// Measures the round trip to every member with a QUIC address, off
    /// the manager's loop.
    pub(super) fn probe_rtts(&mut self) {
        let Some(cluster) = self.cluster.as_mut().filter(|cluster| !cluster.probing) else {
            return;
        };
        let peers: Vec<(NodeId, Peer)> = cluster
            .members
            .iter()
            .filter(|(_, known)| known.alive)
            .filter_map(|(id, _)| Some((id.clone(), cluster.peer(id)?)))
            .collect();
        if peers.is_empty() {
            return;
        }
        cluster.probing = true;
        let endpoint = cluster.endpoint.clone();
        self.replica_work.spawn(async move {
            let mut rtts = Vec::new();
            for (id, peer) in peers {
                let connect = endpoint.connect(&peer);
                if let Ok(Ok(connection)) = tokio::time::timeout(RTT_INTERVAL, connect).await {
                    rtts.push((id, connection.rtt()));
                }
            }
            ReplicaDone::Rtts(rtts)
        });
    }
}
