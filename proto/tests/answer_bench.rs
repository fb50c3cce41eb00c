//! Micro-benchmark of the answer function on the 100k-name benchmark zone
//! (not a test: ignored by default). Run with
//! `cargo test --release -p understudy-proto --test answer_bench -- --ignored --nocapture`
//! (`ANSWER_BENCH_NAMES=700000` for a zone of about a million records).

mod answer_support;

use std::time::Instant;

use answer_support::{bench_zone, fake_sign, name, query};
use understudy_proto::answer::{Outcome, Responder, Transport};
use understudy_proto::zone::Snapshot;

const NAMES: usize = 100_000;
const QUERIES: usize = 100_000;
const ROUNDS: usize = 5;

#[test]
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark reads the wall clock"
)]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn answer_ns_per_query() {
    let names = std::env::var("ANSWER_BENCH_NAMES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(NAMES);
    let queries = std::env::var("ANSWER_BENCH_QUERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(QUERIES);
    let (records, mix) = bench_zone(names, queries);
    let origin = name("bench.test.");
    let started = Instant::now();
    let plain = Snapshot::build(&origin, records.clone()).unwrap();
    println!(
        "build: {} records in {:?}, {} bytes",
        plain.record_count(),
        started.elapsed(),
        plain.as_bytes().len()
    );
    let started = Instant::now();
    let loaded = Snapshot::from_bytes(plain.as_bytes().to_vec()).unwrap();
    println!("from_bytes: {:?}", started.elapsed());
    let signed = Snapshot::build(&origin, fake_sign(&origin, records)).unwrap();
    let plain_packets: Vec<Vec<u8>> = mix
        .iter()
        .map(|(q, t)| query(1, q, *t, Some((1232, false))))
        .collect();
    let classic: Vec<Vec<u8>> = mix.iter().map(|(q, t)| query(1, q, *t, None)).collect();
    let do_packets: Vec<Vec<u8>> = mix
        .iter()
        .map(|(q, t)| query(1, q, *t, Some((1232, true))))
        .collect();
    let hot: Vec<Vec<u8>> = plain_packets
        .iter()
        .take(1000)
        .cycle()
        .take(queries)
        .cloned()
        .collect();
    if std::env::var_os("ANSWER_BENCH_HOT_ONLY").is_some() {
        for _ in 0..20 {
            measure("plain zone, EDNS, 1000 hot names", &loaded, &hot);
        }
        return;
    }
    measure("plain zone, EDNS", &loaded, &plain_packets);
    measure("plain zone, no EDNS", &loaded, &classic);
    measure("signed zone (NSEC), DO=1", &signed, &do_packets);
    // The same 1000 queries over and over: the zone data they touch stays
    // in cache, which shows the cost of the code rather than of memory.
    let hot: Vec<Vec<u8>> = plain_packets
        .iter()
        .take(1000)
        .cycle()
        .take(queries)
        .cloned()
        .collect();
    measure("plain zone, EDNS, 1000 hot names", &loaded, &hot);
}

#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark reads the wall clock"
)]
fn measure(label: &str, zone: &Snapshot, packets: &[Vec<u8>]) {
    // One contiguous buffer, as packets sit in a server's receive ring.
    let mut ring = Vec::new();
    let mut spans = Vec::with_capacity(packets.len());
    for packet in packets {
        spans.push((ring.len(), packet.len()));
        ring.extend_from_slice(packet);
    }
    let responder = Responder::default();
    let mut out = [0u8; 1232];
    let mut bytes = 0usize;
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for &(start, len) in &spans {
            let packet = &ring[start..start + len];
            if let Outcome::Reply { len, .. } =
                responder.respond(zone, packet, Transport::Udp, &mut out)
            {
                bytes += len;
            }
        }
        let per_query = started.elapsed().as_nanos() as f64 / packets.len() as f64;
        best = best.min(per_query);
    }
    println!(
        "{label}: {best:.0} ns/query (best of {ROUNDS} x {} queries; {bytes} bytes out)",
        packets.len()
    );
}
