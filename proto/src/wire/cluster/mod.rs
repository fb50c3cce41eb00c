//! The cluster's request protocol: what one node asks another over a QUIC
//! stream, and the answers. Sans-IO: this module turns values into bytes and
//! bytes into values (or a [`CodecError`]); `understudy-node` moves them.
//!
//! One request per bidirectional stream. The client writes the request and
//! finishes its side; the server answers with a *head*, then for some heads
//! a payload of the length the head announces, then finishes.
//!
//! ```text
//! request (client → server, the whole client side of the stream)
//!  0       2       4      5
//! +-------+-------+------+------------------------------------------+
//! | "UQ"  |version| kind | fields                                   |
//! +-------+-------+------+------------------------------------------+
//!   kind 1 Confirm   zone
//!   kind 2 Fetch     zone, want epoch:u32 serial:u32,
//!                    has:u8 (0|1) [have epoch:u32 serial:u32 digest:32]
//!   kind 3 ZoneList  (none)
//!
//! response (server → client)
//!  0         2       4      5
//! +---------+-------+------+-------------------+ +--------------------+
//! | len:u16 |version| kind | fields            | | payload            |
//! +---------+-------+------+-------------------+ +--------------------+
//!   `len` counts the bytes after itself up to the payload
//!   kind 1 Version      epoch:u32 serial:u32 digest:32 age
//!   kind 2 NotHeld
//!   kind 3 Busy
//!   kind 4 Unsupported  lowest:u16 highest:u16
//!   kind 5 Diffs        epoch:u32 serial:u32 digest_after:32 age length:u64
//!                       payload: count:u32, per diff from:u32 to:u32
//!                       removed:records added:records
//!   kind 6 Snapshot     epoch:u32 serial:u32 age length:u64
//!                       payload: the snapshot's bytes (`Snapshot::as_bytes`)
//!   kind 7 ZoneList     length:u64
//!                       payload: the fleet zone list, opaque here
//!
//! zone    = len:u8 name-in-uncompressed-wire-form
//! age     = has:u8 (0|1) [milliseconds:u64]   how long ago a primary
//!           confirmed the version: an age, so clocks need not agree
//! records = count:u32, per record owner:zone-form type:u16 class:u16
//!           ttl:u32 rdlength:u32 rdata
//! ```
//!
//! All integers are big-endian. A server that does not speak the request's
//! version answers `Unsupported` (whose layout never changes) and the client
//! retries with [`negotiate`]'s choice, so adjacent releases interoperate
//! during a rolling upgrade. Every length is bounded ([`Limits`], the
//! constants below) before anything is allocated or read.

mod cursor;
mod diffs;
mod error;
mod request;
mod response;

pub use diffs::{decode_diffs, encode_diffs};
pub use error::CodecError;
pub use request::{FetchRequest, Request, negotiate};
pub use response::{Response, head_len};

/// First bytes of every request: not DNS, not anything else on this port.
pub const MAGIC: [u8; 2] = *b"UQ";
/// Oldest protocol version this release speaks.
pub const LOWEST_VERSION: u16 = 1;
/// Newest protocol version this release speaks.
pub const HIGHEST_VERSION: u16 = 1;
/// Longest request: the magic, version and kind, a 255-octet name and a
/// fetch's versions and digest, with room to spare.
pub const MAX_REQUEST_LEN: usize = 1024;
/// Octets of the length in front of a response head.
pub const HEAD_PREFIX_LEN: usize = 2;
/// Longest response head after its length prefix.
pub const MAX_HEAD_LEN: usize = 256;

/// Bounds on the payloads a client accepts; a head announcing more is
/// refused before any payload is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest snapshot, bytes.
    pub max_snapshot_len: u64,
    /// Longest diffs payload, bytes.
    pub max_diffs_len: u64,
    /// Most diffs in one answer.
    pub max_diffs: u32,
    /// Longest fleet zone list, bytes.
    pub max_zone_list_len: u64,
}

impl Default for Limits {
    /// 1 GiB snapshots; diffs up to twice the journal's default 64 MiB
    /// (their encoding adds a few octets per record) and 1000 of them;
    /// 16 MiB zone lists.
    fn default() -> Limits {
        Limits {
            max_snapshot_len: 1 << 30,
            max_diffs_len: 128 << 20,
            max_diffs: 1000,
            max_zone_list_len: 16 << 20,
        }
    }
}

#[cfg(test)]
mod tests;
