//! `ctl reload`: re-reads the config file the daemon was started with and
//! applies what can change while it runs — the cluster's gossip keys, its
//! CA list, this node's certificate and the revocations — so keys and
//! certificates rotate without a restart.
//!
//! ```text
//!  ctl reload ─▶ Config::load(file)  ── refused ─▶ error, nothing changed
//!                    │ (every file read and checked, as check-config does)
//!                    ▼
//!               same node id? ─────────── no ───▶ error, nothing changed
//!                    ▼
//!               endpoint.reload(tls) ──── refused ─▶ error, nothing changed
//!                    ▼ (new handshakes use it; live peers now refused are closed)
//!               gossip.rotate_keys(keys)   (cannot fail)
//!                    ▼
//!               "cluster keys: 2 (signing …); certificates reloaded …;
//!                needs a restart: …"
//! ```
//!
//! The TLS step goes first because it is the only one that can still fail
//! after the config was accepted; gossip keys are swapped only once it has
//! succeeded, so a refused reload leaves the old keys and certificates in
//! force. Settings other than these keep their running values until a
//! restart, and the answer names them.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

use ring::hmac;

use crate::cluster::gossip::{Gossip, GossipKeys};
use crate::cluster::identity::hex;
use crate::cluster::{ClusterEndpoint, TlsError};
use crate::config::{ClusterSettings, Config, LoadError};
use crate::control::{Command, Handler, Response};

/// Message signed to name a gossip key without showing its secret.
const KEY_ID_MESSAGE: &[u8] = b"understudy gossip key id";
/// Bytes of that signature shown as the key's id.
const KEY_ID_LEN: usize = 4;

/// The running cluster transport that a reload updates.
#[derive(Clone)]
pub struct LiveCluster {
    /// Gossip, whose keys rotate. Weak, so that the control socket never
    /// keeps gossip from its graceful shutdown.
    pub gossip: Weak<Gossip>,
    /// The QUIC endpoint, whose certificates and revocations reload.
    pub endpoint: ClusterEndpoint,
}

/// Re-reads the config file and applies it.
pub struct Reloader {
    running: Arc<Config>,
    path: PathBuf,
    cluster: Option<LiveCluster>,
    /// One reload at a time, so two answers never describe a mix.
    serial: tokio::sync::Mutex<()>,
}

/// Why a reload was refused. In every case nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file, or a key or certificate it names, is unreadable or wrong.
    #[error("{0}")]
    Config(#[from] LoadError),
    /// The new file names another node; the running identity is in gossip
    /// and in the certificate peers expect.
    #[error("[node] id changed from \"{running}\" to \"{new}\"; that takes a restart")]
    NodeId {
        /// The id the node runs as.
        running: String,
        /// The id in the file.
        new: String,
    },
    /// The QUIC endpoint refused the new certificates.
    #[error("the QUIC endpoint refused the new certificates: {0}")]
    Tls(#[from] TlsError),
    /// Gossip has stopped: the node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The blocking read of the files did not complete.
    #[error("reading the configuration failed: {0}")]
    Task(String),
}

/// What a successful reload changed, as the operator is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The config file read.
    pub path: PathBuf,
    /// The cluster material now in force, when the node is clustered.
    pub cluster: Option<ClusterApplied>,
    /// Settings that differ from the running ones and wait for a restart.
    pub needs_restart: Vec<String>,
}

/// The cluster part of [`Applied`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterApplied {
    /// Ids of the gossip keys, the signing one first.
    pub key_ids: Vec<String>,
    /// CA certificates trusted.
    pub cas: usize,
    /// Revocation entries in force.
    pub revoked: usize,
    /// Live connections closed because their peer is no longer trusted.
    pub closed: usize,
}

