//! Entries of `allow_transfer` and `allow_notify`: an address, a prefix, or a
//! TSIG key written `key:NAME`.

use std::fmt;
use std::net::IpAddr;

use understudy_proto::Name;

/// One entry of an access list, as validated from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessEntry {
    /// Clients whose address starts with this prefix (a single address is a
    /// /32 or /128).
    Prefix {
        /// The network address; bits past `len` are zero.
        address: IpAddr,
        /// Prefix length in bits.
        len: u8,
    },
    /// Clients whose message is signed with this TSIG key.
    Key(Name),
}

impl AccessEntry {
    /// Reads `198.51.100.0/24`, `2001:db8::1`, or `key:xfr-key`.
    pub fn parse(text: &str) -> Result<AccessEntry, String> {
        let text = text.trim();
        if let Some(key) = text.strip_prefix("key:") {
            return key_entry(key.trim());
        }
        let (address, len) = match text.split_once('/') {
            Some((address, len)) => (address, Some(len)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| {
            format!("\"{text}\" is neither an address, a prefix like 198.51.100.0/24, nor key:NAME")
        })?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(len) => len
                .parse::<u8>()
                .ok()
                .filter(|len| *len <= max)
                .ok_or_else(|| format!("\"{text}\": prefix length must be 0 to {max}"))?,
        };
        if mask(address, len) != address {
            return Err(format!(
                "\"{text}\" has bits set past the prefix length (the network is {}/{len})",
                mask(address, len)
            ));
        }
        Ok(AccessEntry::Prefix { address, len })
    }

    /// Whether a client at `client`, signed with `key` if at all, matches.
    pub fn matches(&self, client: IpAddr, key: Option<&Name>) -> bool {
        match self {
            AccessEntry::Prefix { address, len } => {
                address.is_ipv4() == client.is_ipv4() && mask(client, *len) == *address
            }
            AccessEntry::Key(name) => key == Some(name),
        }
    }
}

fn key_entry(key: &str) -> Result<AccessEntry, String> {
    if key.is_empty() {
        return Err("\"key:\" names no key".into());
    }
    Name::from_ascii(key)
        .map(AccessEntry::Key)
        .map_err(|error| format!("\"key:{key}\": bad key name: {error}"))
}

fn mask(address: IpAddr, len: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = bits & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(kept.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = bits & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(kept.into())
        }
    }
}

impl fmt::Display for AccessEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessEntry::Prefix { address, len } => write!(f, "{address}/{len}"),
            AccessEntry::Key(name) => write!(f, "key:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_prefixes_and_keys_parse() {
        assert_eq!(
            AccessEntry::parse("192.0.2.2"),
            Ok(AccessEntry::Prefix {
                address: ip("192.0.2.2"),
                len: 32
            })
        );
        assert_eq!(
            AccessEntry::parse("2001:db8::/32"),
            Ok(AccessEntry::Prefix {
                address: ip("2001:db8::"),
                len: 32
            })
        );
        assert_eq!(
            AccessEntry::parse("0.0.0.0/0"),
            Ok(AccessEntry::Prefix {
                address: ip("0.0.0.0"),
                len: 0
            })
        );
        assert_eq!(
            AccessEntry::parse("key:xfr-key"),
            Ok(AccessEntry::Key(Name::from_ascii("xfr-key.").unwrap()))
        );
    }

    #[test]
    fn bad_entries_are_explained() {
        for text in [
            "example.com",
            "192.0.2.0/33",
            "::/129",
            "192.0.2.1/24",
            "key:",
            "10.0.0.0/x",
        ] {
            let error = AccessEntry::parse(text).expect_err(text);
            assert!(!error.is_empty());
        }
        assert!(
            AccessEntry::parse("192.0.2.1/24")
                .unwrap_err()
                .contains("192.0.2.0/24")
        );
    }

    #[test]
    fn prefixes_match_only_their_family_and_range() {
        let net = AccessEntry::parse("198.51.100.0/24").unwrap();
        assert!(net.matches(ip("198.51.100.77"), None));
        assert!(!net.matches(ip("198.51.101.1"), None));
        assert!(!net.matches(ip("::ffff:198.51.100.77"), None));
        let any = AccessEntry::parse("::/0").unwrap();
        assert!(any.matches(ip("2001:db8::1"), None));
        assert!(!any.matches(ip("192.0.2.1"), None));
        let key = AccessEntry::parse("key:xfr-key").unwrap();
        let name = Name::from_ascii("XFR-KEY.").unwrap();
        assert!(key.matches(ip("192.0.2.1"), Some(&name)));
        assert!(!key.matches(ip("192.0.2.1"), None));
    }
}
