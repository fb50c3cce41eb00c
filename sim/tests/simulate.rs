//! The simulator over the shipped scenarios: fixed seeds pass, runs are
//! reproducible, and broken replication rules are caught.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use understudy_sim::scenario::{Converge, Scenario};
use understudy_sim::simulate::{Mutant, Rule, simulate};

fn scenarios() -> Vec<(PathBuf, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut found: Vec<(PathBuf, Scenario)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let scenario = Scenario::load(&path).unwrap();
            (path, scenario)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
    Scenario::load(&path).unwrap()
}

/// Scenarios small enough for the default run (the large-scale one has
/// its own test).
fn small(scenario: &Scenario) -> bool {
    scenario.node_count() * scenario.zones.count as usize <= 10_000
}

#[test]
fn every_scenario_passes_with_a_fixed_seed() {
    let all = scenarios();
    assert!(all.len() >= 6, "{} scenarios", all.len());
    for (path, scenario) in all.iter().filter(|(_, s)| small(s)) {
        let outcome = simulate(scenario, 1, None, None).unwrap();
        assert!(
            outcome.violation.is_none(),
            "{}: {}",
            path.display(),
            outcome.render()
        );
        assert_eq!(outcome.simulated, scenario.duration, "{}", path.display());
        assert!(outcome.stats.primary_installs > 0 && outcome.events > 1_000);
    }
}

#[test]
fn the_coarse_model_runs_the_first_change_of_the_large_scenario() {
    let mut scenario = scenario("large-scale-day");
    scenario.duration = Duration::from_secs(75 * 60);
    let outcome = simulate(&scenario, 1, None, None).unwrap();
    assert!(outcome.violation.is_none(), "{}", outcome.render());
    assert_eq!(outcome.simulated_zones, 10);
    assert!(
        outcome.stats.primary_installs >= 1_000 * 10,
        "{}",
        outcome.render()
    );
    assert!(outcome.stats.peer_installs > 0, "{}", outcome.render());
}

/// `cargo test --release -p understudy-sim --test simulate -- --ignored large`
#[test]
#[ignore]
fn large_scale_day() {
    let scenario = scenario("large-scale-day");
    let outcome = simulate(&scenario, 1, None, None).unwrap();
    println!("{}", outcome.render());
    assert!(outcome.violation.is_none(), "{}", outcome.render());
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let scenario = scenario("region-partition-during-change");
    let first = simulate(&scenario, 42, None, None).unwrap();
    let again = simulate(&scenario, 42, None, None).unwrap();
    let other = simulate(&scenario, 43, None, None).unwrap();
    assert_eq!(first.trace_hash, again.trace_hash);
    assert_eq!(first.events, again.events);
    assert_ne!(first.trace_hash, other.trace_hash);
}

#[test]
fn peers_fill_in_for_the_primary() {
    let outcome = simulate(&scenario("two-thirds-peers-down"), 1, None, None).unwrap();
    assert!(outcome.violation.is_none(), "{}", outcome.render());
    assert!(outcome.stats.peer_installs > 0, "{}", outcome.render());
}

#[test]
fn installing_an_older_version_a_peer_shows_is_caught() {
    let mutant = Some(Mutant::AcceptAnyPeerVersion);
    let caught = (1..20).find_map(|seed| {
        let outcome = simulate(
            &scenario("region-partition-during-change"),
            seed,
            None,
            mutant,
        )
        .unwrap();
        outcome.violation
    });
    let violation = caught.expect("the mutant went unnoticed");
    assert_eq!(violation.rule, Rule::Regressed, "{violation}");
}

#[test]
fn peer_data_taken_without_its_digest_check_is_caught() {
    let mutant = Some(Mutant::SkipDigestCheck);
    let outcome = simulate(&scenario("two-thirds-peers-down"), 1, None, mutant).unwrap();
    let violation = outcome.violation.expect("the mutant went unnoticed");
    assert_eq!(violation.rule, Rule::Unproduced, "{violation}");
}

#[test]
fn a_convergence_bound_below_the_latencies_is_reported() {
    let mut scenario = scenario("region-partition-during-change");
    scenario.expect.converge = Converge::Within(Duration::from_millis(50));
    let outcome = simulate(&scenario, 1, None, None).unwrap();
    let violation = outcome.violation.expect("no convergence failure");
    assert_eq!(violation.rule, Rule::NotConverged, "{violation}");
}

#[test]
fn expiry_under_rfc_darkens_regions_unless_the_scenario_says_so() {
    let mut scenario = scenario("primary-outage-rfc");
    scenario.expect.may_stop_answering.clear();
    let outcome = simulate(&scenario, 1, None, None).unwrap();
    let violation = outcome.violation.expect("dark regions went unnoticed");
    assert_eq!(violation.rule, Rule::RegionDark, "{violation}");
    let expire = scenario.zones.expire.as_millis() as u64;
    // The outage starts at 10 minutes; the zones were last verified before.
    let at = violation.at.as_millis();
    assert!((expire..=600_000 + expire).contains(&at), "{violation}");
}

#[test]
fn a_transfer_bound_of_zero_is_reported() {
    let mut scenario = scenario("region-partition-during-change");
    scenario.expect.transfers_per_change = Some(0);
    let outcome = simulate(&scenario, 1, None, None).unwrap();
    let violation = outcome.violation.expect("transfers went uncounted");
    assert_eq!(violation.rule, Rule::TooManyTransfers, "{violation}");
}

/// `cargo test --release -p understudy-sim --test simulate -- --ignored`
#[test]
#[ignore]
fn sweep_a_thousand_seeds_per_scenario() {
    let seeds = 1_000_u64;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut all_failures = 0;
    for (path, scenario) in scenarios().into_iter().filter(|(_, s)| small(s)) {
        let started = Instant::now();
        let failures: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads as u64)
                .map(|worker| {
                    let scenario = &scenario;
                    scope.spawn(move || {
                        (worker..seeds)
                            .step_by(threads)
                            .filter_map(|seed| {
                                let outcome = simulate(scenario, seed, None, None).unwrap();
                                outcome.violation.is_some().then(|| outcome.render())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        println!(
            "{}: {seeds} seeds in {:.1} s, {} violations",
            scenario.name,
            started.elapsed().as_secs_f64(),
            failures.len()
        );
        for failure in &failures {
            println!("{}: {failure}", path.display());
        }
        all_failures += failures.len();
    }
    assert_eq!(all_failures, 0, "violations in the sweep (listed above)");
}
