//! One live drill: the built-in primary, the fleet, the prober and the
//! story, and the faults a drill injects, each recorded as a mark.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use tokio::task::JoinHandle;
use understudy_proto::Name;
use understudy_proto::tsig::Key;

use super::fleet::{
    AddressPlan, Fleet, FleetError, FleetPlan, NetworkMode, NodeSpec, ZoneSettings, binary,
    free_port,
};
use super::namespaces::Namespaces;
use super::observe::{MarkKind, NodeInfo, Observations, Recorder};
use super::primary::{Primary, PrimaryConfig, SoaTimers};
use super::prober::{self, ProbeSettings};
use super::report::{self, Expectations, Report};
use super::story;

/// What to set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Regions and their node counts.
    pub regions: Vec<(String, usize)>,
    /// The zone's name.
    pub zone: String,
    /// The zone's SOA timers.
    pub timers: SoaTimers,
    /// `rfc`, `serve-stale` or `never`.
    pub expiry_policy: String,
    /// Sign transfers and NOTIFY with a fresh TSIG key.
    pub tsig: bool,
    /// Nodes form a cluster (gossip, QUIC) rather than run alone.
    pub cluster: bool,
    /// Where configs, data, logs and the report go (created).
    pub work: PathBuf,
    /// Between two probes of one node.
    pub probe_interval: Duration,
    /// Tell the story on stdout as it happens.
    pub story: bool,
    /// Loopback, or a network namespace per region (root only).
    pub network: NetworkMode,
}

impl Setup {
    /// A setup with drill defaults for `regions`, working in a fresh
    /// directory under the system's temporary directory.
    pub fn new(regions: Vec<(String, usize)>) -> Setup {
        Setup {
            regions,
            zone: "drill.example.".to_string(),
            timers: SoaTimers::default(),
            expiry_policy: "never".to_string(),
            tsig: true,
            cluster: true,
            work: fresh_work_dir(),
            probe_interval: Duration::from_millis(200),
            story: false,
            network: NetworkMode::Loopback,
        }
    }
}

/// A fresh directory name under the temporary directory.
pub fn fresh_work_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    std::env::temp_dir().join(format!(
        "understudy-drill-{stamp}-{}-{seq}",
        std::process::id()
    ))
}

/// A drill under way.
pub struct Drill {
    recorder: Recorder,
    primary: Primary,
    fleet: Fleet,
    // After `fleet`: the processes die before their namespaces go.
    namespaces: Option<Namespaces>,
    specs: Vec<NodeSpec>,
    tasks: Vec<JoinHandle<()>>,
    story: Option<std::thread::JoinHandle<Vec<String>>>,
    addresses: AddressPlan,
    work: PathBuf,
}

impl Drill {
    /// Starts the primary and every node, and probing.
    pub async fn start(setup: &Setup) -> anyhow::Result<Drill> {
        let binary = binary::find()?;
        let addresses = AddressPlan::new(setup.network);
        let namespaces = match setup.network {
            NetworkMode::Loopback => None,
            NetworkMode::Namespaces => {
                let counts: Vec<usize> = setup.regions.iter().map(|(_, n)| *n).collect();
                Some(Namespaces::create(addresses, &counts)?)
            }
        };
        let primary_addr = SocketAddr::from((addresses.primary(), free_port(addresses.primary())?));
        let tsig = setup.tsig.then(fresh_key).transpose()?;
        let plan = fleet_plan(setup, primary_addr, tsig.as_ref());
        let mut fleet = Fleet::prepare(binary.clone(), &setup.work, &plan, addresses)?;
        let specs = fleet.specs();
        let primary = Primary::start(PrimaryConfig {
            listen: primary_addr,
            zone: setup.zone.clone(),
            timers: setup.timers,
            first_serial: 1,
            tsig: tsig.map(|(_, _, key)| key),
            notify: specs.iter().map(|s| s.dns).collect(),
        })
        .await?;
        let (recorder, story) = recorder(setup.story, &specs, primary.serial());
        fleet.start_all()?;
        let settings = ProbeSettings {
            zone: Name::from_ascii(&setup.zone).map_err(|_| anyhow::anyhow!("bad zone name"))?,
            interval: setup.probe_interval,
            timeout: Duration::from_millis(300),
            status_interval: Duration::from_millis(700),
            binary,
            source: addresses.prober(),
        };
        let tasks = prober::spawn(&recorder, &primary.history(), &specs, &settings);
        Ok(Drill {
            recorder,
            primary,
            fleet,
            namespaces,
            specs,
            tasks,
            story,
            addresses,
            work: setup.work.clone(),
        })
    }

