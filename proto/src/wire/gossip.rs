//! The gossip key schema: what one node publishes about itself and its
//! zones in chitchat key-values, and how a reader turns them back.
//!
//! ```text
//!   key                 value                          meaning
//!   "schema"            "1"                            this layout
//!   "region"            "eu-west"                      [node] region
//!   "quic"              "192.0.2.1:7947"               QUIC address
//!   "dns"               "192.0.2.1:53"                 DNS address
//!   "z:example.com."    "EPOCH/SERIAL/AGE_MS/R/N"      one zone served
//!                        0/2024010101/5300/1/17
//! ```
//!
//! `AGE_MS` is how long before publication a primary confirmed the version
//! (directly or through the peer it came from), or `-` when unknown; the
//! reader adds the time since it first saw the value, so the clocks of
//! writer and reader never meet. `R` is `1` when the writer's last check
//! of the zone's primaries succeeded, else `0`. `N` counts the writer's
//! publications of the zone: a confirmation read just before publication
//! gives the same age (0 ms) every time, and without `N` the value would
//! not change, so readers would never learn that the age was reset.
//!
//! Values are short because a node publishes one per zone and chitchat
//! sends whole key-values: 1,000 zones are about 44 kB of state, sent once
//! and then only as they change. A writer republishes a zone only when its
//! version or reachability changes or a confirmation reset its age.
//!
//! Gossip is advisory (DESIGN.md decision 6) and comes from other
//! processes: decoding never panics, and keys it does not know are skipped
//! so that a later release may add some.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::name::Name;
use crate::replicate::Advert;
use crate::serial::ZoneVersion;

/// The key naming the schema version.
pub const SCHEMA_KEY: &str = "schema";
/// The schema version this module writes and reads.
pub const SCHEMA_VERSION: &str = "1";
/// The key of the node's region.
pub const REGION_KEY: &str = "region";
/// The key of the node's QUIC address.
pub const QUIC_KEY: &str = "quic";
/// The key of the node's DNS address.
pub const DNS_KEY: &str = "dns";
/// The prefix of a zone's key; the zone's name follows.
pub const ZONE_PREFIX: &str = "z:";
/// The longest value a reader accepts (the longest valid one is 56 bytes).
pub const MAX_VALUE_LEN: usize = 64;

/// What a node says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeKeys {
    /// Its region.
    pub region: Option<String>,
    /// Its QUIC address.
    pub quic: Option<SocketAddr>,
    /// Its DNS address.
    pub dns: Option<SocketAddr>,
}

/// One zone's advert as published: the advert and the writer's
/// publication count, which makes every republication a new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ZoneAdvert {
    /// What the advert says.
    pub advert: Advert,
    /// Raised by the writer at each publication of the zone (wrapping).
    pub sequence: u32,
}

/// A member's key-values read back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberKeys {
    /// What it says about itself.
    pub node: NodeKeys,
    /// The zones it advertises, in name order.
    pub zones: Vec<(Name, ZoneAdvert)>,
    /// Keys of this schema that did not decode (skipped).
    pub rejected: usize,
}

/// Why a gossip key or value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipDecodeError {
    /// A zone key whose name does not parse.
    #[error("zone key with an invalid name: {0}")]
    ZoneName(String),
    /// A zone value without its five fields.
    #[error("zone value does not have five fields")]
    Fields,
    /// A value longer than [`MAX_VALUE_LEN`].
    #[error("value longer than {MAX_VALUE_LEN} bytes")]
    TooLong,
    /// A number that does not parse or does not fit.
    #[error("{field} is not a number in range")]
    Number {
        /// Which field.
        field: &'static str,
    },
    /// The reachability flag is neither `0` nor `1`.
    #[error("reachability must be 0 or 1")]
    Reachable,
    /// An address that does not parse.
    #[error("{key} is not an address")]
    Address {
        /// Which key.
        key: &'static str,
    },
}

/// The key of `zone`.
pub fn zone_key(zone: &Name) -> String {
    format!("{ZONE_PREFIX}{zone}")
}

/// The value advertising `advert`.
pub fn encode_zone(advert: &ZoneAdvert) -> String {
    ZoneValue(advert).to_string()
}

