//! The deterministic simulator (`understudy-sim simulate`).

/// Arguments of `understudy-sim simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `understudy-sim simulate`.
pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the simulator is not built yet")
}
