//! The anycast health machine: rise / fall hysteresis over evaluations.
//!
//! ```text
//!              start
//!                |
//!                v
//!   +-------------------------+   `rise` clean evaluations in a row
//!   |  unhealthy (reason)     | -----------------------------------+
//!   |  starting / drained /   |                                    |
//!   |  zone worse than peers  | <---+                              v
//!   +-------------------------+     |                   +-------------------+
//!        ^            ^             |  drained: at once |     healthy       |
//!        |            +-------------+------------------ |  (announce the    |
//!        |  `fall` evaluations in a row with a problem  |   anycast prefix) |
//!        +--------------------------------------------- +-------------------+
//! ```
//!
//! A problem is a zone that this node serves worse than a peer does
//! ([`ZoneHealth::problem`]): so a condition the whole fleet shares never
//! withdraws anyone. A drain withdraws at once; everything else, including
//! an undrain, goes through the hysteresis so one bad evaluation does not
//! flap the route. The machine starts unhealthy and announces after `rise`
//! clean evaluations.

use std::time::Duration;

use crate::time::Timestamp;

use super::input::{Reason, ZoneHealth};

/// Hysteresis and the lag bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HealthConfig {
    /// Clean evaluations in a row before an unhealthy node turns healthy.
    pub rise: u32,
    /// Evaluations with a problem in a row before a healthy node withdraws.
    pub fall: u32,
    /// How long a node may lag a verified newer version the fleet has.
    pub max_lag: Duration,
}

impl Default for HealthConfig {
    fn default() -> HealthConfig {
        HealthConfig {
            rise: 3,
            fall: 3,
            max_lag: Duration::from_secs(60),
        }
    }
}

/// Why a [`HealthConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthConfigError {
    /// `rise` or `fall` of zero would turn on no evidence at all.
    #[error("{0} must be at least 1")]
    ZeroCount(&'static str),
}

impl HealthConfig {
    /// Checks the settings; the node rejects a configuration that fails.
    pub fn check(&self) -> Result<(), HealthConfigError> {
        if self.rise == 0 {
            return Err(HealthConfigError::ZeroCount("rise"));
        }
        if self.fall == 0 {
            return Err(HealthConfigError::ZeroCount("fall"));
        }
        Ok(())
    }
}

/// The verdict after an evaluation, for `/healthz`, ctl, metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthStatus {
    /// Whether to announce the anycast prefix.
    pub healthy: bool,
    /// Why not, when unhealthy.
    pub reason: Option<Reason>,
    /// A problem (or, when unhealthy, a clean run) seen but not yet held
    /// for `fall` (`rise`) evaluations: the latest problem seen while
    /// healthy.
    pub pending: Option<Reason>,
    /// Evaluations in a row that disagree with the current verdict.
    pub streak: u32,
    /// Zones with a problem at the last evaluation.
    pub problem_zones: usize,
    /// When the verdict last changed.
    pub since: Timestamp,
}

/// The health machine; see the module documentation.
#[derive(Debug, Clone)]
pub struct Health {
    config: HealthConfig,
    status: HealthStatus,
}

impl Health {
    /// A machine that starts unhealthy ([`Reason::Starting`]).
    pub fn new(config: HealthConfig, now: Timestamp) -> Health {
        Health {
            config,
            status: HealthStatus {
                healthy: false,
                reason: Some(Reason::Starting),
                pending: None,
                streak: 0,
                problem_zones: 0,
                since: now,
            },
        }
    }

    /// One evaluation at `now`: whether the node is drained and every
    /// zone's health. Returns `true` when the verdict changed (log it).
    pub fn evaluate(
        &mut self,
        now: Timestamp,
        drained: bool,
        zones: impl IntoIterator<Item = ZoneHealth>,
    ) -> bool {
        let mut first = None;
        let mut problem_zones = 0;
        for zone in zones {
            if let Some(reason) = zone.problem(now, self.config.max_lag) {
                problem_zones += 1;
                first.get_or_insert(reason);
            }
        }
        self.status.problem_zones = problem_zones;
        let problem = match drained {
            true => Some(Reason::Drained),
            false => first,
        };
        match (self.status.healthy, problem) {
            (true, None) => self.agree(),
            (true, Some(reason)) => self.toward_unhealthy(now, reason),
            (false, Some(reason)) => {
                self.agree();
                self.status.reason = Some(reason);
                false
            }
            (false, None) => self.toward_healthy(now),
        }
    }

    fn agree(&mut self) -> bool {
        self.status.streak = 0;
        self.status.pending = None;
        false
    }

    fn toward_unhealthy(&mut self, now: Timestamp, reason: Reason) -> bool {
        self.status.streak += 1;
        let at_once = reason == Reason::Drained;
        if at_once || self.status.streak >= self.config.fall {
            self.status = HealthStatus {
                healthy: false,
                reason: Some(reason),
                pending: None,
                streak: 0,
                problem_zones: self.status.problem_zones,
                since: now,
            };
            return true;
        }
        self.status.pending = Some(reason);
        false
    }

    fn toward_healthy(&mut self, now: Timestamp) -> bool {
        self.status.streak += 1;
        if self.status.streak >= self.config.rise {
            self.status = HealthStatus {
                healthy: true,
                reason: None,
                pending: None,
                streak: 0,
                problem_zones: 0,
                since: now,
            };
            return true;
        }
        false
    }

    /// Whether to announce the anycast prefix.
    pub fn is_healthy(&self) -> bool {
        self.status.healthy
    }

    /// The verdict and its reason.
    pub fn status(&self) -> &HealthStatus {
        &self.status
    }

    /// The settings.
    pub fn config(&self) -> &HealthConfig {
        &self.config
    }
}
