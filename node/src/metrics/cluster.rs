//! Health and cluster metrics, read at scrape time from the same views
//! that `ctl health` and `ctl cluster members` print, from the cluster
//! paths' counters ([`ClusterShared`]) and from the gossip and QUIC layers'
//! own counters once the daemon attaches them ([`TransportProbes`]).

use std::sync::{Arc, RwLock};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts};

use crate::cluster::QuicCounters;
use crate::cluster::gossip::GossipCounters;
use crate::cluster::status::{ClusterShared, SourceKind};
use crate::control::{ClusterView, HealthView, MemberState};

/// What the health and cluster gauges show at one scrape.
#[derive(Debug, Clone)]
pub struct ClusterSample {
    /// The health verdict.
    pub health: HealthView,
    /// Members and zones against the fleet.
    pub cluster: ClusterView,
}

/// Takes a [`ClusterSample`] when Prometheus scrapes.
pub type ClusterSource = Box<dyn Fn() -> ClusterSample + Send + Sync>;
/// Reads the gossip layer's counters.
pub type GossipProbe = Box<dyn Fn() -> GossipCounters + Send + Sync>;
/// Reads the QUIC endpoint's counters.
pub type QuicProbe = Box<dyn Fn() -> QuicCounters + Send + Sync>;

/// Where the gossip and QUIC counters are read from, attached by whoever
/// starts those layers; a node without `[cluster]` attaches none and
/// publishes no gossip or QUIC series.
#[derive(Default)]
pub struct TransportProbes {
    gossip: RwLock<Option<GossipProbe>>,
    quic: RwLock<Option<QuicProbe>>,
}

impl TransportProbes {
    /// Reads gossip counters from `probe` at each scrape.
    pub fn attach_gossip(&self, probe: GossipProbe) {
        *self.gossip.write().unwrap_or_else(|p| p.into_inner()) = Some(probe);
    }

    /// Reads QUIC counters from `probe` at each scrape.
    pub fn attach_quic(&self, probe: QuicProbe) {
        *self.quic.write().unwrap_or_else(|p| p.into_inner()) = Some(probe);
    }

    fn gossip(&self) -> Option<GossipCounters> {
        let probe = self.gossip.read().unwrap_or_else(|p| p.into_inner());
        probe.as_ref().map(|probe| probe())
    }

    fn quic(&self) -> Option<QuicCounters> {
        let probe = self.quic.read().unwrap_or_else(|p| p.into_inner());
        probe.as_ref().map(|probe| probe())
    }
}

struct Families {
    healthy: IntGauge,
    drained: IntGauge,
    reason: IntGaugeVec,
    members: IntGaugeVec,
    fleet_serial: IntGaugeVec,
    fleet_lag: GaugeVec,
    transfers: IntCounterVec,
    peer_bytes: IntCounterVec,
    confirms: IntCounterVec,
    gossip_rejected: IntCounterVec,
    gossip_datagrams: IntCounterVec,
    quic_bytes: IntCounterVec,
    quic_connections: IntCounterVec,
}

