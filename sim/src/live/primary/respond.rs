//! How the built-in primary answers one request: SOA and other queries,
//! AXFR and IXFR (TCP only), TSIG checked and every reply signed. Pure
//! function of the zone history and the request; the sockets live in
//! `server.rs`.

use understudy_proto::record::{opcode, rcode};
use understudy_proto::tsig::{self, KeyRing, ResponseSigner};
use understudy_proto::wire::{self, MAX_MESSAGE_LEN, Message, MessageBuilder};
use understudy_proto::xfr::{self, ResponseStream};
use understudy_proto::{Rtype, Serial};

use super::zone::ZoneHistory;

/// What a request was, for the primary's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Served {
    /// A full zone transfer (AXFR, or IXFR answered with the whole zone).
    Axfr,
    /// An incremental transfer carrying diffs.
    Ixfr,
    /// Anything else (SOA and other queries, up-to-date IXFR, refusals).
    Other,
}

/// The messages to send back, and what was served.
#[derive(Debug)]
pub struct Reply {
    /// Zero or more DNS messages, in order.
    pub messages: Vec<Vec<u8>>,
    /// What kind of request it was.
    pub served: Served,
}

/// Answers `bytes` received over TCP (`tcp`) or UDP, at Unix time `now`.
/// `keys` non-empty means every request must be signed with one of them.
pub fn respond(zone: &ZoneHistory, keys: &KeyRing, bytes: &[u8], tcp: bool, now: u64) -> Reply {
    let silent = Reply {
        messages: Vec::new(),
        served: Served::Other,
    };
    let Ok(query) = Message::parse(bytes) else {
        return silent;
    };
    if query.header.qr {
        return silent;
    }
    let mut signer = match tsig::verify_request(bytes, &query, keys, now) {
        Ok(signer) => signer,
        Err(mut error) => return single(error.response(&query, now).ok()),
    };
    if signer.is_none() && !keys.is_empty() {
        return single(wire::error_response(&query, rcode::NOTAUTH as u8).ok());
    }
    let (mut messages, served) = answer(zone, &query, tcp);
    if let Some(signer) = signer.as_mut() {
        for message in &mut messages {
            if sign(signer, message, now).is_err() {
                return silent;
            }
        }
    }
    Reply { messages, served }
}

fn single(message: Option<Vec<u8>>) -> Reply {
    Reply {
        messages: message.into_iter().collect(),
        served: Served::Other,
    }
}

fn sign(
    signer: &mut ResponseSigner,
    message: &mut Vec<u8>,
    now: u64,
) -> Result<(), tsig::SignError> {
    signer.sign(message, now)
}

fn answer(zone: &ZoneHistory, query: &Message, tcp: bool) -> (Vec<Vec<u8>>, Served) {
    let error = |code: u16| {
        let message = wire::error_response(query, code as u8).ok();
        (message.into_iter().collect(), Served::Other)
    };
    let Some(question) = query.question() else {
        return error(rcode::FORMERR);
    };
    if query.header.opcode != opcode::QUERY {
        return error(rcode::NOTIMP);
    }
    if !question.qname.is_subdomain_of(zone.name()) {
        return error(rcode::REFUSED);
    }
    match question.qtype {
        Rtype::AXFR if !tcp => error(rcode::NOTIMP),
        Rtype::AXFR => transfer(
            xfr::axfr_stream(query, zone.soa(), records(zone)),
            Served::Axfr,
        ),
        Rtype::IXFR => ixfr(zone, query, tcp),
        _ => (lookup(zone, query).into_iter().collect(), Served::Other),
    }
}

fn records(zone: &ZoneHistory) -> impl Iterator<Item = understudy_proto::Record> + '_ {
    zone.records().iter().cloned()
}

fn ixfr(zone: &ZoneHistory, query: &Message, tcp: bool) -> (Vec<Vec<u8>>, Served) {
    let Some(client) = xfr::ixfr_client_serial(query) else {
        let message = wire::error_response(query, rcode::FORMERR as u8).ok();
        return (message.into_iter().collect(), Served::Other);
    };
    let current = !Serial(zone.serial()).is_newer_than(Serial(client));
    if !tcp || current {
        // RFC 1995 §2: over UDP, the SOA alone tells the client to use TCP.
        let message = xfr::soa_response(query, zone.soa()).ok();
        return (message.into_iter().collect(), Served::Other);
    }
    let incremental = zone
        .journal()
        .diffs_since(client)
        .is_some_and(|d| !d.is_empty());
    let served = if incremental {
        Served::Ixfr
    } else {
        Served::Axfr
    };
    transfer(
        xfr::ixfr_stream(query, client, zone.soa(), zone.journal(), records(zone)),
        served,
    )
}

