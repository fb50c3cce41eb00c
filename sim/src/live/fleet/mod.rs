//! The node runner: a work directory, cluster credentials made with the
//! binary's own `understudy cert` subcommands, one config per node, and real
//! `understudy run` processes that can be killed (SIGKILL), frozen
//! (SIGSTOP / SIGCONT) and restarted on the same data directory.

mod addresses;
pub mod binary;
mod config;

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use addresses::{AddressPlan, NetworkMode, free_port};
pub use config::{ClusterFiles, NodeSpec, ZoneSettings, node_config};

/// Why the fleet could not be set up or driven.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The `understudy` binary is missing.
    #[error("{0}")]
    Binary(String),
    /// An `understudy` helper command failed.
    #[error("{0}")]
    Command(String),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// No node of that name.
    #[error("no node {0}")]
    UnknownNode(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> FleetError {
    let what = what.into();
    move |source| FleetError::Io { what, source }
}

/// What a fleet is made of.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    /// Regions and their node counts, in order.
    pub regions: Vec<(String, usize)>,
    /// The zone the nodes follow.
    pub zone: ZoneSettings,
    /// Whether nodes form a cluster (`[cluster]`) or run alone.
    pub cluster: bool,
}

/// Life of one node process as the runner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeLife {
    /// Running.
    Up,
    /// Stopped with SIGSTOP.
    Frozen,
    /// Killed (or never started).
    Down,
}

struct NodeProcess {
    spec: NodeSpec,
    child: Option<Child>,
    frozen: bool,
}

/// The node processes of one drill.
pub struct Fleet {
    binary: PathBuf,
    work: PathBuf,
    nodes: Vec<NodeProcess>,
}

impl Fleet {
    /// Lays out `plan` under `work` (created), makes credentials and configs;
    /// starts nothing.
    pub fn prepare(
        binary: PathBuf,
        work: &Path,
        plan: &FleetPlan,
        addresses: AddressPlan,
    ) -> Result<Fleet, FleetError> {
        std::fs::create_dir_all(work).map_err(io(format!("creating {}", work.display())))?;
        let specs = node_specs(work, plan, addresses)?;
        let files = if plan.cluster {
            Some(credentials(&binary, work, &specs)?)
        } else {
            None
        };
        for spec in &specs {
            std::fs::create_dir_all(&spec.dir)
                .map_err(io(format!("creating {}", spec.dir.display())))?;
            let seeds: Vec<SocketAddr> = specs
                .iter()
                .filter(|s| s.id != spec.id)
                .map(|s| s.gossip)
                .collect();
            let text = node_config(
                spec,
                &plan.zone,
                files.as_ref().map(|f| (f, seeds.as_slice())),
            );
            std::fs::write(spec.config_path(), text).map_err(io("writing a node config"))?;
        }
        let nodes = specs
            .into_iter()
            .map(|spec| NodeProcess {
                spec,
                child: None,
                frozen: false,
            })
            .collect();
        Ok(Fleet {
            binary,
            work: work.to_path_buf(),
            nodes,
        })
    }

    /// Starts every node.
    pub fn start_all(&mut self) -> Result<(), FleetError> {
        let ids: Vec<String> = self.nodes.iter().map(|n| n.spec.id.clone()).collect();
        ids.iter().try_for_each(|id| self.start(id))
    }

