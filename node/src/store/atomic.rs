//! Replacing a file so that a crash or a full disk leaves either the old
//! contents or the new, never a mix: write a temp file in the same
//! directory, fsync it, rename it over the target, fsync the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temp files start with this so a later start can sweep leftovers.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Replaces `dir/name` with `bytes`. On error the temp file is removed and
/// the previous file, if any, is untouched.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temp = temp_path(dir, name);
    let result = write_synced(&temp, bytes)
        .and_then(|()| fs::rename(&temp, dir.join(name)))
        .and_then(|()| sync_dir(dir));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes directory entries (a rename, a new file, a removal) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether a file name is one of our temp files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{TEMP_PREFIX}{name}-{}-{n}", std::process::id()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::Scratch;

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let dir = Scratch::new("atomic");
        replace(dir.path(), "f", b"one").unwrap();
        replace(dir.path(), "f", b"two").unwrap();
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f"]);
    }

    #[test]
    fn failure_keeps_the_old_file() {
        let dir = Scratch::new("atomic-fail");
        replace(dir.path(), "f", b"old").unwrap();
        // A directory in the way makes the rename fail after the write.
        let blocked = dir.path().join("sub");
        fs::create_dir(&blocked).unwrap();
        fs::create_dir(blocked.join("g")).unwrap();
        fs::write(blocked.join("g/x"), b"").unwrap();
        assert!(replace(&blocked, "g", b"new").is_err());
        assert_eq!(fs::read_dir(&blocked).unwrap().count(), 1);
        assert!(replace(&dir.path().join("missing"), "f", b"x").is_err());
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"old");
    }
}
