//! `understudy cert …`: the credentials of a cluster.
//!
//! * `cert ca --out DIR` makes the cluster CA: `DIR/ca.pem` (self-signed)
//!   and `DIR/ca.key` (mode 0600). Keep the key off the nodes.
//! * `cert node NAME --ca DIR --out DIR` makes `NAME.pem` and `NAME.key`
//!   for the node whose `[node] id` is NAME, signed by the CA in `--ca`,
//!   usable as both TLS server and client.
//! * `cert gossip-key` prints a fresh key for `[cluster] key_file`.
//! * `cert show FILE` prints who a certificate names, and the `revoked`
//!   entries that would refuse it.
//!
//! Keys are ECDSA P-256 (PKCS#8); files are never overwritten. A CA is
//! rotated by making a new one, listing both in every node's `ca_cert`,
//! re-issuing node certificates from the new one, then dropping the old.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::cluster::identity::{CertificateFacts, hex, valid_node_id};
use crate::cluster::pem::{self, PemError};
use crate::cluster::tls::TlsMaterial;

/// Mode of private key files.
const KEY_MODE: u32 = 0o600;
/// Mode of certificate files.
const CERTIFICATE_MODE: u32 = 0o644;
/// Bytes of a gossip key from `cert gossip-key`.
pub const GOSSIP_KEY_LEN: usize = 32;
/// The CA's file names inside its directory.
pub const CA_CERTIFICATE_FILE: &str = "ca.pem";
/// See [`CA_CERTIFICATE_FILE`].
pub const CA_KEY_FILE: &str = "ca.key";
/// Common name of every CA `cert ca` makes; a random suffix tells two apart.
const CA_NAME_PREFIX: &str = "understudy cluster CA";

/// `understudy cert …`
#[derive(Debug, Clone, Args)]
pub struct CertArgs {
    /// What to make or show.
    #[command(subcommand)]
    pub command: CertCommand,
}

/// The `cert` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CertCommand {
    /// Make a cluster CA: ca.pem and ca.key in --out.
    Ca {
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Days the CA is valid.
        #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36500))]
        days: u32,
    },
    /// Make NAME.pem and NAME.key for the node whose id is NAME.
    Node {
        /// The node id (`[node] id`), a host name.
        name: String,
        /// Directory holding ca.pem and ca.key.
        #[arg(long)]
        ca: PathBuf,
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = 825, value_parser = clap::value_parser!(u32).range(1..=36500))]
        days: u32,
    },
    /// Print a fresh gossip key (one line of base64) for `[cluster] key_file`.
    GossipKey,
    /// Print the names, serial and key hash of the certificates in FILE.
    Show {
        /// A PEM certificate file.
        file: PathBuf,
    },
}

/// Why `cert` could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    File(#[from] PemError),
    /// A directory could not be created.
    #[error("{}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The name cannot be a node id in a certificate.
    #[error("{0}")]
    BadName(String),
    /// The CA in `--ca` was not made by `understudy cert ca`, or its key
    /// does not belong to its certificate.
    #[error("{}: {reason}", path.display())]
    UnusableCa {
        /// The CA directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Key generation or signing failed.
    #[error("cannot make the certificate: {0}")]
    Generate(String),
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// A certificate and its key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Issued {
    /// `CERTIFICATE` PEM.
    pub certificate_pem: String,
    /// `PRIVATE KEY` PEM.
    pub key_pem: String,
    /// The certificate in DER.
    pub certificate: CertificateDer<'static>,
}

/// Runs `cert`, printing what was done.
pub fn run(args: CertArgs) -> ExitCode {
    match execute(args.command) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: CertCommand) -> Result<String, CertError> {
    let random = SystemRandom::new();
    match command {
        CertCommand::Ca { out, days } => {
            let (certificate, key) = write_ca(&out, days, &random)?;
            Ok(format!(
                "wrote {} and {}\n",
                certificate.display(),
                key.display()
            ))
        }
        CertCommand::Node {
            name,
            ca,
            out,
            days,
        } => {
            let (certificate, key) = write_node(&name, &ca, &out, days, &random)?;
            let shown = show(&certificate)?;
            Ok(format!(
                "wrote {} and {}\n{shown}",
                certificate.display(),
                key.display()
            ))
        }
        CertCommand::GossipKey => gossip_key(&random),
        CertCommand::Show { file } => show(&file),
    }
}

