//! `proto::acl`: reading entries as operators write them, and matching
//! client addresses and TSIG keys against them.

use std::net::IpAddr;

use understudy_proto::Name;
use understudy_proto::acl::{Acl, AclEntry, AclError, Prefix};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn key(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn acl(entries: &[&str]) -> Acl {
    Acl::parse(entries).unwrap()
}

#[test]
fn empty_acl_allows_nobody() {
    let nobody = Acl::nobody();
    assert!(nobody.is_empty());
    assert!(!nobody.allows(ip("127.0.0.1"), None));
    assert!(!nobody.allows(ip("::1"), Some(&key("xfr-key"))));
    assert_eq!(Acl::parse::<&str>(&[]).unwrap(), nobody);
}

#[test]
fn ipv4_prefix_matches_inside_only() {
    let list = acl(&["198.51.100.0/24"]);
    assert!(list.allows(ip("198.51.100.0"), None));
    assert!(list.allows(ip("198.51.100.255"), None));
    assert!(!list.allows(ip("198.51.101.0"), None));
    assert!(!list.allows(ip("198.51.99.255"), None));
    assert!(!list.allows(ip("2001:db8::1"), None));
}

#[test]
fn ipv6_prefix_matches_inside_only() {
    let list = acl(&["2001:db8::/32"]);
    assert!(list.allows(ip("2001:db8:ffff::1"), None));
    assert!(!list.allows(ip("2001:db9::1"), None));
    assert!(!list.allows(ip("192.0.2.1"), None));
}

#[test]
fn single_address_is_a_full_length_prefix() {
    let list = acl(&["192.0.2.1", "::1"]);
    assert!(list.allows(ip("192.0.2.1"), None));
    assert!(!list.allows(ip("192.0.2.2"), None));
    assert!(list.allows(ip("::1"), None));
    assert!(!list.allows(ip("::2"), None));
}

#[test]
fn zero_length_prefix_matches_its_family() {
    let list = acl(&["0.0.0.0/0"]);
    assert!(list.allows(ip("203.0.113.7"), None));
    assert!(list.allows(ip("::ffff:203.0.113.7"), None));
    assert!(!list.allows(ip("2001:db8::1"), None));
}

#[test]
fn ipv4_mapped_client_matches_ipv4_prefix() {
    let list = acl(&["192.0.2.0/24"]);
    assert!(list.allows(ip("::ffff:192.0.2.55"), None));
    assert!(!list.allows(ip("::ffff:192.0.3.55"), None));
}

#[test]
fn ipv4_mapped_entry_matches_plain_ipv4_client() {
    let list = acl(&["::ffff:192.0.2.1"]);
    assert!(list.allows(ip("192.0.2.1"), None));
    assert!(list.allows(ip("::ffff:192.0.2.1"), None));
    assert!(!list.allows(ip("192.0.2.2"), None));
}

#[test]
fn key_entry_needs_that_key_from_anywhere() {
    let list = acl(&["key:xfr-key"]);
    assert!(list.allows(ip("203.0.113.1"), Some(&key("xfr-key."))));
    assert!(
        list.allows(ip("::1"), Some(&key("XFR-Key"))),
        "key names ignore case"
    );
    assert!(!list.allows(ip("203.0.113.1"), None));
    assert!(!list.allows(ip("203.0.113.1"), Some(&key("other-key"))));
}

#[test]
fn prefix_and_key_entry_needs_both() {
    let list = acl(&["192.0.2.0/24 key:xfr-key"]);
    assert!(list.allows(ip("192.0.2.9"), Some(&key("xfr-key"))));
    assert!(!list.allows(ip("192.0.2.9"), None));
    assert!(!list.allows(ip("198.51.100.9"), Some(&key("xfr-key"))));
    assert!(!list.allows(ip("192.0.2.9"), Some(&key("other"))));
}

#[test]
fn any_entry_is_enough() {
    let list = acl(&["198.51.100.0/24", "key:xfr-key", "2001:db8::/32 key:v6-key"]);
    assert!(list.allows(ip("198.51.100.3"), None));
    assert!(list.allows(ip("203.0.113.3"), Some(&key("xfr-key"))));
    assert!(list.allows(ip("2001:db8::5"), Some(&key("v6-key"))));
    assert!(!list.allows(ip("2001:db8::5"), None));
    assert!(!list.allows(ip("203.0.113.3"), Some(&key("v6-key"))));
}

#[test]
fn unsigned_request_never_matches_key_entry_even_in_prefix() {
    let list = acl(&["0.0.0.0/0 key:k"]);
    assert!(!list.allows(ip("10.0.0.1"), None));
}

#[test]
fn parse_errors_are_typed() {
    let err = |text: &str| text.parse::<AclEntry>().unwrap_err();
    assert_eq!(err(""), AclError::Empty);
    assert_eq!(err("   "), AclError::Empty);
    assert!(matches!(err("192.0.2.300"), AclError::BadAddress(_)));
    assert!(matches!(err("example.com"), AclError::BadAddress(_)));
    assert!(matches!(
        err("192.0.2.0/33"),
        AclError::BadPrefixLength { max: 32, .. }
    ));
    assert!(matches!(
        err("2001:db8::/129"),
        AclError::BadPrefixLength { max: 128, .. }
    ));
    assert!(matches!(
        err("192.0.2.0/x"),
        AclError::BadPrefixLength { .. }
    ));
    assert!(matches!(
        err("192.0.2.0/-1"),
        AclError::BadPrefixLength { .. }
    ));
    assert!(matches!(err("192.0.2.1/24"), AclError::HostBitsSet(_)));
    assert!(matches!(err("2001:db8::1/32"), AclError::HostBitsSet(_)));
    assert!(matches!(err("key:"), AclError::BadKeyName { .. }));
    assert!(matches!(err("key:a..b"), AclError::BadKeyName { .. }));
    assert!(matches!(
        err("192.0.2.0/24 198.51.100.0/24"),
        AclError::BadSyntax(_)
    ));
    assert!(matches!(err("key:a key:b"), AclError::BadSyntax(_)));
}

#[test]
fn first_bad_entry_fails_the_whole_list() {
    let result = Acl::parse(&["192.0.2.1", "nonsense", "key:k"]);
    assert_eq!(result, Err(AclError::BadAddress("nonsense".to_string())));
}

#[test]
fn entries_print_back_as_written() {
    for text in [
        "198.51.100.0/24",
        "2001:db8::/32",
        "192.0.2.1",
        "192.0.2.0/24 key:xfr-key.",
    ] {
        assert_eq!(text.parse::<AclEntry>().unwrap().to_string(), text);
    }
    assert_eq!("key:k".parse::<AclEntry>().unwrap().to_string(), "key:k.");
}

#[test]
fn built_entries_match_like_parsed_ones() {
    let prefix = Prefix::new(ip("192.0.2.0"), 24).unwrap();
    let mut list = Acl::nobody();
    list.push(AclEntry::prefix_and_key(prefix, key("k")));
    assert_eq!(list, acl(&["192.0.2.0/24 key:k"]));
    assert!(Prefix::new(ip("192.0.2.0"), 33).is_err());
}
