//! A 100k-name zone (the benchmark generator's) from a Knot primary: the
//! first transfer, a change served through IXFR after NOTIFY, and a restart
//! with the primary stopped serving from disk. Bounds are loose for shared
//! CI cores; the data checks are exact.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use understudy_e2e::dig::dig;
use understudy_e2e::env::{TestDir, shared_dir};
use understudy_e2e::interop::node_addr;
use understudy_e2e::process::run_ok;
use understudy_e2e::servers::{self, ServerSpec};
use understudy_e2e::understudy::status_zone;
use understudy_e2e::{Config, Understudy, ZoneConfig};

const BIG: &str = "big.test.";
const FIRST_TRANSFER: Duration = Duration::from_secs(180);
const CHANGE_BOUND: Duration = Duration::from_secs(10);
const FROM_DISK_BOUND: Duration = Duration::from_secs(10);

fn generate(dir: &TestDir, serial: u32) -> String {
    let out = dir.join(&format!("big-{serial}.zone"));
    let mut command = Command::new("python3");
    command
        .arg(shared_dir().join("bench/gen_zone.py"))
        .args(["--names", "100000", "--origin", BIG, "--serial"])
        .arg(serial.to_string())
        .arg("--out")
        .arg(&out);
    run_ok(command);
    std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("cannot read {}: {e}", out.display()))
}

/// (owner, address) of every 997th A record outside delegations.
fn sample_addresses(text: &str) -> Vec<(String, String)> {
    let records: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| !l.starts_with(';'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let apex = BIG.to_string();
    let cuts: BTreeSet<String> = records
        .iter()
        .filter(|r| r.get(3) == Some(&"NS") && r[0] != apex)
        .map(|r| r[0].to_ascii_lowercase())
        .collect();
    let below_cut = |owner: &str| {
        let owner = owner.to_ascii_lowercase();
        let mut suffix = owner.as_str();
        loop {
            if cuts.contains(suffix) {
                return true;
            }
            match suffix.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => suffix = parent,
                _ => return false,
            }
        }
    };
    records
        .iter()
        .filter(|r| r.get(3) == Some(&"A") && !below_cut(r[0]))
        .step_by(997)
        .map(|r| (r[0].to_string(), r[4].to_string()))
        .collect()
}

fn assert_serves(node: &Understudy, samples: &[(String, String)], serial: u32) {
    let sentinel = dig(node.addr(), &["zzzz-sentinel.big.test.", "TXT"]);
    assert_eq!(
        sentinel.answers_of("TXT")[0].rdata,
        format!("\"serial={serial}\"")
    );
    for (owner, address) in samples {
        let answer = dig(node.addr(), &[owner, "A"]);
        assert!(answer.has_flag("aa"), "{}", answer.text);
        assert!(
            answer.answers_of("A").iter().any(|r| &r.rdata == address),
            "{owner} should have A {address}:\n{}",
            answer.text
        );
    }
}

#[test]
fn big_zone_first_transfer_ixfr_after_notify_and_restart_from_disk() {
    let dir = TestDir::new("big-zone");
    let first = generate(&dir, 1);
    let second = generate(&dir, 2);
    let samples = sample_addresses(&first);
    assert!(samples.len() > 50);

    let config = Config::new("big").zone(ZoneConfig::new(BIG, &[]));
    let mut primary = servers::knot(
        ServerSpec::new()
            .primary_zone(BIG, &first)
            .ixfr()
            .notify(node_addr(&config)),
    );
    let mut config = config;
    config.zones = vec![ZoneConfig::new(BIG, &[primary.addr()])];
    let start = Instant::now();
    let mut node = Understudy::start(config);
    let took = node.wait_serial(BIG, 1, FIRST_TRANSFER);
    eprintln!(
        "first transfer of 140k records served after {took:?} ({:?} with start-up)",
        start.elapsed()
    );
    assert_serves(&node, &samples, 1);

    let outgoing = |primary: &understudy_e2e::Server| -> Vec<String> {
        primary
            .log()
            .lines()
            .filter(|l| l.contains("XFR, outgoing") && l.contains("started"))
            .map(str::to_string)
            .collect()
    };
    let before = outgoing(&primary).len();
    primary.update_zone(BIG, &second);
    let took = node.wait_serial(BIG, 2, CHANGE_BOUND);
    eprintln!("change served {took:?} after the primary's reload returned");
    let transfers = outgoing(&primary);
    let new = &transfers[before..];
    assert!(
        !new.is_empty() && new.iter().all(|l| l.contains("IXFR, outgoing")),
        "the change must travel by IXFR: {new:#?}"
    );
    assert_serves(&node, &samples, 2);
    let metrics = node.metrics();
    let ixfr = metrics.sum(
        "understudy_transfers_total",
        &[("kind", "ixfr"), ("result", "ok")],
    );
    assert!(ixfr >= 1.0, "the node counts no IXFR:\n{}", metrics.text);
    assert_eq!(
        metrics.value("understudy_zone_serial", &[("zone", BIG)]),
        Some(2.0)
    );
    if let Some(entry) = node
        .zone_statuses()
        .into_iter()
        .find(|e| status_zone(e) == Some(BIG))
    {
        let ixfr = entry
            .pointer("/transfers/ixfr")
            .and_then(serde_json::Value::as_u64);
        assert!(
            ixfr.is_none_or(|n| n >= 1),
            "status counts no IXFR: {entry}"
        );
    }

    assert!(node.stop(), "SIGTERM should end the node cleanly");
    primary.stop();
    let start = Instant::now();
    node.restart();
    node.wait_serial(BIG, 2, FROM_DISK_BOUND);
    eprintln!(
        "restart with the primary stopped: serving from disk after {:?}",
        start.elapsed()
    );
    assert_serves(&node, &samples, 2);
}
