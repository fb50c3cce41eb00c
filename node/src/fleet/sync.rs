//! The sync task: every second or two, pull the fleet list of one live
//! peer chosen at random, merge it, and have the manager apply what changed.
//!
//! ```text
//!   ClusterShared::status() ─▶ random live peer ─▶ QUIC ZoneList request
//!        ─▶ FleetList::merge_bytes (on disk first) ─▶ Command::Fleet ─▶ manager
//! ```
//!
//! Pull-only anti-entropy: every change reaches every node in O(log n)
//! rounds in expectation, and a node that was down catches up with its
//! first successful pull. Lists only travel over mutually authenticated
//! QUIC; gossip never carries them, so a forged datagram cannot add a zone.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::sync::{mpsc, watch};

use crate::cluster::status::{ClusterShared, ClusterStatus};
use crate::cluster::{ClientSettings, ClusterEndpoint, Peer, PeerClient};
use crate::manager::Command;
use crate::manager::serving::ServingTable;

use super::list::{FleetList, MergeError};

/// Where peers' lists come from: wire's `PeerClient` in the daemon.
pub trait ListSource: Send + Sync + 'static {
    /// The encoded fleet list of `peer`.
    fn zone_list(&self, peer: &Peer) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

impl ListSource for PeerClient {
    async fn zone_list(&self, peer: &Peer) -> Result<Vec<u8>, String> {
        PeerClient::zone_list(self, peer)
            .await
            .map_err(|error| error.to_string())
    }
}

/// How often and how patiently the task pulls.
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    /// Shortest pause between two pulls.
    pub interval_min: Duration,
    /// Longest pause; each pause is drawn between the two so that nodes
    /// do not pull in lockstep.
    pub interval_max: Duration,
    /// Longest a pull may take.
    pub timeout: Duration,
}

impl Default for SyncSettings {
    fn default() -> SyncSettings {
        SyncSettings {
            interval_min: Duration::from_secs(1),
            interval_max: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why one pull did not merge anything.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No live peer with a QUIC address is known.
    #[error("no live peer to pull the fleet list from")]
    NoPeer,
    /// The request failed or timed out.
    #[error("fleet list from {peer}: {reason}")]
    Request {
        /// The peer's id.
        peer: String,
        /// What went wrong.
        reason: String,
    },
    /// The list was refused or could not be stored.
    #[error("fleet list from {peer}: {source}")]
    Merge {
        /// The peer's id.
        peer: String,
        /// Why.
        source: MergeError,
    },
}

/// The task's state.
pub struct FleetSync<S> {
    list: Arc<FleetList>,
    source: S,
    cluster: Arc<ClusterShared>,
    manager: mpsc::Sender<Command>,
    settings: SyncSettings,
}

impl<S: ListSource> FleetSync<S> {
    /// A task pulling through `source` from the members in `cluster`.
    pub fn new(
        list: Arc<FleetList>,
        source: S,
        cluster: Arc<ClusterShared>,
        manager: mpsc::Sender<Command>,
        settings: SyncSettings,
    ) -> FleetSync<S> {
        FleetSync {
            list,
            source,
            cluster,
            manager,
            settings,
        }
    }

    /// Pulls until `stop` turns true or the manager is gone.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let pause = self.pause();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            match self.pull_once().await {
                Ok(0) => {}
                Ok(changed) => {
                    tracing::info!(op = "fleet-sync", changed, "fleet zone list changed");
                    if self.manager.send(Command::Fleet).await.is_err() {
                        return;
                    }
                }
                Err(PullError::NoPeer) => {}
                Err(error @ PullError::Request { .. }) => {
                    tracing::debug!(%error, "fleet list pull failed")
                }
                Err(error @ PullError::Merge { .. }) => {
                    tracing::error!(%error, "fleet list not merged; ours is unchanged")
                }
            }
        }
    }

    /// One pull from one random live peer; returns how many zones changed.
    pub async fn pull_once(&self) -> Result<usize, PullError> {
        let peers = live_peers(&self.cluster.status());
        if peers.is_empty() {
            return Err(PullError::NoPeer);
        }
        let peer = &peers[rand::rng().random_range(0..peers.len())];
        let request = self.source.zone_list(peer);
        let bytes = match tokio::time::timeout(self.settings.timeout, request).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(reason)) => return Err(request_error(peer, reason)),
            Err(_) => return Err(request_error(peer, "timed out".into())),
        };
        let list = self.list.clone();
        let merged = tokio::task::spawn_blocking(move || list.merge_bytes(&bytes))
            .await
            .map_err(|error| request_error(peer, error.to_string()))?;
        merged
            .map(|changes| changes.len())
            .map_err(|source| PullError::Merge {
                peer: peer.id.clone(),
                source,
            })
    }

    fn pause(&self) -> Duration {
        let SyncSettings {
            interval_min: low,
            interval_max: high,
            ..
        } = self.settings;
        if high <= low {
            return low;
        }
        rand::rng().random_range(low..=high)
    }
}

/// Joins the fleet list to the cluster: peers asking this node get
/// `list`'s bytes, and a task pulls theirs until `stopping` turns true.
pub fn start(
    list: Arc<FleetList>,
    endpoint: ClusterEndpoint,
    serving: &ServingTable,
    cluster: Arc<ClusterShared>,
    manager: mpsc::Sender<Command>,
    stopping: watch::Receiver<bool>,
) {
    let encoded = list.clone();
    serving.set_zone_list(Arc::new(move || encoded.encoded()));
    let client = PeerClient::new(endpoint, ClientSettings::default());
    let sync = FleetSync::new(list, client, cluster, manager, SyncSettings::default());
    tokio::spawn(sync.run(stopping));
}

/// Live members other than this node that have a QUIC address.
pub fn live_peers(status: &ClusterStatus) -> Vec<Peer> {
    status
        .members
        .iter()
        .filter(|member| member.alive && member.id != status.node)
        .filter_map(|member| {
            member.quic.map(|address| Peer {
                id: member.id.clone(),
                address,
            })
        })
        .collect()
}

fn request_error(peer: &Peer, reason: String) -> PullError {
    PullError::Request {
        peer: peer.id.clone(),
        reason,
    }
}
