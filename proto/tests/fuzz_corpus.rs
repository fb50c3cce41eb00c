//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/`) through
//! the same invariant checks the fuzz targets run, so that a regression on
//! any input the fuzzers found interesting fails a plain `cargo test`.

mod fuzz_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fuzz_support::fixture::fixture;
use understudy_proto::xfr::{Transfer, XfrError};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    files("corpus", target)
}

/// The files of `fuzz/<kind>/<target>/`, sorted by name.
fn files(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = fs::read(&path).expect("corpus file readable");
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "fuzz/{kind}/{target} is empty");
    files
}

/// Runs `check` on every corpus file, naming the file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    replay_files(target, files("corpus", target), check);
}

fn replay_files(target: &str, files: Vec<(PathBuf, Vec<u8>)>, check: fn(&[u8])) {
    for (path, bytes) in files {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        if let Err(panic) = outcome {
            eprintln!("{target} corpus file {} fails", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn fixture_zones_load_from_captured_axfr() {
    let fixture = fixture();
    let origins: Vec<String> = fixture
        .snapshots
        .iter()
        .map(|s| s.origin().to_string())
        .collect();
    assert_eq!(origins, ["example.", "example.org.", "child.example."]);
    assert!(fixture.snapshots[0].is_signed(), "example. is NSEC-signed");
    assert!(
        fixture.snapshots[1].is_signed(),
        "example.org. is NSEC3-signed"
    );
    assert!(
        !fixture.snapshots[2].is_signed(),
        "child.example. is unsigned"
    );
    assert!(fixture.snapshots.iter().all(|s| s.record_count() > 4));
}

#[test]
fn query_corpus_replays() {
    replay("query", fuzz_support::query::check_query);
}

#[test]
fn message_corpus_replays() {
    replay("message", fuzz_support::message::check_message);
}

/// Replays the transfer corpus. It keeps at least one stream reaching each
/// kind of transfer and one hitting each limit, so that minimising it
/// never loses a whole path.
#[test]
fn xfr_corpus_replays_and_reaches_every_ending() {
    let mut seen = Vec::new();
    for (path, bytes) in corpus("xfr") {
        let ending = std::panic::catch_unwind(|| fuzz_support::xfr::ending(&bytes));
        let Ok(ending) = ending else {
            panic!("xfr corpus file {} fails", path.display());
        };
        let kind = match ending {
            Some(Ok(Transfer::Soa { .. })) => "soa",
            Some(Ok(Transfer::UpToDate { .. })) => "up-to-date",
            Some(Ok(Transfer::Full { .. })) => "full",
            Some(Ok(Transfer::Incremental { .. })) => "incremental",
            Some(Err(XfrError::TooManyRecords { .. })) => "record limit",
            Some(Err(XfrError::TooManyBytes { .. })) => "byte limit",
            _ => continue,
        };
        if !seen.contains(&kind) {
            seen.push(kind);
        }
    }
    seen.sort();
    let expected = [
        "byte limit",
        "full",
        "incremental",
        "record limit",
        "soa",
        "up-to-date",
    ];
    assert_eq!(seen, expected);
}

#[test]
fn snapshot_corpus_replays() {
    replay("snapshot", fuzz_support::snapshot::check_snapshot);
}

/// Inputs that found defects, kept as reproducers (`fuzz/regressions/<target>/`):
/// snapshots whose RDATA, RR images or SOA disagree with a canonical rebuild
/// are refused, and a zone with costly NSEC3 parameters is refused quickly.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "the test itself times the replay; proto code under test reads no clock"
)]
fn found_defects_stay_fixed() {
    let snapshot = files("regressions", "snapshot");
    replay_files(
        "snapshot",
        snapshot,
        fuzz_support::snapshot::check_snapshot_strict,
    );
    // A zone a primary may send must not make each denial cost seconds.
    for (path, bytes) in files("regressions", "xfr") {
        let started = Instant::now();
        fuzz_support::xfr::check_xfr(&bytes);
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(2),
            "{} took {elapsed:?}",
            path.display()
        );
    }
}

/// Writes the snapshot seeds: the fixture snapshots as built, plain and
/// with the reseal mode. Run by hand with `--ignored` after a format change.
#[test]
#[ignore]
fn write_snapshot_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/snapshot");
    fs::create_dir_all(&dir).expect("corpus directory");
    for (index, snapshot) in fixture().snapshots.iter().enumerate() {
        for mode in [0u8, 1] {
            let mut bytes = vec![mode];
            bytes.extend_from_slice(snapshot.as_bytes());
            fs::write(dir.join(format!("seed-{index}-{mode}")), bytes).expect("seed written");
        }
    }
}
