//! The archived layout of a snapshot body.
//!
//! Everything variable-sized lives in a few packed byte vectors; the per-node
//! and per-RRset structs hold only offsets into them, so the archive needs no
//! per-record heap structure and queries read it in place.
//!
//! Each resource record is stored as its *image*: TYPE, CLASS, TTL, RDLENGTH
//! and RDATA exactly as they go on the wire after the owner name. Answering
//! an RRset is then "owner pointer, memcpy image" for every record, except
//! for the RFC 1035 types whose RDATA names are compressed when written.

use rkyv::{Archive, Serialize};

/// Node flag: the node has RRsets (it is not an empty non-terminal).
pub(crate) const EXISTS: u16 = 1 << 0;
/// Node flag: the zone apex.
pub(crate) const APEX: u16 = 1 << 1;
/// Node flag: a zone cut (NS below the apex, itself authoritative).
pub(crate) const DELEGATION: u16 = 1 << 2;
/// Node flag: strictly below a zone cut (glue or occluded data).
pub(crate) const BELOW_CUT: u16 = 1 << 3;
/// Node flag: has a child whose first label is `*`.
pub(crate) const WILDCARD_CHILD: u16 = 1 << 4;
/// Node flag: owns a DNAME.
pub(crate) const DNAME: u16 = 1 << 5;
/// Node flag: holds only NSEC3 (and its RRSIG); such owners are hashes,
/// not names of the zone, and are answered as if they did not exist.
pub(crate) const NSEC3_ONLY: u16 = 1 << 6;
/// Node flag: owns a CNAME.
pub(crate) const CNAME: u16 = 1 << 7;

/// Length of an RR image's fixed part: TYPE, CLASS, TTL, RDLENGTH.
pub(crate) const IMAGE_FIXED: usize = 10;

/// The body of a snapshot: what the rkyv archive holds.
#[derive(Archive, Serialize, Debug)]
pub(crate) struct Body {
    /// The origin in wire form, case as in the zone's SOA owner.
    pub origin: Vec<u8>,
    /// The SOA serial.
    pub serial: u32,
    /// Whether the apex SOA is signed (the zone is served with DNSSEC).
    pub signed: bool,
    /// Number of records (RRSIGs included).
    pub record_count: u64,
    /// Node records (see [`super::node`]) back to back, in canonical order
    /// (RFC 4034 §6.1); the first is the apex. Each holds its owner name,
    /// its RRset table and its RR images, so that answering a name touches
    /// one contiguous stretch of memory.
    pub nodes: Vec<u8>,
    /// Offset of each node record in `nodes`, in canonical order.
    pub offsets: Vec<u32>,
    /// Open-addressing hash table over lower-cased owner names: each slot
    /// holds the upper 32 bits of the name's hash and the node record's
    /// offset plus one (zero: empty slot). Its length is a power of two.
    pub index: Vec<u64>,
    /// The NSEC3 chain selected by the apex NSEC3PARAM, if any.
    pub nsec3: Option<Nsec3Chain>,
}

/// A node while the body is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// Offset of the owner name in the builder's names.
    pub name_start: u32,
    /// Length of the owner name in wire form.
    pub name_len: u8,
    /// Number of labels, root excluded.
    pub label_count: u8,
    /// `EXISTS`, `APEX`, ... bits.
    pub flags: u16,
    /// Index of the parent node (the apex is its own parent).
    pub parent: u32,
    /// First RRset in the builder's RRsets.
    pub rrsets_start: u32,
    /// One past the last RRset.
    pub rrsets_end: u32,
}

/// An RRset while the body is built: ranges in the builder's images.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rrset {
    /// The type.
    pub rtype: u16,
    /// Number of records.
    pub count: u32,
    /// Offset of the first image.
    pub start: u32,
    /// One past the last image.
    pub end: u32,
    /// Number of RRSIGs covering this RRset.
    pub sig_count: u32,
    /// Offset of the first covering RRSIG image (a sub-range of the node's
    /// RRSIG RRset, whose RDATA order groups RRSIGs by type covered).
    pub sig_start: u32,
    /// One past the last covering RRSIG image.
    pub sig_end: u32,
}

/// NSEC3 owners sorted by their hash (RFC 5155 §7.2 proofs).
#[derive(Archive, Serialize, Debug)]
pub(crate) struct Nsec3Chain {
    /// Hash algorithm from NSEC3PARAM (1 = SHA-1).
    pub algorithm: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// The salt.
    pub salt: Vec<u8>,
    /// Hashes of the owners, [`NSEC3_HASH_LEN`] octets each, ascending.
    pub hashes: Vec<u8>,
    /// Node index of each hash's owner.
    pub nodes: Vec<u32>,
}

/// Length of an SHA-1 NSEC3 hash.
pub(crate) const NSEC3_HASH_LEN: usize = 20;
