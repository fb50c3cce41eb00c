//! understudy-node: the daemon that drives `understudy-proto` with tokio.
//!
//! The binary `understudy` is a thin command line over these modules: the
//! DNS listeners (`dns`), the client side towards primaries (`primary`), the
//! zone manager and its zone table (`server`, `zones`), storage (`store`),
//! the control socket (`control`), metrics (`metrics`) and key tools
//! (`keygen`), and the cluster transport (`cluster`) with its credentials
//! (`cert`) and their rotation on `ctl reload` (`reload`).

pub mod cert;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod control;
pub mod dns;
pub mod fleet;
pub mod health;
pub mod keygen;
pub mod manager;
pub mod metrics;
pub mod primary;
pub mod reload;
pub mod server;
pub mod special;
pub mod store;
pub mod zones;