/// Makes a CA in `dir` (`ca.pem`, `ca.key`); returns both paths.
pub fn write_ca(
    dir: &Path,
    days: u32,
    random: &dyn SecureRandom,
) -> Result<(PathBuf, PathBuf), CertError> {
    let issued = make_ca(days, random)?;
    create_dir(dir)?;
    let certificate = dir.join(CA_CERTIFICATE_FILE);
    let key = dir.join(CA_KEY_FILE);
    pem::write_new(&key, &issued.key_pem, KEY_MODE)?;
    pem::write_new(&certificate, &issued.certificate_pem, CERTIFICATE_MODE)?;
    Ok((certificate, key))
}

/// Makes `NAME.pem` and `NAME.key` in `out`, signed by the CA in `ca_dir`;
/// returns both paths.
pub fn write_node(
    name: &str,
    ca_dir: &Path,
    out: &Path,
    days: u32,
    random: &dyn SecureRandom,
) -> Result<(PathBuf, PathBuf), CertError> {
    let ca_certificate = first_certificate(&ca_dir.join(CA_CERTIFICATE_FILE))?;
    let ca_key = pem::read_private_key(&ca_dir.join(CA_KEY_FILE))?;
    let issued =
        make_node(name, &ca_certificate, &ca_key, days, random).map_err(|error| match error {
            CertError::UnusableCa { reason, .. } => CertError::UnusableCa {
                path: ca_dir.to_path_buf(),
                reason,
            },
            other => other,
        })?;
    create_dir(out)?;
    let certificate = out.join(format!("{name}.pem"));
    let key = out.join(format!("{name}.key"));
    pem::write_new(&key, &issued.key_pem, KEY_MODE)?;
    pem::write_new(&certificate, &issued.certificate_pem, CERTIFICATE_MODE)?;
    Ok((certificate, key))
}

/// A self-signed CA certificate and its key.
pub fn make_ca(days: u32, random: &dyn SecureRandom) -> Result<Issued, CertError> {
    let mut suffix = [0u8; 4];
    random.fill(&mut suffix).map_err(|_| CertError::Random)?;
    let params = ca_params(&format!("{CA_NAME_PREFIX} {}", hex(&suffix)), days, random)?;
    let key = KeyPair::generate().map_err(generate)?;
    let certificate = params.self_signed(&key).map_err(generate)?;
    Ok(issued(certificate.der().clone(), &key))
}

/// A node certificate for `name`, signed by the CA.
pub fn make_node(
    name: &str,
    ca_certificate: &CertificateDer<'_>,
    ca_key: &PrivateKeyDer<'_>,
    days: u32,
    random: &dyn SecureRandom,
) -> Result<Issued, CertError> {
    valid_node_id(name).map_err(CertError::BadName)?;
    let unusable = |reason: String| CertError::UnusableCa {
        path: PathBuf::new(),
        reason,
    };
    let ca_name = ca_common_name(ca_certificate)
        .ok_or_else(|| unusable("ca.pem was not made by `understudy cert ca`".into()))?;
    let ca_key = KeyPair::try_from(ca_key)
        .map_err(|error| unusable(format!("ca.key is not a usable key: {error}")))?;
    let issuer = Issuer::new(ca_params(&ca_name, days, random)?, ca_key);

    let mut params = leaf_params(days, random)?;
    params.distinguished_name = common_name(name);
    let san = name
        .try_into()
        .map_err(|_| CertError::BadName(format!("\"{name}\" is not ASCII")))?;
    params.subject_alt_names = vec![SanType::DnsName(san)];
    let key = KeyPair::generate().map_err(generate)?;
    let certificate = params.signed_by(&key, &issuer).map_err(generate)?;
    let issued = issued(certificate.der().clone(), &key);
    // The issuer was rebuilt from the CA's name: prove the result chains to
    // the CA as peers will check it, before anything is written.
    let material = TlsMaterial {
        ca_certificates: vec![ca_certificate.clone().into_owned()],
        certificate_chain: vec![issued.certificate.clone()],
        private_key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        revoked: Vec::new(),
    };
    material
        .check_own(name)
        .map_err(|error| unusable(format!("ca.key does not sign for ca.pem: {error}")))?;
    Ok(issued)
}

