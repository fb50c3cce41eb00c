//! Conformance tests, named after the RFC 9432 section they check.

use super::*;
use crate::zone::testing::{name, snapshot};

const HEAD: &str = "
cat.invalid. 0 SOA invalid. invalid. 1 3600 600 86400 0
cat.invalid. 0 NS invalid.
version.cat.invalid. 0 TXT 2
";

fn catalog(serial: u32, body: &str) -> crate::zone::Snapshot {
    let head = HEAD.replace(" 1 3600", &format!(" {serial} 3600"));
    snapshot("cat.invalid.", &format!("{head}{body}"))
}

fn zones(members: &Members) -> Vec<String> {
    members.iter().map(|m| m.zone.to_string()).collect()
}

#[test]
fn rfc9432_4_1_members_are_ptr_records_below_zones() {
    let snap = catalog(
        1,
        "
        m1.zones.cat.invalid. 0 PTR Example.COM.
        m2.zones.cat.invalid. 0 PTR example.net.
        other.cat.invalid. 0 PTR not-a-member.example.
        deep.m1.x.zones.cat.invalid. 0 PTR nor-this.example.
        ",
    );
    let members = Members::read(&snap, None).unwrap();
    assert_eq!(zones(&members), ["example.com.", "example.net."]);
    assert_eq!(members.get(&name("example.com.")).unwrap().unique_id, b"m1");
    assert_eq!(members.serial, 1);
}

#[test]
fn rfc9432_4_1_a_member_with_two_ptr_records_breaks_the_catalog() {
    let snap = catalog(
        1,
        "
        m1.zones.cat.invalid. 0 PTR a.example.
        m1.zones.cat.invalid. 0 PTR b.example.
        ",
    );
    assert!(matches!(
        Members::read(&snap, None),
        Err(CatalogError::AmbiguousMember(_))
    ));
}

#[test]
fn rfc9432_4_2_1_version_2_is_required() {
    let missing = snapshot(
        "cat.invalid.",
        "cat.invalid. 0 SOA invalid. invalid. 1 3600 600 86400 0
         cat.invalid. 0 NS invalid.
         m1.zones.cat.invalid. 0 PTR a.example.",
    );
    assert_eq!(
        Members::read(&missing, None),
        Err(CatalogError::MissingVersion(name("cat.invalid.")))
    );
    let version_1 = snapshot(
        "cat.invalid.",
        "cat.invalid. 0 SOA invalid. invalid. 1 3600 600 86400 0
         cat.invalid. 0 NS invalid.
         version.cat.invalid. 0 TXT 1",
    );
    assert!(matches!(
        Members::read(&version_1, None),
        Err(CatalogError::UnsupportedVersion { found, .. }) if found == "1"
    ));
    let two = snapshot(
        "cat.invalid.",
        "cat.invalid. 0 SOA invalid. invalid. 1 3600 600 86400 0
         cat.invalid. 0 NS invalid.
         version.cat.invalid. 0 TXT 2
         version.cat.invalid. 0 TXT 3",
    );
    assert_eq!(
        Members::read(&two, None),
        Err(CatalogError::AmbiguousVersion(name("cat.invalid.")))
    );
}

#[test]
fn rfc9432_4_3_1_coo_is_noted() {
    let snap = catalog(
        1,
        "
        m1.zones.cat.invalid. 0 PTR a.example.
        coo.m1.zones.cat.invalid. 0 PTR new-cat.invalid.
        ",
    );
    let members = Members::read(&snap, None).unwrap();
    let member = members.get(&name("a.example.")).unwrap();
    assert_eq!(member.coo, Some(name("new-cat.invalid.")));
}

#[test]
fn rfc9432_4_3_2_groups_are_kept() {
    let snap = catalog(
        1,
        "
        m1.zones.cat.invalid. 0 PTR a.example.
        group.m1.zones.cat.invalid. 0 TXT customer-a
        m2.zones.cat.invalid. 0 PTR b.example.
        ",
    );
    let members = Members::read(&snap, None).unwrap();
    assert_eq!(
        members.get(&name("a.example.")).unwrap().groups,
        ["customer-a"]
    );
    assert!(members.get(&name("b.example.")).unwrap().groups.is_empty());
}

#[test]
fn rfc9432_5_1_a_broken_version_keeps_the_last_good_list() {
    let mut consumer = Consumer::new();
    consumer
        .update(&catalog(1, "m1.zones.cat.invalid. 0 PTR a.example."))
        .unwrap();
    let broken = snapshot(
        "cat.invalid.",
        "cat.invalid. 0 SOA invalid. invalid. 2 3600 600 86400 0
         cat.invalid. 0 NS invalid.
         version.cat.invalid. 0 TXT 3",
    );
    assert!(consumer.update(&broken).is_err());
    let members = consumer.members().unwrap();
    assert_eq!(zones(members), ["a.example."]);
    assert_eq!(members.serial, 1);
}

