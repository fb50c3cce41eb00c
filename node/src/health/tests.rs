use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::health::{FleetEvidence, HealthConfig, Lag};
use understudy_proto::replicate::NodeId;
use understudy_proto::serial::ZoneVersion;

use super::*;
use crate::cluster::QuicCounters;
use crate::cluster::gossip::GossipCounters;
use crate::cluster::status::{ClusterStatus, MemberStatus, MemberZone, SourceKind, ZoneFleet};
use crate::control::{
    Command, ControlServer, Handler, MemberState, Request, TransferCounts, ZoneState,
    ZoneStatusView,
};
use crate::metrics::Metrics;
use crate::store::scratch::Scratch;

const ZONE: &str = "example.com.";

/// Built from JSON, so fields other helpers add with a serde default do
/// not break it.
fn view(zone: &str, state: ZoneState, serial: Option<u32>) -> ZoneStatusView {
    serde_json::from_value(serde_json::json!({
        "zone": zone,
        "state": state,
        "epoch": 0,
        "serial": serial,
        "primary_serial": serial,
        "last_refresh": null,
        "last_result": null,
        "next_refresh": null,
        "expires_at": null,
        "last_error": null,
        "last_primary": null,
        "verified_age_seconds": 4,
        "records": 3,
        "bytes": 100,
        "transfers": TransferCounts::default(),
    }))
    .unwrap()
}

/// A monitor over zone views the test changes, and a cluster it publishes.
struct Fixture {
    monitor: Arc<Monitor>,
    views: Arc<Mutex<Vec<ZoneStatusView>>>,
    cluster: Arc<ClusterShared>,
    _dir: Scratch,
}

fn fixture(name: &str, cluster_name: Option<&str>) -> Fixture {
    let dir = Scratch::new(name);
    let views = Arc::new(Mutex::new(vec![view(ZONE, ZoneState::Ok, Some(5))]));
    let cluster = Arc::new(ClusterShared::default());
    let read = Arc::clone(&views);
    let settings = HealthSettings {
        machine: HealthConfig {
            rise: 3,
            fall: 2,
            max_lag: Duration::from_secs(60),
        },
        interval: Duration::from_secs(1),
    };
    let sources = Sources {
        zones: Box::new(move || read.lock().unwrap().clone()),
        cluster: Arc::clone(&cluster),
        node: LocalNode {
            id: "ams-1".into(),
            region: "eu".into(),
            dns: Some("127.0.0.1:53".parse().unwrap()),
            cluster: cluster_name.map(str::to_owned),
        },
        clock: Clock::start(),
    };
    let monitor = Arc::new(Monitor::new(settings, Drain::load(dir.path()), sources));
    Fixture {
        monitor,
        views,
        cluster,
        _dir: dir,
    }
}

fn at(seconds: u64) -> Timestamp {
    Timestamp(seconds * 1000)
}

fn evidence(fresh_peer: Option<&str>, lag: Option<Lag>) -> ClusterStatus {
    let zone = Name::from_ascii(ZONE).unwrap();
    let fleet = ZoneFleet {
        newest: Some(ZoneVersion::new(0, 7)),
        evidence: FleetEvidence {
            fresh_peer: fresh_peer.map(NodeId::new),
            lag,
        },
    };
    ClusterStatus {
        cluster: "prod".into(),
        node: "ams-1".into(),
        region: "eu".into(),
        zones: BTreeMap::from([(zone, fleet)]),
        ..ClusterStatus::default()
    }
}

/// Evaluates at seconds `from..to` and returns the verdicts.
fn run(monitor: &Monitor, seconds: std::ops::Range<u64>) -> Vec<bool> {
    seconds
        .map(|second| monitor.evaluate_at(at(second)).healthy)
        .collect()
}

#[test]
fn health_starts_unhealthy_and_rises_after_rise_clean_evaluations() {
    let fixture = fixture("health-rise", None);
    let start = fixture.monitor.view();
    assert!(!start.healthy);
    assert_eq!(start.reason.as_deref(), Some("starting"));
    assert_eq!(run(&fixture.monitor, 1..4), [false, false, true]);
    let view = fixture.monitor.view();
    assert_eq!(view.summary(), "healthy");
    assert_eq!(view.reason, None);
}