/// Prints a gossip key line.
pub fn gossip_key(random: &dyn SecureRandom) -> Result<String, CertError> {
    let mut key = [0u8; GOSSIP_KEY_LEN];
    random.fill(&mut key).map_err(|_| CertError::Random)?;
    Ok(format!("{}\n", BASE64.encode(key)))
}

/// Describes every certificate in `file`.
pub fn show(file: &Path) -> Result<String, CertError> {
    let mut text = String::new();
    for certificate in pem::read_certificates(file)? {
        match CertificateFacts::read(&certificate) {
            Some(facts) => {
                let names = if facts.names.is_empty() {
                    "(no DNS names: a CA)".to_owned()
                } else {
                    facts.names.join(", ")
                };
                text.push_str(&format!("names: {names}\n"));
                for revocation in facts.revocations() {
                    text.push_str(&format!("revoked entry: \"{revocation}\"\n"));
                }
            }
            None => text.push_str("(not a parsable X.509 v3 certificate)\n"),
        }
    }
    Ok(text)
}

fn ca_params(
    name: &str,
    days: u32,
    random: &dyn SecureRandom,
) -> Result<CertificateParams, CertError> {
    let mut params = leaf_params(days, random)?;
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.extended_key_usages = Vec::new();
    Ok(params)
}

fn leaf_params(days: u32, random: &dyn SecureRandom) -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::default();
    // A day of slack before now, for peers whose clocks lag.
    let today = days_since_epoch();
    let (year, month, day) = civil_date(today.saturating_sub(1));
    params.not_before = rcgen::date_time_ymd(year, month, day);
    let (year, month, day) = civil_date(today.saturating_add(i64::from(days)));
    params.not_after = rcgen::date_time_ymd(year, month, day);
    params.serial_number = Some(serial(random)?);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn common_name(name: &str) -> DistinguishedName {
    let mut distinguished_name = DistinguishedName::new();
    distinguished_name.push(DnType::CommonName, name);
    distinguished_name
}

/// 16 random bytes, positive (RFC 5280 §4.1.2.2: at most 20 octets).
fn serial(random: &dyn SecureRandom) -> Result<SerialNumber, CertError> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes).map_err(|_| CertError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn issued(certificate: CertificateDer<'static>, key: &KeyPair) -> Issued {
    Issued {
        certificate_pem: pem::encode("CERTIFICATE", &certificate),
        key_pem: pem::encode("PRIVATE KEY", &key.serialize_der()),
        certificate,
    }
}

fn generate(error: rcgen::Error) -> CertError {
    CertError::Generate(error.to_string())
}

fn first_certificate(path: &Path) -> Result<CertificateDer<'static>, CertError> {
    let mut certificates = pem::read_certificates(path)?;
    Ok(certificates.swap_remove(0))
}

fn create_dir(dir: &Path) -> Result<(), CertError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CertError::Directory {
            path: dir.to_path_buf(),
            source,
        })
}

