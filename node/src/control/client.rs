//! The client side of the control socket, blocking: `understudy ctl` sends
//! one request and waits for its response.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::protocol::{Request, Response};

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket (node not running, wrong path, no
    /// permission).
    #[error("cannot connect to control socket {}: {source}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The connection broke or timed out mid-exchange.
    #[error("control socket {}: {source}", path.display())]
    Exchange {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The node answered something that is not a response.
    #[error("control socket {}: unreadable response: {reason}", path.display())]
    Malformed {
        /// The socket path.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
}

/// Sends `request` to the node at `socket` and returns its response.
pub fn send(socket: &Path, request: &Request, timeout: Duration) -> Result<Response, ClientError> {
    let stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
        path: socket.to_path_buf(),
        source,
    })?;
    let exchange = |source| ClientError::Exchange {
        path: socket.to_path_buf(),
        source,
    };
    stream.set_read_timeout(Some(timeout)).map_err(exchange)?;
    stream.set_write_timeout(Some(timeout)).map_err(exchange)?;
    let mut line =
        serde_json::to_vec(request).map_err(|error| exchange(io::Error::other(error)))?;
    line.push(b'\n');
    (&stream).write_all(&line).map_err(exchange)?;
    let mut reply = String::new();
    BufReader::new(&stream)
        .read_line(&mut reply)
        .map_err(exchange)?;
    if reply.is_empty() {
        return Err(exchange(io::ErrorKind::UnexpectedEof.into()));
    }
    serde_json::from_str(&reply).map_err(|error| ClientError::Malformed {
        path: socket.to_path_buf(),
        reason: error.to_string(),
    })
}
