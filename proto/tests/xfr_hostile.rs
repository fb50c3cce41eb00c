//! Hostile input never panics: random message sequences into the transfer
//! interpreter (and whatever it accepts into `apply_diffs`), random and
//! mutated bytes into TSIG verification and into the journal reader.

use proptest::prelude::*;
use understudy_proto::record::{Class, Rtype, opcode};
use understudy_proto::tsig::{Algorithm, Key, KeyRing, sign_request, verify_request};
use understudy_proto::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Question};
use understudy_proto::xfr::{
    Diff, Interpreter, Journal, JournalLimits, Limits, Progress, Request, Transfer, apply_diffs,
};
use understudy_proto::{Name, Record, Soa};

const ID: u16 = 77;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: name("ns.example."),
        rname: name("admin.example."),
        serial,
        refresh: 1,
        retry: 1,
        expire: 1,
        minimum: 1,
    };
    Record {
        owner: name("example."),
        rtype: Rtype::SOA,
        class: Class::IN,
        ttl: 1,
        rdata: soa.to_rdata(),
    }
}

/// A record drawn from a small universe, so sequences hit real states:
/// SOAs of serials 0..5, in-zone and out-of-zone A records.
fn record_strategy() -> impl Strategy<Value = Record> {
    prop_oneof![
        (0u32..5).prop_map(soa),
        (0u8..6).prop_map(|n| Record {
            owner: name(&format!("h{n}.example.")),
            rtype: Rtype::A,
            class: Class::IN,
            ttl: 1,
            rdata: vec![10, 0, 0, n].into(),
        }),
        Just(Record {
            owner: name("elsewhere."),
            rtype: Rtype::A,
            class: Class::IN,
            ttl: 1,
            rdata: vec![1, 1, 1, 1].into()
        }),
    ]
}

fn build(qtype: Rtype, records: &[Record], first: bool) -> Vec<u8> {
    let header = Header {
        aa: true,
        ..Header::response_to(&Header::query(ID, opcode::QUERY))
    };
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    if first {
        builder
            .push_question(&Question {
                qname: name("example."),
                qtype,
                qclass: Class::IN,
            })
            .unwrap();
    }
    for record in records {
        builder.push_answer(record).unwrap();
    }
    builder.finish()
}

fn base_zone(serial: u32) -> Vec<Record> {
    let mut zone = vec![soa(serial)];
    zone.extend((0u8..3).map(|n| Record {
        owner: name(&format!("h{n}.example.")),
        rtype: Rtype::A,
        class: Class::IN,
        ttl: 1,
        rdata: vec![10, 0, 0, n].into(),
    }));
    zone
}

/// Feeds the sequence; checks the shape of whatever completes.
fn interpret(request: Request, messages: &[Vec<u8>]) {
    let limits = Limits {
        max_records: 40,
        max_bytes: 4000,
    };
    let mut interpreter = Interpreter::new(name("example."), ID, request, limits);
    for message in messages {
        match interpreter.feed_bytes(message) {
            Ok(Progress::NeedMore) => continue,
            Ok(Progress::Done(transfer)) => return check(request, transfer),
            Err(_) => return,
        }
    }
}

fn check(request: Request, transfer: Transfer) {
    match transfer {
        Transfer::Full { soa, records } => {
            assert_eq!(records.first(), Some(&soa));
            assert_eq!(records.iter().filter(|r| r.rtype == Rtype::SOA).count(), 1);
        }
        Transfer::Incremental { diffs, .. } => {
            let Request::Ixfr { serial } = request else {
                panic!("diffs for a non-IXFR request")
            };
            assert_eq!(diffs.first().map(|d| d.from), Some(serial));
            for diff in &diffs {
                diff.check().unwrap();
            }
            let _ = apply_diffs(base_zone(serial), &diffs);
        }
        Transfer::UpToDate { .. } => assert!(matches!(request, Request::Ixfr { .. })),
        Transfer::Soa { .. } => panic!("SOA answer to a transfer request"),
    }
}

fn signed_query(algorithm: Algorithm) -> (Vec<u8>, Key) {
    let key = Key::new(name("k."), algorithm.as_str(), b"secret".to_vec()).unwrap();
    let mut query = wire::axfr_query(5, &name("example."));
    sign_request(&mut query, &key, 1_700_000_000).unwrap();
    (query, key)
}

fn journal_bytes() -> Vec<u8> {
    let mut journal = Journal::new(name("example."), JournalLimits::default());
    for from in 1..4 {
        let diff = Diff {
            from,
            to: from + 1,
            removed: vec![soa(from)],
            added: base_zone(from + 1),
        };
        journal.push(diff).unwrap();
    }
    journal.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_record_sequences_never_panic(
        records in proptest::collection::vec(record_strategy(), 0..30),
        split in 1usize..8,
        client in 0u32..5,
        axfr in any::<bool>(),
    ) {
        let (request, qtype) = if axfr { (Request::Axfr, Rtype::AXFR) } else { (Request::Ixfr { serial: client }, Rtype::IXFR) };
        let messages: Vec<Vec<u8>> =
            records.chunks(split).enumerate().map(|(i, chunk)| build(qtype, chunk, i == 0)).collect();
        interpret(request, &messages);
    }

    #[test]
    fn garbage_mid_stream_never_panics(
        records in proptest::collection::vec(record_strategy(), 1..20),
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
        at in any::<usize>(),
    ) {
        let mut messages: Vec<Vec<u8>> =
            records.chunks(3).enumerate().map(|(i, chunk)| build(Rtype::AXFR, chunk, i == 0)).collect();
        let index = at % (messages.len() + 1);
        messages.insert(index, garbage);
        interpret(Request::Axfr, &messages);
        interpret(Request::Ixfr { serial: 1 }, &messages);
    }

    #[test]
    fn mutated_signed_requests_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        algorithm in 0usize..4,
    ) {
        let (mut query, key) = signed_query(Algorithm::ALL[algorithm]);
        for (at, value) in edits {
            let len = query.len();
            query[at % len] = value;
        }
        if let Ok(message) = Message::parse(&query) {
            let keys: KeyRing = [key].into_iter().collect();
            if let Err(mut error) = verify_request(&query, &message, &keys, 1_700_000_000) {
                let _ = error.response(&message, 1_700_000_000);
            }
        }
    }

    #[test]
    fn mutated_or_random_journals_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
        random in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = journal_bytes();
        for (at, value) in &edits {
            let len = bytes.len();
            bytes[at % len] = *value;
        }
        let keep = cut % (bytes.len() + 1);
        let zone = name("example.");
        let _ = Journal::from_bytes(&bytes[..keep], &zone, JournalLimits::default());
        let _ = Journal::from_bytes(&random, &zone, JournalLimits::default());
    }
}

#[test]
fn signed_request_changed_anywhere_but_its_id_fails() {
    let (query, key) = signed_query(Algorithm::HmacSha256);
    let keys: KeyRing = [key].into_iter().collect();
    let tsig_at = Message::parse(&query).unwrap().tsig.unwrap().offset;
    // Every octet of the signed part but the id (RFC 8945 §4.3.1 uses the original id).
    for at in 2..tsig_at {
        let mut changed = query.clone();
        changed[at] ^= 0x01;
        if let Ok(message) = Message::parse(&changed) {
            assert!(
                verify_request(&changed, &message, &keys, 1_700_000_000).is_err(),
                "octet {at}"
            );
        }
    }
}
