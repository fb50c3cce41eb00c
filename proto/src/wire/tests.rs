use super::*;
use crate::name::Name;
use crate::record::{Class, Record, Rtype, Soa, opcode, rcode};

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn record(owner: &str, rtype: Rtype, rdata: &[u8]) -> Record {
    Record {
        owner: name(owner),
        rtype,
        class: Class::IN,
        ttl: 3600,
        rdata: rdata.into(),
    }
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
    record("example.", Rtype::SOA, &soa.to_rdata())
}

fn response_header(id: u16) -> Header {
    Header {
        aa: true,
        ..Header::response_to(&Header::query(id, opcode::QUERY))
    }
}

#[test]
fn built_records_parse_back_identically() {
    let mx = [&[0u8, 10][..], name("mail.example.").as_wire()].concat();
    let records = [
        soa(7),
        record("www.example.", Rtype::A, &[192, 0, 2, 1]),
        record(
            "Www.Example.",
            Rtype::CNAME,
            name("host.EXAMPLE.").as_wire(),
        ),
        record("example.", Rtype::MX, &mx),
        record("example.", Rtype(65280), &[1, 2, 3]),
    ];
    let mut builder = MessageBuilder::new(response_header(9), MAX_MESSAGE_LEN);
    builder
        .push_question(&Question {
            qname: name("example."),
            qtype: Rtype::AXFR,
            qclass: Class::IN,
        })
        .unwrap();
    for record in &records {
        builder.push_answer(record).unwrap();
    }
    let bytes = builder.finish();
    let message = Message::parse(&bytes).unwrap();
    assert_eq!(message.header.id, 9);
    assert!(message.header.qr && message.header.aa);
    assert_eq!(message.answers, records);
    for (parsed, sent) in message.answers.iter().zip(&records) {
        assert_eq!(parsed.owner.as_wire(), sent.owner.as_wire(), "case kept");
        assert_eq!(parsed.rdata, sent.rdata);
    }
    // Compression happened: the SOA's names alone would take 33 octets each time.
    let uncompressed: usize = records
        .iter()
        .map(|r| r.owner.wire_len() + 10 + r.rdata.len())
        .sum();
    assert!(bytes.len() < 12 + 13 + uncompressed);
}

#[test]
fn rfc1035_4_1_1_rcode_and_rfc6891_extended_rcode() {
    let mut header = response_header(1);
    header.rcode = 0;
    let mut builder = MessageBuilder::new(header, 512);
    let mut opt = Opt::new(1232);
    opt.extended_rcode = 1;
    builder.push_opt(&opt).unwrap();
    let message = Message::parse(&builder.finish()).unwrap();
    assert_eq!(message.rcode(), rcode::BADVERS);
    assert_eq!(message.opt.unwrap().udp_payload_size, 1232);
    assert!(message.additional.is_empty());
}

#[test]
fn rfc6891_6_1_1_opt_only_once_and_only_in_additional() {
    let opt = Opt::new(512).to_record();
    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder.push_answer(&opt).unwrap();
    assert_eq!(Message::parse(&builder.finish()), Err(WireError::BadOpt));
    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder.push_additional(&opt).unwrap();
    builder.push_additional(&opt).unwrap();
    assert_eq!(Message::parse(&builder.finish()), Err(WireError::BadOpt));
}

#[test]
fn rfc8945_5_1_tsig_must_be_last_and_its_offset_is_kept() {
    let tsig = Record {
        owner: name("key."),
        rtype: Rtype::TSIG,
        class: Class::ANY,
        ttl: 0,
        rdata: vec![0; 8].into(),
    };
    let a = record("x.example.", Rtype::A, &[1, 2, 3, 4]);
    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder.push_additional(&a).unwrap();
    let offset = builder.len();
    builder.push_additional(&tsig).unwrap();
    let message = Message::parse(&builder.finish()).unwrap();
    let found = message.tsig.unwrap();
    assert_eq!(found.offset, offset);
    assert_eq!(found.record, tsig);
    assert_eq!(message.additional, vec![a.clone()]);

    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder.push_additional(&tsig).unwrap();
    builder.push_additional(&a).unwrap();
    assert_eq!(
        Message::parse(&builder.finish()),
        Err(WireError::MisplacedTsig)
    );
}

#[test]
fn malformed_messages_are_typed_errors() {
    assert_eq!(Message::parse(&[0; 11]), Err(WireError::ShortHeader));
    let query = soa_query(5, &name("example."));
    let mut extra = query.clone();
    extra.push(0);
    assert_eq!(Message::parse(&extra), Err(WireError::TrailingBytes(1)));
    let short = &query[..query.len() - 1];
    assert_eq!(
        Message::parse(short),
        Err(WireError::Truncated(Section::Question))
    );
    // An answer count with no answer behind it.
    let mut lying = query.clone();
    lying[7] = 1;
    assert!(matches!(
        Message::parse(&lying),
        Err(WireError::Name { .. })
    ));
    // An A record with a 3-octet RDATA.
    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder
        .push_answer(&record("a.", Rtype::A, &[1, 2, 3]))
        .unwrap();
    assert_eq!(
        Message::parse(&builder.finish()),
        Err(WireError::BadRdata {
            section: Section::Answer,
            rtype: Rtype::A
        })
    );
}

