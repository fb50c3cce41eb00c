//! The peer protocol between two real endpoints on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use understudy_proto::replicate::PeerFailure;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::cluster::{
    FetchRequest, HEAD_PREFIX_LEN, HIGHEST_VERSION, LOWEST_VERSION, MAX_REQUEST_LEN, Request,
    Response, encode_diffs, head_len,
};
use understudy_proto::zone::LoadError;

use super::testing::{Pair, Zones, name, zone_data};
use super::{ClientSettings, FetchKind, PeerError};
use crate::cluster::{ClusterStream, RequestHandler};
use crate::manager::zone::ZoneData;

const HOSTS: u32 = 3000;

fn zones_serving(epoch: u32, data: Arc<ZoneData>) -> Arc<Zones> {
    let zones = Arc::new(Zones::default());
    zones.serve(epoch, data, Some(Duration::from_millis(1500)));
    zones
}

#[tokio::test]
async fn confirm_answers_a_held_zone_and_refuses_another() {
    let data = zone_data(7, 10, 7);
    let pair = Pair::serving(zones_serving(2, data.clone()), 4).await;

    let held = pair
        .client
        .confirm(&pair.server, &name("EXAMPLE.com."))
        .await;
    let held = held.unwrap();
    assert_eq!(held.version, ZoneVersion::new(2, 7));
    assert_eq!(held.digest, data.snapshot.digest());
    assert_eq!(held.confirmed_age, Some(Duration::from_millis(1500)));

    let other = pair
        .client
        .confirm(&pair.server, &name("example.org."))
        .await;
    let error = other.unwrap_err();
    assert!(matches!(error, PeerError::NotHeld), "{error}");
    assert_eq!(error.failure(), PeerFailure::Refused);
    pair.close().await;
}

#[tokio::test]
async fn fetch_without_a_version_gets_the_full_snapshot_verified() {
    let data = zone_data(5, HOSTS, 5);
    let pair = Pair::serving(zones_serving(0, data.clone()), 4).await;

    let fetched = pair
        .client
        .fetch(
            &pair.server,
            &name("example.com."),
            ZoneVersion::new(0, 5),
            None,
        )
        .await
        .unwrap();
    assert_eq!(fetched.kind, FetchKind::Full);
    assert_eq!(fetched.version, ZoneVersion::new(0, 5));
    assert_eq!(fetched.snapshot.digest(), data.snapshot.digest());
    assert_eq!(fetched.snapshot.record_count(), HOSTS as usize + 3);
    assert_eq!(fetched.bytes, data.snapshot.as_bytes().len() as u64);
    assert!(fetched.diffs.is_none());
    assert_eq!(fetched.confirmed_age, Some(Duration::from_millis(1500)));
    pair.close().await;
}

#[tokio::test]
async fn fetch_gets_diffs_when_the_journal_reaches_the_version_held() {
    let server_data = zone_data(9, HOSTS, 2);
    let pair = Pair::serving(zones_serving(1, server_data.clone()), 4).await;
    let have = zone_data(4, HOSTS, 4);

    // The peer sends what it serves (9), newer than the version wanted.
    let fetched = pair
        .client
        .fetch(
            &pair.server,
            &name("example.com."),
            ZoneVersion::new(1, 6),
            Some((ZoneVersion::new(1, 4), have)),
        )
        .await
        .unwrap();
    assert_eq!(fetched.kind, FetchKind::Diffs);
    assert_eq!(fetched.version, ZoneVersion::new(1, 9));
    assert_eq!(fetched.snapshot.digest(), server_data.snapshot.digest());
    let diffs = fetched.diffs.unwrap();
    let serials: Vec<(u32, u32)> = diffs.iter().map(|diff| (diff.from, diff.to)).collect();
    assert_eq!(serials, [(4, 5), (5, 6), (6, 7), (7, 8), (8, 9)]);
    assert!(fetched.bytes < server_data.snapshot.as_bytes().len() as u64 / 10);
    pair.close().await;
}

