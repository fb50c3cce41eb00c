//! The store writer: one thread that carries out every disk write of the
//! zone manager, in the order asked.
//!
//! The manager never blocks on the disk. Writes of one zone cannot overtake
//! each other, and at shutdown the writer finishes what was queued before
//! it stops, so no transfer that was received is left half-written.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;
use understudy_proto::Name;
use understudy_proto::zone::Snapshot;

use crate::config::ZoneSpec;
use crate::store::{Store, ZoneFile};

use super::state::StateFile;

/// One write.
pub enum Job {
    /// A new version's snapshot and journal; the reply says whether both
    /// reached the disk.
    Version {
        /// The zone.
        zone: Name,
        /// The snapshot.
        snapshot: Arc<Snapshot>,
        /// The journal's bytes.
        journal: Vec<u8>,
        /// Told the outcome.
        done: oneshot::Sender<Result<(), String>>,
    },
    /// The zone's state file.
    State {
        /// The zone.
        zone: Name,
        /// Its contents.
        state: Box<StateFile>,
    },
    /// The list of zones added at run time.
    Zones(Vec<ZoneSpec>),
    /// Remove everything of a zone.
    Remove(Name),
}

/// Hands jobs to the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: std_mpsc::Sender<Job>,
}

/// The writer thread, to be joined at shutdown.
pub struct WriterThread(JoinHandle<()>);

impl Writer {
    /// Starts the writer thread over `store`.
    pub fn start(store: Arc<Store>) -> std::io::Result<(Writer, WriterThread)> {
        let (jobs, queue) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(&store, queue))?;
        Ok((Writer { jobs }, WriterThread(thread)))
    }

    /// Queues a job; false once the writer has stopped.
    pub fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

impl WriterThread {
    /// Waits until every queued job is done (all [`Writer`]s must be dropped).
    pub fn join(self) {
        if self.0.join().is_err() {
            tracing::error!("the store writer thread panicked");
        }
    }
}

fn run(store: &Store, queue: std_mpsc::Receiver<Job>) {
    let mut pending = std::collections::VecDeque::new();
    loop {
        if pending.is_empty() {
            match queue.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return,
            }
        }
        pending.extend(queue.try_iter());
        if let Some(job) = next_job(&mut pending) {
            execute(store, job);
        }
    }
}

/// The next job to carry out: a new version first — a received transfer
/// must not wait behind a thousand zones' state files — then the others in
/// order, skipping a state write that a later job makes pointless (a newer
/// state of the same zone, or the zone's removal). A version never
/// overtakes its zone's removal queued before it (a zone removed and added
/// again would lose the new version's files).
fn next_job(pending: &mut std::collections::VecDeque<Job>) -> Option<Job> {
    let index = pending
        .iter()
        .enumerate()
        .position(|(at, job)| match job {
            Job::Version { zone, .. } => !pending
                .iter()
                .take(at)
                .any(|earlier| matches!(earlier, Job::Remove(removed) if removed == zone)),
            _ => false,
        })
        .unwrap_or(0);
    let job = pending.remove(index)?;
    if let Job::State { zone, .. } = &job {
        let superseded = pending.iter().any(|later| match later {
            Job::State { zone: other, .. } | Job::Remove(other) => other == zone,
            _ => false,
        });
        if superseded {
            return None;
        }
    }
    Some(job)
}

fn execute(store: &Store, job: Job) {
    match job {
        Job::Version {
            zone,
            snapshot,
            journal,
            done,
        } => {
            let started = std::time::Instant::now();
            let result = store
                .write(&zone, ZoneFile::Snapshot, snapshot.as_bytes())
                .and_then(|()| store.write(&zone, ZoneFile::Journal, &journal))
                .map_err(|error| error.to_string());
            let write_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(zone = %zone, serial = snapshot.serial(), write_ms, "new version stored");
            let _ = done.send(result);
            release_free_memory();
        }
        Job::State { zone, state } => {
            if let Err(error) = store.write_state(&zone, &*state) {
                tracing::warn!(zone = %zone, %error, "cannot write zone state");
            }
        }
        Job::Zones(zones) => {
            if let Err(error) = store.write_zones(&zones) {
                tracing::error!(%error, "cannot write the list of run-time zones");
            }
        }
        Job::Remove(zone) => {
            if let Err(error) = store.remove_zone(&zone) {
                tracing::warn!(zone = %zone, %error, "cannot remove the zone's files");
            }
        }
    }
}

