//! Access control lists: address prefixes and TSIG key names.
//!
//! An [`Acl`] guards zone transfers out and NOTIFY in. Its entries are read
//! from the configuration in the forms operators know from BIND and Knot:
//!
//! | entry                        | matches                                     |
//! |------------------------------|---------------------------------------------|
//! | `198.51.100.0/24`            | any client in the prefix                    |
//! | `2001:db8::/32`              | any client in the prefix                    |
//! | `192.0.2.1`, `::1`           | that one address                            |
//! | `key:xfr-key`                | any client whose message was signed by the key |
//! | `192.0.2.0/24 key:xfr-key`   | a client in the prefix *and* signed by the key |
//!
//! A request is allowed when any entry matches; an empty list allows nobody.
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as a dual-stack socket
//! reports IPv4 clients) are compared as the IPv4 addresses they carry, both
//! on the client side and in the entries.
//!
//! The key name is compared case-insensitively; the caller passes it only
//! once the TSIG signature has been verified.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::name::{Name, NameError};

/// Why an ACL entry could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// The entry is empty or only whitespace.
    #[error("empty ACL entry")]
    Empty,
    /// The address part is not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IP address")]
    BadAddress(String),
    /// The prefix length is not a number within the address family's width.
    #[error("{entry:?}: prefix length must be 0..={max}")]
    BadPrefixLength {
        /// The entry as written.
        entry: String,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
    /// Bits are set in the address beyond the prefix length (`192.0.2.1/24`),
    /// which usually means a typo in the length or the address.
    #[error("{0:?}: address has bits set beyond the prefix length")]
    HostBitsSet(String),
    /// The name after `key:` is missing or not a valid domain name.
    #[error("{entry:?}: bad key name: {reason}")]
    BadKeyName {
        /// The entry as written.
        entry: String,
        /// What is wrong with the name.
        reason: NameError,
    },
    /// More than one prefix, more than one key, or an unknown word.
    #[error("{0:?}: expected PREFIX, key:NAME or PREFIX key:NAME")]
    BadSyntax(String),
}

/// An address prefix: the network address and how many leading bits count.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    address: IpAddr,
    length: u8,
}

impl Prefix {
    /// The prefix of `length` bits at `address`; IPv4-mapped IPv6 prefixes
    /// (`::ffff:192.0.2.0/120`) become the IPv4 prefix they denote.
    pub fn new(address: IpAddr, length: u8) -> Result<Prefix, AclError> {
        let (address, length) = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if length >= 96 => (IpAddr::V4(v4), length - 96),
                _ => (address, length),
            },
            IpAddr::V4(_) => (address, length),
        };
        let max = family_width(address);
        if length > max {
            return Err(AclError::BadPrefixLength {
                entry: format!("{address}/{length}"),
                max,
            });
        }
        let prefix = Prefix { address, length };
        if prefix.network() != address {
            return Err(AclError::HostBitsSet(format!("{address}/{length}")));
        }
        Ok(prefix)
    }

    /// The network address.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// How many leading bits are compared.
    pub fn length(&self) -> u8 {
        self.length
    }

    /// Whether `addr` lies inside the prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.address, unmapped(addr)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => masked_v4(a, self.length) == net,
            (IpAddr::V6(net), IpAddr::V6(a)) => masked_v6(a, self.length) == net,
            _ => false,
        }
    }

    fn network(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(a) => IpAddr::V4(masked_v4(a, self.length)),
            IpAddr::V6(a) => IpAddr::V6(masked_v6(a, self.length)),
        }
    }
}

impl FromStr for Prefix {
    type Err = AclError;