#[test]
fn full_message_refuses_and_keeps_what_it_has() {
    let mut builder = MessageBuilder::new(response_header(1), 100);
    let mut pushed = 0;
    let result = loop {
        let owner = format!("host{pushed}.example.");
        match builder.push_answer(&record(&owner, Rtype::A, &[10, 0, 0, 1])) {
            Ok(()) => pushed += 1,
            Err(error) => break error,
        }
    };
    assert_eq!(result, BuildError::Full);
    assert!(builder.len() <= 100);
    assert_eq!(usize::from(builder.count(Section::Answer)), pushed);
    let message = Message::parse(&builder.finish()).unwrap();
    assert_eq!(message.answers.len(), pushed);
    assert_eq!(
        message.answers.last().unwrap().owner,
        name(&format!("host{}.example.", pushed - 1))
    );
}

#[test]
fn sections_are_written_in_order() {
    let mut builder = MessageBuilder::new(response_header(1), 512);
    builder.push_authority(&soa(1)).unwrap();
    assert_eq!(
        builder.push_answer(&soa(1)),
        Err(BuildError::SectionOrder {
            current: Section::Authority,
            attempted: Section::Answer
        })
    );
}

#[test]
fn rfc1995_3_ixfr_query_carries_the_current_soa() {
    let bytes = ixfr_query(77, &name("example."), &soa(41)).unwrap();
    let message = Message::parse(&bytes).unwrap();
    assert!(!message.header.qr);
    let question = message.question().unwrap();
    assert_eq!((question.qtype, question.qclass), (Rtype::IXFR, Class::IN));
    assert_eq!(message.authority, vec![soa(41)]);
}

#[test]
fn rfc5936_2_1_axfr_and_soa_queries() {
    for (bytes, qtype) in [
        (axfr_query(3, &name("Example.")), Rtype::AXFR),
        (soa_query(3, &name("Example.")), Rtype::SOA),
    ] {
        let message = Message::parse(&bytes).unwrap();
        assert_eq!(message.header, Header::query(3, opcode::QUERY));
        let question = message.question().unwrap();
        assert_eq!(question.qname.as_wire(), b"\x07Example\x00");
        assert_eq!(question.qtype, qtype);
    }
}

#[test]
fn rfc1996_3_7_and_4_7_notify_and_its_response() {
    let bytes = notify(4242, &name("example."), Some(&soa(9))).unwrap();
    let message = Message::parse(&bytes).unwrap();
    assert_eq!(message.header.opcode, opcode::NOTIFY);
    assert!(message.header.aa && !message.header.qr);
    assert_eq!(message.answers, vec![soa(9)]);
    let response = Message::parse(&notify_response(&message).unwrap()).unwrap();
    assert_eq!(response.header.id, 4242);
    assert_eq!(response.header.opcode, opcode::NOTIFY);
    assert!(response.header.qr && !response.header.aa);
    assert_eq!(response.questions, message.questions);
    assert!(response.answers.is_empty());
}

#[test]
fn error_response_echoes_question() {
    let query = Message::parse(&axfr_query(8, &name("example."))).unwrap();
    let response = Message::parse(&error_response(&query, rcode::REFUSED as u8).unwrap()).unwrap();
    assert_eq!(response.rcode(), rcode::REFUSED);
    assert_eq!(response.header.id, 8);
    assert_eq!(response.questions, query.questions);
}

#[test]
fn rfc6891_7_error_response_echoes_opt_with_do() {
    let mut builder = MessageBuilder::new(Header::query(9, opcode::QUERY), MAX_MESSAGE_LEN);
    builder
        .push_question(&Question {
            qname: name("example."),
            qtype: Rtype::AXFR,
            qclass: Class::IN,
        })
        .unwrap();
    let mut opt = Opt::new(4096);
    opt.dnssec_ok = true;
    builder.push_opt(&opt).unwrap();
    let query = Message::parse(&builder.finish()).unwrap();
    let response = Message::parse(&error_response(&query, 4).unwrap()).unwrap();
    let echoed = response.opt.clone().expect("OPT echoed");
    assert!(echoed.dnssec_ok && echoed.version == 0);
    assert_eq!(response.rcode(), 4);
    let plain = Message::parse(&axfr_query(8, &name("example."))).unwrap();
    assert!(
        Message::parse(&error_response(&plain, 5).unwrap())
            .unwrap()
            .opt
            .is_none()
    );
}
