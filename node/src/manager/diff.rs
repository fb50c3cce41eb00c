//! The diff between two versions of a zone, for the journal.
//!
//! When a primary sends a whole zone (AXFR) the node still records what
//! changed, so that downstream secondaries and peers can be served IXFR
//! whatever the primary offers (as Knot's `ixfr-from-axfr` does).

use std::collections::HashSet;

use understudy_proto::Rtype;
use understudy_proto::record::Record;
use understudy_proto::xfr::Diff;
use understudy_proto::zone::Snapshot;

/// The records removed from `old` and added in `new`; `None` when the two
/// carry the same serial (a diff between them would be meaningless).
pub fn diff_snapshots(old: &Snapshot, new: &Snapshot) -> Option<Diff> {
    let (from, to) = (old.serial(), new.serial());
    if from == to {
        return None;
    }
    let old_records: HashSet<Record> = old.records().collect();
    let new_records: HashSet<Record> = new.records().collect();
    let mut removed: Vec<Record> = old_records.difference(&new_records).cloned().collect();
    let mut added: Vec<Record> = new_records.difference(&old_records).cloned().collect();
    order(&mut removed);
    order(&mut added);
    Some(Diff { from, to, removed, added })
}

/// SOA first (as IXFR carries it), then canonical order, so the same
/// change gives the same diff on every node.
fn order(records: &mut [Record]) {
    records.sort_by(|a, b| {
        (b.rtype == Rtype::SOA)
            .cmp(&(a.rtype == Rtype::SOA))
            .then_with(|| a.owner.cmp(&b.owner))
            .then_with(|| a.rtype.cmp(&b.rtype))
            .then_with(|| a.rdata.cmp(&b.rdata))
            .then_with(|| a.ttl.cmp(&b.ttl))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_proto::text::parse_zone;
    use understudy_proto::xfr::apply_diffs;
    use understudy_proto::Name;

    fn snapshot(text: &str) -> Snapshot {
        let origin = Name::from_ascii("example.").unwrap();
        let records = parse_zone(text, Some(&origin), Some(300)).unwrap();
        Snapshot::build(&origin, records).unwrap()
    }

    const V1: &str = "@ SOA ns host 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nold A 192.0.2.9\n";
    const V2: &str = "@ SOA ns host 2 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nnew A 192.0.2.10\n";

    #[test]
    fn diff_of_two_versions_applies_to_the_first() {
        let (old, new) = (snapshot(V1), snapshot(V2));
        let diff = diff_snapshots(&old, &new).unwrap();
        assert_eq!((diff.from, diff.to), (1, 2));
        assert_eq!(diff.removed.len(), 2);
        assert_eq!(diff.added.len(), 2);
        assert_eq!(diff.removed[0].rtype, Rtype::SOA);
        let applied = apply_diffs(old.records().collect(), &[diff]).unwrap();
        let rebuilt = Snapshot::build(&Name::from_ascii("example.").unwrap(), applied).unwrap();
        assert_eq!(rebuilt.digest(), new.digest());
    }

    #[test]
    fn same_serial_has_no_diff() {
        assert!(diff_snapshots(&snapshot(V1), &snapshot(V1)).is_none());
    }
}
