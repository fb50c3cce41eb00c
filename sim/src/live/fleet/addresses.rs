//! Where things listen: one 127.B.0.0/16 block per drill (B picked from the
//! process id so that drills running side by side do not meet), the primary
//! at 127.B.0.1, node `i` of region `r` at 127.B.(r+1).(i+1). A region is
//! thus one /24, which is what partitions drop traffic by.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// The address block of one drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPlan {
    block: u8,
}

static DRILLS: AtomicU32 = AtomicU32::new(0);

impl AddressPlan {
    /// A block no other drill of this process uses, and unlikely to be used
    /// by another process's drill.
    pub fn new() -> AddressPlan {
        let seq = DRILLS.fetch_add(1, Ordering::Relaxed);
        let block = 100 + (std::process::id().wrapping_mul(7).wrapping_add(seq * 13)) % 150;
        AddressPlan { block: block as u8 }
    }

    /// The primary's address.
    pub fn primary(&self) -> Ipv4Addr {
        Ipv4Addr::new(127, self.block, 0, 1)
    }

    /// The address of node `index` of region `region` (both from 0).
    pub fn node(&self, region: usize, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(127, self.block, (region + 1) as u8, (index + 1) as u8)
    }

    /// The /24 of region `region`, as nftables writes it.
    pub fn region_prefix(&self, region: usize) -> String {
        format!("127.{}.{}.0/24", self.block, region + 1)
    }

    /// The primary's /24.
    pub fn primary_prefix(&self) -> String {
        format!("127.{}.0.0/24", self.block)
    }
}

impl Default for AddressPlan {
    fn default() -> AddressPlan {
        AddressPlan::new()
    }
}

/// A port free for both UDP and TCP on `ip`.
pub fn free_port(ip: Ipv4Addr) -> std::io::Result<u16> {
    let mut last = None;
    for _ in 0..50 {
        let tcp = TcpListener::bind(SocketAddr::from((ip, 0)))?;
        let port = tcp.local_addr()?.port();
        match UdpSocket::bind(SocketAddr::from((ip, port))) {
            Ok(_) => return Ok(port),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}
