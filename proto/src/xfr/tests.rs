use super::*;
use crate::name::Name;
use crate::record::{Class, Record, Rtype, Soa, opcode, rcode};
use crate::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Question};

const ID: u16 = 0x4242;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn zone() -> Name {
    name("example.")
}

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: name("ns1.example."),
        rname: name("hostmaster.example."),
        serial,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    Record {
        owner: zone(),
        rtype: Rtype::SOA,
        class: Class::IN,
        ttl: 3600,
        rdata: soa.to_rdata(),
    }
}

fn a(owner: &str, last: u8) -> Record {
    Record {
        owner: name(owner),
        rtype: Rtype::A,
        class: Class::IN,
        ttl: 300,
        rdata: vec![192, 0, 2, last].into(),
    }
}

fn hosts(count: usize) -> Vec<Record> {
    (0..count)
        .map(|i| a(&format!("h{i}.example."), (i % 250) as u8))
        .collect()
}

/// Response messages carrying `records`, `per_message` at a time.
fn messages(qtype: Rtype, records: &[Record], per_message: usize) -> Vec<Vec<u8>> {
    let query = Header::query(ID, opcode::QUERY);
    let header = Header {
        aa: true,
        ..Header::response_to(&query)
    };
    let question = Question {
        qname: zone(),
        qtype,
        qclass: Class::IN,
    };
    records
        .chunks(per_message.max(1))
        .enumerate()
        .map(|(i, chunk)| {
            let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
            if i == 0 {
                builder.push_question(&question).unwrap();
            }
            for record in chunk {
                builder.push_answer(record).unwrap();
            }
            builder.finish()
        })
        .collect()
}

fn run(request: Request, messages: &[Vec<u8>]) -> Result<Progress, XfrError> {
    let mut interpreter = Interpreter::new(zone(), ID, request, Limits::default());
    let mut progress = Progress::NeedMore;
    for message in messages {
        progress = interpreter.feed_bytes(message)?;
    }
    Ok(progress)
}

fn axfr_records(serial: u32, body: &[Record]) -> Vec<Record> {
    [vec![soa(serial)], body.to_vec(), vec![soa(serial)]].concat()
}

#[test]
fn rfc5936_2_2_axfr_in_one_or_many_messages() {
    let body = hosts(500);
    let records = axfr_records(7, &body);
    for per_message in [1000, 37, 1] {
        let Progress::Done(Transfer::Full {
            soa: got,
            records: got_records,
        }) = run(Request::Axfr, &messages(Rtype::AXFR, &records, per_message)).unwrap()
        else {
            panic!("expected a full transfer");
        };
        assert_eq!(got, soa(7));
        assert_eq!(got_records, [vec![soa(7)], body.clone()].concat());
    }
}

#[test]
fn rfc5936_2_2_missing_closing_soa_is_never_done() {
    let records = [vec![soa(7)], hosts(10)].concat();
    assert_eq!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 4)),
        Ok(Progress::NeedMore)
    );
    assert!(XfrError::Incomplete.fallback());
}

#[test]
fn rfc5936_2_2_records_after_the_closing_soa_are_rejected() {
    let records = [axfr_records(7, &hosts(3)), vec![a("late.example.", 1)]].concat();
    assert_eq!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 10)),
        Err(XfrError::TrailingRecords)
    );
    // A further message after completion, too.
    let mut sequence = messages(Rtype::AXFR, &axfr_records(7, &hosts(3)), 10);
    sequence.push(sequence[0].clone());
    assert_eq!(
        run(Request::Axfr, &sequence),
        Err(XfrError::TrailingRecords)
    );
}

#[test]
fn rfc5936_2_2_closing_soa_must_repeat_the_serial() {
    let records = [vec![soa(7)], hosts(3), vec![soa(8)]].concat();
    let result = run(Request::Axfr, &messages(Rtype::AXFR, &records, 10));
    assert_eq!(
        result,
        Err(XfrError::SerialMismatch {
            expected: 7,
            found: 8
        })
    );
}

