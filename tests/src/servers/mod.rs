//! Real Knot, NSD and BIND instances on loopback high ports, as primaries
//! (zones from text) or secondaries (zones from another server).
//!
//! What each can do as a primary here (Debian 12 packages):
//!
//! | | IXFR out | NOTIFY out | DNSSEC signing |
//! | --- | --- | --- | --- |
//! | Knot 3.2 | from its journal (`zonefile-load: difference`) | on every new serial | yes (`dnssec-signing`) |
//! | BIND 9.18 | from its journal (`ixfr-from-differences yes`) | `also-notify` | not used here |
//! | NSD 4.6 | never: an IXFR query gets the full zone AXFR-style | `notify:` | no |

mod bind;
mod knot;
mod nsd;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::client::soa_serial;
use crate::env::{TestDir, free_port};
use crate::process::{Daemon, STOP_GRACE, poll_until, wait_until};

/// How long a server may take to start answering its zones.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A TSIG key shared by servers and clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// Key name (`xfr-key`).
    pub name: String,
    /// `hmac-sha256`, `hmac-sha1`, …
    pub algorithm: String,
    /// The secret, base64.
    pub secret: String,
}

impl TsigKey {
    /// A key from its parts.
    pub fn new(name: &str, algorithm: &str, secret: &str) -> TsigKey {
        TsigKey {
            name: name.to_string(),
            algorithm: algorithm.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The key in BIND key-file syntax (also what `kdig -k` and `dig -k` read).
    pub fn to_bind_conf(&self) -> String {
        format!(
            "key \"{}\" {{\n    algorithm {};\n    secret \"{}\";\n}};\n",
            self.name, self.algorithm, self.secret
        )
    }

    /// `ALGORITHM:NAME:SECRET` as `dig -y` and `kdig -y` take it.
    pub fn to_dig_arg(&self) -> String {
        format!("{}:{}:{}", self.algorithm, self.name, self.secret)
    }
}

/// DNSSEC signing by the primary (Knot only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Authenticated denial with NSEC.
    Nsec,
    /// Authenticated denial with NSEC3 (salted, opt-out off).
    Nsec3,
}

/// Where a zone comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneSource {
    /// Master-file text served as a primary.
    Text(String),
    /// Transferred from these primaries, as a secondary.
    Primaries(Vec<SocketAddr>),
}

/// One zone of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSpec {
    /// Zone name, absolute (`example.`).
    pub name: String,
    /// Primary text or primaries to transfer from.
    pub source: ZoneSource,
}

/// Everything a server is started with.
#[derive(Debug, Clone, Default)]
pub struct ServerSpec {
    /// Served zones.
    pub zones: Vec<ZoneSpec>,
    /// TSIG key required for transfers out and used for NOTIFY out and
    /// transfers in.
    pub tsig: Option<TsigKey>,
    /// Secondaries to send NOTIFY to.
    pub notify: Vec<SocketAddr>,
    /// Address prefixes allowed to transfer (default 127.0.0.0/8 and ::1).
    pub allow_transfer: Vec<String>,
    /// Keep a journal so that IXFR is served (Knot, BIND).
    pub ixfr: bool,
    /// Sign the primary zones (Knot).
    pub signing: Option<Signing>,
    /// Also listen on ::1.
    pub ipv6: bool,
    /// NSID, CHAOS identity and version string (default: the server's own).
    pub identity: Option<String>,
    /// The port to listen on (default: a fresh free port), so that a
    /// primary can be told where its secondary will be before it starts.
    pub port: Option<u16>,
}

impl ServerSpec {
    /// An empty spec.
    pub fn new() -> ServerSpec {
        ServerSpec::default()
    }

    /// Adds a zone served from text.
    pub fn primary_zone(mut self, name: &str, text: &str) -> ServerSpec {
        self.zones.push(ZoneSpec {
            name: name.to_string(),
            source: ZoneSource::Text(text.to_string()),
        });
        self
    }

    /// Adds a zone transferred from `primaries`.
    pub fn secondary_zone(mut self, name: &str, primaries: &[SocketAddr]) -> ServerSpec {
        self.zones.push(ZoneSpec {
            name: name.to_string(),
            source: ZoneSource::Primaries(primaries.to_vec()),
        });
        self
    }

