//! The node's one QUIC endpoint: server for its peers, client towards them,
//! mutual TLS against the cluster CAs on both sides (see [`super::tls`]).
//!
//! ```text
//!  request(peer, bytes) ─ connect (cached per peer) ─ open_bi ─ write, finish ─▶ ClusterStream
//!  serve(handler) ─ accept ─ handshake + certificate checks ─ accept_bi ─▶ handler.handle(ClusterStream)
//!                               └─ refused: counted, closed
//! ```
//!
//! Connections and streams are bounded: QUIC flow control windows sized
//! for cross-region round trips, a cap on streams per connection, and
//! semaphores on the requests in flight in each direction. A reload swaps
//! the TLS configuration and closes live connections whose peer the new
//! configuration would refuse.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{Connection, ConnectionError, Endpoint, IdleTimeout, TransportConfig, VarInt};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::server::danger::ClientCertVerifier as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::identity::CertificateFacts;
use super::stream::{ClusterStream, StreamError};
use super::tls::{Credentials, TlsError, TlsMaterial};

/// Application close code: the endpoint is shutting down.
pub const CLOSE_SHUTDOWN: u32 = 0;
/// Application close code: the peer's certificate names no node.
pub const CLOSE_NO_IDENTITY: u32 = 1;
/// Application close code: after a reload the peer is no longer trusted.
pub const CLOSE_UNTRUSTED: u32 = 2;

/// Sizes and timeouts of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicSettings {
    /// UDP address to bind.
    pub listen: SocketAddr,
    /// This node's id, as its certificate names it.
    pub node_id: String,
    /// A connection silent for this long is dead (keep-alives prevent it
    /// while the peer is up).
    pub idle_timeout: Duration,
    /// Interval of keep-alive packets on an otherwise idle connection.
    pub keep_alive: Duration,
    /// A handshake must complete within this.
    pub connect_timeout: Duration,
    /// A read or write on a stream that makes no progress for this long
    /// fails with [`StreamError::TimedOut`].
    pub stream_idle_timeout: Duration,
    /// Flow-control window of one stream, bytes.
    pub stream_window: u32,
    /// Flow-control window of a whole connection, bytes.
    pub connection_window: u32,
    /// Streams a peer may have open on one connection at once.
    pub streams_per_connection: u32,
    /// Incoming requests handled at once, over all peers.
    pub max_incoming_requests: usize,
    /// Outgoing requests in flight at once, over all peers.
    pub max_outgoing_requests: usize,
    /// Incoming connections at once; more are refused.
    pub max_connections: usize,
}

impl QuicSettings {
    /// Defaults for `node_id` on `listen`: windows of 4 MiB per stream and
    /// 16 MiB per connection keep a 200 ms path busy at about 160 Mbit/s
    /// per stream.
    pub fn new(node_id: &str, listen: SocketAddr) -> QuicSettings {
        QuicSettings {
            listen,
            node_id: node_id.to_owned(),
            idle_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            stream_idle_timeout: Duration::from_secs(30),
            stream_window: 4 << 20,
            connection_window: 16 << 20,
            streams_per_connection: 16,
            max_incoming_requests: 64,
            max_outgoing_requests: 64,
            max_connections: 1024,
        }
    }
}

/// A peer to reach: its node id (checked against its certificate) and
/// QUIC address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The node id, as gossiped and as its certificate names it.
    pub id: String,
    /// Its `[cluster] quic_listen` address as others reach it.
    pub address: SocketAddr,
}

/// What the endpoint has counted since it was bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuicCounters {
    /// Incoming connections that completed the handshake.
    pub connections_accepted: u64,
    /// Incoming connections refused: failed handshake (no, foreign, revoked
    /// or self-signed certificate; wrong ALPN), no node id, or over the
    /// connection limit.
    pub connections_refused: u64,
    /// Outgoing connections that could not be established.
    pub connects_failed: u64,
    /// Live connections closed by a reload because their peer is no
    /// longer trusted.
    pub connections_dropped_on_reload: u64,
    /// Requests this node sent.
    pub requests_sent: u64,
    /// Requests this node received.
    pub requests_received: u64,
    /// Stream payload bytes written.
    pub bytes_sent: u64,
    /// Stream payload bytes read.
    pub bytes_received: u64,
}

