//! DNS listeners: UDP and TCP, the only socket code for queries.
//!
//! UDP runs on plain OS threads, one socket per worker bound with
//! `SO_REUSEPORT` so the kernel spreads queries across cores, each worker
//! receiving and sending in batches (`recvmmsg`/`sendmmsg`). TCP runs on the
//! tokio runtime with RFC 7766 pipelining and idle timeouts. Both hand every
//! message to a [`QueryHandler`]; whatever the fast path cannot answer on its
//! own (transfers, NOTIFY, TSIG-signed messages) goes to the async side as a
//! [`SpecialRequest`].

pub mod socket;
pub mod tcp;
pub mod udp;

use std::net::SocketAddr;

/// The transport a message arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// UDP, one datagram per message.
    Udp,
    /// TCP, two-octet length prefix per message (RFC 1035 §4.2.2).
    Tcp,
}

/// What the fast path made of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A response was written to the output buffer.
    Reply {
        /// Its length in octets.
        len: usize,
        /// Its RCODE, extended bits included, for the metrics.
        rcode: u16,
    },
    /// Nothing to send (e.g. a response arriving as a query, or unreadable bytes).
    Drop,
    /// The message needs the async side: a transfer, a NOTIFY, or TSIG.
    Special,
}

/// Answers messages on the hot path without allocating or locking.
pub trait QueryHandler: Send + Sync + 'static {
    /// Handles `query` from `peer`, writing any response into `out`.
    fn handle(&self, query: &[u8], peer: SocketAddr, protocol: Protocol, out: &mut [u8])
    -> Handled;
}

/// A message the fast path handed over, with what is needed to answer it.
#[derive(Debug)]
pub struct SpecialRequest {
    /// The message as received.
    pub message: Vec<u8>,
    /// The sender.
    pub peer: SocketAddr,
    /// Where to send responses.
    pub reply: ReplyPath,
}

/// How responses to a [`SpecialRequest`] travel back.
#[derive(Debug)]
pub enum ReplyPath {
    /// One datagram from the socket the message arrived on.
    Udp(udp::UdpReplier),
    /// Any number of length-prefixed messages on the TCP connection.
    Tcp(tokio::sync::mpsc::Sender<Vec<u8>>),
}
