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
    Some(Diff {
        from,
        to,
        removed,
        added,
    })
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
    use understudy_proto::xfr::apply_diffs;
    use understudy_proto::{Class, Name, Soa};

    fn origin() -> Name {
        Name::from_ascii("example.").unwrap()
    }

    fn record(owner: &str, rtype: Rtype, rdata: Vec<u8>) -> Record {
        let owner = Name::from_ascii(owner).unwrap();
        Record {
            owner,
            rtype,
            class: Class::IN,
            ttl: 300,
            rdata: rdata.into(),
        }
    }

    fn snapshot(serial: u32, host: &str, address: [u8; 4]) -> Snapshot {
        let ns = Name::from_ascii("ns.example.").unwrap();
        let soa = Soa {
            mname: ns.clone(),
            rname: Name::from_ascii("host.example.").unwrap(),
            serial,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 300,
        };
        let records = vec![
            record("example.", Rtype::SOA, soa.to_rdata().into_vec()),
            record("example.", Rtype::NS, ns.as_wire().to_vec()),
            record("ns.example.", Rtype::A, vec![192, 0, 2, 1]),
            record(host, Rtype::A, address.to_vec()),
        ];
        Snapshot::build(&origin(), records).unwrap()
    }

    #[test]
    fn diff_of_two_versions_applies_to_the_first() {
        let old = snapshot(1, "old.example.", [192, 0, 2, 9]);
        let new = snapshot(2, "new.example.", [192, 0, 2, 10]);
        let diff = diff_snapshots(&old, &new).unwrap();
        assert_eq!((diff.from, diff.to), (1, 2));
        assert_eq!(diff.removed.len(), 2);
        assert_eq!(diff.added.len(), 2);
        assert_eq!(diff.removed[0].rtype, Rtype::SOA);
        let applied = apply_diffs(old.records().collect(), &[diff]).unwrap();
        let rebuilt = Snapshot::build(&origin(), applied).unwrap();
        assert_eq!(rebuilt.digest(), new.digest());
    }

    #[test]
    fn same_serial_has_no_diff() {
        let one = snapshot(1, "old.example.", [192, 0, 2, 9]);
        assert!(diff_snapshots(&one, &one).is_none());
    }
}
