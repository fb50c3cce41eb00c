//! understudy-proto: everything that decides, nothing that does IO.
//!
//! This crate holds the zone snapshot format, the authoritative answering
//! algorithm, the transfer interpreters and the per-zone state machines of an
//! understudy node. It owns no socket, no clock and no random number
//! generator: callers pass `now` and randomness in and carry out the actions
//! handed back. The daemon (`understudy-node`) and the simulator
//! (`understudy-sim`) are two drivers of the same code.
#![warn(missing_docs)]

pub mod acl;
pub mod answer;
pub mod catalog;
pub mod fleet;
pub mod health;
pub mod name;
pub mod record;
pub mod refresh;
pub mod replicate;
pub mod serial;
pub mod text;
pub mod time;
pub mod tsig;
pub mod wire;
pub mod xfr;
pub mod zone;

pub use name::Name;
pub use record::{Class, Record, Rtype, Soa};
pub use serial::{Serial, ZoneVersion};
pub use time::Timestamp;
