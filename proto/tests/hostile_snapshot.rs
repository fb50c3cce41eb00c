//! Hostile snapshot files: every corruption of a stored or forwarded
//! snapshot (bit flips, truncation, appended bytes, lying header fields) is
//! refused, and a body damaged behind a recomputed digest is either refused
//! or fully usable (see `fuzz_support::snapshot`).

mod fuzz_support;

use proptest::prelude::*;
use understudy_proto::zone::{LoadError, Snapshot};

use fuzz_support::fixture::fixture;
use fuzz_support::snapshot::{check_snapshot, check_snapshot_strict, reseal};

fn snapshot_bytes(index: usize) -> Vec<u8> {
    let snapshots = &fixture().snapshots;
    snapshots[index % snapshots.len()].as_bytes().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(800))]

    /// A single flipped bit anywhere, header or body, is detected.
    #[test]
    fn any_flipped_bit_is_detected(zone in 0usize..3, at in any::<usize>(), bit in 0u8..8) {
        let mut bytes = snapshot_bytes(zone);
        let at = at % bytes.len();
        bytes[at] ^= 1 << bit;
        let result = Snapshot::from_bytes(bytes);
        prop_assert!(result.is_err(), "bit {} of octet {} flipped and accepted", bit, at);
    }

    /// Any truncation is detected.
    #[test]
    fn any_truncation_is_detected(zone in 0usize..3, at in any::<usize>()) {
        let mut bytes = snapshot_bytes(zone);
        let len = at % bytes.len();
        bytes.truncate(len);
        prop_assert!(Snapshot::from_bytes(bytes).is_err());
    }

    /// Bytes after the body are detected.
    #[test]
    fn appended_bytes_are_detected(
        zone in 0usize..3,
        extra in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let mut bytes = snapshot_bytes(zone);
        bytes.extend_from_slice(&extra);
        let result = Snapshot::from_bytes(bytes);
        prop_assert!(matches!(result, Err(LoadError::TrailingBytes(n)) if n == extra.len()));
    }

    /// A header claiming any other body length is refused without trusting it.
    #[test]
    fn lying_body_length_is_refused(zone in 0usize..3, claimed in any::<u64>()) {
        let mut bytes = snapshot_bytes(zone);
        let header_len = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
        prop_assume!(claimed != (bytes.len() - header_len) as u64);
        bytes[16..24].copy_from_slice(&claimed.to_be_bytes());
        prop_assert!(Snapshot::from_bytes(bytes).is_err());
    }

    /// Damage behind a recomputed digest (what a faulty peer could send):
    /// refused, or accepted and then answered with well-formed replies.
    #[test]
    fn resealed_damage_is_refused_or_usable(
        zone in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4),
    ) {
        check_snapshot(&resealed_damage(zone, &flips));
    }

    /// Random bytes behind a valid header and digest.
    #[test]
    fn random_bodies_are_refused_or_usable(
        zone in 0usize..3,
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let original = snapshot_bytes(zone);
        let header_len = usize::from(u16::from_be_bytes([original[10], original[11]]));
        let mut bytes = original[..header_len].to_vec();
        bytes.extend_from_slice(&body);
        let mut input = vec![1u8];
        input.extend_from_slice(&bytes);
        check_snapshot(&input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Damage behind a recomputed digest either is refused or changes the
    /// records that `records()` shows: no hidden part of the archive may
    /// change answers on its own.
    #[test]
    fn resealed_damage_answers_as_the_rebuild(
        zone in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4),
    ) {
        check_snapshot_strict(&resealed_damage(zone, &flips));
    }
}

/// Fixture snapshot `zone` with `flips` (offset, bit) applied and its
/// digest recomputed, as the snapshot check's input in the plain mode.
fn resealed_damage(zone: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = snapshot_bytes(zone);
    for &(at, bit) in flips {
        let at = at % bytes.len();
        bytes[at] ^= 1 << bit;
    }
    reseal(&mut bytes);
    let mut input = vec![0u8];
    input.extend_from_slice(&bytes);
    input
}

#[test]
fn fixture_snapshots_round_trip() {
    for snapshot in &fixture().snapshots {
        let loaded = Snapshot::from_bytes(snapshot.as_bytes().to_vec()).expect("valid snapshot");
        assert_eq!(loaded.digest(), snapshot.digest());
        let mut input = vec![0u8];
        input.extend_from_slice(snapshot.as_bytes());
        check_snapshot_strict(&input);
    }
}
