//! The running node: the zone table and the drivers of each zone's refresh machine.

use std::path::Path;
use std::process::ExitCode;

/// Runs the daemon with the configuration at `path` until SIGTERM or SIGINT.
pub fn run(path: &Path) -> ExitCode {
    match understudy_node_config_check(path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("understudy: {message}");
            ExitCode::FAILURE
        }
    }
}

fn understudy_node_config_check(path: &Path) -> Result<(), String> {
    crate::config::Config::load(path)
        .map(|_| ())
        .map_err(|error| error.to_string())
}
