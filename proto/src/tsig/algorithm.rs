//! TSIG algorithms (RFC 8945 §6) and their HMACs from `ring`.

use std::fmt;
use std::str::FromStr;

use ring::hmac;

use crate::name::Name;

use super::key::KeyError;

/// An HMAC algorithm understudy can sign and verify with.
///
/// hmac-md5 and hmac-sha224 are registered too, but `ring` offers neither,
/// so keys naming them are refused when the configuration is read
/// ([`KeyError::UnsupportedAlgorithm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `hmac-sha1` (RFC 4635).
    HmacSha1,
    /// `hmac-sha256` (RFC 4635), the usual choice.
    HmacSha256,
    /// `hmac-sha384` (RFC 4635).
    HmacSha384,
    /// `hmac-sha512` (RFC 4635).
    HmacSha512,
}

/// Registered algorithm names `ring` cannot compute.
const UNSUPPORTED: [&str; 3] = ["hmac-md5.sig-alg.reg.int", "hmac-md5", "hmac-sha224"];

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::HmacSha1,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The name as written in configuration, e.g. `hmac-sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm name carried in TSIG RDATA, e.g. `hmac-sha256.`.
    pub fn name(self) -> Name {
        let mut wire = Vec::with_capacity(13);
        let text = self.as_str();
        wire.push(text.len() as u8);
        wire.extend_from_slice(text.as_bytes());
        wire.push(0);
        Name::from_wire(&wire).unwrap_or_else(|_| Name::root())
    }

    /// The algorithm a TSIG record names, compared without case.
    pub fn from_name(name: &Name) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.name() == *name)
    }

    /// Length of a full, untruncated MAC in octets.
    pub fn mac_len(self) -> usize {
        self.ring().digest_algorithm().output_len()
    }

    pub(crate) fn ring(self) -> hmac::Algorithm {
        match self {
            Algorithm::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::HmacSha256 => hmac::HMAC_SHA256,
            Algorithm::HmacSha384 => hmac::HMAC_SHA384,
            Algorithm::HmacSha512 => hmac::HMAC_SHA512,
        }
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;

    /// Reads `hmac-sha256` (any case, trailing dot allowed).
    fn from_str(text: &str) -> Result<Algorithm, KeyError> {
        let lower = text.trim_end_matches('.').to_ascii_lowercase();
        if let Some(algorithm) = Algorithm::ALL.into_iter().find(|a| a.as_str() == lower) {
            return Ok(algorithm);
        }
        if UNSUPPORTED.contains(&lower.as_str()) {
            return Err(KeyError::UnsupportedAlgorithm(lower));
        }
        Err(KeyError::UnknownAlgorithm(lower))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8945_6_algorithm_names_parse_and_print() {
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.as_str().parse::<Algorithm>(), Ok(algorithm));
            assert_eq!(algorithm.to_string(), algorithm.as_str());
            assert_eq!(Algorithm::from_name(&algorithm.name()), Some(algorithm));
        }
        assert_eq!(
            "HMAC-SHA256.".parse::<Algorithm>(),
            Ok(Algorithm::HmacSha256)
        );
        let upper = Name::from_ascii("HMAC-SHA512.").unwrap();
        assert_eq!(Algorithm::from_name(&upper), Some(Algorithm::HmacSha512));
        let lengths: Vec<usize> = Algorithm::ALL.iter().map(|a| a.mac_len()).collect();
        assert_eq!(lengths, [20, 32, 48, 64]);
    }

    #[test]
    fn rfc8945_6_md5_and_sha224_are_refused_clearly() {
        for text in ["hmac-md5", "hmac-md5.sig-alg.reg.int.", "hmac-sha224"] {
            let error = text.parse::<Algorithm>().unwrap_err();
            assert!(matches!(error, KeyError::UnsupportedAlgorithm(_)), "{text}");
            assert!(error.to_string().contains("not supported"), "{error}");
        }
        assert!(matches!(
            "sha256".parse::<Algorithm>(),
            Err(KeyError::UnknownAlgorithm(_))
        ));
    }
}
