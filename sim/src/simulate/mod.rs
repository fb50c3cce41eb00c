//! The deterministic simulator (`understudy-sim simulate`).
//!
//! Drives the real `understudy-proto` machines of every node — the refresh
//! scheduler with one [`ZoneRefresh`](understudy_proto::refresh::ZoneRefresh)
//! per zone, the [`Replicator`](understudy_proto::replicate::Replicator)
//! and the [`Health`](understudy_proto::health::Health) machine — over a
//! virtual clock and network, as a second driver beside the daemon
//! (DESIGN.md decisions 1 and 9). Everything random comes from the seed;
//! every processed event becomes one trace line, and the SHA-256 of the
//! trace is printed, so the same seed reproduces the run byte for byte.
//!
//! Invariants are checked as events are processed (see [`check`]); the
//! first violation ends the run with its seed and event number.

pub mod bounds;
pub mod calibrate;
pub mod check;
pub mod coarse;
mod drive;
mod event;
pub mod gossip;
pub mod network;
pub mod node;
mod peers;
pub mod primary;
pub mod rng;
pub mod trace;
pub mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::scenario::Scenario;

pub use check::{Rule, Violation};
pub use world::{Mutant, Stats, World};

/// Arguments of `understudy-sim simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files (TOML, see sim/scenarios/).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// The seed of the run.
    #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
    pub seed: u64,
    /// A range of seeds, `A..B` (B excluded), one run each.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Writes the event trace of the (last) run to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Events processed.
    pub events: u64,
    /// Simulated time covered.
    pub simulated: Duration,
    /// Wall-clock time taken.
    pub wall: Duration,
    /// SHA-256 of the trace, hex.
    pub trace_hash: String,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Counters.
    pub stats: Stats,
    /// Transfers the primary served (all, including first loads).
    pub primary_transfers: u64,
    /// The most transfers the primary served for one zone change (first
    /// loads excluded).
    pub worst_transfers_per_change: u32,
    /// The convergence bound used.
    pub converge_bound: Duration,
    /// Nodes × zones.
    pub nodes: usize,
    /// Zones.
    pub zones: usize,
    /// Zone groups simulated (fewer than `zones` above 100 nodes).
    pub simulated_zones: usize,
}

/// Runs one scenario with one seed.
pub fn simulate(
    scenario: &Scenario,
    seed: u64,
    trace_file: Option<Box<dyn std::io::Write>>,
    mutant: Option<Mutant>,
) -> std::io::Result<Outcome> {
    let started = Instant::now();
    let mut world = World::new(scenario, seed, trace::Trace::new(trace_file), mutant);
    world.run()?;
    let simulated = match world.check_violation_time() {
        Some(at) => Duration::from_millis(at),
        None => scenario.duration,
    };
    let zones = world.zone_count();
    let (trace, check, primary, stats, converge_bound) = world.finish();
    let worst = primary
        .transfers
        .iter()
        .filter(|((_, serial), _)| *serial != primary::FIRST_SERIAL)
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0);
    Ok(Outcome {
        scenario: scenario.name.clone(),
        seed,
        events: stats.events,
        simulated,
        wall: started.elapsed(),
        trace_hash: trace.finish()?,
        violation: check.violation,
        stats,
        primary_transfers: primary.transfers_total,
        worst_transfers_per_change: worst,
        converge_bound,
        nodes: scenario.node_count(),
        zones: scenario.zones.count as usize,
        simulated_zones: zones,
    })
}

impl Outcome {
    /// One readable block for the terminal.
    pub fn render(&self) -> String {
        let hours = self.simulated.as_secs_f64() / 3_600.0;
        let rate =
            self.nodes as f64 * self.zones as f64 * hours / self.wall.as_secs_f64().max(1e-9);
        let verdict = match &self.violation {
            None => "all invariants held".to_owned(),
            Some(v) => format!("VIOLATION (seed {}): {v}", self.seed),
        };
        format!(
            "{} seed {}: {} nodes x {} zones, {} events, simulated {:.2} h, wall {:.3} s \
             ({:.0} node-zone-hours/s)\n  trace sha256 {}\n  primary transfers {} (worst per change {}), \
             installs from primary {} / from peers {}, convergence bound {} s\n  {}",
            self.scenario,
            self.seed,
            self.nodes,
            self.zones,
            self.events,
            hours,
            self.wall.as_secs_f64(),
            rate,
            self.trace_hash,
            self.primary_transfers,
            self.worst_transfers_per_change,
            self.stats.primary_installs,
            self.stats.peer_installs,
            self.converge_bound.as_secs(),
            verdict
        )
    }
}

fn seed_range(args: &Args) -> anyhow::Result<std::ops::Range<u64>> {
    let Some(text) = &args.seeds else {
        return Ok(args.seed..args.seed + 1);
    };
    let (a, b) = text
        .split_once("..")
        .with_context(|| format!("--seeds {text:?}: expected A..B"))?;
    let (a, b): (u64, u64) = (a.trim().parse()?, b.trim().parse()?);
    anyhow::ensure!(a < b, "--seeds {text:?}: the range is empty");
    Ok(a..b)
}

/// Runs `understudy-sim simulate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let seeds = seed_range(&args)?;
    let mut failed = false;
    for path in &args.scenarios {
        let scenario = Scenario::load(path)?;
        let started = Instant::now();
        let mut runs = 0;
        for seed in seeds.clone() {
            let trace_file: Option<Box<dyn std::io::Write>> = match &args.trace {
                Some(file) if seed + 1 == seeds.end => Some(Box::new(std::io::BufWriter::new(
                    std::fs::File::create(file).with_context(|| format!("{}", file.display()))?,
                ))),
                _ => None,
            };
            let outcome = simulate(&scenario, seed, trace_file, None)?;
            runs += 1;
            if seeds.end - seeds.start == 1 || outcome.violation.is_some() {
                println!("{}", outcome.render());
            }
            failed |= outcome.violation.is_some();
        }
        if runs > 1 {
            println!(
                "{}: {runs} seeds {}..{} in {:.1} s{}",
                scenario.name,
                seeds.start,
                seeds.end,
                started.elapsed().as_secs_f64(),
                if failed { "" } else { ", all invariants held" }
            );
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
