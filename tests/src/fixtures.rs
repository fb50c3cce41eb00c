//! The fixture zones of `tests/zones/` served by real servers, and their
//! query lists.

use std::net::SocketAddr;
use std::time::Duration;

use crate::env::{fixture_zones, zones_dir};
use crate::query::{Query, load};
use crate::servers::{self, Server, ServerSpec};

/// Zones Knot refuses to load (its mandatory semantic checks reject CNAME
/// and DNAME loops), so only NSD can serve as their oracle.
pub const KNOT_REFUSES: &[&str] = &["loops.test."];

/// NSID, CHAOS identity and version every oracle and node is given, so that
/// CHAOS answers are comparable.
pub const IDENTITY: &str = "e2e";

/// How long a secondary may take to transfer every fixture zone.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(60);

/// Origins of every fixture zone.
pub fn origins() -> Vec<String> {
    fixture_zones()
        .into_iter()
        .map(|(origin, _)| origin)
        .collect()
}

/// The serial a fixture zone's file declares.
pub fn serial(origin: &str) -> u32 {
    let zones = fixture_zones();
    let text = zones
        .iter()
        .find(|(o, _)| o == origin)
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("no fixture zone {origin}"));
    text.lines()
        .find_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "SOA")?;
            words.get(at + 3)?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no serial in fixture {origin}"))
}

/// An NSD primary serving every fixture zone, with the common identity.
pub fn nsd_primary(notify: &[SocketAddr]) -> Server {
    let mut spec = ServerSpec::new().identity(IDENTITY).ipv6();
    for (origin, text) in fixture_zones() {
        spec = spec.primary_zone(&origin, &text);
    }
    for target in notify {
        spec = spec.notify(*target);
    }
    servers::nsd(spec)
}

/// A Knot secondary of `primary` for every fixture zone Knot accepts,
/// waited for until it serves them all.
pub fn knot_secondary(primary: &Server) -> Server {
    let mut spec = ServerSpec::new().identity(IDENTITY).ipv6();
    let origins: Vec<String> = origins()
        .into_iter()
        .filter(|o| !KNOT_REFUSES.contains(&o.as_str()))
        .collect();
    for origin in &origins {
        spec = spec.secondary_zone(origin, &[primary.addr()]);
    }
    let knot = servers::knot(spec);
    for origin in &origins {
        knot.wait_serial(origin, serial(origin), TRANSFER_TIMEOUT);
    }
    knot
}

/// The query list of one fixture zone (`wildcard.test.` →
/// `wildcard.test.queries`), or `general.queries` for `"general"`.
pub fn queries(list: &str) -> Vec<Query> {
    let file = if list == "general" {
        "general.queries".to_string()
    } else {
        format!("{}queries", list)
    };
    load(&zones_dir().join(file))
}
