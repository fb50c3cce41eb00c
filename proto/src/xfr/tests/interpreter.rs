use super::*;

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