impl Families {
    fn new() -> prometheus::Result<Families> {
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels)
        };
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        Ok(Families {
            healthy: IntGauge::new(
                "understudy_healthy",
                "1 while the node should announce the anycast prefix (/healthz 200).",
            )?,
            drained: IntGauge::new(
                "understudy_drained",
                "1 while an operator has drained the node.",
            )?,
            reason: gauge(
                "understudy_health_reason",
                "1 for the reason the node is unhealthy, 0 for the others.",
                &["reason"],
            )?,
            members: gauge(
                "understudy_cluster_members",
                "Cluster members by state, this node included.",
                &["state"],
            )?,
            fleet_serial: gauge(
                "understudy_zone_fleet_serial",
                "Newest serial of the zone a live member advertises.",
                &["zone"],
            )?,
            fleet_lag: GaugeVec::new(
                Opts::new(
                    "understudy_zone_fleet_lag_seconds",
                    "Seconds this node has lagged a verified newer version of the zone; 0 when it does not.",
                ),
                &["zone"],
            )?,
            transfers: counter(
                "understudy_transfers_by_source_total",
                "Transfers of a new zone version, by source kind and result.",
                &["source", "result"],
            )?,
            peer_bytes: counter(
                "understudy_peer_bytes_total",
                "Snapshot and diff bytes exchanged with peers, by direction.",
                &["direction"],
            )?,
            confirms: counter(
                "understudy_peer_confirms_total",
                "Freshness confirmations asked of peers, by result.",
                &["result"],
            )?,
            gossip_rejected: counter(
                "understudy_gossip_datagrams_rejected_total",
                "Gossip datagrams dropped unread, by reason.",
                &["reason"],
            )?,
            gossip_datagrams: counter(
                "understudy_gossip_datagrams_total",
                "Gossip datagrams sent, and received that passed every check.",
                &["direction"],
            )?,
            quic_bytes: counter(
                "understudy_quic_bytes_total",
                "QUIC stream payload bytes, by direction.",
                &["direction"],
            )?,
            quic_connections: counter(
                "understudy_quic_connections_total",
                "QUIC connections, by result.",
                &["result"],
            )?,
        })
    }

    fn all(&self) -> [&dyn Collector; 13] {
        [
            &self.healthy,
            &self.drained,
            &self.reason,
            &self.members,
            &self.fleet_serial,
            &self.fleet_lag,
            &self.transfers,
            &self.peer_bytes,
            &self.confirms,
            &self.gossip_rejected,
            &self.gossip_datagrams,
            &self.quic_bytes,
            &self.quic_connections,
        ]
    }

    fn observe_health(&self, health: &HealthView) {
        self.healthy.set(i64::from(health.healthy));
        self.drained.set(i64::from(health.drained));
        for reason in HealthView::REASONS {
            let current = !health.healthy && health.reason.as_deref() == Some(reason);
            self.reason
                .with_label_values(&[reason])
                .set(i64::from(current));
        }
    }

    fn observe_cluster(&self, cluster: &ClusterView) {
        for state in MemberState::ALL {
            let count = cluster.members.iter().filter(|m| m.state == state).count();
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            self.members.with_label_values(&[state.name()]).set(count);
        }
        for zone in &cluster.zones {
            let name = zone.zone.as_str();
            if let Some(serial) = zone.fleet_serial {
                self.fleet_serial
                    .with_label_values(&[name])
                    .set(i64::from(serial));
            }
            self.fleet_lag
                .with_label_values(&[name])
                .set(zone.lag_seconds as f64);
        }
    }

    fn observe_counters(&self, shared: &ClusterShared) {
        let counters = &shared.counters;
        for source in [SourceKind::Primary, SourceKind::Peer] {
            for (ok, result) in [(true, "ok"), (false, "failed")] {
                self.transfers
                    .with_label_values(&[source.name(), result])
                    .inc_by(counters.transfers(source, ok));
            }
        }
        let load = |counter: &std::sync::atomic::AtomicU64| {
            counter.load(std::sync::atomic::Ordering::Relaxed)
        };
        let set = |family: &IntCounterVec, pairs: [(&str, u64); 2]| {
            for (label, value) in pairs {
                family.with_label_values(&[label]).inc_by(value);
            }
        };
        set(
            &self.peer_bytes,
            [
                ("received", load(&counters.peer_bytes_received)),
                ("sent", load(&counters.peer_bytes_sent)),
            ],
        );
        set(
            &self.confirms,
            [
                ("ok", load(&counters.confirms_ok)),
                ("failed", load(&counters.confirms_failed)),
            ],
        );
    }

    fn observe_gossip(&self, gossip: &GossipCounters) {
        for (reason, value) in [
            ("malformed", gossip.rejected_malformed),
            ("foreign-cluster", gossip.rejected_foreign_cluster),
            ("bad-mac", gossip.rejected_bad_mac),
            ("stale", gossip.rejected_stale),
            ("replayed", gossip.rejected_replayed),
        ] {
            self.gossip_rejected
                .with_label_values(&[reason])
                .inc_by(value);
        }
        for (direction, value) in [
            ("sent", gossip.datagrams_sent),
            ("received", gossip.datagrams_accepted),
        ] {
            self.gossip_datagrams
                .with_label_values(&[direction])
                .inc_by(value);
        }
    }

    fn observe_quic(&self, quic: &QuicCounters) {
        for (direction, value) in [("sent", quic.bytes_sent), ("received", quic.bytes_received)] {
            self.quic_bytes
                .with_label_values(&[direction])
                .inc_by(value);
        }
        for (result, value) in [
            ("accepted", quic.connections_accepted),
            ("refused", quic.connections_refused),
            ("connect-failed", quic.connects_failed),
        ] {
            self.quic_connections
                .with_label_values(&[result])
                .inc_by(value);
        }
    }
}

/// Collects the health and cluster families at each scrape.
pub struct ClusterCollector {
    source: ClusterSource,
    shared: Arc<ClusterShared>,
    transport: Arc<TransportProbes>,
    descs: Families,
}

impl ClusterCollector {
    /// A collector reading `source`, the counters of `shared`, and the
    /// probes attached to `transport`.
    pub fn new(
        source: ClusterSource,
        shared: Arc<ClusterShared>,
        transport: Arc<TransportProbes>,
    ) -> prometheus::Result<ClusterCollector> {
        Ok(ClusterCollector {
            source,
            shared,
            transport,
            descs: Families::new()?,
        })
    }
}

impl Collector for ClusterCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs
            .all()
            .into_iter()
            .flat_map(|family| family.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // Fresh families each scrape: counters are set from the live
        // atomics, and zones that are gone leave no series.
        let Ok(families) = Families::new() else {
            return Vec::new();
        };
        let sample = (self.source)();
        families.observe_health(&sample.health);
        families.observe_cluster(&sample.cluster);
        families.observe_counters(&self.shared);
        if let Some(gossip) = self.transport.gossip() {
            families.observe_gossip(&gossip);
        }
        if let Some(quic) = self.transport.quic() {
            families.observe_quic(&quic);
        }
        families
            .all()
            .into_iter()
            .flat_map(|family| family.collect())
            .collect()
    }
}
