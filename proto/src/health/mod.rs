//! Anycast health: whether this node should announce the fleet's prefix.
//!
//! The node does not speak BGP (DESIGN.md decision 8). It evaluates
//! [`Health`] periodically and exposes the verdict (`/healthz`, ctl, an
//! ExaBGP process); BIRD or ExaBGP announce or withdraw the route.
//!
//! Health is relative to the fleet: a node withdraws when drained, or when
//! it serves a zone worse than a peer does — not loaded or expired here
//! while a peer serves it fresh, or lagging a verified newer version the
//! fleet has for longer than [`HealthConfig::max_lag`]. A condition every
//! node shares (the primary gone past expire under policy `rfc`) withdraws
//! nobody, since no peer is better off. The fleet's side comes from the
//! replicator ([`crate::replicate::Replicator::evidence`]), which only
//! counts authenticated exchanges, never gossip alone.
//!
//! # Calling order for a driver
//!
//! 1. [`Health::new`] at start (unhealthy, "starting").
//! 2. Every evaluation period (e.g. each second), build one [`ZoneHealth`]
//!    per zone — `freshness` and `loaded` from the refresh machine, `fleet`
//!    from the replicator — and call [`Health::evaluate`] with the drain
//!    flag; log when it returns `true`.
//! 3. Serve [`Health::status`] to `/healthz` (200 when healthy, else 503
//!    with the reason), ctl and metrics.

mod input;
mod machine;

pub use input::{FleetEvidence, Lag, Reason, ZoneHealth};
pub use machine::{Health, HealthConfig, HealthConfigError, HealthStatus};