#[test]
fn health_falls_only_after_fall_evaluations_with_a_problem() {
    let fixture = fixture("health-fall", Some("prod"));
    run(&fixture.monitor, 1..4);
    fixture.views.lock().unwrap()[0].state = ZoneState::Expired;
    fixture.cluster.publish(evidence(Some("fra-1"), None));
    let first = fixture.monitor.evaluate_at(at(4));
    assert!(first.healthy, "one bad evaluation does not withdraw");
    let pending = first.pending.clone().unwrap_or_default();
    assert!(pending.contains("expired here while fra-1"), "{first:?}");
    let second = fixture.monitor.evaluate_at(at(5));
    assert!(!second.healthy);
    assert_eq!(second.reason.as_deref(), Some("expired"));
    assert_eq!(
        second.summary(),
        "zone example.com. expired here while fra-1 serves it fresh"
    );
    fixture.views.lock().unwrap()[0].state = ZoneState::Ok;
    assert_eq!(run(&fixture.monitor, 6..9), [false, false, true]);
}

#[test]
fn health_an_expiry_the_whole_fleet_shares_does_not_withdraw() {
    let fixture = fixture("health-fleet", Some("prod"));
    run(&fixture.monitor, 1..4);
    fixture.views.lock().unwrap()[0].state = ZoneState::Expired;
    // Gossip shows a newer serial, but no peer confirmed it serves the zone
    // fresh: every node is past expire alike.
    fixture.cluster.publish(evidence(None, None));
    assert_eq!(run(&fixture.monitor, 4..20), [true; 16]);
    assert_eq!(fixture.monitor.view().problem_zones, 0);
}

#[test]
fn health_lagging_a_verified_version_withdraws_after_max_lag() {
    let fixture = fixture("health-lag", Some("prod"));
    run(&fixture.monitor, 1..4);
    let lag = Lag {
        since: at(4),
        behind: ZoneVersion::new(0, 7),
    };
    fixture.cluster.publish(evidence(None, Some(lag)));
    assert!(fixture.monitor.evaluate_at(at(60)).healthy);
    assert_eq!(run(&fixture.monitor, 65..67), [true, false]);
    let view = fixture.monitor.view();
    assert_eq!(view.reason.as_deref(), Some("lagging"));
    assert!(view.summary().contains("lags verified version"), "{view:?}");
    let status = fixture.cluster.status();
    let views = fixture.views.lock().unwrap().clone();
    let zones = cluster_view(&status, &views, &fixture.monitor.sources.node, at(70)).zones;
    assert_eq!(zones[0].fleet_serial, Some(7));
    assert_eq!(zones[0].lag_seconds, 66);
}

#[tokio::test]
async fn health_drain_withdraws_at_once_and_undrain_rises() {
    let fixture = fixture("health-drain", None);
    run(&fixture.monitor, 1..4);
    assert!(fixture.monitor.view().healthy);
    let response = fixture.monitor.drain().await;
    assert!(matches!(response, Response::Done { .. }), "{response:?}");
    let view = fixture.monitor.view();
    assert!(!view.healthy, "no hysteresis for a drain");
    assert!(view.drained);
    assert_eq!(view.summary(), "drained");
    assert!(fixture._dir.path().join(DRAIN_FILE).exists());

    let response = fixture.monitor.undrain().await;
    assert!(matches!(response, Response::Done { .. }), "{response:?}");
    assert!(!fixture._dir.path().join(DRAIN_FILE).exists());
    let view = fixture.monitor.view();
    assert!(
        !view.healthy && !view.drained,
        "undrain rises through `rise`"
    );
    assert_eq!(view.reason.as_deref(), Some("starting"));
    assert_eq!(view.summary(), "undrained; healthy after 3 clean checks");
    let now = fixture.monitor.sources.clock.now().0 / 1000;
    assert_eq!(run(&fixture.monitor, now + 1..now + 3), [false, true]);
}

