//! Socket set-up for the DNS listeners.

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

/// Receive buffer asked of the kernel for each UDP socket: bursts of queries
/// queue here while a worker is busy.
const UDP_RECV_BUFFER: usize = 4 << 20;
/// Send buffer for each UDP socket.
const UDP_SEND_BUFFER: usize = 4 << 20;
/// Pending TCP connections the kernel queues for us.
const TCP_BACKLOG: i32 = 1024;

/// A UDP socket for one worker: `SO_REUSEPORT` so several workers share the
/// address, IPv6 sockets IPv6-only so `0.0.0.0` and `[::]` can both be bound,
/// and packet-info reception on wildcard addresses so each reply leaves from
/// the address its query was sent to (anycast hosts have several).
pub fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    let _ = socket.set_recv_buffer_size(UDP_RECV_BUFFER);
    let _ = socket.set_send_buffer_size(UDP_SEND_BUFFER);
    if addr.ip().is_unspecified() {
        enable_packet_info(&socket, addr)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// A TCP listening socket, IPv6-only for IPv6 addresses.
pub fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(TCP_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

fn enable_packet_info(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, option) = match addr {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_PKTINFO),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO),
    };
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to a live c_int of the
    // length passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_workers_share_one_udp_address() {
        let first = udp_socket("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = udp_socket(addr).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
    }

    #[test]
    fn ipv4_and_ipv6_wildcards_bind_the_same_port() {
        let v6 = udp_socket("[::]:0".parse().unwrap()).unwrap();
        let port = v6.local_addr().unwrap().port();
        let v4 = udp_socket(SocketAddr::from(([0, 0, 0, 0], port)));
        assert!(v4.is_ok(), "{v4:?}");
    }
}