#[tokio::test]
async fn fetch_gets_the_snapshot_when_the_journal_or_epoch_does_not_match() {
    let server_data = zone_data(9, HOSTS, 6);
    let pair = Pair::serving(zones_serving(1, server_data.clone()), 4).await;
    let zone = name("example.com.");
    let want = ZoneVersion::new(1, 9);

    // The journal starts at 6: serial 4 is out of its reach.
    let have = Some((ZoneVersion::new(1, 4), zone_data(4, HOSTS, 4)));
    let fetched = pair.client.fetch(&pair.server, &zone, want, have).await;
    let fetched = fetched.unwrap();
    assert_eq!(fetched.kind, FetchKind::Full);
    assert_eq!(fetched.snapshot.digest(), server_data.snapshot.digest());

    // Serial 7 is in reach, but in an older epoch.
    let have = Some((ZoneVersion::new(0, 7), zone_data(7, HOSTS, 7)));
    let fetched = pair.client.fetch(&pair.server, &zone, want, have).await;
    assert_eq!(fetched.unwrap().kind, FetchKind::Full);
    pair.close().await;
}

#[tokio::test]
async fn fetch_of_a_version_newer_than_served_is_refused() {
    let pair = Pair::serving(zones_serving(0, zone_data(3, 10, 3)), 4).await;
    let zone = name("example.com.");
    let fetched = pair
        .client
        .fetch(&pair.server, &zone, ZoneVersion::new(0, 4), None)
        .await;
    let error = fetched.unwrap_err();
    assert!(matches!(error, PeerError::NotHeld), "{error}");
    assert_eq!(error.failure(), PeerFailure::Refused);
    pair.close().await;
}

#[tokio::test]
async fn fetches_beyond_the_transfer_bound_are_told_busy() {
    let pair = Pair::serving(zones_serving(0, zone_data(3, 10, 3)), 0).await;
    let zone = name("example.com.");
    let error = pair
        .client
        .fetch(&pair.server, &zone, ZoneVersion::new(0, 3), None)
        .await
        .unwrap_err();
    assert!(matches!(error, PeerError::Busy), "{error}");
    assert_eq!(error.failure(), PeerFailure::Network);
    // Confirmations are not transfers and are still answered.
    assert!(pair.client.confirm(&pair.server, &zone).await.is_ok());
    pair.close().await;
}

#[tokio::test]
async fn zone_list_bytes_arrive_unchanged() {
    let zones = Zones {
        list: (0..200_000u32).map(|i| i as u8).collect(),
        ..Zones::default()
    };
    let list = zones.list.clone();
    let pair = Pair::serving(Arc::new(zones), 4).await;
    assert_eq!(pair.client.zone_list(&pair.server).await.unwrap(), list);
    pair.close().await;
}

#[tokio::test]
async fn a_snapshot_longer_than_the_limit_is_refused_before_reading() {
    let data = zone_data(3, HOSTS, 3);
    let server = Arc::new(super::PeerServer::new(zones_serving(0, data.clone()), 4));
    let mut settings = ClientSettings::default();
    settings.limits.max_snapshot_len = data.snapshot.as_bytes().len() as u64 - 1;
    let pair = Pair::new(server, settings).await;
    let error = pair
        .client
        .fetch(
            &pair.server,
            &name("example.com."),
            ZoneVersion::new(0, 3),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, PeerError::TooLarge(_)), "{error}");
    assert_eq!(error.failure(), PeerFailure::Local);
    pair.close().await;
}

/// What a faulty peer does instead of answering properly.
#[derive(Clone, Copy)]
enum Fault {
    /// Sends the snapshot with one byte of its body changed.
    FlippedSnapshot,
    /// Sends the true diffs with another digest after them.
    WrongDigestAfter,
    /// Sends the snapshot of another serial than announced.
    WrongSerial,
    /// Sends the true snapshot at about 20 KiB/s.
    Trickle,
    /// Reads the request and never answers.
    Stall,
}

fn snapshot_head(version: ZoneVersion, bytes: &[u8]) -> Response {
    Response::Snapshot {
        version,
        confirmed_age: None,
        length: bytes.len() as u64,
    }
}

struct Faulty {
    fault: Fault,
    data: Arc<ZoneData>,
}

