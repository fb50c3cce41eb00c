//! The scenario language: the documented example parses, mistakes are
//! reported.

use std::time::Duration;

use super::*;

/// The example in this module's documentation, without its comments.
fn documented_example() -> String {
    let doc = include_str!("mod.rs");
    let start = doc.find("//! ```toml\n").expect("example start") + "//! ```toml\n".len();
    let end = start + doc[start..].find("//! ```\n").expect("example end");
    doc[start..end]
        .lines()
        .map(|line| line.strip_prefix("//!").unwrap_or(line).trim_start())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn documented_example_parses() {
    let scenario: Scenario = documented_example().parse().unwrap();
    assert_eq!(scenario.node_count(), 5);
    assert_eq!(scenario.zones.policy, Policy::ServeStale);
    assert_eq!(scenario.zones.expire, Duration::from_secs(86_400));
    assert_eq!(scenario.gossip.fanout, 3);
    let timeline = scenario.sorted_timeline();
    assert_eq!(timeline.len(), 3);
    assert_eq!(timeline[1].action, StepAction::Change { zones: Some(20) });
    let StepAction::Partition { groups } = &timeline[0].action else {
        panic!("{:?}", timeline[0].action);
    };
    assert_eq!(
        groups[1],
        vec![Selector::Region("fra".into()), Selector::Primary]
    );
    let sin = &groups[0][0];
    assert_eq!(
        sin.resolve(&scenario).unwrap(),
        vec![
            NodeRef {
                region: 1,
                index: 0
            },
            NodeRef {
                region: 1,
                index: 1
            }
        ]
    );
    assert_eq!(scenario.expect.transfers_per_change, Some(2));
    assert_eq!(scenario.coordinates(1), [1.35, 103.82]);
}

fn with(extra: &str) -> Result<Scenario, ScenarioError> {
    format!(
        "name = \"t\"\nduration = \"1h\"\n\
         [[regions]]\nname = \"fra\"\nnodes = 2\nlocation = \"frankfurt\"\n\
         [zones]\ncount = 1\nprimary_region = \"fra\"\nrefresh = \"1m\"\nretry = \"30s\"\nexpire = \"1h\"\n{extra}"
    )
    .parse()
}

#[test]
fn mistakes_are_reported() {
    assert!(with("").is_ok());
    let unknown_key = with("[network]\nlatencies = []\n").unwrap_err();
    assert!(
        unknown_key.to_string().contains("latencies"),
        "{unknown_key}"
    );
    let unknown_region = with("[[timeline]]\nat = \"1m\"\ndo = \"crash\"\nnodes = [\"nyc\"]\n");
    assert!(matches!(unknown_region, Err(ScenarioError::UnknownTarget(name)) if name == "nyc"));
    let no_such_node = with("[[timeline]]\nat = \"1m\"\ndo = \"crash\"\nnodes = [\"fra/2\"]\n");
    assert!(matches!(no_such_node, Err(ScenarioError::UnknownTarget(_))));
    let bad_action = with("[[timeline]]\nat = \"1m\"\ndo = \"explode\"\n").unwrap_err();
    assert!(bad_action.to_string().contains("explode"), "{bad_action}");
    let bad_duration = with("[[timeline]]\nat = \"soon\"\ndo = \"heal\"\n").unwrap_err();
    assert!(bad_duration.to_string().contains("soon"), "{bad_duration}");
    let bad_loss = with("[[timeline]]\nat = \"1m\"\ndo = \"loss\"\nrate = 2.0\n");
    assert!(matches!(bad_loss, Err(ScenarioError::OutOfRange(_))));
    let extra_field = with("[[timeline]]\nat = \"1m\"\ndo = \"heal\"\nnodes = [\"fra\"]\n");
    assert!(extra_field.is_err());
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 1);
}
