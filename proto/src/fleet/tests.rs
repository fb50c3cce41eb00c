use proptest::prelude::*;

use super::*;
use crate::name::Name;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test name")
}

fn spec(primary: &str) -> FleetZone {
    FleetZone {
        primaries: vec![primary.to_string()],
        ..FleetZone::default()
    }
}

fn list_of(entries: &[(Name, Entry)]) -> ZoneList {
    let mut list = ZoneList::new();
    for (zone, entry) in entries {
        list.merge_entry(zone.clone(), entry.clone());
    }
    list
}

fn arb_zone() -> impl Strategy<Value = Name> {
    prop::sample::select(vec!["a.example.", "B.example.", "c.example.", "example."]).prop_map(name)
}

fn arb_spec() -> impl Strategy<Value = FleetZone> {
    (
        prop::collection::vec("[0-9.:]{1,12}", 0..3),
        prop::option::of("[a-z]{1,6}"),
        prop::collection::vec(("[a-z_]{1,8}", "[0-9a-z\"]{1,6}"), 0..2),
        prop::option::of(Just(name("catalog.invalid."))),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..4)),
    )
        .prop_map(
            |(primaries, tsig_key, options, catalog, member_id)| FleetZone {
                primaries,
                tsig_key,
                allow_transfer: vec!["10.0.0.0/8".into()],
                allow_notify: Vec::new(),
                transfer_source: None,
                options,
                catalog,
                member_id,
            },
        )
}

fn arb_entry() -> impl Strategy<Value = (Name, Entry)> {
    (
        arb_zone(),
        0u64..6,
        prop::sample::select(vec!["n1", "n2", "n3"]),
        prop::option::of(arb_spec()),
    )
        .prop_map(|(zone, counter, node, spec)| {
            let state = spec.map_or(EntryState::Removed, EntryState::Live);
            let tag = Tag {
                counter,
                node: node.to_string(),
            };
            (zone, Entry { tag, state })
        })
}

fn arb_list() -> impl Strategy<Value = ZoneList> {
    prop::collection::vec(arb_entry(), 0..8).prop_map(|entries| list_of(&entries))
}

fn merged(a: &ZoneList, b: &ZoneList) -> ZoneList {
    let mut out = a.clone();
    out.merge(b);
    out
}

