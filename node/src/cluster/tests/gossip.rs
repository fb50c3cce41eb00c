//! Authenticated gossip on loopback UDP: convergence, refusals, restarts,
//! key rotation, large states.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chitchat::transport::UdpTransport;
use chitchat::{ChitchatConfig, ChitchatId, FailureDetectorConfig, ProtocolVersion};
use tokio::net::UdpSocket;

use crate::cluster::gossip::frame::{self, Header};
use crate::cluster::gossip::loopback::unix_micros;
use crate::cluster::gossip::{Gossip, GossipCounters, GossipKeys, GossipSettings, Member};

fn keys(secret: u8) -> GossipKeys {
    GossipKeys::from_secrets(&[vec![secret; 32]]).unwrap()
}

fn settings(cluster: &str, id: &str, seeds: &[SocketAddr]) -> GossipSettings {
    let mut settings = GossipSettings::new(cluster, id, SocketAddr::from(([127, 0, 0, 1], 0)));
    settings.seeds = seeds.to_vec();
    settings.interval = Duration::from_millis(100);
    settings.initial_heartbeat_interval = Duration::from_millis(200);
    settings
}

async fn node(id: &str, seeds: &[SocketAddr], values: &[(&str, &str)]) -> Gossip {
    let initial = values
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    Gossip::start(settings("prod", id, seeds), keys(1), initial)
        .await
        .unwrap()
}

fn address(gossip: &Gossip) -> SocketAddr {
    gossip.id().gossip_address
}

/// The live members `gossip` sees, by node id.
async fn live(gossip: &Gossip) -> BTreeMap<String, Member> {
    gossip
        .members()
        .await
        .into_iter()
        .filter(|member| member.alive)
        .map(|member| (member.id.node_id.clone(), member))
        .collect()
}

/// Polls `check` on `gossip` for up to 15 s.
async fn until(gossip: &Gossip, what: &str, check: impl Fn(&BTreeMap<String, Member>) -> bool) {
    for _ in 0..150 {
        if check(&live(gossip).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} never saw {what}: {:#?}",
        gossip.id().node_id,
        live(gossip).await
    );
}

fn value<'a>(members: &'a BTreeMap<String, Member>, id: &str, key: &str) -> Option<&'a str> {
    members.get(id)?.key_values.get(key).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_three_nodes_converge_on_each_others_key_values() {
    let a = node("a", &[], &[("region", "eu")]).await;
    let b = node("b", &[address(&a)], &[("region", "us")]).await;
    let c = node("c", &[address(&a)], &[("region", "ap")]).await;
    let nodes = [&a, &b, &c];
    for gossip in nodes {
        until(gossip, "all regions", |members| {
            value(members, "a", "region") == Some("eu")
                && value(members, "b", "region") == Some("us")
                && value(members, "c", "region") == Some("ap")
        })
        .await;
    }
    let mut watch = b.watch().await;
    c.set("zone:example.com.", "1 2024010101").await;
    a.set_many(&[
        ("quic".into(), "127.0.0.1:7947".into()),
        ("dns".into(), "127.0.0.1:53".into()),
    ])
    .await;
    for gossip in nodes {
        until(gossip, "new values", |members| {
            value(members, "c", "zone:example.com.") == Some("1 2024010101")
                && value(members, "a", "quic") == Some("127.0.0.1:7947")
        })
        .await;
    }
    let woke = tokio::time::timeout(Duration::from_secs(10), watch.changed()).await;
    assert_eq!(
        woke.ok(),
        Some(true),
        "the watch wakes on a key-value change"
    );
    assert!(watch.live().iter().any(|member| member.id.node_id == "c"));

    c.delete("zone:example.com.").await;
    for gossip in nodes {
        until(gossip, "the deletion", |members| {
            value(members, "c", "zone:example.com.").is_none()
                && value(members, "c", "region") == Some("ap")
        })
        .await;
    }
    for gossip in nodes {
        let counters = gossip.counters();
        assert!(counters.datagrams_accepted > 0 && counters.datagrams_sent > 0);
        assert_eq!(rejected(&counters), 0, "{counters:?}");
    }
}

fn rejected(counters: &GossipCounters) -> u64 {
    counters.rejected_malformed
        + counters.rejected_foreign_cluster
        + counters.rejected_bad_mac
        + counters.rejected_stale
        + counters.rejected_replayed
}

