//! Calibration of the simulator's gossip model against chitchat 0.13
//! itself, on its in-process `ChannelTransport` and tokio's paused clock:
//! the time for a key change to reach every node and the time for every
//! node to hold a stopped node dead, for 10, 50 and 100 nodes.
//!
//! `cargo test --release -p understudy-sim --test calibrate -- --ignored --nocapture`

use std::net::SocketAddr;
use std::time::Duration;

use chitchat::transport::ChannelTransport;
use chitchat::{
    ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, ProtocolVersion,
    spawn_chitchat,
};
use tokio::time::Instant;
use understudy_sim::simulate::calibrate;

const INTERVAL: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(10);

fn address(node: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (node / 250) as u8, (node % 250 + 1) as u8], 7280))
}

fn id(node: usize) -> ChitchatId {
    ChitchatId::new(format!("node-{node}"), 1, address(node))
}

async fn start(node: usize, transport: &ChannelTransport) -> ChitchatHandle {
    let config = ChitchatConfig {
        chitchat_id: id(node),
        cluster_id: "calibration".into(),
        gossip_interval: INTERVAL,
        listen_addr: address(node),
        seed_nodes: vec![address(0).to_string()],
        failure_detector_config: FailureDetectorConfig {
            dead_node_grace_period: Duration::from_secs(86_400),
            ..FailureDetectorConfig::default()
        },
        marked_for_deletion_grace_period: Duration::from_secs(3_600),
        catchup_callback: None,
        extra_liveness_predicate: None,
        protocol_version: ProtocolVersion::V0,
    };
    spawn_chitchat(config, vec![("k".into(), "0".into())], transport)
        .await
        .unwrap()
}

/// Polls the virtual clock until `done` holds for every handle; the time
/// it took.
async fn until(handles: &[ChitchatHandle], done: impl Fn(&chitchat::Chitchat) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for handle in handles {
            let chitchat = handle.chitchat();
            let guard = chitchat.lock().await;
            all &= done(&guard);
        }
        if all || start.elapsed() > Duration::from_secs(3_600) {
            return start.elapsed();
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn chitchat_timing(nodes: usize) -> (Duration, Duration) {
    let transport = ChannelTransport::default();
    let mut handles = Vec::new();
    for node in 0..nodes {
        // Started over one interval, as real nodes are, so that their
        // rounds do not all fall on the same instant.
        handles.push(start(node, &transport).await);
        tokio::time::sleep(INTERVAL / nodes as u32).await;
    }
    until(&handles, |c| c.live_nodes().count() == nodes).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    {
        let chitchat = handles[0].chitchat();
        chitchat.lock().await.self_node_state().set("k", "1");
    }
    let first = id(0);
    let spread = until(&handles, |c| {
        c.node_state(&first).and_then(|s| s.get("k")) == Some("1")
    })
    .await;
    let stopped = handles.pop().unwrap();
    let gone = stopped.chitchat_id().clone();
    stopped.shutdown().await.unwrap();
    let detect = until(&handles, |c| c.dead_nodes().any(|d| *d == gone)).await;
    for handle in handles {
        handle.shutdown().await.unwrap();
    }
    (spread, detect)
}

#[tokio::test(start_paused = true)]
#[ignore]
async fn gossip_model_matches_chitchat() {
    println!("nodes | spread chitchat / model | dead detection chitchat / model");
    for nodes in [10, 50, 100] {
        let (spread, detect) = chitchat_timing(nodes).await;
        let runs: Vec<calibrate::Timing> = (1..=5)
            .map(|seed| calibrate::model(nodes, INTERVAL, seed))
            .collect();
        let mean = |f: fn(&calibrate::Timing) -> Duration| {
            runs.iter().map(f).sum::<Duration>() / runs.len() as u32
        };
        let (model_spread, model_detect) = (mean(|t| t.spread), mean(|t| t.detect));
        println!(
            "{nodes:5} | {:6.2} s / {:6.2} s        | {:6.2} s / {:6.2} s",
            spread.as_secs_f64(),
            model_spread.as_secs_f64(),
            detect.as_secs_f64(),
            model_detect.as_secs_f64()
        );
        let close = |a: Duration, b: Duration| {
            let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
            a.max(b) <= 2.0 * a.min(b) + 2.0
        };
        assert!(
            close(spread, model_spread),
            "{nodes} nodes: spread {spread:?} vs {model_spread:?}"
        );
        assert!(
            close(detect, model_detect),
            "{nodes} nodes: detection {detect:?} vs {model_detect:?}"
        );
    }
}
