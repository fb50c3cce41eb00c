//! The QUIC endpoint on loopback: mutual TLS, refusals, rotation, reload.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair, SanType};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::fixtures::{Pki, ask, eventually, revocations_of, serve, settings};
use crate::cluster::tls::ALPN;
use crate::cluster::{ClusterEndpoint, Peer, RequestError, StreamError, TlsMaterial};

#[tokio::test]
async fn quic_two_endpoints_exchange_requests_over_one_cached_connection() {
    let pki = Pki::new("quic-exchange");
    let ca = pki.ca("ca");
    let a = serve("ams-1", &pki.material(&[&ca], &ca, "ams-1"));
    let b = serve("fra-1", &pki.material(&[&ca], &ca, "fra-1"));

    assert_eq!(
        ask(&a.endpoint, &b.peer, "hello").await.unwrap(),
        "ams-1 says hello"
    );
    assert_eq!(
        ask(&a.endpoint, &b.peer, "again").await.unwrap(),
        "ams-1 says again"
    );
    assert_eq!(
        ask(&b.endpoint, &a.peer, "back").await.unwrap(),
        "fra-1 says back"
    );

    let large = "x".repeat(3 << 20);
    let reply = ask(&a.endpoint, &b.peer, &large).await.unwrap();
    assert_eq!(reply.len(), "ams-1 says ".len() + large.len());
    // A handler that gives up is a reset, never an empty answer.
    let dropped = ask(&a.endpoint, &b.peer, "drop").await.unwrap_err();
    assert!(dropped.contains("reset the stream (code 1)"), "{dropped}");

    let b_counters = b.endpoint.counters();
    assert_eq!(
        b_counters.connections_accepted, 1,
        "requests share a connection"
    );
    assert_eq!(b_counters.requests_received, 4);
    assert_eq!(b_counters.connections_refused, 0);
    assert_eq!(b.echo.calls.load(Ordering::SeqCst), 4);
    let a_counters = a.endpoint.counters();
    assert_eq!(a_counters.requests_sent, 4);
    assert!(a_counters.bytes_sent >= large.len() as u64);
    assert!(a_counters.bytes_received >= large.len() as u64);
    a.endpoint.close().await;
    b.endpoint.close().await;
}

/// Asserts that `client` cannot get an answer from `server`, and that
/// `server` counted the refusal without calling its handler.
async fn assert_refused(client: &ClusterEndpoint, server: &super::fixtures::Served) {
    let refused_before = server.endpoint.counters().connections_refused;
    let result = ask(client, &server.peer, "let me in").await;
    assert!(result.is_err(), "answered: {result:?}");
    assert!(
        eventually(|| server.endpoint.counters().connections_refused > refused_before).await,
        "refusal not counted: {:?}",
        server.endpoint.counters()
    );
    assert_eq!(server.echo.calls.load(Ordering::SeqCst), 0);
    assert_eq!(server.endpoint.counters().connections_accepted, 0);
}

#[tokio::test]
async fn quic_refuses_a_client_without_a_certificate() {
    let pki = Pki::new("quic-nocert");
    let ca = pki.ca("ca");
    let server = serve("n1", &pki.material(&[&ca], &ca, "n1"));
    // A client that trusts the cluster CA but presents nothing.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(crate::cluster::pem::read_certificates(&ca.join("ca.pem")).unwrap()[0].clone())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));

    let exchange = async {
        let connection = endpoint.connect(server.peer.address, "n1")?.await?;
        let (mut send, mut recv) = connection.open_bi().await?;
        send.write_all(b"let me in").await?;
        send.finish()?;
        Ok::<_, Box<dyn std::error::Error>>(recv.read_to_end(1024).await?)
    };
    let result = tokio::time::timeout(Duration::from_secs(10), exchange).await;
    assert!(matches!(result, Ok(Err(_))), "no certificate was accepted");
    assert!(eventually(|| server.endpoint.counters().connections_refused == 1).await);
    assert_eq!(server.echo.calls.load(Ordering::SeqCst), 0);
}

