//! The running node: starts every part, waits for SIGTERM or SIGINT, and
//! shuts down gracefully.
//!
//! Start-up order: configuration, logging, storage; zones from disk (each
//! served at once from its validated snapshot); the zone manager; the DNS
//! listeners; the control socket and the metrics listener. Shutdown order:
//! stop accepting queries and control requests, stop the zone manager
//! (network work is abandoned, versions already received finish their
//! writes), write every zone's state, exit.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use tokio::sync::{mpsc, oneshot, watch};
use understudy_proto::answer::{
    AnswerConfig, DEFAULT_MAX_UDP_PAYLOAD, Outcome, Responder, Transport,
};
use understudy_proto::tsig::{Key, KeyRing};

use crate::clock::Clock;
use crate::cluster::gossip::generation_now;
use crate::cluster::peer::PeerServer;
use crate::cluster::runtime::ClusterRuntime;
use crate::config::{Config, LogFormat};
use crate::control::{self, ControlServer, Response};
use crate::dns::{self, Handled, Protocol, QueryHandler, SpecialRequest};
use crate::health::{self, Monitor, WithHealth};
use crate::manager::replica::Replication;
use crate::manager::zone::ZoneOrigin;
use crate::manager::{self, Command, Manager, Shared};
use crate::metrics::{Metrics, MetricsServer, SharedQueryCounter};
use crate::reload::{LiveCluster, Reloader, WithReload};
use crate::special;
use crate::store::Store;
use crate::zones::Zones;

/// Messages waiting for the special handler before the fast path drops more.
const SPECIAL_QUEUE: usize = 1024;
/// Commands waiting for the zone manager.
const COMMAND_QUEUE: usize = 4096;
/// Snapshots sent to peers at once; more are answered busy.
const PEER_TRANSFERS: usize = 4;

