//! The read-only HTTP listener: `GET /metrics` and `GET /healthz`, nothing
//! else. A minimal HTTP/1.1 responder: one request per connection, the
//! request head bounded in size and time, `Connection: close`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::Metrics;

/// Longest request head read; a scraper's is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its request head and read the response.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 32;

/// What `/healthz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// 200 `healthy`
    Healthy,
    /// 503 with the reason.
    Unhealthy(String),
}

/// The daemon's health verdict, asked at each `/healthz` request.
pub type HealthCheck = Box<dyn Fn() -> Health + Send + Sync>;

/// A bound metrics listener.
#[derive(Debug)]
pub struct MetricsServer {
    listener: TcpListener,
}

impl MetricsServer {
    /// Binds `address` (TCP).
    pub async fn bind(address: SocketAddr) -> io::Result<MetricsServer> {
        Ok(MetricsServer {
            listener: TcpListener::bind(address).await?,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        metrics: Arc<Metrics>,
        health: HealthCheck,
        shutdown: impl Future<Output = ()>,
    ) {
        let health = Arc::new(health);
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => return,
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let stream = tokio::select! {
                () = &mut shutdown => return,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "metrics listener accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let metrics = Arc::clone(&metrics);
            let health = Arc::clone(&health);
            tokio::spawn(async move {
                let exchange = exchange(stream, &metrics, health.as_ref());
                if let Ok(Err(error)) = tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
                    tracing::debug!(%error, "metrics request failed");
                }
                drop(permit);
            });
        }
    }
}

async fn exchange(
    mut stream: TcpStream,
    metrics: &Metrics,
    health: &HealthCheck,
) -> io::Result<()> {
    let head = match read_head(&mut stream).await? {
        Some(head) => head,
        None => {
            return reply(
                &mut stream,
                &Reply::text(431, "request head too large\n"),
                false,
            )
            .await;
        }
    };
    let Some((method, target)) = request_line(&head) else {
        return reply(&mut stream, &Reply::text(400, "bad request\n"), false).await;
    };
    let with_body = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        return reply(
            &mut stream,
            &Reply::text(405, "only GET and HEAD\n"),
            with_body,
        )
        .await;
    }
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let response = match path {
        "/metrics" => Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: metrics.render(),
        },
        "/healthz" => match health() {
            Health::Healthy => Reply::text(200, "healthy\n"),
            Health::Unhealthy(reason) => Reply::text(503, &format!("{reason}\n")),
        },
        _ => Reply::text(404, "not found: only /metrics and /healthz\n"),
    };
    reply(&mut stream, &response, with_body).await
}

/// The request head up to the blank line; `None` if it exceeds `MAX_HEAD`.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if head.windows(4).any(|window| window == b"\r\n\r\n")
            || head.windows(2).any(|window| window == b"\n\n")
        {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(chunk.get(..read).unwrap_or_default());
    }
}

/// Method and target of `GET /metrics HTTP/1.1`.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|&byte| byte == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && version.starts_with("HTTP/1.") && target.starts_with('/'))
        .then_some((method, target))
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Reply {
    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_owned(),
        }
    }
}

async fn reply(stream: &mut TcpStream, reply: &Reply, with_body: bool) -> io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    };
    let allow = if reply.status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if with_body {
        stream.write_all(reply.body.as_bytes()).await?;
    }
    stream.shutdown().await
}
