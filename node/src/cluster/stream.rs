//! One request between two nodes: a bidirectional QUIC stream, with an
//! idle timeout on every read and write so a dead or slow peer is noticed
//! and the next source can be tried. The bytes are the caller's: message
//! framing lives in `understudy_proto::wire::cluster`, not here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use quinn::{RecvStream, SendStream, VarInt};
use tokio::sync::OwnedSemaphorePermit;

use super::quic::Counters;

/// Why a stream operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The peer sent or accepted nothing for the idle timeout.
    #[error("peer idle for {0:?}")]
    TimedOut(Duration),
    /// The peer sent more than the caller accepts.
    #[error("message longer than {limit} bytes")]
    TooLong {
        /// The caller's limit.
        limit: usize,
    },
    /// The stream ended before the expected bytes arrived.
    #[error("stream ended early")]
    UnexpectedEnd,
    /// The peer abandoned the stream with an application error code.
    #[error("peer reset the stream (code {0})")]
    Reset(u64),
    /// The connection or stream is gone.
    #[error("{0}")]
    Closed(String),
}

/// A request in flight, from either side.
#[derive(Debug)]
pub struct ClusterStream {
    send: SendStream,
    recv: RecvStream,
    peer: Arc<str>,
    remote: SocketAddr,
    idle_timeout: Duration,
    counters: Arc<Counters>,
    finished: bool,
    _permit: OwnedSemaphorePermit,
}

/// Stream code of a stream dropped without [`ClusterStream::finish`]: the
/// peer sees a reset, never a clean end of a truncated message.
pub const STREAM_ABANDONED: u32 = 1;

impl ClusterStream {
    pub(super) fn new(
        (send, recv): (SendStream, RecvStream),
        peer: Arc<str>,
        remote: SocketAddr,
        idle_timeout: Duration,
        counters: Arc<Counters>,
        permit: OwnedSemaphorePermit,
    ) -> ClusterStream {
        ClusterStream {
            send,
            recv,
            peer,
            remote,
            idle_timeout,
            counters,
            finished: false,
            _permit: permit,
        }
    }

    /// Reads into `buf`; `None` at the end of the peer's side.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, StreamError> {
        let read = tokio::time::timeout(self.idle_timeout, self.recv.read(buf))
            .await
            .map_err(|_| StreamError::TimedOut(self.idle_timeout))?
            .map_err(read_error)?;
        if let Some(count) = read {
            self.counters.count(&self.counters.bytes_received, count);
        }
        Ok(read)
    }

    /// Fills `buf` completely; the end of the stream before that is an error.
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), StreamError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]).await? {
                Some(count) => filled += count,
                None => return Err(StreamError::UnexpectedEnd),
            }
        }
        Ok(())
    }

    /// Everything up to the end of the peer's side, at most `limit` bytes.
    pub async fn read_to_end(&mut self, limit: usize) -> Result<Vec<u8>, StreamError> {
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        while let Some(count) = self.read(&mut chunk).await? {
            if bytes.len() + count > limit {
                return Err(StreamError::TooLong { limit });
            }
            bytes.extend_from_slice(&chunk[..count]);
        }
        Ok(bytes)
    }

    /// Writes all of `bytes`, waiting on flow control for at most the idle
    /// timeout each time the peer stops accepting.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        let mut written = 0;
        while written < bytes.len() {
            let count = tokio::time::timeout(self.idle_timeout, self.send.write(&bytes[written..]))
                .await
                .map_err(|_| StreamError::TimedOut(self.idle_timeout))?
                .map_err(write_error)?;
            written += count;
            self.counters.count(&self.counters.bytes_sent, count);
        }
        Ok(())
    }

    /// Ends this side: the peer reads the end of the stream after the bytes
    /// written.
    pub fn finish(&mut self) -> Result<(), StreamError> {
        self.finished = true;
        self.send
            .finish()
            .map_err(|error| StreamError::Closed(error.to_string()))
    }

    /// Abandons the exchange in both directions with an application code
    /// (e.g. a rejected request), telling the peer at once.
    pub fn abandon(&mut self, code: u32) {
        self.finished = true;
        let code = VarInt::from_u32(code);
        // Either side may already be closed; there is nothing left to tell.
        let _ = self.send.reset(code);
        let _ = self.recv.stop(code);
    }

    /// The node id of the peer, from its certificate.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The peer's UDP address.
    pub fn remote_address(&self) -> SocketAddr {
        self.remote
    }
}

impl Drop for ClusterStream {
    fn drop(&mut self) {
        if !self.finished {
            self.abandon(STREAM_ABANDONED);
        }
    }
}

fn read_error(error: quinn::ReadError) -> StreamError {
    match error {
        quinn::ReadError::Reset(code) => StreamError::Reset(code.into_inner()),
        other => StreamError::Closed(other.to_string()),
    }
}

fn write_error(error: quinn::WriteError) -> StreamError {
    match error {
        quinn::WriteError::Stopped(code) => StreamError::Reset(code.into_inner()),
        other => StreamError::Closed(other.to_string()),
    }
}

impl Counters {
    fn count(&self, counter: &std::sync::atomic::AtomicU64, bytes: usize) {
        counter.fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}
