//! Live drills against real `understudy` processes (`understudy-sim drill`,
//! `understudy-sim demo`).
//!
//! The pieces: a built-in [`primary`], a [`fleet`] of node processes on
//! 127.x.y.z loopback addresses, a [`prober`] that asks every node real DNS
//! questions several times a second and polls `understudy ctl` for where
//! each copy came from, a [`story`] told from those observations as they
//! arrive, and a [`report`] (text, JSON, SVG) checked against expectations.

pub mod demo;
pub mod drill;
pub mod driver;
pub mod fleet;
pub mod namespaces;
pub mod netfilter;
pub mod observe;
pub mod primary;
pub mod prober;
pub mod report;
pub mod story;

/// Arguments of `understudy-sim drill`.
#[derive(Debug, clap::Args)]
pub struct DrillArgs {
    /// A scenario file (see `sim/scenarios/`).
    pub scenario: std::path::PathBuf,
    /// Seconds after the start at which the scenario's last step happens:
    /// longer timelines are compressed, SOA timers with them.
    #[arg(long, default_value_t = 20)]
    pub budget: u64,
    /// Directory for configs, data, logs, the report and the picture.
    #[arg(long)]
    pub work: Option<std::path::PathBuf>,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not tell the story as it happens.
    #[arg(long)]
    pub quiet: bool,
    /// `loopback`, or `namespaces`: one network namespace per region joined
    /// by a bridge (root) [default: namespaces when the scenario cuts links
    /// and they are available, else loopback].
    #[arg(long, value_enum)]
    pub network: Option<fleet::NetworkMode>,
}

/// Arguments of `understudy-sim demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for configs, data, logs, the report and the picture
    /// [default: a fresh directory under the temporary directory].
    #[arg(long)]
    pub work: Option<std::path::PathBuf>,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `understudy-sim drill`.
pub fn drill(args: DrillArgs) -> anyhow::Result<std::process::ExitCode> {
    drill::run(&drill::DrillOptions {
        scenario: args.scenario,
        budget: std::time::Duration::from_secs(args.budget.max(1)),
        work: args.work,
        json: args.json,
        quiet: args.quiet,
        network: args.network,
    })
}

/// Runs `understudy-sim demo`.
pub fn demo(args: DemoArgs) -> anyhow::Result<std::process::ExitCode> {
    demo::run(&demo::DemoOptions {
        work: args.work,
        json: args.json,
    })
}
