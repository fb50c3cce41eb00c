//! The control API: a local Unix socket for `understudy ctl`.
//!
//! The daemon binds a [`ControlServer`] and serves it with a [`Handler`] of
//! its own; `understudy ctl` ([`CtlArgs`], [`run`]) connects, sends one
//! [`Request`] and prints the [`Response`]. The socket is local only
//! (mode 0600), never on the network.

mod client;
mod cluster_view;
mod ctl;
mod protocol;
mod render;
mod render_cluster;
mod server;
#[cfg(test)]
mod tests;

pub use client::{ClientError, send};
pub use cluster_view::{
    ClusterView, FleetZoneView, HealthView, MemberState, MemberView, MemberZoneView,
};
pub use ctl::{ClusterCommand, CtlArgs, CtlCommand, ZoneCommand, run};
pub use protocol::{
    Request, Response, TimePoint, TransferCounts, ZoneState, ZoneStatusView, rfc3339,
};
pub use server::{BindError, Command, ControlServer, DEFAULT_REQUEST_TIMEOUT, Handler};