    fn from_str(text: &str) -> Result<Prefix, AclError> {
        let (address_text, length_text) = match text.split_once('/') {
            Some((address, length)) => (address, Some(length)),
            None => (text, None),
        };
        let address: IpAddr = address_text
            .parse()
            .map_err(|_| AclError::BadAddress(address_text.to_string()))?;
        let max = family_width(address);
        let length = match length_text {
            None => max,
            Some(length) => length
                .parse::<u8>()
                .ok()
                .filter(|length| *length <= max)
                .ok_or_else(|| AclError::BadPrefixLength {
                    entry: text.to_string(),
                    max,
                })?,
        };
        Prefix::new(address, length).map_err(|error| match error {
            AclError::HostBitsSet(_) => AclError::HostBitsSet(text.to_string()),
            other => other,
        })
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.length == family_width(self.address) {
            write!(f, "{}", self.address)
        } else {
            write!(f, "{}/{}", self.address, self.length)
        }
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One ACL entry: a prefix, a key, or both (then both must match).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AclEntry {
    prefix: Option<Prefix>,
    key: Option<Name>,
}

impl AclEntry {
    /// An entry matching clients in `prefix`.
    pub fn prefix(prefix: Prefix) -> AclEntry {
        AclEntry {
            prefix: Some(prefix),
            key: None,
        }
    }

    /// An entry matching messages signed with the TSIG key `key`.
    pub fn key(key: Name) -> AclEntry {
        AclEntry {
            prefix: None,
            key: Some(key),
        }
    }

    /// An entry matching clients in `prefix` that also signed with `key`.
    pub fn prefix_and_key(prefix: Prefix, key: Name) -> AclEntry {
        AclEntry {
            prefix: Some(prefix),
            key: Some(key),
        }
    }

    /// The TSIG key this entry requires, if any.
    pub fn key_name(&self) -> Option<&Name> {
        self.key.as_ref()
    }

    /// Whether a request from `addr`, verified as signed with `key` (if
    /// any), matches this entry.
    pub fn matches(&self, addr: IpAddr, key: Option<&Name>) -> bool {
        let address_ok = self.prefix.is_none_or(|prefix| prefix.contains(addr));
        let key_ok = match &self.key {
            None => true,
            Some(wanted) => key == Some(wanted),
        };
        address_ok && key_ok
    }
}

impl FromStr for AclEntry {
    type Err = AclError;

    fn from_str(text: &str) -> Result<AclEntry, AclError> {
        let mut prefix = None;
        let mut key = None;
        let mut words = 0;
        for word in text.split_whitespace() {
            words += 1;
            if let Some(name) = word.strip_prefix("key:") {
                if key.is_some() {
                    return Err(AclError::BadSyntax(text.to_string()));
                }
                key = Some(key_name(text, name)?);
            } else {
                if prefix.is_some() {
                    return Err(AclError::BadSyntax(text.to_string()));
                }
                prefix = Some(word.parse::<Prefix>()?);
            }
        }
        match words {
            0 => Err(AclError::Empty),
            _ => Ok(AclEntry { prefix, key }),
        }
    }
}

impl fmt::Display for AclEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.prefix, &self.key) {
            (Some(prefix), Some(key)) => write!(f, "{prefix} key:{key}"),
            (Some(prefix), None) => write!(f, "{prefix}"),
            (None, Some(key)) => write!(f, "key:{key}"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Debug for AclEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A list of entries; a request is allowed when any entry matches.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Acl {
    entries: Vec<AclEntry>,
}

impl Acl {
    /// The empty list, which allows nobody.
    pub fn nobody() -> Acl {
        Acl::default()
    }

    /// Reads entries as written in the configuration; the first bad entry
    /// is the error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Acl, AclError> {
        let entries = entries
            .iter()
            .map(|entry| entry.as_ref().parse())
            .collect::<Result<Vec<AclEntry>, AclError>>()?;
        Ok(Acl { entries })
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: AclEntry) {
        self.entries.push(entry);
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[AclEntry] {
        &self.entries
    }

    /// Whether the list has no entries (and so allows nobody).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a request from `addr`, verified as signed with the TSIG key
    /// named `key` (`None` when unsigned), is allowed.
    pub fn allows(&self, addr: IpAddr, key: Option<&Name>) -> bool {
        self.entries.iter().any(|entry| entry.matches(addr, key))
    }
}

impl fmt::Debug for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.entries).finish()
    }
}

fn key_name(entry: &str, name: &str) -> Result<Name, AclError> {
    if name.is_empty() {
        return Err(AclError::BadKeyName {
            entry: entry.to_string(),
            reason: NameError::BadText("empty name"),
        });
    }
    Name::from_ascii(name).map_err(|reason| AclError::BadKeyName {
        entry: entry.to_string(),
        reason,
    })
}

fn family_width(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The IPv4 address inside an IPv4-mapped IPv6 address, else `addr`.
fn unmapped(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

fn masked_v4(addr: Ipv4Addr, length: u8) -> Ipv4Addr {
    let mask = u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0);
    Ipv4Addr::from(u32::from(addr) & mask)
}

fn masked_v6(addr: Ipv6Addr, length: u8) -> Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - u32::from(length)).unwrap_or(0);
    Ipv6Addr::from(u128::from(addr) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn masks_cover_whole_range_of_lengths() {
        assert_eq!(
            masked_v4(Ipv4Addr::new(192, 0, 2, 77), 0),
            Ipv4Addr::UNSPECIFIED
        );
        assert_eq!(
            masked_v4(Ipv4Addr::new(192, 0, 2, 77), 32),
            Ipv4Addr::new(192, 0, 2, 77)
        );
        assert_eq!(
            masked_v4(Ipv4Addr::new(192, 0, 2, 77), 25),
            Ipv4Addr::new(192, 0, 2, 0)
        );
        assert_eq!(
            masked_v6("2001:db8::1".parse().unwrap(), 0),
            Ipv6Addr::UNSPECIFIED
        );
        assert_eq!(
            masked_v6("2001:db8::1".parse().unwrap(), 128),
            "2001:db8::1".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn mapped_prefix_becomes_ipv4() {
        let prefix: Prefix = "::ffff:192.0.2.0/120".parse().unwrap();
        assert_eq!(prefix.address(), ip("192.0.2.0"));
        assert_eq!(prefix.length(), 24);
        assert!(prefix.contains(ip("192.0.2.9")));
    }
}
