//! Harness for the end-to-end tests: real primaries (Knot, NSD, BIND) on
//! loopback high ports, the real `dig`/`kdig`, raw DNS exchanges, the
//! differential checker, and the `understudy` daemon itself.
//!
//! Everything runs on 127.0.0.1 / ::1; servers are children of the test
//! process, stopped on drop; scratch directories are kept when a test fails.

pub mod client;
pub mod cluster;
pub mod differential;
pub mod dig;
pub mod env;
pub mod fixtures;
pub mod interop;
pub mod message;
pub mod metrics;
pub mod process;
pub mod query;
pub mod servers;
pub mod understudy;
pub mod wire;
pub mod zones;

pub use client::Transport;
pub use env::{TestDir, fixture, fixture_zones, free_port};
pub use process::{poll_until, wait_until};
pub use servers::{Kind, Server, ServerSpec, Signing, TsigKey};
pub use understudy::{Config, Understudy, ZoneConfig};