#[test]
fn rfc5936_2_2_first_record_must_be_the_soa() {
    let records = [hosts(1), axfr_records(7, &[])].concat();
    assert_eq!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 10)),
        Err(XfrError::MissingSoa)
    );
    let header = Header {
        aa: true,
        ..Header::response_to(&Header::query(ID, opcode::QUERY))
    };
    let mut empty = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    empty
        .push_question(&Question {
            qname: zone(),
            qtype: Rtype::AXFR,
            qclass: Class::IN,
        })
        .unwrap();
    assert_eq!(
        run(Request::Axfr, &[empty.finish()]),
        Err(XfrError::MissingSoa)
    );
}

#[test]
fn rfc5936_2_2_header_and_question_are_checked() {
    let good = messages(Rtype::AXFR, &axfr_records(1, &hosts(2)), 10);
    let mut wrong_id = good[0].clone();
    wrong_id[0] ^= 0xFF;
    assert!(matches!(
        run(Request::Axfr, &[wrong_id]),
        Err(XfrError::IdMismatch { .. })
    ));
    assert_eq!(
        run(
            Request::Axfr,
            &messages(Rtype::IXFR, &axfr_records(1, &[]), 10)
        ),
        Err(XfrError::QuestionMismatch)
    );
    let mut truncated = good[0].clone();
    truncated[2] |= 0x02;
    assert_eq!(run(Request::Axfr, &[truncated]), Err(XfrError::Truncated));
    let mut query_not_response = good[0].clone();
    query_not_response[2] &= 0x7F;
    assert_eq!(
        run(Request::Axfr, &[query_not_response]),
        Err(XfrError::NotResponse)
    );
    let mut garbage = good[0].clone();
    garbage.truncate(good[0].len() - 3);
    assert!(matches!(
        run(Request::Axfr, &[garbage]),
        Err(XfrError::Malformed(_))
    ));
}

#[test]
fn rfc5936_2_2_error_rcodes_and_their_fallback() {
    let query = Message::parse(&wire::ixfr_query(ID, &zone(), &soa(1)).unwrap()).unwrap();
    for (code, fallback) in [
        (rcode::REFUSED, true),
        (rcode::NOTIMP, true),
        (rcode::NOTAUTH, true),
        (rcode::FORMERR, true),
        (rcode::SERVFAIL, false),
    ] {
        let reply = wire::error_response(&query, code as u8).unwrap();
        let error = run(Request::Ixfr { serial: 1 }, &[reply]).unwrap_err();
        assert_eq!(error, XfrError::Rcode(code));
        assert_eq!(error.fallback(), fallback, "rcode {code}");
    }
}

#[test]
fn records_outside_the_zone_or_class_are_rejected() {
    let records = axfr_records(1, &[a("www.example.org.", 1)]);
    assert_eq!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 10)),
        Err(XfrError::OutOfZone(name("www.example.org.")))
    );
    let chaos = Record {
        class: Class::CH,
        ..a("www.example.", 1)
    };
    let records = axfr_records(1, &[chaos]);
    assert_eq!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 10)),
        Err(XfrError::WrongClass(Class::CH))
    );
    let misplaced_soa = Record {
        owner: name("sub.example."),
        ..soa(1)
    };
    let records = axfr_records(1, &[misplaced_soa]);
    assert!(matches!(
        run(Request::Axfr, &messages(Rtype::AXFR, &records, 10)),
        Err(XfrError::OutOfZone(_))
    ));
}

#[test]
fn limits_stop_a_runaway_primary_without_fallback() {
    let records = axfr_records(1, &hosts(100));
    let sequence = messages(Rtype::AXFR, &records, 10);
    let mut interpreter = Interpreter::new(
        zone(),
        ID,
        Request::Axfr,
        Limits {
            max_records: 50,
            max_bytes: usize::MAX,
        },
    );
    let error = sequence
        .iter()
        .find_map(|m| interpreter.feed_bytes(m).err())
        .unwrap();
    assert_eq!(error, XfrError::TooManyRecords { limit: 50 });
    assert!(!error.fallback());
    let mut interpreter = Interpreter::new(
        zone(),
        ID,
        Request::Axfr,
        Limits {
            max_records: usize::MAX,
            max_bytes: 1000,
        },
    );
    let error = sequence
        .iter()
        .find_map(|m| interpreter.feed_bytes(m).err())
        .unwrap();
    assert_eq!(error, XfrError::TooManyBytes { limit: 1000 });
    assert!(!error.fallback());
}

