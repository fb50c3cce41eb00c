//! NOTIFY in (RFC 1996).

use understudy_proto::record::{Rtype, rcode, soa_serial};
use understudy_proto::tsig::ResponseSigner;
use understudy_proto::wire::{self, Message};

use crate::dns::SpecialRequest;
use crate::manager::Command;
use crate::metrics::NotifyResult;
use crate::primary::unix_now;

use super::{Context, error_response, send};

/// Checks a NOTIFY, answers it, and passes it to the zone manager.
pub async fn handle(
    context: &Context,
    request: &SpecialRequest,
    message: &Message,
    mut signer: Option<ResponseSigner>,
) {
    let key = signer.as_ref().map(|signer| signer.key().name.clone());
    let accepted = message
        .question()
        .filter(|question| question.qtype == Rtype::SOA)
        .and_then(|question| {
            let access = context.shared.access.load();
            let zone = access.get(&question.qname)?.clone();
            let peer = request.peer.ip().to_canonical();
            let source = zone
                .primaries
                .iter()
                .position(|primary| primary.ip().to_canonical() == peer);
            let key_ok = zone
                .notify_key
                .as_ref()
                .is_none_or(|wanted| key.as_ref() == Some(wanted));
            let allowed =
                key_ok && (source.is_some() || zone.allow_notify.allows(peer, key.as_ref()));
            allowed.then(|| (zone.name.clone(), source))
        });
    let Some((zone, source)) = accepted else {
        tracing::info!(peer = %request.peer, op = "notify", "NOTIFY refused");
        count(context, NotifyResult::Refused);
        if let Some(response) = error_response(message, rcode::NOTAUTH as u8, signer.as_mut()) {
            send(&request.reply, response).await;
        }
        return;
    };
    let mut response = match wire::notify_response(message) {
        Ok(response) => response,
        Err(_) => return,
    };
    if let Some(signer) = signer.as_mut()
        && signer.sign(&mut response, unix_now()).is_err()
    {
        return;
    }
    send(&request.reply, response).await;
    count(context, NotifyResult::Accepted);
    let serial = message
        .answers
        .iter()
        .find(|record| record.rtype == Rtype::SOA)
        .and_then(|soa| soa_serial(&soa.rdata));
    tracing::debug!(zone = %zone, serial, remote = %request.peer, op = "notify", "NOTIFY accepted");
    let _ = context
        .commands
        .send(Command::Notify {
            zone,
            serial,
            source,
        })
        .await;
}

fn count(context: &Context, result: NotifyResult) {
    if let Some(metrics) = &context.metrics {
        metrics.notify(result);
    }
}
