//! The built-in primary of live drills: UDP and TCP on one loopback address,
//! SOA queries, AXFR, IXFR from its own history of versions, NOTIFY to the
//! secondaries on each change, optional TSIG. It can be taken away (its
//! sockets closed, so clients get "connection refused") and brought back,
//! and it counts the transfers it served, per client.

mod respond;
mod server;
pub mod zone;

pub use respond::{Reply, Served, respond};
pub use server::{History, Primary, PrimaryConfig, PrimaryError, ServedTransfer};
pub use zone::{SoaTimers, ZoneError, ZoneHistory, serial_owner, serial_text};