fn transfer(
    stream: Result<ResponseStream<'_>, xfr::OutboundError>,
    served: Served,
) -> (Vec<Vec<u8>>, Served) {
    let messages: Result<Vec<Vec<u8>>, _> = match stream {
        Ok(stream) => stream.collect(),
        Err(error) => Err(error),
    };
    match messages {
        Ok(messages) => (messages, served),
        Err(_) => (Vec::new(), Served::Other),
    }
}

/// An authoritative answer from the newest version: the records of the
/// question's name and type, NODATA or NXDOMAIN with the SOA in authority.
fn lookup(zone: &ZoneHistory, query: &Message) -> Option<Vec<u8>> {
    let question = query.question()?;
    let matching: Vec<_> = zone
        .records()
        .iter()
        .filter(|r| r.owner == question.qname)
        .collect();
    let header = wire::Header {
        aa: true,
        rcode: if matching.is_empty() {
            rcode::NXDOMAIN as u8
        } else {
            0
        },
        ..wire::Header::response_to(&query.header)
    };
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    builder.push_question(question).ok()?;
    let answers: Vec<_> = matching
        .into_iter()
        .filter(|r| r.rtype == question.qtype || question.qtype == Rtype::ANY)
        .collect();
    for record in &answers {
        builder.push_answer(record).ok()?;
    }
    if answers.is_empty() {
        builder.push_authority(zone.soa()).ok()?;
    }
    Some(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::primary::zone::SoaTimers;
    use understudy_proto::xfr::{Interpreter, Limits, Progress, Request, Transfer};

    fn zone() -> ZoneHistory {
        let mut zone = ZoneHistory::new("drill.example.", SoaTimers::default(), 1).unwrap();
        zone.change().unwrap();
        zone.change().unwrap();
        zone
    }

    fn run(zone: &ZoneHistory, query: &[u8], request: Request) -> (Transfer, Served) {
        let reply = respond(zone, &KeyRing::new(), query, true, 0);
        let mut interpreter = Interpreter::new(zone.name().clone(), 7, request, Limits::default());
        for message in &reply.messages {
            if let Progress::Done(transfer) = interpreter.feed_bytes(message).unwrap() {
                return (transfer, reply.served);
            }
        }
        panic!("transfer did not finish");
    }

    #[test]
    fn ixfr_from_an_old_serial_carries_the_diffs() {
        let zone = zone();
        let old = ZoneHistory::new("drill.example.", SoaTimers::default(), 1).unwrap();
        let query = wire::ixfr_query(7, zone.name(), old.soa()).unwrap();
        let (transfer, served) = run(&zone, &query, Request::Ixfr { serial: 1 });
        assert_eq!(served, Served::Ixfr);
        assert_eq!(transfer.serial(), 3);
        assert!(matches!(transfer, Transfer::Incremental { .. }));
    }

    #[test]
    fn axfr_over_tcp_is_the_whole_zone_and_refused_over_udp() {
        let zone = zone();
        let query = wire::axfr_query(7, zone.name());
        let (transfer, served) = run(&zone, &query, Request::Axfr);
        assert_eq!(served, Served::Axfr);
        assert_eq!(transfer.serial(), 3);
        let udp = respond(&zone, &KeyRing::new(), &query, false, 0);
        let reply = Message::parse(&udp.messages[0]).unwrap();
        assert_eq!(reply.rcode(), rcode::NOTIMP);
    }

    #[test]
    fn unsigned_requests_are_refused_when_a_key_is_required() {
        let zone = zone();
        let mut keys = KeyRing::new();
        let name = understudy_proto::Name::from_ascii("drill-key.").unwrap();
        keys.insert(tsig::Key::new(name, "hmac-sha256", vec![7; 32]).unwrap());
        let reply = respond(&zone, &keys, &wire::soa_query(1, zone.name()), false, 0);
        let reply = Message::parse(&reply.messages[0]).unwrap();
        assert_eq!(reply.rcode(), rcode::NOTAUTH);
    }
}
