use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::*;
use crate::control::{TimePoint, TransferCounts, ZoneState, ZoneStatusView};

fn view(zone: &str, state: ZoneState, serial: u32) -> ZoneStatusView {
    ZoneStatusView {
        zone: zone.into(),
        state,
        epoch: 1,
        serial: Some(serial),
        primary_serial: Some(serial),
        last_refresh: None,
        last_result: None,
        next_refresh: None,
        expires_at: Some(TimePoint::from_unix(1_800_000_000, 1_700_000_000)),
        last_error: None,
        last_primary: None,
        source: None,
        verified_age_seconds: Some(42),
        records: 10,
        bytes: 2048,
        transfers: TransferCounts::default(),
    }
}

type Zones = Arc<Mutex<Vec<ZoneStatusView>>>;

fn metrics(zones: &Zones) -> Arc<Metrics> {
    let source = Arc::clone(zones);
    Arc::new(Metrics::new(Box::new(move || source.lock().unwrap().clone())).unwrap())
}

/// A scrape parsed: HELP and TYPE per family, samples by series.
struct Scrape {
    help: HashMap<String, usize>,
    types: HashMap<String, String>,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape {
            help: HashMap::new(),
            types: HashMap::new(),
            samples: BTreeMap::new(),
        };
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap();
                assert!(!help.trim().is_empty(), "{name} has no help text");
                *scrape.help.entry(name.to_owned()).or_default() += 1;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                let previous = scrape.types.insert(name.to_owned(), kind.to_owned());
                assert!(previous.is_none(), "TYPE of {name} given twice");
            } else if !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let value: f64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("bad sample: {line}"));
                assert!(
                    scrape.samples.insert(series.to_owned(), value).is_none(),
                    "{series} twice"
                );
            }
        }
        scrape
    }

    fn value(&self, series: &str) -> Option<f64> {
        self.samples.get(series).copied()
    }
}