/// The live counters behind [`QuicCounters`].
#[derive(Debug, Default)]
pub struct Counters {
    connections_accepted: AtomicU64,
    connections_refused: AtomicU64,
    connects_failed: AtomicU64,
    connections_dropped_on_reload: AtomicU64,
    requests_sent: AtomicU64,
    requests_received: AtomicU64,
    pub(super) bytes_sent: AtomicU64,
    pub(super) bytes_received: AtomicU64,
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The credentials are unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The UDP socket could not be bound.
    #[error("cannot bind QUIC on {address}: {source}")]
    Io {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Why a request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The peer id is not a valid TLS server name.
    #[error("\"{0}\" is not a valid node id for TLS")]
    BadPeerId(String),
    /// No connection could be established within the connect timeout.
    #[error("{peer}: handshake timed out")]
    ConnectTimedOut {
        /// The peer.
        peer: String,
    },
    /// The handshake failed (peer down, certificate refused either way).
    #[error("{peer}: {reason}")]
    Connect {
        /// The peer.
        peer: String,
        /// What failed.
        reason: String,
    },
    /// The connection was up but the request could not be sent.
    #[error("{peer}: {source}")]
    Stream {
        /// The peer.
        peer: String,
        /// What failed.
        source: StreamError,
    },
    /// The endpoint is closed.
    #[error("the cluster endpoint is closed")]
    Closed,
}

/// Serves incoming requests. Called once per request, concurrently, on its
/// own task; the handler reads the request, writes the response and
/// finishes the stream.
pub trait RequestHandler: Send + Sync + 'static {
    /// Handles one request.
    fn handle(&self, stream: ClusterStream) -> impl Future<Output = ()> + Send;
}

/// The node's QUIC endpoint. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct ClusterEndpoint {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: Endpoint,
    settings: QuicSettings,
    transport: Arc<TransportConfig>,
    tls: ArcSwap<EndpointTls>,
    outgoing: Mutex<HashMap<Peer, Arc<tokio::sync::Mutex<Option<Connection>>>>>,
    live: Mutex<HashMap<usize, LiveConnection>>,
    outgoing_permits: Arc<Semaphore>,
    incoming_permits: Arc<Semaphore>,
    counters: Arc<Counters>,
}

/// TLS configuration in quinn's form, with the verifiers that re-check
/// live connections on reload.
#[derive(Debug)]
struct EndpointTls {
    credentials: Credentials,
    client: quinn::ClientConfig,
    server: quinn::ServerConfig,
}

#[derive(Debug)]
struct LiveConnection {
    connection: Connection,
    /// `Some(peer id)` for connections this node opened.
    server_name: Option<String>,
}

impl ClusterEndpoint {
    /// Binds the endpoint on `settings.listen`. Must run inside a tokio
    /// runtime. Serves nothing until [`ClusterEndpoint::serve`].
    pub fn bind(
        settings: QuicSettings,
        material: &TlsMaterial,
    ) -> Result<ClusterEndpoint, BindError> {
        let transport = Arc::new(transport_config(&settings));
        let tls = EndpointTls::new(material, &transport, &settings)?;
        let endpoint = Endpoint::server(tls.server.clone(), settings.listen).map_err(|source| {
            BindError::Io {
                address: settings.listen,
                source,
            }
        })?;
        let inner = Inner {
            endpoint,
            transport,
            tls: ArcSwap::from_pointee(tls),
            outgoing: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            outgoing_permits: Arc::new(Semaphore::new(settings.max_outgoing_requests)),
            incoming_permits: Arc::new(Semaphore::new(settings.max_incoming_requests)),
            counters: Arc::default(),
            settings,
        };
        Ok(ClusterEndpoint {
            inner: Arc::new(inner),
        })
    }

