//! The snapshot loader: `Snapshot::from_bytes` on arbitrary bytes.
//!
//! Input: one mode byte, then the snapshot bytes. With bit 0 of the mode
//! set, the header's body length and SHA-256 are rewritten to match the
//! body first, as a careless or hostile peer could: the digest detects
//! corruption, it does not authenticate, so the archive checks behind it
//! must hold on their own.

use ring::digest;
use understudy_proto::answer::{AnswerConfig, Outcome, Transport};
use understudy_proto::record::opcode;
use understudy_proto::wire::{Header, MAX_MESSAGE_LEN, MessageBuilder, Opt, Question};
use understudy_proto::zone::Snapshot;
use understudy_proto::{Class, Name, Record, Rtype};

use super::query::{Server, check_respond};

const HEADER_LEN_AT: usize = 10;
const BODY_LEN_AT: usize = 16;
const DIGEST_AT: usize = 24;
/// Owner names asked about per snapshot from the loader, to bound the time
/// spent.
const NAMES_ASKED: usize = 4;

/// One fuzz input through the loader, and an accepted snapshot through
/// the responder.
pub fn check_snapshot(data: &[u8]) {
    if let Some(snapshot) = load(data) {
        check_accepted(&snapshot);
    }
}

/// As [`check_snapshot`], and an accepted snapshot must answer exactly as
/// its canonical rebuild ([`check_same_as_rebuild`]).
pub fn check_snapshot_strict(data: &[u8]) {
    if let Some(snapshot) = load(data) {
        check_accepted(&snapshot);
        check_same_as_rebuild(&snapshot);
    }
}

/// The input's snapshot, resealed if the mode asks, if it loads.
fn load(data: &[u8]) -> Option<Snapshot> {
    let (&mode, bytes) = data.split_first()?;
    let mut bytes = bytes.to_vec();
    if mode & 1 == 1 {
        reseal(&mut bytes);
    }
    let snapshot = Snapshot::from_bytes(bytes.clone()).ok()?;
    assert!(
        snapshot.as_bytes() == bytes,
        "accepted bytes are not kept as they are"
    );
    Some(snapshot)
}

/// Rewrites the body length and digest in the header to match the body.
pub fn reseal(bytes: &mut [u8]) {
    let Some(header_len) = bytes.get(HEADER_LEN_AT..HEADER_LEN_AT + 2) else {
        return;
    };
    let header_len = usize::from(u16::from_be_bytes([header_len[0], header_len[1]]));
    if header_len < DIGEST_AT + 32 || header_len > bytes.len() {
        return;
    }
    let (header, body) = bytes.split_at_mut(header_len);
    let body_len = body.len() as u64;
    header[BODY_LEN_AT..BODY_LEN_AT + 8].copy_from_slice(&body_len.to_be_bytes());
    let sha256 = digest::digest(&digest::SHA256, body);
    header[DIGEST_AT..DIGEST_AT + 32].copy_from_slice(sha256.as_ref());
}

/// What every accepted snapshot owes its readers: consistent accessors,
/// records inside the zone, and queries about its own names answered
/// within the reply invariants.
pub fn check_accepted(snapshot: &Snapshot) {
    check_accepted_asking(snapshot, NAMES_ASKED);
}

/// As [`check_accepted`], asking about the first `names` owner names only.
pub fn check_accepted_asking(snapshot: &Snapshot, names: usize) {
    let origin = snapshot.origin();
    let records: Vec<_> = snapshot.records().collect();
    assert_eq!(
        records.len(),
        snapshot.record_count(),
        "record_count disagrees with records()"
    );
    let soa = snapshot.soa();
    assert_eq!(soa.owner, origin, "SOA not at the origin");
    let fields = soa
        .soa()
        .expect("an accepted snapshot has a well-formed SOA");
    assert_eq!(
        fields.serial,
        snapshot.serial(),
        "header serial differs from the SOA's"
    );
    for record in &records {
        assert!(
            record.owner.is_subdomain_of(&origin),
            "{} outside {origin}",
            record.owner
        );
    }
    // Over TCP: the UDP cut is the query target's subject; here every
    // RRset of a damaged archive must reach the writer.
    let server = server();
    for packet in own_queries(&records, names) {
        check_respond(&server, snapshot, &packet, Transport::Tcp, MAX_MESSAGE_LEN);
    }
}

/// The stricter promise of "fully usable or refused": an accepted
/// snapshot's records build a snapshot again, and every part of the
/// archive that `records()` does not show (hash index, flags, fixed fields
/// of the RR images) answers exactly as that canonical rebuild does.
pub fn check_same_as_rebuild(snapshot: &Snapshot) {
    let records: Vec<_> = snapshot.records().collect();
    let rebuilt = Snapshot::build(&snapshot.origin(), records.clone())
        .unwrap_or_else(|error| panic!("an accepted snapshot's records do not build: {error}"));
    for packet in own_queries(&records, NAMES_ASKED) {
        let mut ours = vec![0u8; MAX_MESSAGE_LEN];
        let mut canonical = vec![0u8; MAX_MESSAGE_LEN];
        let server = server();
        let a = server
            .responder
            .respond(snapshot, &packet, Transport::Tcp, &mut ours);
        let b = server
            .responder
            .respond(&rebuilt, &packet, Transport::Tcp, &mut canonical);
        assert_eq!(a, b, "outcome differs from the rebuild's for {packet:02x?}");
        if let Outcome::Reply { len, .. } = a {
            let differs = (0..len).find(|&i| ours[i] != canonical[i]);
            assert!(
                differs.is_none(),
                "reply octet {differs:?} differs from the rebuild's: {:02x?}",
                &packet
            );
        }
    }
}

fn server() -> Server {
    Server::new(AnswerConfig::default())
}

/// Queries with DO for the zone's own names (and a name below each), for
/// their first type, A and DS.
fn own_queries(records: &[Record], names: usize) -> Vec<Vec<u8>> {
    let mut owners: Vec<(&Name, Rtype)> = records.iter().map(|r| (&r.owner, r.rtype)).collect();
    owners.dedup_by(|a, b| a.0 == b.0);
    let mut queries = Vec::new();
    for (name, rtype) in owners.into_iter().take(names) {
        let below = name.prepend(b"zz").ok();
        for qname in std::iter::once(name).chain(below.as_ref()) {
            for asked in [rtype, Rtype::A, Rtype::DS] {
                queries.push(query(qname, asked));
            }
        }
    }
    queries
}

/// A query for `qname`/`qtype` with EDNS and DO.
pub fn query(qname: &Name, qtype: Rtype) -> Vec<u8> {
    let mut builder = MessageBuilder::new(Header::query(0x5EED, opcode::QUERY), MAX_MESSAGE_LEN);
    let question = Question {
        qname: qname.clone(),
        qtype,
        qclass: Class::IN,
    };
    let opt = Opt {
        dnssec_ok: true,
        ..Opt::new(1232)
    };
    let pushed = builder
        .push_question(&question)
        .and_then(|()| builder.push_opt(&opt));
    pushed.expect("a single question and OPT fit any message");
    builder.finish()
}
