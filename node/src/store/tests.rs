use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::*;
use crate::store::scratch::Scratch;

fn zone(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct State {
    serial: u32,
    last_primary: String,
}

#[test]
fn store_files_round_trip_per_zone() {
    let dir = Scratch::new("store");
    let store = Store::open(&dir.path().join("data")).unwrap();
    let a = zone("Example.com.");
    let b = zone("example.net.");
    store.write(&a, ZoneFile::Snapshot, b"snapshot-a").unwrap();
    store.write(&a, ZoneFile::Journal, b"journal-a").unwrap();
    store.write(&b, ZoneFile::Snapshot, b"snapshot-b").unwrap();
    assert_eq!(
        store
            .read(&zone("EXAMPLE.COM."), ZoneFile::Snapshot)
            .unwrap(),
        b"snapshot-a"
    );
    assert_eq!(store.read(&a, ZoneFile::Journal).unwrap(), b"journal-a");
    assert_eq!(store.read(&b, ZoneFile::Snapshot).unwrap(), b"snapshot-b");
    assert_eq!(
        store.path(&a, ZoneFile::Snapshot),
        dir.path().join("data/example.com/snapshot")
    );
    assert!(matches!(
        store.read(&b, ZoneFile::Journal),
        Err(ReadError::Missing { .. })
    ));
}

#[test]
fn store_state_is_json_and_corrupt_json_is_reported() {
    let dir = Scratch::new("store-state");
    let store = Store::open(dir.path()).unwrap();
    let name = zone("example.com.");
    assert!(matches!(
        store.read_state::<State>(&name),
        Err(ReadError::Missing { .. })
    ));
    let state = State {
        serial: 2024010101,
        last_primary: "192.0.2.1:53".into(),
    };
    store.write_state(&name, &state).unwrap();
    assert_eq!(store.read_state::<State>(&name).unwrap(), state);
    let text = fs::read_to_string(store.path(&name, ZoneFile::State)).unwrap();
    assert!(text.contains("\"serial\": 2024010101"), "{text}");
    fs::write(store.path(&name, ZoneFile::State), b"{\"serial\": 1").unwrap();
    let error = store.read_state::<State>(&name).unwrap_err();
    assert!(matches!(error, ReadError::Corrupt { .. }), "{error}");
}

#[test]
fn store_quarantine_moves_corrupt_files_aside_with_a_fresh_number() {
    let dir = Scratch::new("store-quarantine");
    let store = Store::open(dir.path()).unwrap();
    let name = zone("example.com.");
    store.write(&name, ZoneFile::Snapshot, b"bad one").unwrap();
    let first = store.quarantine(&name, ZoneFile::Snapshot).unwrap();
    assert_eq!(first, store.zone_dir(&name).join("snapshot.corrupt-1"));
    assert!(matches!(
        store.read(&name, ZoneFile::Snapshot),
        Err(ReadError::Missing { .. })
    ));
    store.write(&name, ZoneFile::Snapshot, b"bad two").unwrap();
    let second = store.quarantine(&name, ZoneFile::Snapshot).unwrap();
    assert_eq!(second, store.zone_dir(&name).join("snapshot.corrupt-2"));
    assert_eq!(fs::read(first).unwrap(), b"bad one");
    assert_eq!(fs::read(second).unwrap(), b"bad two");
    assert!(store.quarantine(&name, ZoneFile::Journal).is_err());
}

#[test]
fn store_remove_zone_deletes_its_directory_only() {
    let dir = Scratch::new("store-remove");
    let store = Store::open(dir.path()).unwrap();
    let (a, b) = (zone("a.example."), zone("b.example."));
    store.write(&a, ZoneFile::Snapshot, b"a").unwrap();
    store.write(&b, ZoneFile::Snapshot, b"b").unwrap();
    store.remove_zone(&a).unwrap();
    assert!(!store.zone_dir(&a).exists());
    assert_eq!(store.read(&b, ZoneFile::Snapshot).unwrap(), b"b");
    store.remove_zone(&a).unwrap();
}

#[test]
fn store_runtime_zones_survive_reopening() {
    let dir = Scratch::new("store-zones");
    let store = Store::open(dir.path()).unwrap();
    assert!(store.read_zones().unwrap().is_empty());
    let zones = vec![ZoneSpec {
        name: "example.com.".into(),
        primaries: vec!["192.0.2.1".into()],
        allow_transfer: vec!["key:xfr-key".into()],
        ..ZoneSpec::default()
    }];
    store.write_zones(&zones).unwrap();
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.read_zones().unwrap(), zones);
    fs::write(dir.path().join("zones.json"), b"[{\"name\":").unwrap();
    assert!(matches!(
        reopened.read_zones(),
        Err(ReadError::Corrupt { .. })
    ));
}

#[test]
fn store_open_sweeps_temp_files_left_by_a_crash() {
    let dir = Scratch::new("store-sweep");
    let store = Store::open(dir.path()).unwrap();
    let name = zone("example.com.");
    store.write(&name, ZoneFile::Snapshot, b"good").unwrap();
    let leftover = store.zone_dir(&name).join(".tmp-snapshot-1-0");
    fs::write(&leftover, b"half").unwrap();
    fs::write(dir.path().join(".tmp-zones.json-1-0"), b"half").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!leftover.exists());
    assert!(!dir.path().join(".tmp-zones.json-1-0").exists());
    assert_eq!(store.read(&name, ZoneFile::Snapshot).unwrap(), b"good");
}

#[test]
fn store_unreadable_file_is_not_reported_as_missing() {
    let dir = Scratch::new("store-unreadable");
    let store = Store::open(dir.path()).unwrap();
    let name = zone("example.com.");
    fs::create_dir_all(store.path(&name, ZoneFile::Snapshot)).unwrap();
    assert!(matches!(
        store.read(&name, ZoneFile::Snapshot),
        Err(ReadError::Unreadable { .. })
    ));
}

/// A 64 KiB tmpfs, unmounted on drop.
struct TinyDisk {
    mount_point: PathBuf,
    _dir: Scratch,
}

impl TinyDisk {
    fn mount() -> TinyDisk {
        let dir = Scratch::new("store-tmpfs");
        let mount_point = dir.path().join("disk");
        fs::create_dir(&mount_point).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&mount_point)
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting a tmpfs needs root: {status}");
        TinyDisk {
            mount_point,
            _dir: dir,
        }
    }

    fn path(&self) -> &Path {
        &self.mount_point
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount_point).status();
    }
}

#[test]
fn store_full_disk_keeps_the_previous_snapshot() {
    let disk = TinyDisk::mount();
    let store = Store::open(&disk.path().join("data")).unwrap();
    let name = zone("example.com.");
    let good = vec![7u8; 16 << 10];
    store.write(&name, ZoneFile::Snapshot, &good).unwrap();
    let error = store
        .write(&name, ZoneFile::Snapshot, &vec![9u8; 128 << 10])
        .unwrap_err();
    assert_eq!(error.source.kind(), io::ErrorKind::StorageFull, "{error}");
    assert_eq!(store.read(&name, ZoneFile::Snapshot).unwrap(), good);
    let names: Vec<_> = fs::read_dir(store.zone_dir(&name))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["snapshot"], "no temp file is left behind");
    // With the space back, the next write succeeds.
    store.write(&name, ZoneFile::Snapshot, b"small").unwrap();
    assert_eq!(store.read(&name, ZoneFile::Snapshot).unwrap(), b"small");
}