/// The node's own key-values: schema, region and addresses.
pub fn encode_node(node: &NodeKeys) -> Vec<(String, String)> {
    let mut pairs = vec![(SCHEMA_KEY.to_owned(), SCHEMA_VERSION.to_owned())];
    if let Some(region) = &node.region {
        pairs.push((REGION_KEY.to_owned(), region.clone()));
    }
    if let Some(quic) = node.quic {
        pairs.push((QUIC_KEY.to_owned(), quic.to_string()));
    }
    if let Some(dns) = node.dns {
        pairs.push((DNS_KEY.to_owned(), dns.to_string()));
    }
    pairs
}

/// The zone a key names: `None` for a key that is not a zone key,
/// `Some(Err)` for a zone key with a bad name.
pub fn decode_zone_key(key: &str) -> Option<Result<Name, GossipDecodeError>> {
    let name = key.strip_prefix(ZONE_PREFIX)?;
    Some(Name::from_str(name).map_err(|_| GossipDecodeError::ZoneName(name.to_owned())))
}

/// A zone value back into an advert.
pub fn decode_zone(value: &str) -> Result<ZoneAdvert, GossipDecodeError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(GossipDecodeError::TooLong);
    }
    let mut fields = value.split('/');
    let (Some(epoch), Some(serial), Some(age), Some(reachable), Some(sequence), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(GossipDecodeError::Fields);
    };
    let number = |text: &str, field| {
        text.parse::<u64>()
            .map_err(|_| GossipDecodeError::Number { field })
    };
    let epoch = u32::try_from(number(epoch, "epoch")?)
        .map_err(|_| GossipDecodeError::Number { field: "epoch" })?;
    let serial = u32::try_from(number(serial, "serial")?)
        .map_err(|_| GossipDecodeError::Number { field: "serial" })?;
    let confirmed_age = match age {
        "-" => None,
        millis => Some(Duration::from_millis(number(millis, "age")?)),
    };
    let primary_reachable = match reachable {
        "1" => true,
        "0" => false,
        _ => return Err(GossipDecodeError::Reachable),
    };
    let sequence = u32::try_from(number(sequence, "sequence")?)
        .map_err(|_| GossipDecodeError::Number { field: "sequence" })?;
    let advert = Advert {
        version: ZoneVersion::new(epoch, serial),
        confirmed_age,
        primary_reachable,
    };
    Ok(ZoneAdvert { advert, sequence })
}

/// Everything a member publishes, read back. Keys of other schemas and
/// unknown keys are skipped; keys of this schema that do not decode are
/// counted in [`MemberKeys::rejected`].
pub fn decode<'a>(key_values: impl IntoIterator<Item = (&'a str, &'a str)>) -> MemberKeys {
    let mut keys = MemberKeys::default();
    for (key, value) in key_values {
        if let Err(_error) = keys.take(key, value) {
            keys.rejected += 1;
        }
    }
    keys.zones.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

impl MemberKeys {
    fn take(&mut self, key: &str, value: &str) -> Result<(), GossipDecodeError> {
        if let Some(zone) = decode_zone_key(key) {
            let zone = zone?;
            self.zones.push((zone, decode_zone(value)?));
            return Ok(());
        }
        match key {
            REGION_KEY => self.node.region = Some(value.to_owned()),
            QUIC_KEY => self.node.quic = Some(address(value, "quic")?),
            DNS_KEY => self.node.dns = Some(address(value, "dns")?),
            _ => {}
        }
        Ok(())
    }
}

fn address(value: &str, key: &'static str) -> Result<SocketAddr, GossipDecodeError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(GossipDecodeError::TooLong);
    }
    value
        .parse()
        .map_err(|_| GossipDecodeError::Address { key })
}

struct ZoneValue<'a>(&'a ZoneAdvert);