#[test]
fn health_a_drained_node_restarts_drained() {
    let dir = Scratch::new("health-restart");
    Drain::load(dir.path()).drain(0).unwrap();
    let fixture = fixture("health-restart-unused", None);
    let sources = Sources {
        zones: Box::new(Vec::new),
        cluster: Arc::clone(&fixture.cluster),
        node: fixture.monitor.sources.node.clone(),
        clock: Clock::start(),
    };
    let monitor = Monitor::new(HealthSettings::default(), Drain::load(dir.path()), sources);
    assert_eq!(monitor.view().summary(), "drained");
    assert_eq!(run(&monitor, 1..10), [false; 9]);
    assert_eq!(monitor.view().reason.as_deref(), Some("drained"));
}

#[test]
fn health_members_without_a_cluster_show_this_node_only() {
    let fixture = fixture("health-alone", None);
    let view = fixture.monitor.cluster_view();
    assert_eq!(view.cluster, None);
    assert_eq!(view.members.len(), 1);
    let this = &view.members[0];
    assert!(this.this_node);
    assert_eq!((this.id.as_str(), this.region.as_str()), ("ams-1", "eu"));
    assert_eq!(this.state, MemberState::Alive);
    assert_eq!(this.dns.as_deref(), Some("127.0.0.1:53"));
    assert_eq!(this.zones.len(), 1);
    assert_eq!(this.zones[0].serial, 5);
    assert_eq!(this.zones[0].serial_delta, Some(0));
    assert_eq!(this.zones[0].confirmed_age_seconds, Some(4));
}

fn member(id: &str, alive: bool, serial: u32) -> MemberStatus {
    MemberStatus {
        id: id.into(),
        region: "eu".into(),
        generation: 3,
        alive,
        quic: Some("127.0.0.2:7947".parse().unwrap()),
        dns: None,
        rtt: Some(Duration::from_millis(12)),
        zones: vec![MemberZone {
            zone: Name::from_ascii(ZONE).unwrap(),
            version: ZoneVersion::new(0, serial),
            confirmed_age: None,
        }],
    }
}

#[test]
fn health_members_compare_each_serial_with_ours() {
    let fixture = fixture("health-members", Some("prod"));
    fixture.cluster.publish(ClusterStatus {
        members: vec![
            member("ams-1", true, 4),
            member("fra-1", true, 7),
            member("lhr-1", false, u32::MAX),
        ],
        ..evidence(None, None)
    });
    let view = fixture.monitor.cluster_view();
    assert_eq!(view.cluster.as_deref(), Some("prod"));
    let deltas: Vec<_> = view
        .members
        .iter()
        .map(|member| (member.id.as_str(), member.zones[0].serial_delta))
        .collect();
    // Our own row comes from our views (5), not from gossip (4); serial
    // 2^32-1 is 6 behind 5 in RFC 1982 arithmetic.
    assert_eq!(
        deltas,
        [("ams-1", Some(0)), ("fra-1", Some(2)), ("lhr-1", Some(-6))]
    );
    assert_eq!(view.members[1].rtt_ms, Some(12));
    assert_eq!(view.members[2].state, MemberState::Dead);
}

struct Refusing;

impl Handler for Refusing {
    async fn handle(&self, command: Command) -> Response {
        Response::not_available(command.op())
    }
}

