//! Checks a fetched zone before anything is returned. CPU-bound (a
//! snapshot load rebuilds the zone to prove it canonical): run it off the
//! async workers.

use understudy_proto::Name;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::cluster::decode_diffs;
use understudy_proto::xfr::{Diff, apply_diffs};
use understudy_proto::zone::Snapshot;

use super::error::PeerError;

/// A full snapshot: loads (header, digest, archive, canonical form), and is
/// the zone and serial the head announced.
pub(super) fn full_snapshot(
    bytes: Vec<u8>,
    zone: &Name,
    version: ZoneVersion,
) -> Result<Snapshot, PeerError> {
    let snapshot = Snapshot::from_bytes(bytes)?;
    same_zone(&snapshot, zone)?;
    same_serial(&snapshot, version)?;
    Ok(snapshot)
}

/// Diffs: they decode, lead from `have` to `to` in one epoch, apply to
/// `have`'s records, and the rebuilt snapshot has the announced digest.
pub(super) fn diffs(
    payload: &[u8],
    max_diffs: u32,
    have: (ZoneVersion, &Snapshot),
    to: ZoneVersion,
    digest_after: [u8; 32],
) -> Result<(Snapshot, Vec<Diff>), PeerError> {
    let (have_version, base) = have;
    if have_version.epoch != to.epoch {
        return Err(PeerError::Unexpected("diffs across epochs"));
    }
    let diffs = decode_diffs(payload, max_diffs).map_err(PeerError::Malformed)?;
    if diffs.last().map_or(have_version.serial.0, |diff| diff.to) != to.serial.0 {
        return Err(PeerError::Unexpected(
            "diffs do not end at the announced serial",
        ));
    }
    let records = apply_diffs(base.records().collect(), &diffs)?;
    let snapshot = Snapshot::build(&base.origin(), records)?;
    same_serial(&snapshot, to)?;
    if snapshot.digest() != digest_after {
        return Err(PeerError::Mismatch {
            announced: format!("digest {}", hex(&digest_after)),
            received: format!("digest {}", hex(&snapshot.digest())),
        });
    }
    Ok((snapshot, diffs))
}

fn same_zone(snapshot: &Snapshot, zone: &Name) -> Result<(), PeerError> {
    let origin = snapshot.origin();
    if origin != *zone {
        return Err(PeerError::Mismatch {
            announced: format!("zone {zone}"),
            received: format!("zone {origin}"),
        });
    }
    Ok(())
}

fn same_serial(snapshot: &Snapshot, version: ZoneVersion) -> Result<(), PeerError> {
    if snapshot.serial() != version.serial.0 {
        return Err(PeerError::Mismatch {
            announced: format!("serial {}", version.serial),
            received: format!("serial {}", snapshot.serial()),
        });
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use understudy_proto::wire::cluster::encode_diffs;
    use understudy_proto::xfr::ApplyError;

    use super::super::testing::{name, zone_data};
    use super::*;

    /// The payload of the diffs from `from` to `to` out of a journal.
    fn payload(from: u32, to: u32) -> Vec<u8> {
        let data = zone_data(to, 20, from);
        encode_diffs(&data.journal.diffs_since(from).unwrap())
    }

    #[test]
    fn diffs_rebuild_the_announced_snapshot() {
        let base = zone_data(2, 20, 2);
        let target = zone_data(5, 20, 5);
        let (snapshot, diffs) = diffs(
            &payload(2, 5),
            10,
            (ZoneVersion::new(3, 2), &base.snapshot),
            ZoneVersion::new(3, 5),
            target.snapshot.digest(),
        )
        .unwrap();
        assert_eq!(snapshot.as_bytes(), target.snapshot.as_bytes());
        assert_eq!(diffs.len(), 3);
    }

    #[test]
    fn diffs_that_do_not_lead_where_announced_are_refused() {
        let base = zone_data(2, 20, 2);
        let digest = zone_data(5, 20, 5).snapshot.digest();
        let have = (ZoneVersion::new(3, 2), base.snapshot.as_ref());
        let across_epochs = diffs(&payload(2, 5), 10, have, ZoneVersion::new(4, 5), digest);
        assert!(matches!(across_epochs, Err(PeerError::Unexpected(_))));
        let short = diffs(&payload(2, 4), 10, have, ZoneVersion::new(3, 5), digest);
        assert!(matches!(short, Err(PeerError::Unexpected(_))));
        let too_many = diffs(&payload(2, 5), 2, have, ZoneVersion::new(3, 5), digest);
        assert!(matches!(too_many, Err(PeerError::Malformed(_))));
        // Diffs from serial 3 on a zone at serial 2.
        let gap = diffs(&payload(3, 5), 10, have, ZoneVersion::new(3, 5), digest);
        assert!(matches!(
            gap,
            Err(PeerError::Apply(ApplyError::SerialGap {
                expected: 2,
                found: 3
            }))
        ));
    }

    #[test]
    fn a_snapshot_of_another_zone_is_refused() {
        let data = zone_data(2, 5, 2);
        let bytes = data.snapshot.as_bytes().to_vec();
        let other = full_snapshot(bytes.clone(), &name("example.org."), ZoneVersion::new(0, 2));
        assert!(matches!(other, Err(PeerError::Mismatch { .. })));
        let same = full_snapshot(bytes, &name("example.com."), ZoneVersion::new(0, 2));
        assert_eq!(same.unwrap().digest(), data.snapshot.digest());
    }
}
