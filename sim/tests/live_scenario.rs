//! Scenarios of the simulator's language run live: freezes, crashes and
//! restarts; and, as root with nftables, a true partition between regions.
//! Need the `understudy` binary (built by `cargo build --bins`, or
//! `UNDERSTUDY_BIN`).

use std::time::Duration;

use understudy_sim::live::drill::{execute, plan};
use understudy_sim::live::driver::fresh_work_dir;
use understudy_sim::live::fleet::NetworkMode;
use understudy_sim::live::namespaces::Namespaces;
use understudy_sim::live::netfilter::Partitions;
use understudy_sim::scenario::Scenario;

fn scenario(timeline: &str, expect: &str) -> Scenario {
    let text = format!(
        r#"
        name = "live-test"
        duration = "10s"
        [[regions]]
        name = "a"
        nodes = 2
        location = "frankfurt"
        [[regions]]
        name = "b"
        nodes = 1
        location = "singapore"
        [zones]
        count = 1
        primary_region = "a"
        refresh = "2s"
        retry = "1s"
        expire = "1h"
        policy = "rfc"
        {timeline}
        [expect]
        {expect}
        "#
    );
    text.parse().expect("scenario parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeze_crash_and_restart_run_live_and_pass() {
    let scenario = scenario(
        r#"
        [[timeline]]
        at = "1s"
        do = "change"
        [[timeline]]
        at = "1500ms"
        do = "freeze"
        nodes = ["b/0"]
        [[timeline]]
        at = "2500ms"
        do = "thaw"
        nodes = ["b/0"]
        [[timeline]]
        at = "3s"
        do = "crash"
        nodes = ["a/1"]
        [[timeline]]
        at = "4s"
        do = "restart"
        nodes = ["a/1"]
        [[timeline]]
        at = "4500ms"
        do = "change"
        "#,
        r#"converge = "10s"
        transfers_per_change = 3
        availability = 0.99
        may_stop_answering = ["b"]"#,
    );
    let plan = plan(&scenario, Duration::from_secs(20));
    assert_eq!(plan.factor, 1.0);
    let work = fresh_work_dir();
    let (report, svg) = execute(&scenario, &plan, work.clone(), NetworkMode::Loopback, false)
        .await
        .unwrap();
    assert!(report.passed, "{}", report.json());
    assert_eq!(report.primary_serials, vec![1, 2, 3]);
    let b = report.regions.iter().find(|r| r.region == "b").unwrap();
    assert!(
        b.region_availability_pct < 100.0,
        "the frozen node was observed silent: {b:?}"
    );
    let events: Vec<&str> = report
        .convergence
        .iter()
        .map(|c| c.event.as_str())
        .collect();
    assert!(
        events.iter().any(|e| e.starts_with("thaw b-1")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.starts_with("restart a-2")),
        "{events:?}"
    );
    assert!(std::fs::read_to_string(svg).unwrap().contains("freeze b-1"));
    let _ = std::fs::remove_dir_all(work);
}

/// Needs root and nft: a machine without them fails this test (the test
/// command installs nftables).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_region_stays_behind_until_the_heal_on_loopback() {
    Partitions::available().expect("this test needs root and nft (apt-get install nftables)");
    partition_drill(NetworkMode::Loopback).await;
}

/// Needs root, nft and ip (iproute2); fails without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_region_stays_behind_until_the_heal_in_namespaces() {
    Partitions::available().expect("this test needs root and nft (apt-get install nftables)");
    assert!(
        Namespaces::available(),
        "this test needs root and ip netns (iproute2)"
    );
    partition_drill(NetworkMode::Namespaces).await;
}

async fn partition_drill(network: NetworkMode) {
    let scenario = scenario(
        r#"
        [[timeline]]
        at = "1s"
        do = "partition"
        groups = [["b"], ["a", "primary"]]
        [[timeline]]
        at = "2s"
        do = "change"
        [[timeline]]
        at = "5s"
        do = "heal"
        "#,
        r#"converge = "10s""#,
    );
    let plan = plan(&scenario, Duration::from_secs(20));
    let work = fresh_work_dir();
    let (report, _) = execute(&scenario, &plan, work.clone(), network, false)
        .await
        .unwrap();
    assert!(report.passed, "{}", report.json());
    let change = &report.convergence[0];
    assert!(change.event.starts_with("change to serial 2"), "{change:?}");
    assert!(change.during_faults);
    let time = |region: &str| {
        change
            .regions
            .iter()
            .find(|(r, _)| r == region)
            .and_then(|(_, t)| *t)
            .unwrap()
    };
    assert!(time("a") < 2.0, "a follows at once: {change:?}");
    assert!(
        time("b") > 2.5,
        "b only after the heal 3 s later: {change:?}"
    );
    let b = report.regions.iter().find(|r| r.region == "b").unwrap();
    assert_eq!(b.worst_serials_behind, 1);
    assert!(b.longest_stale_s > 2.5, "{b:?}");
    assert_eq!(
        b.region_availability_pct, 100.0,
        "a cut-off region keeps answering: {b:?}"
    );
}

/// Every scenario of `sim/scenarios/` live, its timeline compressed into
/// 20 s (about 25 s each; partitions need root and nft). Checks what holds
/// with or without the cluster: no wrong data, every node converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: about half a minute per scenario"]
async fn every_scenario_runs_live() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let scenario = Scenario::load(&path).unwrap();
        let plan = plan(&scenario, Duration::from_secs(20));
        let network = understudy_sim::live::drill::default_network(&plan);
        let work = fresh_work_dir();
        let (report, _) = execute(&scenario, &plan, work.clone(), network, false)
            .await
            .unwrap();
        let failed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| !c.passed && !c.expectation.contains("transfers from the primary"))
            .collect();
        assert!(failed.is_empty(), "{}: {failed:?}", scenario.name);
        assert_eq!(report.wrong_answers, 0, "{}", scenario.name);
        let _ = std::fs::remove_dir_all(work);
    }
}
