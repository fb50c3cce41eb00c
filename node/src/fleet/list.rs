//! The fleet list as this node holds it: in memory behind a lock, and on
//! disk in `data_dir/@fleet-zones`, replaced atomically on every change.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use understudy_proto::Name;
use understudy_proto::fleet::{Change, DecodeError, Entry, FleetZone, ZoneList};

use crate::store::atomic;

/// The list's file in the data directory. `@` never starts a zone's
/// directory name other than the root's (`@` alone), so no zone collides.
pub const FILE_NAME: &str = "@fleet-zones";

/// Why a list from a peer was not merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The bytes are not a list this node reads.
    #[error("peer's fleet list refused: {0}")]
    Decode(#[from] DecodeError),
    /// The merged list could not be written; nothing changed.
    #[error("fleet list not written to {}: {source}", path.display())]
    Write {
        /// The list's file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// This node's copy of the fleet list.
pub struct FleetList {
    node: String,
    dir: PathBuf,
    list: Mutex<ZoneList>,
}

impl FleetList {
    /// Loads the list kept in `data_dir`. A missing file is an empty list;
    /// an unreadable or corrupt one is moved aside (peers resend what it
    /// held) and the node starts from an empty list.
    pub fn open(data_dir: &Path, node: &str) -> FleetList {
        let path = data_dir.join(FILE_NAME);
        let list = match fs::read(&path) {
            Ok(bytes) => ZoneList::from_bytes(&bytes).unwrap_or_else(|error| {
                quarantine(&path, &error.to_string());
                ZoneList::new()
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => ZoneList::new(),
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "fleet list unreadable; starting empty");
                ZoneList::new()
            }
        };
        FleetList {
            node: node.to_string(),
            dir: data_dir.to_path_buf(),
            list: Mutex::new(list),
        }
    }

    /// Records this node's adding (or redefining) `zone`, on disk first.
    pub fn add(&self, zone: &Name, spec: FleetZone) -> io::Result<()> {
        self.update(|list, author| {
            author.add(list, zone.clone(), spec);
        })
    }

    /// Records this node's removing `zone`, on disk first.
    pub fn remove(&self, zone: &Name) -> io::Result<()> {
        self.update(|list, author| {
            author.remove(list, zone.clone());
        })
    }

    /// Applies `edit` (local writes through `author`) to a copy of the
    /// list, writes the copy, then makes it the list. A failed write leaves
    /// the list as it was.
    pub fn update(&self, edit: impl FnOnce(&mut ZoneList, &Author<'_>)) -> io::Result<()> {
        let author = Author {
            node: &self.node,
            floor: unix_millis(),
        };
        let mut held = self.lock();
        let mut next = held.clone();
        edit(&mut next, &author);
        if next == *held {
            return Ok(());
        }
        atomic::replace(&self.dir, FILE_NAME, &next.to_bytes())?;
        *held = next;
        Ok(())
    }

    /// Merges a peer's encoded list; returns the zones whose state changed.
    /// The merged list is on disk before the changes are returned.
    pub fn merge_bytes(&self, bytes: &[u8]) -> Result<Vec<Change>, MergeError> {
        // The steady state: the peer holds the same list. The encoding is
        // canonical, so equal bytes are equal lists; nothing to decode.
        if self.lock().to_bytes() == bytes {
            return Ok(Vec::new());
        }
        let theirs = ZoneList::from_bytes(bytes)?;
        let mut held = self.lock();
        let mut next = held.clone();
        let changes = next.merge(&theirs);
        if next == *held {
            return Ok(changes);
        }
        atomic::replace(&self.dir, FILE_NAME, &next.to_bytes()).map_err(|source| {
            MergeError::Write {
                path: self.dir.join(FILE_NAME),
                source,
            }
        })?;
        *held = next;
        Ok(changes)
    }

    /// The list's bytes, as peers ask for them (wire's `LocalZones::zone_list`).
    pub fn encoded(&self) -> Vec<u8> {
        self.lock().to_bytes()
    }

    /// A copy of the list.
    pub fn snapshot(&self) -> ZoneList {
        self.lock().clone()
    }

    /// The entry of `zone`, if the list has one.
    pub fn entry(&self, zone: &Name) -> Option<Entry> {
        self.lock().entry(zone).cloned()
    }

    /// The list's digest (equal on nodes holding the same list).
    pub fn digest(&self) -> [u8; 32] {
        self.lock().digest()
    }

    /// This node's id, as it tags its writes.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn lock(&self) -> MutexGuard<'_, ZoneList> {
        self.list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// This node writing to the list: its id, and its wall clock as the least
/// counter a write carries, so that of two writes made on different nodes
/// without seeing each other the later command wins (clocks agree within
/// the 5 minutes gossip already requires), and a node with an empty list
/// does not write below tags it has not merged yet.
pub struct Author<'a> {
    node: &'a str,
    floor: u64,
}

impl Author<'_> {
    /// Adds (or redefines) `zone`.
    pub fn add(&self, list: &mut ZoneList, zone: Name, spec: FleetZone) {
        list.add_after(zone, spec, self.node, self.floor);
    }

    /// Removes `zone`.
    pub fn remove(&self, list: &mut ZoneList, zone: Name) {
        list.remove_after(zone, self.node, self.floor);
    }
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

fn quarantine(path: &Path, reason: &str) {
    let aside = path.with_extension(format!("corrupt-{}", std::process::id()));
    match fs::rename(path, &aside) {
        Ok(()) => tracing::error!(
            path = %path.display(), reason, moved_to = %aside.display(),
            "corrupt fleet list moved aside; starting empty, peers will resend it"
        ),
        Err(error) => tracing::error!(
            path = %path.display(), reason, %error,
            "corrupt fleet list; starting empty"
        ),
    }
}
