//! A short live drill against real `understudy` processes: a primary, three
//! nodes in two regions, a change, a kill -9 and a restart, checked from
//! what the prober observed. Needs the `understudy` binary (built by
//! `cargo build --bins`, or `UNDERSTUDY_BIN`).

use std::time::Duration;

use understudy_sim::live::driver::{Drill, Setup};
use understudy_sim::live::observe::Outcome;
use understudy_sim::live::report::Expectations;

const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_restart_keep_serving_the_newest_serial() {
    let setup = Setup::new(vec![("north".into(), 2), ("south".into(), 1)]);
    let mut drill = Drill::start(&setup).await.expect("drill starts");
    let all = [0, 1, 2];
    assert!(
        drill.wait_serving(&all, 1, PATIENCE).await,
        "nodes load serial 1"
    );
    drill.recorder().steady();

    let serial = drill.change().unwrap();
    assert!(
        drill.wait_serving(&all, serial, PATIENCE).await,
        "NOTIFY brings serial 2"
    );
    drill.kill(&[2]).unwrap();
    assert!(
        drill.wait_silent(&[2], PATIENCE).await,
        "a killed node stops answering"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    drill.primary_down().await;
    drill.restart(&[2]).unwrap();
    assert!(
        drill.wait_serving(&[2], serial, PATIENCE).await,
        "restarted with the primary away, the node serves serial 2 from its disk"
    );
    let source = drill.wait_source(2, serial, PATIENCE).await;
    assert_eq!(
        source.as_deref(),
        Some("disk"),
        "ctl says the copy came from disk"
    );
    drill.primary_up().await.unwrap();
    let last = drill.change().unwrap();
    assert!(
        drill.wait_serving(&all, last, PATIENCE).await,
        "serial 3 everywhere"
    );

    let expect = Expectations {
        converge_within_ms: Some(PATIENCE.as_millis() as u64),
        region_availability: vec![("north".into(), 99.0)],
        max_primary_transfers_per_change: Some(3),
        final_serial_everywhere: true,
    };
    let finished = drill.finish("live-drill-test", &expect).await.unwrap();
    let report = &finished.report;
    assert!(report.passed, "{}", report.json());
    assert_eq!(report.wrong_answers, 0);
    assert_eq!(report.primary_serials, vec![1, 2, 3]);
    let south = report.regions.iter().find(|r| r.region == "south").unwrap();
    assert!(
        south.region_availability_pct < 100.0,
        "the killed region was observed down: {south:?}"
    );
    assert!(
        south.copies_from_disk >= 1,
        "ctl reported the copy loaded from disk: {south:?}"
    );
    let north = report.regions.iter().find(|r| r.region == "north").unwrap();
    assert_eq!(north.region_availability_pct, 100.0);
    assert!(north.transfers_from_primary >= 2, "{north:?}");
    let refused = finished
        .observations
        .probes
        .iter()
        .any(|p| p.node == 2 && p.outcome == Outcome::Refused);
    assert!(refused, "probes of the killed node were refused");
    assert!(finished.svg_path.is_file());
    let _ = std::fs::remove_dir_all(&setup.work);
}