#[test]
fn rfc1034_4_3_5_soa_query_answer() {
    let answer = messages(Rtype::SOA, &[soa(9)], 1);
    let Progress::Done(transfer) = run(Request::Soa, &answer).unwrap() else {
        panic!()
    };
    assert_eq!(transfer, Transfer::Soa { soa: soa(9) });
    assert_eq!(transfer.serial(), 9);
    let mut not_authoritative = answer[0].clone();
    not_authoritative[2] &= !0x04;
    assert_eq!(
        run(Request::Soa, &[not_authoritative]),
        Err(XfrError::NotAuthoritative)
    );
    assert_eq!(
        run(Request::Soa, &messages(Rtype::SOA, &[a("example.", 1)], 1)),
        Err(XfrError::MissingSoa)
    );
}

#[test]
fn rfc1995_4_single_soa_means_up_to_date() {
    for (ours, theirs) in [(5, 5), (6, 5)] {
        let result = run(
            Request::Ixfr { serial: ours },
            &messages(Rtype::IXFR, &[soa(theirs)], 1),
        );
        assert_eq!(
            result,
            Ok(Progress::Done(Transfer::UpToDate { soa: soa(theirs) }))
        );
    }
    // A newer lone SOA may be followed by more: keep listening.
    let result = run(
        Request::Ixfr { serial: 4 },
        &messages(Rtype::IXFR, &[soa(5)], 1),
    );
    assert_eq!(result, Ok(Progress::NeedMore));
}

/// The zone at serial 1 and 3, and the IXFR sequence between them.
fn two_diffs() -> (Vec<Record>, Vec<Record>, Vec<Record>) {
    let v1 = [vec![soa(1)], hosts(5)].concat();
    let sequence = vec![
        soa(3),
        soa(1),
        a("h0.example.", 0),
        soa(2),
        a("new.example.", 9),
        soa(2),
        a("h1.example.", 1),
        a("new.example.", 9),
        soa(3),
        Record {
            ttl: 60,
            ..a("h1.example.", 1)
        },
        soa(3),
    ];
    let v3 = [
        vec![soa(3)],
        vec![Record {
            ttl: 60,
            ..a("h1.example.", 1)
        }],
        hosts(5).into_iter().skip(2).collect(),
    ]
    .concat();
    (v1, sequence, v3)
}

fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by(|x, y| {
        (&x.owner, x.rtype, &x.rdata, x.ttl).cmp(&(&y.owner, y.rtype, &y.rdata, y.ttl))
    });
    records
}

#[test]
fn rfc1995_4_incremental_diffs_chain_and_apply() {
    let (v1, sequence, v3) = two_diffs();
    for per_message in [100, 3, 1] {
        let result = run(
            Request::Ixfr { serial: 1 },
            &messages(Rtype::IXFR, &sequence, per_message),
        )
        .unwrap();
        let Progress::Done(Transfer::Incremental {
            soa: new_soa,
            diffs,
        }) = result
        else {
            panic!("{result:?}")
        };
        assert_eq!(new_soa, soa(3));
        assert_eq!(diffs.len(), 2);
        assert_eq!(
            (diffs[0].from, diffs[0].to, diffs[1].from, diffs[1].to),
            (1, 2, 2, 3)
        );
        assert_eq!(diffs[0].removed, vec![soa(1), a("h0.example.", 0)]);
        assert_eq!(diffs[0].added, vec![soa(2), a("new.example.", 9)]);
        let applied = apply_diffs(v1.clone(), &diffs).unwrap();
        assert_eq!(sorted(applied), sorted(v3.clone()));
    }
}

#[test]
fn rfc1995_4_axfr_style_answer_to_ixfr() {
    let records = axfr_records(8, &hosts(4));
    let result = run(
        Request::Ixfr { serial: 3 },
        &messages(Rtype::IXFR, &records, 2),
    )
    .unwrap();
    assert_eq!(
        result,
        Progress::Done(Transfer::Full {
            soa: soa(8),
            records: [vec![soa(8)], hosts(4)].concat()
        })
    );
    // A zone of nothing but its SOA, AXFR-style.
    let result = run(
        Request::Ixfr { serial: 3 },
        &messages(Rtype::IXFR, &[soa(8), soa(8)], 1),
    )
    .unwrap();
    assert_eq!(
        result,
        Progress::Done(Transfer::Full {
            soa: soa(8),
            records: vec![soa(8)]
        })
    );
}

