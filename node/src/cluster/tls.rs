//! The node's TLS credentials and the rustls configurations built from them.
//!
//! TLS 1.3 only (QUIC requires it), ring as the only crypto provider, ALPN
//! `understudy/1`, a client certificate required. Session resumption is off
//! in both directions: a resumed session skips the certificate checks, and
//! a certificate revoked by a reload must not come back through a ticket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::identity::{CertificateFacts, Revocation};
use super::pem::{PemError, read_certificates, read_private_key};
use super::verify::{PeerClientVerifier, PeerServerVerifier};

/// Application protocol of the cluster's QUIC connections; a peer speaking
/// anything else fails the handshake.
pub const ALPN: &[u8] = b"understudy/1";

/// Certificates and key of this node, and whom it trusts.
#[derive(Debug)]
pub struct TlsMaterial {
    /// Every CA whose node certificates are accepted: one, or the old and
    /// the new one during a rotation.
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// This node's certificate first, then any intermediates.
    pub certificate_chain: Vec<CertificateDer<'static>>,
    /// This node's private key.
    pub private_key: PrivateKeyDer<'static>,
    /// Certificates refused even though a CA signed them.
    pub revoked: Vec<Revocation>,
}

impl Clone for TlsMaterial {
    fn clone(&self) -> TlsMaterial {
        TlsMaterial {
            ca_certificates: self.ca_certificates.clone(),
            certificate_chain: self.certificate_chain.clone(),
            private_key: self.private_key.clone_key(),
            revoked: self.revoked.clone(),
        }
    }
}

/// Why the TLS credentials cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error(transparent)]
    File(#[from] PemError),
    /// A CA file holds something that is not a usable trust anchor.
    #[error("{}: not a usable CA certificate: {reason}", path.display())]
    BadCa {
        /// The file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// rustls refused the combination (key not matching the certificate,
    /// unsupported key type, no CA at all).
    #[error("TLS configuration refused: {0}")]
    Rejected(String),
    /// This node's own certificate would be refused by its peers.
    #[error("own certificate: {0}")]
    OwnCertificate(String),
}

impl TlsMaterial {
    /// Reads the CA files (each may hold several certificates), the node's
    /// certificate chain and its key.
    pub fn load(
        ca_files: &[PathBuf],
        certificate: &Path,
        key: &Path,
        revoked: Vec<Revocation>,
    ) -> Result<TlsMaterial, TlsError> {
        let mut ca_certificates = Vec::new();
        for path in ca_files {
            let certificates = read_certificates(path)?;
            let mut store = RootCertStore::empty();
            for certificate in &certificates {
                store
                    .add(certificate.clone())
                    .map_err(|error| TlsError::BadCa {
                        path: path.clone(),
                        reason: error.to_string(),
                    })?;
            }
            ca_certificates.extend(certificates);
        }
        Ok(TlsMaterial {
            ca_certificates,
            certificate_chain: read_certificates(certificate)?,
            private_key: read_private_key(key)?,
            revoked,
        })
    }

    /// Checks what peers will check of this node: the key matches the
    /// certificate, which names `node_id`, chains to one of the CAs and is
    /// not revoked.
    pub fn check_own(&self, node_id: &str) -> Result<(), TlsError> {
        let credentials = Credentials::new(self)?;
        let own = |reason: String| TlsError::OwnCertificate(reason);
        let (end_entity, intermediates) = self
            .certificate_chain
            .split_first()
            .ok_or_else(|| own("the certificate file is empty".into()))?;
        let facts = CertificateFacts::read(end_entity)
            .ok_or_else(|| own("not a parsable X.509 v3 certificate".into()))?;
        if facts.node_id() != Some(node_id) {
            return Err(own(format!(
                "issued to {:?}, not to this node \"{node_id}\"",
                facts.names
            )));
        }
        let name = ServerName::try_from(node_id.to_owned())
            .map_err(|error| own(format!("\"{node_id}\": {error}")))?;
        use rustls::client::danger::ServerCertVerifier as _;
        use rustls::server::danger::ClientCertVerifier as _;
        let now = UnixTime::now();
        credentials
            .server_verifier
            .verify_server_cert(end_entity, intermediates, &name, &[], now)
            .map_err(|error| own(format!("refused as a server: {error}")))?;
        credentials
            .client_verifier
            .verify_client_cert(end_entity, intermediates, now)
            .map_err(|error| own(format!("refused as a client: {error}")))?;
        Ok(())
    }
}

/// The rustls side of an endpoint, rebuilt as a whole on reload.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Configuration of outgoing connections.
    pub client: Arc<ClientConfig>,
    /// Configuration of incoming connections.
    pub server: Arc<ServerConfig>,
    /// Checks servers' certificates (kept to re-check live connections).
    pub server_verifier: Arc<PeerServerVerifier>,
    /// Checks clients' certificates (kept to re-check live connections).
    pub client_verifier: Arc<PeerClientVerifier>,
}

impl Credentials {
    /// Builds both configurations from `material`.
    pub fn new(material: &TlsMaterial) -> Result<Credentials, TlsError> {
        let rejected = |error: &dyn std::fmt::Display| TlsError::Rejected(error.to_string());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for certificate in &material.ca_certificates {
            roots.add(certificate.clone()).map_err(|e| rejected(&e))?;
        }
        let roots = Arc::new(roots);
        let revoked = material.revoked.clone();
        let server_verifier = Arc::new(
            PeerServerVerifier::new(roots.clone(), provider.clone(), revoked.clone())
                .map_err(|e| rejected(&e))?,
        );
        let client_verifier = Arc::new(
            PeerClientVerifier::new(roots, provider.clone(), revoked).map_err(|e| rejected(&e))?,
        );
        let client = client_config(material, provider.clone(), server_verifier.clone())
            .map_err(|e| rejected(&e))?;
        let server =
            server_config(material, provider, client_verifier.clone()).map_err(|e| rejected(&e))?;
        Ok(Credentials {
            client: Arc::new(client),
            server: Arc::new(server),
            server_verifier,
            client_verifier,
        })
    }
}

fn client_config(
    material: &TlsMaterial,
    provider: Arc<CryptoProvider>,
    verifier: Arc<PeerServerVerifier>,
) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(
            material.certificate_chain.clone(),
            material.private_key.clone_key(),
        )?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.resumption = Resumption::disabled();
    Ok(config)
}

fn server_config(
    material: &TlsMaterial,
    provider: Arc<CryptoProvider>,
    verifier: Arc<PeerClientVerifier>,
) -> Result<ServerConfig, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            material.certificate_chain.clone(),
            material.private_key.clone_key(),
        )?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}