impl Reloader {
    /// A reloader for a daemon started with `running` (read from
    /// `running.source`), updating `cluster` when it has one.
    pub fn new(running: Arc<Config>, cluster: Option<LiveCluster>) -> Reloader {
        Reloader {
            path: running.source.clone(),
            running,
            cluster,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// Reads the file, checks it and applies it; see the module docs.
    pub async fn reload(&self) -> Result<Applied, ReloadError> {
        let _one_at_a_time = self.serial.lock().await;
        let path = self.path.clone();
        let new = tokio::task::spawn_blocking(move || Config::load(&path))
            .await
            .map_err(|error| ReloadError::Task(error.to_string()))??;
        if new.node.id != self.running.node.id {
            return Err(ReloadError::NodeId {
                running: self.running.node.id.clone(),
                new: new.node.id,
            });
        }
        let cluster = match (&self.cluster, &new.cluster) {
            (Some(live), Some(settings)) => {
                let gossip = live.gossip.upgrade().ok_or(ReloadError::ShuttingDown)?;
                Some(apply(&gossip, &live.endpoint, settings)?)
            }
            _ => None,
        };
        Ok(Applied {
            path: self.path.clone(),
            cluster,
            needs_restart: needs_restart(&self.running, &new),
        })
    }
}

/// Certificates first (they can still be refused), then the keys.
fn apply(
    gossip: &Gossip,
    endpoint: &ClusterEndpoint,
    settings: &ClusterSettings,
) -> Result<ClusterApplied, ReloadError> {
    let closed = endpoint.reload(&settings.tls)?;
    gossip.rotate_keys(settings.gossip_keys.clone());
    Ok(ClusterApplied {
        key_ids: key_ids(&settings.gossip_keys),
        cas: settings.tls.ca_certificates.len(),
        revoked: settings.tls.revoked.len(),
        closed,
    })
}

/// A short id per key: the start of an HMAC of a fixed message, the same
/// on every node holding the key and revealing nothing of it.
pub fn key_ids(keys: &GossipKeys) -> Vec<String> {
    keys.verifying()
        .iter()
        .map(|key| {
            let tag = hmac::sign(key, KEY_ID_MESSAGE);
            hex(&tag.as_ref()[..KEY_ID_LEN])
        })
        .collect()
}

/// The settings of `new` that differ from `running` and are only read at
/// start-up, by their config names.
pub fn needs_restart(running: &Config, new: &Config) -> Vec<String> {
    let mut changed = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            changed.push(name.to_owned());
        }
    };
    check("node", running.node == new.node);
    check("dns", running.dns == new.dns);
    check("control", running.control == new.control);
    check("metrics", running.metrics == new.metrics);
    check("log", running.log == new.log);
    check("health", running.health == new.health);
    check("zone_defaults", running.zone_defaults == new.zone_defaults);
    check("tsig_key", running.tsig_keys == new.tsig_keys);
    check("zone", running.zones == new.zones);
    match (&running.cluster, &new.cluster) {
        (Some(running), Some(new)) => changed.extend(cluster_changes(running, new)),
        (None, None) => {}
        (None, Some(_)) => changed.push("cluster (added)".to_owned()),
        (Some(_), None) => changed.push("cluster (removed)".to_owned()),
    }
    changed
}

/// The `[cluster]` keys a reload does not apply.
fn cluster_changes(running: &ClusterSettings, new: &ClusterSettings) -> Vec<String> {
    let fields = [
        ("cluster.name", running.name == new.name),
        (
            "cluster.gossip_listen",
            running.gossip_listen == new.gossip_listen,
        ),
        (
            "cluster.quic_listen",
            running.quic_listen == new.quic_listen,
        ),
        ("cluster.advertise", running.advertise == new.advertise),
        ("cluster.seeds", running.seeds == new.seeds),
        (
            "cluster.gossip_interval",
            running.gossip_interval == new.gossip_interval,
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name.to_owned())
        .collect()
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reloaded {}", self.path.display())?;
        match &self.cluster {
            Some(cluster) => write!(f, ": {cluster}")?,
            None => f.write_str(": no cluster keys or certificates to apply")?,
        }
        if !self.needs_restart.is_empty() {
            write!(
                f,
                "; changed but only applied at a restart: {}",
                self.needs_restart.join(", ")
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ClusterApplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signing = self.key_ids.first().map_or("none", String::as_str);
        write!(
            f,
            "cluster keys: {} (signing {signing}); certificates reloaded ({} CA{}, {} revoked)",
            self.key_ids.len(),
            self.cas,
            plural(self.cas),
            self.revoked,
        )?;
        match self.closed {
            0 => Ok(()),
            closed => write!(
                f,
                "; {closed} connection{} closed (peer no longer trusted)",
                plural(closed)
            ),
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Answers `reload` itself; passes every other command to `inner`.
pub struct WithReload<H> {
    inner: H,
    reloader: Reloader,
}

impl<H> WithReload<H> {
    /// `inner` behind `reloader`.
    pub fn new(inner: H, reloader: Reloader) -> WithReload<H> {
        WithReload { inner, reloader }
    }
}

impl<H: Handler> Handler for WithReload<H> {
    async fn handle(&self, command: Command) -> Response {
        match command {
            Command::Reload => match self.reloader.reload().await {
                Ok(applied) => {
                    tracing::info!(op = "reload", "{applied}");
                    Response::done(applied.to_string())
                }
                Err(error) => {
                    tracing::warn!(op = "reload", %error, "reload refused; nothing changed");
                    Response::error(format!(
                        "reload refused, nothing changed (the running keys and \
                         certificates stay in force): {error}"
                    ))
                }
            },
            other => self.inner.handle(other).await,
        }
    }
}

#[cfg(test)]
mod tests;
