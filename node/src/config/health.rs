//! `[health]`: when this node tells BIRD or ExaBGP to announce the anycast
//! prefix. Absent: the defaults below, for a single node and a fleet alike.

use std::time::Duration;

use serde::Deserialize;
use understudy_proto::health::{HealthConfig, HealthConfigError};

use super::Invalid;
use super::units::{Quantity, parse_duration};

/// How often health is evaluated unless `[health] interval` says otherwise.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// `[health]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSpec {
    /// `rise`
    pub rise: Option<u32>,
    /// `fall`
    pub fall: Option<u32>,
    /// `max_lag`
    pub max_lag: Option<Quantity>,
    /// `interval`
    pub interval: Option<Quantity>,
}

/// `[health]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    /// Hysteresis and the lag bound, as the health machine takes them.
    pub machine: HealthConfig,
    /// Time between two evaluations; `rise` and `fall` count these.
    pub interval: Duration,
}

impl Default for HealthSettings {
    fn default() -> HealthSettings {
        HealthSettings {
            machine: HealthConfig::default(),
            interval: DEFAULT_HEALTH_INTERVAL,
        }
    }
}

/// Checks `[health]`; every key is optional.
pub(super) fn resolve(spec: &HealthSpec) -> Result<HealthSettings, Invalid> {
    let defaults = HealthSettings::default();
    let duration = |value: &Option<Quantity>, key: &str, default: Duration| match value {
        Some(value) => parse_duration(value)
            .map_err(|reason| Invalid::new(format!("health: {key}")).because(reason)),
        None => Ok(default),
    };
    let machine = HealthConfig {
        rise: spec.rise.unwrap_or(defaults.machine.rise),
        fall: spec.fall.unwrap_or(defaults.machine.fall),
        max_lag: duration(&spec.max_lag, "max_lag", defaults.machine.max_lag)?,
    };
    machine.check().map_err(|error| {
        let HealthConfigError::ZeroCount(key) = error;
        Invalid::new(format!("health: {key}")).because("must be at least 1")
    })?;
    let interval = duration(&spec.interval, "interval", defaults.interval)?;
    if interval.is_zero() {
        return Err(Invalid::new("health: interval").because("must not be 0"));
    }
    Ok(HealthSettings { machine, interval })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HealthSettings, Invalid> {
        let spec: HealthSpec = toml::from_str(text).map_err(|error| Invalid {
            context: "toml".into(),
            reason: error.to_string(),
        })?;
        resolve(&spec)
    }

    #[test]
    fn absent_keys_take_the_defaults() {
        assert_eq!(parse("").unwrap(), HealthSettings::default());
        let settings = parse("rise = 5\nmax_lag = \"2m\"\ninterval = \"2s\"").unwrap();
        assert_eq!(settings.machine.rise, 5);
        assert_eq!(settings.machine.fall, 3);
        assert_eq!(settings.machine.max_lag, Duration::from_secs(120));
        assert_eq!(settings.interval, Duration::from_secs(2));
    }

    #[test]
    fn zero_counts_and_intervals_are_refused_with_their_key() {
        let error = parse("fall = 0").unwrap_err();
        assert_eq!(error.context, "health: fall");
        let error = parse("interval = 0").unwrap_err();
        assert_eq!(error.context, "health: interval");
        let error = parse("max_lag = \"soon\"").unwrap_err();
        assert_eq!(error.context, "health: max_lag");
        assert!(parse("rise = 2\nflap = true").is_err());
    }
}
