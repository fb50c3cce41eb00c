use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::store::scratch::Scratch;

fn text(id: &str, dns_port: u16, zone: &str) -> String {
    format!(
        "version = 1\n[node]\nid = \"{id}\"\n[dns]\nlisten = [\"127.0.0.1:{dns_port}\"]\n\
         [[zone]]\nname = \"{zone}\"\nprimaries = [\"192.0.2.1\"]\n"
    )
}

fn parse(text: &str) -> Config {
    Config::parse(text, Path::new("/etc/understudy"), Path::new("test.toml")).unwrap()
}

#[test]
fn an_unchanged_file_needs_no_restart() {
    let config = parse(&text("n1", 5300, "example.com"));
    assert!(needs_restart(&config, &config.clone()).is_empty());
}

#[test]
fn listeners_and_zones_are_named_as_needing_a_restart() {
    let running = parse(&text("n1", 5300, "example.com"));
    let new = parse(&text("n1", 5301, "example.org"));
    assert_eq!(needs_restart(&running, &new), ["dns", "zone"]);
}

#[test]
fn key_ids_follow_the_secret_and_keep_the_signing_key_first() {
    let (one, two) = (vec![1u8; 32], vec![2u8; 32]);
    let old = key_ids(&GossipKeys::from_secrets(std::slice::from_ref(&one)).unwrap());
    let both = key_ids(&GossipKeys::from_secrets(&[two.clone(), one]).unwrap());
    let new = key_ids(&GossipKeys::from_secrets(&[two]).unwrap());
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].len(), 2 * KEY_ID_LEN);
    assert_eq!(both, [new[0].clone(), old[0].clone()]);
    assert_ne!(old[0], new[0]);
}

#[test]
fn the_answer_names_keys_certificates_closures_and_restarts() {
    let applied = Applied {
        path: "/etc/understudy/understudy.toml".into(),
        cluster: Some(ClusterApplied {
            key_ids: vec!["0a0b0c0d".into(), "01020304".into()],
            cas: 2,
            revoked: 1,
            closed: 1,
        }),
        needs_restart: vec!["dns".into()],
    };
    assert_eq!(
        applied.to_string(),
        "reloaded /etc/understudy/understudy.toml: cluster keys: 2 (signing 0a0b0c0d); \
         certificates reloaded (2 CAs, 1 revoked); 1 connection closed (peer no longer \
         trusted); changed but only applied at a restart: dns"
    );
}

fn reloader(dir: &Scratch, first: &str) -> Reloader {
    let path = dir.write("understudy.toml", first);
    let running = Config::load(&path).unwrap();
    Reloader::new(Arc::new(running), None)
}

#[tokio::test]
async fn a_reload_rereads_the_file_it_was_started_with() {
    let dir = Scratch::new("reload-reread");
    let reloader = reloader(&dir, &text("n1", 5300, "example.com"));
    let applied = reloader.reload().await.unwrap();
    assert!(applied.needs_restart.is_empty(), "{applied}");
    assert_eq!(applied.cluster, None);
    dir.write("understudy.toml", &text("n1", 5300, "example.org"));
    let applied = reloader.reload().await.unwrap();
    assert_eq!(applied.needs_restart, ["zone"]);
}

#[tokio::test]
async fn a_broken_or_foreign_file_is_refused() {
    let dir = Scratch::new("reload-refused");
    let reloader = reloader(&dir, &text("n1", 5300, "example.com"));
    dir.write(
        "understudy.toml",
        "version = 1\n[node]\nid = \"n1\"\nbogus = 1\n",
    );
    assert!(matches!(
        reloader.reload().await,
        Err(ReloadError::Config(LoadError::Syntax { .. }))
    ));
    dir.write("understudy.toml", &text("n2", 5300, "example.com"));
    let error = reloader.reload().await.unwrap_err();
    assert!(matches!(error, ReloadError::NodeId { .. }), "{error}");
    assert!(error.to_string().contains("\"n1\" to \"n2\""), "{error}");
    std::fs::remove_file(dir.path().join("understudy.toml")).unwrap();
    assert!(matches!(
        reloader.reload().await,
        Err(ReloadError::Config(LoadError::Read { .. }))
    ));
}
