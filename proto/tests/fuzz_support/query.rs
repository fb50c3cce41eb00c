//! The query path: `Responder::respond` on arbitrary packets.
//!
//! Input: one mode byte, then the query packet.
//!
//! ```text
//! bit  0     transport: 0 UDP, 1 TCP
//! bits 1-3   output buffer size, an index into BUFFER_SIZES
//! bits 4-5   responder settings, an index into Fixture::servers
//! bits 6-7   example.org.: fresh, stale, expired, configured without data
//! ```

use understudy_proto::answer::{
    AnswerConfig, Freshness, Outcome, Responder, SpecialQuery, Transport, ZoneSet, unsigned_query,
};
use understudy_proto::name;
use understudy_proto::record::{Rtype, opcode};
use understudy_proto::tsig::{TsigRdata, verify_request};
use understudy_proto::wire::{Header, MAX_MESSAGE_LEN, Message, MessageBuilder};

use super::fixture::fixture;

/// Output buffers the node might hand the responder, down to too small for
/// a header.
pub const BUFFER_SIZES: [usize; 8] = [65535, 4096, 1232, 512, 511, 100, 12, 0];
const HEADER_LEN: usize = 12;
const CLASSIC_UDP_LIMIT: usize = 512;
/// Over TCP, NSD (and so we) drop messages shorter than a header and a
/// root question instead of answering FORMERR.
const TCP_MIN_QUERY: usize = HEADER_LEN + 1 + 4;

/// A responder and the UDP limit its settings imply.
pub struct Server {
    /// The responder under test.
    pub responder: Responder,
    /// Its `AnswerConfig::max_udp_payload`.
    pub max_udp_payload: u16,
}

impl Server {
    /// A responder with `config`.
    pub fn new(config: AnswerConfig) -> Server {
        Server {
            max_udp_payload: config.max_udp_payload,
            responder: Responder::new(config),
        }
    }
}

/// One fuzz input through the responder, over the fixture zones.
pub fn check_query(data: &[u8]) {
    let Some((&mode, packet)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    let transport = if mode & 1 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let size = BUFFER_SIZES[usize::from(mode >> 1 & 7)];
    let server = &fixture.servers[usize::from(mode >> 4 & 3)];
    let zones = match mode >> 6 {
        0 => fixture.zones(Freshness::Fresh),
        1 => fixture.zones(Freshness::Stale),
        2 => fixture.zones(Freshness::Expired),
        _ => fixture.zones_without_org_data(),
    };
    check_respond(server, &zones, packet, transport, size);
}

/// Answers `packet` and checks the outcome; returns the reply, if any.
pub fn check_respond(
    server: &Server,
    zones: &impl ZoneSet,
    packet: &[u8],
    transport: Transport,
    size: usize,
) -> Option<Message> {
    let responder = &server.responder;
    let mut out = vec![0u8; size];
    let outcome = responder.respond(zones, packet, transport, &mut out);
    let mut again = vec![0xA5u8; size];
    let repeated = responder.respond(zones, packet, transport, &mut again);
    assert_eq!(outcome, repeated, "same query, same outcome");
    let parsed_query = Message::parse(packet).ok();
    match outcome {
        Outcome::Drop => {
            check_drop(packet, transport, size);
            None
        }
        Outcome::Special(special) => {
            check_special(server, zones, packet, parsed_query.as_ref(), special);
            None
        }
        Outcome::Reply { len, rcode } => {
            assert_eq!(out.get(..len), again.get(..len), "same query, same reply");
            let limit = size_limit(server, parsed_query.as_ref(), transport);
            assert!(
                len <= size,
                "reply of {len} octets in a {size}-octet buffer"
            );
            assert!(len <= limit, "reply of {len} octets over the limit {limit}");
            let reply = check_reply(packet, &out[..len]);
            assert_eq!(
                reply.rcode(),
                rcode,
                "Outcome's RCODE differs from the reply's"
            );
            if transport == Transport::Tcp && size >= MAX_MESSAGE_LEN {
                assert!(
                    !reply.header.tc,
                    "TC set on a TCP reply with room for 64 KiB"
                );
            }
            if transport == Transport::Udp {
                compare_with_tcp(responder, zones, packet, &reply);
            }
            Some(reply)
        }
    }
}

/// Only a packet without a readable header, a response, a buffer too
/// small for any reply, or a TCP message too short for a question is
/// dropped.
fn check_drop(packet: &[u8], transport: Transport, size: usize) {
    let is_response = packet.get(2).is_some_and(|flags| flags & 0x80 != 0);
    let short_for_tcp = transport == Transport::Tcp && packet.len() < TCP_MIN_QUERY;
    assert!(
        packet.len() < HEADER_LEN || is_response || size < CLASSIC_UDP_LIMIT || short_for_tcp,
        "a query with a header was dropped with a {size}-octet buffer"
    );
}

/// The most a reply may hold: 512 without EDNS over UDP, the larger of 512
/// and our maximum with EDNS, 65535 over TCP.
fn size_limit(server: &Server, query: Option<&Message>, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => MAX_MESSAGE_LEN,
        Transport::Udp => match query {
            Some(query) if query.opt.is_none() => CLASSIC_UDP_LIMIT,
            _ => usize::from(server.max_udp_payload).max(CLASSIC_UDP_LIMIT),
        },
    }
}