async fn exchange(socket: &std::path::Path, request: Request) -> Response {
    let socket = socket.to_path_buf();
    tokio::task::spawn_blocking(move || {
        crate::control::send(&socket, &request, Duration::from_secs(5))
    })
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test]
async fn health_control_round_trips_drain_members_and_health() {
    let fixture = fixture("health-control", None);
    let socket = fixture._dir.path().join("control.sock");
    let server = ControlServer::bind(&socket).unwrap();
    let handler = Arc::new(WithHealth::new(Refusing, Arc::clone(&fixture.monitor)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(handler, async {
        let _ = stopped.await;
    }));

    let drained = exchange(&socket, Request::Drain).await;
    assert!(matches!(&drained, Response::Done { message } if message.contains("drained")));
    let Response::Health { health } = exchange(&socket, Request::Health).await else {
        panic!("not a health response")
    };
    assert!(health.drained && !health.healthy);
    assert_eq!(health.reason.as_deref(), Some("drained"));
    let Response::ClusterMembers { cluster } = exchange(&socket, Request::ClusterMembers).await
    else {
        panic!("not a members response")
    };
    assert_eq!(cluster.members[0].id, "ams-1");
    assert_eq!(cluster.zones[0].zone, ZONE);
    let undrained = exchange(&socket, Request::Undrain).await;
    assert!(matches!(&undrained, Response::Done { message } if message.contains("undrained")));
    let passed = exchange(&socket, Request::Reload).await;
    assert_eq!(passed, Response::not_available("reload"));

    let _ = stop.send(());
    task.await.unwrap();
}

#[test]
fn health_metrics_show_the_families_with_their_labels() {
    let fixture = fixture("health-metrics", Some("prod"));
    let metrics = Metrics::new(Box::new(Vec::new)).unwrap();
    let sampled = Arc::clone(&fixture.monitor);
    metrics
        .watch_cluster(
            Box::new(move || sampled.sample()),
            Arc::clone(&fixture.cluster),
        )
        .unwrap();
    let counters = &fixture.cluster.counters;
    counters.transfer(SourceKind::Peer, true);
    counters.transfer(SourceKind::Primary, false);
    counters
        .peer_bytes_received
        .fetch_add(4096, std::sync::atomic::Ordering::Relaxed);
    counters
        .confirms_ok
        .fetch_add(2, std::sync::atomic::Ordering::Relaxed);
    fixture.cluster.publish(ClusterStatus {
        members: vec![member("ams-1", true, 5), member("fra-1", false, 7)],
        ..evidence(None, None)
    });
    let text = metrics.render();
    assert!(!text.contains("understudy_gossip_"), "no probe attached");

    metrics
        .transport()
        .attach_gossip(Box::new(|| GossipCounters {
            rejected_replayed: 3,
            datagrams_accepted: 10,
            ..GossipCounters::default()
        }));
    metrics.transport().attach_quic(Box::new(|| QuicCounters {
        bytes_sent: 500,
        connections_refused: 1,
        ..QuicCounters::default()
    }));
    let text = metrics.render();
    for line in [
        "understudy_healthy 0",
        "understudy_drained 0",
        "understudy_health_reason{reason=\"starting\"} 1",
        "understudy_health_reason{reason=\"drained\"} 0",
        "understudy_cluster_members{state=\"alive\"} 1",
        "understudy_cluster_members{state=\"dead\"} 1",
        "understudy_zone_fleet_serial{zone=\"example.com.\"} 7",
        "understudy_zone_fleet_lag_seconds{zone=\"example.com.\"} 0",
        "understudy_transfers_by_source_total{result=\"ok\",source=\"peer\"} 1",
        "understudy_transfers_by_source_total{result=\"failed\",source=\"primary\"} 1",
        "understudy_peer_bytes_total{direction=\"received\"} 4096",
        "understudy_peer_confirms_total{result=\"ok\"} 2",
        "understudy_gossip_datagrams_rejected_total{reason=\"replayed\"} 3",
        "understudy_gossip_datagrams_total{direction=\"received\"} 10",
        "understudy_quic_bytes_total{direction=\"sent\"} 500",
        "understudy_quic_connections_total{result=\"refused\"} 1",
        "# TYPE understudy_peer_bytes_total counter",
        "# HELP understudy_healthy ",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    run(&fixture.monitor, 1..4);
    let text = metrics.render();
    assert!(text.contains("understudy_healthy 1"), "{text}");
    assert!(text.contains("understudy_health_reason{reason=\"starting\"} 0"));
}

#[test]
fn health_alert_rules_name_only_metrics_the_node_exports() {
    let fixture = fixture("health-rules", Some("prod"));
    let views = Arc::clone(&fixture.views);
    let metrics = Metrics::new(Box::new(move || views.lock().unwrap().clone())).unwrap();
    let sampled = Arc::clone(&fixture.monitor);
    metrics
        .watch_cluster(
            Box::new(move || sampled.sample()),
            Arc::clone(&fixture.cluster),
        )
        .unwrap();
    metrics
        .transport()
        .attach_gossip(Box::new(GossipCounters::default));
    let exported: Vec<String> = metrics
        .render()
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_owned)
        .collect();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/prometheus/understudy.rules.yml");
    let rules = std::fs::read_to_string(path).unwrap();
    let mut named = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("understudy_") {
            named += 1;
            assert!(
                exported.iter().any(|name| name == word),
                "{word} is not exported; exported: {exported:?}"
            );
        }
    }
    assert!(named >= 8, "the rules name {named} metrics");
}
