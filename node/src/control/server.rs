//! The node's side of the control socket: accept local connections, read
//! one request per line, hand it to the daemon's [`Handler`], write the
//! response.
//!
//! A malformed line gets an error response; a client that disconnects or
//! stalls ends only its own connection; a handler that takes longer than the
//! request timeout is answered with an error (its work goes on).

use std::fs;
use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use understudy_proto::Name;

use super::protocol::{Request, Response};
use crate::config::ZoneSpec;

/// Longest request line accepted; a zone with many primaries and ACL
/// entries stays far below.
const MAX_REQUEST_LEN: u64 = 64 * 1024;
/// How long a connection may sit without sending a request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a handler may take before the client is told it timed out.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A request with its zone names checked, as the daemon receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Status of one zone, or all.
    ZoneStatus(Option<Name>),
    /// Add a zone; the daemon checks it with `Config::resolve_zone`.
    ZoneAdd(Box<ZoneSpec>),
    /// Remove a zone.
    ZoneRemove(Name),
    /// Check the primary's SOA now.
    ZoneRefresh(Name),
    /// Full AXFR regardless of serial; bumps the epoch.
    ZoneRetransfer(Name),
    /// List cluster members.
    ClusterMembers,
    /// Withdraw from anycast.
    Drain,
    /// Undo `Drain`.
    Undrain,
    /// The anycast health verdict.
    Health,
    /// Reload the configuration.
    Reload,
}

impl Command {
    /// The operation's name, as on the wire.
    pub fn op(&self) -> &'static str {
        match self {
            Command::ZoneStatus(_) => "zone_status",
            Command::ZoneAdd(_) => "zone_add",
            Command::ZoneRemove(_) => "zone_remove",
            Command::ZoneRefresh(_) => "zone_refresh",
            Command::ZoneRetransfer(_) => "zone_retransfer",
            Command::ClusterMembers => "cluster_members",
            Command::Drain => "drain",
            Command::Undrain => "undrain",
            Command::Health => "health",
            Command::Reload => "reload",
        }
    }

    /// Checks the zone names of a request.
    pub fn from_request(request: Request) -> Result<Command, String> {
        Ok(match request {
            Request::ZoneStatus { zone } => {
                Command::ZoneStatus(zone.as_deref().map(zone_name).transpose()?)
            }
            Request::ZoneAdd { spec } => Command::ZoneAdd(spec),
            Request::ZoneRemove { zone } => Command::ZoneRemove(zone_name(&zone)?),
            Request::ZoneRefresh { zone } => Command::ZoneRefresh(zone_name(&zone)?),
            Request::ZoneRetransfer { zone } => Command::ZoneRetransfer(zone_name(&zone)?),
            Request::ClusterMembers => Command::ClusterMembers,
            Request::Drain => Command::Drain,
            Request::Undrain => Command::Undrain,
            Request::Health => Command::Health,
            Request::Reload => Command::Reload,
        })
    }
}

fn zone_name(text: &str) -> Result<Name, String> {
    if text.trim().is_empty() {
        return Err("empty zone name".into());
    }
    Name::from_ascii(text).map_err(|error| format!("\"{text}\" is not a zone name: {error}"))
}

/// What the daemon implements to answer control commands.
pub trait Handler: Send + Sync + 'static {
    /// Carries out one command. Commands the node does not offer answer
    /// `Response::not_available(command.op())`.
    fn handle(&self, command: Command) -> impl Future<Output = Response> + Send;
}

/// Why the control socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another process answers on the socket: probably a running node.
    #[error("{} is in use by a running process", path.display())]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// Something other than a socket sits at the path; it is left alone.
    #[error("{} exists and is not a socket", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// Creating the directory, binding, or setting permissions failed.
    #[error("cannot create control socket {}: {source}", path.display())]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// A bound control socket, ready to serve.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    request_timeout: Duration,
}

impl ControlServer {
    /// Binds the socket at `path` with mode 0600, creating its directory
    /// (0700) if needed and replacing a stale socket file. Must be called
    /// inside a tokio runtime.
    pub fn bind(path: &Path) -> Result<ControlServer, BindError> {
        let io_error = |source| BindError::Io {
            path: path.to_path_buf(),
            source,
        };
        check_existing(path)?;
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|dir| !dir.exists()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_error)?;
        }
        // Bind under a temporary name and rename, so the socket is never
        // reachable before its mode is 0600.
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = path.with_file_name(format!(".{file_name}.{}", std::process::id()));
        let _ = fs::remove_file(&temp);
        let bound = std::os::unix::net::UnixListener::bind(&temp)
            .and_then(|listener| {
                fs::set_permissions(&temp, fs::Permissions::from_mode(0o600))?;
                fs::rename(&temp, path)?;
                listener.set_nonblocking(true)?;
                UnixListener::from_std(listener)
            })
            .map_err(io_error);
        let _ = fs::remove_file(&temp);
        Ok(ControlServer {
            listener: bound?,
            path: path.to_path_buf(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Answers with an error when a handler takes longer than `timeout`.
    pub fn with_request_timeout(mut self, timeout: Duration) -> ControlServer {
        self.request_timeout = timeout;
        self
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until `shutdown` completes, then removes the
    /// socket file.
    pub async fn serve<H: Handler>(self, handler: Arc<H>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let handler = Arc::clone(&handler);
                        tokio::spawn(connection(stream, handler, self.request_timeout));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "control socket accept failed");
                        // Out of descriptors, most likely: do not spin.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        let _ = fs::remove_file(&self.path);
    }
}

fn check_existing(path: &Path) -> Result<(), BindError> {
    let metadata = match fs::symlink_metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(BindError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(metadata) => metadata,
    };
    if !metadata.file_type().is_socket() {
        return Err(BindError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(BindError::InUse {
            path: path.to_path_buf(),
        }),
        // Nobody listens: a socket left by a node that died; the rename in
        // `bind` replaces it.
        Err(_) => Ok(()),
    }
}

async fn connection<H: Handler>(stream: UnixStream, handler: Arc<H>, request_timeout: Duration) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let line = match tokio::time::timeout(IDLE_TIMEOUT, read_line(&mut reader)).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err(error)) => {
                let response = Response::error(error.to_string());
                let _ = send(&mut write, &response).await;
                return;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let response = respond(&line, handler.as_ref(), request_timeout).await;
        if let Err(error) = send(&mut write, &response).await {
            tracing::debug!(%error, "control client went away");
            return;
        }
    }
}

async fn respond<H: Handler>(line: &[u8], handler: &H, request_timeout: Duration) -> Response {
    let request: Request = match serde_json::from_slice(line) {
        Ok(request) => request,
        Err(error) => return Response::error(format!("malformed request: {error}")),
    };
    let command = match Command::from_request(request) {
        Ok(command) => command,
        Err(message) => return Response::error(message),
    };
    let op = command.op();
    match tokio::time::timeout(request_timeout, handler.handle(command)).await {
        Ok(response) => response,
        Err(_) => Response::error(format!(
            "{op} did not finish within {}s; it may still complete",
            request_timeout.as_secs()
        )),
    }
}

/// One line without its newline (the last may lack it); `None` at the end
/// of the stream.
async fn read_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut limited = reader.take(MAX_REQUEST_LEN + 1);
    let read = limited.read_until(b'\n', &mut line).await?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() as u64 > MAX_REQUEST_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("request longer than {MAX_REQUEST_LEN} bytes"),
        ));
    }
    Ok(Some(line))
}

async fn send(write: &mut tokio::net::unix::OwnedWriteHalf, response: &Response) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(response).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await
}
