//! Raw DNS exchanges over std sockets, for byte-level checks.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::message::{QueryMessage, Response};

/// How a query travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// One UDP datagram each way.
    Udp,
    /// A TCP connection with two-octet length prefixes (RFC 1035 §4.2.2).
    Tcp,
}

/// How long a single exchange may take.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(3);

/// Sends `query` and returns the raw response bytes.
pub fn exchange(server: SocketAddr, query: &[u8], transport: Transport) -> io::Result<Vec<u8>> {
    match transport {
        Transport::Udp => exchange_udp(server, query, EXCHANGE_TIMEOUT),
        Transport::Tcp => {
            let mut stream = connect_tcp(server)?;
            send_tcp(&mut stream, query)?;
            read_tcp(&mut stream)
        }
    }
}

/// Sends one UDP datagram and waits for the reply carrying the same id.
pub fn exchange_udp(server: SocketAddr, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() {
        "127.0.0.1:0".parse().map_err(io::Error::other)?
    } else {
        "[::1]:0".parse().map_err(io::Error::other)?
    };
    let socket = UdpSocket::bind(local)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.connect(server)?;
    socket.send(query)?;
    let mut buf = vec![0u8; 65535];
    loop {
        let len = socket.recv(&mut buf)?;
        let reply = buf.get(..len).unwrap_or_default();
        if reply.len() < 2 || query.len() < 2 || reply[..2] == query[..2] {
            return Ok(reply.to_vec());
        }
    }
}

/// Opens a TCP connection with the exchange timeouts set.
pub fn connect_tcp(server: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&server, EXCHANGE_TIMEOUT)?;
    stream.set_read_timeout(Some(EXCHANGE_TIMEOUT))?;
    stream.set_write_timeout(Some(EXCHANGE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes one length-prefixed message.
pub fn send_tcp(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let len = u16::try_from(message.len()).map_err(io::Error::other)?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed)
}

/// Reads one length-prefixed message.
pub fn read_tcp(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut message)?;
    Ok(message)
}

/// Sends a query built from `query` and parses the response.
pub fn query(server: SocketAddr, query: &QueryMessage, transport: Transport) -> Response {
    let wire = query
        .to_wire()
        .unwrap_or_else(|e| panic!("cannot encode query {query:?}: {e}"));
    let reply = exchange(server, &wire, transport)
        .unwrap_or_else(|e| panic!("no reply from {server} to {query:?} over {transport:?}: {e}"));
    Response::parse(&reply).unwrap_or_else(|e| {
        panic!(
            "unparsable reply from {server} to {query:?}: {e}\n{}",
            crate::message::to_hex(&reply)
        )
    })
}

/// Asks for the SOA of `zone` and returns its serial when the answer is
/// authoritative, `None` otherwise (no answer, not AA, no SOA).
pub fn soa_serial(server: SocketAddr, zone: &str) -> Option<u32> {
    let wire = QueryMessage::new(zone, 6).to_wire().ok()?;
    let reply = exchange_udp(server, &wire, Duration::from_millis(500)).ok()?;
    let response = Response::parse(&reply).ok()?;
    if response.rcode != 0 || !response.has(crate::message::flag::AA) {
        return None;
    }
    let soa = response.answers_of(6).into_iter().next()?;
    let (_, pos) = crate::wire::read_name(&soa.rdata, 0).ok()?;
    let (_, pos) = crate::wire::read_name(&soa.rdata, pos).ok()?;
    let serial = soa.rdata.get(pos..pos + 4)?;
    Some(u32::from_be_bytes([
        serial[0], serial[1], serial[2], serial[3],
    ]))
}
