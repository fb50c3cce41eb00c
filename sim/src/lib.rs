//! understudy-sim: failover drills for an understudy fleet.
//!
//! * [`simulate`]: a deterministic simulator that drives the real
//!   `understudy-proto` state machines of many nodes over a virtual network
//!   and a virtual clock, checking invariants on every step.
//! * [`live`]: the same scenarios against real `understudy` processes on
//!   loopback, with a built-in primary and a prober, and the `demo`.

pub mod live;
pub mod scenario;
pub mod simulate;
