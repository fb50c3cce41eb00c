//! Knot, BIND and NSD as primaries (and Knot as a secondary), each a child
//! process of the test, killed when dropped.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use understudy_proto::Name;

use super::{TempDir, free_port, wait_for_serial, wait_for_soa};

/// A TSIG key as the servers' configs spell it.
#[derive(Clone, Debug)]
pub struct TsigSpec {
    pub name: String,
    pub algorithm: &'static str,
    pub secret: Vec<u8>,
}

/// A server process with its directory; killed and reaped when dropped.
pub struct Daemon {
    child: Child,
    pub dir: TempDir,
    pub port: u16,
    log: PathBuf,
    label: &'static str,
}

impl Daemon {
    fn spawn(label: &'static str, dir: TempDir, port: u16, program: &str, args: &[&str]) -> Daemon {
        let log = dir.path().join(format!("{label}.log"));
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|error| panic!("{program} must be installed for this test: {error}"));
        Daemon {
            child,
            dir,
            port,
            log,
            label,
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGHUP (reload) to this server process.
    pub fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn write_zone(&self, text: &str) {
        let path = self.dir.path().join("zone.db");
        fs::write(&path, text).unwrap();
        bump_mtime(&path);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- {} log ----\n{}", self.label, self.log());
        }
    }
}

/// Moves a file's mtime ahead, so a reload within the same second as the
/// first load still sees a change.
#[allow(clippy::disallowed_methods)]
fn bump_mtime(path: &std::path::Path) {
    let file = fs::File::options().write(true).open(path).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(2);
    file.set_modified(later).unwrap();
}

fn zone_serial(text: &str) -> u32 {
    let line = text.lines().find(|line| line.contains(" SOA ")).unwrap();
    line.split_whitespace().nth(5).unwrap().parse().unwrap()
}

/// Knot DNS.
pub struct Knot {
    pub daemon: Daemon,
    config: PathBuf,
    zone: Name,
}

impl Knot {
    /// A primary for `zone` holding `text`, serving transfers to 127.0.0.1
    /// signed with any of `keys` (unsigned if there are none), keeping
    /// journal diffs for IXFR when the zone file changes.
    pub fn primary(zone: &str, text: &str, keys: &[TsigSpec]) -> Knot {
        let dir = TempDir::new("knot");
        let port = free_port();
        let d = dir.path().display();
        let mut config = format!(
            "server:\n  rundir: \"{d}\"\n  listen: 127.0.0.1@{port}\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n\
             control:\n  listen: \"{d}/knot.sock\"\n\
             database:\n  storage: \"{d}\"\n\
             log:\n  - target: stderr\n    any: info\n"
        );
        config.push_str(&knot_keys(keys));
        config.push_str(&format!(
            "acl:\n  - id: transfer\n    address: 127.0.0.1\n    action: transfer\n{}",
            knot_key_list(keys)
        ));
        config.push_str(&format!(
            "zone:\n  - domain: {zone}\n    file: \"{d}/zone.db\"\n    acl: transfer\n    zonefile-sync: -1\n    \
             zonefile-load: difference\n    journal-content: changes\n    semantic-checks: off\n"
        ));
        Knot::start(dir, port, zone, text, &config)
    }

    /// A secondary for `zone` whose primary is `primary_port` (where nothing
    /// need listen), accepting NOTIFY from 127.0.0.1 signed with any of `keys`.
    pub fn secondary(zone: &str, primary_port: u16, keys: &[TsigSpec]) -> Knot {
        let dir = TempDir::new("knot2");
        let port = free_port();
        let d = dir.path().display();
        let mut config = format!(
            "server:\n  rundir: \"{d}\"\n  listen: 127.0.0.1@{port}\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n\
             database:\n  storage: \"{d}\"\n\
             log:\n  - target: stderr\n    any: debug\n"
        );
        config.push_str(&knot_keys(keys));
        config.push_str(&format!(
            "remote:\n  - id: primary\n    address: 127.0.0.1@{primary_port}\n\
             acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n{}",
            knot_key_list(keys)
        ));
        config.push_str(&format!(
            "zone:\n  - domain: {zone}\n    file: \"{d}/zone.db\"\n    master: primary\n    acl: notify\n"
        ));
        let config_path = dir.path().join("knot.conf");
        fs::write(&config_path, config).unwrap();
        let path = config_path.display().to_string();
        let daemon = Daemon::spawn("knotd", dir, port, "knotd", &["-c", &path]);
        super::wait_for_tcp(port, Duration::from_secs(10));
        Knot {
            daemon,
            config: config_path,
            zone: Name::from_ascii(zone).unwrap(),
        }
    }

