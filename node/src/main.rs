//! `understudy`: the secondary authoritative DNS daemon and its tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use understudy_node::{cert, config, control, keygen, server};

/// A secondary authoritative DNS node.
#[derive(Parser)]
#[command(name = "understudy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the daemon in the foreground.
    Run {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Checks a configuration file and prints a summary.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Controls a running node over its local control socket.
    Ctl(control::CtlArgs),
    /// Generates key material.
    Keygen(keygen::KeygenArgs),
    /// Makes and shows the cluster's CA, node certificates and gossip key.
    Cert(cert::CertArgs),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    if !matches!(command, Command::Run { .. }) {
        restore_sigpipe();
    }
    match command {
        Command::Run { config } => server::run(&config),
        Command::CheckConfig { file } => config::check_config(&file),
        Command::Ctl(args) => control::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Cert(args) => cert::run(args),
    }
}

/// Lets the one-shot commands end quietly when their output pipe closes
/// (`understudy ctl … | head`), as command-line tools do. The daemon keeps
/// Rust's default of ignoring SIGPIPE: a client hanging up must not kill it.
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to the default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