    /// The nodes, region by region.
    pub fn nodes(&self) -> &[NodeSpec] {
        &self.specs
    }

    /// Indexes of the nodes of `region`.
    pub fn region(&self, region: &str) -> Vec<usize> {
        (0..self.specs.len())
            .filter(|&i| self.specs[i].region == region)
            .collect()
    }

    /// The address block of this drill.
    pub fn addresses(&self) -> AddressPlan {
        self.addresses
    }

    /// Whether regions run in network namespaces of their own.
    pub fn in_namespaces(&self) -> bool {
        self.namespaces.is_some()
    }

    /// The work directory.
    pub fn work(&self) -> &std::path::Path {
        &self.work
    }

    /// The record so far.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The primary's newest serial.
    pub fn serial(&self) -> u32 {
        self.primary.serial()
    }

    /// Publishes the next serial (NOTIFY goes out if the primary is up).
    pub fn change(&mut self) -> anyhow::Result<u32> {
        let serial = self.primary.change()?;
        self.recorder.primary_serial(serial);
        let how = if self.primary.is_up() {
            "NOTIFY sent"
        } else {
            "primary away: no one hears of it"
        };
        self.recorder.mark(
            MarkKind::Change,
            format!("change to serial {serial} ({how})"),
            Vec::new(),
        );
        Ok(serial)
    }

    /// Takes the primary away.
    pub async fn primary_down(&mut self) {
        self.primary.stop().await;
        self.recorder
            .mark(MarkKind::Fault, "primary away", Vec::new());
    }

    /// Brings the primary back.
    pub async fn primary_up(&mut self) -> anyhow::Result<()> {
        self.primary.resume().await?;
        self.recorder
            .mark(MarkKind::Heal, "primary back", Vec::new());
        Ok(())
    }

    /// SIGKILL to `nodes`.
    pub fn kill(&mut self, nodes: &[usize]) -> anyhow::Result<()> {
        self.each(nodes, MarkKind::Fault, "kill -9", |fleet, id| {
            fleet.kill(id)
        })
    }

    /// Starts `nodes` again on their data directories.
    pub fn restart(&mut self, nodes: &[usize]) -> anyhow::Result<()> {
        self.each(nodes, MarkKind::Heal, "restart", |fleet, id| {
            fleet.kill(id)?;
            fleet.start(id)
        })
    }

    /// SIGSTOP to `nodes`.
    pub fn freeze(&mut self, nodes: &[usize]) -> anyhow::Result<()> {
        self.each(nodes, MarkKind::Fault, "freeze", |fleet, id| {
            fleet.freeze(id)
        })
    }

    /// SIGCONT to `nodes`.
    pub fn thaw(&mut self, nodes: &[usize]) -> anyhow::Result<()> {
        self.each(nodes, MarkKind::Heal, "thaw", |fleet, id| fleet.thaw(id))
    }

    /// Applies `act` to each of `nodes`, then marks the timeline with
    /// `verb` and their names.
    fn each(
        &mut self,
        nodes: &[usize],
        kind: MarkKind,
        verb: &str,
        act: impl Fn(&mut Fleet, &str) -> Result<(), FleetError>,
    ) -> anyhow::Result<()> {
        for &n in nodes {
            act(&mut self.fleet, &self.specs[n].id)?;
        }
        self.recorder.mark(
            kind,
            format!("{verb} {}", self.names(nodes)),
            nodes.to_vec(),
        );
        Ok(())
    }

    /// Node ids, comma separated.
    pub fn names(&self, nodes: &[usize]) -> String {
        let names: Vec<&str> = nodes.iter().map(|&n| self.specs[n].id.as_str()).collect();
        names.join(", ")
    }

    /// Waits until each of `nodes` has answered `serial` correctly in a
    /// probe sent after this call; false after `timeout`.
    pub async fn wait_serving(&self, nodes: &[usize], serial: u32, timeout: Duration) -> bool {
        let since = self.recorder.now_ms();
        self.wait_for(timeout, |o| {
            nodes.iter().all(|&n| {
                o.probes
                    .iter()
                    .rev()
                    .take_while(|p| p.at_ms > since)
                    .find(|p| p.node == n)
                    .is_some_and(|p| p.correct_serial() == Some(serial))
            })
        })
        .await
    }

