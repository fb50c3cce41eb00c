//! The transfer interpreter: arbitrary response streams to SOA, AXFR and
//! IXFR queries.
//!
//! Input: one mode byte, the IXFR client serial (u32, big-endian), then
//! response messages with TCP framing.
//!
//! ```text
//! bits 0-1   request: AXFR, IXFR, SOA, IXFR
//! bits 2-3   limits, an index into LIMITS
//! ```
//!
//! The zone and query id are those of the first message, so that captured
//! streams pass the first checks and mutations reach the state machine.

use understudy_proto::record::Class;
use understudy_proto::xfr::{Diff, Interpreter, Limits, Progress, Request, Transfer, XfrError};
use understudy_proto::{Name, Record, Rtype, Serial};

use understudy_proto::xfr::apply_diffs;
use understudy_proto::zone::Snapshot;

use super::fixture::fixture;
use super::frames;
use super::snapshot::check_accepted_asking;

/// Limits the interpreter is run with: the defaults, and tight ones that
/// captured streams already exceed.
pub const LIMITS: [Limits; 4] = [
    Limits {
        max_records: 5_000_000,
        max_bytes: 1 << 30,
    },
    Limits {
        max_records: 10_000,
        max_bytes: 1 << 20,
    },
    Limits {
        max_records: 40,
        max_bytes: 4096,
    },
    Limits {
        max_records: 3,
        max_bytes: 512,
    },
];

/// Owner names asked about in a zone a transfer built: answering is the
/// query target's subject, here it only shows the zone is usable.
const NAMES_ASKED: usize = 3;

/// One fuzz input through a fresh interpreter.
pub fn check_xfr(data: &[u8]) {
    ending(data);
}

/// What a stream came to: `None` while the interpreter still needs more.
pub type Ending = Option<Result<Transfer, XfrError>>;

/// The interpreter's verdict on one fuzz input, checked as by [`check_xfr`].
pub fn ending(data: &[u8]) -> Ending {
    let [mode, s0, s1, s2, s3, stream @ ..] = data else {
        return None;
    };
    let serial = u32::from_be_bytes([*s0, *s1, *s2, *s3]);
    let request = match mode & 3 {
        0 => Request::Axfr,
        2 => Request::Soa,
        _ => Request::Ixfr { serial },
    };
    let messages = frames(stream);
    let (zone, id) = zone_and_id(&messages);
    run(
        zone,
        id,
        request,
        LIMITS[usize::from(mode >> 2 & 3)],
        &messages,
    )
}

/// Feeds `messages` in order and checks every step and the result.
pub fn run(zone: Name, id: u16, request: Request, limits: Limits, messages: &[&[u8]]) -> Ending {
    let mut interpreter = Interpreter::new(zone.clone(), id, request, limits);
    for (index, message) in messages.iter().enumerate() {
        let progress = interpreter.feed_bytes(message);
        assert!(
            interpreter.messages() <= index + 1,
            "more messages counted than fed"
        );
        match progress {
            Ok(Progress::NeedMore) => {
                check_within_limits(&interpreter, limits);
            }
            Ok(Progress::Done(transfer)) => {
                check_within_limits(&interpreter, limits);
                check_transfer(&zone, request, limits, &transfer);
                check_spent(&mut interpreter, messages.get(index + 1..).unwrap_or(&[]));
                return Some(Ok(transfer));
            }
            Err(error) => {
                check_error(&interpreter, limits, &error);
                return Some(Err(error));
            }
        }
    }
    None
}

fn zone_and_id(messages: &[&[u8]]) -> (Name, u16) {
    let first = messages.first().copied().unwrap_or_default();
    let id = first
        .get(..2)
        .map_or(0, |id| u16::from_be_bytes([id[0], id[1]]));
    let zone = understudy_proto::wire::Message::parse(first)
        .ok()
        .and_then(|m| m.question().map(|q| q.qname.clone()))
        .unwrap_or_else(|| Name::from_ascii("example.").expect("a valid name"));
    (zone, id)
}

fn check_within_limits(interpreter: &Interpreter, limits: Limits) {
    assert!(
        interpreter.records() <= limits.max_records,
        "record limit passed without an error"
    );
    assert!(
        interpreter.bytes() <= limits.max_bytes,
        "byte limit passed without an error"
    );
}

/// A limit error is reported only past the limit; everything else within it.
fn check_error(interpreter: &Interpreter, limits: Limits, error: &XfrError) {
    match error {
        XfrError::TooManyRecords { limit } => {
            assert_eq!(*limit, limits.max_records);
            assert!(
                interpreter.records() > limits.max_records,
                "record limit error within the limit"
            );
        }
        XfrError::TooManyBytes { limit } => {
            assert_eq!(*limit, limits.max_bytes);
            assert!(
                interpreter.bytes() > limits.max_bytes,
                "byte limit error within the limit"
            );
        }
        _ => check_within_limits(interpreter, limits),
    }
    let _ = error.fallback();
    let _ = error.to_string();
}

