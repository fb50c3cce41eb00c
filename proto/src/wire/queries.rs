//! The messages a secondary sends: SOA, AXFR and IXFR queries, NOTIFY, and
//! the replies to NOTIFY and to queries it refuses.

use crate::name::Name;
use crate::record::{Class, Record, Rtype, opcode};

use super::builder::{MAX_MESSAGE_LEN, MessageBuilder};
use super::edns::Opt;
use super::error::BuildError;
use super::header::Header;
use super::message::{Message, Question};

/// An SOA query for `zone`, as a refresh check sends it (RFC 1034 §4.3.5).
pub fn soa_query(id: u16, zone: &Name) -> Vec<u8> {
    single_question(Header::query(id, opcode::QUERY), zone, Rtype::SOA)
}

/// An AXFR query for `zone` (RFC 5936 §2.1).
pub fn axfr_query(id: u16, zone: &Name) -> Vec<u8> {
    single_question(Header::query(id, opcode::QUERY), zone, Rtype::AXFR)
}

/// An IXFR query for `zone` carrying the secondary's current SOA in the
/// authority section (RFC 1995 §3).
pub fn ixfr_query(id: u16, zone: &Name, current_soa: &Record) -> Result<Vec<u8>, BuildError> {
    let mut builder = with_question(Header::query(id, opcode::QUERY), zone, Rtype::IXFR)?;
    builder.push_authority(current_soa)?;
    Ok(builder.finish())
}

/// A NOTIFY for `zone` (RFC 1996 §3.7), with AA set and optionally the new
/// SOA in the answer section as a hint.
pub fn notify(id: u16, zone: &Name, soa: Option<&Record>) -> Result<Vec<u8>, BuildError> {
    let header = Header {
        aa: true,
        ..Header::query(id, opcode::NOTIFY)
    };
    let mut builder = with_question(header, zone, Rtype::SOA)?;
    if let Some(soa) = soa {
        builder.push_answer(soa)?;
    }
    Ok(builder.finish())
}

/// The acknowledgement of a NOTIFY (RFC 1996 §4.7): same id, QR set, the
/// question echoed (AA clear, as Knot answers; the RFC asks for neither).
pub fn notify_response(notify: &Message) -> Result<Vec<u8>, BuildError> {
    echo(Header::response_to(&notify.header), notify)
}

/// A response to `query` carrying only `rcode` (at most 15: extended codes
/// need an OPT record) and the question echoed, e.g. REFUSED or NOTAUTH for
/// a transfer the ACL does not allow.
pub fn error_response(query: &Message, rcode: u8) -> Result<Vec<u8>, BuildError> {
    let header = Header {
        rcode: rcode & 0xF,
        ..Header::response_to(&query.header)
    };
    echo(header, query)
}

/// The question echoed, and an OPT record when the query had one (RFC 6891
/// §7: a responder that understands EDNS answers with OPT), DO copied.
fn echo(header: Header, query: &Message) -> Result<Vec<u8>, BuildError> {
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    if let Some(question) = query.question() {
        builder.push_question(question)?;
    }
    if let Some(opt) = &query.opt {
        let mut reply = Opt::new(ECHOED_UDP_PAYLOAD);
        reply.dnssec_ok = opt.dnssec_ok;
        builder.push_opt(&reply)?;
    }
    Ok(builder.finish())
}

/// The UDP payload size announced in the OPT of echoed replies (the size
/// NSD and Knot announce by default).
const ECHOED_UDP_PAYLOAD: u16 = 1232;

fn with_question(header: Header, zone: &Name, qtype: Rtype) -> Result<MessageBuilder, BuildError> {
    let mut builder = MessageBuilder::new(header, MAX_MESSAGE_LEN);
    builder.push_question(&Question {
        qname: zone.clone(),
        qtype,
        qclass: Class::IN,
    })?;
    Ok(builder)
}

/// A message holding one question and nothing else, written directly: it
/// cannot fail, as a name is at most 255 octets.
fn single_question(header: Header, zone: &Name, qtype: Rtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + zone.wire_len() + 4);
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(zone.as_wire());
    out.extend_from_slice(&qtype.0.to_be_bytes());
    out.extend_from_slice(&Class::IN.0.to_be_bytes());
    out
}
