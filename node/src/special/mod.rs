//! Messages the query fast path hands over: NOTIFY, AXFR and IXFR to
//! downstream clients, and queries signed with TSIG.
//!
//! Each request is parsed in full, its TSIG checked against the node's keys
//! (RFC 8945 §5.2: errors get the response the RFC prescribes), then:
//! - NOTIFY (RFC 1996): accepted from the zone's primaries and `allow_notify`,
//!   signed with the zone's key when it has one; answered, then passed to
//!   the zone manager as an immediate SOA check.
//! - AXFR/IXFR: answered for clients `allow_transfer` lets in, from the
//!   snapshot served and its journal; REFUSED for everyone else. Over UDP,
//!   AXFR is NOTIMP and IXFR gets the single SOA that sends the client to
//!   TCP (RFC 1995 §2).
//! - Other signed queries: answered as usual, the response signed.

mod notify;
mod transfer;

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use understudy_proto::answer::{self, Outcome, Responder, Transport};
use understudy_proto::record::{Rtype, opcode};
use understudy_proto::tsig::{self, KeyRing, ResponseSigner};
use understudy_proto::wire::{self, Message};

use crate::dns::{ReplyPath, SpecialRequest};
use crate::manager::{Command, Shared};
use crate::metrics::Metrics;
use crate::primary::unix_now;

/// Special requests handled at once; more wait.
const CONCURRENCY: usize = 64;

/// What the special handler needs.
pub struct Context {
    /// Zones, their data and access rules.
    pub shared: Arc<Shared>,
    /// The node's TSIG keys.
    pub keys: KeyRing,
    /// Answers signed queries.
    pub responder: Arc<Responder>,
    /// NOTIFYs go here.
    pub commands: mpsc::Sender<Command>,
    /// Counts NOTIFYs and transfers out.
    pub metrics: Option<Arc<Metrics>>,
}

/// Handles special requests until the fast path stops sending them.
pub async fn serve(context: Arc<Context>, mut requests: mpsc::Receiver<SpecialRequest>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(request) = requests.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let context = context.clone();
        tokio::spawn(async move {
            handle(&context, request).await;
            drop(permit);
        });
    }
}

async fn handle(context: &Context, request: SpecialRequest) {
    let message = match Message::parse(&request.message) {
        Ok(message) => message,
        Err(error) => {
            tracing::debug!(peer = %request.peer, %error, "unreadable special request dropped");
            return;
        }
    };
    let signer = match tsig::verify_request(&request.message, &message, &context.keys, unix_now()) {
        Ok(signer) => signer,
        Err(mut error) => {
            tracing::info!(peer = %request.peer, %error, "TSIG check failed");
            if let Ok(response) = error.response(&message, unix_now()) {
                send(&request.reply, response).await;
            }
            return;
        }
    };
    let qtype = message.question().map(|question| question.qtype);
    match (message.header.opcode, qtype) {
        (opcode::NOTIFY, _) => notify::handle(context, &request, &message, signer).await,
        (opcode::QUERY, Some(Rtype::AXFR | Rtype::IXFR)) => {
            transfer::handle(context, request, message, signer).await
        }
        _ => answer_signed(context, &request, &message, signer).await,
    }
}

/// Answers a query whose TSIG verified, and signs the answer.
async fn answer_signed(
    context: &Context,
    request: &SpecialRequest,
    message: &Message,
    signer: Option<ResponseSigner>,
) {
    let (Some(mut signer), Some(tsig)) = (signer, &message.tsig) else {
        return;
    };
    let offset = tsig.offset;
    let Some(unsigned) = answer::unsigned_query(&request.message, offset) else {
        return;
    };
    let transport = match request.reply {
        ReplyPath::Udp(_) => Transport::Udp,
        ReplyPath::Tcp(_) => Transport::Tcp,
    };
    let mut out = vec![0u8; wire::MAX_MESSAGE_LEN];
    let table = context.shared.zones.load();
    let reserve = signer.key().name.wire_len() + 128;
    let Outcome::Reply { len, .. } = context
        .responder
        .respond_reserving(&**table, &unsigned, transport, &mut out, reserve)
    else {
        return;
    };
    out.truncate(len);
    if signer.sign(&mut out, unix_now()).is_ok() {
        send(&request.reply, out).await;
    }
}

/// Sends one response on the request's path.
async fn send(reply: &ReplyPath, response: Vec<u8>) {
    match reply {
        ReplyPath::Udp(replier) => {
            if let Err(error) = replier.send(&response) {
                tracing::debug!(%error, "UDP reply failed");
            }
        }
        ReplyPath::Tcp(sender) => {
            let _ = sender.send(response).await;
        }
    }
}

/// An error response to `message` with `rcode`, signed when `signer` is set.
fn error_response(
    message: &Message,
    rcode: u8,
    signer: Option<&mut ResponseSigner>,
) -> Option<Vec<u8>> {
    let mut response = wire::error_response(message, rcode).ok()?;
    if let Some(signer) = signer {
        signer.sign(&mut response, unix_now()).ok()?;
    }
    Some(response)
}
