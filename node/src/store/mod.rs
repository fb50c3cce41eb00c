//! Crash-safe storage of snapshots, zone state and journals on disk.
