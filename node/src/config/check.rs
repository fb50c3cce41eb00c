//! `understudy check-config FILE`: `ok` and a summary, or the error.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use super::{Config, format_duration, format_size};

/// Loads the file and prints `ok` with a summary on stdout (exit 0), or the
/// error on stderr (exit 1).
pub fn check_config(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            println!("ok");
            print!("{}", summary(&config));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What the config will run, one fact per line.
pub fn summary(config: &Config) -> String {
    let mut out = String::new();
    let listen: Vec<String> = config.dns.listen.iter().map(|a| a.to_string()).collect();
    let metrics = config
        .metrics
        .listen
        .map_or_else(|| "off".to_owned(), |address| address.to_string());
    let defaults = &config.zone_defaults;
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "node      {} (region {})",
        config.node.id, config.node.region
    );
    let _ = writeln!(out, "data_dir  {}", config.node.data_dir.display());
    let _ = writeln!(out, "dns       {}", listen.join(", "));
    let _ = writeln!(out, "control   {}", config.control.socket.display());
    let _ = writeln!(out, "metrics   {metrics}");
    let health = &config.health;
    let _ = writeln!(
        out,
        "health    rise {}, fall {}, max lag {}, every {}",
        health.machine.rise,
        health.machine.fall,
        format_duration(health.machine.max_lag),
        format_duration(health.interval),
    );
    let _ = writeln!(
        out,
        "defaults  expiry {}, refresh {}..{}, retry {}..{}, expire {}..{}, max {} records / {}",
        defaults.expiry_policy,
        format_duration(defaults.refresh_min),
        format_duration(defaults.refresh_max),
        format_duration(defaults.retry_min),
        format_duration(defaults.retry_max),
        format_duration(defaults.expire_min),
        format_duration(defaults.expire_max),
        defaults.max_records,
        format_size(defaults.max_zone_bytes),
    );
    let _ = writeln!(out, "tsig keys {}", config.tsig_keys.len());
    let _ = writeln!(out, "zones     {}", config.zones.len());
    for zone in &config.zones {
        let primaries: Vec<String> = zone.primaries.iter().map(|a| a.to_string()).collect();
        let key = zone
            .tsig_key
            .as_ref()
            .map_or_else(String::new, |key| format!(" key {key}"));
        let _ = writeln!(out, "  {} from {}{key}", zone.name, primaries.join(", "));
    }
    for catalog in &config.catalogs {
        let primaries = catalog.template.primaries.join(", ");
        let _ = writeln!(out, "catalog   {} (members from {primaries})", catalog.zone);
    }
    out
}