    /// Accepts connections and hands every request to `handler` until the
    /// endpoint is closed.
    pub fn serve<H: RequestHandler>(&self, handler: Arc<H>) -> JoinHandle<()> {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            while let Some(incoming) = inner.endpoint.accept().await {
                if inner.live_incoming() >= inner.settings.max_connections {
                    incoming.refuse();
                    inner
                        .counters
                        .connections_refused
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                tokio::spawn(inner.clone().serve_connection(incoming, handler.clone()));
            }
        })
    }

    /// Sends `request` to `peer` as a new stream and finishes the sending
    /// side; the returned stream reads the response. Waits while
    /// `max_outgoing_requests` are in flight.
    pub async fn request(
        &self,
        peer: &Peer,
        request: &[u8],
    ) -> Result<ClusterStream, RequestError> {
        let mut stream = self.open(peer).await?;
        let stream_error = |source| RequestError::Stream {
            peer: peer.id.clone(),
            source,
        };
        stream.write_all(request).await.map_err(stream_error)?;
        stream.finish().map_err(stream_error)?;
        Ok(stream)
    }

    /// Opens a stream to `peer` for a caller that streams its request.
    pub async fn open(&self, peer: &Peer) -> Result<ClusterStream, RequestError> {
        let permit = self
            .inner
            .outgoing_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RequestError::Closed)?;
        let stream = self.inner.open(peer, permit).await?;
        self.inner
            .counters
            .requests_sent
            .fetch_add(1, Ordering::Relaxed);
        Ok(stream)
    }

    /// The connection to `peer`, established if there is none alive.
    pub async fn connect(&self, peer: &Peer) -> Result<Connection, RequestError> {
        self.inner.connect(peer).await
    }

    /// Replaces the TLS credentials (CA list, own certificate, revocations):
    /// new handshakes use them at once, and live connections whose peer
    /// they refuse are closed. Returns how many were closed.
    pub fn reload(&self, material: &TlsMaterial) -> Result<usize, TlsError> {
        let tls = EndpointTls::new(material, &self.inner.transport, &self.inner.settings)?;
        self.inner
            .endpoint
            .set_server_config(Some(tls.server.clone()));
        self.inner.tls.store(Arc::new(tls));
        Ok(self.inner.drop_untrusted())
    }

    /// Closes every connection and stops serving; waits briefly for the
    /// peers to be told.
    pub async fn close(&self) {
        self.inner.outgoing_permits.close();
        self.inner
            .endpoint
            .close(VarInt::from_u32(CLOSE_SHUTDOWN), b"shutdown");
        let _ = tokio::time::timeout(Duration::from_secs(2), self.inner.endpoint.wait_idle()).await;
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.endpoint.local_addr()
    }

    /// What has been counted so far.
    pub fn counters(&self) -> QuicCounters {
        let counters = &self.inner.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        QuicCounters {
            connections_accepted: load(&counters.connections_accepted),
            connections_refused: load(&counters.connections_refused),
            connects_failed: load(&counters.connects_failed),
            connections_dropped_on_reload: load(&counters.connections_dropped_on_reload),
            requests_sent: load(&counters.requests_sent),
            requests_received: load(&counters.requests_received),
            bytes_sent: load(&counters.bytes_sent),
            bytes_received: load(&counters.bytes_received),
        }
    }
}

impl Inner {
    async fn open(
        &self,
        peer: &Peer,
        permit: OwnedSemaphorePermit,
    ) -> Result<ClusterStream, RequestError> {
        let mut retried = false;
        loop {
            let connection = self.connect(peer).await?;
            let opened =
                tokio::time::timeout(self.settings.stream_idle_timeout, connection.open_bi()).await;
            let streams = match opened {
                Ok(Ok(streams)) => streams,
                // A cached connection may have died since; one fresh try.
                Ok(Err(_)) if !retried => {
                    retried = true;
                    continue;
                }
                Ok(Err(error)) => {
                    return Err(RequestError::Stream {
                        peer: peer.id.clone(),
                        source: StreamError::Closed(error.to_string()),
                    });
                }
                Err(_) => {
                    return Err(RequestError::Stream {
                        peer: peer.id.clone(),
                        source: StreamError::TimedOut(self.settings.stream_idle_timeout),
                    });
                }
            };
            return Ok(ClusterStream::new(
                streams,
                Arc::from(peer.id.as_str()),
                connection.remote_address(),
                self.settings.stream_idle_timeout,
                self.counters.clone(),
                permit,
            ));
        }
    }

