//! Live drills against real `understudy` processes (`understudy-sim drill`,
//! `understudy-sim demo`).
//!
//! The pieces: a built-in [`primary`], a [`fleet`] of node processes on
//! 127.x.y.z loopback addresses, a [`prober`] that asks every node real DNS
//! questions several times a second and polls `understudy ctl` for where
//! each copy came from, a [`story`] told from those observations as they
//! arrive, and a [`report`] (text, JSON, SVG) checked against expectations.

pub mod demo;
pub mod driver;
pub mod fleet;
pub mod observe;
pub mod primary;
pub mod prober;
pub mod report;
pub mod story;

/// Arguments of `understudy-sim drill`.
#[derive(Debug, clap::Args)]
pub struct DrillArgs {}

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
pub fn drill(_args: DrillArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("live drills are not built yet")
}

/// Runs `understudy-sim demo`.
pub fn demo(args: DemoArgs) -> anyhow::Result<std::process::ExitCode> {
    demo::run(&demo::DemoOptions {
        work: args.work,
        json: args.json,
    })
}