#[test]
fn rfc9432_5_2_name_clash_keeps_the_existing_member() {
    let first = catalog(1, "m2.zones.cat.invalid. 0 PTR a.example.");
    let previous = Members::read(&first, None).unwrap();
    let clash = catalog(
        2,
        "
        m1.zones.cat.invalid. 0 PTR a.example.
        m2.zones.cat.invalid. 0 PTR a.example.
        ",
    );
    let members = Members::read(&clash, Some(&previous)).unwrap();
    assert_eq!(members.get(&name("a.example.")).unwrap().unique_id, b"m2");
    assert_eq!(members.clashes, [(b"m1".to_vec(), name("a.example."))]);
    // Without history, the lowest unique-N wins, the same on every node.
    let fresh = Members::read(&clash, None).unwrap();
    assert_eq!(fresh.get(&name("a.example.")).unwrap().unique_id, b"m1");
}

#[test]
fn rfc9432_5_3_member_removal() {
    let mut consumer = Consumer::new();
    let added = consumer
        .update(&catalog(
            1,
            "m1.zones.cat.invalid. 0 PTR a.example.
             m2.zones.cat.invalid. 0 PTR b.example.",
        ))
        .unwrap();
    assert_eq!(added.added.len(), 2);
    let changes = consumer
        .update(&catalog(2, "m1.zones.cat.invalid. 0 PTR a.example."))
        .unwrap();
    assert_eq!(changes.removed, [name("b.example.")]);
    assert!(changes.added.is_empty() && changes.reset.is_empty());
}

#[test]
fn rfc9432_5_4_member_node_name_change_resets_the_zone() {
    let mut consumer = Consumer::new();
    consumer
        .update(&catalog(1, "m1.zones.cat.invalid. 0 PTR a.example."))
        .unwrap();
    let changes = consumer
        .update(&catalog(2, "renamed.zones.cat.invalid. 0 PTR a.example."))
        .unwrap();
    assert_eq!(changes.reset.len(), 1);
    assert_eq!(changes.reset[0].unique_id, b"renamed");
    assert!(changes.added.is_empty() && changes.removed.is_empty());
}

#[test]
fn a_property_change_is_an_update_and_an_unchanged_catalog_is_none() {
    let mut consumer = Consumer::new();
    let body = "m1.zones.cat.invalid. 0 PTR a.example.";
    consumer.update(&catalog(1, body)).unwrap();
    assert!(consumer.update(&catalog(2, body)).unwrap().is_empty());
    let grouped = format!("{body}\ngroup.m1.zones.cat.invalid. 0 TXT gold");
    let changes = consumer.update(&catalog(3, &grouped)).unwrap();
    assert_eq!(changes.updated.len(), 1);
    assert!(changes.reset.is_empty());
}

mod any_content {
    use proptest::prelude::*;

    use super::*;
    use crate::name::Name;
    use crate::record::{Class, Record, Rtype};

    fn label() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "m1", "m2", "M1", "group", "coo", "zones", "version", "x",
        ])
        .prop_map(str::to_string)
    }

    fn record() -> impl Strategy<Value = (Vec<String>, u16, Vec<u8>)> {
        (
            prop::collection::vec(label(), 0..4),
            prop::sample::select(vec![Rtype::PTR.0, Rtype::TXT.0, Rtype::A.0]),
            prop::sample::select(vec![
                "a.example.",
                "b.example.",
                "cat.invalid.",
                "B.EXAMPLE.",
            ]),
            prop::collection::vec(any::<u8>(), 0..6),
        )
            .prop_map(|(labels, rtype, target, text)| {
                let rdata = match Rtype(rtype) {
                    Rtype::PTR => name(target).as_wire().to_vec(),
                    Rtype::A => vec![192, 0, 2, 1],
                    _ => {
                        let mut rdata = vec![text.len() as u8];
                        rdata.extend(text);
                        rdata
                    }
                };
                (labels, rtype, rdata)
            })
    }

    proptest! {
        #[test]
        fn any_catalog_content_reads_without_panic_and_each_zone_once(
            records in prop::collection::vec(record(), 0..16)
        ) {
            let origin = name("cat.invalid.");
            let mut all = crate::zone::testing::records(
                "cat.invalid. 0 SOA invalid. invalid. 1 3600 600 86400 0
                 cat.invalid. 0 NS invalid.
                 version.cat.invalid. 0 TXT 2",
            );
            for (labels, rtype, rdata) in records {
                let mut owner = origin.clone();
                for label in labels.iter().rev() {
                    owner = owner.prepend(label.as_bytes()).unwrap();
                }
                all.push(Record { owner, rtype: Rtype(rtype), class: Class::IN, ttl: 0, rdata: rdata.into() });
            }
            let Ok(snapshot) = crate::zone::Snapshot::build(&origin, all) else {
                return Ok(());
            };
            if let Ok(members) = Members::read(&snapshot, None) {
                let zones = name("zones.cat.invalid.");
                for member in members.iter() {
                    let owner = zones.prepend(&member.unique_id).unwrap();
                    let listed = snapshot.records().any(|record| {
                        record.rtype == Rtype::PTR
                            && record.owner == owner
                            && Name::from_wire(&record.rdata).is_ok_and(|target| target == member.zone)
                    });
                    prop_assert!(listed, "{member:?} has no PTR");
                }
                let mut ids: Vec<&Vec<u8>> = members.iter().map(|m| &m.unique_id).collect();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), members.len());
                let again = Members::read(&snapshot, Some(&members)).unwrap();
                prop_assert_eq!(again.iter().collect::<Vec<_>>(), members.iter().collect::<Vec<_>>());
            }
        }
    }
}
