//! Who a certificate names, and whether it is revoked.
//!
//! A node certificate carries the node id as its one DNS subject alternative
//! name: the QUIC client checks it as the TLS server name, and the server
//! reads it from the client's certificate to know which node is asking.
//! Node ids therefore have to be valid host names (`ams-1`, `node3`; not
//! `-x` nor `42`).
//!
//! Revocation is a list in the config, not a CRL: a certificate is refused
//! when its serial number or the SHA-256 of its SubjectPublicKeyInfo is
//! listed. `understudy cert show FILE` prints both in the form the list
//! takes.

use std::fmt;
use std::str::FromStr;

use ring::digest::{SHA256, digest};
use rustls_pki_types::{CertificateDer, DnsName};

/// What the cluster reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The DNS subject alternative names; a node certificate has one, the
    /// node id.
    pub names: Vec<String>,
    /// The serial number, big-endian, without leading zero bytes.
    pub serial: Vec<u8>,
    /// SHA-256 of the DER SubjectPublicKeyInfo (the "SPKI pin").
    pub spki_sha256: [u8; 32],
}

impl CertificateFacts {
    /// Reads `der`; `None` when it is not a parsable X.509 v3 certificate.
    pub fn read(der: &CertificateDer<'_>) -> Option<CertificateFacts> {
        let certificate = webpki::EndEntityCert::try_from(der).ok()?;
        let names = certificate
            .valid_dns_names()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let spki = certificate.subject_public_key_info();
        let mut spki_sha256 = [0u8; 32];
        spki_sha256.copy_from_slice(digest(&SHA256, spki.as_ref()).as_ref());
        Some(CertificateFacts {
            names,
            serial: trim_serial(certificate.serial()),
            spki_sha256,
        })
    }

    /// The node id the certificate was issued to: its first DNS name.
    pub fn node_id(&self) -> Option<&str> {
        self.names.first().map(String::as_str)
    }

    /// The two revocation entries that would refuse this certificate.
    pub fn revocations(&self) -> [Revocation; 2] {
        [
            Revocation::Serial(self.serial.clone()),
            Revocation::Spki(self.spki_sha256),
        ]
    }
}

/// Serial numbers compare without the sign padding DER adds.
fn trim_serial(serial: &[u8]) -> Vec<u8> {
    let start = serial
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(serial.len());
    serial[start..].to_vec()
}

/// Whether `id` can serve as a node id in a cluster: a valid host name, the
/// form a certificate's DNS name takes.
pub fn valid_node_id(id: &str) -> Result<(), String> {
    DnsName::try_from(id).map(|_| ()).map_err(|_| {
        format!(
            "\"{id}\" cannot name a cluster node: use a host name (letters, digits, '-', '_' \
             and '.', no label starting or ending with '-', not all digits)"
        )
    })
}

/// One `revoked` entry: `serial:HEX` or `spki-sha256:HEX` (colons between
/// hex pairs allowed, as OpenSSL prints serials).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revocation {
    /// A certificate serial number.
    Serial(Vec<u8>),
    /// SHA-256 of a SubjectPublicKeyInfo: refuses the key whatever
    /// certificate carries it.
    Spki([u8; 32]),
}

impl Revocation {
    /// Whether this entry refuses the certificate.
    pub fn matches(&self, facts: &CertificateFacts) -> bool {
        match self {
            Revocation::Serial(serial) => *serial == facts.serial,
            Revocation::Spki(hash) => *hash == facts.spki_sha256,
        }
    }
}

impl FromStr for Revocation {
    type Err = String;

    fn from_str(text: &str) -> Result<Revocation, String> {
        let text = text.trim();
        let (kind, hex) = text
            .split_once(':')
            .ok_or_else(|| format!("\"{text}\" is not `serial:HEX` or `spki-sha256:HEX`"))?;
        let bytes = parse_hex(hex).ok_or_else(|| format!("\"{text}\": `{hex}` is not hex"))?;
        match kind.to_ascii_lowercase().as_str() {
            "serial" if !bytes.is_empty() && bytes.len() <= 20 => {
                Ok(Revocation::Serial(trim_serial(&bytes)))
            }
            "serial" => Err(format!("\"{text}\": a serial number is 1 to 20 bytes")),
            "spki-sha256" => {
                let hash = <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| format!("\"{text}\": a SHA-256 is 32 bytes (64 hex digits)"))?;
                Ok(Revocation::Spki(hash))
            }
            _ => Err(format!(
                "\"{text}\": `{kind}` is not `serial` or `spki-sha256`"
            )),
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revocation::Serial(serial) => write!(f, "serial:{}", hex(serial)),
            Revocation::Spki(hash) => write!(f, "spki-sha256:{}", hex(hash)),
        }
    }
}

/// Lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|&byte| byte != b':').collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_entries_parse_and_print_back() {
        let serial: Revocation = "serial:00:3F:2a:01".parse().unwrap();
        assert_eq!(serial, Revocation::Serial(vec![0x3f, 0x2a, 0x01]));
        assert_eq!(serial.to_string(), "serial:3f2a01");
        let spki = format!("spki-sha256:{}", "ab".repeat(32));
        let parsed: Revocation = spki.parse().unwrap();
        assert_eq!(parsed, Revocation::Spki([0xab; 32]));
        assert_eq!(parsed.to_string(), spki);
    }

    #[test]
    fn revocation_entries_reject_what_they_cannot_mean() {
        for text in [
            "3f2a",
            "serial:",
            "serial:3g",
            "serial:abc",
            "fingerprint:3f2a",
            "spki-sha256:abcd",
            &format!("serial:{}", "01".repeat(21)),
        ] {
            assert!(text.parse::<Revocation>().is_err(), "{text}");
        }
    }

    #[test]
    fn node_ids_must_be_host_names() {
        for good in ["ams-1", "node3", "eu_west.n1"] {
            assert_eq!(valid_node_id(good), Ok(()), "{good}");
        }
        for bad in ["-x", "x-", "42", "a..b", ""] {
            assert!(valid_node_id(bad).is_err(), "{bad}");
        }
    }
}
