//! TSIG keys and the set a server looks them up in.

use std::collections::HashMap;
use std::fmt;

use ring::hmac;

use crate::name::Name;

use super::algorithm::Algorithm;

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A registered algorithm that understudy cannot compute (hmac-md5,
    /// hmac-sha224: `ring` has neither).
    #[error(
        "TSIG algorithm {0} is not supported; use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1"
    )]
    UnsupportedAlgorithm(String),
    /// A name that is no TSIG algorithm at all.
    #[error("unknown TSIG algorithm {0}")]
    UnknownAlgorithm(String),
    /// The secret is empty.
    #[error("TSIG secret is empty")]
    EmptySecret,
}

/// A shared secret known by name to both ends (RFC 8945 §3).
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// The key's name, carried as the owner of the TSIG record.
    pub name: Name,
    /// The HMAC algorithm.
    pub algorithm: Algorithm,
    /// The secret octets (decoded from base64 by whoever read the config).
    pub secret: Vec<u8>,
}

impl Key {
    /// A key from its configured parts; the algorithm as text such as `hmac-sha256`.
    pub fn new(name: Name, algorithm: &str, secret: Vec<u8>) -> Result<Key, KeyError> {
        let algorithm = algorithm.parse()?;
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(Key {
            name,
            algorithm,
            secret,
        })
    }

    pub(crate) fn hmac(&self) -> hmac::Key {
        hmac::Key::new(self.algorithm.ring(), &self.secret)
    }
}

/// Keys print without their secret, so they can go into logs.
impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The keys a server accepts, found by name without regard to case.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: HashMap<Name, Key>,
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Adds `key`, returning a key it replaced under the same name.
    pub fn insert(&mut self, key: Key) -> Option<Key> {
        self.keys.insert(key.name.clone(), key)
    }

    /// The key called `name`.
    pub fn find(&self, name: &Name) -> Option<&Key> {
        self.keys.get(name)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<Key> for KeyRing {
    fn from_iter<I: IntoIterator<Item = Key>>(keys: I) -> KeyRing {
        let mut ring = KeyRing::new();
        for key in keys {
            ring.insert(key);
        }
        ring
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_without_case_and_never_print_secrets() {
        let key = Key::new(
            Name::from_ascii("Xfr-Key.").unwrap(),
            "hmac-sha256",
            b"sekrit".to_vec(),
        )
        .unwrap();
        assert!(!format!("{key:?}").contains("sekrit"));
        let ring: KeyRing = [key.clone()].into_iter().collect();
        assert_eq!(
            ring.find(&Name::from_ascii("xfr-key.").unwrap()),
            Some(&key)
        );
        assert_eq!(ring.find(&Name::from_ascii("other.").unwrap()), None);
        assert_eq!(
            Key::new(Name::root(), "hmac-sha1", Vec::new()),
            Err(KeyError::EmptySecret)
        );
        assert!(matches!(
            Key::new(Name::root(), "hmac-md5", b"x".to_vec()),
            Err(KeyError::UnsupportedAlgorithm(_))
        ));
    }
}
