//! chitchat's transport, authenticated.
//!
//! chitchat 0.13 hands a `Transport` whole envelopes, and keeps the code
//! turning envelopes into bytes private to the crate. Its own public
//! `UdpSocket` does run that code, so this socket borrows it as a codec,
//! over a loopback round trip inside the process:
//!
//! ```text
//!  send(to, envelope):  codec.send(tap) ─▶ tap reads the bytes ─▶ seal ─▶ wire.send_to(to)
//!  recv():  wire.recv_from ─▶ open (MAC, cluster, time, replay) ─▶ tap.send(codec) ─▶ codec.recv()
//!                                  └─ dropped and counted
//! ```
//!
//! The wire socket is the node's gossip address; codec and tap are bound
//! to ephemeral ports on 127.0.0.1. The tap is connected to the codec, so
//! it only hears the codec; and a decoded envelope is only taken when the
//! codec says it came from the tap and has the length that was forwarded,
//! so another local process writing to the codec's port is ignored
//! (spoofing the tap's source address takes raw sockets, that is root).
//! One authenticated message is in the codec at a time; `recv` keeps that
//! fact in `self`, because chitchat cancels `recv` at every gossip tick.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use chitchat::ChitchatEnvelope;
use chitchat::transport::{RecvOutcome, SendOutcome, Socket, Transport};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::auth::Authenticator;

/// How long the codec may take to hand back what it was given; loopback
/// inside one process answers in microseconds, so running out means
/// chitchat refused the bytes.
const LOOPBACK_TIMEOUT: Duration = Duration::from_secs(1);
/// Room for the largest UDP payload.
const BUFFER_LEN: usize = 65_536;

/// A chitchat `Transport` whose one socket is the pre-bound gossip socket,
/// authenticated by `auth`.
pub struct AuthenticatedTransport {
    wire: Mutex<Option<UdpSocket>>,
    auth: Arc<Authenticator>,
}

impl AuthenticatedTransport {
    /// The transport over `wire`, bound beforehand so that its address is
    /// known before chitchat starts (a port of 0 in the config works).
    pub fn new(wire: UdpSocket, auth: Arc<Authenticator>) -> AuthenticatedTransport {
        AuthenticatedTransport {
            wire: Mutex::new(Some(wire)),
            auth,
        }
    }
}

#[async_trait::async_trait]
impl Transport for AuthenticatedTransport {
    async fn open(&self, _listen_addr: SocketAddr) -> anyhow::Result<Box<dyn Socket>> {
        let wire = self
            .wire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .context("the gossip socket is already open")?;
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let codec = chitchat::transport::UdpSocket::open(loopback).await?;
        let codec_addr = codec.local_addr()?;
        let tap = UdpSocket::bind(loopback)
            .await
            .context("binding the gossip codec tap")?;
        tap.connect(codec_addr)
            .await
            .context("connecting the gossip codec tap")?;
        let tap_addr = tap.local_addr()?;
        Ok(Box::new(AuthenticatedSocket {
            wire,
            codec,
            tap,
            tap_addr,
            auth: self.auth.clone(),
            buffer: vec![0u8; BUFFER_LEN].into_boxed_slice(),
            in_codec: None,
        }))
    }
}

struct AuthenticatedSocket {
    wire: UdpSocket,
    codec: chitchat::transport::UdpSocket,
    tap: UdpSocket,
    tap_addr: SocketAddr,
    auth: Arc<Authenticator>,
    buffer: Box<[u8]>,
    in_codec: Option<InCodec>,
}

/// The authenticated message the codec is decoding.
struct InCodec {
    from: SocketAddr,
    len: usize,
    deadline: Instant,
}

#[async_trait::async_trait]
impl Socket for AuthenticatedSocket {
    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.wire.local_addr()?)
    }

    async fn send(
        &mut self,
        to: SocketAddr,
        envelope: ChitchatEnvelope,
    ) -> anyhow::Result<SendOutcome> {
        // Bytes left by a send cancelled half-way must not be taken for
        // this envelope's.
        while self.tap.try_recv(&mut self.buffer).is_ok() {}
        self.codec.send(self.tap_addr, envelope).await?;
        let len = tokio::time::timeout(LOOPBACK_TIMEOUT, self.tap.recv(&mut self.buffer))
            .await
            .context("chitchat's encoder sent nothing")??;
        let datagrams = self.auth.seal(&self.buffer[..len], unix_micros());
        let mut num_bytes_sent = 0;
        for datagram in datagrams {
            num_bytes_sent += self
                .wire
                .send_to(&datagram, to)
                .await
                .with_context(|| format!("sending gossip to {to}"))?;
        }
        Ok(SendOutcome { num_bytes_sent })
    }

    async fn recv(&mut self) -> anyhow::Result<RecvOutcome> {
        loop {
            if let Some(outcome) = self.decoded().await? {
                return Ok(outcome);
            }
            let (len, from) = match self.wire.recv_from(&mut self.buffer).await {
                Ok(received) => received,
                Err(error) if transient(&error) => continue,
                Err(error) => return Err(error).context("gossip socket failed"),
            };
            let Some(opened) = self.auth.open(&self.buffer[..len], unix_micros()) else {
                continue;
            };
            let forwarded = self.tap.send(&opened.message).await?;
            self.in_codec = Some(InCodec {
                from,
                len: forwarded,
                deadline: Instant::now() + LOOPBACK_TIMEOUT,
            });
        }
    }
}

impl AuthenticatedSocket {
    /// The envelope of the message in the codec, once decoded; `None` when
    /// there is none or chitchat refused it.
    async fn decoded(&mut self) -> anyhow::Result<Option<RecvOutcome>> {
        while let Some(in_codec) = &self.in_codec {
            let decoded = tokio::time::timeout_at(in_codec.deadline, self.codec.recv()).await;
            let outcome = match decoded {
                Ok(outcome) => outcome?,
                Err(_) => {
                    self.in_codec = None;
                    self.lost();
                    return Ok(None);
                }
            };
            if outcome.from_addr != self.tap_addr || outcome.num_bytes_received != in_codec.len {
                // Not what this socket forwarded: someone else wrote to
                // the codec's port. Keep waiting for ours.
                self.lost();
                continue;
            }
            let from = in_codec.from;
            self.in_codec = None;
            return Ok(Some(RecvOutcome {
                from_addr: from,
                envelope: outcome.envelope,
                num_bytes_received: outcome.num_bytes_received,
            }));
        }
        Ok(None)
    }

    fn lost(&self) {
        self.auth
            .counters
            .dropped_loopback
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Errors after which the socket still works (as chitchat's own socket
/// treats them).
fn transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::OutOfMemory
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// The wall clock in microseconds since the Unix epoch; counters and the
/// replay window are built on it.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
        })
}
