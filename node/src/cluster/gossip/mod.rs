//! Cluster membership and key-values over chitchat, every datagram
//! authenticated with the cluster key.
//!
//! Each node publishes its own key-values (what they mean is
//! `understudy_proto::cluster`'s business) and reads everyone's, with
//! chitchat's phi-accrual failure detector telling who is alive. A node is
//! `(node id, generation, gossip address)`: a restart takes a new
//! generation and is seen as a new member, its old incarnation dying out.
//! Gossip is advisory: nothing here is trusted enough to serve data.
//!
//! Modules: [`keys`] (the key file), [`frame`] (the datagram layout),
//! [`replay`] (replay window), [`auth`] (sealing, opening, fragments,
//! counters), [`loopback`] (the chitchat transport built on them).

pub mod auth;
pub mod frame;
pub mod keys;
pub mod loopback;
pub mod replay;

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chitchat::{
    ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState, ProtocolVersion,
    spawn_chitchat,
};
use tokio::net::UdpSocket;
use tokio::sync::watch;

pub use auth::{Authenticator, GossipCounters};
pub use keys::{GossipKeys, KeysError};

use frame::MAX_NAME_LEN;
use loopback::AuthenticatedTransport;

/// How a node takes part in gossip.
#[derive(Debug, Clone, PartialEq)]
pub struct GossipSettings {
    /// The cluster's name; datagrams of other clusters are dropped.
    pub cluster: String,
    /// This node's id.
    pub node_id: String,
    /// Increases on every start (default: start time in milliseconds).
    pub generation: u64,
    /// UDP address to bind; port 0 picks one.
    pub listen: SocketAddr,
    /// Address peers reach this node at; needed when `listen` is a
    /// wildcard address. The port is always the bound one.
    pub advertise: Option<IpAddr>,
    /// Gossip addresses of some other nodes.
    pub seeds: Vec<SocketAddr>,
    /// Interval between gossip rounds.
    pub interval: Duration,
    /// Heartbeat interval assumed for a node not yet measured (the
    /// failure detector's prior).
    pub initial_heartbeat_interval: Duration,
    /// How long a dead node is remembered before it is forgotten.
    pub dead_node_grace: Duration,
}

impl GossipSettings {
    /// Defaults: a round per second, dead nodes kept for a day.
    pub fn new(cluster: &str, node_id: &str, listen: SocketAddr) -> GossipSettings {
        GossipSettings {
            cluster: cluster.to_owned(),
            node_id: node_id.to_owned(),
            generation: generation_now(),
            listen,
            advertise: None,
            seeds: Vec::new(),
            interval: Duration::from_secs(1),
            initial_heartbeat_interval: Duration::from_secs(5),
            dead_node_grace: Duration::from_secs(24 * 3600),
        }
    }
}

/// A generation number for a node starting now: milliseconds since the
/// Unix epoch, so that every restart takes a higher one.
pub fn generation_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// One incarnation of a node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId {
    /// The node id.
    pub node_id: String,
    /// Its generation: a restarted node has a higher one.
    pub generation: u64,
    /// Where it gossips.
    pub gossip_address: SocketAddr,
}

/// What gossip says about one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Which node, which incarnation.
    pub id: MemberId,
    /// Whether the failure detector holds it alive (always, for this node).
    pub alive: bool,
    /// Its key-values, deleted ones left out.
    pub key_values: BTreeMap<String, String>,
}

/// Why gossip could not start.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// The UDP socket could not be bound.
    #[error("cannot bind gossip on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The settings cannot work.
    #[error("{0}")]
    Settings(String),
    /// chitchat refused to start.
    #[error("gossip failed to start: {0}")]
    Start(String),
}

/// A running gossip node. Dropping it stops gossip.
pub struct Gossip {
    handle: ChitchatHandle,
    auth: Arc<Authenticator>,
    id: MemberId,
}

impl Gossip {
    /// Binds the socket and starts gossiping `initial` key-values.
    pub async fn start(
        settings: GossipSettings,
        keys: GossipKeys,
        initial: Vec<(String, String)>,
    ) -> Result<Gossip, GossipError> {
        check_names(&settings)?;
        let wire = UdpSocket::bind(settings.listen)
            .await
            .map_err(|source| GossipError::Bind {
                address: settings.listen,
                source,
            })?;
        let bound = wire.local_addr().map_err(|source| GossipError::Bind {
            address: settings.listen,
            source,
        })?;
        let advertise_ip = match settings.advertise {
            Some(ip) => ip,
            None if bound.ip().is_unspecified() => {
                return Err(GossipError::Settings(format!(
                    "gossip listens on {bound}: give the address peers reach this node at"
                )));
            }
            None => bound.ip(),
        };
        let advertise = SocketAddr::new(advertise_ip, bound.port());
        let chitchat_id =
            ChitchatId::new(settings.node_id.as_str(), settings.generation, advertise);
        let auth = Authenticator::new(&settings.cluster, &settings.node_id, keys);
        let transport = AuthenticatedTransport::new(wire, auth.clone());
        let config = chitchat_config(&settings, chitchat_id.clone(), bound);
        let handle = spawn_chitchat(config, initial, &transport)
            .await
            .map_err(|error| GossipError::Start(error.to_string()))?;
        Ok(Gossip {
            handle,
            auth,
            id: member_id(&chitchat_id),
        })
    }