    /// Waits until each of `nodes` has failed to answer a probe sent after
    /// this call; false after `timeout`.
    pub async fn wait_silent(&self, nodes: &[usize], timeout: Duration) -> bool {
        let since = self.recorder.now_ms();
        self.wait_for(timeout, |o| {
            nodes.iter().all(|&n| {
                o.probes
                    .iter()
                    .rev()
                    .take_while(|p| p.at_ms > since)
                    .any(|p| p.node == n && !p.is_correct())
            })
        })
        .await
    }

    /// Waits until `ctl` on `node` reports where its copy of `serial` came
    /// from, reported since the node's last fault or heal; the source, or
    /// none after `timeout`.
    pub async fn wait_source(&self, node: usize, serial: u32, timeout: Duration) -> Option<String> {
        let since = {
            let observations = self.recorder.lock();
            let mut marks = observations.marks.iter().rev();
            marks
                .find(|m| m.nodes.contains(&node))
                .map_or(0, |m| m.at_ms)
        };
        let found = |o: &Observations| {
            o.sources
                .iter()
                .rev()
                .take_while(|s| s.at_ms > since)
                .find(|s| s.node == node && s.serial == Some(serial))
                .map(|s| s.source.clone())
        };
        let reported = self.wait_for(timeout, |o| found(o).is_some()).await;
        reported.then(|| found(&self.recorder.lock())).flatten()
    }

    async fn wait_for(&self, timeout: Duration, done: impl Fn(&Observations) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.recorder.lock()) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops probing and every process; returns what was observed and the
    /// report, and writes `report.json`, `report.txt` and `timeline.svg`
    /// into the work directory.
    pub async fn finish(mut self, name: &str, expect: &Expectations) -> anyhow::Result<Finished> {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        let mut observations = self.recorder.snapshot();
        observations.primary_transfers = self
            .primary
            .transfers()
            .into_iter()
            .map(|t| super::observe::PrimaryTransfer {
                at_ms: self.recorder.ms_of(t.at),
                node: self.specs.iter().position(|s| s.dns.ip() == t.client),
                kind: format!("{:?}", t.kind).to_lowercase(),
                serial: t.serial,
            })
            .collect();
        self.primary.stop().await;
        let report = report::build(name, &observations, expect);
        let svg_path = self.work.join("timeline.svg");
        std::fs::write(&svg_path, report::svg(name, &observations))?;
        std::fs::write(self.work.join("report.json"), report.json())?;
        std::fs::write(self.work.join("report.txt"), report::text(&report))?;
        let Drill {
            recorder,
            story,
            fleet,
            ..
        } = self;
        drop(fleet);
        drop(recorder);
        let story = story.and_then(|s| s.join().ok()).unwrap_or_default();
        Ok(Finished {
            observations,
            report,
            svg_path,
            story,
        })
    }
}

fn fleet_plan(
    setup: &Setup,
    primary: SocketAddr,
    tsig: Option<&(String, String, Key)>,
) -> FleetPlan {
    FleetPlan {
        regions: setup.regions.clone(),
        zone: ZoneSettings {
            name: setup.zone.clone(),
            primary,
            tsig: tsig.map(|(name, secret, _)| (name.clone(), secret.clone())),
            expiry_policy: setup.expiry_policy.clone(),
        },
        cluster: setup.cluster,
    }
}

/// The recorder of `nodes`, and the story told from it when `story`.
fn recorder(
    story: bool,
    specs: &[NodeSpec],
    serial: u32,
) -> (Recorder, Option<std::thread::JoinHandle<Vec<String>>>) {
    let nodes: Vec<NodeInfo> = specs
        .iter()
        .map(|s| NodeInfo {
            id: s.id.clone(),
            region: s.region.clone(),
        })
        .collect();
    let recorder = Recorder::new(nodes.clone(), serial);
    if !story {
        return (recorder, None);
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let out: Box<dyn Write + Send> = Box::new(std::io::stdout());
    let teller = story::spawn(nodes, receiver, out);
    (recorder.with_events(sender), Some(teller))
}

/// What a finished drill leaves.
#[derive(Debug)]
pub struct Finished {
    /// Everything observed.
    pub observations: Observations,
    /// The report.
    pub report: Report,
    /// Where the timeline picture was written.
    pub svg_path: PathBuf,
    /// The story's lines, when told.
    pub story: Vec<String>,
}

/// A fresh hmac-sha256 key: (name, base64 secret, key).
fn fresh_key() -> anyhow::Result<(String, String, Key)> {
    let mut secret = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
    let name = "drill-key.".to_string();
    let key = Key::new(
        Name::from_ascii(&name).map_err(|_| anyhow::anyhow!("bad key name"))?,
        "hmac-sha256",
        secret.to_vec(),
    )?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
    Ok((name, encoded, key))
}
