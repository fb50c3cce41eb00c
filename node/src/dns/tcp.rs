//! TCP listener: RFC 7766 pipelining, idle timeouts, a connection limit.
//!
//! Each connection has a reader and a writer. The reader answers queries in
//! the order they arrive and queues responses for the writer; messages that
//! need the async side (transfers, NOTIFY, TSIG) get a clone of the writer's
//! queue and answer whenever they are ready, so responses may leave out of
//! order (RFC 7766 §6.2.1.1). The reader stops after `idle_timeout` without a
//! new message; the connection closes once every pending response is
//! written, so an idle timeout never cuts a transfer short.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use super::{Handled, Protocol, QueryHandler, ReplyPath, SpecialRequest};

/// Largest DNS message over TCP.
const MAX_MESSAGE: usize = 65_535;
/// Responses queued per connection before the reader waits for the writer.
const WRITE_QUEUE: usize = 64;

/// Limits of the TCP listener.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// How long a connection may sit without a new query.
    pub idle_timeout: Duration,
    /// Connections served at once; more are closed on accept.
    pub max_connections: usize,
}

/// Accepts connections until `shutdown` turns true.
pub async fn serve<H: QueryHandler>(
    listener: TcpListener,
    handler: Arc<H>,
    special: mpsc::Sender<SpecialRequest>,
    limits: TcpLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => return,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "TCP connection limit reached; closing");
            continue;
        };
        let connection = Connection {
            handler: handler.clone(),
            special: special.clone(),
            idle_timeout: limits.idle_timeout,
            shutdown: shutdown.clone(),
        };
        tokio::spawn(async move {
            if let Err(error) = connection.run(stream, peer).await {
                tracing::debug!(%peer, %error, "TCP connection ended with an error");
            }
            drop(permit);
        });
    }
}

struct Connection<H> {
    handler: Arc<H>,
    special: mpsc::Sender<SpecialRequest>,
    idle_timeout: Duration,
    shutdown: watch::Receiver<bool>,
}

impl<H: QueryHandler> Connection<H> {
    async fn run(mut self, stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let (mut reader, writer) = stream.into_split();
        let (responses, queue) = mpsc::channel(WRITE_QUEUE);
        let writing = tokio::spawn(write_responses(writer, queue));
        let mut out = vec![0u8; MAX_MESSAGE];
        let mut query = vec![0u8; MAX_MESSAGE];
        loop {
            let len = tokio::select! {
                read = tokio::time::timeout(self.idle_timeout, read_length(&mut reader)) => match read {
                    Ok(Ok(Some(len))) => len,
                    Ok(Ok(None)) | Err(_) => break,
                    Ok(Err(error)) => return Err(error),
                },
                _ = stopped(&mut self.shutdown) => break,
            };
            let message = &mut query[..len];
            match tokio::time::timeout(self.idle_timeout, reader.read_exact(message)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => return Err(error),
                Err(_) => break,
            }
            if !self.dispatch(message, peer, &mut out, &responses).await {
                break;
            }
        }
        drop(responses);
        writing.await.map_err(io::Error::other)?
    }

    /// Answers one message; false when the connection should stop reading.
    async fn dispatch(
        &self,
        message: &[u8],
        peer: SocketAddr,
        out: &mut [u8],
        responses: &mpsc::Sender<Vec<u8>>,
    ) -> bool {
        match self.handler.handle(message, peer, Protocol::Tcp, out) {
            Handled::Reply { len, .. } => responses.send(out[..len].to_vec()).await.is_ok(),
            Handled::Drop => true,
            Handled::Special => {
                let request = SpecialRequest {
                    message: message.to_vec(),
                    peer,
                    reply: ReplyPath::Tcp(responses.clone()),
                };
                self.special.send(request).await.is_ok()
            }
        }
    }
}

/// Resolves once the shutdown flag is set (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Reads a two-octet length prefix; `None` at a clean end of stream.
async fn read_length(reader: &mut (impl AsyncReadExt + Unpin)) -> io::Result<Option<usize>> {
    let mut prefix = [0u8; 2];
    match reader.read_exact(&mut prefix).await {
        Ok(_) => Ok(Some(u16::from_be_bytes(prefix) as usize)),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error),
    }
}

