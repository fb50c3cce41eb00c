//! The client side: asks a peer, verifies, and returns only what verified.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use understudy_proto::Name;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::cluster::{
    CodecError, FetchRequest, HEAD_PREFIX_LEN, HIGHEST_VERSION, LOWEST_VERSION, Limits, Request,
    Response, head_len, negotiate,
};
use understudy_proto::xfr::Diff;
use understudy_proto::zone::Snapshot;

use super::error::PeerError;
use super::{FetchKind, Fetched, PeerVersion, verify};
use crate::cluster::{ClusterEndpoint, ClusterStream, Peer, StreamError};
use crate::manager::zone::ZoneData;

/// Payload bytes read per call; the buffer grows by this much at most, so
/// an announced length is never allocated before it arrives.
const READ_CHUNK: usize = 256 * 1024;
/// Versions tried on one request before giving up on negotiation.
const MAX_NEGOTIATIONS: usize = 3;

/// Deadlines and bounds of a [`PeerClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// Getting a connection (cached or new) may take this long.
    pub connect_timeout: Duration,
    /// A confirm request, and the head of any answer, within this.
    pub request_timeout: Duration,
    /// A whole fetch or zone-list request, verification included, within
    /// this.
    pub transfer_timeout: Duration,
    /// Bytes per second a payload must average: its deadline is
    /// `request_timeout` plus its length at this rate.
    pub min_rate: u64,
    /// Payload bounds.
    pub limits: Limits,
    /// The newest protocol version to offer (a release speaking newer
    /// versions than the peers' starts here and falls back).
    pub highest_version: u16,
}

impl Default for ClientSettings {
    /// 5 s to connect, 10 s per request, 10 min per transfer at no less
    /// than 256 KiB/s.
    fn default() -> ClientSettings {
        ClientSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            transfer_timeout: Duration::from_secs(600),
            min_rate: 256 * 1024,
            limits: Limits::default(),
            highest_version: HIGHEST_VERSION,
        }
    }
}

/// Asks peers for zone versions, zone data and the zone list. Cheap to
/// clone; clones share the endpoint and the versions negotiated.
#[derive(Debug, Clone)]
pub struct PeerClient {
    endpoint: ClusterEndpoint,
    settings: ClientSettings,
    /// The protocol version each peer (by id) last accepted.
    versions: Arc<Mutex<HashMap<String, u16>>>,
}

impl PeerClient {
    /// A client over `endpoint`.
    pub fn new(endpoint: ClusterEndpoint, settings: ClientSettings) -> PeerClient {
        PeerClient {
            endpoint,
            settings,
            versions: Arc::default(),
        }
    }

    /// The client's settings.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The peer's version, digest and confirmation age of `zone`.
    pub async fn confirm(&self, peer: &Peer, zone: &Name) -> Result<PeerVersion, PeerError> {
        let request = Request::Confirm { zone: zone.clone() };
        within(self.settings.request_timeout, async {
            let (head, mut stream) = self.exchange(peer, &request).await?;
            match head {
                Response::Version {
                    version,
                    digest,
                    confirmed_age,
                } => {
                    expect_end(&mut stream).await?;
                    Ok(PeerVersion {
                        version,
                        digest,
                        confirmed_age,
                    })
                }
                other => Err(refusal(other)),
            }
        })
        .await
    }

    /// The peer's current data of `zone`, at `want` or newer: diffs from
    /// `have` when the peer's journal reaches it, else the full snapshot.
    /// Verified before it is returned.
    pub async fn fetch(
        &self,
        peer: &Peer,
        zone: &Name,
        want: ZoneVersion,
        have: Option<(ZoneVersion, Arc<ZoneData>)>,
    ) -> Result<Fetched, PeerError> {
        within(
            self.settings.transfer_timeout,
            self.fetch_within(peer, zone, want, have),
        )
        .await
    }