/// Hands memory freed after a transfer (the records received, the build's
/// scratch space) back to the operating system. glibc keeps freed memory in
/// its arenas otherwise, and a node that took one large transfer would hold
/// several times its zones' size for good.
fn release_free_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(zone: &str, epoch: u32) -> Job {
        let mut file = StateFile::from_persisted(&Default::default());
        file.epoch = epoch;
        Job::State {
            zone: Name::from_ascii(zone).unwrap(),
            state: Box::new(file),
        }
    }

    fn describe(jobs: &[Job]) -> Vec<String> {
        jobs.iter()
            .map(|job| match job {
                Job::State { zone, state } => format!("state {zone} {}", state.epoch),
                Job::Remove(zone) => format!("remove {zone}"),
                Job::Zones(_) => "zones".into(),
                Job::Version { zone, .. } => format!("version {zone}"),
            })
            .collect()
    }

    fn drain(mut pending: std::collections::VecDeque<Job>) -> Vec<Job> {
        let mut done = Vec::new();
        while !pending.is_empty() {
            done.extend(next_job(&mut pending));
        }
        done
    }

    #[test]
    fn versions_first_then_only_the_last_state_of_a_zone_and_none_after_its_removal() {
        let (done, _) = tokio::sync::oneshot::channel();
        let version = Job::Version {
            zone: Name::from_ascii("c.").unwrap(),
            snapshot: Arc::new(test_snapshot()),
            journal: Vec::new(),
            done,
        };
        let batch = vec![
            state("a.", 1),
            state("b.", 1),
            state("a.", 2),
            Job::Zones(Vec::new()),
            version,
            state("b.", 2),
            Job::Remove(Name::from_ascii("b.").unwrap()),
        ];
        assert_eq!(
            describe(&drain(batch.into())),
            ["version c.", "state a. 2", "zones", "remove b."]
        );
    }

    #[test]
    fn a_version_does_not_overtake_its_zones_earlier_removal() {
        let version = |zone: &str| {
            let (done, _) = tokio::sync::oneshot::channel();
            Job::Version {
                zone: Name::from_ascii(zone).unwrap(),
                snapshot: Arc::new(test_snapshot()),
                journal: Vec::new(),
                done,
            }
        };
        let batch = vec![
            state("a.", 1),
            Job::Remove(Name::from_ascii("c.").unwrap()),
            Job::Zones(Vec::new()),
            version("c."),
            version("d."),
        ];
        assert_eq!(
            describe(&drain(batch.into())),
            [
                "version d.",
                "state a. 1",
                "remove c.",
                "version c.",
                "zones"
            ]
        );
    }

    fn test_snapshot() -> Snapshot {
        use understudy_proto::{Class, Record, Rtype, Soa};
        let origin = Name::from_ascii("c.").unwrap();
        let ns = Name::from_ascii("ns.c.").unwrap();
        let soa = Soa {
            mname: ns.clone(),
            rname: ns.clone(),
            serial: 1,
            refresh: 1,
            retry: 1,
            expire: 1,
            minimum: 1,
        };
        let record = |rtype, rdata: Vec<u8>| Record {
            owner: origin.clone(),
            rtype,
            class: Class::IN,
            ttl: 1,
            rdata: rdata.into(),
        };
        Snapshot::build(
            &origin,
            vec![
                record(Rtype::SOA, soa.to_rdata().into_vec()),
                record(Rtype::NS, ns.as_wire().to_vec()),
            ],
        )
        .unwrap()
    }
}