impl fmt::Display for ZoneValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let advert = &self.0.advert;
        let version = advert.version;
        write!(f, "{}/{}/", version.epoch, version.serial.0)?;
        match advert.confirmed_age {
            Some(age) => write!(f, "{}", u64::try_from(age.as_millis()).unwrap_or(u64::MAX))?,
            None => f.write_str("-")?,
        }
        f.write_str(if advert.primary_reachable {
            "/1/"
        } else {
            "/0/"
        })?;
        write!(f, "{}", self.0.sequence)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn advert(epoch: u32, serial: u32, age: Option<u64>, reachable: bool) -> ZoneAdvert {
        let advert = Advert {
            version: ZoneVersion::new(epoch, serial),
            confirmed_age: age.map(Duration::from_millis),
            primary_reachable: reachable,
        };
        ZoneAdvert {
            advert,
            sequence: 0,
        }
    }

    #[test]
    fn zone_value_is_short_and_reads_back() {
        let sample = ZoneAdvert {
            sequence: 17,
            ..advert(0, 2_024_010_101, Some(5_300), true)
        };
        let value = encode_zone(&sample);
        assert_eq!(value, "0/2024010101/5300/1/17");
        assert_eq!(decode_zone(&value), Ok(sample));
        let longest = ZoneAdvert {
            sequence: u32::MAX,
            ..advert(u32::MAX, u32::MAX, Some(u64::MAX), false)
        };
        assert!(encode_zone(&longest).len() <= MAX_VALUE_LEN);
        assert_eq!(decode_zone(&encode_zone(&longest)), Ok(longest));
    }

    #[test]
    fn a_republication_with_nothing_else_changed_is_a_new_value() {
        let first = advert(0, 9, Some(0), true);
        let again = ZoneAdvert {
            sequence: 1,
            ..first
        };
        assert_ne!(encode_zone(&first), encode_zone(&again));
    }

    #[test]
    fn unknown_age_is_a_dash() {
        let sample = advert(3, 7, None, false);
        assert_eq!(encode_zone(&sample), "3/7/-/0/0");
        assert_eq!(decode_zone("3/7/-/0/0"), Ok(sample));
    }

    #[test]
    fn bad_values_are_typed_errors() {
        assert_eq!(decode_zone("1/2/3/1"), Err(GossipDecodeError::Fields));
        assert_eq!(decode_zone("1/2/3/1/5/6"), Err(GossipDecodeError::Fields));
        assert_eq!(
            decode_zone("4294967296/2/3/1/0"),
            Err(GossipDecodeError::Number { field: "epoch" })
        );
        assert_eq!(
            decode_zone("1/-2/3/1/0"),
            Err(GossipDecodeError::Number { field: "serial" })
        );
        assert_eq!(
            decode_zone("1/2/3/yes/0"),
            Err(GossipDecodeError::Reachable)
        );
        assert_eq!(
            decode_zone("1/2/3/1/x"),
            Err(GossipDecodeError::Number { field: "sequence" })
        );
        let long = format!("1/2/{}/1/0", "9".repeat(80));
        assert_eq!(decode_zone(&long), Err(GossipDecodeError::TooLong));
    }

    #[test]
    fn a_member_reads_back_with_unknown_keys_skipped_and_bad_ones_counted() {
        let zone: Name = "example.com.".parse().unwrap();
        let other: Name = "a.example.".parse().unwrap();
        let node = NodeKeys {
            region: Some("eu-west".into()),
            quic: Some("192.0.2.1:7947".parse().unwrap()),
            dns: Some("[2001:db8::1]:53".parse().unwrap()),
        };
        let mut pairs = encode_node(&node);
        pairs.push((zone_key(&zone), "0/10/-/1/0".into()));
        pairs.push((zone_key(&other), "1/20/300/0/0".into()));
        pairs.push(("z:bad..name".into(), "0/1/-/1/0".into()));
        pairs.push((zone_key(&zone).replace("example", "broken"), "x".into()));
        pairs.push(("future-key".into(), "whatever".into()));
        let member = decode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(member.node, node);
        let mut expected = vec![
            (other, advert(1, 20, Some(300), false)),
            (zone, advert(0, 10, None, true)),
        ];
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(member.zones, expected);
        assert_eq!(member.rejected, 2);
    }

    #[test]
    fn a_bad_address_is_rejected_not_taken() {
        let member = decode([(QUIC_KEY, "not an address"), (REGION_KEY, "r")]);
        assert_eq!(member.node.quic, None);
        assert_eq!(member.node.region.as_deref(), Some("r"));
        assert_eq!(member.rejected, 1);
    }

    proptest! {
        #[test]
        fn zone_values_round_trip(
            epoch in any::<u32>(),
            serial in any::<u32>(),
            age in proptest::option::of(any::<u64>()),
            reachable in any::<bool>(),
            sequence in any::<u32>(),
        ) {
            let sample = ZoneAdvert { sequence, ..advert(epoch, serial, age, reachable) };
            prop_assert_eq!(decode_zone(&encode_zone(&sample)), Ok(sample));
        }

        #[test]
        fn decoding_never_panics(key in ".{0,80}", value in ".{0,100}") {
            let _ = decode_zone(&value);
            let _ = decode_zone_key(&key);
            let _ = decode([(key.as_str(), value.as_str())]);
        }

        #[test]
        fn decoding_near_valid_values_never_panics(value in "[0-9/\\-]{0,60}") {
            let _ = decode_zone(&value);
        }
    }
}