proptest! {
    #[test]
    fn merge_is_commutative(a in arb_list(), b in arb_list()) {
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn merge_is_associative(a in arb_list(), b in arb_list(), c in arb_list()) {
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
    }

    #[test]
    fn merge_is_idempotent(a in arb_list(), b in arb_list()) {
        prop_assert_eq!(merged(&a, &a), a.clone());
        let once = merged(&a, &b);
        prop_assert_eq!(merged(&once, &b), once);
    }

    #[test]
    fn the_same_operations_in_any_order_give_the_same_list(
        (entries, shuffled) in prop::collection::vec(arb_entry(), 0..12)
            .prop_flat_map(|entries| (Just(entries.clone()), Just(entries).prop_shuffle()))
    ) {
        let one = list_of(&entries);
        let other = list_of(&shuffled);
        prop_assert_eq!(one.to_bytes(), other.to_bytes());
        prop_assert_eq!(one.digest(), other.digest());
    }

    #[test]
    fn encoding_round_trips(list in arb_list()) {
        let bytes = list.to_bytes();
        prop_assert_eq!(ZoneList::from_bytes(&bytes), Ok(list));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ZoneList::from_bytes(&bytes);
        let mut prefixed = b"USZL\x01".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = ZoneList::from_bytes(&prefixed);
    }

    #[test]
    fn damaged_lists_never_panic(list in arb_list(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = list.to_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = ZoneList::from_bytes(&bytes);
        bytes.truncate(i);
        prop_assert!(ZoneList::from_bytes(&bytes).is_err());
    }
}

#[test]
fn a_later_remove_beats_an_earlier_add_on_every_node() {
    let mut a = ZoneList::new();
    let mut b = ZoneList::new();
    a.add(name("x.example."), spec("192.0.2.1"), "a");
    b.merge(&a);
    b.remove(name("x.example."), "b");
    let changes = a.merge(&b);
    assert_eq!(changes, vec![Change::Removed(name("x.example."))]);
    assert!(a.live().next().is_none());
    assert_eq!(a, b);
}

#[test]
fn concurrent_add_and_remove_resolve_by_tag_everywhere() {
    let mut a = ZoneList::new();
    let mut b = ZoneList::new();
    a.add(name("x.example."), spec("192.0.2.1"), "a");
    b.remove(name("x.example."), "b");
    // Both wrote counter 1; node id "b" > "a", so the removal wins.
    let mut left = a.clone();
    left.merge(&b);
    let mut right = b.clone();
    right.merge(&a);
    assert_eq!(left, right);
    assert!(left.live().next().is_none());
}

#[test]
fn a_write_after_a_merge_carries_a_higher_counter() {
    let mut a = ZoneList::new();
    a.add(name("x.example."), spec("192.0.2.1"), "a");
    a.add(name("x.example."), spec("192.0.2.2"), "a");
    let mut b = ZoneList::new();
    b.merge(&a);
    let tag = b.remove(name("x.example."), "b");
    assert_eq!(tag.counter, 3);
}

#[test]
fn a_floor_lifts_the_counter_but_never_below_what_was_merged() {
    let mut a = ZoneList::new();
    let tag = a.add_after(name("x.example."), spec("192.0.2.1"), "a", 1_000);
    assert_eq!(tag.counter, 1_000);
    let mut b = ZoneList::new();
    b.merge(&a);
    // b's clock is behind a's: its write still comes after what it merged.
    let tag = b.remove_after(name("x.example."), "b", 10);
    assert_eq!(tag.counter, 1_001);
    // Without seeing b's write, a later command on a wins by its clock.
    let tag = a.add_after(name("x.example."), spec("192.0.2.2"), "a", 2_000);
    a.merge(&b);
    b.merge(&a);
    assert_eq!(a, b);
    assert_eq!(a.entry(&name("x.example.")).unwrap().tag, tag);
}

#[test]
fn names_differing_only_in_case_are_one_zone() {
    let mut list = ZoneList::new();
    list.add(name("X.Example."), spec("192.0.2.1"), "a");
    list.remove(name("x.example."), "a");
    assert_eq!(list.len(), 1);
    let decoded = ZoneList::from_bytes(&list.to_bytes()).unwrap();
    assert_eq!(
        decoded.entry(&name("x.example.")).unwrap().state,
        EntryState::Removed
    );
}

#[test]
fn a_redefinition_is_a_change_and_a_repeat_is_not() {
    let mut a = ZoneList::new();
    let mut b = ZoneList::new();
    a.add(name("x.example."), spec("192.0.2.1"), "a");
    assert_eq!(b.merge(&a).len(), 1);
    assert!(b.merge(&a).is_empty());
    a.add(name("x.example."), spec("192.0.2.9"), "a");
    assert_eq!(
        b.merge(&a),
        vec![Change::Live(name("x.example."), spec("192.0.2.9"))]
    );
}

#[test]
fn refuses_other_versions_bad_order_and_trailing_bytes() {
    let mut list = ZoneList::new();
    list.add(name("a.example."), spec("192.0.2.1"), "a");
    list.add(name("b.example."), spec("192.0.2.1"), "a");
    let bytes = list.to_bytes();
    let mut other_version = bytes.clone();
    other_version[4] = 2;
    assert_eq!(
        ZoneList::from_bytes(&other_version),
        Err(DecodeError::UnsupportedVersion(2))
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        ZoneList::from_bytes(&trailing),
        Err(DecodeError::TrailingBytes(1))
    );
    assert_eq!(ZoneList::from_bytes(b"nope"), Err(DecodeError::BadMagic));
    let mut one = ZoneList::new();
    one.add(name("a.example."), spec("192.0.2.1"), "a");
    let entry = &one.to_bytes()[9..];
    let mut repeated = b"USZL\x01\x00\x00\x00\x02".to_vec();
    repeated.extend_from_slice(entry);
    repeated.extend_from_slice(entry);
    assert!(matches!(
        ZoneList::from_bytes(&repeated),
        Err(DecodeError::Order(_))
    ));
    let huge = vec![0; MAX_ENCODED_LEN + 1];
    assert_eq!(
        ZoneList::from_bytes(&huge),
        Err(DecodeError::TooLarge(MAX_ENCODED_LEN + 1))
    );
}