async fn write_responses(
    writer: tokio::net::tcp::OwnedWriteHalf,
    mut queue: mpsc::Receiver<Vec<u8>>,
) -> io::Result<()> {
    let mut writer = BufWriter::new(writer);
    while let Some(message) = queue.recv().await {
        let Ok(len) = u16::try_from(message.len()) else {
            continue;
        };
        writer.write_all(&len.to_be_bytes()).await?;
        writer.write_all(&message).await?;
        if queue.is_empty() {
            writer.flush().await?;
        }
    }
    writer.flush().await?;
    writer.into_inner().shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Echoes queries; hands over those starting with `S`.
    struct Echo;

    impl QueryHandler for Echo {
        fn handle(
            &self,
            query: &[u8],
            _: SocketAddr,
            protocol: Protocol,
            out: &mut [u8],
        ) -> Handled {
            assert_eq!(protocol, Protocol::Tcp);
            if query.first() == Some(&b'S') {
                return Handled::Special;
            }
            out[..query.len()].copy_from_slice(query);
            Handled::Reply {
                len: query.len(),
                rcode: 0,
            }
        }
    }

    async fn start(
        idle: Duration,
    ) -> (
        SocketAddr,
        mpsc::Receiver<SpecialRequest>,
        watch::Sender<bool>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel(8);
        let (stop, shutdown) = watch::channel(false);
        let limits = TcpLimits {
            idle_timeout: idle,
            max_connections: 4,
        };
        tokio::spawn(serve(listener, Arc::new(Echo), tx, limits, shutdown));
        (addr, rx, stop)
    }

    async fn read_message(stream: &mut TcpStream) -> Vec<u8> {
        let len = stream.read_u16().await.unwrap() as usize;
        let mut buf = vec![0; len];
        stream.read_exact(&mut buf).await.unwrap();
        buf
    }

    fn frame(message: &[u8]) -> Vec<u8> {
        let mut out = (message.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(message);
        out
    }

    #[tokio::test]
    async fn rfc7766_6_2_1_pipelined_queries_are_all_answered() {
        let (addr, mut special, _stop) = start(Duration::from_secs(5)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut burst = Vec::new();
        for message in [&b"one"[..], b"Slow", b"two", b"three"] {
            burst.extend(frame(message));
        }
        stream.write_all(&burst).await.unwrap();
        let mut answers = vec![
            read_message(&mut stream).await,
            read_message(&mut stream).await,
        ];
        answers.push(read_message(&mut stream).await);
        let request = special.recv().await.unwrap();
        let ReplyPath::Tcp(reply) = request.reply else {
            panic!("TCP reply path expected")
        };
        reply.send(b"late".to_vec()).await.unwrap();
        answers.push(read_message(&mut stream).await);
        assert_eq!(answers, [&b"one"[..], b"two", b"three", b"late"]);
    }

    #[tokio::test]
    async fn rfc7766_6_2_3_idle_connection_is_closed() {
        let (addr, _special, _stop) = start(Duration::from_millis(200)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&frame(b"hello")).await.unwrap();
        assert_eq!(read_message(&mut stream).await, b"hello");
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest)).await;
        assert!(
            matches!(closed, Ok(Ok(0))),
            "connection should close after idling: {closed:?}"
        );
    }

    #[tokio::test]
    async fn idle_timeout_waits_for_pending_transfer_responses() {
        let (addr, mut special, _stop) = start(Duration::from_millis(100)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&frame(b"Stream")).await.unwrap();
        let request = special.recv().await.unwrap();
        let ReplyPath::Tcp(reply) = request.reply else {
            panic!("TCP reply path expected")
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        for part in [&b"part1"[..], b"part2"] {
            reply.send(part.to_vec()).await.unwrap();
        }
        drop(reply);
        assert_eq!(read_message(&mut stream).await, b"part1");
        assert_eq!(read_message(&mut stream).await, b"part2");
    }
}
