//! The zones the query checks answer from: three zones Knot DNS served and
//! signed (`fuzz/seeds/capture.py`), read back from their AXFR streams with
//! the transfer interpreter and built into snapshots once per process.
//!
//! - `example.`: NSEC-signed; wildcards, CNAME chains and loops, DNAMEs,
//!   empty non-terminals, delegations with DS and glue, an RRset too big
//!   for 512 octets.
//! - `example.org.`: NSEC3-signed with opt-out, salt and iterations.
//! - `child.example.`: unsigned child of `example.`, served beside it.

use std::sync::OnceLock;

use understudy_proto::answer::{AnswerConfig, Freshness, ServedZone, ZoneSet};
use understudy_proto::name;
use understudy_proto::tsig::{Key, KeyRing};
use understudy_proto::xfr::{Interpreter, Limits, Progress, Request, Transfer};
use understudy_proto::zone::Snapshot;
use understudy_proto::{Name, Record};

use super::frames;
use super::query::Server;

/// AXFR streams as captured, TCP framing included.
pub const AXFR_STREAMS: [(&str, &[u8]); 3] = [
    ("example.", include_bytes!("zones/example.axfr")),
    ("example.org.", include_bytes!("zones/example.org.axfr")),
    ("child.example.", include_bytes!("zones/child.example.axfr")),
];

/// The served zones and the responder settings the checks choose among.
pub struct Fixture {
    /// One snapshot per zone in [`AXFR_STREAMS`], in that order.
    pub snapshots: Vec<Snapshot>,
    origins_lower: Vec<Vec<u8>>,
    /// Responder settings: none, all identities, large UDP, tiny UDP.
    pub servers: [Server; 4],
    /// The key `fuzz-key.` (hmac-sha256) the captured signed queries use.
    pub tsig_keys: KeyRing,
}

/// The TSIG key `capture.py` gives knotd, dig and kdig.
pub const TSIG_SECRET: &[u8] = b"secret-secret-secret-secret-secr";

/// The fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(Fixture::load)
}

impl Fixture {
    fn load() -> Fixture {
        let snapshots: Vec<Snapshot> = AXFR_STREAMS
            .iter()
            .map(|(origin, stream)| {
                let origin = Name::from_ascii(origin).expect("fixture origin");
                let records = axfr_records(&origin, stream);
                Snapshot::build(&origin, records).expect("fixture zone builds")
            })
            .collect();
        let origins_lower = snapshots
            .iter()
            .map(|s| s.origin().to_lowercase().as_wire().to_vec())
            .collect();
        Fixture {
            snapshots,
            origins_lower,
            servers: servers(),
            tsig_keys: tsig_keys(),
        }
    }

    /// The zones with `example.org.` at `freshness` (the others fresh).
    pub fn zones(&self, freshness: Freshness) -> FixtureZones<'_> {
        FixtureZones {
            fixture: self,
            org_freshness: freshness,
            org_loaded: true,
        }
    }

    /// The zones with `example.org.` configured but not transferred yet.
    pub fn zones_without_org_data(&self) -> FixtureZones<'_> {
        FixtureZones {
            org_loaded: false,
            ..self.zones(Freshness::Fresh)
        }
    }
}

/// The records of an AXFR stream, read by the real interpreter.
pub fn axfr_records(origin: &Name, stream: &[u8]) -> Vec<Record> {
    let messages = frames(stream);
    let id = messages
        .first()
        .and_then(|m| m.get(..2))
        .map_or(0, |id| u16::from_be_bytes([id[0], id[1]]));
    let mut interpreter = Interpreter::new(origin.clone(), id, Request::Axfr, Limits::default());
    for message in messages {
        match interpreter.feed_bytes(message) {
            Ok(Progress::NeedMore) => continue,
            Ok(Progress::Done(Transfer::Full { records, .. })) => return records,
            other => panic!("fixture AXFR of {origin} not accepted: {other:?}"),
        }
    }
    panic!("fixture AXFR of {origin} incomplete")
}

fn tsig_keys() -> KeyRing {
    let name = Name::from_ascii("fuzz-key.").expect("key name");
    let key = Key::new(name, "hmac-sha256", TSIG_SECRET.to_vec()).expect("fixture key");
    let mut keys = KeyRing::new();
    keys.insert(key);
    keys
}

fn servers() -> [Server; 4] {
    let all = AnswerConfig {
        nsid: Some(b"fuzz-node-1".to_vec()),
        identity: Some("fuzz-node-1.example".into()),
        version: Some("understudy fuzz".into()),
        ..AnswerConfig::default()
    };
    let large = AnswerConfig {
        max_udp_payload: 4096,
        nsid: Some(vec![0xAB; 255]),
        identity: Some("x".repeat(255)),
        ..AnswerConfig::default()
    };
    let tiny = AnswerConfig {
        max_udp_payload: 512,
        version: Some(String::new()),
        ..AnswerConfig::default()
    };
    [
        Server::new(AnswerConfig::default()),
        Server::new(all),
        Server::new(large),
        Server::new(tiny),
    ]
}

/// The fixture's zones as a node's zone table would serve them.
#[derive(Clone, Copy)]
pub struct FixtureZones<'a> {
    fixture: &'a Fixture,
    org_freshness: Freshness,
    org_loaded: bool,
}

impl ZoneSet for FixtureZones<'_> {
    fn find(&self, origin_lowercase_wire: &[u8]) -> Option<ServedZone<'_>> {
        let index = self
            .fixture
            .origins_lower
            .iter()
            .position(|origin| name::eq_ignore_case(origin, origin_lowercase_wire))?;
        let (freshness, loaded) = match index {
            1 => (self.org_freshness, self.org_loaded),
            _ => (Freshness::Fresh, true),
        };
        Some(ServedZone {
            snapshot: loaded.then(|| &self.fixture.snapshots[index]),
            freshness,
        })
    }
}