impl RequestHandler for Faulty {
    async fn handle(&self, mut stream: ClusterStream) {
        let Ok(request) = stream.read_to_end(MAX_REQUEST_LEN).await else {
            return;
        };
        let Ok((version, Request::Fetch(fetch))) = Request::decode(&request) else {
            return;
        };
        let snapshot = &self.data.snapshot;
        let to = ZoneVersion::new(0, snapshot.serial());
        let (head, payload) = match self.fault {
            Fault::FlippedSnapshot => {
                let mut bytes = snapshot.as_bytes().to_vec();
                let last = bytes.len() - 1;
                bytes[last] ^= 0x40;
                (snapshot_head(to, &bytes), bytes)
            }
            Fault::WrongSerial => {
                let announced = ZoneVersion::new(0, snapshot.serial() + 1);
                let bytes = snapshot.as_bytes().to_vec();
                (snapshot_head(announced, &bytes), bytes)
            }
            Fault::Trickle => {
                let bytes = snapshot.as_bytes();
                let head = snapshot_head(to, bytes).encode(version);
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                for chunk in bytes.chunks(1024) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if stream.write_all(chunk).await.is_err() {
                        return;
                    }
                }
                let _ = stream.finish();
                return;
            }
            Fault::WrongDigestAfter => {
                let have = fetch.have.map_or(0, |(have, _)| have.serial.0);
                let diffs = self.data.journal.diffs_since(have).unwrap_or_default();
                let payload = encode_diffs(&diffs);
                let head = Response::Diffs {
                    to,
                    digest_after: [7; 32],
                    confirmed_age: None,
                    length: payload.len() as u64,
                };
                (head, payload)
            }
            Fault::Stall => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            }
        };
        if stream.write_all(&head.encode(version)).await.is_ok()
            && stream.write_all(&payload).await.is_ok()
        {
            let _ = stream.finish();
        }
    }
}

async fn fetch_from_faulty(fault: Fault, settings: ClientSettings) -> (PeerError, Duration) {
    let data = zone_data(6, HOSTS, 2);
    let pair = Pair::new(Arc::new(Faulty { fault, data }), settings).await;
    let have = Some((ZoneVersion::new(0, 3), zone_data(3, HOSTS, 3)));
    let started = Instant::now();
    let fetched = pair
        .client
        .fetch(
            &pair.server,
            &name("example.com."),
            ZoneVersion::new(0, 6),
            have,
        )
        .await;
    let elapsed = started.elapsed();
    pair.close().await;
    (fetched.unwrap_err(), elapsed)
}

#[tokio::test]
async fn a_corrupted_snapshot_is_rejected_as_corrupt() {
    let (error, _) = fetch_from_faulty(Fault::FlippedSnapshot, ClientSettings::default()).await;
    assert!(
        matches!(error, PeerError::Snapshot(LoadError::DigestMismatch)),
        "{error}"
    );
    assert_eq!(error.failure(), PeerFailure::Corrupt);
}

#[tokio::test]
async fn a_snapshot_of_another_serial_than_announced_is_corrupt() {
    let (error, _) = fetch_from_faulty(Fault::WrongSerial, ClientSettings::default()).await;
    assert!(matches!(error, PeerError::Mismatch { .. }), "{error}");
    assert_eq!(error.failure(), PeerFailure::Corrupt);
}

#[tokio::test]
async fn diffs_that_do_not_rebuild_the_announced_digest_are_corrupt() {
    let (error, _) = fetch_from_faulty(Fault::WrongDigestAfter, ClientSettings::default()).await;
    assert!(matches!(error, PeerError::Mismatch { .. }), "{error}");
    assert_eq!(error.failure(), PeerFailure::Corrupt);
}

