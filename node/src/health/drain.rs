//! The operator's drain, kept in `data_dir/drained` so that a node drained
//! for maintenance stays withdrawn across the restarts of that maintenance.
//!
//! The file's presence is the state; its contents (when and who asked) are
//! for the operator. It is replaced atomically and removed with a synced
//! directory, like every other file of the store, so a crash leaves the
//! node either drained or not, as last acknowledged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::control::rfc3339;
use crate::store::atomic;

/// The file's name inside the data directory.
pub const DRAIN_FILE: &str = "drained";

/// Why the drain could not be recorded or lifted on disk.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// Writing the file failed; the node is drained until it restarts.
    #[error("cannot record the drain in {}: {source}", path.display())]
    Write {
        /// The drain file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Removing the file failed; the node stays drained.
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        /// The drain file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// What the drain file says, for an operator who finds it.
#[derive(Debug, Serialize, Deserialize)]
struct DrainRecord {
    /// When the drain was asked for, RFC 3339 UTC.
    drained_at: String,
    /// The same, in Unix seconds.
    unix_seconds: i64,
}

/// Whether the node is drained, and the file that remembers it.
#[derive(Debug)]
pub struct Drain {
    dir: PathBuf,
    drained: Mutex<bool>,
}

impl Drain {
    /// Reads the state from `data_dir`. A file that exists but cannot be
    /// read still drains: the operator asked for it, and withdrawing a
    /// node wrongly costs less than announcing one wrongly.
    pub fn load(data_dir: &Path) -> Drain {
        let path = data_dir.join(DRAIN_FILE);
        let drained = match fs::read(&path) {
            Ok(bytes) => {
                if serde_json::from_slice::<DrainRecord>(&bytes).is_err() {
                    tracing::warn!(file = %path.display(), "drain file unreadable; staying drained");
                }
                true
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "cannot read the drain file; staying drained");
                true
            }
        };
        Drain {
            dir: data_dir.to_path_buf(),
            drained: Mutex::new(drained),
        }
    }

    /// Drains at once, then records it. When recording fails the node is
    /// still drained, until it restarts.
    pub fn drain(&self, unix_seconds: i64) -> Result<(), DrainError> {
        let mut drained = self.lock();
        *drained = true;
        let record = DrainRecord {
            drained_at: rfc3339(unix_seconds),
            unix_seconds,
        };
        let mut bytes = serde_json::to_vec_pretty(&record).unwrap_or_default();
        bytes.push(b'\n');
        atomic::replace(&self.dir, DRAIN_FILE, &bytes).map_err(|source| DrainError::Write {
            path: self.path(),
            source,
        })
    }

    /// Forgets the drain on disk, then in memory; on failure the node
    /// stays drained, so a restart cannot drain it again unexpectedly.
    pub fn undrain(&self) -> Result<(), DrainError> {
        let mut drained = self.lock();
        let removed = match fs::remove_file(self.path()) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other.and_then(|()| atomic::sync_dir(&self.dir)),
        };
        removed.map_err(|source| DrainError::Remove {
            path: self.path(),
            source,
        })?;
        *drained = false;
        Ok(())
    }

    /// Whether the node is drained.
    pub fn is_drained(&self) -> bool {
        *self.lock()
    }

    /// The drain file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(DRAIN_FILE)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        self.drained
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::Scratch;

    #[test]
    fn drain_survives_a_reload_and_undrain_removes_it() {
        let dir = Scratch::new("drain");
        assert!(!Drain::load(dir.path()).is_drained());
        let drain = Drain::load(dir.path());
        drain.drain(1_700_000_000).unwrap();
        assert!(drain.is_drained());
        let text = fs::read_to_string(drain.path()).unwrap();
        assert!(text.contains("2023-11-14T22:13:20Z"), "{text}");
        assert!(
            Drain::load(dir.path()).is_drained(),
            "kept across a restart"
        );
        drain.undrain().unwrap();
        assert!(!drain.is_drained());
        assert!(!drain.path().exists());
        assert!(!Drain::load(dir.path()).is_drained());
        drain.undrain().unwrap();
    }

    #[test]
    fn a_garbled_drain_file_still_drains() {
        let dir = Scratch::new("drain-garbled");
        dir.write(DRAIN_FILE, "\u{0}\u{1}not json");
        assert!(Drain::load(dir.path()).is_drained());
    }

    #[test]
    fn a_drain_that_cannot_be_written_still_drains_in_memory() {
        let dir = Scratch::new("drain-unwritable");
        let drain = Drain::load(&dir.path().join("missing-directory"));
        let error = drain.drain(0).unwrap_err();
        assert!(matches!(error, DrainError::Write { .. }), "{error}");
        assert!(drain.is_drained());
    }
}
