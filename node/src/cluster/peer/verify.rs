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
