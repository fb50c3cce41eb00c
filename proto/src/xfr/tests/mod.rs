//! Transfers in and out, with hand-built message sequences.

mod apply;
mod interpreter;
mod journal;
mod outbound;

use super::*;
use crate::name::Name;
use crate::record::{Class, Record, Rtype, Soa, opcode, rcode};
use crate::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Question};

pub(super) const ID: u16 = 0x4242;

pub(super) fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

pub(super) fn zone() -> Name {
    name("example.")
}

pub(super) fn soa(serial: u32) -> Record {
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

pub(super) fn a(owner: &str, last: u8) -> Record {
    Record {
        owner: name(owner),
        rtype: Rtype::A,
        class: Class::IN,
        ttl: 300,
        rdata: vec![192, 0, 2, last].into(),
    }
}

pub(super) fn hosts(count: usize) -> Vec<Record> {
    (0..count)
        .map(|i| a(&format!("h{i}.example."), (i % 250) as u8))
        .collect()
}

/// Response messages carrying `records`, `per_message` at a time.
pub(super) fn messages(qtype: Rtype, records: &[Record], per_message: usize) -> Vec<Vec<u8>> {
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

pub(super) fn run(request: Request, messages: &[Vec<u8>]) -> Result<Progress, XfrError> {
    let mut interpreter = Interpreter::new(zone(), ID, request, Limits::default());
    let mut progress = Progress::NeedMore;
    for message in messages {
        progress = interpreter.feed_bytes(message)?;
    }
    Ok(progress)
}

pub(super) fn axfr_records(serial: u32, body: &[Record]) -> Vec<Record> {
    [vec![soa(serial)], body.to_vec(), vec![soa(serial)]].concat()
}

/// The zone at serial 1 and 3, and the IXFR sequence between them.
pub(super) fn two_diffs() -> (Vec<Record>, Vec<Record>, Vec<Record>) {
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

pub(super) fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by(|x, y| {
        (&x.owner, x.rtype, &x.rdata, x.ttl).cmp(&(&y.owner, y.rtype, &y.rdata, y.ttl))
    });
    records
}

pub(super) fn journal_diff(from: u32, extra: usize) -> Diff {
    Diff {
        from,
        to: from + 1,
        removed: vec![soa(from)],
        added: [vec![soa(from + 1)], hosts(extra)].concat(),
    }
}
