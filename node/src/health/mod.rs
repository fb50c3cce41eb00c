//! The driver of the anycast health machine (`proto::health`): evaluates
//! it on a timer from the zone views and the cluster status, keeps the
//! operator's drain on disk, and serves the verdict to `/healthz`,
//! `ctl health`, `ctl cluster members` and the metrics.
//!
//! ```text
//!  zone views (manager) ──┐
//!  ClusterStatus.zones ───┼─▶ Monitor::evaluate ─▶ Health (proto) ─▶ HealthView ─┬─▶ /healthz
//!  drain file ────────────┘    every [health] interval,                          ├─▶ ctl health
//!                              and at once on drain / undrain                    └─▶ metrics
//! ```
//!
//! A drain withdraws at the evaluation it triggers, with no hysteresis;
//! an undrain, a problem, or its end go through `rise` / `fall`.

mod control;
mod drain;
mod inputs;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::watch;
use understudy_proto::Timestamp;
use understudy_proto::health::Health;

use crate::clock::Clock;
use crate::cluster::status::ClusterShared;
use crate::config::{Config, HealthSettings};
use crate::control::{ClusterView, HealthView, Response};
use crate::metrics::{ClusterSample, MetricsError, ZoneSource};

pub use control::WithHealth;
pub use drain::{DRAIN_FILE, Drain, DrainError};
pub use inputs::{LocalNode, cluster_view, reason_word, zone_health};

/// What the monitor reads at each evaluation.
pub struct Sources {
    /// Every zone's status view.
    pub zones: ZoneSource,
    /// The cluster as gossip and the replicator describe it.
    pub cluster: Arc<ClusterShared>,
    /// This node, for when gossip has nothing.
    pub node: LocalNode,
    /// Monotonic time for the machine, wall time for operators.
    pub clock: Clock,
}

/// Evaluates health and holds the verdict.
pub struct Monitor {
    settings: HealthSettings,
    sources: Sources,
    drain: Drain,
    machine: Mutex<Health>,
    view: ArcSwap<HealthView>,
}

impl Monitor {
    /// A monitor starting unhealthy ("starting", or "drained" when the
    /// drain file says so), with no evaluation yet.
    pub fn new(settings: HealthSettings, drain: Drain, sources: Sources) -> Monitor {
        let now = sources.clock.now();
        let machine = Health::new(settings.machine, now);
        let wall = sources.clock.wall(now);
        let drained = drain.is_drained();
        let mut view =
            inputs::health_view(machine.status(), drained, &settings.machine, wall, wall);
        // The machine hears of a drain at its first evaluation; a drained
        // node says so from the start.
        if drained {
            view.reason = Some("drained".into());
            view.detail = Some("drained".into());
        }
        Monitor {
            settings,
            sources,
            drain,
            machine: Mutex::new(machine),
            view: ArcSwap::from_pointee(view),
        }
    }

    /// One evaluation now; see [`Monitor::evaluate_at`].
    pub fn evaluate(&self) -> Arc<HealthView> {
        self.evaluate_at(self.sources.clock.now())
    }

    /// One evaluation at `now`: publishes the verdict, logs a change.
    pub fn evaluate_at(&self, now: Timestamp) -> Arc<HealthView> {
        let views = (self.sources.zones)();
        let status = self.sources.cluster.status();
        let zones = zone_health(&views, &status);
        let drained = self.drain.is_drained();
        let mut machine = self
            .machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed = machine.evaluate(now, drained, zones);
        let verdict = machine.status();
        let clock = &self.sources.clock;
        let view = Arc::new(inputs::health_view(
            verdict,
            drained,
            &self.settings.machine,
            clock.wall(verdict.since),
            clock.wall(now),
        ));
        self.view.store(Arc::clone(&view));
        drop(machine);
        if changed {
            log_change(&view);
        }
        view
    }

    /// The latest verdict.
    pub fn view(&self) -> Arc<HealthView> {
        self.view.load_full()
    }

