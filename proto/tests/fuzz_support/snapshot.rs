//! The snapshot loader: `Snapshot::from_bytes` on arbitrary bytes.
//!
//! Input: one mode byte, then the snapshot bytes. With bit 0 of the mode
//! set, the header's body length and SHA-256 are rewritten to match the
//! body first, as a careless or hostile peer could: the digest detects
//! corruption, it does not authenticate, so the archive checks behind it
//! must hold on their own.

use ring::digest;
use understudy_proto::answer::{AnswerConfig, Transport};
use understudy_proto::record::opcode;
use understudy_proto::wire::{Header, MAX_MESSAGE_LEN, MessageBuilder, Opt, Question};
use understudy_proto::zone::Snapshot;
use understudy_proto::{Class, Name, Rtype};

use super::query::{Server, check_respond};

const HEADER_LEN_AT: usize = 10;
const BODY_LEN_AT: usize = 16;
const DIGEST_AT: usize = 24;
/// Owner names asked about per accepted snapshot, to bound the time spent.
const NAMES_ASKED: usize = 24;

/// One fuzz input through the loader, and an accepted snapshot through
/// the responder.
pub fn check_snapshot(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let mut bytes = bytes.to_vec();
    if mode & 1 == 1 {
        reseal(&mut bytes);
    }
    let Ok(snapshot) = Snapshot::from_bytes(bytes.clone()) else {
        return;
    };
    assert_eq!(
        snapshot.as_bytes(),
        &bytes[..],
        "accepted bytes are not kept as they are"
    );
    check_accepted(&snapshot);
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
/// records inside the zone, queries answered within the invariants, and
/// the canonical form (rebuilding from its records gives the same bytes).
pub fn check_accepted(snapshot: &Snapshot) {
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
    answer_queries(snapshot, &records);
    let rebuilt = Snapshot::build(&origin, records)
        .unwrap_or_else(|error| panic!("an accepted snapshot's records do not build: {error}"));
    assert_eq!(
        rebuilt.as_bytes(),
        snapshot.as_bytes(),
        "accepted snapshot is not canonical"
    );
}

/// Asks for the zone's own names (and a name below each) with DO set,
/// over UDP and TCP, and checks every reply.
fn answer_queries(snapshot: &Snapshot, records: &[understudy_proto::Record]) {
    let server = Server::new(AnswerConfig::default());
    let mut owners: Vec<(&Name, Rtype)> = records.iter().map(|r| (&r.owner, r.rtype)).collect();
    owners.dedup_by(|a, b| a.0 == b.0);
    for (name, rtype) in owners.into_iter().take(NAMES_ASKED) {
        let below = name.prepend(b"zz").ok();
        for qname in std::iter::once(name).chain(below.as_ref()) {
            for asked in [rtype, Rtype::A, Rtype::DS] {
                let packet = query(qname, asked);
                check_respond(&server, snapshot, &packet, Transport::Udp, MAX_MESSAGE_LEN);
            }
        }
    }
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
