//! UDP workers: batched receive and send on one `SO_REUSEPORT` socket each.
//!
//! A worker owns every buffer it uses, allocated once: per batch it receives
//! up to [`BATCH`] datagrams with one `recvmmsg`, answers each into its own
//! output slot through the [`QueryHandler`], and sends all replies with one
//! `sendmmsg`. Nothing on that path allocates or takes a lock. Messages the
//! handler cannot answer alone are copied out to the async side.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Handled, Protocol, QueryHandler, ReplyPath, SpecialRequest};
use crate::metrics::{Protocol as MetricsProtocol, QueryCounter};

/// Datagrams received and sent per system call.
pub const BATCH: usize = 32;
/// Largest query accepted; longer datagrams are dropped as malformed.
pub const MAX_QUERY: usize = 4096;
/// Largest UDP response written (the handler caps by the client's EDNS size).
pub const MAX_RESPONSE: usize = 4096;
/// Room for one packet-info control message.
const CONTROL_LEN: usize = 64;
/// How often a worker blocked in receive looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(200);

/// Control-message buffer, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; CONTROL_LEN]);

/// The destination address a datagram was sent to, from packet info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalAddr {
    /// The socket is bound to a specific address; replies leave from it.
    Bound,
    /// An IPv4 destination seen through `IP_PKTINFO`.
    V4(Ipv4Addr),
    /// An IPv6 destination and interface seen through `IPV6_PKTINFO`.
    V6(Ipv6Addr, u32),
}

/// Sends the one reply to a message that went to the async side.
#[derive(Debug, Clone)]
pub struct UdpReplier {
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
    local: LocalAddr,
}