    /// Sets one of this node's key-values.
    pub async fn set(&self, key: &str, value: &str) {
        self.handle
            .with_chitchat(|chitchat| chitchat.self_node_state().set(key, value))
            .await;
    }

    /// Sets several key-values at once (one version bump each, one lock).
    pub async fn set_many(&self, pairs: &[(String, String)]) {
        self.handle
            .with_chitchat(|chitchat| {
                let state = chitchat.self_node_state();
                for (key, value) in pairs {
                    state.set(key, value);
                }
            })
            .await;
    }

    /// Deletes one of this node's key-values (peers see it gone).
    pub async fn delete(&self, key: &str) {
        self.handle
            .with_chitchat(|chitchat| {
                let state = chitchat.self_node_state();
                if state.get(key).is_some() {
                    state.delete(key);
                }
            })
            .await;
    }

    /// Every node gossip knows of, alive or not, this one included.
    pub async fn members(&self) -> Vec<Member> {
        self.handle
            .with_chitchat(|chitchat| {
                let live: HashSet<ChitchatId> = chitchat.live_nodes().cloned().collect();
                chitchat
                    .node_states()
                    .iter()
                    .map(|(id, state)| member(id, state, live.contains(id)))
                    .collect()
            })
            .await
    }

    /// A watch that wakes when a member joins, leaves or changes a
    /// key-value (heartbeats alone do not wake it).
    pub async fn watch(&self) -> MemberWatch {
        let receiver = self
            .handle
            .with_chitchat(|chitchat| chitchat.live_nodes_watcher())
            .await;
        MemberWatch { receiver }
    }

    /// Replaces the cluster keys (rotation, `ctl reload`).
    pub fn rotate_keys(&self, keys: GossipKeys) {
        self.auth.rotate(keys);
    }

    /// What the authentication layer has counted.
    pub fn counters(&self) -> GossipCounters {
        self.auth.counters()
    }

    /// This node's identity in gossip (the advertised address included).
    pub fn id(&self) -> &MemberId {
        &self.id
    }

    /// Stops gossiping and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.handle.shutdown().await;
    }
}

/// Wakes on membership and key-value changes.
pub struct MemberWatch {
    receiver: watch::Receiver<BTreeMap<ChitchatId, NodeState>>,
}

impl MemberWatch {
    /// Waits for the next change; `false` once gossip has stopped.
    pub async fn changed(&mut self) -> bool {
        self.receiver.changed().await.is_ok()
    }

    /// The live members as of the last change.
    pub fn live(&mut self) -> Vec<Member> {
        self.receiver
            .borrow_and_update()
            .iter()
            .map(|(id, state)| member(id, state, true))
            .collect()
    }
}

fn member(id: &ChitchatId, state: &NodeState, alive: bool) -> Member {
    Member {
        id: member_id(id),
        alive,
        key_values: state
            .key_values()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    }
}

fn member_id(id: &ChitchatId) -> MemberId {
    MemberId {
        node_id: id.node_id.to_string(),
        generation: id.generation_id,
        gossip_address: id.gossip_advertise_addr,
    }
}

fn check_names(settings: &GossipSettings) -> Result<(), GossipError> {
    for (what, name) in [
        ("cluster name", &settings.cluster),
        ("node id", &settings.node_id),
    ] {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(GossipError::Settings(format!(
                "the {what} \"{name}\" must be 1 to {MAX_NAME_LEN} bytes"
            )));
        }
    }
    Ok(())
}

fn chitchat_config(settings: &GossipSettings, id: ChitchatId, bound: SocketAddr) -> ChitchatConfig {
    let failure_detector = FailureDetectorConfig {
        initial_interval: settings.initial_heartbeat_interval,
        dead_node_grace_period: settings.dead_node_grace,
        ..FailureDetectorConfig::default()
    };
    ChitchatConfig {
        chitchat_id: id,
        cluster_id: settings.cluster.clone(),
        gossip_interval: settings.interval,
        listen_addr: bound,
        seed_nodes: settings.seeds.iter().map(SocketAddr::to_string).collect(),
        failure_detector_config: failure_detector,
        marked_for_deletion_grace_period: Duration::from_secs(3600),
        catchup_callback: None,
        extra_liveness_predicate: None,
        // V0 until every release in a fleet decodes V1 (chitchat's advice).
        protocol_version: ProtocolVersion::V0,
    }
}
