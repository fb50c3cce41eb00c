//! Cross-checks `proto::wire` against hickory-proto, an independent codec:
//! what we build, hickory reads with the same content, and what hickory
//! builds (compressing names its own way), we read with the same content.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::op::{self as h_op, Edns, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{self as h_rdata, MX, NAPTR, SOA, SRV, TXT};
use hickory_proto::rr::{self as h_rr, DNSClass, RData, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};
use understudy_proto::record::{Class, Record, Rtype, opcode};
use understudy_proto::wire::{Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Opt, Question};
use understudy_proto::{Name, Soa};

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn h_name(text: &str) -> h_rr::Name {
    h_rr::Name::from_str(text).unwrap()
}

/// A hickory record in our form: owner and RDATA uncompressed, case kept.
fn from_hickory(record: &h_rr::Record) -> Record {
    let mut rdata = Vec::new();
    let mut encoder = BinEncoder::new(&mut rdata);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    record.data.emit(&mut encoder).unwrap();
    Record {
        owner: Name::from_wire(&record.name.to_bytes().unwrap()).unwrap(),
        rtype: Rtype(u16::from(record.record_type())),
        class: Class(u16::from(record.dns_class)),
        ttl: record.ttl,
        rdata: rdata.into(),
    }
}

fn h_record(owner: &str, ttl: u32, data: RData) -> h_rr::Record {
    h_rr::Record::from_rdata(h_name(owner), ttl, data)
}

/// One record of every shape the transfer path sees, names in mixed case so
/// that a codec that folds case would be caught.
fn hickory_zone() -> Vec<h_rr::Record> {
    let soa = SOA::new(
        h_name("ns1.Example.com."),
        h_name("hostmaster.example.com."),
        2024,
        3600,
        600,
        86400,
        300,
    );
    let naptr = NAPTR::new(
        10,
        20,
        b"U".to_vec().into(),
        b"E2U+sip".to_vec().into(),
        b"".to_vec().into(),
        h_name("sip.example.com."),
    );
    vec![
        h_record("example.com.", 3600, RData::SOA(soa)),
        h_record(
            "example.com.",
            3600,
            RData::NS(h_rdata::NS(h_name("ns1.example.com."))),
        ),
        h_record(
            "example.com.",
            3600,
            RData::MX(MX::new(10, h_name("Mail.example.com."))),
        ),
        h_record(
            "www.example.com.",
            60,
            RData::A(h_rdata::A(Ipv4Addr::new(192, 0, 2, 1))),
        ),
        h_record(
            "www.example.com.",
            60,
            RData::AAAA(h_rdata::AAAA(Ipv6Addr::LOCALHOST)),
        ),
        h_record(
            "alias.example.com.",
            60,
            RData::CNAME(h_rdata::CNAME(h_name("WWW.example.com."))),
        ),
        h_record(
            "txt.example.com.",
            60,
            RData::TXT(TXT::new(vec!["hello".into(), "world".into()])),
        ),
        h_record(
            "_sip._tcp.example.com.",
            60,
            RData::SRV(SRV::new(1, 2, 5060, h_name("sip.example.com."))),
        ),
        h_record(
            "1.2.0.192.in-addr.arpa.",
            60,
            RData::PTR(h_rdata::PTR(h_name("www.example.com."))),
        ),
        h_record("e164.example.com.", 60, RData::NAPTR(naptr)),
    ]
}

#[test]
fn hickory_built_message_parses_with_the_same_content() {
    let records = hickory_zone();
    let mut message = h_op::Message::new(4711, MessageType::Response, OpCode::Query);
    message.metadata.authoritative = true;
    message.add_query(Query::query(h_name("example.com."), RecordType::AXFR));
    message.add_answers(records.clone());
    message.add_authority(records[1].clone());
    message.add_additional(records[3].clone());
    let mut edns = Edns::new();
    edns.set_max_payload(1232).set_dnssec_ok(true);
    message.set_edns(edns);
    let bytes = message.to_vec().unwrap();

    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(ours.header.id, 4711);
    assert!(ours.header.qr && ours.header.aa);
    let question = ours.question().unwrap();
    assert_eq!(
        (question.qname.clone(), question.qtype),
        (name("example.com."), Rtype::AXFR)
    );
    let expected: Vec<Record> = records.iter().map(from_hickory).collect();
    assert_eq!(ours.answers, expected);
    for (ours, theirs) in ours.answers.iter().zip(&expected) {
        assert_eq!(ours.owner.as_wire(), theirs.owner.as_wire());
        assert_eq!(ours.rdata, theirs.rdata, "{:?}", ours.rtype);
    }
    assert_eq!(ours.authority, vec![expected[1].clone()]);
    assert_eq!(ours.additional, vec![expected[3].clone()]);
    let opt = ours.opt.unwrap();
    assert_eq!(
        (opt.udp_payload_size, opt.dnssec_ok, opt.version),
        (1232, true, 0)
    );
}

