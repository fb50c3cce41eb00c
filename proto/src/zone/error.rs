//! Why a snapshot could not be built or loaded.

use crate::name::Name;
use crate::record::Rtype;

/// Why [`Snapshot::build`](super::Snapshot::build) refused a set of records.
///
/// The structural rules are those Knot DNS applies as mandatory semantic
/// checks to a transferred zone: a zone breaking them is refused whole and
/// the previous snapshot keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A record's owner is neither the origin nor below it.
    #[error("{0} is outside the zone")]
    OutOfZone(Name),
    /// A record of a class other than IN.
    #[error("{0} has class {1}, only IN is served")]
    WrongClass(Name, crate::record::Class),
    /// A meta or query-only type (OPT, TSIG, AXFR, ...) in zone data.
    #[error("{0} has meta type {1}, which cannot be zone data")]
    MetaType(Name, Rtype),
    /// No SOA record at the origin.
    #[error("no SOA record at the zone apex")]
    MissingSoa,
    /// More than one SOA record at the origin.
    #[error("more than one SOA record at the zone apex")]
    MultipleSoa,
    /// An SOA record below the origin.
    #[error("SOA record at {0}, below the zone apex")]
    MisplacedSoa(Name),
    /// No NS RRset at the origin.
    #[error("no NS records at the zone apex")]
    MissingApexNs,
    /// A CNAME beside data other than RRSIG and NSEC (RFC 2181 §10.1).
    #[error("CNAME and other data at {0}")]
    CnameWithOtherData(Name),
    /// Two CNAME records at one name.
    #[error("more than one CNAME record at {0}")]
    MultipleCname(Name),
    /// Two DNAME records at one name (RFC 6672 §2.4).
    #[error("more than one DNAME record at {0}")]
    MultipleDname(Name),
    /// Names below a DNAME, which could never be reached (RFC 6672 §2.3).
    #[error("{0} lies below a DNAME")]
    BelowDname(Name),
    /// RDATA that does not fit its type's layout, for a type the answering
    /// code reads (SOA, NS, CNAME, DNAME, MX, SRV, RRSIG, NSEC3, ...).
    #[error("malformed {1} RDATA at {0}")]
    BadRdata(Name, Rtype),
    /// RDATA longer than a DNS message can carry.
    #[error("RDATA of {1} at {0} is longer than 65535 octets")]
    RdataTooLong(Name, Rtype),
    /// The archive could not be written.
    #[error("archive could not be written: {0}")]
    Archive(String),
    /// The zone is larger than the snapshot format can address (4 GiB).
    #[error("zone too large for the snapshot format")]
    TooLarge,
    /// The NSEC3 chain uses more iterations than RFC 5155 §10.3 allows.
    #[error("NSEC3 with {0} iterations; at most 2500 are served (RFC 5155 §10.3)")]
    Nsec3Iterations(u16),
}

/// Why bytes from disk or a peer are not a usable snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Fewer bytes than a header, or fewer than the header announces.
    #[error("snapshot truncated: {0} bytes")]
    Truncated(usize),
    /// The bytes do not start with the snapshot magic.
    #[error("not an understudy snapshot (bad magic)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("unsupported snapshot format version {0}")]
    UnsupportedVersion(u16),
    /// Header fields that contradict each other or the body.
    #[error("malformed snapshot header: {0}")]
    BadHeader(&'static str),
    /// More bytes than the header announces.
    #[error("{0} trailing bytes after the snapshot body")]
    TrailingBytes(usize),
    /// The body's SHA-256 does not match the header.
    #[error("snapshot digest mismatch")]
    DigestMismatch,
    /// The body is not a valid archive (bytecheck failed).
    #[error("snapshot archive invalid: {0}")]
    BadArchive(String),
    /// The archive is well-formed but its contents are inconsistent.
    #[error("snapshot contents inconsistent: {0}")]
    Inconsistent(&'static str),
    /// The records it holds do not build a valid zone.
    #[error("snapshot records do not make a valid zone: {0}")]
    InvalidZone(#[from] BuildError),
    /// Building the records it holds gives other bytes: derived data
    /// (index, flags, NSEC3 chain, pre-written answers) was altered.
    #[error("snapshot is not the canonical form of its own records")]
    NotCanonical,
}
