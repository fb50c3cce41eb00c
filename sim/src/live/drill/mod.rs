//! `understudy-sim drill SCENARIO`: a scenario of the simulator's language
//! run against real processes. Crashes are SIGKILL, freezes SIGSTOP,
//! restarts start the same binary on the same data directory, the primary
//! goes away by closing its sockets, and partitions and links are nftables
//! drop rules between the regions' address ranges (root only).

mod plan;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use plan::{LiveAction, LivePlan, LiveStep, plan};

use super::driver::{Drill, Setup, fresh_work_dir};
use super::fleet::{AddressPlan, NetworkMode};
use super::namespaces::Namespaces;
use super::netfilter::Partitions;
use super::observe::MarkKind;
use super::report::{self, Report};
use crate::scenario::{Scenario, Selector};

/// Options of a drill.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The scenario's last step happens this long after the start.
    pub budget: Duration,
    /// Work directory (default: fresh under the temporary directory).
    pub work: Option<PathBuf>,
    /// Print the report as JSON.
    pub json: bool,
    /// Do not tell the story as it happens.
    pub quiet: bool,
    /// How to network the processes; `None`: a namespace per region when
    /// the scenario cuts links and namespaces are available, else loopback.
    pub network: Option<NetworkMode>,
}

/// Exit status of a scenario that needs what this machine lacks.
pub const UNSUPPORTED: u8 = 2;

/// Runs the drill, prints the report; the exit status says whether the
/// scenario's expectations held.
pub fn run(options: &DrillOptions) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&options.scenario)?;
    let plan = plan(&scenario, options.budget);
    if plan.needs_partitions()
        && let Err(error) = Partitions::available()
    {
        eprintln!(
            "scenario {} cuts links between regions: {error}",
            scenario.name
        );
        return Ok(ExitCode::from(UNSUPPORTED));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let work = options.work.clone().unwrap_or_else(fresh_work_dir);
    let network = options.network.unwrap_or_else(|| default_network(&plan));
    let (report, svg) =
        runtime.block_on(execute(&scenario, &plan, work, network, !options.quiet))?;
    if options.json {
        println!("{}", report.json());
    } else {
        println!("\n{}", report::text(&report));
    }
    println!("Timeline picture: {}", svg.display());
    Ok(ExitCode::from(report::exit_status(&report)))
}

/// A namespace per region for scenarios that cut links, when available.
pub fn default_network(plan: &LivePlan) -> NetworkMode {
    if plan.needs_partitions() && Namespaces::available() {
        NetworkMode::Namespaces
    } else {
        NetworkMode::Loopback
    }
}

/// Runs `plan` live; the report and the path of its picture.
pub async fn execute(
    scenario: &Scenario,
    plan: &LivePlan,
    work: PathBuf,
    network: NetworkMode,
    story: bool,
) -> anyhow::Result<(Report, PathBuf)> {
    let mut setup = Setup::new(plan.regions.clone());
    setup.timers = plan.timers;
    setup.expiry_policy = plan.expiry_policy.clone();
    setup.work = work;
    setup.story = story;
    setup.network = network;
    let mut drill = Drill::start(&setup).await?;
    let mut partitions = if plan.needs_partitions() {
        let name = drill.addresses().block().to_string();
        Some(Partitions::new(&name, network == NetworkMode::Namespaces)?)
    } else {
        None
    };
    if story {
        introduce(scenario, plan, &drill);
    }
    let all: Vec<usize> = (0..drill.nodes().len()).collect();
    if !drill.wait_serving(&all, 1, Duration::from_secs(30)).await {
        println!("(not every node loaded serial 1 within 30s; starting anyway)");
    }
    drill.recorder().steady();
    let interrupted = tokio::select! {
        result = run_steps(&mut drill, partitions.as_mut(), plan, &all) => {
            result?;
            false
        }
        _ = tokio::signal::ctrl_c() => true,
    };
    if interrupted {
        println!("interrupted: reporting what was observed so far");
    }
    let finished = drill.finish(&scenario.name, &plan.expect).await?;
    drop(partitions.take());
    Ok((finished.report, finished.svg_path))
}

/// The timeline, then the wait for the running nodes to converge.
async fn run_steps(
    drill: &mut Drill,
    mut partitions: Option<&mut Partitions>,
    plan: &LivePlan,
    all: &[usize],
) -> anyhow::Result<()> {
    let start = tokio::time::Instant::now();
    for step in &plan.steps {
        tokio::time::sleep_until(start + step.at).await;
        apply(drill, partitions.as_deref_mut(), &step.action).await?;
    }
    let observations = drill.recorder().snapshot();
    let running: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&n| super::report::node_up_at_end(&observations, n))
        .collect();
    drill
        .wait_serving(&running, drill.serial(), plan.settle)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(())
}

