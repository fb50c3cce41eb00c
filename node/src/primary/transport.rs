//! Byte transport to primaries: one UDP exchange, or a TCP message stream
//! with an overall deadline and a minimum rate.
//!
//! A runaway or stalled primary must not pin a transfer forever: the stream
//! ends with [`TransportError::Deadline`] once the transfer timeout passes,
//! and with [`TransportError::TooSlow`] when, after a grace period, the
//! average rate falls below the configured minimum.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;

/// Largest DNS message.
const MAX_MESSAGE: usize = 65_535;
/// Time a transfer gets before its rate is judged.
const RATE_GRACE: Duration = Duration::from_secs(10);

/// Why talking to a primary failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Connecting, sending or receiving failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// No answer in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The whole exchange took longer than allowed.
    #[error("transfer exceeded its deadline of {0:?}")]
    Deadline(Duration),
    /// The primary sent slower than the configured minimum rate.
    #[error("transfer too slow: {rate} B/s, below the minimum of {min} B/s")]
    TooSlow {
        /// Average rate observed, bytes per second.
        rate: u64,
        /// The configured minimum.
        min: u64,
    },
    /// The primary closed the connection before the exchange was complete.
    #[error("connection closed by the primary mid-transfer")]
    Closed,
    /// The message to send is larger than DNS allows.
    #[error("message of {0} octets is too large to send")]
    TooLarge(usize),
}

/// Limits of one TCP exchange.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Connecting, and waiting for any single read.
    pub io_timeout: Duration,
    /// The whole exchange.
    pub deadline: Duration,
    /// Minimum average bytes per second after the grace period; 0 = none.
    pub min_rate: u64,
}

/// Sends `request` over UDP from `source` (if set) and returns the first
/// datagram from `primary` whose id matches.
pub async fn exchange_udp(
    primary: SocketAddr,
    source: Option<IpAddr>,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, TransportError> {
    let bind = SocketAddr::new(source.unwrap_or_else(|| unspecified(primary)), 0);
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(primary).await?;
    socket.send(request).await?;
    let id = request
        .get(..2)
        .ok_or(TransportError::TooLarge(request.len()))?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let deadline = Instant::now() + timeout;
    loop {
        let len = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| TransportError::Timeout(timeout))??;
        if buf.get(..2) == Some(id) {
            buf.truncate(len);
            return Ok(buf);
        }
    }
}

/// A TCP connection to a primary carrying length-prefixed DNS messages.
pub struct Stream {
    stream: TcpStream,
    limits: StreamLimits,
    started: Instant,
    received: u64,
}

impl Stream {
    /// Connects to `primary` from `source` (if set).
    pub async fn connect(
        primary: SocketAddr,
        source: Option<IpAddr>,
        limits: StreamLimits,
    ) -> Result<Stream, TransportError> {
        let socket = match primary {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(source) = source {
            socket.bind(SocketAddr::new(source, 0))?;
        }
        let stream = tokio::time::timeout(limits.io_timeout, socket.connect(primary))
            .await
            .map_err(|_| TransportError::Timeout(limits.io_timeout))??;
        stream.set_nodelay(true)?;
        Ok(Stream {
            stream,
            limits,
            started: Instant::now(),
            received: 0,
        })
    }

    /// Sends one message.
    pub async fn send(&mut self, message: &[u8]) -> Result<(), TransportError> {
        let len =
            u16::try_from(message.len()).map_err(|_| TransportError::TooLarge(message.len()))?;
        let mut framed = Vec::with_capacity(message.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(message);
        let (limit, error) = self.limit();
        let write = self.stream.write_all(&framed);
        tokio::time::timeout_at(limit, write)
            .await
            .map_err(|_| error)??;
        Ok(())
    }

    /// Receives the next message, enforcing the deadline and the minimum rate.
    pub async fn receive(&mut self) -> Result<Vec<u8>, TransportError> {
        let mut prefix = [0u8; 2];
        self.read_exact(&mut prefix).await?;
        let mut message = vec![0u8; u16::from_be_bytes(prefix) as usize];
        self.read_exact(&mut message).await?;
        self.received += message.len() as u64 + 2;
        self.check_rate()?;
        Ok(message)
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        let (limit, error) = self.limit();
        let read = self.stream.read_exact(buf);
        match tokio::time::timeout_at(limit, read)
            .await
            .map_err(|_| error)?
        {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                Err(TransportError::Closed)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The earlier of the per-read timeout and the overall deadline, with
    /// the error reported when it passes.
    fn limit(&self) -> (Instant, TransportError) {
        let overall = self.started + self.limits.deadline;
        let this_read = Instant::now() + self.limits.io_timeout;
        if overall <= this_read {
            (overall, TransportError::Deadline(self.limits.deadline))
        } else {
            (this_read, TransportError::Timeout(self.limits.io_timeout))
        }
    }

    fn check_rate(&self) -> Result<(), TransportError> {
        let elapsed = self.started.elapsed();
        if self.limits.min_rate == 0 || elapsed < RATE_GRACE {
            return Ok(());
        }
        let rate = (self.received as f64 / elapsed.as_secs_f64()) as u64;
        if rate < self.limits.min_rate {
            return Err(TransportError::TooSlow {
                rate,
                min: self.limits.min_rate,
            });
        }
        Ok(())
    }
}

fn unspecified(peer: SocketAddr) -> IpAddr {
    match peer {
        SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn limits(io: u64, deadline: u64) -> StreamLimits {
        StreamLimits {
            io_timeout: Duration::from_millis(io),
            deadline: Duration::from_millis(deadline),
            min_rate: 0,
        }
    }

    #[tokio::test]
    async fn stalled_primary_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            // Half a length prefix, then nothing.
            socket.write_all(&[0]).await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let mut stream = Stream::connect(addr, None, limits(200, 10_000))
            .await
            .unwrap();
        stream.send(b"query").await.unwrap();
        assert!(matches!(
            stream.receive().await,
            Err(TransportError::Timeout(_))
        ));
        server.abort();
    }

    #[tokio::test]
    async fn trickling_primary_hits_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            loop {
                // One tiny message every 100 ms: never idle, never done.
                if socket.write_all(&[0, 1, 0]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut stream = Stream::connect(addr, None, limits(1_000, 600))
            .await
            .unwrap();
        let outcome = loop {
            if let Err(error) = stream.receive().await {
                break error;
            }
        };
        assert!(
            matches!(outcome, TransportError::Deadline(_)),
            "{outcome:?}"
        );
        server.abort();
    }

    #[tokio::test]
    async fn udp_exchange_ignores_mismatched_ids() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (_, peer) = server.recv_from(&mut buf).await.unwrap();
            server.send_to(b"\x99\x99wrong", peer).await.unwrap();
            server.send_to(b"\x12\x34right", peer).await.unwrap();
        });
        let reply = exchange_udp(addr, None, b"\x12\x34query", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(reply, b"\x12\x34right");
    }
}
