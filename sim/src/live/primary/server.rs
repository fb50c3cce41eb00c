//! The primary's sockets: a UDP task, a TCP accept loop, NOTIFY senders.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;
use understudy_proto::tsig::{Key, KeyRing};
use understudy_proto::wire;

use super::respond::{Served, respond};
use super::zone::{SoaTimers, ZoneError, ZoneHistory};

/// How the primary is set up.
#[derive(Debug, Clone)]
pub struct PrimaryConfig {
    /// Address of both the UDP and the TCP listener.
    pub listen: SocketAddr,
    /// The zone it serves.
    pub zone: String,
    /// The zone's SOA timers.
    pub timers: SoaTimers,
    /// The first serial.
    pub first_serial: u32,
    /// When set, every request must be signed with this key.
    pub tsig: Option<Key>,
    /// Secondaries to NOTIFY on each change.
    pub notify: Vec<SocketAddr>,
}

/// Why the primary could not start or change.
#[derive(Debug, thiserror::Error)]
pub enum PrimaryError {
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The zone could not be built or changed.
    #[error(transparent)]
    Zone(#[from] ZoneError),
}

/// One transfer the primary served.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServedTransfer {
    /// The client's address.
    pub client: IpAddr,
    /// AXFR-style or incremental.
    pub kind: Served,
    /// The serial transferred.
    pub serial: u32,
    /// When it was served.
    #[serde(skip)]
    pub at: std::time::Instant,
}

struct State {
    zone: ZoneHistory,
    keys: KeyRing,
    transfers: Vec<ServedTransfer>,
    notify_pending: bool,
}

/// A running (or taken away) built-in primary.
pub struct Primary {
    config: PrimaryConfig,
    state: Arc<Mutex<State>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Primary {
    /// Builds the zone and starts listening.
    pub async fn start(config: PrimaryConfig) -> Result<Primary, PrimaryError> {
        let zone = ZoneHistory::new(&config.zone, config.timers, config.first_serial)?;
        let mut keys = KeyRing::new();
        if let Some(key) = &config.tsig {
            keys.insert(key.clone());
        }
        let state = State {
            zone,
            keys,
            transfers: Vec::new(),
            notify_pending: false,
        };
        let mut primary = Primary {
            config,
            state: Arc::new(Mutex::new(state)),
            tasks: Vec::new(),
        };
        primary.resume().await?;
        Ok(primary)
    }

    /// Publishes the next version and NOTIFYs the secondaries (at once if
    /// listening, else when brought back). Returns the new serial.
    pub fn change(&mut self) -> Result<u32, PrimaryError> {
        let serial = lock(&self.state).zone.change()?;
        if self.is_up() {
            self.notify();
        } else {
            lock(&self.state).notify_pending = true;
        }
        Ok(serial)
    }

    /// Closes every socket: the primary is gone until [`Primary::resume`].
    pub async fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same address; sends a NOTIFY held back while
    /// away.
    pub async fn resume(&mut self) -> Result<(), PrimaryError> {
        if self.is_up() {
            return Ok(());
        }
        let addr = self.config.listen;
        let listen_error = |source| PrimaryError::Listen { addr, source };
        let udp = UdpSocket::bind(addr).await.map_err(listen_error)?;
        let tcp = TcpListener::bind(addr).await.map_err(listen_error)?;
        self.tasks
            .push(tokio::spawn(serve_udp(udp, self.state.clone())));
        self.tasks
            .push(tokio::spawn(serve_tcp(tcp, self.state.clone())));
        let pending = std::mem::take(&mut lock(&self.state).notify_pending);
        if pending {
            self.notify();
        }
        Ok(())
    }

    /// Whether the primary is listening.
    pub fn is_up(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.config.listen
    }

    /// The newest serial.
    pub fn serial(&self) -> u32 {
        lock(&self.state).zone.serial()
    }

    /// Every serial published, oldest first.
    pub fn serials(&self) -> Vec<u32> {
        lock(&self.state).zone.serials().to_vec()
    }

    /// Every transfer served so far.
    pub fn transfers(&self) -> Vec<ServedTransfer> {
        lock(&self.state).transfers.clone()
    }

    /// A handle that tells, from any task, which serials the primary
    /// published and which is the newest.
    pub fn history(&self) -> History {
        History(self.state.clone())
    }

    fn notify(&mut self) {
        let (zone, soa) = {
            let state = lock(&self.state);
            (state.zone.name().clone(), state.zone.soa().clone())
        };
        let key = self.config.tsig.clone();
        for target in self.config.notify.clone() {
            let source = SocketAddr::new(self.config.listen.ip(), 0);
            let (zone, soa, key) = (zone.clone(), soa.clone(), key.clone());
            tokio::spawn(async move { send_notify(source, target, &zone, &soa, key).await });
        }
    }
}

impl Drop for Primary {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Primary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Primary")
            .field("listen", &self.config.listen)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

/// Read access to the primary's published serials.
#[derive(Clone)]
pub struct History(Arc<Mutex<State>>);

impl History {
    /// Whether the primary ever published `serial`.
    pub fn produced(&self, serial: u32) -> bool {
        lock(&self.0).zone.produced(serial)
    }