#[test]
fn rfc1995_4_broken_diff_sequences_fall_back() {
    let wrong_start = [soa(3), soa(2), soa(3), soa(3)];
    let error = run(
        Request::Ixfr { serial: 1 },
        &messages(Rtype::IXFR, &wrong_start, 10),
    )
    .unwrap_err();
    assert_eq!(
        error,
        XfrError::SerialMismatch {
            expected: 1,
            found: 2
        }
    );
    assert!(error.fallback());
    let gap = [soa(3), soa(1), soa(2), soa(5), soa(3), soa(3)];
    let error = run(
        Request::Ixfr { serial: 1 },
        &messages(Rtype::IXFR, &gap, 10),
    )
    .unwrap_err();
    assert_eq!(
        error,
        XfrError::SerialMismatch {
            expected: 2,
            found: 5
        }
    );
    let backwards = [soa(3), soa(1), soa(0), soa(3)];
    let error = run(
        Request::Ixfr { serial: 1 },
        &messages(Rtype::IXFR, &backwards, 10),
    )
    .unwrap_err();
    assert_eq!(error, XfrError::BadDiffOrder { from: 1, to: 0 });
    assert!(error.fallback());
    let beyond = [soa(3), soa(1), soa(2), soa(2), soa(4), soa(4)];
    let error = run(
        Request::Ixfr { serial: 1 },
        &messages(Rtype::IXFR, &beyond, 10),
    )
    .unwrap_err();
    assert_eq!(
        error,
        XfrError::SerialMismatch {
            expected: 3,
            found: 4
        }
    );
}

#[test]
fn apply_diffs_is_strict() {
    let (v1, _, _) = two_diffs();
    let diff = |removed: Vec<Record>, added: Vec<Record>| Diff {
        from: 1,
        to: 2,
        removed: [vec![soa(1)], removed].concat(),
        added: [vec![soa(2)], added].concat(),
    };
    let absent = diff(vec![a("nope.example.", 1)], vec![]);
    assert!(matches!(
        apply_diffs(v1.clone(), &[absent]),
        Err(ApplyError::RemoveAbsent(_))
    ));
    let present = diff(
        vec![],
        vec![Record {
            ttl: 1,
            ..a("h2.example.", 2)
        }],
    );
    assert!(matches!(
        apply_diffs(v1.clone(), &[present]),
        Err(ApplyError::AddPresent(_))
    ));
    let gap = Diff {
        from: 2,
        to: 3,
        removed: vec![soa(2)],
        added: vec![soa(3)],
    };
    assert_eq!(
        apply_diffs(v1.clone(), &[gap]),
        Err(ApplyError::SerialGap {
            expected: 1,
            found: 2
        })
    );
    let no_soa = Diff {
        from: 1,
        to: 2,
        removed: vec![],
        added: vec![soa(2)],
    };
    assert_eq!(
        apply_diffs(v1.clone(), &[no_soa]),
        Err(ApplyError::BadDiff { from: 1, to: 2 })
    );
    assert_eq!(
        apply_diffs(hosts(3), &[diff(vec![], vec![])]),
        Err(ApplyError::NoSoa)
    );
    // Owners match without case; the stored spelling is what the diff adds.
    let recased = diff(vec![a("H3.EXAMPLE.", 3)], vec![a("Mixed.Example.", 7)]);
    let applied = apply_diffs(v1.clone(), &[recased]).unwrap();
    assert!(!applied.iter().any(|r| r.owner == name("h3.example.")));
    assert!(
        applied
            .iter()
            .any(|r| r.owner.as_wire() == name("Mixed.Example.").as_wire())
    );
    // Added then removed within the diffs: the zone must not have had it.
    let churn = [
        diff(vec![], vec![a("tmp.example.", 1)]),
        Diff {
            from: 2,
            to: 3,
            removed: vec![soa(2), a("tmp.example.", 1)],
            added: vec![soa(3)],
        },
    ];
    let applied = apply_diffs(v1.clone(), &churn).unwrap();
    assert_eq!(sorted(applied), sorted([vec![soa(3)], hosts(5)].concat()));
}