    /// A secondary for `zone` transferring from `primary_port` with `key`
    /// and accepting NOTIFY signed with it.
    pub fn secondary_with_key(zone: &str, primary_port: u16, key: &TsigSpec) -> Knot {
        let dir = TempDir::new("knot3");
        let port = free_port();
        let d = dir.path().display();
        let mut config = format!(
            "server:\n  rundir: \"{d}\"\n  listen: 127.0.0.1@{port}\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n\
             database:\n  storage: \"{d}\"\n\
             log:\n  - target: stderr\n    any: info\n"
        );
        config.push_str(&knot_keys(std::slice::from_ref(key)));
        config.push_str(&format!(
            "remote:\n  - id: primary\n    address: 127.0.0.1@{primary_port}\n    key: {}\n\
             acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n    key: {}\n",
            key.name, key.name
        ));
        config.push_str(&format!(
            "zone:\n  - domain: {zone}\n    file: \"{d}/zone.db\"\n    master: primary\n    acl: notify\n    zonefile-sync: -1\n"
        ));
        let config_path = dir.path().join("knot.conf");
        fs::write(&config_path, config).unwrap();
        let path = config_path.display().to_string();
        let daemon = Daemon::spawn("knotd", dir, port, "knotd", &["-c", &path]);
        super::wait_for_tcp(port, Duration::from_secs(10));
        Knot {
            daemon,
            config: config_path,
            zone: Name::from_ascii(zone).unwrap(),
        }
    }

    fn start(dir: TempDir, port: u16, zone: &str, text: &str, config: &str) -> Knot {
        let config_path = dir.path().join("knot.conf");
        fs::write(&config_path, config).unwrap();
        fs::write(dir.path().join("zone.db"), text).unwrap();
        let path = config_path.display().to_string();
        let daemon = Daemon::spawn("knotd", dir, port, "knotd", &["-c", &path]);
        let zone = Name::from_ascii(zone).unwrap();
        wait_for_soa(port, &zone, Duration::from_secs(20));
        Knot {
            daemon,
            config: config_path,
            zone,
        }
    }

    /// Replaces the zone file and reloads it, waiting for the new serial.
    pub fn update(&self, text: &str) {
        self.daemon.write_zone(text);
        let config = self.config.display().to_string();
        let zone = self.zone.to_string();
        let status = Command::new("knotc")
            .args(["-c", &config, "zone-reload", &zone])
            .status()
            .unwrap();
        assert!(status.success(), "knotc zone-reload failed");
        wait_for_serial(
            self.daemon.port,
            &self.zone,
            zone_serial(text),
            Duration::from_secs(20),
        );
    }
}

fn knot_keys(keys: &[TsigSpec]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let mut out = "key:\n".to_string();
    for key in keys {
        out.push_str(&format!(
            "  - id: {}\n    algorithm: {}\n    secret: {}\n",
            key.name,
            key.algorithm,
            super::base64(&key.secret)
        ));
    }
    out
}

fn knot_key_list(keys: &[TsigSpec]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = keys.iter().map(|key| key.name.as_str()).collect();
    format!("    key: [{}]\n", names.join(", "))
}

/// BIND 9.
pub struct Bind {
    pub daemon: Daemon,
    zone: Name,
}

