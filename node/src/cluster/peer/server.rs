//! The server side: answers peers' requests from the node's zones.

use std::sync::Arc;

use tokio::sync::Semaphore;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::cluster::{
    CodecError, FetchRequest, HIGHEST_VERSION, LOWEST_VERSION, MAX_REQUEST_LEN, Request, Response,
    encode_diffs,
};
use understudy_proto::xfr::Diff;

use super::{LocalZones, Serving};
use crate::cluster::{ClusterStream, RequestHandler, StreamError};

/// Stream code of a request that is not one: the client sees a reset.
pub const STREAM_BAD_REQUEST: u32 = 3;

/// Serves confirm, fetch and zone-list requests from a [`LocalZones`].
/// At most `max_transfers` fetches are answered at once; the next are told
/// `Busy` at once rather than queued behind transfers of unknown length.
pub struct PeerServer<L: LocalZones> {
    zones: Arc<L>,
    transfers: Arc<Semaphore>,
}

impl<L: LocalZones> PeerServer<L> {
    /// A server over `zones` sending at most `max_transfers` zones at once.
    pub fn new(zones: Arc<L>, max_transfers: usize) -> PeerServer<L> {
        PeerServer {
            zones,
            transfers: Arc::new(Semaphore::new(max_transfers)),
        }
    }

    async fn answer(
        &self,
        stream: &mut ClusterStream,
        version: u16,
        request: Request,
    ) -> Result<(), StreamError> {
        match request {
            Request::Confirm { zone } => {
                let head = match self.zones.serving(&zone) {
                    Some(serving) => Response::Version {
                        version: serving.version,
                        digest: serving.data.snapshot.digest(),
                        confirmed_age: serving.confirmed_age,
                    },
                    None => Response::NotHeld,
                };
                send(stream, version, &head, &[]).await
            }
            Request::Fetch(fetch) => self.fetch(stream, version, fetch).await,
            Request::ZoneList => {
                let list = self.zones.zone_list();
                let head = Response::ZoneList {
                    length: list.len() as u64,
                };
                send(stream, version, &head, &list).await
            }
        }
    }

    async fn fetch(
        &self,
        stream: &mut ClusterStream,
        version: u16,
        fetch: FetchRequest,
    ) -> Result<(), StreamError> {
        let serving = self.zones.serving(&fetch.zone).filter(|serving| {
            !fetch.want.is_newer_than(serving.version)
                && serving.version.serial.0 == serving.data.snapshot.serial()
        });
        let Some(serving) = serving else {
            return send(stream, version, &Response::NotHeld, &[]).await;
        };
        let Ok(_permit) = self.transfers.clone().try_acquire_owned() else {
            return send(stream, version, &Response::Busy, &[]).await;
        };
        // Encoding a long journal is CPU work; keep it off the async workers.
        let diffs = {
            let serving = serving.clone();
            tokio::task::spawn_blocking(move || diffs_for(&serving, fetch.have)).await
        };
        if let Ok(Some(payload)) = diffs {
            let head = Response::Diffs {
                to: serving.version,
                digest_after: serving.data.snapshot.digest(),
                confirmed_age: serving.confirmed_age,
                length: payload.len() as u64,
            };
            return send(stream, version, &head, &payload).await;
        }
        let bytes = serving.data.snapshot.as_bytes();
        let head = Response::Snapshot {
            version: serving.version,
            confirmed_age: serving.confirmed_age,
            length: bytes.len() as u64,
        };
        send(stream, version, &head, bytes).await
    }
}

impl<L: LocalZones> RequestHandler for PeerServer<L> {
    async fn handle(&self, mut stream: ClusterStream) {
        let request = match stream.read_to_end(MAX_REQUEST_LEN).await {
            Ok(request) => request,
            Err(error) => {
                tracing::debug!(peer = stream.peer(), %error, "cluster request not read");
                stream.abandon(STREAM_BAD_REQUEST);
                return;
            }
        };
        let answered = match Request::decode(&request) {
            Ok((version, request)) => self.answer(&mut stream, version, request).await,
            Err(CodecError::UnsupportedVersion(asked)) => {
                tracing::debug!(peer = stream.peer(), asked, "cluster protocol version");
                let head = Response::Unsupported {
                    lowest: LOWEST_VERSION,
                    highest: HIGHEST_VERSION,
                };
                send(&mut stream, HIGHEST_VERSION, &head, &[]).await
            }
            Err(error) => {
                tracing::debug!(peer = stream.peer(), %error, "bad cluster request");
                stream.abandon(STREAM_BAD_REQUEST);
                return;
            }
        };
        match answered.and_then(|()| stream.finish()) {
            Ok(()) => {}
            // Dropping the stream resets it: the client never mistakes a
            // cut answer for a whole one.
            Err(error) => tracing::debug!(peer = stream.peer(), %error, "cluster answer cut"),
        }
    }
}

/// The diffs payload from the client's `have` to what `serving` serves,
/// when its journal reaches back that far in the same epoch and the diffs
/// are smaller than the snapshot.
fn diffs_for(serving: &Serving, have: Option<(ZoneVersion, [u8; 32])>) -> Option<Vec<u8>> {
    let (version, digest) = have?;
    let snapshot = &serving.data.snapshot;
    if version.epoch != serving.version.epoch {
        return None;
    }
    if version.serial == serving.version.serial {
        // Same version: nothing to send, unless the client's copy differs.
        return (digest == snapshot.digest()).then(|| encode_diffs::<Diff>(&[]));
    }
    let journal = &serving.data.journal;
    if journal.serial() != Some(snapshot.serial()) {
        return None;
    }
    let diffs = journal.diffs_since(version.serial.0)?;
    let payload = encode_diffs(&diffs);
    (!diffs.is_empty() && payload.len() < snapshot.as_bytes().len()).then_some(payload)
}

async fn send(
    stream: &mut ClusterStream,
    version: u16,
    head: &Response,
    payload: &[u8],
) -> Result<(), StreamError> {
    stream.write_all(&head.encode(version)).await?;
    stream.write_all(payload).await
}