/// A reply parses, answers this query's id and opcode, has QR set and
/// echoes the question exactly as asked (case included, RFC 1034 §4.3.2).
pub fn check_reply(packet: &[u8], bytes: &[u8]) -> Message {
    let reply = Message::parse(bytes)
        .unwrap_or_else(|error| panic!("reply does not parse: {error}: {bytes:02x?}"));
    assert_eq!(
        bytes.get(..2),
        packet.get(..2),
        "reply id differs from the query's"
    );
    assert!(reply.header.qr, "QR not set in a reply");
    let query_opcode = packet.get(2).map(|flags| flags >> 3 & 0xF);
    assert_eq!(Some(reply.header.opcode), query_opcode, "opcode not echoed");
    assert!(
        reply.questions.len() <= 1,
        "more than one question in a reply"
    );
    if !reply.questions.is_empty() {
        let question_len = packet
            .get(HEADER_LEN..)
            .and_then(|rest| name::wire_len(rest).ok())
            .map(|len| len + 4)
            .expect("a reply echoes only a readable question");
        let asked = packet.get(HEADER_LEN..HEADER_LEN + question_len);
        let echoed = bytes.get(HEADER_LEN..HEADER_LEN + question_len);
        assert_eq!(asked, echoed, "question not echoed as asked");
    }
    reply
}

/// A UDP reply is the TCP reply cut at an RRset boundary: its answer
/// section a prefix of the TCP one, and both sections whole when TC is clear.
fn compare_with_tcp(responder: &Responder, zones: &impl ZoneSet, packet: &[u8], udp: &Message) {
    let mut out = vec![0u8; MAX_MESSAGE_LEN];
    let outcome = responder.respond(zones, packet, Transport::Tcp, &mut out);
    let Outcome::Reply { len, .. } = outcome else {
        // Transfers are refused over UDP (AXFR NOTIMP, IXFR without its SOA
        // FORMERR) but go to the node over TCP.
        let transfer = matches!(
            udp.question().map(|q| q.qtype),
            Some(Rtype::AXFR | Rtype::IXFR)
        );
        assert!(
            packet.len() < TCP_MIN_QUERY || (transfer && matches!(outcome, Outcome::Special(_))),
            "answered over UDP but not over TCP"
        );
        return;
    };
    let tcp = Message::parse(&out[..len]).expect("TCP reply parses");
    assert_eq!(udp.rcode(), tcp.rcode(), "UDP and TCP rcodes differ");
    assert!(
        tcp.answers.starts_with(&udp.answers),
        "UDP answer section is not a prefix of the TCP one"
    );
    if !udp.header.tc {
        assert_eq!(
            udp.answers, tcp.answers,
            "untruncated UDP answer differs from TCP"
        );
        check_authority_kept(udp, &tcp);
    }
}

/// Without TC, a UDP reply may leave out only optional authority data (the
/// zone's NS RRset beside a positive answer, RFC 2181 §9): never the SOA
/// of a negative answer, the NSEC/NSEC3 proofs and DS of RFC 4035 §3.1,
/// their RRSIGs, nor the NS RRset of a referral. What it keeps is TCP's.
fn check_authority_kept(udp: &Message, tcp: &Message) {
    for record in &udp.authority {
        assert!(
            tcp.authority.contains(record),
            "UDP authority holds {record:?} that TCP's lacks"
        );
    }
    let referral = tcp.answers.is_empty();
    for record in &tcp.authority {
        let rtype = match record.rtype {
            Rtype::RRSIG => record
                .rdata
                .get(..2)
                .map(|c| Rtype(u16::from_be_bytes([c[0], c[1]]))),
            rtype => Some(rtype),
        };
        let required = match rtype {
            Some(Rtype::SOA | Rtype::NSEC | Rtype::NSEC3 | Rtype::DS) => true,
            Some(Rtype::NS) => referral,
            _ => false,
        };
        assert!(
            !required || udp.authority.contains(record),
            "untruncated UDP reply left out {record:?}"
        );
    }
}

