//! Catalog zones (RFC 9432): the list of member zones a primary publishes
//! as an ordinary zone, which secondaries transfer and provision from.
//!
//! ```text
//! catalog.invalid.                     SOA ...; NS invalid.
//! version.catalog.invalid.             TXT "2"                  §4.2.1
//! <unique-N>.zones.catalog.invalid.    PTR example.com.         §4.1
//! group.<unique-N>.zones.catalog...    TXT "customer-a"         §4.3.2
//! coo.<unique-N>.zones.catalog...      PTR other.catalog.       §4.3.1
//! ```
//!
//! [`Members::read`] turns a catalog snapshot into its member list;
//! [`Consumer`] keeps the last good list of one catalog and hands back what
//! changed with each new version. A broken catalog (missing or unsupported
//! version, a member with several PTR records) is refused with a
//! [`CatalogError`] and the last good list stays in force (§5.1). The node
//! decides what a member zone's primaries are; this module only reads.

mod consumer;
mod members;
#[cfg(test)]
mod tests;

pub use consumer::{Consumer, MemberChanges};
pub use members::{CatalogError, Member, Members, SUPPORTED_VERSION};
