//! Random and mutated bytes never panic `Message::parse`, and whatever it
//! accepts survives a rebuild with the same content.

use proptest::prelude::*;
use understudy_proto::record::{Class, Record, Rtype};
use understudy_proto::wire::{Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Section};
use understudy_proto::{Name, Soa};

/// A valid response with compressed names of several types, to mutate.
fn seed_message() -> Vec<u8> {
    let soa = Soa {
        mname: Name::from_ascii("ns1.example.").unwrap(),
        rname: Name::from_ascii("admin.example.").unwrap(),
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
    };
    let mut builder = MessageBuilder::new(
        Header {
            qr: true,
            ..Header::default()
        },
        MAX_MESSAGE_LEN,
    );
    let owner = Name::from_ascii("example.").unwrap();
    let mx = [
        &[0u8, 5][..],
        Name::from_ascii("mx.example.").unwrap().as_wire(),
    ]
    .concat();
    for (rtype, rdata) in [
        (Rtype::SOA, soa.to_rdata()),
        (Rtype::MX, mx.into()),
        (Rtype::A, vec![1, 2, 3, 4].into()),
    ] {
        let record = Record {
            owner: owner.clone(),
            rtype,
            class: Class::IN,
            ttl: 60,
            rdata,
        };
        builder.push(Section::Answer, &record).unwrap();
    }
    builder.finish()
}

/// Whatever parses rebuilds into a message that parses to the same records.
fn check_round_trip(bytes: &[u8]) {
    let Ok(message) = Message::parse(bytes) else {
        return;
    };
    let mut builder = MessageBuilder::new(message.header, MAX_MESSAGE_LEN);
    for question in &message.questions {
        builder.push_question(question).unwrap();
    }
    for (section, records) in [
        (Section::Answer, &message.answers),
        (Section::Authority, &message.authority),
        (Section::Additional, &message.additional),
    ] {
        for record in records {
            builder.push(section, record).unwrap();
        }
    }
    let again = Message::parse(&builder.finish()).unwrap();
    assert_eq!(again.answers, message.answers);
    assert_eq!(again.authority, message.authority);
    assert_eq!(again.additional, message.additional);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_round_trip(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = seed_message();
        for (at, value) in edits {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        check_round_trip(&bytes);
        let keep = cut % (bytes.len() + 1);
        check_round_trip(&bytes[..keep]);
    }
}
