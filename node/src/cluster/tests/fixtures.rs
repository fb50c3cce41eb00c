//! Certificates and endpoints shared by the cluster tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ring::rand::SystemRandom;

use crate::cert::{write_ca, write_node};
use crate::cluster::identity::{CertificateFacts, Revocation};
use crate::cluster::pem::read_certificates;
use crate::cluster::{
    ClusterEndpoint, ClusterStream, Peer, QuicSettings, RequestHandler, TlsMaterial,
};
use crate::store::scratch::Scratch;

/// A directory of CAs and node certificates.
pub struct Pki {
    pub dir: Scratch,
}

impl Pki {
    pub fn new(purpose: &str) -> Pki {
        Pki {
            dir: Scratch::new(purpose),
        }
    }

    /// Makes CA `name` (a subdirectory); returns its directory.
    pub fn ca(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        write_ca(&dir, 30, &SystemRandom::new()).unwrap();
        dir
    }

    /// Makes node `id`'s certificate from the CA in `ca`, in a
    /// subdirectory named after the CA; returns (certificate, key).
    pub fn node(&self, ca: &Path, id: &str) -> (PathBuf, PathBuf) {
        let out = self.dir.path().join(format!(
            "nodes-{}",
            ca.file_name().unwrap().to_string_lossy()
        ));
        write_node(id, ca, &out, 30, &SystemRandom::new()).unwrap()
    }

    /// Credentials of node `id` signed by `ca`, trusting `trusted`.
    pub fn material(&self, trusted: &[&Path], ca: &Path, id: &str) -> TlsMaterial {
        let (certificate, key) = self.node(ca, id);
        let ca_files: Vec<PathBuf> = trusted.iter().map(|dir| dir.join("ca.pem")).collect();
        TlsMaterial::load(&ca_files, &certificate, &key, Vec::new()).unwrap()
    }
}

/// The revocation entries of the node certificate in `material`.
pub fn revocations_of(material: &TlsMaterial) -> [Revocation; 2] {
    CertificateFacts::read(&material.certificate_chain[0])
        .unwrap()
        .revocations()
}

/// The first certificate in a PEM file, parsed.
pub fn facts_of(path: &Path) -> CertificateFacts {
    CertificateFacts::read(&read_certificates(path).unwrap()[0]).unwrap()
}

/// Settings on an ephemeral loopback port with short timeouts.
pub fn settings(id: &str) -> QuicSettings {
    let mut settings = QuicSettings::new(id, SocketAddr::from(([127, 0, 0, 1], 0)));
    settings.connect_timeout = Duration::from_secs(5);
    settings.stream_idle_timeout = Duration::from_secs(5);
    settings
}

/// Answers "`peer` says `request`", counting its calls; drops the stream
/// unanswered when the request is "drop".
#[derive(Default)]
pub struct Echo {
    pub calls: AtomicUsize,
}

impl RequestHandler for Echo {
    async fn handle(&self, mut stream: ClusterStream) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let Ok(request) = stream.read_to_end(8 << 20).await else {
            return;
        };
        if request == b"drop" {
            return;
        }
        let reply = format!(
            "{} says {}",
            stream.peer(),
            String::from_utf8_lossy(&request)
        );
        if stream.write_all(reply.as_bytes()).await.is_ok() {
            let _ = stream.finish();
        }
    }
}

/// An endpoint serving [`Echo`], and the peer address to reach it.
pub struct Served {
    pub endpoint: ClusterEndpoint,
    pub echo: Arc<Echo>,
    pub peer: Peer,
}

pub fn serve(id: &str, material: &TlsMaterial) -> Served {
    let endpoint = ClusterEndpoint::bind(settings(id), material).unwrap();
    let echo = Arc::new(Echo::default());
    endpoint.serve(echo.clone());
    let peer = Peer {
        id: id.to_owned(),
        address: endpoint.local_addr().unwrap(),
    };
    Served {
        endpoint,
        echo,
        peer,
    }
}

/// Sends `text` and reads the whole answer.
pub async fn ask(from: &ClusterEndpoint, to: &Peer, text: &str) -> Result<String, String> {
    let mut stream = from
        .request(to, text.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let reply = stream
        .read_to_end(8 << 20)
        .await
        .map_err(|error| error.to_string())?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// Waits up to 5 s for `condition`.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}
