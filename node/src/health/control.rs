//! The control commands that health answers itself (`drain`, `undrain`,
//! `health`, `cluster members`), in front of the daemon's handler.

use std::sync::Arc;

use super::Monitor;
use crate::control::{Command, Handler, Response};

/// Answers the health and cluster commands; passes every other to `inner`.
pub struct WithHealth<H> {
    inner: H,
    monitor: Arc<Monitor>,
}

impl<H> WithHealth<H> {
    /// `inner` behind `monitor`.
    pub fn new(inner: H, monitor: Arc<Monitor>) -> WithHealth<H> {
        WithHealth { inner, monitor }
    }
}

impl<H: Handler> Handler for WithHealth<H> {
    async fn handle(&self, command: Command) -> Response {
        match command {
            Command::Drain => self.monitor.drain().await,
            Command::Undrain => self.monitor.undrain().await,
            Command::Health => Response::Health {
                health: (*self.monitor.view()).clone(),
            },
            Command::ClusterMembers => Response::ClusterMembers {
                cluster: self.monitor.cluster_view(),
            },
            other => self.inner.handle(other).await,
        }
    }
}
