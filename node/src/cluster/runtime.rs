//! Starting and stopping the node's part in a cluster: gossip and the QUIC
//! endpoint, from `[cluster]`.
//!
//! The endpoint is bound first so that the address gossip announces is the
//! one that answers; gossip starts with the node's own keys (schema,
//! region, QUIC and DNS addresses) and the zone manager adds its zones.
//! Shutdown is the reverse: gossip stops (peers see the node die out), then
//! the endpoint closes its connections.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use understudy_proto::wire::gossip::{self, NodeKeys};

use crate::config::{ClusterSettings, NodeSettings};

use super::gossip::{Gossip, GossipError};
use super::quic::{BindError, ClusterEndpoint, RequestHandler};

/// Gossip and the QUIC endpoint of a running node.
pub struct ClusterRuntime {
    /// Membership and key-values.
    pub gossip: Arc<Gossip>,
    /// The QUIC endpoint, serving peers once [`ClusterRuntime::serve`] ran.
    pub endpoint: ClusterEndpoint,
    /// The QUIC address peers are told.
    pub quic_address: SocketAddr,
    server: Option<JoinHandle<()>>,
}

/// Why the cluster could not be joined.
#[derive(Debug, thiserror::Error)]
pub enum ClusterStartError {
    /// The QUIC endpoint could not be bound.
    #[error(transparent)]
    Quic(#[from] BindError),
    /// The bound address could not be read.
    #[error("cannot read the QUIC endpoint's address: {0}")]
    Address(std::io::Error),
    /// Gossip did not start.
    #[error(transparent)]
    Gossip(#[from] GossipError),
}

impl ClusterRuntime {
    /// Binds QUIC and starts gossip for node `node` (`generation`: raised
    /// at every start), announcing `dns` as its DNS address.
    pub async fn start(
        node: &NodeSettings,
        settings: &ClusterSettings,
        generation: u64,
        dns: Option<SocketAddr>,
    ) -> Result<ClusterRuntime, ClusterStartError> {
        let endpoint = ClusterEndpoint::bind(settings.quic_settings(&node.id), &settings.tls)?;
        let bound = endpoint.local_addr().map_err(ClusterStartError::Address)?;
        let quic_address = settings.quic_advertise(bound);
        let keys = NodeKeys {
            region: Some(node.region.clone()),
            quic: Some(quic_address),
            dns: dns.map(|dns| advertised_dns(settings, dns)),
        };
        let gossip_settings = settings.gossip_settings(&node.id, generation);
        let gossip = Gossip::start(
            gossip_settings,
            settings.gossip_keys.clone(),
            gossip::encode_node(&keys),
        )
        .await;
        let gossip = match gossip {
            Ok(gossip) => gossip,
            Err(error) => {
                endpoint.close().await;
                return Err(error.into());
            }
        };
        tracing::info!(
            node = %node.id,
            region = %node.region,
            quic = %quic_address,
            gossip = %gossip.id().gossip_address,
            "joined cluster {}",
            settings.name
        );
        Ok(ClusterRuntime {
            gossip: Arc::new(gossip),
            endpoint,
            quic_address,
            server: None,
        })
    }

    /// Answers peers' requests with `handler`.
    pub fn serve<H: RequestHandler>(&mut self, handler: Arc<H>) {
        self.server = Some(self.endpoint.serve(handler));
    }

    /// Leaves gossip, then closes the endpoint.
    pub async fn shutdown(self) {
        match Arc::try_unwrap(self.gossip) {
            Ok(gossip) => gossip.shutdown().await,
            Err(_shared) => tracing::debug!("gossip still shared at shutdown; dropped"),
        }
        self.endpoint.close().await;
        if let Some(server) = self.server {
            server.abort();
        }
    }
}

/// The DNS address peers are told: the listen address, or the advertised
/// address with the listen port when listening on a wildcard.
fn advertised_dns(settings: &ClusterSettings, dns: SocketAddr) -> SocketAddr {
    match settings.advertise {
        Some(ip) if dns.ip().is_unspecified() => SocketAddr::new(ip, dns.port()),
        _ => dns,
    }
}
