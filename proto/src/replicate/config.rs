//! Settings of the replicator.

use std::time::Duration;

/// How the replicator plans fetches, confirmations and NOTIFY fan-out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplicateConfig {
    /// How long a node that is not its region's fetcher holds a NOTIFY's
    /// SOA check while waiting for a region peer to advertise the new
    /// version. Zero turns fan-out off: every notified node checks the
    /// primary at once.
    pub notify_wait: Duration,
    /// Peer fetches in flight at most, over all zones.
    pub max_fetches: usize,
    /// Confirmation requests in flight at most, over all zones.
    pub max_confirms: usize,
    /// How long the driver may take to fetch a zone from a peer.
    pub fetch_timeout: Duration,
    /// How long the driver may take to get a peer's confirmation.
    pub confirm_timeout: Duration,
    /// Backoff after a peer's first failure for a zone; it doubles with
    /// each further failure.
    pub backoff_min: Duration,
    /// Longest backoff; also applied at once to a peer that sent corrupt
    /// data.
    pub backoff_max: Duration,
    /// Shortest time between two confirmation requests for one zone.
    pub confirm_interval: Duration,
    /// The expire interval assumed for a zone not loaded here, to judge
    /// whether a peer's confirmation still makes it fresh (the zone
    /// defaults' `expire_min` is a sound choice).
    pub unloaded_expire: Duration,
}

impl Default for ReplicateConfig {
    fn default() -> ReplicateConfig {
        ReplicateConfig {
            notify_wait: Duration::from_secs(2),
            max_fetches: 4,
            max_confirms: 8,
            fetch_timeout: Duration::from_secs(10 * 60),
            confirm_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5 * 60),
            confirm_interval: Duration::from_secs(10),
            unloaded_expire: Duration::from_secs(3_600),
        }
    }
}

/// Why a [`ReplicateConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicateConfigError {
    /// A concurrency limit of zero would never fetch or confirm anything.
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
    /// A timeout or interval of zero would fail every action at once, or
    /// ask peers in a busy loop.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// The shortest backoff is longer than the longest.
    #[error("backoff_min is greater than backoff_max")]
    BackoffMinAboveMax,
}

impl ReplicateConfig {
    /// Checks the settings; the node rejects a configuration that fails.
    pub fn check(&self) -> Result<(), ReplicateConfigError> {
        if self.max_fetches == 0 {
            return Err(ReplicateConfigError::ZeroLimit("max_fetches"));
        }
        if self.max_confirms == 0 {
            return Err(ReplicateConfigError::ZeroLimit("max_confirms"));
        }
        for (name, value) in [
            ("fetch_timeout", self.fetch_timeout),
            ("confirm_timeout", self.confirm_timeout),
            ("backoff_min", self.backoff_min),
            ("confirm_interval", self.confirm_interval),
            ("unloaded_expire", self.unloaded_expire),
        ] {
            if value.is_zero() {
                return Err(ReplicateConfigError::Zero(name));
            }
        }
        if self.backoff_min > self.backoff_max {
            return Err(ReplicateConfigError::BackoffMinAboveMax);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_rejects_unusable_settings() {
        assert_eq!(ReplicateConfig::default().check(), Ok(()));
        let zero_fetches = ReplicateConfig {
            max_fetches: 0,
            ..ReplicateConfig::default()
        };
        assert_eq!(
            zero_fetches.check(),
            Err(ReplicateConfigError::ZeroLimit("max_fetches"))
        );
        let inverted = ReplicateConfig {
            backoff_min: Duration::from_secs(600),
            ..ReplicateConfig::default()
        };
        assert_eq!(
            inverted.check(),
            Err(ReplicateConfigError::BackoffMinAboveMax)
        );
        let zero_interval = ReplicateConfig {
            confirm_interval: Duration::ZERO,
            ..ReplicateConfig::default()
        };
        assert_eq!(
            zero_interval.check(),
            Err(ReplicateConfigError::Zero("confirm_interval"))
        );
    }
}
