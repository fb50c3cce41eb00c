//! `understudy-sim demo`: the built-in primary and three regions of two
//! real `understudy` nodes on loopback; a change; the primary taken away;
//! one region killed with SIGKILL and brought back (it must serve again
//! from disk and/or peers); the primary back; one more change. The story is
//! told from what the prober sees, then the report and the picture.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::driver::{Drill, Setup, fresh_work_dir};
use super::primary::SoaTimers;
use super::report::{self, Expectations};

/// Regions of the demo, two nodes each.
const REGIONS: [&str; 3] = ["ams", "iad", "sin"];
/// The region whose nodes are killed.
const KILLED: &str = "sin";
/// How long to wait for the fleet to reach a serial before saying it did not.
const PATIENCE: Duration = Duration::from_secs(15);

/// Options of the demo.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Work directory (default: a fresh one under the temporary directory).
    pub work: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    pub json: bool,
}

/// Runs the demo and prints its story and report.
pub fn run(options: &DemoOptions) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(demo(options))
}

async fn demo(options: &DemoOptions) -> anyhow::Result<ExitCode> {
    let mut setup = Setup::new(REGIONS.iter().map(|r| (r.to_string(), 2)).collect());
    setup.work = options.work.clone().unwrap_or_else(fresh_work_dir);
    setup.story = true;
    // Slow enough that a node waits for its peers rather than racing them
    // to the primary on its retry timer; NOTIFY still makes changes quick.
    setup.timers = SoaTimers {
        refresh: 10,
        retry: 5,
        expire: 3_600,
    };
    let mut drill = Drill::start(&setup).await?;
    introduce(&drill);
    let all: Vec<usize> = (0..drill.nodes().len()).collect();
    let killed = drill.region(KILLED);

    note(
        &drill,
        drill.wait_serving(&all, 1, PATIENCE * 2).await,
        "every node serves serial 1",
    );
    drill.recorder().steady();
    let serial = drill.change()?;
    note(
        &drill,
        drill.wait_serving(&all, serial, PATIENCE).await,
        &format!("every node serves serial {serial}"),
    );

    drill.primary_down().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    tell_serving(&drill, &all);
    drill.kill(&killed)?;
    note(
        &drill,
        drill.wait_silent(&killed, PATIENCE).await,
        &format!("region {KILLED} is silent"),
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    drill.restart(&killed)?;
    let back = drill.wait_serving(&killed, serial, PATIENCE).await;
    note(
        &drill,
        back,
        &format!("region {KILLED} serves serial {serial} again, the primary still away"),
    );

    tokio::time::sleep(Duration::from_millis(1_000)).await;
    drill.primary_up().await?;
    let serial = drill.change()?;
    note(
        &drill,
        drill.wait_serving(&all, serial, PATIENCE).await,
        &format!("every node serves serial {serial}"),
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;

    let expect = expectations();
    let finished = drill.finish("demo", &expect).await?;
    if options.json {
        println!("{}", finished.report.json());
    } else {
        println!("\n{}", report::text(&finished.report));
    }
    println!("Timeline picture: {}", finished.svg_path.display());
    println!("Node logs, configs and data: {}", setup.work.display());
    Ok(ExitCode::from(report::exit_status(&finished.report)))
}

fn introduce(drill: &Drill) {
    println!(
        "understudy demo: a built-in primary and {} real understudy nodes in {} regions, on loopback",
        drill.nodes().len(),
        REGIONS.len()
    );
    for node in drill.nodes() {
        println!(
            "  {:<6} region {:<4} DNS {}  QUIC {}",
            node.id, node.region, node.dns, node.quic
        );
    }
    println!("  work directory: {}\n", drill.work().display());
    println!("What the prober observes (every node asked SOA and TXT every 200 ms):");
}

/// A line saying whether a wait ended because the fleet got there.
fn note(drill: &Drill, reached: bool, what: &str) {
    let at = drill.recorder().now_ms() as f64 / 1_000.0;
    if reached {
        println!("[{at:>6.1}s] --- observed: {what}");
    } else {
        println!(
            "[{at:>6.1}s] --- NOT observed within {}s: {what}",
            PATIENCE.as_secs()
        );
    }
}

/// How many nodes answered correctly in their latest probe, and with what.
fn tell_serving(drill: &Drill, nodes: &[usize]) {
    let observations = drill.recorder().lock();
    let mut serving = Vec::new();
    for &node in nodes {
        let last = observations.probes.iter().rev().find(|p| p.node == node);
        if let Some(serial) = last.and_then(|p| p.correct_serial()) {
            serving.push(format!("{} {serial}", observations.nodes[node].id));
        }
    }
    drop(observations);
    let at = drill.recorder().now_ms() as f64 / 1_000.0;
    println!(
        "[{at:>6.1}s] --- observed: with the primary away, {} of {} nodes answer ({})",
        serving.len(),
        nodes.len(),
        serving.join(", ")
    );
}

fn expectations() -> Expectations {
    Expectations {
        converge_within_ms: Some(PATIENCE.as_millis() as u64),
        region_availability: REGIONS
            .iter()
            .filter(|r| **r != KILLED)
            .map(|r| (r.to_string(), 99.0))
            .collect(),
        // Reported, not expected: until nodes forward to each other, every
        // node takes every change from the primary.
        max_primary_transfers_per_change: None,
        final_serial_everywhere: true,
    }
}