/// After `Done`, any further message is refused.
fn check_spent(interpreter: &mut Interpreter, rest: &[&[u8]]) {
    if let Some(next) = rest.first() {
        assert!(
            interpreter.feed_bytes(next).is_err(),
            "a message after Done was accepted"
        );
    }
}

/// The result fits the request, stays in the zone and within the limits.
fn check_transfer(zone: &Name, request: Request, limits: Limits, transfer: &Transfer) {
    let soa = transfer.soa();
    assert_zone_soa(zone, soa);
    match (request, transfer) {
        (Request::Soa, Transfer::Soa { .. }) => {}
        (Request::Ixfr { serial }, Transfer::UpToDate { soa }) => {
            let primary = Serial(transfer.serial());
            assert!(
                !primary.is_newer_than(Serial(serial)),
                "UpToDate with a newer serial"
            );
            assert_zone_soa(zone, soa);
        }
        (Request::Axfr | Request::Ixfr { .. }, Transfer::Full { records, .. }) => {
            check_full(zone, limits, transfer.serial(), records);
        }
        (Request::Ixfr { serial }, Transfer::Incremental { diffs, .. }) => {
            check_diffs(zone, limits, serial, transfer.serial(), diffs);
        }
        (request, transfer) => panic!("{request:?} answered with {transfer:?}"),
    }
}

fn assert_zone_soa(zone: &Name, soa: &Record) {
    assert_eq!(soa.rtype, Rtype::SOA, "the transfer's SOA is not an SOA");
    assert_eq!(&soa.owner, zone, "the transfer's SOA is not at the apex");
    assert!(soa.soa().is_some(), "the transfer's SOA RDATA is malformed");
}

/// Every record in the zone, class IN, no meta type, one apex SOA with the
/// transfer's serial.
fn check_full(zone: &Name, limits: Limits, serial: u32, records: &[Record]) {
    assert!(
        records.len() <= limits.max_records,
        "more records than the limit"
    );
    for record in records {
        assert_in_zone(zone, record);
    }
    let soas: Vec<&Record> = records.iter().filter(|r| r.rtype == Rtype::SOA).collect();
    assert_eq!(soas.len(), 1, "a full transfer holds one SOA");
    assert_eq!(soas[0].soa().map(|soa| soa.serial), Some(serial));
    if let Ok(snapshot) = Snapshot::build(zone, records.to_vec()) {
        check_accepted_asking(&snapshot, NAMES_ASKED);
    }
}

/// Diffs chain from the client's serial to the new one, each going forward
/// and each starting and ending with its SOA.
fn check_diffs(zone: &Name, limits: Limits, from: u32, to: u32, diffs: &[Diff]) {
    assert!(!diffs.is_empty(), "an incremental transfer without diffs");
    let mut serial = from;
    let mut records = 0;
    for diff in diffs {
        assert_eq!(diff.from, serial, "diffs are not consecutive");
        assert!(
            Serial(diff.to).is_newer_than(Serial(diff.from)),
            "a diff goes backwards"
        );
        diff.check()
            .unwrap_or_else(|error| panic!("a delivered diff fails its own check: {error}"));
        for record in diff.removed.iter().chain(&diff.added) {
            assert_in_zone(zone, record);
        }
        records += diff.removed.len() + diff.added.len();
        serial = diff.to;
    }
    assert_eq!(serial, to, "diffs do not end at the new serial");
    assert!(records <= limits.max_records, "more records than the limit");
    apply_to_fixture(zone, from, to, diffs);
}

/// Diffs from a fixture zone's serial are applied to it; what applies is a
/// zone at the new serial that builds and answers, or is refused whole.
fn apply_to_fixture(zone: &Name, from: u32, to: u32, diffs: &[Diff]) {
    let Some(base) = fixture()
        .snapshots
        .iter()
        .find(|s| &s.origin() == zone && s.serial() == from)
    else {
        return;
    };
    let Ok(records) = apply_diffs(base.records().collect(), diffs) else {
        return;
    };
    for record in &records {
        assert_in_zone(zone, record);
    }
    let serials: Vec<_> = records
        .iter()
        .filter_map(|r| r.soa())
        .map(|soa| soa.serial)
        .collect();
    assert_eq!(serials, [to], "the applied zone's SOA is not the new one");
    if let Ok(snapshot) = Snapshot::build(zone, records) {
        assert_eq!(snapshot.serial(), to);
        check_accepted_asking(&snapshot, NAMES_ASKED);
    }
}

fn assert_in_zone(zone: &Name, record: &Record) {
    assert!(
        record.owner.is_subdomain_of(zone),
        "{} is outside {zone}",
        record.owner
    );
    assert_eq!(
        record.class,
        Class::IN,
        "a record of class {}",
        record.class
    );
    assert!(
        !record.rtype.is_meta(),
        "a record of meta type {}",
        record.rtype
    );
}