    /// Starts (or restarts) `id` on its existing data directory.
    pub fn start(&mut self, id: &str) -> Result<(), FleetError> {
        let binary = self.binary.clone();
        let node = self.node_mut(id)?;
        if node.child.is_some() {
            return Ok(());
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(node.spec.log_path())
            .map_err(io("opening a node log"))?;
        let err = log.try_clone().map_err(io("opening a node log"))?;
        let mut command = match &node.spec.namespace {
            // `ip netns exec` execs the binary: the child's pid is the node's.
            Some(namespace) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace]).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        let child = command
            .arg("run")
            .arg("--config")
            .arg(node.spec.config_path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(io(format!("starting {}", binary.display())))?;
        node.child = Some(child);
        node.frozen = false;
        Ok(())
    }

    /// SIGKILL: the process dies at once, its disk stays.
    pub fn kill(&mut self, id: &str) -> Result<(), FleetError> {
        let node = self.node_mut(id)?;
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        node.frozen = false;
        Ok(())
    }

    /// SIGSTOP: the process keeps its memory and sockets but answers nothing.
    pub fn freeze(&mut self, id: &str) -> Result<(), FleetError> {
        self.signal(id, libc::SIGSTOP, true)
    }

    /// SIGCONT after [`Fleet::freeze`].
    pub fn thaw(&mut self, id: &str) -> Result<(), FleetError> {
        self.signal(id, libc::SIGCONT, false)
    }

    fn signal(&mut self, id: &str, signal: libc::c_int, frozen: bool) -> Result<(), FleetError> {
        let node = self.node_mut(id)?;
        if let Some(child) = &node.child {
            let pid = child.id() as libc::pid_t;
            // SAFETY: kill(2) on the pid of a child we spawned and have not
            // reaped, so the pid cannot have been reused.
            if unsafe { libc::kill(pid, signal) } != 0 {
                return Err(io(format!("signalling {id}"))(
                    std::io::Error::last_os_error(),
                ));
            }
            node.frozen = frozen;
        }
        Ok(())
    }

    /// Every node's spec, region by region.
    pub fn specs(&self) -> Vec<NodeSpec> {
        self.nodes.iter().map(|n| n.spec.clone()).collect()
    }

    /// The life of `id`.
    pub fn life(&mut self, id: &str) -> NodeLife {
        let Ok(node) = self.node_mut(id) else {
            return NodeLife::Down;
        };
        let running = node
            .child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)));
        match (running, node.frozen) {
            (false, _) => NodeLife::Down,
            (true, true) => NodeLife::Frozen,
            (true, false) => NodeLife::Up,
        }
    }

    /// The binary the nodes run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The work directory.
    pub fn work(&self) -> &Path {
        &self.work
    }

    fn node_mut(&mut self, id: &str) -> Result<&mut NodeProcess, FleetError> {
        self.nodes
            .iter_mut()
            .find(|n| n.spec.id == id)
            .ok_or_else(|| FleetError::UnknownNode(id.to_string()))
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let pid = child.id() as libc::pid_t;
                // SAFETY: as in `signal`: our own unreaped child. A frozen
                // process must be continued or SIGKILL is still delivered,
                // but this keeps the order obvious.
                unsafe { libc::kill(pid, libc::SIGCONT) };
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("work", &self.work)
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

fn node_specs(
    work: &Path,
    plan: &FleetPlan,
    addresses: AddressPlan,
) -> Result<Vec<NodeSpec>, FleetError> {
    let mut specs = Vec::new();
    for (region_index, (region, count)) in plan.regions.iter().enumerate() {
        for index in 0..*count {
            let ip = addresses.node(region_index, index);
            let [dns, gossip, quic] = addresses
                .node_ports(ip)
                .map_err(io(format!("finding free ports on {ip}")))?;
            let id = format!("{region}-{}", index + 1);
            specs.push(NodeSpec {
                dns: SocketAddr::from((ip, dns)),
                gossip: SocketAddr::from((ip, gossip)),
                quic: SocketAddr::from((ip, quic)),
                namespace: addresses.namespace(region_index),
                dir: work.join(&id),
                region: region.clone(),
                region_index,
                id,
            });
        }
    }
    Ok(specs)
}

/// The cluster CA, one certificate per node and the gossip key, made by
/// `understudy cert`.
fn credentials(binary: &Path, work: &Path, specs: &[NodeSpec]) -> Result<ClusterFiles, FleetError> {
    let ca = work.join("ca");
    let certs = work.join("certs");
    let text = |p: &Path| p.display().to_string();
    binary::run(binary, &["cert", "ca", "--out", &text(&ca)])?;
    for spec in specs {
        binary::run(
            binary,
            &[
                "cert",
                "node",
                &spec.id,
                "--ca",
                &text(&ca),
                "--out",
                &text(&certs),
            ],
        )?;
    }
    let key = binary::run(binary, &["cert", "gossip-key"])?;
    let key_file = work.join("cluster.key");
    std::fs::write(&key_file, key).map_err(io("writing the gossip key"))?;
    Ok(ClusterFiles {
        key_file,
        ca_cert: ca.join("ca.pem"),
        certs,
    })
}