    /// The newest serial.
    pub fn serial(&self) -> u32 {
        lock(&self.0).zone.serial()
    }
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("History").field(&self.serial()).finish()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Answers `bytes` and records a transfer when one was served.
fn handle(state: &Mutex<State>, bytes: &[u8], tcp: bool, client: IpAddr) -> Vec<Vec<u8>> {
    let mut state = lock(state);
    let reply = respond(&state.zone, &state.keys, bytes, tcp, unix_now());
    if reply.served != Served::Other {
        let serial = state.zone.serial();
        state.transfers.push(ServedTransfer {
            client,
            kind: reply.served,
            serial,
            at: std::time::Instant::now(),
        });
    }
    reply.messages
}

async fn serve_udp(socket: UdpSocket, state: Arc<Mutex<State>>) {
    let mut buffer = vec![0u8; 65_535];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        for message in handle(&state, &buffer[..len], false, peer.ip()) {
            let _ = socket.send_to(&message, peer).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, state: Arc<Mutex<State>>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(serve_connection(stream, peer.ip(), state.clone()));
    }
}

/// Serves one TCP connection until the client closes it or stays idle.
async fn serve_connection(mut stream: TcpStream, client: IpAddr, state: Arc<Mutex<State>>) {
    const IDLE: Duration = Duration::from_secs(10);
    loop {
        let mut length = [0u8; 2];
        match tokio::time::timeout(IDLE, stream.read_exact(&mut length)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if stream.read_exact(&mut request).await.is_err() {
            return;
        }
        for message in handle(&state, &request, true, client) {
            let Ok(len) = u16::try_from(message.len()) else {
                return;
            };
            let mut framed = len.to_be_bytes().to_vec();
            framed.extend_from_slice(&message);
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
    }
}

/// Sends one NOTIFY and waits for its acknowledgement, three tries
/// (RFC 1996 §3.6 asks for retransmission).
async fn send_notify(
    source: SocketAddr,
    target: SocketAddr,
    zone: &understudy_proto::Name,
    soa: &understudy_proto::Record,
    key: Option<Key>,
) {
    let Ok(socket) = UdpSocket::bind(source).await else {
        return;
    };
    let id = (unix_now() as u16) ^ target.port();
    let Ok(mut message) = wire::notify(id, zone, Some(soa)) else {
        return;
    };
    if let Some(key) = &key
        && understudy_proto::tsig::sign_request(&mut message, key, unix_now()).is_err()
    {
        return;
    }
    let mut buffer = [0u8; 1_500];
    for _ in 0..3 {
        if socket.send_to(&message, target).await.is_err() {
            return;
        }
        let wait = tokio::time::timeout(Duration::from_millis(500), socket.recv_from(&mut buffer));
        if let Ok(Ok((len, _))) = wait.await
            && wire::Message::parse(&buffer[..len]).is_ok_and(|m| m.header.id == id && m.header.qr)
        {
            return;
        }
    }
}