#[test]
fn apply_diffs_on_a_large_zone_is_linear() {
    let zone_records = [vec![soa(1)], hosts(200_000)].concat();
    let diff = Diff {
        from: 1,
        to: 2,
        removed: vec![soa(1), a("h100.example.", 100)],
        added: vec![soa(2), a("h100.example.", 1), a("fresh.example.", 2)],
    };
    let applied = apply_diffs(zone_records, &[diff]).unwrap();
    assert_eq!(applied.len(), 200_002);
    assert!(applied.contains(&a("fresh.example.", 2)));
}

fn journal_diff(from: u32, extra: usize) -> Diff {
    Diff {
        from,
        to: from + 1,
        removed: vec![soa(from)],
        added: [vec![soa(from + 1)], hosts(extra)].concat(),
    }
}

#[test]
fn journal_keeps_consecutive_diffs_within_bounds() {
    let mut journal = Journal::new(
        zone(),
        JournalLimits {
            max_diffs: 3,
            max_bytes: usize::MAX,
        },
    );
    for from in 1..=5 {
        journal.push(journal_diff(from, 0)).unwrap();
    }
    assert_eq!(
        (journal.len(), journal.first_serial(), journal.serial()),
        (3, Some(3), Some(6))
    );
    assert_eq!(journal.diffs_since(6), Some(vec![]));
    let since4: Vec<u32> = journal
        .diffs_since(4)
        .unwrap()
        .iter()
        .map(|d| d.from)
        .collect();
    assert_eq!(since4, vec![4, 5]);
    assert_eq!(journal.diffs_since(2), None);
    assert_eq!(
        journal.push(journal_diff(9, 0)),
        Err(JournalError::NotConsecutive {
            expected: 6,
            found: 9
        })
    );
    journal.reset(9);
    journal.push(journal_diff(9, 0)).unwrap();
    assert_eq!((journal.len(), journal.serial()), (1, Some(10)));

    let mut small = Journal::new(
        zone(),
        JournalLimits {
            max_diffs: 100,
            max_bytes: 2000,
        },
    );
    small.push(journal_diff(1, 40)).unwrap();
    small.push(journal_diff(2, 40)).unwrap();
    assert!(small.byte_size() <= 2000);
    assert_eq!(small.first_serial(), Some(2));
    small.push(journal_diff(3, 500)).unwrap();
    assert!(small.is_empty(), "a diff beyond the byte bound is not kept");
    assert_eq!(small.serial(), Some(4), "but the serial is");
    assert!(small.push(journal_diff(4, 0)).is_ok());
}

#[test]
fn journal_bytes_round_trip_and_detect_damage() {
    let mut journal = Journal::new(zone(), JournalLimits::default());
    for from in 10..14 {
        journal.push(journal_diff(from, 3)).unwrap();
    }
    let bytes = journal.to_bytes();
    assert_eq!(
        Journal::from_bytes(&bytes, &zone(), JournalLimits::default()),
        Ok(journal.clone())
    );
    let fewer = Journal::from_bytes(
        &bytes,
        &zone(),
        JournalLimits {
            max_diffs: 2,
            max_bytes: usize::MAX,
        },
    )
    .unwrap();
    assert_eq!((fewer.len(), fewer.serial()), (2, Some(14)));
    assert_eq!(
        Journal::from_bytes(&bytes, &name("other."), JournalLimits::default()),
        Err(JournalError::WrongZone(zone()))
    );
    for cut in 0..bytes.len() {
        assert!(
            Journal::from_bytes(&bytes[..cut], &zone(), JournalLimits::default()).is_err(),
            "cut {cut}"
        );
    }
    for position in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x20;
        assert!(
            Journal::from_bytes(&damaged, &zone(), JournalLimits::default()).is_err(),
            "flip at {position}"
        );
    }
    let empty = Journal::new(zone(), JournalLimits::default());
    assert_eq!(
        Journal::from_bytes(&empty.to_bytes(), &zone(), JournalLimits::default()),
        Ok(empty)
    );
}

