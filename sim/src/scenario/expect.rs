//! What a run must show: the scenario's stated expectations.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use super::duration;

/// The `[expect]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Bound on convergence after each change and after faults heal.
    #[serde(default)]
    pub converge: Converge,
    /// Transfers the primary serves per changed zone, at most (about one
    /// per region). `None`: one per region plus one.
    #[serde(default)]
    pub transfers_per_change: Option<u32>,
    /// Regions allowed to stop answering for a zone (expired under `rfc`).
    #[serde(default)]
    pub may_stop_answering: Vec<String>,
    /// Live drills: the least share of probes answered correctly, per region
    /// (0.0..=1.0).
    #[serde(default)]
    pub availability: Option<f64>,
}

impl Default for Expect {
    fn default() -> Expect {
        Expect {
            converge: Converge::Auto,
            transfers_per_change: None,
            may_stop_answering: Vec::new(),
            availability: None,
        }
    }
}

/// How long after a change or a heal every node must serve the primary's
/// serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Converge {
    /// Derived from the scenario's latencies, gossip timing and SOA timers.
    #[default]
    Auto,
    /// An explicit bound.
    Within(Duration),
}

impl<'de> Deserialize<'de> for Converge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Converge, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "auto" {
            return Ok(Converge::Auto);
        }
        duration::parse(&text).map(Converge::Within).ok_or_else(|| {
            D::Error::custom(format!(
                "converge: {text:?} is neither \"auto\" nor a duration"
            ))
        })
    }
}
