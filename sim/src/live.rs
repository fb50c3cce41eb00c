//! Live drills against real `understudy` processes (`understudy-sim drill`,
//! `understudy-sim demo`).

/// Arguments of `understudy-sim drill`.
#[derive(Debug, clap::Args)]
pub struct DrillArgs {}

/// Arguments of `understudy-sim demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// Runs `understudy-sim drill`.
pub fn drill(_args: DrillArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("live drills are not built yet")
}

/// Runs `understudy-sim demo`.
pub fn demo(_args: DemoArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the demo is not built yet")
}
