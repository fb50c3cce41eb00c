use std::fs;

use understudy_proto::Name;
use understudy_proto::fleet::{Change, EntryState, FleetZone};

use super::*;
use crate::store::scratch::Scratch;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn spec(primary: &str) -> FleetZone {
    FleetZone {
        primaries: vec![primary.into()],
        ..FleetZone::default()
    }
}

#[test]
fn the_list_survives_a_restart() {
    let dir = Scratch::new("fleet-restart");
    let list = FleetList::open(dir.path(), "n1");
    list.add(&name("a.example."), spec("192.0.2.1")).unwrap();
    list.remove(&name("b.example.")).unwrap();
    let digest = list.digest();
    drop(list);
    let reopened = FleetList::open(dir.path(), "n1");
    assert_eq!(reopened.digest(), digest);
    let entry = reopened.entry(&name("b.example.")).unwrap();
    assert_eq!(entry.state, EntryState::Removed);
    let added = reopened.entry(&name("a.example.")).unwrap();
    assert!(entry.tag.counter > added.tag.counter);
    // Writes carry the wall clock in milliseconds as their least counter.
    assert!(added.tag.counter > 1_700_000_000_000);
}

#[test]
fn a_failed_write_changes_nothing() {
    let dir = Scratch::new("fleet-fail");
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let list = FleetList::open(&data, "n1");
    list.add(&name("a.example."), spec("192.0.2.1")).unwrap();
    let before = list.encoded();
    // A directory where the list's file should be makes the rename fail.
    fs::remove_file(data.join(FILE_NAME)).unwrap();
    fs::create_dir(data.join(FILE_NAME)).unwrap();
    fs::write(data.join(FILE_NAME).join("x"), b"").unwrap();
    assert!(list.add(&name("b.example."), spec("192.0.2.2")).is_err());
    assert_eq!(list.encoded(), before);
    let mut peer = understudy_proto::fleet::ZoneList::new();
    peer.add(name("c.example."), spec("192.0.2.3"), "n2");
    assert!(matches!(
        list.merge_bytes(&peer.to_bytes()),
        Err(MergeError::Write { .. })
    ));
    assert_eq!(list.encoded(), before);
}

#[test]
fn a_corrupt_file_is_moved_aside_and_the_list_starts_empty() {
    let dir = Scratch::new("fleet-corrupt");
    fs::write(dir.path().join(FILE_NAME), b"USZL\x01garbage").unwrap();
    let list = FleetList::open(dir.path(), "n1");
    assert!(list.snapshot().is_empty());
    let aside: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.contains("corrupt"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}

#[test]
fn merging_a_peers_list_reports_changes_and_refuses_garbage() {
    let dir = Scratch::new("fleet-merge");
    let list = FleetList::open(dir.path(), "n1");
    list.add(&name("a.example."), spec("192.0.2.1")).unwrap();
    let mut peer = understudy_proto::fleet::ZoneList::new();
    peer.merge(&list.snapshot());
    peer.remove(name("a.example."), "n2");
    peer.add(name("b.example."), spec("192.0.2.2"), "n2");
    let changes = list.merge_bytes(&peer.to_bytes()).unwrap();
    assert_eq!(
        changes,
        vec![
            Change::Removed(name("a.example.")),
            Change::Live(name("b.example."), spec("192.0.2.2"))
        ]
    );
    assert_eq!(list.digest(), peer.digest());
    assert!(list.merge_bytes(&peer.to_bytes()).unwrap().is_empty());
    let before = list.encoded();
    assert!(matches!(
        list.merge_bytes(b"not a list"),
        Err(MergeError::Decode(_))
    ));
    assert_eq!(list.encoded(), before);
    let reopened = FleetList::open(dir.path(), "n1");
    assert_eq!(reopened.digest(), peer.digest());
}

/// Sizes and times of a large list (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn measure_a_list_of_ten_thousand_zones() {
    let dir = Scratch::new("fleet-measure");
    let mut peer = understudy_proto::fleet::ZoneList::new();
    for i in 0..10_000 {
        let zone = name(&format!("zone-{i}.example."));
        if i % 10 == 0 {
            peer.remove(zone, "n2");
        } else {
            peer.add(zone, spec("192.0.2.1:53"), "n2");
        }
    }
    let started = std::time::Instant::now();
    let bytes = peer.to_bytes();
    let encode = started.elapsed();
    let list = FleetList::open(dir.path(), "n1");
    let started = std::time::Instant::now();
    let changes = list.merge_bytes(&bytes).unwrap();
    let merge = started.elapsed();
    let started = std::time::Instant::now();
    assert!(list.merge_bytes(&bytes).unwrap().is_empty());
    let remerge = started.elapsed();
    assert_eq!(changes.len(), 9_000);
    eprintln!(
        "10k entries: {} bytes ({} per entry); encode {encode:?}, first merge with write {merge:?}, \
         repeat merge {remerge:?}",
        bytes.len(),
        bytes.len() / 10_000
    );
}