#[tokio::test]
async fn a_stalled_peer_times_out_within_the_deadline() {
    let settings = ClientSettings {
        request_timeout: Duration::from_millis(400),
        ..ClientSettings::default()
    };
    let (error, elapsed) = fetch_from_faulty(Fault::Stall, settings).await;
    assert_eq!(error.failure(), PeerFailure::Timeout, "{error}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_transfer_below_the_minimum_rate_times_out() {
    let settings = ClientSettings {
        request_timeout: Duration::from_millis(300),
        min_rate: 1 << 20,
        ..ClientSettings::default()
    };
    let (error, elapsed) = fetch_from_faulty(Fault::Trickle, settings).await;
    assert!(matches!(error, PeerError::TooSlow { .. }), "{error}");
    assert_eq!(error.failure(), PeerFailure::Timeout);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn fetch_of_the_version_held_sends_no_diffs_and_verifies() {
    let data = zone_data(5, 50, 2);
    let pair = Pair::serving(zones_serving(0, data.clone()), 4).await;
    let have = Some((ZoneVersion::new(0, 5), data.clone()));
    let fetched = pair
        .client
        .fetch(
            &pair.server,
            &name("example.com."),
            ZoneVersion::new(0, 5),
            have,
        )
        .await
        .unwrap();
    assert_eq!(fetched.kind, FetchKind::Diffs);
    assert_eq!(fetched.diffs.as_deref().map(<[_]>::len), Some(0));
    assert_eq!(fetched.snapshot.digest(), data.snapshot.digest());
    pair.close().await;
}

#[tokio::test]
async fn an_unknown_version_is_answered_unsupported_and_the_client_falls_back() {
    let data = zone_data(4, 10, 4);
    let zones = zones_serving(0, data);
    let server = Arc::new(super::PeerServer::new(zones, 4));
    // A client of a newer release, offering a version this one lacks.
    let settings = ClientSettings {
        highest_version: HIGHEST_VERSION + 1,
        ..ClientSettings::default()
    };
    let pair = Pair::new(server, settings).await;

    let request = Request::ZoneList.encode(HIGHEST_VERSION + 1);
    let mut stream = pair
        .client_endpoint()
        .request(&pair.server, &request)
        .await
        .unwrap();
    let answer = stream.read_to_end(1024).await.unwrap();
    let len = head_len([answer[0], answer[1]]).unwrap();
    assert_eq!(len, answer.len() - HEAD_PREFIX_LEN);
    let (_, head) = Response::decode(&answer[HEAD_PREFIX_LEN..]).unwrap();
    assert_eq!(
        head,
        Response::Unsupported {
            lowest: LOWEST_VERSION,
            highest: HIGHEST_VERSION
        }
    );

    let confirmed = pair
        .client
        .confirm(&pair.server, &name("example.com."))
        .await;
    assert_eq!(confirmed.unwrap().version, ZoneVersion::new(0, 4));
    // The version is remembered: the next request needs no retry.
    let sent = pair.client_endpoint().counters().requests_sent;
    assert!(
        pair.client
            .confirm(&pair.server, &name("example.com."))
            .await
            .is_ok()
    );
    assert_eq!(pair.client_endpoint().counters().requests_sent, sent + 1);
    pair.close().await;
}

#[tokio::test]
async fn malformed_and_oversized_requests_are_reset() {
    let pair = Pair::serving(Arc::new(Zones::default()), 4).await;
    let oversized = vec![0u8; MAX_REQUEST_LEN + 1];
    for request in [&b"GET / HTTP/1.1\r\n\r\n"[..], &oversized] {
        let mut stream = pair
            .client_endpoint()
            .request(&pair.server, request)
            .await
            .unwrap();
        let error = stream.read_to_end(1024).await.unwrap_err();
        let code = format!("code {}", super::STREAM_BAD_REQUEST);
        assert!(error.to_string().contains(&code), "{error}");
    }
    // The connection survives for proper requests.
    assert!(pair.client.zone_list(&pair.server).await.is_ok());
    pair.close().await;
}

/// Throughput of a full snapshot fetch, verification included, on
/// loopback. Run with `--release --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_full_fetch_of_a_100k_record_zone() {
    let data = zone_data(1, 100_000, 1);
    let pair = Pair::serving(zones_serving(0, data.clone()), 4).await;
    let zone = name("example.com.");
    let want = ZoneVersion::new(0, 1);
    // Warm the connection.
    pair.client.confirm(&pair.server, &zone).await.unwrap();
    let started = Instant::now();
    let fetched = pair
        .client
        .fetch(&pair.server, &zone, want, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(fetched.snapshot.digest(), data.snapshot.digest());
    // The transfer alone: the same request, the answer read unverified.
    let request = Request::Fetch(FetchRequest {
        zone: zone.clone(),
        want,
        have: None,
    });
    let started = Instant::now();
    let mut stream = pair
        .client_endpoint()
        .request(&pair.server, &request.encode(HIGHEST_VERSION))
        .await
        .unwrap();
    let answer = stream.read_to_end(64 << 20).await.unwrap();
    let transfer = started.elapsed();
    assert!(answer.len() as u64 > fetched.bytes);
    let verify_started = Instant::now();
    understudy_proto::zone::Snapshot::from_bytes(data.snapshot.as_bytes().to_vec()).unwrap();
    let verify = verify_started.elapsed();
    let rate = |elapsed: Duration| fetched.bytes as f64 / elapsed.as_secs_f64() / 1e6;
    println!(
        "100k records, {} bytes: fetched and verified in {elapsed:?} ({:.1} MB/s); \
         transfer alone {transfer:?} ({:.1} MB/s); verification alone {verify:?}",
        fetched.bytes,
        rate(elapsed),
        rate(transfer),
    );
    pair.close().await;
}