    /// The fleet zone list the peer holds, as its CRDT encodes it.
    pub async fn zone_list(&self, peer: &Peer) -> Result<Vec<u8>, PeerError> {
        within(self.settings.transfer_timeout, async {
            let (head, mut stream) = self.exchange(peer, &Request::ZoneList).await?;
            match head {
                Response::ZoneList { length } => self.read_payload(&mut stream, length).await,
                other => Err(refusal(other)),
            }
        })
        .await
    }

    async fn fetch_within(
        &self,
        peer: &Peer,
        zone: &Name,
        want: ZoneVersion,
        have: Option<(ZoneVersion, Arc<ZoneData>)>,
    ) -> Result<Fetched, PeerError> {
        let request = Request::Fetch(FetchRequest {
            zone: zone.clone(),
            want,
            have: have
                .as_ref()
                .map(|(version, data)| (*version, data.snapshot.digest())),
        });
        let (head, mut stream) = self.exchange(peer, &request).await?;
        let (version, confirmed_age, length) = match head {
            Response::Snapshot {
                version,
                confirmed_age,
                length,
            }
            | Response::Diffs {
                to: version,
                confirmed_age,
                length,
                ..
            } => (version, confirmed_age, length),
            other => return Err(refusal(other)),
        };
        not_stale(version, want)?;
        let (snapshot, diffs) = self
            .receive(&mut stream, head, (zone, version, length), have)
            .await?;
        Ok(Fetched {
            version,
            snapshot,
            kind: match diffs {
                Some(_) => FetchKind::Diffs,
                None => FetchKind::Full,
            },
            diffs,
            confirmed_age,
            bytes: length,
        })
    }

    /// Reads and verifies the payload announced by `head`, a `Diffs` or
    /// `Snapshot` head for `zone` at `version`.
    async fn receive(
        &self,
        stream: &mut ClusterStream,
        head: Response,
        (zone, version, length): (&Name, ZoneVersion, u64),
        have: Option<(ZoneVersion, Arc<ZoneData>)>,
    ) -> Result<(Snapshot, Option<Vec<Diff>>), PeerError> {
        match (head, have) {
            (Response::Diffs { digest_after, .. }, Some((have_version, data))) => {
                let payload = self.read_payload(stream, length).await?;
                let max_diffs = self.settings.limits.max_diffs;
                let (snapshot, diffs) = blocking(move || {
                    let have = (have_version, data.snapshot.as_ref());
                    verify::diffs(&payload, max_diffs, have, version, digest_after)
                })
                .await?;
                Ok((snapshot, Some(diffs)))
            }
            (Response::Diffs { .. }, None) => {
                Err(PeerError::Unexpected("diffs without a version to apply"))
            }
            _ => {
                let bytes = self.read_payload(stream, length).await?;
                let zone = zone.clone();
                let snapshot =
                    blocking(move || verify::full_snapshot(bytes, &zone, version)).await?;
                Ok((snapshot, None))
            }
        }
    }

    /// Sends `request` in the peer's protocol version, renegotiating on
    /// `Unsupported`; returns the head of the answer, within limits, and
    /// the stream to read its payload from.
    async fn exchange(
        &self,
        peer: &Peer,
        request: &Request,
    ) -> Result<(Response, ClusterStream), PeerError> {
        let mut version = self.version_for(peer);
        for _ in 0..MAX_NEGOTIATIONS {
            let connect = self.endpoint.connect(peer);
            tokio::time::timeout(self.settings.connect_timeout, connect)
                .await
                .map_err(|_| PeerError::ConnectTimedOut(self.settings.connect_timeout))??;
            let mut stream = self
                .endpoint
                .request(peer, &request.encode(version))
                .await?;
            let (answered, head) =
                within(self.settings.request_timeout, read_head(&mut stream)).await?;
            if let Response::Unsupported { lowest, highest } = head {
                let ours = LOWEST_VERSION..=self.settings.highest_version;
                version = negotiate(ours, lowest..=highest, version)
                    .ok_or(PeerError::Unsupported { lowest, highest })?;
                tracing::debug!(
                    peer = peer.id,
                    version,
                    "cluster protocol version negotiated"
                );
                continue;
            }
            if answered != version {
                return Err(PeerError::Unexpected("answer in another protocol version"));
            }
            self.remember(peer, version);
            head.check(&self.settings.limits)
                .map_err(PeerError::TooLarge)?;
            return Ok((head, stream));
        }
        Err(PeerError::Unexpected(
            "protocol version negotiation does not settle",
        ))
    }

