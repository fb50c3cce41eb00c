//! Restarts: with the primary stopped the node serves from disk at once; a
//! corrupted or truncated snapshot on disk is never served and is fetched
//! again from the primary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use understudy_e2e::dig::dig;
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::zones::{EXAMPLE, example, tiny};
use understudy_e2e::{Config, Understudy, ZoneConfig};

const OTHER: &str = "other.test.";
const FROM_DISK: Duration = Duration::from_secs(5);

fn primary() -> Server {
    servers::knot(
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 500))
            .primary_zone(OTHER, &tiny(OTHER, 7)),
    )
}

fn node_of(primary: &Server) -> Understudy {
    let config = Config::new("restart")
        .zone_default("retry_min", "\"1s\"")
        .zone_default("retry_max", "\"2s\"")
        .zone(ZoneConfig::new(EXAMPLE, &[primary.addr()]))
        .zone(ZoneConfig::new(OTHER, &[primary.addr()]));
    let node = Understudy::start(config);
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    node.wait_serial(OTHER, 7, FIRST_TRANSFER);
    node
}

fn assert_serial_one_data(node: &Understudy) {
    let txt = dig(node.addr(), &["serial.example.test.", "TXT"]);
    assert_eq!(txt.rcode, "NOERROR", "{}", txt.text);
    assert_eq!(txt.answers_of("TXT")[0].rdata, "\"1\"", "{}", txt.text);
    let last = dig(node.addr(), &["h499.example.test.", "A"]);
    assert_eq!(last.answers_of("A")[0].rdata, "10.0.1.243", "{}", last.text);
}

#[test]
fn stopped_primary_node_restarted_serves_from_disk() {
    let mut primary = primary();
    let mut node = node_of(&primary);
    assert!(node.stop(), "SIGTERM should end the node cleanly");
    primary.stop();
    let started = Instant::now();
    node.restart();
    node.wait_serial(EXAMPLE, 1, FROM_DISK);
    node.wait_serial(OTHER, 7, FROM_DISK);
    eprintln!("served from disk {:?} after start", started.elapsed());
    assert_serial_one_data(&node);
}

#[test]
fn killed_node_serves_from_disk() {
    let mut primary = primary();
    let mut node = node_of(&primary);
    node.kill();
    primary.stop();
    node.restart();
    node.wait_serial(EXAMPLE, 1, FROM_DISK);
    assert_serial_one_data(&node);
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.is_file() {
            found.push(path);
        }
    }
    found
}

/// The largest file under the data dir: the 500-host zone's snapshot.
fn largest_file(dir: &Path) -> PathBuf {
    files(dir)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap_or_else(|| panic!("no files under {}", dir.display()))
}

fn damaged_snapshot_is_refetched(damage: impl FnOnce(&Path)) {
    let mut primary = primary();
    let mut node = node_of(&primary);
    assert!(node.stop());
    let snapshot = largest_file(&node.data_dir());
    assert!(std::fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0) > 5000);
    damage(&snapshot);
    primary.stop();

    node.restart();
    node.wait_serial(OTHER, 7, FROM_DISK);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        assert_eq!(node.serial(EXAMPLE), None, "a damaged snapshot was served");
        let www = dig(node.addr(), &["www.example.test.", "A"]);
        assert!(
            www.rcode != "NOERROR" || !www.has_flag("aa"),
            "answered from a damaged snapshot:\n{}",
            www.text
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    primary.restart();
    let _ = node.ctl(&["zone", "refresh", EXAMPLE]);
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    assert_serial_one_data(&node);
}

#[test]
fn corrupted_snapshot_is_not_served_and_is_refetched() {
    damaged_snapshot_is_refetched(|path| {
        let mut bytes = std::fs::read(path).expect("read snapshot");
        let middle = bytes.len() / 2;
        for byte in &mut bytes[middle..middle + 16] {
            *byte ^= 0x5a;
        }
        std::fs::write(path, bytes).expect("write snapshot");
    });
}

#[test]
fn truncated_snapshot_is_not_served_and_is_refetched() {
    damaged_snapshot_is_refetched(|path| {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open snapshot");
        file.set_len(len / 2).expect("truncate snapshot");
    });
}