/// Node credentials whose certificate is self-signed, trusting `ca`.
fn self_signed(pki: &Pki, ca: &std::path::Path, id: &str) -> TlsMaterial {
    let mut params = CertificateParams::new(vec![id.to_owned()]).unwrap();
    params.subject_alt_names = vec![SanType::DnsName(id.try_into().unwrap())];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    let mut material = pki.material(&[ca], ca, "placeholder");
    material.certificate_chain = vec![CertificateDer::from(certificate.der().to_vec())];
    material.private_key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    material
}

#[tokio::test]
async fn quic_refuses_a_self_signed_client() {
    let pki = Pki::new("quic-selfsigned");
    let ca = pki.ca("ca");
    let server = serve("n1", &pki.material(&[&ca], &ca, "n1"));
    let rogue = ClusterEndpoint::bind(settings("rogue"), &self_signed(&pki, &ca, "rogue")).unwrap();
    assert_refused(&rogue, &server).await;
}

#[tokio::test]
async fn quic_refuses_a_client_signed_by_another_ca() {
    let pki = Pki::new("quic-otherca");
    let ca = pki.ca("ca");
    let other = pki.ca("other");
    let server = serve("n1", &pki.material(&[&ca], &ca, "n1"));
    // Trusts the real CA (so it accepts the server), signed by another.
    let rogue = ClusterEndpoint::bind(settings("n2"), &pki.material(&[&ca], &other, "n2")).unwrap();
    assert_refused(&rogue, &server).await;
}

#[tokio::test]
async fn quic_refuses_revoked_certificates_by_serial_and_by_key() {
    let pki = Pki::new("quic-revoked");
    let ca = pki.ca("ca");
    for which in 0..2 {
        let client_material = pki.material(&[&ca], &ca, &format!("c{which}"));
        let mut server_material = pki.material(&[&ca], &ca, &format!("s{which}"));
        server_material.revoked = vec![revocations_of(&client_material)[which].clone()];
        let server = serve(&format!("s{which}"), &server_material);
        let client = ClusterEndpoint::bind(settings("c"), &client_material).unwrap();
        assert_refused(&client, &server).await;
    }
    // The client side refuses a revoked server too.
    let server_material = pki.material(&[&ca], &ca, "s9");
    let server = serve("s9", &server_material);
    let mut client_material = pki.material(&[&ca], &ca, "c9");
    client_material.revoked = revocations_of(&server_material).to_vec();
    let client = ClusterEndpoint::bind(settings("c9"), &client_material).unwrap();
    let result = ask(&client, &server.peer, "hello").await;
    assert!(result.unwrap_err().contains("Revoked"));
    assert_eq!(client.counters().connects_failed, 1);
}