    async fn connect(&self, peer: &Peer) -> Result<Connection, RequestError> {
        let slot = lock(&self.outgoing)
            .entry(peer.clone())
            .or_default()
            .clone();
        let mut slot = slot.lock().await;
        if let Some(connection) = slot.as_ref()
            && connection.close_reason().is_none()
        {
            return Ok(connection.clone());
        }
        *slot = None;
        ServerName::try_from(peer.id.as_str())
            .map_err(|_| RequestError::BadPeerId(peer.id.clone()))?;
        let client = self.tls.load().client.clone();
        let failed = |reason: String| {
            self.counters
                .connects_failed
                .fetch_add(1, Ordering::Relaxed);
            RequestError::Connect {
                peer: peer.id.clone(),
                reason,
            }
        };
        let connecting = self
            .endpoint
            .connect_with(client, peer.address, &peer.id)
            .map_err(|error| failed(error.to_string()))?;
        let connection = match tokio::time::timeout(self.settings.connect_timeout, connecting).await
        {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(failed(error.to_string())),
            Err(_) => {
                self.counters
                    .connects_failed
                    .fetch_add(1, Ordering::Relaxed);
                return Err(RequestError::ConnectTimedOut {
                    peer: peer.id.clone(),
                });
            }
        };
        self.register(&connection, Some(peer.id.clone()));
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn serve_connection<H: RequestHandler>(
        self: Arc<Self>,
        incoming: quinn::Incoming,
        handler: Arc<H>,
    ) {
        let Some((connection, peer)) = self.handshake(incoming).await else {
            self.counters
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.counters
            .connections_accepted
            .fetch_add(1, Ordering::Relaxed);
        self.register(&connection, None);
        let remote = connection.remote_address();
        while let Ok(streams) = connection.accept_bi().await {
            let Ok(permit) = self.incoming_permits.clone().acquire_owned().await else {
                break;
            };
            self.counters
                .requests_received
                .fetch_add(1, Ordering::Relaxed);
            let stream = ClusterStream::new(
                streams,
                peer.clone(),
                remote,
                self.settings.stream_idle_timeout,
                self.counters.clone(),
                permit,
            );
            let handler = handler.clone();
            tokio::spawn(async move { handler.handle(stream).await });
        }
        lock(&self.live).remove(&connection.stable_id());
    }

    /// The connection and the node id its client certificate names, or
    /// `None` when the handshake fails or names no node.
    async fn handshake(&self, incoming: quinn::Incoming) -> Option<(Connection, Arc<str>)> {
        let connecting = incoming.accept().ok()?;
        let connection = tokio::time::timeout(self.settings.connect_timeout, connecting)
            .await
            .ok()?
            .ok()?;
        let peer = peer_chain(&connection)
            .and_then(|chain| chain.first().and_then(CertificateFacts::read))
            .and_then(|facts| facts.node_id().map(Arc::from));
        if peer.is_none() {
            connection.close(VarInt::from_u32(CLOSE_NO_IDENTITY), b"no node id");
        }
        Some((connection, peer?))
    }

    fn register(&self, connection: &Connection, server_name: Option<String>) {
        let mut live = lock(&self.live);
        live.retain(|_, live| live.connection.close_reason().is_none());
        live.insert(
            connection.stable_id(),
            LiveConnection {
                connection: connection.clone(),
                server_name,
            },
        );
    }

    fn live_incoming(&self) -> usize {
        lock(&self.live)
            .values()
            .filter(|live| live.server_name.is_none() && live.connection.close_reason().is_none())
            .count()
    }

    /// Closes the live connections the current credentials refuse.
    fn drop_untrusted(&self) -> usize {
        let tls = self.tls.load();
        let mut live = lock(&self.live);
        let before = live.len();
        live.retain(|_, live| {
            let trusted = still_trusted(&tls.credentials, live);
            if !trusted {
                live.connection.close(
                    VarInt::from_u32(CLOSE_UNTRUSTED),
                    b"certificate no longer trusted",
                );
            }
            trusted
        });
        let dropped = before - live.len();
        self.counters
            .connections_dropped_on_reload
            .fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }
}

impl EndpointTls {
    fn new(
        material: &TlsMaterial,
        transport: &Arc<TransportConfig>,
        settings: &QuicSettings,
    ) -> Result<EndpointTls, TlsError> {
        let credentials = Credentials::new(material)?;
        let rejected = |error: &dyn std::fmt::Display| TlsError::Rejected(error.to_string());
        let client_crypto =
            QuicClientConfig::try_from(credentials.client.clone()).map_err(|e| rejected(&e))?;
        let mut client = quinn::ClientConfig::new(Arc::new(client_crypto));
        client.transport_config(transport.clone());
        let server_crypto =
            QuicServerConfig::try_from(credentials.server.clone()).map_err(|e| rejected(&e))?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(server_crypto));
        server.transport_config(transport.clone());
        server.max_incoming(settings.max_connections);
        Ok(EndpointTls {
            credentials,
            client,
            server,
        })
    }
}

fn transport_config(settings: &QuicSettings) -> TransportConfig {
    let mut transport = TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(settings.streams_per_connection))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(settings.stream_window))
        .receive_window(VarInt::from_u32(settings.connection_window))
        .send_window(u64::from(settings.connection_window))
        .keep_alive_interval(Some(settings.keep_alive))
        .max_idle_timeout(IdleTimeout::try_from(settings.idle_timeout).ok());
    transport
}

/// The certificates the peer presented in the handshake.
fn peer_chain(connection: &Connection) -> Option<Vec<CertificateDer<'static>>> {
    connection
        .peer_identity()?
        .downcast::<Vec<CertificateDer<'static>>>()
        .ok()
        .map(|chain| *chain)
}

/// Whether the peer of a live connection passes the current checks.
fn still_trusted(credentials: &Credentials, live: &LiveConnection) -> bool {
    if live.connection.close_reason().is_some() {
        return false;
    }
    let Some(chain) = peer_chain(&live.connection) else {
        return false;
    };
    let Some((end_entity, intermediates)) = chain.split_first() else {
        return false;
    };
    let now = UnixTime::now();
    match &live.server_name {
        Some(name) => ServerName::try_from(name.as_str()).is_ok_and(|name| {
            credentials
                .server_verifier
                .verify_server_cert(end_entity, intermediates, &name, &[], now)
                .is_ok()
        }),
        None => credentials
            .client_verifier
            .verify_client_cert(end_entity, intermediates, now)
            .is_ok(),
    }
}

/// A poisoned lock only means another task panicked while holding it; the
/// maps stay consistent (every update is a single insert or remove).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl From<ConnectionError> for StreamError {
    fn from(error: ConnectionError) -> StreamError {
        StreamError::Closed(error.to_string())
    }
}
