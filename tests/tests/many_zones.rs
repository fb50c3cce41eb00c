//! 1,000 zones from one Knot primary: refreshes spread out under jitter,
//! and a NOTIFY is served promptly while the others keep refreshing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use understudy_e2e::interop::node_addr;
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::understudy::{status_time, status_zone};
use understudy_e2e::{Config, Understudy, ZoneConfig};

const ZONES: usize = 1000;
const ALL_LOADED: Duration = Duration::from_secs(240);

fn name(i: usize) -> String {
    format!("z{i:04}.many.test.")
}

fn zone_text(i: usize, serial: u32, refresh: u32) -> String {
    format!(
        "$ORIGIN {}\n$TTL 300\n@ SOA ns1 hostmaster {serial} {refresh} 600 86400 60\n\
         @ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.{}\n",
        name(i),
        i % 250
    )
}

fn primary(config: &Config, refresh: u32) -> Server {
    let mut spec = ServerSpec::new().notify(node_addr(config));
    for i in 0..ZONES {
        spec = spec.primary_zone(&name(i), &zone_text(i, 1, refresh));
    }
    servers::knot(spec)
}

/// Waits until every zone is served at serial 1: counted from one `ctl zone
/// status` call every two seconds (so the wait itself adds no query load),
/// then confirmed with an SOA query per zone.
fn wait_all_served(node: &Understudy) -> Duration {
    let start = Instant::now();
    loop {
        let loaded = node
            .try_zone_statuses()
            .unwrap_or_default()
            .iter()
            .filter(|s| s.get("serial").and_then(serde_json::Value::as_u64) == Some(1))
            .count();
        if loaded >= ZONES {
            break;
        }
        assert!(
            start.elapsed() < ALL_LOADED,
            "only {loaded} of {ZONES} zones loaded after {ALL_LOADED:?}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let missing: BTreeSet<String> = (0..ZONES)
        .filter(|&i| node.serial(&name(i)) != Some(1))
        .map(name)
        .collect();
    assert!(
        missing.is_empty(),
        "status says loaded, but not served: {missing:?}"
    );
    start.elapsed()
}

#[test]
fn refreshes_of_a_thousand_zones_spread_under_jitter() {
    const REFRESH: i64 = 3600;
    let mut config = Config::new("many").zone_default("jitter", "0.2");
    let primary = primary(&config, REFRESH as u32);
    for i in 0..ZONES {
        config = config.zone(ZoneConfig::new(&name(i), &[primary.addr()]));
    }
    let node = Understudy::start(config);
    eprintln!("{ZONES} zones served after {:?}", wait_all_served(&node));

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut next: BTreeMap<String, i64> = BTreeMap::new();
    for entry in node.zone_statuses() {
        if let (Some(zone), Some(at)) = (status_zone(&entry), status_time(&entry, "next_refresh")) {
            next.insert(zone.to_string(), at);
        }
    }
    assert!(
        next.len() >= ZONES,
        "next refresh known for only {} zones",
        next.len()
    );
    for (zone, at) in &next {
        let from_now = at - now;
        assert!(
            (REFRESH / 2..=REFRESH * 5 / 4).contains(&from_now),
            "{zone}: next refresh in {from_now} s for an SOA refresh of {REFRESH} s"
        );
    }
    let earliest = next.values().min().copied().unwrap_or_default();
    let latest = next.values().max().copied().unwrap_or_default();
    assert!(
        latest - earliest >= REFRESH / 20,
        "refreshes within {} s of each other: no jitter",
        latest - earliest
    );
    let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
    for at in next.values() {
        *per_second.entry(*at).or_default() += 1;
    }
    let busiest = per_second.values().max().copied().unwrap_or_default();
    assert!(
        busiest <= ZONES / 20,
        "{busiest} zones refresh in the same second"
    );
}

#[test]
fn notify_served_promptly_while_a_thousand_zones_refresh() {
    // Every zone refreshes every 20 s (about 50 SOA checks a second); the
    // notified zone's own refresh is an hour away, so only NOTIFY can
    // explain a prompt update.
    const NOTIFIED: usize = 500;
    let mut config = Config::new("many-notify")
        .zone_default("refresh_min", "\"20s\"")
        .zone_default("jitter", "0.2");
    let mut primary = primary(&config, 20);
    for i in 0..ZONES {
        let mut zone = ZoneConfig::new(&name(i), &[primary.addr()]);
        if i == NOTIFIED {
            zone = zone.set("refresh_min", "\"1h\"");
        }
        config = config.zone(zone);
    }
    let node = Understudy::start(config);
    wait_all_served(&node);
    std::thread::sleep(Duration::from_secs(5));

    let mut changed = zone_text(NOTIFIED, 2, 20);
    changed.push_str("new A 192.0.2.222\n");
    let start = Instant::now();
    primary.update_zone(&name(NOTIFIED), &changed);
    let took = node.wait_serial(&name(NOTIFIED), 2, Duration::from_secs(10));
    eprintln!(
        "NOTIFY served after {:?} (reload included: {:?})",
        took,
        start.elapsed()
    );
    assert!(node.serial(&name(NOTIFIED - 1)) == Some(1));
}
