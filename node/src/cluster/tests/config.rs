//! The `[cluster]` config section, loaded with credentials made by
//! `understudy cert`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use ring::rand::SystemRandom;

use super::fixtures::{Pki, facts_of};
use crate::cert::gossip_key;
use crate::config::{Config, LoadError};

/// A directory with a CA, node `id`'s certificate and a key file, all
/// named as the deploy template names them.
fn credentials(pki: &Pki, id: &str) {
    let ca = pki.ca("ca");
    crate::cert::write_node(id, &ca, pki.dir.path(), 30, &SystemRandom::new()).unwrap();
    pki.dir
        .write("cluster.key", &gossip_key(&SystemRandom::new()).unwrap());
}

fn config(id: &str, cluster: &str) -> String {
    format!("version = 1\n[node]\nid = \"{id}\"\n[cluster]\n{cluster}\n")
}

const FILES: &str =
    "key_file = \"cluster.key\"\nca_cert = \"ca/ca.pem\"\ncert = \"n1.pem\"\nkey = \"n1.key\"\n";

fn load(pki: &Pki, text: &str) -> Result<Config, LoadError> {
    Config::parse(text, pki.dir.path(), Path::new("test.toml"))
}

fn invalid(pki: &Pki, text: &str) -> String {
    match load(pki, text) {
        Err(LoadError::Invalid { invalid, .. }) => invalid.to_string(),
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

#[test]
fn cluster_section_loads_with_its_credentials() {
    let pki = Pki::new("config-cluster");
    credentials(&pki, "n1");
    let text = config(
        "n1",
        &format!(
            "name = \"prod\"\ngossip_listen = \"127.0.0.1\"\nquic_listen = \"127.0.0.1:8000\"\n\
             seeds = [\"127.0.0.2\", \"127.0.0.3:9000\"]\ngossip_interval = \"2s\"\n{FILES}"
        ),
    );
    let loaded = load(&pki, &text).unwrap();
    let cluster = loaded.cluster.expect("a cluster");
    assert_eq!(cluster.name, "prod");
    assert_eq!(
        cluster.gossip_listen,
        "127.0.0.1:7946".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        cluster.quic_listen,
        "127.0.0.1:8000".parse::<SocketAddr>().unwrap()
    );
    let seeds: Vec<SocketAddr> = ["127.0.0.2:7946", "127.0.0.3:9000"]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect();
    assert_eq!(cluster.seeds, seeds);
    assert_eq!(cluster.gossip_interval, Duration::from_secs(2));
    assert_eq!(cluster.cert, pki.dir.path().join("n1.pem"));
    assert_eq!(cluster.tls.ca_certificates.len(), 1);
    assert_eq!(cluster.gossip_keys.verifying().len(), 1);
    assert_eq!(
        cluster.quic_advertise(cluster.quic_listen),
        cluster.quic_listen
    );
    let gossip = cluster.gossip_settings("n1", 42);
    assert_eq!((gossip.generation, gossip.seeds.len()), (42, 2));
    assert_eq!(gossip.interval, Duration::from_secs(2));
    assert_eq!(cluster.quic_settings("n1").listen, cluster.quic_listen);
}

#[test]
fn cluster_section_absent_is_a_single_node() {
    let pki = Pki::new("config-single");
    let loaded = load(&pki, "version = 1\n[node]\nid = \"42\"\n").unwrap();
    assert!(loaded.cluster.is_none(), "and any node id is fine alone");
}

#[test]
fn cluster_ca_rotation_and_revocations_are_read() {
    let pki = Pki::new("config-rotation");
    credentials(&pki, "n1");
    let other = pki.ca("new");
    let (other_node, _) = pki.node(&other, "n2");
    let facts = facts_of(&other_node);
    let [serial, spki] = facts.revocations();
    let text = config(
        "n1",
        &format!(
            "name = \"prod\"\ngossip_listen = \"127.0.0.1:0\"\nquic_listen = \"127.0.0.1:0\"\n\
             key_file = \"cluster.key\"\nca_cert = [\"new/ca.pem\", \"ca/ca.pem\"]\n\
             cert = \"n1.pem\"\nkey = \"n1.key\"\nrevoked = [\"{serial}\", \"{spki}\"]\n"
        ),
    );
    let cluster = load(&pki, &text).unwrap().cluster.unwrap();
    assert_eq!(cluster.ca_certs.len(), 2);
    assert_eq!(cluster.tls.ca_certificates.len(), 2);
    assert_eq!(cluster.tls.revoked, [serial, spki]);
}

#[test]
fn cluster_section_rejects_what_cannot_work() {
    let pki = Pki::new("config-bad");
    credentials(&pki, "n1");
    let local = "gossip_listen = \"127.0.0.1\"\nquic_listen = \"127.0.0.1\"\n";
    let cases = [
        ("n1", format!("{local}{FILES}"), "missing field `name`"),
        (
            "n1",
            format!("name = \"p r o d\"\n{local}{FILES}"),
            "cluster: name",
        ),
        (
            "n1",
            format!("name = \"prod\"\n{FILES}"),
            "cluster: advertise: is required",
        ),
        (
            "n1",
            format!("name = \"prod\"\nadvertise = \"0.0.0.0\"\n{FILES}"),
            "cannot be reached",
        ),
        (
            "n1",
            format!(
                "name = \"prod\"\ngossip_listen = \"127.0.0.1:7000\"\nquic_listen = \"127.0.0.1:7000\"\n{FILES}"
            ),
            "both are UDP",
        ),
        (
            "n1",
            format!("name = \"prod\"\n{local}seeds = [\"nowhere\"]\n{FILES}"),
            "cluster: seeds",
        ),
        (
            "n1",
            format!("name = \"prod\"\n{local}revoked = [\"3f2a\"]\n{FILES}"),
            "cluster: revoked",
        ),
        (
            "n1",
            format!("name = \"prod\"\n{local}gossip_interval = \"0s\"\n{FILES}"),
            "must not be 0",
        ),
        (
            "n1",
            format!("name = \"prod\"\n{local}{FILES}port = 1\n"),
            "unknown field `port`",
        ),
        (
            "n2",
            format!("name = \"prod\"\n{local}{FILES}"),
            "not to this node \"n2\"",
        ),
        ("42", format!("name = \"prod\"\n{local}{FILES}"), "node: id"),
    ];
    for (id, cluster, expected) in cases {
        let text = config(id, &cluster);
        let error = match load(&pki, &text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains(expected),
            "{expected:?} not in {error:?}\n{text}"
        );
    }
    pki.dir.write("short.key", "c2hvcnQ=\n");
    let short = FILES.replace("cluster.key", "short.key");
    let error = invalid(
        &pki,
        &config("n1", &format!("name = \"prod\"\n{local}{short}")),
    );
    assert!(
        error.contains("cluster: key_file") && error.contains("at least 16 bytes"),
        "{error}"
    );
    let missing = FILES.replace("n1.pem", "absent.pem");
    let result = load(
        &pki,
        &config("n1", &format!("name = \"prod\"\n{local}{missing}")),
    );
    assert!(matches!(result, Err(LoadError::Read { path, .. }) if path.ends_with("absent.pem")));
}

#[test]
fn deploy_template_cluster_section_loads_with_its_defaults() {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/understudy.toml"),
    )
    .unwrap();
    let block: Vec<&str> = template
        .lines()
        .skip_while(|line| *line != "# [cluster]")
        .take_while(|line| line.starts_with('#'))
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .collect();
    assert!(block.len() > 10, "the template documents [cluster]");
    let pki = Pki::new("config-template");
    let ca = pki.ca("ca");
    crate::cert::write_node("ams-1", &ca, pki.dir.path(), 30, &SystemRandom::new()).unwrap();
    pki.dir
        .write("cluster.key", &gossip_key(&SystemRandom::new()).unwrap());
    let base = format!("{}/", pki.dir.path().display());
    let block = block.join("\n").replace("/etc/understudy/", &base);
    let text = format!("version = 1\n[node]\nid = \"ams-1\"\n{block}\n");
    let cluster = load(&pki, &text)
        .unwrap_or_else(|error| panic!("{error}\n{text}"))
        .cluster
        .unwrap();
    // The template shows the defaults.
    assert_eq!(
        cluster.gossip_listen.port(),
        crate::config::DEFAULT_GOSSIP_PORT
    );
    assert_eq!(cluster.quic_listen.port(), crate::config::DEFAULT_QUIC_PORT);
    assert!(
        cluster.gossip_listen.ip().is_unspecified() && cluster.quic_listen.ip().is_unspecified()
    );
    assert_eq!(cluster.gossip_interval, Duration::from_secs(1));
    assert!(cluster.tls.revoked.is_empty());
    let bound: SocketAddr = "0.0.0.0:7947".parse().unwrap();
    assert_eq!(
        cluster.quic_advertise(bound),
        "192.0.2.10:7947".parse::<SocketAddr>().unwrap()
    );
}