impl UdpReplier {
    /// Sends `response` to the peer, from the address the query reached.
    pub fn send(&self, response: &[u8]) -> io::Result<()> {
        let mut name = sockaddr_of(self.peer);
        let mut control = Control([0; CONTROL_LEN]);
        let mut iov = libc::iovec {
            iov_base: response.as_ptr() as *mut _,
            iov_len: response.len(),
        };
        // SAFETY: msghdr is plain data; zero is a valid initial value.
        let mut header: libc::msghdr = unsafe { zeroed() };
        header.msg_name = (&mut name.0 as *mut libc::sockaddr_storage).cast();
        header.msg_namelen = name.1;
        header.msg_iov = &mut iov;
        header.msg_iovlen = 1;
        header.msg_controllen = write_packet_info(&mut control, &mut header, self.local);
        // SAFETY: every pointer in `header` refers to a live local of the stated length.
        let sent = unsafe { libc::sendmsg(self.socket.as_raw_fd(), &header, 0) };
        if sent < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

/// One UDP worker: a socket, its handler and its buffers.
pub struct UdpWorker<H> {
    socket: Arc<UdpSocket>,
    handler: Arc<H>,
    special: mpsc::Sender<SpecialRequest>,
    shutdown: Arc<AtomicBool>,
    buffers: Box<Buffers>,
    counter: Option<QueryCounter>,
}

struct Buffers {
    queries: [[u8; MAX_QUERY]; BATCH],
    responses: [[u8; MAX_RESPONSE]; BATCH],
    names: [libc::sockaddr_storage; BATCH],
    controls: [Control; BATCH],
    reply_controls: [Control; BATCH],
    recv_iov: [libc::iovec; BATCH],
    send_iov: [libc::iovec; BATCH],
    recv_headers: [libc::mmsghdr; BATCH],
    send_headers: [libc::mmsghdr; BATCH],
}

impl<H: QueryHandler> UdpWorker<H> {
    /// A worker for `socket`, which gets a receive timeout so that it can
    /// notice `shutdown`.
    pub fn new(
        socket: UdpSocket,
        handler: Arc<H>,
        special: mpsc::Sender<SpecialRequest>,
        shutdown: Arc<AtomicBool>,
    ) -> io::Result<UdpWorker<H>> {
        socket.set_read_timeout(Some(SHUTDOWN_POLL))?;
        Ok(UdpWorker {
            socket: Arc::new(socket),
            handler,
            special,
            shutdown,
            buffers: Buffers::new(),
            counter: None,
        })
    }

    /// Counts every query answered or dropped in `counter`.
    pub fn counting(mut self, counter: QueryCounter) -> UdpWorker<H> {
        self.counter = Some(counter);
        self
    }

    /// Serves until the shutdown flag is set.
    pub fn run(mut self) {
        while !self.shutdown.load(Ordering::Relaxed) {
            match self.receive() {
                Ok(0) => {}
                Ok(count) => self.answer(count),
                Err(error) if is_transient(&error) => {}
                Err(error) => {
                    tracing::warn!(%error, "UDP receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    fn receive(&mut self) -> io::Result<usize> {
        let buffers = &mut *self.buffers;
        buffers.prepare_receive();
        // SAFETY: the headers point into `buffers`, which lives in a Box that is
        // neither moved nor freed during the call; lengths match the buffers.
        let received = unsafe {
            libc::recvmmsg(
                self.socket.as_raw_fd(),
                buffers.recv_headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(received as usize)
        }
    }

    fn answer(&mut self, count: usize) {
        let mut replies = 0;
        for slot in 0..count {
            let header = &self.buffers.recv_headers[slot];
            let len = header.msg_len as usize;
            if header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let Some(peer) = socket_addr_of(&self.buffers.names[slot]) else {
                continue;
            };
            let local = read_packet_info(&header.msg_hdr);
            let buffers = &mut *self.buffers;
            let query = &buffers.queries[slot][..len];
            match self
                .handler
                .handle(query, peer, Protocol::Udp, &mut buffers.responses[replies])
            {
                Handled::Reply { len: size, rcode } => {
                    if let Some(counter) = self.counter.as_mut() {
                        counter.answered(MetricsProtocol::Udp, rcode);
                    }
                    buffers.prepare_send(replies, slot, size, local);
                    replies += 1;
                }
                Handled::Drop => {
                    if let Some(counter) = self.counter.as_mut() {
                        counter.dropped(MetricsProtocol::Udp);
                    }
                }
                Handled::Special => self.hand_over(slot, len, peer, local),
            }
        }
        self.send(replies);
    }

    fn hand_over(&self, slot: usize, len: usize, peer: SocketAddr, local: LocalAddr) {
        let message = self.buffers.queries[slot][..len].to_vec();
        let reply = ReplyPath::Udp(UdpReplier {
            socket: self.socket.clone(),
            peer,
            local,
        });
        if self
            .special
            .try_send(SpecialRequest {
                message,
                peer,
                reply,
            })
            .is_err()
        {
            tracing::debug!(%peer, "special request queue full; message dropped");
        }
    }

    fn send(&mut self, count: usize) {
        let mut sent = 0;
        while sent < count {
            let headers = &mut self.buffers.send_headers[sent..count];
            // SAFETY: as in `receive`; the send headers point into the same boxed buffers.
            let rc = unsafe {
                libc::sendmmsg(
                    self.socket.as_raw_fd(),
                    headers.as_mut_ptr(),
                    headers.len() as libc::c_uint,
                    0,
                )
            };
            if rc <= 0 {
                let error = io::Error::last_os_error();
                if !is_transient(&error) {
                    tracing::debug!(%error, "UDP send failed");
                }
                // Skip the datagram the kernel refused (e.g. an unreachable peer).
                sent += 1;
            } else {
                sent += rc as usize;
            }
        }
    }
}

// SAFETY: the raw pointers inside the headers only ever point into the same
// `Buffers` allocation, which moves between threads as one piece with them.
unsafe impl Send for Buffers {}

impl Buffers {
    fn new() -> Box<Buffers> {
        // SAFETY: every field is plain old data for which all-zero bytes are valid.
        let mut buffers: Box<Buffers> = unsafe { Box::new_zeroed().assume_init() };
        for slot in 0..BATCH {
            buffers.recv_iov[slot] = libc::iovec {
                iov_base: buffers.queries[slot].as_mut_ptr().cast(),
                iov_len: MAX_QUERY,
            };
        }
        buffers
    }

    fn prepare_receive(&mut self) {
        for slot in 0..BATCH {
            let header = &mut self.recv_headers[slot].msg_hdr;
            header.msg_name = (&mut self.names[slot] as *mut libc::sockaddr_storage).cast();
            header.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_iov = &mut self.recv_iov[slot];
            header.msg_iovlen = 1;
            header.msg_control = self.controls[slot].0.as_mut_ptr().cast();
            header.msg_controllen = CONTROL_LEN;
            header.msg_flags = 0;
            self.recv_headers[slot].msg_len = 0;
        }
    }

    fn prepare_send(&mut self, reply: usize, slot: usize, size: usize, local: LocalAddr) {
        self.send_iov[reply] = libc::iovec {
            iov_base: self.responses[reply].as_mut_ptr().cast(),
            iov_len: size,
        };
        let name_len = self.recv_headers[slot].msg_hdr.msg_namelen;
        let header = &mut self.send_headers[reply].msg_hdr;
        header.msg_name = (&mut self.names[slot] as *mut libc::sockaddr_storage).cast();
        header.msg_namelen = name_len;
        header.msg_iov = &mut self.send_iov[reply];
        header.msg_iovlen = 1;
        header.msg_flags = 0;
        header.msg_controllen = write_packet_info(&mut self.reply_controls[reply], header, local);
        self.send_headers[reply].msg_len = 0;
    }
}

fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Reads the destination address out of a received header's control data.
fn read_packet_info(header: &libc::msghdr) -> LocalAddr {
    if header.msg_controllen == 0 || header.msg_control.is_null() {
        return LocalAddr::Bound;
    }
    // SAFETY: the kernel filled `msg_control` with `msg_controllen` bytes of
    // well-formed control messages; the CMSG macros stay within them.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(header);
        while !cmsg.is_null() {
            let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
            if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>());
                return LocalAddr::V4(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
            }
            if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in6_pktinfo>());
                return LocalAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr), info.ipi6_ifindex);
            }
            cmsg = libc::CMSG_NXTHDR(header, cmsg);
        }
    }
    LocalAddr::Bound
}

/// Writes the packet-info control message that picks the reply's source
/// address; returns the control length to put in the header.
fn write_packet_info(control: &mut Control, header: &mut libc::msghdr, local: LocalAddr) -> usize {
    let (level, kind, len) = match local {
        LocalAddr::Bound => {
            header.msg_control = std::ptr::null_mut();
            return 0;
        }
        LocalAddr::V4(_) => (
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            size_of::<libc::in_pktinfo>(),
        ),
        LocalAddr::V6(..) => (
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            size_of::<libc::in6_pktinfo>(),
        ),
    };
    header.msg_control = control.0.as_mut_ptr().cast();
    // SAFETY: `control` is CONTROL_LEN bytes, aligned for cmsghdr, and larger
    // than CMSG_SPACE of either packet-info struct.
    unsafe {
        header.msg_controllen = libc::CMSG_SPACE(len as u32) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(header);
        (*cmsg).cmsg_level = level;
        (*cmsg).cmsg_type = kind;
        (*cmsg).cmsg_len = libc::CMSG_LEN(len as u32) as usize;
        let data = libc::CMSG_DATA(cmsg);
        match local {
            LocalAddr::V4(addr) => {
                let mut info: libc::in_pktinfo = zeroed();
                info.ipi_spec_dst.s_addr = u32::from(addr).to_be();
                std::ptr::write_unaligned(data.cast(), info);
            }
            LocalAddr::V6(addr, ifindex) => {
                let mut info: libc::in6_pktinfo = zeroed();
                info.ipi6_addr.s6_addr = addr.octets();
                info.ipi6_ifindex = ifindex;
                std::ptr::write_unaligned(data.cast(), info);
            }
            LocalAddr::Bound => {}
        }
        header.msg_controllen
    }
}

fn socket_addr_of(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let addr =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(addr.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let addr = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(addr.sin6_addr.s6_addr);
            let port = u16::from_be(addr.sin6_port);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                addr.sin6_flowinfo,
                addr.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; zero is a valid initial value.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let out = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            out.sin_family = libc::AF_INET as libc::sa_family_t;
            out.sin_port = v4.port().to_be();
            out.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let out = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            out.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            out.sin6_port = v6.port().to_be();
            out.sin6_addr.s6_addr = v6.ip().octets();
            out.sin6_flowinfo = v6.flowinfo();
            out.sin6_scope_id = v6.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::socket::udp_socket;

    /// Answers every query with its own bytes reversed; hands over queries
    /// starting with `S` to the async side.
    struct Reverse;

    impl QueryHandler for Reverse {
        fn handle(
            &self,
            query: &[u8],
            _: SocketAddr,
            protocol: Protocol,
            out: &mut [u8],
        ) -> Handled {
            assert_eq!(protocol, Protocol::Udp);
            match query.first() {
                Some(b'S') => Handled::Special,
                Some(b'D') => Handled::Drop,
                _ => {
                    for (i, byte) in query.iter().rev().enumerate() {
                        out[i] = *byte;
                    }
                    Handled::Reply {
                        len: query.len(),
                        rcode: 0,
                    }
                }
            }
        }
    }

    fn start(bind: &str) -> (SocketAddr, Arc<AtomicBool>, mpsc::Receiver<SpecialRequest>) {
        let socket = udp_socket(bind.parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        let shutdown = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel(16);
        let worker = UdpWorker::new(socket, Arc::new(Reverse), tx, shutdown.clone()).unwrap();
        std::thread::spawn(move || worker.run());
        (addr, shutdown, rx)
    }

    fn client(server: SocketAddr) -> UdpSocket {
        let bind: SocketAddr = if server.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        }
        .parse()
        .unwrap();
        let client = UdpSocket::bind(bind).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
    }

    #[test]
    fn batched_replies_reach_every_sender() {
        let (addr, shutdown, _rx) = start("127.0.0.1:0");
        let clients: Vec<UdpSocket> = (0..40).map(|_| client(addr)).collect();
        for (i, c) in clients.iter().enumerate() {
            c.send_to(format!("q{i}").as_bytes(), addr).unwrap();
        }
        for (i, c) in clients.iter().enumerate() {
            let mut buf = [0u8; 64];
            let (len, from) = c.recv_from(&mut buf).unwrap();
            assert_eq!(from, addr);
            let expected: Vec<u8> = format!("q{i}").bytes().rev().collect();
            assert_eq!(&buf[..len], &expected[..]);
        }
        shutdown.store(true, Ordering::Relaxed);
    }

    #[test]
    fn wildcard_socket_replies_from_the_queried_address() {
        let (bound, shutdown, _rx) = start("0.0.0.0:0");
        let target = SocketAddr::from(([127, 0, 0, 2], bound.port()));
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.send_to(b"abc", target).unwrap();
        let mut buf = [0u8; 16];
        let (len, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..len], from), (&b"cba"[..], target));
        shutdown.store(true, Ordering::Relaxed);
    }

    #[test]
    fn special_messages_go_to_the_async_side_and_get_their_reply() {
        let (addr, shutdown, mut rx) = start("[::1]:0");
        let c = client(addr);
        c.send_to(b"Special", addr).unwrap();
        c.send_to(b"Dropped", addr).unwrap();
        let request = rx.blocking_recv().unwrap();
        assert_eq!(request.message, b"Special");
        let ReplyPath::Udp(replier) = request.reply else {
            panic!("UDP reply path expected")
        };
        replier.send(b"handled").unwrap();
        let mut buf = [0u8; 16];
        let (len, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..len], from), (&b"handled"[..], addr));
        shutdown.store(true, Ordering::Relaxed);
    }
}