/// Waits until `gossip`'s counters satisfy `check`.
async fn counted(gossip: &Gossip, what: &str, check: impl Fn(&GossipCounters) -> bool) {
    for _ in 0..100 {
        if check(&gossip.counters()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} not counted: {:?}", gossip.counters());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_drops_forged_foreign_stale_and_replayed_datagrams() {
    // A spy listed as a seed of `a` receives genuine datagrams from it.
    let spy = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let a = node("a", &[spy.local_addr().unwrap()], &[]).await;
    let b = node("b", &[], &[]).await;
    let mut buffer = vec![0u8; 65_536];
    let (len, _) = tokio::time::timeout(Duration::from_secs(10), spy.recv_from(&mut buffer))
        .await
        .expect("a gossips to its seed")
        .unwrap();
    let genuine = buffer[..len].to_vec();
    let (header, payload) = frame::open(&genuine, "prod", &keys(1), unix_micros()).unwrap();
    assert_eq!(header.sender, "a");
    let target = address(&b);

    // Replayed: the first copy is new to `b`, the second is not.
    spy.send_to(&genuine, target).await.unwrap();
    counted(&b, "the first copy", |c| c.datagrams_accepted >= 1).await;
    spy.send_to(&genuine, target).await.unwrap();
    counted(&b, "the replay", |c| c.rejected_replayed == 1).await;

    let now = unix_micros();
    let fresh = |counter: u64| Header {
        counter,
        message: counter,
        ..header
    };
    let wrong_key = frame::seal(&keys(2), &fresh(now), payload);
    spy.send_to(&wrong_key, target).await.unwrap();
    let mut tampered = genuine.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x40;
    spy.send_to(&tampered, target).await.unwrap();
    counted(&b, "forged datagrams", |c| c.rejected_bad_mac == 2).await;

    let foreign = Header {
        cluster: "staging",
        ..fresh(now + 1)
    };
    spy.send_to(&frame::seal(&keys(1), &foreign, payload), target)
        .await
        .unwrap();
    counted(&b, "the foreign datagram", |c| {
        c.rejected_foreign_cluster == 1
    })
    .await;

    let hour_ago = now - 3_600_000_000;
    spy.send_to(&frame::seal(&keys(1), &fresh(hour_ago), payload), target)
        .await
        .unwrap();
    counted(&b, "the stale datagram", |c| c.rejected_stale == 1).await;

    spy.send_to(b"junk", target).await.unwrap();
    counted(&b, "the junk", |c| c.rejected_malformed == 1).await;
    // Each forgery counted once, nothing genuine refused (the replayed
    // copy taught `b` about `a`, so the two now gossip for real).
    assert_eq!(rejected(&b.counters()), 6, "{:?}", b.counters());
    drop(a);
}

fn plain_chitchat_config(id: &str, seeds: &[SocketAddr], listen: SocketAddr) -> ChitchatConfig {
    ChitchatConfig {
        chitchat_id: ChitchatId::new(id, 1, listen),
        cluster_id: "prod".into(),
        gossip_interval: Duration::from_millis(100),
        listen_addr: listen,
        seed_nodes: seeds.iter().map(SocketAddr::to_string).collect(),
        failure_detector_config: FailureDetectorConfig::default(),
        marked_for_deletion_grace_period: Duration::from_secs(60),
        catchup_callback: None,
        extra_liveness_predicate: None,
        protocol_version: ProtocolVersion::V0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_nodes_without_the_key_never_join() {
    let a = node("a", &[], &[("region", "eu")]).await;
    let b = node("b", &[address(&a)], &[]).await;
    // Right cluster, wrong key.
    let wrong_key = Gossip::start(
        settings("prod", "mallory", &[address(&a)]),
        keys(9),
        Vec::new(),
    )
    .await
    .unwrap();
    // Right key, another cluster.
    let foreign = Gossip::start(
        settings("staging", "other", &[address(&a)]),
        keys(1),
        Vec::new(),
    )
    .await
    .unwrap();
    // Plain chitchat, no authentication at all.
    let free = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let plain = chitchat::spawn_chitchat(
        plain_chitchat_config("intruder", &[address(&a)], free),
        vec![("region".into(), "evil".into())],
        &UdpTransport,
    )
    .await
    .unwrap();

    until(&a, "b", |members| members.contains_key("b")).await;
    counted(&a, "every kind of intruder", |c| {
        c.rejected_bad_mac > 0 && c.rejected_foreign_cluster > 0 && c.rejected_malformed > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for gossip in [&a, &b] {
        let known: Vec<String> = gossip
            .members()
            .await
            .into_iter()
            .map(|m| m.id.node_id)
            .collect();
        assert_eq!(known, ["a", "b"], "{} knows {known:?}", gossip.id().node_id);
    }
    let mallory_knows: Vec<String> = wrong_key
        .members()
        .await
        .into_iter()
        .map(|m| m.id.node_id)
        .collect();
    assert_eq!(mallory_knows, ["mallory"]);
    let foreign_knows: Vec<String> = foreign
        .members()
        .await
        .into_iter()
        .map(|m| m.id.node_id)
        .collect();
    assert_eq!(foreign_knows, ["other"]);
    plain.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_restarted_node_is_seen_as_a_new_generation() {
    let a = node("a", &[], &[]).await;
    let mut first = settings("prod", "b", &[address(&a)]);
    first.generation = 10;
    let b = Gossip::start(first.clone(), keys(1), vec![("serial".into(), "1".into())])
        .await
        .unwrap();
    until(&a, "b generation 10", |members| {
        members.get("b").is_some_and(|b| b.id.generation == 10)
    })
    .await;
    let port = address(&b).port();
    b.shutdown().await;

    let mut second = first;
    second.generation = 11;
    second.listen.set_port(port);
    let b = Gossip::start(second, keys(1), vec![("serial".into(), "2".into())])
        .await
        .unwrap();
    for _ in 0..150 {
        let members = a.members().await;
        let incarnations: Vec<(u64, bool, Option<&str>)> = members
            .iter()
            .filter(|member| member.id.node_id == "b")
            .map(|member| {
                let serial = member.key_values.get("serial").map(String::as_str);
                (member.id.generation, member.alive, serial)
            })
            .collect();
        let new_alive = incarnations.contains(&(11, true, Some("2")));
        let old_dead = incarnations.iter().all(|&(generation, alive, serial)| {
            generation == 11 || (!alive && serial == Some("1"))
        });
        if new_alive && old_dead {
            assert_eq!(b.id().generation, 11);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "a never told the generations apart: {:#?}",
        a.members().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_key_rotation_keeps_the_cluster_talking() {
    let a = node("a", &[], &[]).await;
    let b = node("b", &[address(&a)], &[]).await;
    until(&a, "b", |members| members.contains_key("b")).await;
    let both = |first: u8, second: u8| {
        GossipKeys::from_secrets(&[vec![first; 32], vec![second; 32]]).unwrap()
    };
    // Step 1 everywhere: accept the new key. Step 2 on b only: sign with it.
    a.rotate_keys(both(1, 2));
    b.rotate_keys(both(2, 1));
    b.set("step", "2").await;
    a.set("step", "2").await;
    until(&a, "b's value", |members| {
        value(members, "b", "step") == Some("2")
    })
    .await;
    until(&b, "a's value", |members| {
        value(members, "a", "step") == Some("2")
    })
    .await;
    assert_eq!(
        a.counters().rejected_bad_mac + b.counters().rejected_bad_mac,
        0
    );
    // Step 3 on a: only the new key. b still signs with it.
    a.rotate_keys(keys(2));
    b.set("step", "3").await;
    until(&a, "b's value", |members| {
        value(members, "b", "step") == Some("3")
    })
    .await;
    // A key a does not hold is refused.
    b.rotate_keys(keys(3));
    b.set("step", "4").await;
    counted(&a, "b's datagrams under a foreign key", |c| {
        c.rejected_bad_mac > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(value(&live(&a).await, "b", "step"), Some("3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_large_states_travel_in_near_limit_datagrams() {
    // Digests do not compress: chitchat sends this state in several
    // datagrams close to the 64 KiB UDP limit, framing included.
    let zones: Vec<(String, String)> = (0..3000u32)
        .map(|index| {
            let digest = ring::digest::digest(&ring::digest::SHA256, &index.to_be_bytes());
            let key = format!("zone:z{index:05}.example.com.");
            (key, crate::cluster::identity::hex(digest.as_ref()))
        })
        .collect();
    let a = Gossip::start(settings("prod", "a", &[]), keys(1), zones.clone())
        .await
        .unwrap();
    let b = node("b", &[address(&a)], &[]).await;
    until(&b, "all 3000 zones of a", |members| {
        members
            .get("a")
            .is_some_and(|a| a.key_values.len() == zones.len())
    })
    .await;
    let seen = live(&b).await;
    for (key, expected) in zones.iter().step_by(97) {
        assert_eq!(value(&seen, "a", key), Some(expected.as_str()));
    }
    assert_eq!(rejected(&b.counters()), 0);
    assert_eq!(a.counters().dropped_oversized, 0);
}

/// Measurement, not a test: gossip bytes per node per second at idle, three
/// nodes publishing 1,000 zones each, default one-second rounds.
/// `cargo test -p understudy-node --release gossip_idle_bandwidth -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn gossip_idle_bandwidth_with_1000_zones() {
    let zones = |node: &str| -> Vec<(String, String)> {
        (0..1000)
            .map(|index| {
                let key = format!("zone:z{index:04}.example.com.");
                (key, format!("0 {} {node}", 2_024_000_000 + index))
            })
            .collect()
    };
    let start = |id: &str, seeds: Vec<SocketAddr>| {
        let mut settings = settings("prod", id, &seeds);
        settings.interval = Duration::from_secs(1);
        Gossip::start(settings, keys(1), zones(id))
    };
    let a = start("a", Vec::new()).await.unwrap();
    let b = start("b", vec![address(&a)]).await.unwrap();
    let c = start("c", vec![address(&a)]).await.unwrap();
    for gossip in [&a, &b, &c] {
        until(gossip, "3000 zones", |members| {
            members.len() == 3
                && members
                    .values()
                    .all(|member| member.key_values.len() == 1000)
        })
        .await;
    }
    let before: Vec<GossipCounters> = [&a, &b, &c].iter().map(|g| g.counters()).collect();
    let seconds = 20;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    for (gossip, before) in [&a, &b, &c].iter().zip(before) {
        let after = gossip.counters();
        let sent = (after.bytes_sent - before.bytes_sent) / seconds;
        let received = (after.bytes_received - before.bytes_received) / seconds;
        let datagrams = (after.datagrams_sent - before.datagrams_sent) / seconds;
        println!(
            "node {}: {sent} B/s sent, {received} B/s received, {datagrams} datagrams/s",
            gossip.id().node_id
        );
    }
}