fn introduce(scenario: &Scenario, plan: &LivePlan, drill: &Drill) {
    println!("drill {}: {}", scenario.name, scenario.description);
    println!(
        "  {} nodes in {} regions, time x{:.4} (SOA refresh {}s, retry {}s, expire {}s, policy {})",
        drill.nodes().len(),
        plan.regions.len(),
        plan.factor,
        plan.timers.refresh,
        plan.timers.retry,
        plan.timers.expire,
        plan.expiry_policy
    );
    for note in &plan.notes {
        println!("  not reproduced live: {note}");
    }
    let network = if drill.in_namespaces() {
        "a network namespace per region, joined by a bridge"
    } else {
        "loopback addresses"
    };
    println!("  network: {network}");
    println!("  work directory: {}\n", drill.work().display());
}

async fn apply(
    drill: &mut Drill,
    partitions: Option<&mut Partitions>,
    action: &LiveAction,
) -> anyhow::Result<()> {
    match action {
        LiveAction::Change => {
            drill.change()?;
        }
        LiveAction::PrimaryDown => drill.primary_down().await,
        LiveAction::PrimaryUp => drill.primary_up().await?,
        LiveAction::Crash(selectors) => drill.kill(&nodes(drill, selectors))?,
        LiveAction::Restart(selectors) => drill.restart(&nodes(drill, selectors))?,
        LiveAction::Freeze(selectors) => drill.freeze(&nodes(drill, selectors))?,
        LiveAction::Thaw(selectors) => drill.thaw(&nodes(drill, selectors))?,
        LiveAction::Partition(_)
        | LiveAction::Heal
        | LiveAction::LinkDown(..)
        | LiveAction::LinkUp(..) => {
            let partitions =
                partitions.ok_or_else(|| anyhow::anyhow!("partitions are not set up"))?;
            network(drill, partitions, action)?;
        }
    }
    Ok(())
}

fn network(drill: &Drill, partitions: &mut Partitions, action: &LiveAction) -> anyhow::Result<()> {
    let addresses = drill.addresses();
    let ranges = |selector: &Selector| ranges(drill, addresses, selector);
    let (kind, label) = match action {
        LiveAction::Partition(groups) => {
            for (i, a) in groups.iter().enumerate() {
                for b in &groups[i + 1..] {
                    for ra in a.iter().flat_map(ranges) {
                        for rb in b.iter().flat_map(ranges) {
                            partitions.cut(&ra, &rb)?;
                        }
                    }
                }
            }
            (
                MarkKind::Fault,
                format!("partition {}", describe_groups(groups)),
            )
        }
        LiveAction::LinkDown(a, b) => {
            for ra in ranges(a) {
                for rb in ranges(b) {
                    partitions.cut(&ra, &rb)?;
                }
            }
            (MarkKind::Fault, format!("link {a} - {b} down"))
        }
        LiveAction::LinkUp(a, b) => {
            for ra in ranges(a) {
                for rb in ranges(b) {
                    partitions.mend(&ra, &rb)?;
                }
            }
            (MarkKind::Heal, format!("link {a} - {b} up"))
        }
        _ => {
            partitions.heal()?;
            (MarkKind::Heal, "heal: every link restored".to_string())
        }
    };
    drill.recorder().mark(kind, label, Vec::new());
    Ok(())
}

fn describe_groups(groups: &[Vec<Selector>]) -> String {
    let groups: Vec<String> = groups
        .iter()
        .map(|g| {
            let names: Vec<String> = g.iter().map(ToString::to_string).collect();
            format!("[{}]", names.join(" "))
        })
        .collect();
    groups.join(" | ")
}

/// The node indexes a selector names (none for `primary`).
fn nodes(drill: &Drill, selectors: &[Selector]) -> Vec<usize> {
    let specs = drill.nodes();
    let mut picked: Vec<usize> = (0..specs.len())
        .filter(|&n| {
            selectors.iter().any(|selector| match selector {
                Selector::All => true,
                Selector::Primary => false,
                Selector::Region(region) => &specs[n].region == region,
                Selector::Node(region, index) => specs[n].id == format!("{region}-{}", index + 1),
            })
        })
        .collect();
    picked.dedup();
    picked
}

/// The address ranges a selector covers, as nftables writes them.
fn ranges(drill: &Drill, addresses: AddressPlan, selector: &Selector) -> Vec<String> {
    let specs = drill.nodes();
    match selector {
        Selector::Primary => vec![addresses.primary_prefix()],
        Selector::All => {
            let mut regions: Vec<usize> = specs.iter().map(|s| s.region_index).collect();
            regions.dedup();
            regions
                .into_iter()
                .map(|r| addresses.region_prefix(r))
                .collect()
        }
        Selector::Region(region) => specs
            .iter()
            .find(|s| &s.region == region)
            .map(|s| vec![addresses.region_prefix(s.region_index)])
            .unwrap_or_default(),
        Selector::Node(..) => nodes(drill, std::slice::from_ref(selector))
            .into_iter()
            .map(|n| format!("{}/32", specs[n].dns.ip()))
            .collect(),
    }
}