/// Runs the daemon with the configuration at `path` until SIGTERM or SIGINT.
pub fn run(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("understudy: {error}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("understudy: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(Arc::new(config))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("understudy: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Answers queries from the current zone table.
struct Answerer {
    responder: Arc<Responder>,
    zones: Arc<Zones>,
    tcp_queries: SharedQueryCounter,
}

impl QueryHandler for Answerer {
    fn handle(
        &self,
        query: &[u8],
        _peer: std::net::SocketAddr,
        protocol: Protocol,
        out: &mut [u8],
    ) -> Handled {
        let transport = match protocol {
            Protocol::Udp => Transport::Udp,
            Protocol::Tcp => Transport::Tcp,
        };
        let table = self.zones.load();
        match self.responder.respond(&**table, query, transport, out) {
            Outcome::Reply { len, rcode } => {
                if protocol == Protocol::Tcp {
                    self.tcp_queries
                        .answered(crate::metrics::Protocol::Tcp, rcode);
                }
                Handled::Reply { len, rcode }
            }
            Outcome::Drop => Handled::Drop,
            Outcome::Special(_) => Handled::Special,
        }
    }
}

/// Hands control requests to the zone manager.
struct ControlBridge {
    commands: mpsc::Sender<Command>,
}

impl control::Handler for ControlBridge {
    async fn handle(&self, command: control::Command) -> Response {
        let (reply, response) = oneshot::channel();
        if self
            .commands
            .send(Command::Control { command, reply })
            .await
            .is_err()
        {
            return Response::error("the node is shutting down");
        }
        response
            .await
            .unwrap_or_else(|_| Response::error("the node is shutting down"))
    }
}

async fn serve(config: Arc<Config>) -> anyhow::Result<()> {
    let clock = Clock::start();
    let store =
        Arc::new(Store::open(&config.node.data_dir).context("cannot open the data directory")?);
    let keys = tsig_keys(&config)?;
    let shared = Arc::new(Shared::default());
    let metrics = Arc::new(metrics(&shared)?);
    let (writer, writer_thread) =
        manager::start_writer(store.clone()).context("cannot start the store writer")?;
    let mut manager = Manager::new(
        config.clone(),
        clock,
        shared.clone(),
        writer,
        keys.clone(),
        Some(metrics.clone()),
    );
    load_zones(&mut manager, &config, &store)?;
    let runtime = join_cluster(&config, &mut manager, &shared, &metrics).await?;
    let fleet_list = manager.fleet_list();
    let (commands, command_queue) = mpsc::channel(COMMAND_QUEUE);
    let (stop_manager, manager_stop) = oneshot::channel();
    let manager_task = tokio::spawn(manager.run(command_queue, manager_stop));

    let responder = Arc::new(Responder::new(answer_config(&config)));
    let (special_sender, special_queue) = mpsc::channel(SPECIAL_QUEUE);
    let context = special::Context {
        shared: shared.clone(),
        keys: keyring(&keys),
        responder: responder.clone(),
        commands: commands.clone(),
        metrics: Some(metrics.clone()),
    };
    tokio::spawn(special::serve(Arc::new(context), special_queue));
    let handler = Arc::new(Answerer {
        responder,
        zones: shared.zones.clone(),
        tcp_queries: metrics.shared_query_counter(),
    });
    let (stop, stopping) = watch::channel(false);
    let udp_stop = Arc::new(AtomicBool::new(false));
    start_udp(&config, &handler, &special_sender, &udp_stop, &metrics)?;
    start_tcp(&config, &handler, &special_sender, &stopping)?;
    drop(special_sender);
    if let (Some(runtime), Some(list)) = (&runtime, fleet_list) {
        crate::fleet::start(
            list,
            runtime.endpoint.clone(),
            &shared.serving,
            shared.cluster.clone(),
            commands.clone(),
            stopping.clone(),
        );
    }
    // The health monitor reads the zone views and the cluster status,
    // answers drain / undrain / health / cluster members, serves /healthz.
    let views = shared.clone();
    let monitor = health::start(
        &config,
        clock,
        Box::new(move || views.views()),
        shared.cluster.clone(),
        &metrics,
        stopping.clone(),
    )
    .context("cannot set up health metrics")?;
    let live = runtime.as_ref().map(|runtime| LiveCluster {
        gossip: Arc::downgrade(&runtime.gossip),
        endpoint: runtime.endpoint.clone(),
    });
    let reloader = Reloader::new(config.clone(), live);
    start_control(
        &config,
        commands,
        monitor.clone(),
        reloader,
        stopping.clone(),
    )?;
    start_metrics(&config, metrics, monitor, stopping.clone()).await?;
    tracing::info!(node = %config.node.id, region = %config.node.region, "understudy started");

    wait_for_signal().await;
    tracing::info!("shutting down: no new queries or transfers; finishing writes");
    udp_stop.store(true, Ordering::Relaxed);
    let _ = stop.send(true);
    let _ = stop_manager.send(());
    let _ = manager_task.await;
    if let Some(runtime) = runtime {
        runtime.shutdown().await;
    }
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await
        .ok();
    tracing::info!("stopped");
    Ok(())
}

/// Starts gossip and QUIC when `[cluster]` is configured and hands them to
/// the manager; the node's generation is its start time.
async fn join_cluster(
    config: &Config,
    manager: &mut Manager,
    shared: &Arc<Shared>,
    metrics: &Metrics,
) -> anyhow::Result<Option<ClusterRuntime>> {
    let Some(settings) = &config.cluster else {
        return Ok(None);
    };
    let dns = config.dns.listen.first().copied();
    let mut runtime = ClusterRuntime::start(&config.node, settings, generation_now(), dns)
        .await
        .context("cannot join the cluster")?;
    // Held weakly so that shutdown finds gossip unshared and leaves the
    // cluster gracefully.
    let gossip = Arc::downgrade(&runtime.gossip);
    metrics.transport().attach_gossip(Box::new(move || {
        gossip
            .upgrade()
            .map(|gossip| gossip.counters())
            .unwrap_or_default()
    }));
    let endpoint = runtime.endpoint.clone();
    metrics
        .transport()
        .attach_quic(Box::new(move || endpoint.counters()));
    runtime.serve(Arc::new(PeerServer::new(
        shared.serving.clone(),
        PEER_TRANSFERS,
    )));
    let replication = Replication::new(
        &config.node.id,
        &config.node.region,
        &settings.name,
        settings.gossip_interval,
        runtime.gossip.clone(),
        runtime.endpoint.clone(),
    );
    manager.join_cluster(replication).await;
    Ok(Some(runtime))
}

fn tsig_keys(config: &Config) -> anyhow::Result<Vec<Arc<Key>>> {
    config
        .tsig_keys
        .iter()
        .map(|key| {
            Key::new(key.name.clone(), key.algorithm.name(), key.secret.clone())
                .map(Arc::new)
                .with_context(|| format!("TSIG key {}", key.name))
        })
        .collect()
}

fn keyring(keys: &[Arc<Key>]) -> KeyRing {
    let mut ring = KeyRing::new();
    for key in keys {
        ring.insert((**key).clone());
    }
    ring
}

fn metrics(shared: &Arc<Shared>) -> anyhow::Result<Metrics> {
    let views = shared.clone();
    Metrics::new(Box::new(move || views.views())).context("cannot set up metrics")
}

fn answer_config(config: &Config) -> AnswerConfig {
    AnswerConfig {
        nsid: config.dns.nsid.clone(),
        identity: config.dns.identity.clone(),
        version: config.dns.version.clone(),
        max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
    }
}

/// Zones of the configuration, then those added at run time.
fn load_zones(manager: &mut Manager, config: &Config, store: &Store) -> anyhow::Result<()> {
    for zone in &config.zones {
        manager.load_zone(zone.clone(), ZoneOrigin::Config, store);
    }
    let runtime = store
        .read_zones()
        .context("cannot read the list of run-time zones")?;
    for spec in runtime {
        match config.resolve_zone(&spec) {
            Ok(zone) if config.zone(&zone.name).is_none() => {
                manager.load_zone(zone, ZoneOrigin::Runtime, store)
            }
            Ok(zone) => {
                tracing::warn!(zone = %zone.name, "run-time zone shadowed by the configuration file")
            }
            Err(error) => {
                tracing::error!(zone = %spec.name, %error, "run-time zone no longer valid; skipped")
            }
        }
    }
    manager.publish_loaded();
    Ok(())
}

fn start_udp(
    config: &Config,
    handler: &Arc<Answerer>,
    special: &mpsc::Sender<SpecialRequest>,
    stop: &Arc<AtomicBool>,
    metrics: &Metrics,
) -> anyhow::Result<()> {
    for addr in &config.dns.listen {
        for index in 0..config.dns.udp_worker_count() {
            let socket = dns::socket::udp_socket(*addr)
                .with_context(|| format!("cannot listen on UDP {addr}"))?;
            let worker =
                dns::udp::UdpWorker::new(socket, handler.clone(), special.clone(), stop.clone())?
                    .counting(metrics.query_counter());
            std::thread::Builder::new()
                .name(format!("udp-{index}"))
                .spawn(move || worker.run())?;
        }
    }
    Ok(())
}

fn start_tcp(
    config: &Config,
    handler: &Arc<Answerer>,
    special: &mpsc::Sender<SpecialRequest>,
    stopping: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let limits = dns::tcp::TcpLimits {
        idle_timeout: config.dns.tcp_idle_timeout,
        max_connections: config.dns.tcp_max_connections,
    };
    for addr in &config.dns.listen {
        let listener = dns::socket::tcp_listener(*addr)
            .with_context(|| format!("cannot listen on TCP {addr}"))?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(dns::tcp::serve(
            listener,
            handler.clone(),
            special.clone(),
            limits,
            stopping.clone(),
        ));
    }
    Ok(())
}

fn start_control(
    config: &Config,
    commands: mpsc::Sender<Command>,
    monitor: Arc<Monitor>,
    reloader: Reloader,
    mut stopping: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let server = ControlServer::bind(&config.control.socket).with_context(|| {
        format!(
            "cannot bind the control socket {}",
            config.control.socket.display()
        )
    })?;
    let bridge = Arc::new(WithReload::new(
        WithHealth::new(ControlBridge { commands }, monitor),
        reloader,
    ));
    tokio::spawn(async move {
        server
            .serve(
                bridge,
                async move { dns::tcp::stopped(&mut stopping).await },
            )
            .await
    });
    Ok(())
}

async fn start_metrics(
    config: &Config,
    metrics: Arc<Metrics>,
    monitor: Arc<Monitor>,
    mut stopping: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(listen) = config.metrics.listen else {
        return Ok(());
    };
    let server = MetricsServer::bind(listen)
        .await
        .with_context(|| format!("cannot listen for metrics on {listen}"))?;
    let health = Box::new(move || monitor.healthz());
    tokio::spawn(async move {
        server
            .serve(metrics, health, async move {
                dns::tcp::stopped(&mut stopping).await
            })
            .await
    });
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals; stopping only when killed");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}
