//! `understudy cert`: the files it writes, read back by rustls, webpki and
//! OpenSSL.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use ring::rand::SystemRandom;

use super::fixtures::{Pki, facts_of};
use crate::cert::{CertError, gossip_key, show, write_ca, write_node};
use crate::cluster::identity::Revocation;
use crate::cluster::pem::{PemError, read_certificates, read_private_key};
use crate::cluster::tls::{Credentials, TlsError, TlsMaterial};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn openssl(script: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("openssl must be installed");
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn cert_ca_and_node_files_parse_back_with_rustls() {
    let pki = Pki::new("cert-parse");
    let ca = pki.ca("ca");
    let (certificate, key) = pki.node(&ca, "ams-1");
    assert_eq!(mode(&ca.join("ca.key")), 0o600);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(certificate, pki.dir.path().join("nodes-ca/ams-1.pem"));

    let material = TlsMaterial::load(&[ca.join("ca.pem")], &certificate, &key, Vec::new()).unwrap();
    assert_eq!(material.ca_certificates.len(), 1);
    assert_eq!(material.certificate_chain.len(), 1);
    material.check_own("ams-1").unwrap();
    Credentials::new(&material).unwrap();

    let facts = facts_of(&certificate);
    assert_eq!(facts.names, ["ams-1"]);
    assert_eq!(facts.serial.len(), 16, "a positive 16-byte random serial");
    assert!(facts_of(&ca.join("ca.pem")).names.is_empty());
    // The key file is PKCS#8.
    assert!(matches!(
        read_private_key(&key).unwrap(),
        rustls_pki_types::PrivateKeyDer::Pkcs8(_)
    ));
}

#[test]
fn cert_node_certificates_verify_with_openssl_for_both_roles() {
    let pki = Pki::new("cert-openssl");
    let ca = pki.ca("ca");
    let (certificate, _) = pki.node(&ca, "fra-2");
    let ca_pem = ca.join("ca.pem");
    for purpose in ["sslserver", "sslclient"] {
        let verified = openssl(&format!(
            "openssl verify -CAfile {} -purpose {purpose} {}",
            ca_pem.display(),
            certificate.display()
        ));
        assert!(verified.trim_end().ends_with(": OK"), "{verified}");
    }
    let text = openssl(&format!(
        "openssl x509 -in {} -noout -text",
        certificate.display()
    ));
    assert!(text.contains("DNS:fra-2"), "{text}");
    assert!(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"));
    let ca_text = openssl(&format!(
        "openssl x509 -in {} -noout -text",
        ca_pem.display()
    ));
    assert!(ca_text.contains("CA:TRUE, pathlen:0"), "{ca_text}");
}

#[test]
fn cert_show_prints_the_serial_and_key_hash_openssl_computes() {
    let pki = Pki::new("cert-show");
    let ca = pki.ca("ca");
    let (certificate, _) = pki.node(&ca, "syd-1");
    let shown = show(&certificate).unwrap();
    let serial = openssl(&format!(
        "openssl x509 -in {} -noout -serial",
        certificate.display()
    ));
    let serial = serial
        .trim()
        .trim_start_matches("serial=")
        .to_ascii_lowercase();
    assert!(
        shown.contains(&format!("\"serial:{serial}\"")),
        "{shown}\n{serial}"
    );
    let spki = openssl(&format!(
        "openssl x509 -in {} -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -r",
        certificate.display()
    ));
    let spki = spki.split_whitespace().next().unwrap();
    assert!(
        shown.contains(&format!("\"spki-sha256:{spki}\"")),
        "{shown}\n{spki}"
    );
    assert!(shown.contains("names: syd-1"));
    // The printed entries are what the config's `revoked` parses.
    for line in shown
        .lines()
        .filter(|line| line.starts_with("revoked entry: "))
    {
        let entry = line.trim_start_matches("revoked entry: ").trim_matches('"');
        entry.parse::<Revocation>().unwrap();
    }
}

#[test]
fn cert_never_overwrites_existing_files() {
    let pki = Pki::new("cert-exists");
    let ca = pki.ca("ca");
    let before = std::fs::read(ca.join("ca.key")).unwrap();
    let again = write_ca(&ca, 30, &SystemRandom::new());
    assert!(
        matches!(again, Err(CertError::File(PemError::Exists { .. }))),
        "{again:?}"
    );
    assert_eq!(std::fs::read(ca.join("ca.key")).unwrap(), before);
    pki.node(&ca, "n1");
    let out = pki.dir.path().join("nodes-ca");
    let twice = write_node("n1", &ca, &out, 30, &SystemRandom::new());
    assert!(matches!(
        twice,
        Err(CertError::File(PemError::Exists { .. }))
    ));
}

#[test]
fn cert_node_refuses_bad_names_and_foreign_or_mismatched_cas() {
    let pki = Pki::new("cert-refuse");
    let ca = pki.ca("ca");
    let out = pki.dir.path().join("out");
    let random = SystemRandom::new();
    for name in ["42", "-x", "a b", ""] {
        let result = write_node(name, &ca, &out, 30, &random);
        assert!(
            matches!(result, Err(CertError::BadName(_))),
            "{name}: {result:?}"
        );
    }
    // A CA made by OpenSSL: its subject cannot be rebuilt for the issuer.
    let foreign = pki.dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    openssl(&format!(
        "cd {} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
         -keyout ca.key -out ca.pem -subj /CN=someone-else -days 2 2>/dev/null",
        foreign.display()
    ));
    let result = write_node("n1", &foreign, &out, 30, &random);
    assert!(
        matches!(result, Err(CertError::UnusableCa { .. })),
        "{result:?}"
    );
    // Our CA certificate with another CA's key: refused before writing.
    let other = pki.ca("other");
    let mixed = pki.dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(ca.join("ca.pem"), mixed.join("ca.pem")).unwrap();
    std::fs::copy(other.join("ca.key"), mixed.join("ca.key")).unwrap();
    let result = write_node("n1", &mixed, &out, 30, &random);
    assert!(
        matches!(result, Err(CertError::UnusableCa { .. })),
        "{result:?}"
    );
    assert!(!out.join("n1.pem").exists() && !out.join("n1.key").exists());
}

#[test]
fn own_certificate_is_checked_against_node_id_ca_and_revocations() {
    let pki = Pki::new("cert-own");
    let ca = pki.ca("ca");
    let other = pki.ca("other");
    let (certificate, key) = pki.node(&ca, "n1");
    let load = |ca_dir: &Path, revoked: Vec<Revocation>| {
        TlsMaterial::load(&[ca_dir.join("ca.pem")], &certificate, &key, revoked).unwrap()
    };
    let own_error = |result: Result<(), TlsError>| match result {
        Err(TlsError::OwnCertificate(reason)) => reason,
        other => panic!("expected an own-certificate error, got {other:?}"),
    };
    let reason = own_error(load(&ca, Vec::new()).check_own("n2"));
    assert!(reason.contains("not to this node \"n2\""), "{reason}");
    let reason = own_error(load(&other, Vec::new()).check_own("n1"));
    assert!(reason.contains("refused"), "{reason}");
    let revoked = facts_of(&certificate).revocations().to_vec();
    let reason = own_error(load(&ca, revoked).check_own("n1"));
    assert!(reason.to_lowercase().contains("revoked"), "{reason}");
    // A key that does not belong to the certificate.
    let (_, other_key) = pki.node(&ca, "n2");
    let mismatched =
        TlsMaterial::load(&[ca.join("ca.pem")], &certificate, &other_key, Vec::new()).unwrap();
    assert!(mismatched.check_own("n1").is_err());
}

#[test]
fn tls_material_reports_missing_and_malformed_files() {
    let pki = Pki::new("cert-files");
    let ca = pki.ca("ca");
    let (certificate, key) = pki.node(&ca, "n1");
    let missing = pki.dir.path().join("missing.pem");
    let result = TlsMaterial::load(
        std::slice::from_ref(&missing),
        &certificate,
        &key,
        Vec::new(),
    );
    assert!(matches!(result, Err(TlsError::File(PemError::Io { .. }))));
    let garbage = pki.dir.write("garbage.pem", "not pem at all\n");
    let result = TlsMaterial::load(&[ca.join("ca.pem")], &garbage, &key, Vec::new());
    assert!(matches!(
        result,
        Err(TlsError::File(PemError::Malformed { .. }))
    ));
    // A key file where the certificate should be.
    let result = TlsMaterial::load(&[ca.join("ca.pem")], &key, &key, Vec::new());
    assert!(matches!(
        result,
        Err(TlsError::File(PemError::Malformed { .. }))
    ));
    let truncated = std::fs::read_to_string(&certificate).unwrap();
    let truncated = pki.dir.write("cut.pem", &truncated[..truncated.len() / 2]);
    assert!(read_certificates(&truncated).is_err());
}

#[test]
fn gossip_keys_are_fresh_32_byte_base64_lines() {
    use base64::Engine as _;
    let random = SystemRandom::new();
    let one = gossip_key(&random).unwrap();
    let two = gossip_key(&random).unwrap();
    assert_ne!(one, two);
    assert!(one.ends_with('\n') && one.lines().count() == 1);
    let key = base64::engine::general_purpose::STANDARD
        .decode(one.trim())
        .unwrap();
    assert_eq!(key.len(), 32);
}