/// Special outcomes match what the query is, the TSIG offset points at the
/// TSIG RR, and a signed query's unsigned form is answered normally.
fn check_special(
    server: &Server,
    zones: &impl ZoneSet,
    packet: &[u8],
    query: Option<&Message>,
    special: SpecialQuery,
) {
    if let Some(offset) = special.tsig_offset() {
        assert!(
            offset >= HEADER_LEN && offset < packet.len(),
            "TSIG offset {offset} outside the query"
        );
    }
    if let Some(query) = query {
        check_special_matches(query, special);
        if query.tsig.is_some() {
            check_tsig(packet, query);
        }
    }
    if let SpecialQuery::Signed { tsig } = special {
        let unsigned = unsigned_query(packet, tsig).expect("a signed query has an unsigned form");
        check_reserving(server, zones, &unsigned);
    }
}

/// The unsigned form of a signed query is answered, leaving room under the
/// size limit for the TSIG RR the node appends.
fn check_reserving(server: &Server, zones: &impl ZoneSet, unsigned: &[u8]) {
    let parsed = Message::parse(unsigned).ok();
    for (transport, reserve) in [(Transport::Udp, 120), (Transport::Tcp, 400)] {
        let mut out = vec![0u8; MAX_MESSAGE_LEN];
        let outcome = server
            .responder
            .respond_reserving(zones, unsigned, transport, &mut out, reserve);
        let Outcome::Reply { len, .. } = outcome else {
            panic!("the unsigned form of a signed query is answered, not {outcome:?}");
        };
        let limit = size_limit(server, parsed.as_ref(), transport);
        assert!(
            len + reserve <= limit,
            "{len} octets leave no room for {reserve} under {limit}"
        );
        check_reply(unsigned, &out[..len]);
    }
}

fn check_special_matches(query: &Message, special: SpecialQuery) {
    assert_eq!(
        special.tsig_offset(),
        query.tsig.as_ref().map(|tsig| tsig.offset),
        "TSIG offset disagrees with Message::parse"
    );
    let qtype = query.question().map(|q| q.qtype);
    match special {
        SpecialQuery::Notify { .. } => assert_eq!(query.header.opcode, opcode::NOTIFY),
        SpecialQuery::Axfr { .. } => assert_eq!(qtype, Some(Rtype::AXFR)),
        SpecialQuery::Ixfr { .. } => assert_eq!(qtype, Some(Rtype::IXFR)),
        SpecialQuery::Signed { .. } => assert!(query.tsig.is_some()),
    }
}

/// A signed query goes through TSIG verification as the node does it, with
/// the key the captured queries were signed with and the query's own time
/// (so that captured signatures verify): a valid one signs a response, a
/// refused one yields the error response RFC 8945 §5.3.2 prescribes.
fn check_tsig(packet: &[u8], query: &Message) {
    let keys = &super::fixture::fixture().tsig_keys;
    let now = query
        .tsig
        .as_ref()
        .and_then(|tsig| TsigRdata::parse(&tsig.record.rdata))
        .map_or(0, |rdata| rdata.time_signed);
    match verify_request(packet, query, keys, now) {
        Ok(None) => panic!("a signed query verified as unsigned"),
        Ok(Some(mut signer)) => {
            let header = Header::response_to(&query.header);
            let mut response = MessageBuilder::new(header, MAX_MESSAGE_LEN).finish();
            signer
                .sign(&mut response, now)
                .expect("a header-only response can be signed");
            let signed = Message::parse(&response).expect("a signed response parses");
            assert!(signed.tsig.is_some(), "a signed response without TSIG");
        }
        Err(mut error) => {
            let rcode = error.rcode();
            let Ok(response) = error.response(query, now) else {
                return;
            };
            let parsed = check_reply(packet, &response);
            assert_eq!(
                parsed.rcode(),
                rcode,
                "TSIG error response with another rcode"
            );
            assert_eq!(parsed.tsig.is_some(), error.tsig_error().is_some());
        }
    }
}
