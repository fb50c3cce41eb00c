//! Reading and checking scenario files.

use std::path::{Path, PathBuf};

use super::{Scenario, StepAction, location};

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or missing keys.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A region is defined twice.
    #[error("region {0:?} is defined twice")]
    DuplicateRegion(String),
    /// A region has neither a known `location` nor `coordinates`.
    #[error("region {0:?} needs a known location or coordinates")]
    NoPlace(String),
    /// A name refers to a region or node that does not exist.
    #[error("{0:?} names no region or node of this scenario")]
    UnknownTarget(String),
    /// A value is out of its range.
    #[error("{0}")]
    OutOfRange(String),
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        text.parse()
    }

    /// The coordinates of region `index` (checked to exist by `parse`).
    pub fn coordinates(&self, index: usize) -> [f64; 2] {
        let region = &self.regions[index];
        region
            .coordinates
            .or_else(|| region.location.as_deref().and_then(location::place))
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), ScenarioError> {
        self.check_regions()?;
        self.check_values()?;
        let known = |name: &str| -> Result<(), ScenarioError> {
            match self.region_index(name) {
                Some(_) => Ok(()),
                None => Err(ScenarioError::UnknownTarget(name.to_owned())),
            }
        };
        known(&self.zones.primary_region)?;
        for (a, b, _) in &self.network.latency {
            known(a)?;
            known(b)?;
        }
        for region in &self.expect.may_stop_answering {
            known(region)?;
        }
        for step in &self.timeline {
            for selector in step.action.selectors() {
                if selector.resolve(self).is_none() {
                    return Err(ScenarioError::UnknownTarget(selector.to_string()));
                }
            }
            if let StepAction::Loss { rate } = step.action {
                probability("loss rate", rate)?;
            }
        }
        Ok(())
    }

    fn check_regions(&self) -> Result<(), ScenarioError> {
        if self.regions.is_empty() {
            return Err(ScenarioError::OutOfRange(
                "a scenario needs a region".into(),
            ));
        }
        for (i, region) in self.regions.iter().enumerate() {
            if self.regions[..i].iter().any(|r| r.name == region.name) {
                return Err(ScenarioError::DuplicateRegion(region.name.clone()));
            }
            let named = region.location.as_deref().and_then(location::place);
            if named.is_none() && region.coordinates.is_none() {
                return Err(ScenarioError::NoPlace(region.name.clone()));
            }
            if region.name.contains('/') || region.name == "all" || region.name == "primary" {
                return Err(ScenarioError::OutOfRange(format!(
                    "{:?} cannot be a region name",
                    region.name
                )));
            }
        }
        Ok(())
    }

    fn check_values(&self) -> Result<(), ScenarioError> {
        probability("network.jitter", self.network.jitter)?;
        probability("network.loss", self.network.loss)?;
        if let Some(availability) = self.expect.availability {
            probability("expect.availability", availability)?;
        }
        if self.zones.count == 0 || self.node_count() == 0 {
            return Err(ScenarioError::OutOfRange(
                "a scenario needs at least one zone and one node".into(),
            ));
        }
        if self.gossip.interval.is_zero() || self.gossip.fanout == 0 {
            return Err(ScenarioError::OutOfRange(
                "gossip.interval and gossip.fanout must be above zero".into(),
            ));
        }
        if self.zones.refresh.is_zero() || self.zones.retry.is_zero() {
            return Err(ScenarioError::OutOfRange(
                "zones.refresh and zones.retry must be above zero".into(),
            ));
        }
        Ok(())
    }
}

fn probability(what: &str, value: f64) -> Result<(), ScenarioError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ScenarioError::OutOfRange(format!(
            "{what} must be between 0 and 1, not {value}"
        )))
    }
}

impl std::str::FromStr for Scenario {
    type Err = ScenarioError;

    fn from_str(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.check()?;
        Ok(scenario)
    }
}