#[test]
fn our_built_message_parses_in_hickory_with_the_same_content() {
    let records: Vec<Record> = hickory_zone().iter().map(from_hickory).collect();
    let header = Header {
        aa: true,
        rd: true,
        ..Header::response_to(&Header::query(99, opcode::QUERY))
    };
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    builder
        .push_question(&Question {
            qname: name("Example.com."),
            qtype: Rtype::IXFR,
            qclass: Class::IN,
        })
        .unwrap();
    for record in &records {
        builder.push_answer(record).unwrap();
    }
    builder.push_authority(&records[0]).unwrap();
    let mut opt = Opt::new(4096);
    opt.dnssec_ok = true;
    builder.push_opt(&opt).unwrap();
    let bytes = builder.finish();

    let theirs = h_op::Message::from_vec(&bytes).unwrap();
    assert_eq!(theirs.metadata.id, 99);
    assert_eq!(theirs.metadata.message_type, MessageType::Response);
    assert!(theirs.metadata.authoritative && theirs.metadata.recursion_desired);
    assert_eq!(theirs.queries[0].name().to_string(), "Example.com.");
    assert_eq!(theirs.queries[0].query_type(), RecordType::IXFR);
    assert_eq!(theirs.queries[0].query_class(), DNSClass::IN);
    let answers: Vec<Record> = theirs.answers.iter().map(from_hickory).collect();
    assert_eq!(answers, records);
    for (theirs, ours) in answers.iter().zip(&records) {
        assert_eq!(theirs.owner.as_wire(), ours.owner.as_wire());
        assert_eq!(theirs.rdata, ours.rdata);
    }
    assert_eq!(
        theirs
            .authorities
            .iter()
            .map(from_hickory)
            .collect::<Vec<_>>(),
        vec![records[0].clone()]
    );
    let edns = theirs.edns.unwrap();
    assert_eq!((edns.max_payload(), edns.flags().dnssec_ok), (4096, true));
}

#[test]
fn our_queries_and_notify_parse_in_hickory() {
    let soa = Soa {
        mname: name("ns1.example."),
        rname: name("admin.example."),
        serial: 12,
        refresh: 1,
        retry: 2,
        expire: 3,
        minimum: 4,
    };
    let soa_record = Record {
        owner: name("example."),
        rtype: Rtype::SOA,
        class: Class::IN,
        ttl: 5,
        rdata: soa.to_rdata(),
    };
    let zone = name("example.");
    let ixfr = understudy_proto::wire::ixfr_query(1, &zone, &soa_record).unwrap();
    let theirs = h_op::Message::from_vec(&ixfr).unwrap();
    assert_eq!(theirs.queries[0].query_type(), RecordType::IXFR);
    match &theirs.authorities[0].data {
        RData::SOA(soa) => assert_eq!(soa.serial, 12),
        other => panic!("expected SOA, got {other:?}"),
    }
    let notify = understudy_proto::wire::notify(2, &zone, Some(&soa_record)).unwrap();
    let theirs = h_op::Message::from_vec(&notify).unwrap();
    assert_eq!(theirs.metadata.op_code, OpCode::Notify);
    assert!(theirs.metadata.authoritative);
    assert_eq!(theirs.answers.len(), 1);
    for query in [
        understudy_proto::wire::axfr_query(3, &zone),
        understudy_proto::wire::soa_query(4, &zone),
    ] {
        let theirs = h_op::Message::from_vec(&query).unwrap();
        assert_eq!(theirs.queries.len(), 1);
        assert_eq!(theirs.metadata.message_type, MessageType::Query);
    }
}