async fn get(address: std::net::SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

struct Listener {
    address: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
}

async fn listen(metrics: Arc<Metrics>, health: HealthCheck) -> Listener {
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(server.serve(metrics, health, async {
        let _ = stopped.await;
    }));
    Listener { address, stop }
}

#[tokio::test]
async fn metrics_scrape_over_http_parses_with_every_family_once() {
    let zones: Zones = Arc::new(Mutex::new(vec![
        view("a.example.", ZoneState::Ok, 7),
        view("b.example.", ZoneState::SerialRegressed, 9),
    ]));
    let metrics = metrics(&zones);
    let mut worker = metrics.query_counter();
    worker.answered(Protocol::Udp, 0);
    worker.answered(Protocol::Udp, 3);
    metrics.shared_query_counter().answered(Protocol::Tcp, 0);
    metrics.transfer(TransferKind::Ixfr, TransferResult::Fallback);
    metrics.transfer(TransferKind::Axfr, TransferResult::Ok);
    metrics.notify(NotifyResult::Refused);
    metrics.refresh_check(RefreshResult::UpToDate);
    metrics.xfr_out(TransferKind::Axfr, XfrOutResult::Refused);
    let listener = listen(Arc::clone(&metrics), Box::new(|| Health::Healthy)).await;

    let (status, head, body) = get(
        listener.address,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(head.contains(&format!("Content-Length: {}", body.len())));
    let scrape = Scrape::parse(&body);
    for (name, count) in &scrape.help {
        assert_eq!(*count, 1, "{name}");
        assert!(name.starts_with("understudy_"), "{name}");
        if scrape.types[name] == "counter" {
            assert!(name.ends_with("_total"), "{name}");
        }
    }
    let expected = [
        ("understudy_up", 1.0),
        (
            "understudy_queries_total{protocol=\"udp\",rcode=\"NOERROR\"}",
            1.0,
        ),
        (
            "understudy_queries_total{protocol=\"udp\",rcode=\"NXDOMAIN\"}",
            1.0,
        ),
        (
            "understudy_queries_total{protocol=\"tcp\",rcode=\"NOERROR\"}",
            1.0,
        ),
        ("understudy_zone_serial{zone=\"a.example.\"}", 7.0),
        ("understudy_zone_epoch{zone=\"b.example.\"}", 1.0),
        (
            "understudy_zone_state{state=\"ok\",zone=\"a.example.\"}",
            1.0,
        ),
        (
            "understudy_zone_state{state=\"expired\",zone=\"a.example.\"}",
            0.0,
        ),
        (
            "understudy_zone_state{state=\"serial-regressed\",zone=\"b.example.\"}",
            1.0,
        ),
        ("understudy_zone_serial_regressed{zone=\"b.example.\"}", 1.0),
        ("understudy_zone_serial_regressed{zone=\"a.example.\"}", 0.0),
        (
            "understudy_zone_expiry_timestamp_seconds{zone=\"a.example.\"}",
            1.8e9,
        ),
        (
            "understudy_zone_verified_age_seconds{zone=\"a.example.\"}",
            42.0,
        ),
        ("understudy_zone_size_bytes{zone=\"a.example.\"}", 2048.0),
        ("understudy_zones{state=\"ok\"}", 1.0),
        ("understudy_zones{state=\"serial-regressed\"}", 1.0),
        ("understudy_zones{state=\"expired\"}", 0.0),
        (
            "understudy_transfers_total{kind=\"ixfr\",result=\"fallback\"}",
            1.0,
        ),
        (
            "understudy_transfers_total{kind=\"axfr\",result=\"ok\"}",
            1.0,
        ),
        (
            "understudy_transfers_total{kind=\"axfr\",result=\"error\"}",
            0.0,
        ),
        ("understudy_notify_received_total{result=\"refused\"}", 1.0),
        (
            "understudy_refresh_checks_total{result=\"up-to-date\"}",
            1.0,
        ),
        (
            "understudy_xfr_out_total{kind=\"axfr\",result=\"refused\"}",
            1.0,
        ),
    ];
    for (series, value) in expected {
        assert_eq!(scrape.value(series), Some(value), "{series}\n{body}");
    }
    assert!(
        scrape
            .samples
            .keys()
            .any(|series| series.starts_with("understudy_build_info{version="))
    );
    let _ = listener.stop.send(());
}

#[tokio::test]
async fn metrics_of_a_removed_zone_disappear() {
    let zones: Zones = Arc::new(Mutex::new(vec![
        view("a.example.", ZoneState::Ok, 7),
        view("gone.example.", ZoneState::Ok, 1),
    ]));
    let metrics = metrics(&zones);
    assert!(metrics.render().contains("gone.example."));
    zones
        .lock()
        .unwrap()
        .retain(|zone| zone.zone != "gone.example.");
    let text = metrics.render();
    assert!(!text.contains("gone.example."), "{text}");
    assert!(text.contains("understudy_zones{state=\"ok\"} 1"));
}

#[tokio::test]
async fn metrics_healthz_and_other_paths() {
    let zones: Zones = Arc::default();
    let healthy = Arc::new(Mutex::new(true));
    let flag = Arc::clone(&healthy);
    let health: HealthCheck = Box::new(move || {
        if *flag.lock().unwrap() {
            Health::Healthy
        } else {
            Health::Unhealthy("zone a.example. expired".into())
        }
    });
    let listener = listen(metrics(&zones), health).await;
    let address = listener.address;
    let (status, _, body) = get(address, b"GET /healthz HTTP/1.1\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (200, "healthy\n"));
    *healthy.lock().unwrap() = false;
    let (status, _, body) = get(address, b"GET /healthz?verbose=1 HTTP/1.0\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (503, "zone a.example. expired\n"));
    let (status, head, body) = get(address, b"HEAD /metrics HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, 200);
    assert!(
        body.is_empty() && !head.contains("Content-Length: 0"),
        "{head}"
    );
    assert_eq!(get(address, b"GET / HTTP/1.1\r\n\r\n").await.0, 404);
    assert_eq!(
        get(address, b"GET /metrics/x HTTP/1.1\r\n\r\n").await.0,
        404
    );
    assert_eq!(get(address, b"POST /metrics HTTP/1.1\r\n\r\n").await.0, 405);
    assert_eq!(get(address, b"garbage\r\n\r\n").await.0, 400);
    let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    huge.extend(b"\r\n\r\n");
    assert_eq!(get(address, &huge).await.0, 431);
    let _ = listener.stop.send(());
}

#[tokio::test]
async fn metrics_silent_clients_do_not_block_scrapes() {
    let zones: Zones = Arc::default();
    let listener = listen(metrics(&zones), Box::new(|| Health::Healthy)).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(listener.address).await.unwrap();
        stream.write_all(b"GET /met").await.unwrap();
        idle.push(stream);
    }
    let scrape = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        get(listener.address, b"GET /metrics HTTP/1.1\r\n\r\n"),
    )
    .await
    .expect("scrape answered while other clients stall");
    assert_eq!(scrape.0, 200);
    let _ = listener.stop.send(());
}
