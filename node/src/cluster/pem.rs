//! PEM files holding the cluster's certificates and private keys: written by
//! `understudy cert`, read when the QUIC endpoint is configured. Keys are
//! PKCS#8 (`PRIVATE KEY`), certificates X.509 (`CERTIFICATE`), as OpenSSL
//! and every TLS stack read them.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// PEM bodies are wrapped at 64 characters (RFC 7468 §2).
const LINE_LEN: usize = 64;

/// Why a PEM file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file exists and is never overwritten.
    #[error("{} already exists; move it away first", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The text is not PEM, or holds nothing of the kind wanted.
    #[error("{}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// `der` as a PEM section with `label` (`CERTIFICATE`, `PRIVATE KEY`).
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = BASE64.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(LINE_LEN) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// Every certificate in the file, in order; at least one.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let text = read(path)?;
    let mut certificates = Vec::new();
    for item in CertificateDer::pem_slice_iter(&text) {
        certificates.push(item.map_err(|error| malformed(path, error))?);
    }
    if certificates.is_empty() {
        return Err(PemError::Malformed {
            path: path.to_path_buf(),
            reason: "holds no CERTIFICATE section".into(),
        });
    }
    Ok(certificates)
}

/// The private key in the file (PKCS#8, SEC1 or PKCS#1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let text = read(path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|error| malformed(path, error))
}

/// Writes a new file with `mode`; an existing file is left alone and an
/// error returned, so that a key is never overwritten by mistake.
pub fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), PemError> {
    let io = |source| PemError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => PemError::Exists {
                path: path.to_path_buf(),
            },
            _ => io(source),
        })?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|source| PemError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn malformed(path: &Path, error: rustls_pki_types::pem::Error) -> PemError {
    let reason = match error {
        rustls_pki_types::pem::Error::NoItemsFound => "holds no PEM section of that kind".into(),
        other => format!("is not valid PEM: {other}"),
    };
    PemError::Malformed {
        path: path.to_path_buf(),
        reason,
    }
}
