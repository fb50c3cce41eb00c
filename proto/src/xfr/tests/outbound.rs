use super::*;

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

#[test]
fn rfc1995_2_single_soa_response_for_udp() {
    let query = query(Rtype::IXFR, Some(1));
    let bytes = soa_response(&query, &soa(9)).unwrap();
    let message = Message::parse(&bytes).unwrap();
    assert!(message.header.qr && message.header.aa);
    assert_eq!(message.questions, query.questions);
    assert_eq!(message.answers, vec![soa(9)]);
}