fn query(qtype: Rtype, client: Option<u32>) -> Message {
    let bytes = match client {
        Some(serial) => wire::ixfr_query(ID, &zone(), &soa(serial)).unwrap(),
        None if qtype == Rtype::AXFR => wire::axfr_query(ID, &zone()),
        None => wire::soa_query(ID, &zone()),
    };
    Message::parse(&bytes).unwrap()
}

fn collect(stream: ResponseStream<'_>) -> Vec<Vec<u8>> {
    stream.map(|message| message.unwrap()).collect()
}

#[test]
fn rfc5936_2_2_axfr_stream_round_trips_through_the_interpreter() {
    let body = hosts(5000);
    let zone_records = [body.clone(), vec![soa(4)]].concat();
    let stream = axfr_stream(&query(Rtype::AXFR, None), &soa(4), zone_records.into_iter()).unwrap();
    let sent = collect(stream.with_limit(4096));
    assert!(sent.len() > 10);
    assert!(sent.iter().all(|m| m.len() <= 4096));
    assert!(
        Message::parse(&sent[1]).unwrap().questions.is_empty(),
        "question only in the first message"
    );
    let result = run(Request::Axfr, &sent).unwrap();
    assert_eq!(
        result,
        Progress::Done(Transfer::Full {
            soa: soa(4),
            records: [vec![soa(4)], body].concat()
        })
    );
    let default =
        collect(axfr_stream(&query(Rtype::AXFR, None), &soa(4), hosts(5000).into_iter()).unwrap());
    assert!(default.iter().all(|m| m.len() <= MESSAGE_LIMIT));
}

#[test]
fn rfc1995_4_ixfr_stream_chooses_soa_diffs_or_full_zone() {
    let mut journal = Journal::new(zone(), JournalLimits::default());
    for from in 1..4 {
        journal.push(journal_diff(from, 2)).unwrap();
    }
    let current = soa(4);
    let zone_records = || [vec![current.clone()], hosts(10)].into_iter().flatten();
    // Client current (or ahead): one SOA.
    for client in [4, 5] {
        let sent = collect(
            ixfr_stream(
                &query(Rtype::IXFR, Some(client)),
                client,
                &current,
                &journal,
                zone_records(),
            )
            .unwrap(),
        );
        assert_eq!(sent.len(), 1);
        let result = run(Request::Ixfr { serial: client }, &sent).unwrap();
        assert_eq!(
            result,
            Progress::Done(Transfer::UpToDate {
                soa: current.clone()
            })
        );
    }
    // Client in the journal: the diffs.
    let ixfr_query = query(Rtype::IXFR, Some(2));
    assert_eq!(ixfr_client_serial(&ixfr_query), Some(2));
    let sent = collect(ixfr_stream(&ixfr_query, 2, &current, &journal, zone_records()).unwrap());
    let result = run(Request::Ixfr { serial: 2 }, &sent).unwrap();
    let expected: Vec<Diff> = journal
        .diffs_since(2)
        .unwrap()
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(
        result,
        Progress::Done(Transfer::Incremental {
            soa: current.clone(),
            diffs: expected
        })
    );
    // Client older than the journal: the whole zone, AXFR-style.
    let sent = collect(
        ixfr_stream(
            &query(Rtype::IXFR, Some(0)),
            0,
            &current,
            &journal,
            zone_records(),
        )
        .unwrap(),
    );
    let Progress::Done(Transfer::Full { records, .. }) =
        run(Request::Ixfr { serial: 0 }, &sent).unwrap()
    else {
        panic!("expected AXFR-style")
    };
    assert_eq!(records.len(), 11);
}

#[test]
fn outbound_record_too_large_for_a_message_is_an_error() {
    let huge = Record {
        owner: zone(),
        rtype: Rtype::TXT,
        class: Class::IN,
        ttl: 1,
        rdata: vec![1; 3000].into(),
    };
    let mut stream = axfr_stream(&query(Rtype::AXFR, None), &soa(1), vec![huge].into_iter())
        .unwrap()
        .with_limit(1024);
    assert!(stream.next().unwrap().is_ok());
    assert!(matches!(
        stream.next(),
        Some(Err(OutboundError::RecordTooLarge(_)))
    ));
    assert!(stream.next().is_none());
}
