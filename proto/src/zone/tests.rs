use proptest::prelude::*;

use super::testing::{name, records, snapshot};
use super::*;

const ZONE: &str = "
example. 3600 SOA ns1.example. hostmaster.example. 2024010101 3600 600 604800 300
example. 3600 NS ns1.example.
example. 3600 NS ns2.example.
example. 3600 MX 10 mail.example.
ns1.example. 3600 A 192.0.2.1
ns2.example. 3600 A 192.0.2.2
mail.example. 3600 A 192.0.2.3
www.example. 300 A 192.0.2.10
www.example. 300 A 192.0.2.11
WWW.Example. 300 A 192.0.2.11
*.wild.example. 300 TXT wildcard
a.b.c.ent.example. 300 A 192.0.2.20
sub.example. 3600 NS ns.sub.example.
ns.sub.example. 3600 A 192.0.2.30
deep.ns.sub.example. 3600 A 192.0.2.31
alias.example. 300 CNAME www.example.
";

fn zone() -> Snapshot {
    snapshot("example.", ZONE)
}

#[test]
fn build_is_canonical_whatever_the_input_order() {
    let mut input = records(ZONE);
    let first = Snapshot::build(&name("example."), input.clone()).unwrap();
    input.reverse();
    let reversed = Snapshot::build(&name("example."), input.clone()).unwrap();
    input.rotate_left(5);
    input.extend(records(ZONE));
    let shuffled = Snapshot::build(&name("EXAMPLE."), input).unwrap();
    assert_eq!(first.as_bytes(), reversed.as_bytes());
    assert_eq!(first.as_bytes(), shuffled.as_bytes());
    assert_eq!(first.digest(), shuffled.digest());
}

#[test]
fn duplicates_are_removed_case_insensitively() {
    let zone = zone();
    // 16 lines, one of which repeats www's second address in another case.
    assert_eq!(zone.record_count(), 15);
    let www: Vec<Record> = zone
        .records()
        .filter(|r| r.owner == name("www.example."))
        .collect();
    assert_eq!(www.len(), 2);
    // The node takes the spelling of its first record in canonical order.
    assert_eq!(www[0].owner.to_string(), "www.example.");
}

#[test]
fn accessors_report_the_apex_soa() {
    let zone = zone();
    assert_eq!(zone.serial(), 2024010101);
    assert_eq!(zone.origin(), name("example."));
    let soa = zone.soa();
    assert_eq!(soa.soa().unwrap().minimum, 300);
    assert_eq!(soa.ttl, 3600);
    assert!(!zone.is_signed());
}

#[test]
fn records_come_back_in_canonical_order() {
    let zone = zone();
    let out: Vec<Record> = zone.records().collect();
    for pair in out.windows(2) {
        let order = pair[0]
            .owner
            .cmp(&pair[1].owner)
            .then(pair[0].rtype.cmp(&pair[1].rtype));
        assert_ne!(
            order,
            std::cmp::Ordering::Greater,
            "{:?} before {:?}",
            pair[0],
            pair[1]
        );
    }
    let rebuilt = Snapshot::build(&name("example."), out).unwrap();
    assert_eq!(rebuilt.as_bytes(), zone.as_bytes());
}

#[test]
fn from_bytes_round_trips() {
    let zone = zone();
    let loaded = Snapshot::from_bytes(zone.as_bytes().to_vec()).unwrap();
    assert_eq!(loaded.as_bytes(), zone.as_bytes());
    assert_eq!(loaded.digest(), zone.digest());
    assert_eq!(
        loaded.records().collect::<Vec<_>>(),
        zone.records().collect::<Vec<_>>()
    );
}

#[test]
fn nodes_carry_flags_and_empty_non_terminals() {
    let zone = zone();
    let view = zone.view();
    let find = |text: &str| view.find(name(text).to_lowercase().as_wire());
    for ent in ["b.c.ent.example.", "c.ent.example.", "ent.example."] {
        let node = find(ent).unwrap_or_else(|| panic!("{ent} missing"));
        assert!(!node.exists() && node.rrset_count() == 0);
    }
    assert!(find("a.b.c.ent.example.").unwrap().exists());
    assert!(find("x.ent.example.").is_none());
    assert!(find("sub.example.").unwrap().is_delegation());
    assert!(find("ns.sub.example.").unwrap().is_below_cut());
    assert!(find("deep.ns.sub.example.").unwrap().is_below_cut());
    assert!(find("wild.example.").unwrap().has_wildcard_child());
    assert!(find("example.").unwrap().is_apex());
    let deep = find("a.b.c.ent.example.").unwrap();
    assert_eq!(deep.parent().name(), name("b.c.ent.example.").as_wire());
    let predecessor = view.predecessor(name("d.ent.example.").as_wire()).unwrap();
    assert_eq!(predecessor.name(), name("a.b.c.ent.example.").as_wire());
    let predecessor = view
        .predecessor(name("0.c.ent.example.").as_wire())
        .unwrap();
    assert_eq!(predecessor.name(), name("c.ent.example.").as_wire());
}