/// The CA's common name when its subject is exactly what `make_ca` writes
/// (one CN attribute, a UTF8String): then the issuer name of the node
/// certificates can be rebuilt byte for byte.
fn ca_common_name(certificate: &CertificateDer<'_>) -> Option<String> {
    let certificate = webpki::EndEntityCert::try_from(certificate).ok()?;
    let (set_tag, set, rest) = der_element(certificate.subject())?;
    let (sequence_tag, attribute, set_rest) = der_element(set)?;
    let (oid_tag, oid, attribute_rest) = der_element(attribute)?;
    let (value_tag, value, value_rest) = der_element(attribute_rest)?;
    let shape = [set_tag, sequence_tag, oid_tag, value_tag] == [0x31, 0x30, 0x06, 0x0c];
    let single = rest.is_empty() && set_rest.is_empty() && value_rest.is_empty();
    // 2.5.4.3, id-at-commonName.
    if !shape || !single || oid != [0x55, 0x04, 0x03] {
        return None;
    }
    let name = std::str::from_utf8(value).ok()?;
    name.starts_with(CA_NAME_PREFIX).then(|| name.to_owned())
}

/// One DER element: (tag, content, what follows). Definite lengths only.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 2 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte))
    };
    let (content, after) = rest.split_at_checked(length)?;
    Some((tag, content, after))
}

/// Whole days since 1970-01-01 by the system clock.
fn days_since_epoch() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    i64::try_from(seconds / 86_400).unwrap_or(0)
}

/// Year, month and day of a day counted from 1970-01-01 (the
/// civil-from-days conversion of the proleptic Gregorian calendar), clamped
/// to the years X.509 times can carry.
fn civil_date(days: i64) -> (i32, u8, u8) {
    let days = days.clamp(0, 2_932_896); // 1970-01-01 ..= 9999-12-31
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(9999),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_the_calendar() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_782), (2024, 2, 29));
        assert_eq!(civil_date(20_000), (2024, 10, 4));
        assert_eq!(civil_date(-5), (1970, 1, 1));
        assert_eq!(civil_date(i64::MAX), (9999, 12, 31));
    }

    #[test]
    fn cert_commands_parse_and_run_end_to_end() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(flatten)]
            cert: CertArgs,
        }
        let dir = crate::store::scratch::Scratch::new("cert-cli");
        let ca = dir.path().join("ca");
        let out = dir.path().join("nodes");
        let run = |args: &[&str]| execute(Cli::try_parse_from(args).unwrap().cert.command);
        let made = run(&["cert", "ca", "--out", ca.to_str().unwrap()]).unwrap();
        assert!(made.contains("ca.pem") && made.contains("ca.key"), "{made}");
        let node = run(&[
            "cert",
            "node",
            "ams-1",
            "--ca",
            ca.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--days",
            "90",
        ])
        .unwrap();
        assert!(
            node.contains("ams-1.pem") && node.contains("names: ams-1"),
            "{node}"
        );
        assert!(node.contains("revoked entry: \"serial:"), "{node}");
        let shown = run(&["cert", "show", out.join("ams-1.pem").to_str().unwrap()]).unwrap();
        assert!(node.ends_with(&shown));
        let key = run(&["cert", "gossip-key"]).unwrap();
        assert_eq!(key.trim().len(), 44, "32 bytes of base64");
        let zero_days = Cli::try_parse_from(["cert", "ca", "--out", "x", "--days", "0"]);
        assert!(zero_days.is_err());
        let missing_ca = run(&["cert", "node", "n1", "--ca", "/nonexistent", "--out", "x"]);
        assert!(matches!(
            missing_ca,
            Err(CertError::File(PemError::Io { .. }))
        ));
    }

    #[test]
    fn der_elements_are_bounds_checked() {
        assert_eq!(
            der_element(&[0x04, 0x02, 1, 2, 9]),
            Some((0x04, &[1u8, 2][..], &[9u8][..]))
        );
        assert_eq!(
            der_element(&[0x04, 0x81, 0x01, 7]),
            Some((0x04, &[7u8][..], &[][..]))
        );
        for bad in [
            &[][..],
            &[0x04],
            &[0x04, 0x03, 1],
            &[0x04, 0x80],
            &[0x04, 0x83, 0, 0, 1],
        ] {
            assert_eq!(der_element(bad), None, "{bad:?}");
        }
    }
}
