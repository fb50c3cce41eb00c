//! Throughput of the transfer path on a 1,000,000-record zone. A
//! measurement, not a test: run it in release and read the figures.
//!
//! ```text
//! cargo test --release -p understudy-proto --test xfr_throughput -- --ignored --nocapture
//! ```

use std::time::Instant;

use understudy_proto::record::{Class, Rtype};
use understudy_proto::wire::{self, Message};
use understudy_proto::xfr::{
    Diff, Interpreter, Limits, Progress, Request, Transfer, apply_diffs, axfr_stream,
};
use understudy_proto::{Name, Record, Soa};

const RECORDS: usize = 1_000_000;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: name("ns1.example."),
        rname: name("hostmaster.example."),
        serial,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    Record {
        owner: name("example."),
        rtype: Rtype::SOA,
        class: Class::IN,
        ttl: 3600,
        rdata: soa.to_rdata(),
    }
}

fn zone() -> Vec<Record> {
    let mut records = vec![soa(1)];
    records.extend((0..RECORDS - 1).map(|i| Record {
        owner: name(&format!("host{i}.example.")),
        rtype: Rtype::A,
        class: Class::IN,
        ttl: 300,
        rdata: (i as u32).to_be_bytes().to_vec().into(),
    }));
    records
}

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn report(what: &str, started: Instant, count: usize) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{what:<40} {seconds:>7.3} s  {:>10.0} records/s",
        count as f64 / seconds
    );
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn one_million_record_zone() {
    let records = zone();
    let query = Message::parse(&wire::axfr_query(1, &name("example."))).unwrap();

    let started = now();
    let messages: Vec<Vec<u8>> = axfr_stream(&query, &soa(1), records.clone().into_iter())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    report("axfr_stream (build, compress)", started, RECORDS);
    let bytes: usize = messages.iter().map(Vec::len).sum();
    println!("  {} messages, {} bytes", messages.len(), bytes);

    let started = now();
    let mut interpreter = Interpreter::new(name("example."), 1, Request::Axfr, Limits::default());
    let mut transfer = None;
    for message in &messages {
        if let Progress::Done(done) = interpreter.feed_bytes(message).unwrap() {
            transfer = Some(done);
        }
    }
    report("parse + interpret AXFR", started, RECORDS);
    let Some(Transfer::Full {
        records: received, ..
    }) = transfer
    else {
        panic!("incomplete")
    };
    assert_eq!(received.len(), RECORDS);

    let mut next = received.clone();
    next[0] = soa(2);
    next[10] = Record {
        ttl: 1,
        ..next[10].clone()
    };
    next.truncate(RECORDS - 100);
    let started = now();
    let diff = Diff::between(&received, &next).unwrap();
    report("Diff::between (1M vs 1M)", started, RECORDS);

    let started = now();
    let applied = apply_diffs(received, &[diff]).unwrap();
    report("apply_diffs (1M, 102-record diff)", started, RECORDS);
    assert_eq!(applied.len(), next.len());
}