    /// Reads a payload of `length` bytes and the end of the stream, at no
    /// less than the minimum rate.
    async fn read_payload(
        &self,
        stream: &mut ClusterStream,
        length: u64,
    ) -> Result<Vec<u8>, PeerError> {
        let deadline = self.payload_deadline(length);
        let total = usize::try_from(length).map_err(|_| {
            PeerError::TooLarge(CodecError::TooLarge {
                what: "payload",
                length,
                limit: usize::MAX as u64,
            })
        })?;
        let mut bytes = Vec::new();
        let mut filled = 0;
        while filled < total {
            let end = total.min(filled + READ_CHUNK);
            bytes.resize(end, 0);
            let read = tokio::time::timeout_at(deadline, stream.read(&mut bytes[filled..end]));
            match read.await {
                Err(_) => {
                    return Err(PeerError::TooSlow {
                        received: filled as u64,
                        length,
                    });
                }
                Ok(result) => match result? {
                    Some(count) => filled += count,
                    None => return Err(StreamError::UnexpectedEnd.into()),
                },
            }
        }
        expect_end(stream).await?;
        Ok(bytes)
    }

    /// When a payload of `length` bytes must have arrived: the request
    /// timeout plus its length at the minimum rate, never past the whole
    /// transfer's deadline (which bounds it anyway).
    fn payload_deadline(&self, length: u64) -> Instant {
        let rate = self.settings.min_rate.max(1) as f64;
        let at_min_rate =
            Duration::try_from_secs_f64(length as f64 / rate).unwrap_or(Duration::MAX);
        let allowance = self
            .settings
            .request_timeout
            .saturating_add(at_min_rate)
            .min(self.settings.transfer_timeout);
        Instant::now()
            .checked_add(allowance)
            .unwrap_or_else(Instant::now)
    }

    fn version_for(&self, peer: &Peer) -> u16 {
        let versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        versions
            .get(&peer.id)
            .copied()
            .unwrap_or(self.settings.highest_version)
    }

    fn remember(&self, peer: &Peer, version: u16) {
        let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        if versions.get(&peer.id) != Some(&version) {
            versions.insert(peer.id.clone(), version);
        }
    }
}

async fn read_head(stream: &mut ClusterStream) -> Result<(u16, Response), PeerError> {
    let mut prefix = [0u8; HEAD_PREFIX_LEN];
    stream.read_exact(&mut prefix).await?;
    let len = head_len(prefix).map_err(PeerError::Malformed)?;
    let mut head = vec![0u8; len];
    stream.read_exact(&mut head).await?;
    Response::decode(&head).map_err(PeerError::Malformed)
}

/// The peer must finish its side after the answer.
async fn expect_end(stream: &mut ClusterStream) -> Result<(), PeerError> {
    let mut extra = [0u8; 1];
    match stream.read(&mut extra).await? {
        None => Ok(()),
        Some(count) => Err(PeerError::Malformed(CodecError::TrailingBytes(count))),
    }
}

/// The error for an answer that carries no data.
fn refusal(head: Response) -> PeerError {
    match head {
        Response::NotHeld => PeerError::NotHeld,
        Response::Busy => PeerError::Busy,
        _ => PeerError::Unexpected("answer of another kind than the request"),
    }
}

fn not_stale(sent: ZoneVersion, wanted: ZoneVersion) -> Result<(), PeerError> {
    if wanted.is_newer_than(sent) {
        return Err(PeerError::Stale { sent, wanted });
    }
    Ok(())
}

async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, PeerError>>,
) -> Result<T, PeerError> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| PeerError::TimedOut(limit))?
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PeerError> + Send + 'static,
) -> Result<T, PeerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| PeerError::Local(error.to_string()))?
}
