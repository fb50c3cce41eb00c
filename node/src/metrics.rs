//! Prometheus metrics: every metric name, once, with its help text.
//!
//! | metric | labels |
//! |---|---|
//! | `understudy_up`, `understudy_build_info` | `version` |
//! | `understudy_queries_total` | `protocol` = udp\|tcp, `rcode` |
//! | `understudy_queries_dropped_total` | `protocol` |
//! | `understudy_zone_serial`, `_epoch`, `_expiry_timestamp_seconds`, `_verified_age_seconds`, `_serial_regressed`, `_records`, `_size_bytes` | `zone` |
//! | `understudy_zone_state` | `zone`, `state` |
//! | `understudy_zones` | `state` |
//! | `understudy_transfers_total` | `kind` = ixfr\|axfr, `result` = ok\|error\|fallback |
//! | `understudy_notify_received_total` | `result` = accepted\|refused |
//! | `understudy_refresh_checks_total` | `result` = up-to-date\|newer\|error\|serial-regressed |
//! | `understudy_xfr_out_total` | `kind` = ixfr\|axfr, `result` = ok\|refused\|error |
//! | `understudy_healthy`, `understudy_drained` | |
//! | `understudy_health_reason` | `reason` = starting\|drained\|not-loaded\|expired\|stale\|lagging |
//! | `understudy_cluster_members` | `state` = alive\|dead |
//! | `understudy_zone_fleet_serial`, `understudy_zone_fleet_lag_seconds` | `zone` |
//! | `understudy_transfers_by_source_total` | `source` = primary\|peer, `result` = ok\|failed |
//! | `understudy_peer_bytes_total` | `direction` = sent\|received |
//! | `understudy_peer_confirms_total` | `result` = ok\|failed |
//! | `understudy_gossip_datagrams_rejected_total` | `reason` = malformed\|foreign-cluster\|bad-mac\|stale\|replayed |
//! | `understudy_gossip_datagrams_total` | `direction` = sent\|received |
//! | `understudy_quic_bytes_total` | `direction` = sent\|received |
//! | `understudy_quic_connections_total` | `result` = accepted\|refused\|connect-failed |
//!
//! Zone names are bounded by the configured zones, every other label by a
//! fixed set. Query counts come from per-worker blocks (see `queries`),
//! zone gauges from the daemon's zone views at scrape time (see `zones`),
//! health and cluster families from the health monitor, the cluster
//! counters and the gossip and QUIC probes at scrape time (see `cluster`).
//! `understudy_transfers_by_source_total` is a family of its own because
//! `understudy_transfers_total` already counts by `kind`.

mod cluster;
mod http;
mod queries;
#[cfg(test)]
mod tests;
mod zones;

use std::sync::Arc;

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

pub use cluster::{ClusterSample, ClusterSource, GossipProbe, QuicProbe, TransportProbes};
pub use http::{Health, HealthCheck, MetricsServer};
pub use queries::{Protocol, QueryCounter, QueryCounters, SharedQueryCounter};
pub use zones::ZoneSource;

/// Incoming transfer kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// RFC 1995 incremental transfer.
    Ixfr = 0,
    /// RFC 5936 full transfer.
    Axfr = 1,
}

/// How an incoming transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferResult {
    /// Applied and serving.
    Ok = 0,
    /// Failed; the old zone keeps serving.
    Error = 1,
    /// An IXFR given up for an AXFR.
    Fallback = 2,
}

/// What became of a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyResult {
    /// From an allowed source: an SOA check was scheduled.
    Accepted = 0,
    /// From elsewhere, or with a bad TSIG.
    Refused = 1,
}

/// How an SOA check against a primary ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshResult {
    /// The primary has the serial we serve.
    UpToDate = 0,
    /// The primary has a newer serial: a transfer follows.
    Newer = 1,
    /// No usable answer.
    Error = 2,
    /// The primary's serial is behind ours.
    SerialRegressed = 3,
}

/// How a transfer served to a downstream client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XfrOutResult {
    /// Sent completely.
    Ok = 0,
    /// Refused by the ACL or for a zone we do not serve.
    Refused = 1,
    /// Broken off (client gone, write error).
    Error = 2,
}

/// The node's metrics registry and its counters.
pub struct Metrics {
    registry: Registry,
    queries: Arc<QueryCounters>,
    transfers: [[IntCounter; 3]; 2],
    notify: [IntCounter; 2],
    refresh_checks: [IntCounter; 4],
    xfr_out: [[IntCounter; 3]; 2],
    transport: Arc<TransportProbes>,
}