    /// Requires and uses a TSIG key.
    pub fn tsig(mut self, key: TsigKey) -> ServerSpec {
        self.tsig = Some(key);
        self
    }

    /// Sends NOTIFY to `secondary` on every new serial.
    pub fn notify(mut self, secondary: SocketAddr) -> ServerSpec {
        self.notify.push(secondary);
        self
    }

    /// Allows transfers from `prefix` (replaces the loopback default).
    pub fn allow_transfer(mut self, prefix: &str) -> ServerSpec {
        self.allow_transfer.push(prefix.to_string());
        self
    }

    /// Keeps a journal and serves IXFR.
    pub fn ixfr(mut self) -> ServerSpec {
        self.ixfr = true;
        self
    }

    /// Signs the primary zones.
    pub fn sign(mut self, signing: Signing) -> ServerSpec {
        self.signing = Some(signing);
        self
    }

    /// Listens on ::1 too.
    pub fn ipv6(mut self) -> ServerSpec {
        self.ipv6 = true;
        self
    }

    /// Answers NSID, `id.server`/`hostname.bind` and `version.bind` with
    /// `identity`.
    pub fn identity(mut self, identity: &str) -> ServerSpec {
        self.identity = Some(identity.to_string());
        self
    }

    /// Listens on `port` instead of a fresh one.
    pub fn port(mut self, port: u16) -> ServerSpec {
        self.port = Some(port);
        self
    }

    fn transfer_prefixes(&self) -> Vec<String> {
        if self.allow_transfer.is_empty() {
            vec!["127.0.0.0/8".into(), "::1".into()]
        } else {
            self.allow_transfer.clone()
        }
    }
}

/// Which implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Knot DNS (`knotd`, `knotc`).
    Knot,
    /// NSD (`nsd`, `nsd-control`).
    Nsd,
    /// BIND 9 (`named`, `rndc`).
    Bind,
}

impl Kind {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Knot => "knot",
            Kind::Nsd => "nsd",
            Kind::Bind => "bind",
        }
    }
}

/// A running (or stopped) server with its own directory and port.
#[derive(Debug)]
pub struct Server {
    kind: Kind,
    spec: ServerSpec,
    port: u16,
    control_port: u16,
    daemon: Option<Daemon>,
    dir: TestDir,
}

impl Server {
    /// Writes the config and zone files, starts the server and waits until
    /// every primary zone answers its SOA.
    pub fn start(kind: Kind, spec: ServerSpec) -> Server {
        let dir = TestDir::new(kind.name());
        let port = spec.port.unwrap_or_else(free_port);
        let mut server = Server {
            kind,
            spec,
            port,
            control_port: free_port(),
            daemon: None,
            dir,
        };
        for sub in ["zones", "db"] {
            std::fs::create_dir_all(server.dir.join(sub))
                .unwrap_or_else(|e| panic!("cannot create {sub} dir: {e}"));
        }
        for zone in server.spec.zones.clone() {
            if let ZoneSource::Text(text) = &zone.source {
                std::fs::write(server.zone_file(&zone.name), text)
                    .unwrap_or_else(|e| panic!("cannot write zone {}: {e}", zone.name));
            }
        }
        server.write_config();
        server.launch();
        server
    }

