//! `understudy-sim`: simulate, drill and demo an understudy fleet.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use understudy_sim::{live, simulate};

#[derive(Parser)]
#[command(name = "understudy-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs scenarios in the deterministic simulator.
    Simulate(simulate::Args),
    /// Runs a scenario against real understudy processes on loopback.
    Drill(live::DrillArgs),
    /// A built-in primary and a 3-region cluster, a failover drill, a report.
    Demo(live::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(args),
        Command::Drill(args) => live::drill(args),
        Command::Demo(args) => live::demo(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("understudy-sim: {error:#}");
            ExitCode::FAILURE
        }
    }
}
