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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use understudy_proto::Name;
    use understudy_proto::replicate::Advert;
    use understudy_proto::serial::ZoneVersion;

    use super::*;
    use crate::cluster::gossip::{GossipKeys, GossipSettings};

    /// What a node of the daemon publishes with `zones` zones: its own keys
    /// and one advert per zone, in the real schema.
    fn published(node: &str, zones: u32) -> Vec<(String, String)> {
        let keys = NodeKeys {
            region: Some("eu-west".into()),
            quic: Some("127.0.0.1:7947".parse().unwrap()),
            dns: Some("127.0.0.1:53".parse().unwrap()),
        };
        let mut pairs = gossip::encode_node(&keys);
        for index in 0..zones {
            let zone: Name = format!("z{index:04}.{node}.example.com.").parse().unwrap();
            let advert = gossip::ZoneAdvert {
                advert: Advert {
                    version: ZoneVersion::new(0, 2_024_010_100 + index),
                    confirmed_age: Some(Duration::from_millis(1_234 + u64::from(index))),
                    primary_reachable: true,
                },
                sequence: index % 50,
            };
            pairs.push((gossip::zone_key(&zone), gossip::encode_zone(&advert)));
        }
        pairs
    }

    /// Measurement, not a test: gossip bytes per node per second at idle,
    /// three nodes publishing 1,000 zone adverts each in the daemon's
    /// schema, one-second rounds.
    /// `cargo test -p understudy-node --release schema_idle -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn schema_idle_gossip_bytes_with_1000_zones() {
        let start = |id: &'static str, seeds: Vec<SocketAddr>| {
            let mut settings =
                GossipSettings::new("prod", id, SocketAddr::from(([127, 0, 0, 1], 0)));
            settings.seeds = seeds;
            let keys = GossipKeys::from_secrets(&[vec![9; 32]]).unwrap();
            Gossip::start(settings, keys, published(id, 1000))
        };
        let a = start("a", Vec::new()).await.unwrap();
        let seed = vec![a.id().gossip_address];
        let b = start("b", seed.clone()).await.unwrap();
        let c = start("c", seed).await.unwrap();
        let synced = |members: Vec<crate::cluster::gossip::Member>| {
            members.len() == 3 && members.iter().all(|member| member.key_values.len() == 1004)
        };
        for _ in 0..600 {
            if synced(a.members().await) && synced(b.members().await) && synced(c.members().await) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(synced(c.members().await), "3,000 adverts did not spread");
        let seconds = 20;
        let before: Vec<_> = [&a, &b, &c]
            .iter()
            .map(|gossip| gossip.counters())
            .collect();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        for (gossip, before) in [&a, &b, &c].iter().zip(before) {
            let after = gossip.counters();
            println!(
                "node {}: {} B/s sent, {} B/s received",
                gossip.id().node_id,
                (after.bytes_sent - before.bytes_sent) / seconds,
                (after.bytes_received - before.bytes_received) / seconds,
            );
        }
        let state: usize = published("a", 1000)
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum();
        println!("one node's key-values: {state} bytes");
    }
}
