//! The cluster key file (`[cluster] key_file`): the shared secrets that
//! authenticate gossip datagrams.
//!
//! ```text
//! # understudy cluster keys: the first signs, every one verifies
//! q2V1bm9wZW4tdGhpcy1pcy1hLXRlc3Qta2V5LTMyYiE=
//! c2Vjb25kLWtleS1mcm9tLWJlZm9yZS10aGUtcm90YXRp
//! ```
//!
//! One base64 key per line, at least 16 bytes each (`understudy cert
//! gossip-key` makes 32); blank lines and `#` comments are ignored. To
//! rotate without downtime: add the new key as a second line on every node
//! and reload, move it to the first line everywhere and reload, then drop
//! the old line.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::hmac;

/// Fewest bytes a key may have.
pub const MIN_KEY_LEN: usize = 16;
/// Most keys a file may hold.
pub const MAX_KEYS: usize = 8;

/// The keys of a cluster: the first signs, all verify.
#[derive(Clone)]
pub struct GossipKeys {
    keys: Vec<hmac::Key>,
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is not a usable key.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No key, or too many.
    #[error("{0}")]
    Count(String),
}

impl GossipKeys {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<GossipKeys, KeysError> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| KeysError::BadLine {
                line: index + 1,
                reason,
            };
            let secret = BASE64
                .decode(line)
                .map_err(|error| bad(format!("not base64: {error}")))?;
            if secret.len() < MIN_KEY_LEN {
                return Err(bad(format!(
                    "a key has at least {MIN_KEY_LEN} bytes, this one {}",
                    secret.len()
                )));
            }
            keys.push(secret);
        }
        GossipKeys::from_secrets(&keys)
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<GossipKeys, KeysError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeysError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        GossipKeys::parse(&text)
    }

    /// Keys from raw secrets, the first signing.
    pub fn from_secrets(secrets: &[Vec<u8>]) -> Result<GossipKeys, KeysError> {
        if secrets.is_empty() {
            return Err(KeysError::Count("the key file holds no key".into()));
        }
        if secrets.len() > MAX_KEYS {
            return Err(KeysError::Count(format!(
                "the key file holds {} keys; at most {MAX_KEYS}",
                secrets.len()
            )));
        }
        let keys = secrets
            .iter()
            .map(|secret| hmac::Key::new(hmac::HMAC_SHA256, secret))
            .collect();
        Ok(GossipKeys { keys })
    }

    /// The key that signs outgoing datagrams.
    pub fn signing(&self) -> &hmac::Key {
        // `from_secrets` guarantees at least one key.
        &self.keys[0]
    }

    /// Every key accepted on incoming datagrams.
    pub fn verifying(&self) -> &[hmac::Key] {
        &self.keys
    }
}

impl fmt::Debug for GossipKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GossipKeys({} keys, secrets elided)", self.keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=";
    const KEY_B: &str = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI=";

    #[test]
    fn key_file_first_key_signs_and_all_verify() {
        let keys = GossipKeys::parse(&format!("# rotation\n\n{KEY_A}\n  {KEY_B}  \n")).unwrap();
        assert_eq!(keys.verifying().len(), 2);
        let tag = hmac::sign(keys.signing(), b"datagram");
        let first = hmac::verify(&keys.verifying()[0], b"datagram", tag.as_ref());
        assert!(first.is_ok());
        assert!(hmac::verify(&keys.verifying()[1], b"datagram", tag.as_ref()).is_err());
        assert!(!format!("{keys:?}").contains(KEY_A));
    }

    #[test]
    fn key_file_rejects_short_garbled_empty_and_crowded_files() {
        let short = BASE64.encode([7u8; 15]);
        for (text, expected) in [
            (short.as_str(), "at least 16 bytes"),
            ("not base64!", "not base64"),
            ("# nothing\n\n", "no key"),
        ] {
            let error = GossipKeys::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let crowded = format!("{KEY_A}\n").repeat(MAX_KEYS + 1);
        assert!(matches!(
            GossipKeys::parse(&crowded),
            Err(KeysError::Count(_))
        ));
        let line = GossipKeys::parse(&format!("{KEY_A}\n\nshort\n")).unwrap_err();
        assert!(line.to_string().starts_with("line 3:"), "{line}");
    }
}
