//! Crash-safe storage of snapshots, zone state and journals on disk.

#[cfg(test)]
pub(crate) mod scratch;
