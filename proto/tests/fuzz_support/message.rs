//! The message layer: `Message::parse` on arbitrary bytes.
//!
//! Input: the message bytes, no mode byte. Whatever parses is rebuilt with
//! `MessageBuilder`; the rebuilt message parses to the same content and
//! rebuilds to the same octets (compression is deterministic).

use understudy_proto::Record;
use understudy_proto::wire::{BuildError, MAX_MESSAGE_LEN, Message, MessageBuilder, Section};

/// One fuzz input through the parser and back through the builder.
pub fn check_message(bytes: &[u8]) {
    let Ok(message) = Message::parse(bytes) else {
        return;
    };
    check_fields(&message);
    let rebuilt = match rebuild(&message) {
        Ok(rebuilt) => rebuilt,
        // Our compression covers fewer types than a sender may have used,
        // so the same records can take more than 64 KiB.
        Err(BuildError::Full) => return,
        Err(error) => panic!("a parsed message does not rebuild: {error}"),
    };
    let reparsed = Message::parse(&rebuilt)
        .unwrap_or_else(|error| panic!("a rebuilt message does not parse: {error}"));
    assert_same_content(&message, &reparsed);
    let again = rebuild(&reparsed).expect("a rebuilt message rebuilds");
    assert_eq!(rebuilt, again, "rebuilding is not deterministic");
}

/// What the parser promises about the parts it hands back.
fn check_fields(message: &Message) {
    let records = message
        .answers
        .iter()
        .chain(&message.authority)
        .chain(&message.additional);
    for record in records {
        assert!(
            record.rdata.len() <= usize::from(u16::MAX),
            "RDATA longer than RDLENGTH allows"
        );
        assert!(
            record.owner.wire_len() <= 255,
            "owner name longer than 255 octets"
        );
    }
    if let Some(tsig) = &message.tsig {
        assert!(tsig.offset >= 12, "TSIG offset inside the header");
    }
}

/// The message written again: questions, sections in order, OPT, TSIG last.
pub fn rebuild(message: &Message) -> Result<Vec<u8>, BuildError> {
    let mut builder = MessageBuilder::new(message.header, MAX_MESSAGE_LEN);
    for question in &message.questions {
        builder.push_question(question)?;
    }
    let sections = [
        (Section::Answer, &message.answers),
        (Section::Authority, &message.authority),
        (Section::Additional, &message.additional),
    ];
    for (section, records) in sections {
        for record in records {
            builder.push(section, record)?;
        }
    }
    if let Some(opt) = &message.opt {
        builder.push_opt(opt)?;
    }
    if let Some(tsig) = &message.tsig {
        builder.push_additional(&tsig.record)?;
    }
    Ok(builder.finish())
}

/// Equal in everything but the TSIG record's offset, which moves when
/// compression differs. Names are compared octet for octet: `Name`'s own
/// equality ignores case, and case must survive (RFC 4343).
fn assert_same_content(original: &Message, reparsed: &Message) {
    assert_eq!(original.header, reparsed.header, "header changed");
    let questions = |m: &Message| -> Vec<(Vec<u8>, u16, u16)> {
        m.questions
            .iter()
            .map(|q| (q.qname.as_wire().to_vec(), q.qtype.0, q.qclass.0))
            .collect()
    };
    assert_eq!(
        questions(original),
        questions(reparsed),
        "questions changed"
    );
    assert_eq!(
        images(&original.answers),
        images(&reparsed.answers),
        "answers changed"
    );
    assert_eq!(
        images(&original.authority),
        images(&reparsed.authority),
        "authority changed"
    );
    assert_eq!(
        images(&original.additional),
        images(&reparsed.additional),
        "additional changed"
    );
    assert_eq!(original.opt, reparsed.opt, "OPT changed");
    let tsig = |m: &Message| images(m.tsig.as_ref().map(|t| &t.record));
    assert_eq!(tsig(original), tsig(reparsed), "TSIG record changed");
}

/// Records as exact octets: owner (case kept), type, class, TTL, RDATA.
pub fn images<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<RecordImage> {
    records
        .into_iter()
        .map(|r| {
            (
                r.owner.as_wire().to_vec(),
                r.rtype.0,
                r.class.0,
                r.ttl,
                r.rdata.to_vec(),
            )
        })
        .collect()
}

/// A record's fields as plain values.
pub type RecordImage = (Vec<u8>, u16, u16, u32, Vec<u8>);
