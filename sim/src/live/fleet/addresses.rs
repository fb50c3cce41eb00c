//! Where things listen. On loopback (the default): one 127.B.0.0/16 block
//! per drill (B picked from the process id so that drills running side by
//! side do not meet), the primary at 127.B.0.1, node `i` of region `r` at
//! 127.B.(r+1).(i+1). With one network namespace per region (root only,
//! see `live::namespaces`): the same shape in 10.B.0.0/16, the prober at
//! 10.B.255.254. Either way a region is one /24, which is what partitions
//! drop traffic by.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// How the drill's processes are networked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum NetworkMode {
    /// Everything on the loopback interface of this namespace.
    #[default]
    Loopback,
    /// A namespace per region joined by a bridge.
    Namespaces,
}

/// The address block of one drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPlan {
    block: u8,
    mode: NetworkMode,
}

static DRILLS: AtomicU32 = AtomicU32::new(0);

/// Ports of every node in namespaces, where each node has its own address
/// and nothing else listens.
const NAMESPACE_PORTS: [u16; 3] = [5300, 7946, 7947];

impl AddressPlan {
    /// A block no other drill of this process uses, and unlikely to be used
    /// by another process's drill.
    pub fn new(mode: NetworkMode) -> AddressPlan {
        let seq = DRILLS.fetch_add(1, Ordering::Relaxed);
        let block = 100 + (std::process::id().wrapping_mul(7).wrapping_add(seq * 13)) % 150;
        AddressPlan {
            block: block as u8,
            mode,
        }
    }

    /// The block's second octet.
    pub fn block(&self) -> u8 {
        self.block
    }

    /// How the drill is networked.
    pub fn mode(&self) -> NetworkMode {
        self.mode
    }

    fn first_octet(&self) -> u8 {
        match self.mode {
            NetworkMode::Loopback => 127,
            NetworkMode::Namespaces => 10,
        }
    }

    /// The primary's address.
    pub fn primary(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.first_octet(), self.block, 0, 1)
    }

    /// The address the prober asks from.
    pub fn prober(&self) -> Ipv4Addr {
        match self.mode {
            NetworkMode::Loopback => Ipv4Addr::LOCALHOST,
            NetworkMode::Namespaces => Ipv4Addr::new(10, self.block, 255, 254),
        }
    }

    /// The address of node `index` of region `region` (both from 0).
    pub fn node(&self, region: usize, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(
            self.first_octet(),
            self.block,
            (region + 1) as u8,
            (index + 1) as u8,
        )
    }

    /// The network namespace of region `region`, when there is one.
    pub fn namespace(&self, region: usize) -> Option<String> {
        (self.mode == NetworkMode::Namespaces).then(|| format!("usd{}-{region}", self.block))
    }

    /// The /24 of region `region`, as nftables writes it.
    pub fn region_prefix(&self, region: usize) -> String {
        format!("{}.{}.{}.0/24", self.first_octet(), self.block, region + 1)
    }

    /// The primary's /24.
    pub fn primary_prefix(&self) -> String {
        format!("{}.{}.0.0/24", self.first_octet(), self.block)
    }

    /// DNS, gossip and QUIC ports for a node at `ip`.
    pub fn node_ports(&self, ip: Ipv4Addr) -> std::io::Result<[u16; 3]> {
        match self.mode {
            NetworkMode::Loopback => {
                let [dns, gossip, quic] = [held_port(ip)?, held_port(ip)?, held_port(ip)?];
                Ok([dns.0, gossip.0, quic.0])
            }
            NetworkMode::Namespaces => Ok(NAMESPACE_PORTS),
        }
    }
}

/// A port free for both UDP and TCP on `ip`.
pub fn free_port(ip: Ipv4Addr) -> std::io::Result<u16> {
    held_port(ip).map(|(port, _)| port)
}

/// A port free for both UDP and TCP on `ip`, with the sockets that hold
/// it: while they live, the kernel cannot hand the same port out again
/// (several ports picked for one node must differ).
fn held_port(ip: Ipv4Addr) -> std::io::Result<(u16, (TcpListener, UdpSocket))> {
    let mut last = None;
    for _ in 0..50 {
        let tcp = TcpListener::bind(SocketAddr::from((ip, 0)))?;
        let port = tcp.local_addr()?.port();
        match UdpSocket::bind(SocketAddr::from((ip, port))) {
            Ok(udp) => return Ok((port, (tcp, udp))),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}