/// The metrics could not be registered (a name clash: a programming error).
#[derive(Debug, thiserror::Error)]
#[error("cannot register metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// Registers every metric; `zones` is called at each scrape for the
    /// zone gauges.
    pub fn new(zones: ZoneSource) -> Result<Metrics, MetricsError> {
        let registry = Registry::new();
        register_build_info(&registry)?;
        let queries = Arc::new(QueryCounters::new()?);
        registry.register(Box::new(SharedCollector(Arc::clone(&queries))))?;
        registry.register(Box::new(zones::ZoneCollector::new(zones)?))?;
        let transfers = counter_vec(
            &registry,
            "understudy_transfers_total",
            "Incoming zone transfers, by kind and result.",
            &["kind", "result"],
        )?;
        let notify = counter_vec(
            &registry,
            "understudy_notify_received_total",
            "NOTIFY messages received, by result.",
            &["result"],
        )?;
        let refresh = counter_vec(
            &registry,
            "understudy_refresh_checks_total",
            "SOA checks against primaries, by result.",
            &["result"],
        )?;
        let xfr_out = counter_vec(
            &registry,
            "understudy_xfr_out_total",
            "Zone transfers served to downstream clients, by kind and result.",
            &["kind", "result"],
        )?;
        let kinds = ["ixfr", "axfr"];
        Ok(Metrics {
            transfers: kinds.map(|kind| {
                ["ok", "error", "fallback"]
                    .map(|result| transfers.with_label_values(&[kind, result]))
            }),
            notify: ["accepted", "refused"].map(|result| notify.with_label_values(&[result])),
            refresh_checks: ["up-to-date", "newer", "error", "serial-regressed"]
                .map(|result| refresh.with_label_values(&[result])),
            xfr_out: kinds.map(|kind| {
                ["ok", "refused", "error"].map(|result| xfr_out.with_label_values(&[kind, result]))
            }),
            registry,
            queries,
            transport: Arc::default(),
        })
    }

    /// Registers the health and cluster families, read from `source` and
    /// the counters of `cluster` at each scrape. Called once.
    pub fn watch_cluster(
        &self,
        source: ClusterSource,
        cluster: Arc<crate::cluster::status::ClusterShared>,
    ) -> Result<(), MetricsError> {
        let collector =
            cluster::ClusterCollector::new(source, cluster, Arc::clone(&self.transport))?;
        self.registry.register(Box::new(collector))?;
        Ok(())
    }

    /// Where the gossip and QUIC layers attach their counters.
    pub fn transport(&self) -> &TransportProbes {
        &self.transport
    }

    /// Counters for one UDP worker (no lock, no allocation per query).
    pub fn query_counter(&self) -> QueryCounter {
        self.queries.worker()
    }

    /// Counters shared by TCP connection tasks.
    pub fn shared_query_counter(&self) -> SharedQueryCounter {
        self.queries.shared()
    }

    /// Counts an incoming transfer.
    pub fn transfer(&self, kind: TransferKind, result: TransferResult) {
        self.transfers[kind as usize][result as usize].inc();
    }

    /// Counts a NOTIFY.
    pub fn notify(&self, result: NotifyResult) {
        self.notify[result as usize].inc();
    }

    /// Counts an SOA check.
    pub fn refresh_check(&self, result: RefreshResult) {
        self.refresh_checks[result as usize].inc();
    }

    /// Counts a transfer served downstream.
    pub fn xfr_out(&self, kind: TransferKind, result: XfrOutResult) {
        self.xfr_out[kind as usize][result as usize].inc();
    }

    /// Everything, in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let families = self.registry.gather();
        if let Err(error) = prometheus::TextEncoder::new().encode_utf8(&families, &mut text) {
            tracing::warn!(%error, "cannot encode metrics");
        }
        text
    }
}

fn register_build_info(registry: &Registry) -> Result<(), prometheus::Error> {
    let info = IntGaugeVec::new(
        Opts::new("understudy_build_info", "Always 1; the version in a label."),
        &["version"],
    )?;
    info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
    registry.register(Box::new(info))?;
    let up = IntGauge::new("understudy_up", "1 while the node runs.")?;
    up.set(1);
    registry.register(Box::new(up))
}

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let vec = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

/// Lets the registry hold the query collector that `Metrics` hands blocks
/// out of.
struct SharedCollector(Arc<QueryCounters>);

impl prometheus::core::Collector for SharedCollector {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.0.collect()
    }
}
