//! Certificate checks of the cluster's mutual TLS.
//!
//! Both directions take webpki's chain validation against the cluster CAs
//! (several during a CA rotation) and add the revocation list from the
//! config. The client also checks that the server's certificate names the
//! node it meant to reach; the server learns the client's node id from its
//! certificate after the handshake (see [`super::identity`]).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::identity::{CertificateFacts, Revocation};

/// The refusal a revoked certificate gets.
fn revoked_error() -> Error {
    Error::InvalidCertificate(CertificateError::Revoked)
}

/// Refuses `end_entity` when the list names it, or when it cannot be read.
fn check_revocation(end_entity: &CertificateDer<'_>, revoked: &[Revocation]) -> Result<(), Error> {
    let facts = CertificateFacts::read(end_entity)
        .ok_or(Error::InvalidCertificate(CertificateError::BadEncoding))?;
    if revoked.iter().any(|entry| entry.matches(&facts)) {
        return Err(revoked_error());
    }
    Ok(())
}

/// What a QUIC client checks in the server's certificate.
#[derive(Debug)]
pub struct PeerServerVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    revoked: Vec<Revocation>,
}

impl PeerServerVerifier {
    /// Trusts `roots`, refuses `revoked`.
    pub fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        revoked: Vec<Revocation>,
    ) -> Result<PeerServerVerifier, rustls::server::VerifierBuilderError> {
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
        Ok(PeerServerVerifier { webpki, revoked })
    }
}

impl ServerCertVerifier for PeerServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        check_revocation(end_entity, &self.revoked)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// What a QUIC server checks in the client's certificate: one is required.
#[derive(Debug)]
pub struct PeerClientVerifier {
    webpki: Arc<dyn ClientCertVerifier>,
    revoked: Vec<Revocation>,
}

impl PeerClientVerifier {
    /// Trusts `roots`, refuses `revoked`.
    pub fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        revoked: Vec<Revocation>,
    ) -> Result<PeerClientVerifier, rustls::server::VerifierBuilderError> {
        let webpki = WebPkiClientVerifier::builder_with_provider(roots, provider).build()?;
        Ok(PeerClientVerifier { webpki, revoked })
    }
}

impl ClientCertVerifier for PeerClientVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.webpki
            .verify_client_cert(end_entity, intermediates, now)?;
        check_revocation(end_entity, &self.revoked)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
