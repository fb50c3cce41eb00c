//! Entries of `allow_transfer` and `allow_notify`: an address or prefix, a
//! TSIG key written `key:NAME`, or both (`192.0.2.0/24 key:NAME`: the client
//! must be in the prefix *and* sign with the key).

use std::fmt;
use std::net::IpAddr;

use understudy_proto::Name;

/// An address prefix; bits past the length are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The network address.
    pub address: IpAddr,
    /// Length in bits (a single address is a /32 or /128).
    pub len: u8,
}

/// One entry of an access list, as validated from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// Clients must be in this prefix, if given.
    pub prefix: Option<Prefix>,
    /// Clients must sign with this TSIG key, if given.
    pub key: Option<Name>,
}

impl AccessEntry {
    /// Reads `198.51.100.0/24`, `2001:db8::1`, `key:xfr-key`, or
    /// `198.51.100.0/24 key:xfr-key`.
    pub fn parse(text: &str) -> Result<AccessEntry, String> {
        let mut entry = AccessEntry {
            prefix: None,
            key: None,
        };
        for word in text.split_whitespace() {
            let twice = if let Some(key) = word.strip_prefix("key:") {
                entry.key.replace(key_name(key)?).is_some()
            } else {
                entry.prefix.replace(prefix(word)?).is_some()
            };
            if twice {
                return Err(format!(
                    "\"{text}\": expected ADDRESS[/LEN], key:NAME, or ADDRESS[/LEN] key:NAME"
                ));
            }
        }
        if entry.prefix.is_none() && entry.key.is_none() {
            return Err("empty entry".into());
        }
        Ok(entry)
    }

    /// Whether a client at `client`, signed with `key` if at all, matches.
    /// IPv4-mapped IPv6 clients (as a dual-stack socket reports them) are
    /// compared as IPv4.
    pub fn matches(&self, client: IpAddr, key: Option<&Name>) -> bool {
        let client = client.to_canonical();
        let address_ok = self.prefix.is_none_or(|prefix| {
            prefix.address.is_ipv4() == client.is_ipv4()
                && mask(client, prefix.len) == prefix.address
        });
        let key_ok = self.key.as_ref().is_none_or(|wanted| key == Some(wanted));
        address_ok && key_ok
    }
}

fn prefix(word: &str) -> Result<Prefix, String> {
    let (address, len) = match word.split_once('/') {
        Some((address, len)) => (address, Some(len)),
        None => (word, None),
    };
    let address: IpAddr = address.parse().map_err(|_| {
        format!("\"{word}\" is neither an address, a prefix like 198.51.100.0/24, nor key:NAME")
    })?;
    let address = address.to_canonical();
    let max = if address.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(len) => len
            .parse::<u8>()
            .ok()
            .filter(|len| *len <= max)
            .ok_or_else(|| format!("\"{word}\": prefix length must be 0 to {max}"))?,
    };
    if mask(address, len) != address {
        return Err(format!(
            "\"{word}\" has bits set past the prefix length (the network is {}/{len})",
            mask(address, len)
        ));
    }
    Ok(Prefix { address, len })
}

fn key_name(key: &str) -> Result<Name, String> {
    if key.is_empty() {
        return Err("\"key:\" names no key".into());
    }
    Name::from_ascii(key).map_err(|error| format!("\"key:{key}\": bad key name: {error}"))
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
        let prefix = self
            .prefix
            .map(|prefix| format!("{}/{}", prefix.address, prefix.len));
        let key = self.key.as_ref().map(|key| format!("key:{key}"));
        let words: Vec<String> = prefix.into_iter().chain(key).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn prefix_entry(address: &str, len: u8) -> AccessEntry {
        AccessEntry {
            prefix: Some(Prefix {
                address: ip(address),
                len,
            }),
            key: None,
        }
    }

    #[test]
    fn addresses_prefixes_and_keys_parse() {
        assert_eq!(
            AccessEntry::parse("192.0.2.2"),
            Ok(prefix_entry("192.0.2.2", 32))
        );
        assert_eq!(
            AccessEntry::parse("2001:db8::/32"),
            Ok(prefix_entry("2001:db8::", 32))
        );
        assert_eq!(
            AccessEntry::parse("0.0.0.0/0"),
            Ok(prefix_entry("0.0.0.0", 0))
        );
        assert_eq!(
            AccessEntry::parse("::ffff:192.0.2.1"),
            Ok(prefix_entry("192.0.2.1", 32))
        );
        let key = Name::from_ascii("xfr-key.").unwrap();
        assert_eq!(
            AccessEntry::parse("key:xfr-key"),
            Ok(AccessEntry {
                prefix: None,
                key: Some(key.clone())
            })
        );
        let both = AccessEntry::parse(" 10.0.0.0/8  key:xfr-key ").unwrap();
        assert_eq!(both.key, Some(key));
        assert_eq!(both.to_string(), "10.0.0.0/8 key:xfr-key.");
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
            "",
            "10.0.0.0/8 10.1.0.0/16",
            "key:a key:b",
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
    fn prefixes_match_their_family_and_range() {
        let net = AccessEntry::parse("198.51.100.0/24").unwrap();
        assert!(net.matches(ip("198.51.100.77"), None));
        assert!(net.matches(ip("::ffff:198.51.100.77"), None));
        assert!(!net.matches(ip("198.51.101.1"), None));
        let any = AccessEntry::parse("::/0").unwrap();
        assert!(any.matches(ip("2001:db8::1"), None));
        assert!(!any.matches(ip("192.0.2.1"), None));
    }

    #[test]
    fn keys_match_alone_or_with_a_prefix() {
        let name = Name::from_ascii("XFR-KEY.").unwrap();
        let key = AccessEntry::parse("key:xfr-key").unwrap();
        assert!(key.matches(ip("192.0.2.1"), Some(&name)));
        assert!(!key.matches(ip("192.0.2.1"), None));
        let both = AccessEntry::parse("192.0.2.0/24 key:xfr-key").unwrap();
        assert!(both.matches(ip("192.0.2.9"), Some(&name)));
        assert!(!both.matches(ip("192.0.2.9"), None));
        assert!(!both.matches(ip("192.0.3.9"), Some(&name)));
    }
}