    /// Which implementation this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The IPv4 address it answers on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The IPv6 address it answers on, when started with `ipv6`.
    pub fn addr6(&self) -> Option<SocketAddr> {
        self.spec
            .ipv6
            .then(|| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, self.port)))
    }

    /// The serial it serves for `zone`, if it answers authoritatively.
    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr(), zone)
    }

    /// Waits until it serves `zone` at `serial` (secondaries).
    pub fn wait_serial(&self, zone: &str, serial: u32, timeout: Duration) -> Duration {
        wait_until(
            timeout,
            &format!("{} serves {zone} at serial {serial}", self.kind.name()),
            || self.serial(zone) == Some(serial),
        )
    }

    /// Replaces a primary zone's text and has the server reload it, which
    /// sends NOTIFY to the configured secondaries.
    pub fn update_zone(&mut self, zone: &str, text: &str) {
        std::fs::write(self.zone_file(zone), text)
            .unwrap_or_else(|e| panic!("cannot write zone {zone}: {e}"));
        match self.kind {
            Kind::Knot => knot::control(self, &["zone-reload", zone]),
            Kind::Nsd => nsd::control(self, &["reload", zone]),
            Kind::Bind => bind::control(self, &["reload", zone]),
        }
    }

    /// Sends NOTIFY for `zone` to the configured secondaries now.
    pub fn notify(&self, zone: &str) {
        match self.kind {
            Kind::Knot => knot::control(self, &["zone-notify", zone]),
            Kind::Nsd => nsd::control(self, &["notify", zone]),
            Kind::Bind => bind::control(self, &["notify", zone]),
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL); its files stay.
    pub fn stop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            daemon.terminate(STOP_GRACE);
        }
    }

    /// Starts it again after [`Server::stop`], same port, same files.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// How many outgoing AXFR/IXFR transfers its log shows.
    pub fn transfers_served(&self) -> usize {
        let log = self.log();
        log.lines()
            .filter(|line| match self.kind {
                Kind::Knot => knot::is_transfer_out(line),
                Kind::Nsd => nsd::is_transfer_out(line),
                Kind::Bind => bind::is_transfer_out(line),
            })
            .count()
    }

    /// Everything it logged.
    pub fn log(&self) -> String {
        self.daemon.as_ref().map(Daemon::log).unwrap_or_else(|| {
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        })
    }

    /// Its scratch directory.
    pub fn dir(&self) -> &TestDir {
        &self.dir
    }

    /// The spec it was started with.
    pub fn spec(&self) -> &ServerSpec {
        &self.spec
    }

    fn zone_file(&self, zone: &str) -> PathBuf {
        self.dir.join("zones").join(zone_file_name(zone))
    }

    fn write_config(&self) {
        let text = match self.kind {
            Kind::Knot => knot::config(self),
            Kind::Nsd => nsd::config(self),
            Kind::Bind => bind::config(self),
        };
        self.dir.write(config_name(self.kind), &text);
        if self.kind == Kind::Bind {
            self.dir.write("rndc.conf", &bind::rndc_config(self));
        }
    }

    fn launch(&mut self) {
        let config = self.dir.join(config_name(self.kind));
        let command = match self.kind {
            Kind::Knot => knot::command(&config),
            Kind::Nsd => nsd::command(&config),
            Kind::Bind => bind::command(&config),
        };
        let daemon = Daemon::spawn(self.kind.name(), command, &self.dir.join("server.log"));
        self.daemon = Some(daemon);
        let zones: Vec<String> = self
            .spec
            .zones
            .iter()
            .filter(|z| matches!(z.source, ZoneSource::Text(_)))
            .map(|z| z.name.clone())
            .collect();
        let ready = poll_until(START_TIMEOUT, || {
            zones.iter().all(|zone| self.serial(zone).is_some()) && self.control_ready()
        });
        assert!(
            ready,
            "{} did not start serving {zones:?} within {START_TIMEOUT:?}; log:\n{}",
            self.kind.name(),
            self.log()
        );
    }

    fn control_ready(&self) -> bool {
        match self.kind {
            Kind::Knot => knot::try_control(self, &["status"]).0,
            Kind::Nsd => nsd::try_control(self, &["status"]).0,
            Kind::Bind => bind::try_control(self, &["status"]).0,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "{} on port {} kept its files in {}",
                self.kind.name(),
                self.port,
                self.dir.path().display()
            );
        }
    }
}

fn config_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Knot => "knot.conf",
        Kind::Nsd => "nsd.conf",
        Kind::Bind => "named.conf",
    }
}

/// `example.` → `example.zone`, the root → `root.zone`.
fn zone_file_name(zone: &str) -> String {
    let trimmed = zone.trim_end_matches('.');
    if trimmed.is_empty() {
        "root.zone".into()
    } else {
        format!("{trimmed}.zone")
    }
}

/// Starts a Knot server.
pub fn knot(spec: ServerSpec) -> Server {
    Server::start(Kind::Knot, spec)
}

/// Starts an NSD server.
pub fn nsd(spec: ServerSpec) -> Server {
    Server::start(Kind::Nsd, spec)
}

/// Starts a BIND server.
pub fn bind(spec: ServerSpec) -> Server {
    Server::start(Kind::Bind, spec)
}
