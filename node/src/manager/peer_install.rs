//! Installing a version fetched from a peer, through the same path a
//! primary's transfer takes: the refresh machine decides, the writer
//! thread stores snapshot and journal, then the zone table swaps it in.
//!
//! ```text
//!   verified Fetched ─▶ accepts_version? ─no─▶ Superseded
//!                               │yes
//!                               v
//!                 writer: snapshot + journal ─fail─▶ Failed(Local), old data serves
//!                               │ok
//!                               v
//!                 handle_peer_install? ─no─▶ Superseded
//!                               │yes
//!                               v
//!                 publish ─▶ source = peer ─▶ Installed{version, age}
//! ```
//!
//! The refresh machine takes the version only once it is on disk, so a
//! failed write leaves status, gossip and answers all on the old version.
//!
//! While a primary's version of the zone is being written, a peer's is
//! not taken (reported `Superseded`): the two writes would race for the
//! disk, and the primary's version is at least as new as what the refresh
//! machine had decided on.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::oneshot;
use understudy_proto::refresh::SoaTimers;
use understudy_proto::replicate::{FetchOutcome, PeerFailure, ReplicaAction};
use understudy_proto::serial::ZoneVersion;
use understudy_proto::xfr::Journal;
use understudy_proto::zone::Snapshot;

use crate::cluster::peer::{FetchKind, Fetched};

use super::replica::{ReplicaDone, UNKNOWN_AGE};
use super::writer::Job;
use super::zone::{ManagedZone, Source, ZoneData};
use super::{Manager, journal_limits};

/// A peer's version after the writer tried to store it.
pub(super) struct PeerVersionStored {
    version: ZoneVersion,
    soa: SoaTimers,
    age: Duration,
    snapshot: Arc<Snapshot>,
    journal: Arc<Journal>,
    kind: FetchKind,
    result: Result<(), String>,
}

impl Manager {
    /// A verified fetch the refresh machine would take: stored first.
    pub(super) fn peer_install(&mut self, action: ReplicaAction, fetched: Box<Fetched>) {
        let zone = action.zone.clone();
        let counters = &self.shared.cluster.counters;
        counters
            .peer_bytes_received
            .fetch_add(fetched.bytes, Ordering::Relaxed);
        let Some(soa) = fetched
            .snapshot
            .soa()
            .soa()
            .map(|soa| SoaTimers::from(&soa))
        else {
            self.count_peer_transfer(false);
            return self.report_fetch(&action, FetchOutcome::Failed(PeerFailure::Corrupt));
        };
        let busy = self.writing.contains(&zone);
        let age = fetched.confirmed_age.unwrap_or(UNKNOWN_AGE);
        let wanted = self
            .scheduler
            .zone(&zone)
            .is_some_and(|machine| machine.accepts_version(fetched.version));
        if busy || !wanted || soa.serial != fetched.version.serial.0 {
            return self.report_fetch(&action, FetchOutcome::Superseded);
        }
        self.store_peer_version(action, *fetched, soa, age);
    }

    /// Hands a version the refresh machine took to the writer thread.
    fn store_peer_version(
        &mut self,
        action: ReplicaAction,
        fetched: Fetched,
        soa: SoaTimers,
        age: Duration,
    ) {
        let zone = action.zone.clone();
        let Some(managed) = self.zones.get(&zone) else {
            return self.report_fetch(&action, FetchOutcome::Superseded);
        };
        let Fetched {
            version,
            snapshot,
            diffs,
            kind,
            ..
        } = fetched;
        let journal = peer_journal(managed, version, diffs);
        let snapshot = Arc::new(snapshot);
        let (done, stored) = oneshot::channel();
        let job = Job::Version {
            zone: zone.clone(),
            snapshot: snapshot.clone(),
            journal: journal.to_bytes(),
            done,
        };
        if !self.writer.submit(job) {
            self.count_peer_transfer(false);
            return self.report_fetch(&action, FetchOutcome::Failed(PeerFailure::Local));
        }
        self.writing.insert(zone);
        let journal = Arc::new(journal);
        self.replica_work.spawn(async move {
            let result = stored
                .await
                .unwrap_or_else(|_| Err("the store writer has stopped".into()));
            let installed = PeerVersionStored {
                version,
                soa,
                age,
                snapshot,
                journal,
                kind,
                result,
            };
            ReplicaDone::Stored {
                action,
                installed: Box::new(installed),
            }
        });
    }

    /// The peer's version reached the disk (or not): serve it, report it.
    pub(super) fn peer_stored(&mut self, action: ReplicaAction, stored: PeerVersionStored) {
        let zone = &action.zone;
        self.writing.remove(zone);
        self.dirty.insert(zone.clone());
        if let Err(error) = stored.result {
            tracing::error!(zone = %zone, node = %action.peer, %error, "version from a peer not stored; the old one keeps serving");
            self.count_peer_transfer(false);
            return self.report_fetch(&action, FetchOutcome::Failed(PeerFailure::Local));
        }
        // A primary's newer version, decided while this one was written,
        // is published by its own write; this one must not follow it.
        let now = self.clock.now();
        let taken = self.zones.contains_key(zone)
            && self.scheduler.handle_peer_install(
                now,
                zone,
                stored.version,
                stored.soa,
                stored.age,
            );
        let managed = self.zones.get_mut(zone);
        let Some(managed) = managed.filter(|_| taken) else {
            return self.report_fetch(&action, FetchOutcome::Superseded);
        };
        let data = ZoneData {
            snapshot: stored.snapshot,
            journal: stored.journal,
        };
        self.shared.zones.publish(zone, Some(data.clone()));
        managed.data = Some(data);
        managed.source = Some(Source::Peer(action.peer.to_string()));
        // `remote` names the peer and where it was reached; `node` and
        // `region` are this node's, as on every other line.
        let address = self
            .cluster
            .as_ref()
            .and_then(|cluster| cluster.members.get(&action.peer))
            .and_then(|known| known.quic);
        let remote = match address {
            Some(address) => format!("{}@{address}", action.peer),
            None => action.peer.to_string(),
        };
        tracing::info!(
            zone = %zone,
            serial = stored.version.serial.0,
            epoch = stored.version.epoch,
            remote,
            op = "peer",
            peer = %action.peer,
            kind = ?stored.kind,
            age_ms = stored.age.as_millis() as u64,
            node = %self.config.node.id,
            region = %self.config.node.region,
            "installed from peer"
        );
        self.count_peer_transfer(true);
        let outcome = FetchOutcome::Installed {
            version: stored.version,
            age: stored.age,
        };
        self.report_fetch(&action, outcome);
        self.catalog_installed(&action.zone);
    }
}

/// The journal after a peer's version: ours extended by the diffs the
/// peer sent when they start at the serial we serve, else started afresh
/// at the new serial.
fn peer_journal(
    managed: &ManagedZone,
    version: ZoneVersion,
    diffs: Option<Vec<understudy_proto::xfr::Diff>>,
) -> Journal {
    let fresh = || {
        let mut journal = Journal::new(managed.config.name.clone(), journal_limits(managed));
        journal.reset(version.serial.0);
        journal
    };
    let (Some(data), Some(diffs)) = (&managed.data, diffs) else {
        return fresh();
    };
    let continues = diffs
        .first()
        .is_some_and(|first| first.from == data.snapshot.serial());
    if !continues || data.journal.serial() != Some(data.snapshot.serial()) {
        return fresh();
    }
    let mut journal = (*data.journal).clone();
    for diff in diffs {
        if journal.push(diff).is_err() {
            return fresh();
        }
    }
    journal
}