#[tokio::test]
async fn quic_client_checks_the_server_is_the_node_it_asked_for() {
    let pki = Pki::new("quic-name");
    let ca = pki.ca("ca");
    let server = serve("n1", &pki.material(&[&ca], &ca, "n1"));
    let client = ClusterEndpoint::bind(settings("n2"), &pki.material(&[&ca], &ca, "n2")).unwrap();
    let impostor = Peer {
        id: "n3".into(),
        address: server.peer.address,
    };
    let error = client.request(&impostor, b"hi").await.unwrap_err();
    assert!(matches!(error, RequestError::Connect { .. }), "{error}");
    let bad_id = Peer {
        id: "not a name".into(),
        address: server.peer.address,
    };
    let error = client.request(&bad_id, b"hi").await.unwrap_err();
    assert!(matches!(error, RequestError::BadPeerId(_)), "{error}");
    assert_eq!(server.echo.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn quic_ca_rotation_accepts_nodes_of_both_cas() {
    let pki = Pki::new("quic-rotation");
    let old = pki.ca("old");
    let new = pki.ca("new");
    // Mid-rotation: everyone trusts both; some nodes already re-issued.
    let server = serve("n1", &pki.material(&[&old, &new], &new, "n1"));
    let from_old =
        ClusterEndpoint::bind(settings("n2"), &pki.material(&[&old, &new], &old, "n2")).unwrap();
    let from_new =
        ClusterEndpoint::bind(settings("n3"), &pki.material(&[&new, &old], &new, "n3")).unwrap();
    assert_eq!(
        ask(&from_old, &server.peer, "a").await.unwrap(),
        "n2 says a"
    );
    assert_eq!(
        ask(&from_new, &server.peer, "b").await.unwrap(),
        "n3 says b"
    );
    // A node that only trusts the old CA refuses a server of the new one.
    let old_only =
        ClusterEndpoint::bind(settings("n4"), &pki.material(&[&old], &old, "n4")).unwrap();
    assert!(ask(&old_only, &server.peer, "c").await.is_err());
    // And a server that dropped the old CA refuses its nodes.
    let finished = serve("n5", &pki.material(&[&new], &new, "n5"));
    assert_refused(&from_old, &finished).await;
}

#[tokio::test]
async fn quic_reload_closes_connections_of_a_newly_revoked_peer() {
    let pki = Pki::new("quic-reload");
    let ca = pki.ca("ca");
    let server_material = pki.material(&[&ca], &ca, "n1");
    let server = serve("n1", &server_material);
    let good_material = pki.material(&[&ca], &ca, "n2");
    let bad_material = pki.material(&[&ca], &ca, "n3");
    let good = ClusterEndpoint::bind(settings("n2"), &good_material).unwrap();
    let bad = ClusterEndpoint::bind(settings("n3"), &bad_material).unwrap();
    assert!(ask(&good, &server.peer, "1").await.is_ok());
    assert!(ask(&bad, &server.peer, "1").await.is_ok());

    let mut reloaded = server_material.clone();
    reloaded.revoked = revocations_of(&bad_material)[..1].to_vec();
    assert_eq!(server.endpoint.reload(&reloaded).unwrap(), 1);
    assert_eq!(server.endpoint.counters().connections_dropped_on_reload, 1);
    assert_eq!(ask(&good, &server.peer, "2").await.unwrap(), "n2 says 2");
    let refused_before = server.endpoint.counters().connections_refused;
    assert!(ask(&bad, &server.peer, "2").await.is_err());
    assert!(eventually(|| server.endpoint.counters().connections_refused > refused_before).await);
    assert_eq!(server.endpoint.counters().connections_accepted, 2);
}

#[tokio::test]
async fn quic_a_silent_peer_times_out() {
    use crate::cluster::{ClusterStream, RequestHandler};
    struct Silent;
    impl RequestHandler for Silent {
        async fn handle(&self, stream: ClusterStream) {
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(stream);
        }
    }
    let pki = Pki::new("quic-silent");
    let ca = pki.ca("ca");
    let server = ClusterEndpoint::bind(settings("n1"), &pki.material(&[&ca], &ca, "n1")).unwrap();
    server.serve(Arc::new(Silent));
    let mut client_settings = settings("n2");
    client_settings.stream_idle_timeout = Duration::from_millis(300);
    let client = ClusterEndpoint::bind(client_settings, &pki.material(&[&ca], &ca, "n2")).unwrap();
    let peer = Peer {
        id: "n1".into(),
        address: server.local_addr().unwrap(),
    };
    let mut stream = client.request(&peer, b"anyone?").await.unwrap();
    let started = std::time::Instant::now();
    let error = stream.read_to_end(1024).await.unwrap_err();
    assert!(matches!(error, StreamError::TimedOut(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listens here: the connect fails within the connect timeout.
    let mut quick = settings("n3");
    quick.connect_timeout = Duration::from_millis(500);
    let lonely = ClusterEndpoint::bind(quick, &pki.material(&[&ca], &ca, "n3")).unwrap();
    let nobody = Peer {
        id: "n9".into(),
        address: "127.0.0.1:9".parse().unwrap(),
    };
    let error = lonely.request(&nobody, b"x").await.unwrap_err();
    assert!(
        matches!(error, RequestError::ConnectTimedOut { .. }),
        "{error}"
    );
}
