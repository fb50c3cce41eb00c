//! The daemon under test: a config builder mirroring the node's config keys,
//! the process, `understudy ctl`, and its metrics.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::client::soa_serial;
use crate::env::{TestDir, free_port, workspace_root};
use crate::metrics::{Metrics, http_get};
use crate::process::{Daemon, STOP_GRACE, run, wait_until};
use crate::servers::TsigKey;

/// The `understudy` binary: `$UNDERSTUDY_BIN`, else the release build.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("UNDERSTUDY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/release/understudy"));
    assert!(
        path.is_file(),
        "understudy binary not found at {}: run `cargo build --release --bins` \
         (or set UNDERSTUDY_BIN)",
        path.display()
    );
    path
}

/// Quotes a string as a TOML basic string.
fn toml_string(value: &str) -> String {
    let mut quoted = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

fn toml_list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| toml_string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// One `[[zone]]` table.
#[derive(Debug, Clone)]
pub struct ZoneConfig {
    /// `name`.
    pub name: String,
    /// `primaries`, tried in order.
    pub primaries: Vec<SocketAddr>,
    /// `tsig_key`.
    pub tsig_key: Option<String>,
    /// `allow_transfer` (prefixes and `key:NAME`).
    pub allow_transfer: Vec<String>,
    /// `allow_notify`.
    pub allow_notify: Vec<String>,
    /// Further keys, raw TOML values (`("expiry_policy", "\"never\"")`).
    pub extra: Vec<(String, String)>,
}

impl ZoneConfig {
    /// A zone transferred from `primaries`.
    pub fn new(name: &str, primaries: &[SocketAddr]) -> ZoneConfig {
        ZoneConfig {
            name: name.to_string(),
            primaries: primaries.to_vec(),
            tsig_key: None,
            allow_transfer: Vec::new(),
            allow_notify: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Sets `tsig_key`.
    pub fn tsig_key(mut self, key: &str) -> ZoneConfig {
        self.tsig_key = Some(key.to_string());
        self
    }

    /// Adds an `allow_transfer` entry.
    pub fn allow_transfer(mut self, entry: &str) -> ZoneConfig {
        self.allow_transfer.push(entry.to_string());
        self
    }

    /// Adds an `allow_notify` entry.
    pub fn allow_notify(mut self, entry: &str) -> ZoneConfig {
        self.allow_notify.push(entry.to_string());
        self
    }

    /// Sets any other zone key to a raw TOML value.
    pub fn set(mut self, key: &str, toml_value: &str) -> ZoneConfig {
        self.extra.push((key.to_string(), toml_value.to_string()));
        self
    }

    fn write(&self, text: &mut String) {
        let primaries: Vec<String> = self.primaries.iter().map(ToString::to_string).collect();
        let _ = write!(
            text,
            "\n[[zone]]\nname = {}\nprimaries = {}\n",
            toml_string(&self.name),
            toml_list(&primaries)
        );
        if let Some(key) = &self.tsig_key {
            let _ = writeln!(text, "tsig_key = {}", toml_string(key));
        }
        if !self.allow_transfer.is_empty() {
            let _ = writeln!(text, "allow_transfer = {}", toml_list(&self.allow_transfer));
        }
        if !self.allow_notify.is_empty() {
            let _ = writeln!(text, "allow_notify = {}", toml_list(&self.allow_notify));
        }
        for (key, value) in &self.extra {
            let _ = writeln!(text, "{key} = {value}");
        }
    }
}

/// The node config, written as TOML with the keys of the config reference.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[node] id`.
    pub node_id: String,
    /// `[dns] listen` is 127.0.0.1 and ::1 at this port.
    pub port: u16,
    /// `[dns] udp_workers`.
    pub udp_workers: u32,
    /// Further `[dns]` keys, raw TOML values.
    pub dns: Vec<(String, String)>,
    /// `[zone_defaults]` keys, raw TOML values.
    pub zone_defaults: Vec<(String, String)>,
    /// `[[tsig_key]]` tables.
    pub tsig_keys: Vec<TsigKey>,
    /// `[[zone]]` tables.
    pub zones: Vec<ZoneConfig>,
    /// `[metrics] listen` port on 127.0.0.1.
    pub metrics_port: u16,
    /// `[log] level`.
    pub log_level: String,
    /// `[node] region`.
    pub region: String,
    /// Further tables, raw TOML appended to the file (`[cluster]`, …).
    pub tables: Vec<String>,
}

impl Config {
    /// A node with a fresh port, metrics enabled, one UDP worker, debug logs.
    pub fn new(node_id: &str) -> Config {
        Config {
            node_id: node_id.to_string(),
            port: free_port(),
            udp_workers: 1,
            dns: Vec::new(),
            zone_defaults: Vec::new(),
            tsig_keys: Vec::new(),
            zones: Vec::new(),
            metrics_port: free_port(),
            log_level: "debug".to_string(),
            region: "test".to_string(),
            tables: Vec::new(),
        }
    }

    /// Adds a zone.
    pub fn zone(mut self, zone: ZoneConfig) -> Config {
        self.zones.push(zone);
        self
    }

    /// Adds a TSIG key.
    pub fn tsig_key(mut self, key: TsigKey) -> Config {
        self.tsig_keys.push(key);
        self
    }

    /// Adds a table written verbatim (e.g. `[[catalog]]`).
    pub fn table(mut self, toml: &str) -> Config {
        self.tables.push(toml.to_string());
        self
    }

    /// Sets a `[dns]` key to a raw TOML value.
    pub fn dns(mut self, key: &str, toml_value: &str) -> Config {
        self.dns.push((key.to_string(), toml_value.to_string()));
        self
    }

    /// Sets a `[zone_defaults]` key to a raw TOML value.
    pub fn zone_default(mut self, key: &str, toml_value: &str) -> Config {
        self.zone_defaults
            .push((key.to_string(), toml_value.to_string()));
        self
    }

    /// The TOML text, with `data_dir` and the control socket under `dir`.
    pub fn to_toml(&self, dir: &std::path::Path) -> String {
        let mut text = format!(
            "version = 1\n\n[node]\nid = {}\nregion = {}\ndata_dir = {}\n\n\
             [dns]\nlisten = [\"127.0.0.1:{port}\", \"[::1]:{port}\"]\nudp_workers = {}\n",
            toml_string(&self.node_id),
            toml_string(&self.region),
            toml_string(&dir.join("data").display().to_string()),
            self.udp_workers,
            port = self.port,
        );
        for (key, value) in &self.dns {
            let _ = writeln!(text, "{key} = {value}");
        }
        let _ = write!(
            text,
            "\n[control]\nsocket = {}\n\n[metrics]\nlisten = \"127.0.0.1:{}\"\n\n\
             [log]\nformat = \"text\"\nlevel = {}\n",
            toml_string(&dir.join("control.sock").display().to_string()),
            self.metrics_port,
            toml_string(&self.log_level)
        );
        if !self.zone_defaults.is_empty() {
            text.push_str("\n[zone_defaults]\n");
            for (key, value) in &self.zone_defaults {
                let _ = writeln!(text, "{key} = {value}");
            }
        }
        for key in &self.tsig_keys {
            let _ = write!(
                text,
                "\n[[tsig_key]]\nname = {}\nalgorithm = {}\nsecret = {}\n",
                toml_string(&key.name),
                toml_string(&key.algorithm),
                toml_string(&key.secret)
            );
        }
        for table in &self.tables {
            let _ = write!(text, "\n{table}\n");
        }
        for zone in &self.zones {
            zone.write(&mut text);
        }
        text
    }
}

/// Runs `understudy check-config` on `config` written to a scratch dir;
/// returns (success, output).
pub fn check_config(config: &Config) -> (bool, String) {
    check_config_text(&config.to_toml(&std::env::temp_dir().join("understudy-e2e-check")))
}

/// Runs `understudy check-config` on a config file with this text.
pub fn check_config_text(text: &str) -> (bool, String) {
    let dir = TestDir::new("check-config");
    let path = dir.write("understudy.toml", text);
    let mut command = Command::new(binary());
    command.arg("check-config").arg(path);
    run(command)
}

/// A running understudy node.
#[derive(Debug)]
pub struct Understudy {
    config: Config,
    daemon: Option<Daemon>,
    dir: TestDir,
}

impl Understudy {
    /// Writes the config and starts the daemon (without waiting for zones).
    pub fn start(config: Config) -> Understudy {
        let dir = TestDir::new(&format!("understudy-{}", config.node_id));
        let mut node = Understudy {
            config,
            daemon: None,
            dir,
        };
        node.write_config();
        node.launch();
        node
    }

    /// Starts the daemon and waits until every configured zone answers.
    pub fn start_serving(config: Config, timeout: Duration) -> Understudy {
        let node = Understudy::start(config);
        for zone in node.config.zones.clone() {
            node.wait_zone(&zone.name, timeout);
        }
        node
    }

    fn write_config(&self) {
        self.dir
            .write("understudy.toml", &self.config.to_toml(self.dir.path()));
    }

    fn launch(&mut self) {
        let mut command = Command::new(binary());
        command.arg("run").arg("--config").arg(self.config_path());
        let daemon = Daemon::spawn("understudy", command, &self.dir.join("understudy.log"));
        self.daemon = Some(daemon);
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("understudy.toml")
    }

    /// The config it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the config file (takes effect at the next start).
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
        self.write_config();
    }

    /// `data_dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// 127.0.0.1 at the node's port.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.config.port))
    }

    /// ::1 at the node's port.
    pub fn addr6(&self) -> SocketAddr {
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, self.config.port))
    }

    /// The metrics listener.
    pub fn metrics_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.config.metrics_port))
    }

    /// The serial served for `zone`, if answered authoritatively.
    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr(), zone)
    }

    /// Waits until `zone` answers authoritatively; returns its serial.
    pub fn wait_zone(&self, zone: &str, timeout: Duration) -> u32 {
        let mut serial = None;
        wait_until(timeout, &format!("understudy serves {zone}"), || {
            self.assert_running();
            serial = self.serial(zone);
            serial.is_some()
        });
        serial.unwrap_or_default()
    }

    /// Waits until `zone` is served at `serial`; returns how long it took.
    pub fn wait_serial(&self, zone: &str, serial: u32, timeout: Duration) -> Duration {
        wait_until(
            timeout,
            &format!("understudy serves {zone} at serial {serial}"),
            || {
                self.assert_running();
                self.serial(zone) == Some(serial)
            },
        )
    }

    fn assert_running(&self) {
        if let Some(daemon) = &self.daemon {
            assert!(
                daemon.is_alive(),
                "understudy exited; log:\n{}",
                daemon.log_tail(60)
            );
        }
    }

    /// Runs `understudy ctl --config FILE ARGS…`; returns (success, output).
    pub fn ctl(&self, args: &[&str]) -> (bool, String) {
        let mut command = Command::new(binary());
        command
            .arg("ctl")
            .arg("--config")
            .arg(self.config_path())
            .args(args);
        run(command)
    }

    /// Runs a `ctl` read with `--json` and parses the output.
    pub fn ctl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let (ok, text) = self.ctl(&all);
        assert!(ok, "understudy ctl {all:?} failed:\n{text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("ctl {all:?} printed invalid JSON ({e}):\n{text}"))
    }

    /// Every zone's entry of `ctl zone status --json` (the `zones` array).
    pub fn zone_statuses(&self) -> Vec<serde_json::Value> {
        let status = self.ctl_json(&["zone", "status"]);
        let zones = status.get("zones").unwrap_or(&status);
        zones.as_array().cloned().unwrap_or_default()
    }

    /// Like [`Understudy::zone_statuses`], `None` while `ctl` fails (for
    /// instance before the control socket exists).
    pub fn try_zone_statuses(&self) -> Option<Vec<serde_json::Value>> {
        let (ok, text) = self.ctl(&["zone", "status", "--json"]);
        let status: serde_json::Value = serde_json::from_str(&text).ok().filter(|_| ok)?;
        let zones = status.get("zones").unwrap_or(&status);
        zones.as_array().cloned()
    }

    /// Scrapes `/metrics`.
    pub fn metrics(&self) -> Metrics {
        let (status, body) = http_get(self.metrics_addr(), "/metrics")
            .unwrap_or_else(|e| panic!("cannot scrape {}: {e}", self.metrics_addr()));
        assert_eq!(status, 200, "/metrics answered {status}:\n{body}");
        Metrics::parse(&body)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            daemon.kill();
        }
    }

    /// SIGTERM and wait; returns whether it exited cleanly without SIGKILL.
    pub fn stop(&mut self) -> bool {
        match self.daemon.take() {
            Some(mut daemon) => matches!(
                daemon.terminate(STOP_GRACE),
                Some((status, false)) if status.success()
            ),
            None => true,
        }
    }

    /// Sends a signal without waiting.
    pub fn signal(&self, signal: i32) {
        if let Some(daemon) = &self.daemon {
            daemon.signal(signal);
        }
    }

    /// Waits for the process to exit after a signal.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let status = self.daemon.as_mut()?.wait_exit(timeout);
        if status.is_some() {
            self.daemon = None;
        }
        status
    }

    /// Stops (if running) and starts again with the same config and data.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Everything it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("understudy.log")).unwrap_or_default()
    }

    /// Its scratch directory.
    pub fn dir(&self) -> &TestDir {
        &self.dir
    }
}

/// A status entry's time field (`next_refresh`, `expires_at`, …) in Unix
/// seconds: either a number or an object with `unix_seconds`.
pub fn status_time(entry: &serde_json::Value, field: &str) -> Option<i64> {
    let value = entry.get(field)?;
    value.as_i64().or_else(|| {
        value
            .get("unix_seconds")
            .and_then(serde_json::Value::as_i64)
    })
}

/// A status entry's zone name (`zone` or `name`).
pub fn status_zone(entry: &serde_json::Value) -> Option<&str> {
    entry
        .get("zone")
        .or_else(|| entry.get("name"))
        .and_then(serde_json::Value::as_str)
}
