//! AXFR and IXFR out, to downstream clients the zone's ACL allows.

use tokio::sync::mpsc;
use understudy_proto::answer::Freshness;
use understudy_proto::record::{Rtype, rcode};
use understudy_proto::tsig::ResponseSigner;
use understudy_proto::wire::Message;
use understudy_proto::xfr::{self, ResponseStream};

use crate::dns::{ReplyPath, SpecialRequest};
use crate::manager::zone::ZoneData;
use crate::metrics::{TransferKind, XfrOutResult};
use crate::primary::unix_now;

use super::{Context, error_response, send};

/// Answers an AXFR or IXFR query.
pub async fn handle(
    context: &Context,
    request: SpecialRequest,
    message: Message,
    mut signer: Option<ResponseSigner>,
) {
    let Some(question) = message.question().cloned() else {
        return;
    };
    let kind = if question.qtype == Rtype::IXFR {
        TransferKind::Ixfr
    } else {
        TransferKind::Axfr
    };
    if kind == TransferKind::Axfr && matches!(request.reply, ReplyPath::Udp(_)) {
        // AXFR needs TCP (RFC 5936 §4.2); NSD and Knot answer NOTIMP.
        if let Some(response) = error_response(&message, rcode::NOTIMP as u8, signer.as_mut()) {
            send(&request.reply, response).await;
        }
        return;
    }
    let key = signer.as_ref().map(|signer| signer.key().name.clone());
    let allowed = context
        .shared
        .access
        .load()
        .get(&question.qname)
        .map(|zone| {
            zone.allow_transfer
                .allows(request.peer.ip().to_canonical(), key.as_ref())
        });
    let refusal = match (allowed, context.shared.zones.data(&question.qname)) {
        (None, _) => Some((rcode::NOTAUTH, XfrOutResult::Refused)),
        (Some(false), _) => Some((rcode::REFUSED, XfrOutResult::Refused)),
        (Some(true), None) | (Some(true), Some((_, Freshness::Expired))) => {
            Some((rcode::SERVFAIL, XfrOutResult::Error))
        }
        (Some(true), Some(_)) => None,
    };
    if let Some((code, result)) = refusal {
        tracing::info!(zone = %question.qname, remote = %request.peer, op = "xfr-out", rcode = code, "transfer refused");
        count(context, kind, result);
        if let Some(response) = error_response(&message, code as u8, signer.as_mut()) {
            send(&request.reply, response).await;
        }
        return;
    }
    // An IXFR query carries the client's SOA (RFC 1995 §3); FORMERR (to clients
    // the ACL lets in), as Knot.
    if kind == TransferKind::Ixfr && xfr::ixfr_client_serial(&message).is_none() {
        if let Some(response) = error_response(&message, rcode::FORMERR as u8, signer.as_mut()) {
            send(&request.reply, response).await;
        }
        return;
    }
    let Some((data, _)) = context.shared.zones.data(&question.qname) else {
        return;
    };
    match request.reply {
        ReplyPath::Udp(_) => {
            let reply = request.reply;
            let first = stream_messages(&message, &data, kind, true, signer)
                .into_iter()
                .next();
            if let Some(response) = first {
                send(&reply, response).await;
            }
        }
        ReplyPath::Tcp(sender) => {
            let zone = question.qname.clone();
            let peer = request.peer;
            let result = stream_tcp(message, data, kind, signer, sender).await;
            count(
                context,
                kind,
                if result {
                    XfrOutResult::Ok
                } else {
                    XfrOutResult::Error
                },
            );
            tracing::info!(zone = %zone, remote = %peer, op = "xfr-out", kind = ?kind, ok = result, "transfer served");
        }
    }
}

/// Streams the transfer on a TCP connection from a blocking thread (the
/// message stream is built lazily from the snapshot); true when every
/// message was queued.
async fn stream_tcp(
    message: Message,
    data: ZoneData,
    kind: TransferKind,
    mut signer: Option<ResponseSigner>,
    sender: mpsc::Sender<Vec<u8>>,
) -> bool {
    let work = tokio::task::spawn_blocking(move || {
        let Ok(stream) = response_stream(&message, &data, kind, false) else {
            return false;
        };
        for built in stream {
            let Ok(mut response) = built else {
                return false;
            };
            if let Some(signer) = signer.as_mut()
                && signer.sign(&mut response, unix_now()).is_err()
            {
                return false;
            }
            if sender.blocking_send(response).is_err() {
                return false;
            }
        }
        true
    });
    work.await.unwrap_or(false)
}

/// The messages of a transfer, all built (for the single-message UDP case).
fn stream_messages(
    message: &Message,
    data: &ZoneData,
    kind: TransferKind,
    soa_only: bool,
    mut signer: Option<ResponseSigner>,
) -> Vec<Vec<u8>> {
    let Ok(stream) = response_stream(message, data, kind, soa_only) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for mut response in stream.flatten() {
        if let Some(signer) = signer.as_mut()
            && signer.sign(&mut response, unix_now()).is_err()
        {
            return Vec::new();
        }
        out.push(response);
    }
    out
}

/// The response stream; `soa_only` answers an IXFR with the current SOA
/// alone, as over UDP.
fn response_stream<'a>(
    message: &Message,
    data: &'a ZoneData,
    kind: TransferKind,
    soa_only: bool,
) -> Result<ResponseStream<'a>, xfr::OutboundError> {
    let soa = data.snapshot.soa();
    let records = data.snapshot.records();
    match kind {
        TransferKind::Axfr => xfr::axfr_stream(message, &soa, records),
        TransferKind::Ixfr => {
            let client = match soa_only {
                true => data.snapshot.serial(),
                false => xfr::ixfr_client_serial(message).unwrap_or(data.snapshot.serial()),
            };
            xfr::ixfr_stream(message, client, &soa, &data.journal, records)
        }
    }
}

fn count(context: &Context, kind: TransferKind, result: XfrOutResult) {
    if let Some(metrics) = &context.metrics {
        metrics.xfr_out(kind, result);
    }
}
