//! What can go wrong with each store operation.

use std::io;
use std::path::PathBuf;

/// The data directory could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("cannot use data directory {}: {source}", path.display())]
pub struct OpenError {
    /// The directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

/// A file could not be replaced; the previous version, if any, is intact.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file that was to be replaced.
    pub path: PathBuf,
    /// The OS error (`StorageFull` when the disk is full).
    pub source: io::Error,
}

/// Why a stored file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file does not exist (a zone never stored, or removed).
    #[error("{} does not exist", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file was read but does not hold what it should.
    #[error("{} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
}

impl ReadError {
    pub(super) fn from_io(path: PathBuf, source: io::Error) -> ReadError {
        if source.kind() == io::ErrorKind::NotFound {
            ReadError::Missing { path }
        } else {
            ReadError::Unreadable { path, source }
        }
    }
}

/// A corrupt file could not be moved aside.
#[derive(Debug, thiserror::Error)]
#[error("cannot move {} aside: {source}", path.display())]
pub struct QuarantineError {
    /// The file that was to be moved.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

/// A zone's directory could not be removed.
#[derive(Debug, thiserror::Error)]
#[error("cannot remove {}: {source}", path.display())]
pub struct RemoveError {
    /// The directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}