fn build_error(text: &str) -> BuildError {
    Snapshot::build(&name("example."), records(text)).unwrap_err()
}

const APEX: &str =
    "example. 3600 SOA ns1.example. h.example. 1 2 3 4 5\nexample. 3600 NS ns1.example.\n";

#[test]
fn structural_rules_refuse_bad_zones() {
    assert_eq!(
        build_error("example. 3600 NS ns1.example."),
        BuildError::MissingSoa
    );
    assert_eq!(
        build_error("example. 1 SOA a. b. 1 2 3 4 5"),
        BuildError::MissingApexNs
    );
    let two_soa = format!("{APEX}example. 1 SOA a. b. 2 2 3 4 5");
    assert_eq!(build_error(&two_soa), BuildError::MultipleSoa);
    let outside = format!("{APEX}www.example.org. 1 A 192.0.2.1");
    assert!(matches!(build_error(&outside), BuildError::OutOfZone(_)));
    let cname = format!("{APEX}a.example. 1 CNAME b.example.\na.example. 1 A 192.0.2.1");
    assert!(matches!(
        build_error(&cname),
        BuildError::CnameWithOtherData(_)
    ));
    let two_cnames = format!("{APEX}a.example. 1 CNAME b.example.\na.example. 1 CNAME c.example.");
    assert!(matches!(
        build_error(&two_cnames),
        BuildError::MultipleCname(_)
    ));
    let below_dname = format!("{APEX}d.example. 1 DNAME x.org.\ny.d.example. 1 A 192.0.2.1");
    assert!(matches!(
        build_error(&below_dname),
        BuildError::BelowDname(_)
    ));
    let soa_below = format!("{APEX}a.example. 1 SOA a. b. 1 2 3 4 5");
    assert!(matches!(
        build_error(&soa_below),
        BuildError::MisplacedSoa(_)
    ));
    let mut bad_ns = records(APEX);
    bad_ns[1].rdata = Box::new([3, b'n', b's']);
    assert!(matches!(
        Snapshot::build(&name("example."), bad_ns),
        Err(BuildError::BadRdata(_, Rtype::NS))
    ));
    let mut wrong_class = records(APEX);
    wrong_class[0].class = Class::CH;
    assert!(matches!(
        Snapshot::build(&name("example."), wrong_class),
        Err(BuildError::WrongClass(..))
    ));
}

#[test]
fn load_refuses_damaged_bytes() {
    let bytes = zone().as_bytes().to_vec();
    assert!(matches!(
        Snapshot::from_bytes(bytes[..bytes.len() - 1].to_vec()),
        Err(LoadError::Truncated(_))
    ));
    assert!(matches!(
        Snapshot::from_bytes(bytes[..20].to_vec()),
        Err(LoadError::Truncated(20))
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Snapshot::from_bytes(longer).unwrap_err(),
        LoadError::TrailingBytes(1)
    );
    let mut flipped = bytes.clone();
    let last = flipped.len() - 7;
    flipped[last] ^= 0x10;
    assert_eq!(
        Snapshot::from_bytes(flipped).unwrap_err(),
        LoadError::DigestMismatch
    );
    let mut serial = bytes.clone();
    serial[15] ^= 1;
    assert!(matches!(
        Snapshot::from_bytes(serial),
        Err(LoadError::Inconsistent(_))
    ));
    assert_eq!(
        Snapshot::from_bytes(b"not a snapshot".to_vec()).unwrap_err(),
        LoadError::BadMagic
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Any change to a valid snapshot is refused, and loading never panics.
    #[test]
    fn mutated_snapshots_never_load(edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)) {
        let mut bytes = zone().as_bytes().to_vec();
        for (index, xor) in edits {
            let i = index.index(bytes.len());
            bytes[i] ^= xor;
        }
        prop_assert!(Snapshot::from_bytes(bytes).is_err());
    }

    #[test]
    fn truncated_snapshots_never_load(cut in any::<prop::sample::Index>()) {
        let bytes = zone().as_bytes().to_vec();
        let len = cut.index(bytes.len());
        prop_assert!(Snapshot::from_bytes(bytes[..len].to_vec()).is_err());
    }
}