    /// The latest verdict as `/healthz` serves it.
    pub fn healthz(&self) -> crate::metrics::Health {
        let view = self.view();
        match view.healthy {
            true => crate::metrics::Health::Healthy,
            false => crate::metrics::Health::Unhealthy(view.summary()),
        }
    }

    /// Members and zones against the fleet, now.
    pub fn cluster_view(&self) -> ClusterView {
        let views = (self.sources.zones)();
        let status = self.sources.cluster.status();
        cluster_view(
            &status,
            &views,
            &self.sources.node,
            self.sources.clock.now(),
        )
    }

    /// What the cluster metrics read at a scrape.
    pub fn sample(&self) -> ClusterSample {
        ClusterSample {
            health: (*self.view()).clone(),
            cluster: self.cluster_view(),
        }
    }

    /// `ctl drain`: withdraws at once, and remembers it on disk.
    pub async fn drain(self: &Arc<Self>) -> Response {
        let unix_now = i64::try_from(self.sources.clock.unix_now()).unwrap_or(i64::MAX);
        let monitor = Arc::clone(self);
        let recorded = tokio::task::spawn_blocking(move || monitor.drain.drain(unix_now)).await;
        self.evaluate();
        match recorded {
            Ok(Ok(())) => Response::done("drained: /healthz answers 503 until `ctl undrain`"),
            Ok(Err(error)) => Response::error(format!(
                "drained, but only until the node restarts: {error}"
            )),
            Err(error) => Response::error(format!("drain failed: {error}")),
        }
    }

    /// `ctl undrain`: forgets the drain; announcing again waits for `rise`
    /// clean evaluations.
    pub async fn undrain(self: &Arc<Self>) -> Response {
        let monitor = Arc::clone(self);
        let lifted = tokio::task::spawn_blocking(move || monitor.drain.undrain()).await;
        let view = self.evaluate();
        match lifted {
            Ok(Ok(())) if view.healthy => Response::done("undrained: healthy"),
            Ok(Ok(())) => Response::done(format!(
                "undrained: /healthz turns 200 after {} clean checks, {} s apart",
                self.settings.machine.rise,
                self.settings.interval.as_secs_f64()
            )),
            Ok(Err(error)) => Response::error(format!("still drained: {error}")),
            Err(error) => Response::error(format!("undrain failed: {error}")),
        }
    }

    /// Evaluates every `[health] interval` until `stopping` turns true.
    pub async fn run(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(self.settings.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = crate::dns::tcp::stopped(&mut stopping) => return,
                _ = ticks.tick() => {
                    self.evaluate();
                }
            }
        }
    }
}

fn log_change(view: &HealthView) {
    match (view.healthy, &view.detail) {
        (true, _) => tracing::info!(op = "health", "healthy: announce the anycast prefix"),
        (false, detail) => tracing::warn!(
            op = "health",
            reason = detail.as_deref().unwrap_or("unhealthy"),
            "unhealthy: withdraw the anycast prefix"
        ),
    }
}

/// Starts health for the daemon: reads the drain file, evaluates on a
/// timer, and registers the cluster and health metrics.
pub fn start(
    config: &Config,
    clock: Clock,
    zones: ZoneSource,
    cluster: Arc<ClusterShared>,
    metrics: &crate::metrics::Metrics,
    stopping: watch::Receiver<bool>,
) -> Result<Arc<Monitor>, MetricsError> {
    let node = LocalNode {
        id: config.node.id.clone(),
        region: config.node.region.clone(),
        dns: config.dns.listen.first().copied(),
        cluster: config.cluster.as_ref().map(|cluster| cluster.name.clone()),
    };
    let drain = Drain::load(&config.node.data_dir);
    let sources = Sources {
        zones,
        cluster: Arc::clone(&cluster),
        node,
        clock,
    };
    let monitor = Arc::new(Monitor::new(config.health, drain, sources));
    let sampled = Arc::clone(&monitor);
    metrics.watch_cluster(Box::new(move || sampled.sample()), cluster)?;
    tokio::spawn(Arc::clone(&monitor).run(stopping));
    Ok(monitor)
}
