//! Crash-safe storage of snapshots, zone state and journals on disk.
//!
//! ```text
//! data_dir/
//!   zones.json              zones added with `ctl zone add`
//!   example.com/            one directory per zone (see dir_name)
//!     snapshot              Snapshot::as_bytes(), validated by proto on load
//!     journal               the IXFR journal's bytes, validated by proto
//!     state.json            the zone's persisted refresh state
//!     snapshot.corrupt-1    a file found corrupt, kept for inspection
//! ```
//!
//! Every write replaces its file atomically (see `atomic`), so a crash or a
//! full disk leaves the previous version readable. The functions block; the
//! daemon calls them from `spawn_blocking`.

pub(crate) mod atomic;
mod dir_name;
mod error;
#[cfg(test)]
pub(crate) mod scratch;
#[cfg(test)]
mod tests;

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use understudy_proto::Name;

use crate::config::ZoneSpec;

pub use dir_name::dir_name;
pub use error::{OpenError, QuarantineError, ReadError, RemoveError, WriteError};

/// The node-level list of zones added at run time.
const ZONES_FILE: &str = "zones.json";

/// The files kept per zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneFile {
    /// The serving snapshot's bytes.
    Snapshot,
    /// The IXFR journal's bytes.
    Journal,
    /// The persisted refresh state, JSON.
    State,
}

impl ZoneFile {
    /// The file name inside the zone's directory.
    pub fn file_name(self) -> &'static str {
        match self {
            ZoneFile::Snapshot => "snapshot",
            ZoneFile::Journal => "journal",
            ZoneFile::State => "state.json",
        }
    }
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Creates the data directory if needed (mode 0750) and removes temp
    /// files a crash may have left behind.
    pub fn open(data_dir: &Path) -> Result<Store, OpenError> {
        let fail = |source| OpenError {
            path: data_dir.to_path_buf(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(data_dir)
            .map_err(fail)?;
        let store = Store {
            root: data_dir.to_path_buf(),
        };
        store.sweep_temp_files().map_err(fail)?;
        Ok(store)
    }

    /// Replaces one of a zone's files, creating the zone's directory if
    /// needed. On error the previous file is intact.
    pub fn write(&self, zone: &Name, file: ZoneFile, bytes: &[u8]) -> Result<(), WriteError> {
        let dir = self.zone_dir(zone);
        let path = dir.join(file.file_name());
        self.ensure_dir(&dir)
            .and_then(|()| atomic::replace(&dir, file.file_name(), bytes))
            .map_err(|source| WriteError { path, source })
    }

    /// Reads one of a zone's files.
    pub fn read(&self, zone: &Name, file: ZoneFile) -> Result<Vec<u8>, ReadError> {
        let path = self.path(zone, file);
        fs::read(&path).map_err(|source| ReadError::from_io(path, source))
    }

    /// Writes a zone's state as JSON.
    pub fn write_state<T: Serialize>(&self, zone: &Name, state: &T) -> Result<(), WriteError> {
        let bytes = json(state).map_err(|source| WriteError {
            path: self.path(zone, ZoneFile::State),
            source,
        })?;
        self.write(zone, ZoneFile::State, &bytes)
    }

    /// Reads a zone's state; JSON that does not decode is `Corrupt`.
    pub fn read_state<T: DeserializeOwned>(&self, zone: &Name) -> Result<T, ReadError> {
        let bytes = self.read(zone, ZoneFile::State)?;
        serde_json::from_slice(&bytes).map_err(|error| ReadError::Corrupt {
            path: self.path(zone, ZoneFile::State),
            reason: error.to_string(),
        })
    }

    /// Moves a file found corrupt to `<file>.corrupt-<n>` (the first free
    /// n) so it is never read again, and returns the new path.
    pub fn quarantine(&self, zone: &Name, file: ZoneFile) -> Result<PathBuf, QuarantineError> {
        let dir = self.zone_dir(zone);
        let from = dir.join(file.file_name());
        let fail = |source| QuarantineError {
            path: from.clone(),
            source,
        };
        let mut n = 1u32;
        let to = loop {
            let candidate = dir.join(format!("{}.corrupt-{n}", file.file_name()));
            match fs::symlink_metadata(&candidate) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => break candidate,
                Err(error) => return Err(fail(error)),
                Ok(_) => {
                    n = n
                        .checked_add(1)
                        .ok_or_else(|| fail(io::ErrorKind::AlreadyExists.into()))?
                }
            }
        };
        fs::rename(&from, &to)
            .and_then(|()| atomic::sync_dir(&dir))
            .map_err(fail)?;
        Ok(to)
    }

    /// Removes a zone's directory and everything in it; a zone never stored
    /// is not an error.
    pub fn remove_zone(&self, zone: &Name) -> Result<(), RemoveError> {
        let dir = self.zone_dir(zone);
        match fs::remove_dir_all(&dir) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result.and_then(|()| atomic::sync_dir(&self.root)),
        }
        .map_err(|source| RemoveError { path: dir, source })
    }

    /// Replaces the list of zones added at run time.
    pub fn write_zones(&self, zones: &[ZoneSpec]) -> Result<(), WriteError> {
        let path = self.root.join(ZONES_FILE);
        json(&zones)
            .and_then(|bytes| atomic::replace(&self.root, ZONES_FILE, &bytes))
            .map_err(|source| WriteError { path, source })
    }

    /// The zones added at run time; none before the first `ctl zone add`.
    pub fn read_zones(&self) -> Result<Vec<ZoneSpec>, ReadError> {
        let path = self.root.join(ZONES_FILE);
        let bytes = match fs::read(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            result => result.map_err(|source| ReadError::from_io(path.clone(), source))?,
        };
        serde_json::from_slice(&bytes).map_err(|error| ReadError::Corrupt {
            path,
            reason: error.to_string(),
        })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding a zone's files.
    pub fn zone_dir(&self, zone: &Name) -> PathBuf {
        self.root.join(dir_name(zone))
    }

    /// Where one of a zone's files lives.
    pub fn path(&self, zone: &Name, file: ZoneFile) -> PathBuf {
        self.zone_dir(zone).join(file.file_name())
    }

    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        match DirBuilder::new().mode(0o750).create(dir) {
            // The new directory entry must survive a crash like the file in it.
            Ok(()) => atomic::sync_dir(&self.root),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn sweep_temp_files(&self) -> io::Result<()> {
        remove_temp_files(&self.root)?;
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                remove_temp_files(&entry.path())?;
            }
        }
        Ok(())
    }
}

fn remove_temp_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if atomic::is_temp(&entry.file_name().to_string_lossy()) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn json<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}
