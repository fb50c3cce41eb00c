use super::*;

#[test]
fn apply_diffs_is_strict() {
    let (v1, _, _) = two_diffs();
    let diff = |removed: Vec<Record>, added: Vec<Record>| Diff {
        from: 1,
        to: 2,
        removed: [vec![soa(1)], removed].concat(),
        added: [vec![soa(2)], added].concat(),
    };
    let absent = diff(vec![a("nope.example.", 1)], vec![]);
    assert!(matches!(
        apply_diffs(v1.clone(), &[absent]),
        Err(ApplyError::RemoveAbsent(_))
    ));
    let present = diff(
        vec![],
        vec![Record {
            ttl: 1,
            ..a("h2.example.", 2)
        }],
    );
    assert!(matches!(
        apply_diffs(v1.clone(), &[present]),
        Err(ApplyError::AddPresent(_))
    ));
    let gap = Diff {
        from: 2,
        to: 3,
        removed: vec![soa(2)],
        added: vec![soa(3)],
    };
    assert_eq!(
        apply_diffs(v1.clone(), &[gap]),
        Err(ApplyError::SerialGap {
            expected: 1,
            found: 2
        })
    );
    let no_soa = Diff {
        from: 1,
        to: 2,
        removed: vec![],
        added: vec![soa(2)],
    };
    assert_eq!(
        apply_diffs(v1.clone(), &[no_soa]),
        Err(ApplyError::BadDiff { from: 1, to: 2 })
    );
    assert_eq!(
        apply_diffs(hosts(3), &[diff(vec![], vec![])]),
        Err(ApplyError::NoSoa)
    );
    // Owners match without case; the stored spelling is what the diff adds.
    let recased = diff(vec![a("H3.EXAMPLE.", 3)], vec![a("Mixed.Example.", 7)]);
    let applied = apply_diffs(v1.clone(), &[recased]).unwrap();
    assert!(!applied.iter().any(|r| r.owner == name("h3.example.")));
    assert!(
        applied
            .iter()
            .any(|r| r.owner.as_wire() == name("Mixed.Example.").as_wire())
    );
    // Added then removed within the diffs: the zone must not have had it.
    let churn = [
        diff(vec![], vec![a("tmp.example.", 1)]),
        Diff {
            from: 2,
            to: 3,
            removed: vec![soa(2), a("tmp.example.", 1)],
            added: vec![soa(3)],
        },
    ];
    let applied = apply_diffs(v1.clone(), &churn).unwrap();
    assert_eq!(sorted(applied), sorted([vec![soa(3)], hosts(5)].concat()));
}

#[test]
fn apply_diffs_on_a_large_zone_is_linear() {
    let zone_records = [vec![soa(1)], hosts(200_000)].concat();
    let diff = Diff {
        from: 1,
        to: 2,
        removed: vec![soa(1), a("h100.example.", 100)],
        added: vec![soa(2), a("h100.example.", 1), a("fresh.example.", 2)],
    };
    let applied = apply_diffs(zone_records, &[diff]).unwrap();
    assert_eq!(applied.len(), 200_002);
    assert!(applied.contains(&a("fresh.example.", 2)));
}

#[test]
fn diff_between_two_zones_applies_back() {
    let old = [vec![soa(1)], hosts(50)].concat();
    let mut new = [vec![soa(2)], hosts(50)].concat();
    new.retain(|r| r.owner != name("h7.example."));
    new.push(a("extra.example.", 1));
    for record in new.iter_mut().filter(|r| r.owner == name("h9.example.")) {
        record.ttl = 5;
    }
    let diff = Diff::between(&old, &new).unwrap();
    assert_eq!((diff.from, diff.to), (1, 2));
    assert_eq!(diff.removed.len(), 3, "SOA, h7, h9 with its old TTL");
    assert_eq!(diff.added.len(), 3, "SOA, extra, h9 with its new TTL");
    diff.check().unwrap();
    assert_eq!(
        sorted(apply_diffs(old.clone(), &[diff]).unwrap()),
        sorted(new)
    );
    assert_eq!(Diff::between(&hosts(3), &old), Err(ApplyError::NoSoa));
}
