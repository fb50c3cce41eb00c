//! TSIG keys as the config holds them: name, HMAC algorithm, secret.

use std::fmt;
use std::str::FromStr;

use understudy_proto::Name;

/// An HMAC algorithm usable for TSIG (RFC 8945 §6), named as BIND prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    /// `hmac-sha1`
    HmacSha1,
    /// `hmac-sha256`
    HmacSha256,
    /// `hmac-sha384`
    HmacSha384,
    /// `hmac-sha512`
    HmacSha512,
}

impl TsigAlgorithm {
    /// Every supported algorithm, in the order `--help` lists them.
    pub const ALL: [TsigAlgorithm; 4] = [
        TsigAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512,
        TsigAlgorithm::HmacSha1,
    ];

    /// The name BIND, Knot and the config use (`hmac-sha256`).
    pub fn name(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha1 => "hmac-sha1",
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// Length of the HMAC output in bytes, also the natural secret length.
    pub fn output_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha1 => 20,
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha384 => 48,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an algorithm name was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmError {
    /// A known algorithm this node deliberately does not implement.
    #[error(
        "TSIG algorithm {0} is not supported (use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)"
    )]
    NotSupported(String),
    /// Not a TSIG algorithm name at all.
    #[error(
        "unknown TSIG algorithm \"{0}\" (use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)"
    )]
    Unknown(String),
}

impl FromStr for TsigAlgorithm {
    type Err = AlgorithmError;

    /// Accepts BIND's short names, case-insensitively, with or without a
    /// trailing dot, as well as the names RFC 8945 puts on the wire.
    fn from_str(text: &str) -> Result<TsigAlgorithm, AlgorithmError> {
        let lower = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let short = lower
            .strip_suffix(".sig-alg.reg.int")
            .unwrap_or(lower.as_str());
        match short {
            "hmac-sha1" => Ok(TsigAlgorithm::HmacSha1),
            "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
            "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
            "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
            // ring offers no HMAC-SHA224, and HMAC-MD5 is deprecated (RFC 8945 §6).
            "hmac-md5" | "hmac-sha224" | "hmac-sha1-96" | "hmac-sha256-128" | "hmac-sha384-192"
            | "hmac-sha512-256" | "gss-tsig" => Err(AlgorithmError::NotSupported(short.to_owned())),
            _ => Err(AlgorithmError::Unknown(text.to_owned())),
        }
    }
}

/// A TSIG key ready for use: its name is a domain name compared without case.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// The key name as it appears in the TSIG RR owner field.
    pub name: Name,
    /// The HMAC algorithm.
    pub algorithm: TsigAlgorithm,
    /// The shared secret, decoded from base64.
    pub secret: Vec<u8>,
}

impl fmt::Debug for TsigKey {
    // The secret never reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_and_wire_names_parse() {
        assert_eq!("hmac-sha256".parse(), Ok(TsigAlgorithm::HmacSha256));
        assert_eq!("HMAC-SHA512.".parse(), Ok(TsigAlgorithm::HmacSha512));
        assert_eq!(" hmac-sha1 ".parse(), Ok(TsigAlgorithm::HmacSha1));
        for algorithm in TsigAlgorithm::ALL {
            assert_eq!(algorithm.name().parse(), Ok(algorithm));
        }
    }

    #[test]
    fn md5_is_refused_as_not_supported() {
        let error = "hmac-md5.sig-alg.reg.int"
            .parse::<TsigAlgorithm>()
            .unwrap_err();
        assert_eq!(error, AlgorithmError::NotSupported("hmac-md5".into()));
        assert!(error.to_string().contains("not supported"));
        assert!(matches!(
            "hmac-sha224".parse::<TsigAlgorithm>(),
            Err(AlgorithmError::NotSupported(_))
        ));
        assert!(matches!(
            "rot13".parse::<TsigAlgorithm>(),
            Err(AlgorithmError::Unknown(_))
        ));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let key = TsigKey {
            name: Name::from_ascii("k").unwrap(),
            algorithm: TsigAlgorithm::HmacSha256,
            secret: b"supersecret".to_vec(),
        };
        let shown = format!("{key:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("11 bytes"));
    }
}
