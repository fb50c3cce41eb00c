//! Real packets to mutate: queries built the ways clients build them, and
//! the captured AXFR and IXFR streams of the fixture zones.

use understudy_proto::record::opcode;
use understudy_proto::tsig::{Key, sign_request};
use understudy_proto::wire::{
    EdnsOption, Header, MAX_MESSAGE_LEN, MessageBuilder, Opt, Question, axfr_query, ixfr_query,
    notify, soa_query,
};
use understudy_proto::{Class, Name, Rtype};

use super::fixture::{AXFR_STREAMS, TSIG_SECRET, fixture};
use super::frames;

/// IXFR streams captured after a change: zone, serial asked, stream.
pub const IXFR_STREAMS: [(&str, &[u8]); 3] = [
    ("example.", include_bytes!("zones/example.ixfr")),
    ("example.org.", include_bytes!("zones/example.org.ixfr")),
    ("child.example.", include_bytes!("zones/child.example.ixfr")),
];

/// A captured IXFR stream: the serial it was asked from and its messages.
pub fn ixfr_stream(index: usize) -> (Name, u32, Vec<&'static [u8]>) {
    let (zone, data) = IXFR_STREAMS[index % IXFR_STREAMS.len()];
    let serial = data
        .get(..4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
    let messages = frames(data.get(4..).unwrap_or_default());
    (name(zone), serial, messages)
}

/// A captured AXFR stream: its zone and messages.
pub fn axfr_stream(index: usize) -> (Name, Vec<&'static [u8]>) {
    let (zone, stream) = AXFR_STREAMS[index % AXFR_STREAMS.len()];
    (name(zone), frames(stream))
}

/// Queries of every shape the responder distinguishes.
pub fn queries() -> Vec<Vec<u8>> {
    let mut queries = Vec::new();
    let asked = [
        ("www.example.", Rtype::A),
        ("WwW.eXaMpLe.", Rtype::AAAA),
        ("chain.example.", Rtype::A),
        ("x.y.wild.example.", Rtype::TXT),
        ("b.ent.example.", Rtype::A),
        ("a.inzone.example.", Rtype::A),
        ("host.deleg.example.", Rtype::A),
        ("child.example.", Rtype::DS),
        ("big.example.", Rtype::TXT),
        ("example.", Rtype::ANY),
        ("nothing.example.org.", Rtype::A),
        ("x.wild.example.org.", Rtype::AAAA),
        ("host.insecure.example.org.", Rtype::A),
        ("www.example.net.", Rtype::A),
    ];
    for (qname, qtype) in asked {
        queries.push(query(qname, qtype, Class::IN, None));
        queries.push(query(qname, qtype, Class::IN, Some(edns(true, 0, 1232))));
    }
    queries.push(query(
        "big.example.",
        Rtype::TXT,
        Class::IN,
        Some(edns(true, 0, 512)),
    ));
    queries.push(query(
        "www.example.",
        Rtype::A,
        Class::IN,
        Some(edns(false, 1, 4096)),
    ));
    queries.push(query(
        "id.server.",
        Rtype::TXT,
        Class::CH,
        Some(edns(false, 0, 1232)),
    ));
    queries.push(query("version.bind.", Rtype::TXT, Class::CH, None));
    queries.extend(transfer_queries());
    queries
}

fn transfer_queries() -> Vec<Vec<u8>> {
    let zone = name("example.");
    let soa = fixture().snapshots[0].soa();
    let mut queries = vec![soa_query(7, &zone), axfr_query(8, &zone)];
    queries.extend(ixfr_query(9, &zone, &soa));
    queries.extend(notify(10, &zone, Some(&soa)));
    let mut signed = query("www.example.", Rtype::A, Class::IN, None);
    let key = Key::new(name("fuzz-key."), "hmac-sha256", TSIG_SECRET.to_vec()).expect("key");
    if sign_request(&mut signed, &key, 1_700_000_000).is_ok() {
        queries.push(signed);
    }
    queries
}

/// A query as a client builds it.
pub fn query(qname: &str, qtype: Rtype, qclass: Class, opt: Option<Opt>) -> Vec<u8> {
    let mut builder = MessageBuilder::new(Header::query(0x1234, opcode::QUERY), MAX_MESSAGE_LEN);
    let question = Question {
        qname: name(qname),
        qtype,
        qclass,
    };
    builder.push_question(&question).expect("one question fits");
    if let Some(opt) = opt {
        builder.push_opt(&opt).expect("OPT fits");
    }
    builder.finish()
}

/// EDNS with DO as given, a version, a payload size, and NSID asked for.
pub fn edns(dnssec_ok: bool, version: u8, payload: u16) -> Opt {
    Opt {
        dnssec_ok,
        version,
        options: vec![EdnsOption {
            code: 3,
            data: Vec::new(),
        }],
        ..Opt::new(payload)
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("seed name")
}
