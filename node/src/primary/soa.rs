//! The SOA check of a refresh: ask one primary for the zone's SOA.
//!
//! Over UDP first, as BIND, Knot and NSD do, and again over TCP when the
//! answer comes back truncated. With a TSIG key the query is signed and the
//! answer must verify.

use std::time::Duration;

use understudy_proto::Name;
use understudy_proto::record::{Rtype, rcode};
use understudy_proto::refresh::{Failure, SoaTimers};
use understudy_proto::tsig::{self, ResponseVerifier};
use understudy_proto::wire::{self, Message};

use super::transport::{self, Stream, StreamLimits};
use super::{Primary, unix_now};

/// Asks `primary` for `zone`'s SOA within `timeout`.
pub async fn query_soa(
    primary: &Primary,
    zone: &Name,
    timeout: Duration,
) -> Result<SoaTimers, Failure> {
    let id = rand::random::<u16>();
    let (request, verifier) = signed(primary, wire::soa_query(id, zone))?;
    let reply = transport::exchange_udp(primary.addr, primary.source, &request, timeout)
        .await
        .map_err(super::failure)?;
    let message = Message::parse(&reply).map_err(|error| Failure::Malformed(error.to_string()))?;
    if message.header.tc {
        return query_soa_tcp(primary, &request, verifier, zone, timeout).await;
    }
    check_answer(&reply, &message, verifier, zone)
}

async fn query_soa_tcp(
    primary: &Primary,
    request: &[u8],
    verifier: Option<ResponseVerifier>,
    zone: &Name,
    timeout: Duration,
) -> Result<SoaTimers, Failure> {
    let limits = StreamLimits {
        io_timeout: timeout,
        deadline: timeout,
        min_rate: 0,
    };
    let mut stream = Stream::connect(primary.addr, primary.source, limits)
        .await
        .map_err(super::failure)?;
    stream.send(request).await.map_err(super::failure)?;
    let reply = stream.receive().await.map_err(super::failure)?;
    let message = Message::parse(&reply).map_err(|error| Failure::Malformed(error.to_string()))?;
    check_answer(&reply, &message, verifier, zone)
}

/// Signs `request` when the primary has a key; returns the bytes to send and
/// the verifier for the answer.
pub fn signed(
    primary: &Primary,
    mut request: Vec<u8>,
) -> Result<(Vec<u8>, Option<ResponseVerifier>), Failure> {
    let Some(key) = &primary.key else {
        return Ok((request, None));
    };
    let verifier = tsig::sign_request(&mut request, key, unix_now())
        .map_err(|error| Failure::Tsig(error.to_string()))?;
    Ok((request, Some(verifier)))
}

fn check_answer(
    bytes: &[u8],
    message: &Message,
    verifier: Option<ResponseVerifier>,
    zone: &Name,
) -> Result<SoaTimers, Failure> {
    if let Some(mut verifier) = verifier {
        verifier
            .verify(bytes, message, unix_now())
            .map_err(|error| Failure::Tsig(error.to_string()))?;
        verifier
            .finish()
            .map_err(|error| Failure::Tsig(error.to_string()))?;
    }
    if message.rcode() != rcode::NOERROR {
        return Err(Failure::Rcode(message.rcode()));
    }
    let question = message
        .question()
        .ok_or_else(|| Failure::Malformed("no question in the answer".into()))?;
    if question.qname != *zone || question.qtype != Rtype::SOA {
        return Err(Failure::Malformed(format!(
            "answer is for {} {}",
            question.qname, question.qtype
        )));
    }
    let soa = message
        .answers
        .iter()
        .find(|record| record.rtype == Rtype::SOA && record.owner == *zone)
        .and_then(|record| record.soa())
        .ok_or_else(|| Failure::Malformed("no SOA for the zone in the answer".into()))?;
    if !message.header.aa {
        return Err(Failure::Malformed("answer is not authoritative".into()));
    }
    Ok(SoaTimers::from(&soa))
}