impl Bind {
    /// A primary for `zone` with `ixfr-from-differences`, transfers allowed
    /// with any of `keys` (to anyone if there are none).
    pub fn primary(zone: &str, text: &str, keys: &[TsigSpec]) -> Bind {
        let dir = TempDir::new("bind");
        let port = free_port();
        let d = dir.path().display();
        let allow = if keys.is_empty() {
            "any;".to_string()
        } else {
            keys.iter()
                .map(|key| format!("key \"{}\";", key.name))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut config = format!(
            "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  session-keyfile \"{d}/session.key\";\n  \
             managed-keys-directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  \
             recursion no;\n  notify no;\n  dnssec-validation no;\n  ixfr-from-differences yes;\n  allow-transfer {{ {allow} }};\n}};\n\
             controls {{ }};\n"
        );
        for key in keys {
            config.push_str(&format!(
                "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
                key.name,
                key.algorithm,
                super::base64(&key.secret)
            ));
        }
        config.push_str(&format!(
            "zone \"{zone}\" {{ type primary; file \"{d}/zone.db\"; }};\n"
        ));
        let config_path = dir.path().join("named.conf");
        fs::write(&config_path, config).unwrap();
        fs::write(dir.path().join("zone.db"), text).unwrap();
        let path = config_path.display().to_string();
        let daemon = Daemon::spawn("named", dir, port, "named", &["-g", "-n", "1", "-c", &path]);
        let zone = Name::from_ascii(zone).unwrap();
        wait_for_soa(port, &zone, Duration::from_secs(20));
        Bind { daemon, zone }
    }

    /// Replaces the zone file and reloads (SIGHUP), waiting for the new serial.
    pub fn update(&self, text: &str) {
        self.daemon.write_zone(text);
        self.daemon.hangup();
        wait_for_serial(
            self.daemon.port,
            &self.zone,
            zone_serial(text),
            Duration::from_secs(20),
        );
    }
}

/// NSD 4.
pub struct Nsd {
    pub daemon: Daemon,
    zone: Name,
}

impl Nsd {
    /// A primary for `zone`, transfers allowed with any of `keys` (to anyone
    /// if there are none).
    pub fn primary(zone: &str, text: &str, keys: &[TsigSpec]) -> Nsd {
        let dir = TempDir::new("nsd");
        let port = free_port();
        let d = dir.path().display();
        let mut config = format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  \
             zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  database: \"\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
             zonelistfile: \"{d}/zone.list\"\n  xfrdir: \"{d}\"\n  server-count: 1\n  verbosity: 2\n\
             remote-control:\n  control-enable: no\n"
        );
        for key in keys {
            config.push_str(&format!(
                "key:\n  name: \"{}\"\n  algorithm: {}\n  secret: \"{}\"\n",
                key.name,
                key.algorithm,
                super::base64(&key.secret)
            ));
        }
        config.push_str(&format!(
            "zone:\n  name: \"{zone}\"\n  zonefile: \"{d}/zone.db\"\n"
        ));
        if keys.is_empty() {
            config.push_str("  provide-xfr: 127.0.0.1 NOKEY\n");
        }
        for key in keys {
            config.push_str(&format!("  provide-xfr: 127.0.0.1 {}\n", key.name));
        }
        let config_path = dir.path().join("nsd.conf");
        fs::write(&config_path, config).unwrap();
        fs::write(dir.path().join("zone.db"), text).unwrap();
        let path = config_path.display().to_string();
        let daemon = Daemon::spawn("nsd", dir, port, "nsd", &["-d", "-c", &path]);
        let zone = Name::from_ascii(zone).unwrap();
        wait_for_soa(port, &zone, Duration::from_secs(30));
        Nsd { daemon, zone }
    }

    /// Replaces the zone file and reloads (SIGHUP), waiting for the new serial.
    pub fn update(&self, text: &str) {
        self.daemon.write_zone(text);
        self.daemon.hangup();
        wait_for_serial(
            self.daemon.port,
            &self.zone,
            zone_serial(text),
            Duration::from_secs(30),
        );
    }
}
