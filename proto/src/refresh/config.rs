//! Per-zone refresh settings and the SOA timers they clamp.

use std::time::Duration;

use crate::record::Soa;

/// What a zone serves once its expire time has passed without a primary
/// confirming its serial (RFC 1035 §4.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpiryPolicy {
    /// Stop answering for the zone (SERVFAIL), as RFC 1035 prescribes.
    #[default]
    Rfc,
    /// Keep answering with the old data, marked stale in metrics and EDE.
    ServeStale,
    /// Keep answering as if fresh; only status and metrics say it expired.
    Never,
}

/// Settings of one zone's refresh machine, from the zone's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshConfig {
    /// How many primaries the zone has; actions name them by index, tried
    /// in order starting at 0.
    pub primaries: usize,
    /// Lower clamp for the SOA REFRESH interval.
    pub refresh_min: Duration,
    /// Upper clamp for the SOA REFRESH interval.
    pub refresh_max: Duration,
    /// Lower clamp for the SOA RETRY interval.
    pub retry_min: Duration,
    /// Upper clamp for the SOA RETRY interval.
    pub retry_max: Duration,
    /// Lower clamp for the SOA EXPIRE interval.
    pub expire_min: Duration,
    /// Upper clamp for the SOA EXPIRE interval.
    pub expire_max: Duration,
    /// Fraction (0.0..=1.0) by which each scheduled refresh or retry may be
    /// brought forward at random, so zones do not refresh in lockstep.
    pub jitter: f64,
    /// What is served past expire.
    pub expiry_policy: ExpiryPolicy,
    /// How long the driver may take to answer an SOA query action.
    pub soa_timeout: Duration,
    /// How long the driver may take to carry out a transfer action.
    pub transfer_timeout: Duration,
    /// Whether to ask for IXFR when data is held (else always AXFR).
    pub request_ixfr: bool,
}

impl Default for RefreshConfig {
    fn default() -> RefreshConfig {
        RefreshConfig {
            primaries: 1,
            refresh_min: Duration::from_secs(60),
            refresh_max: Duration::from_secs(86_400),
            retry_min: Duration::from_secs(10),
            retry_max: Duration::from_secs(3_600),
            expire_min: Duration::from_secs(3_600),
            expire_max: Duration::from_secs(28 * 86_400),
            jitter: 0.1,
            expiry_policy: ExpiryPolicy::Rfc,
            soa_timeout: Duration::from_secs(10),
            transfer_timeout: Duration::from_secs(15 * 60),
            request_ixfr: true,
        }
    }
}

/// Why a [`RefreshConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A lower clamp is above its upper clamp.
    #[error("{timer}_min is greater than {timer}_max")]
    MinAboveMax {
        /// `refresh`, `retry` or `expire`.
        timer: &'static str,
    },
    /// The jitter fraction is not a number in 0.0..=1.0.
    #[error("jitter must be between 0.0 and 1.0")]
    BadJitter,
    /// A timeout of zero would fail every action at once.
    #[error("{0} must be greater than zero")]
    ZeroTimeout(&'static str),
}

impl RefreshConfig {
    /// Checks the settings; the node rejects a configuration that fails.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (timer, min, max) in [
            ("refresh", self.refresh_min, self.refresh_max),
            ("retry", self.retry_min, self.retry_max),
            ("expire", self.expire_min, self.expire_max),
        ] {
            if min > max {
                return Err(ConfigError::MinAboveMax { timer });
            }
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(ConfigError::BadJitter);
        }
        if self.soa_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("soa_timeout"));
        }
        if self.transfer_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("transfer_timeout"));
        }
        Ok(())
    }

    /// The serving SOA's timers, clamped (RFC 1035 §3.3.13 fields).
    ///
    /// Expire is raised to at least refresh + retry, as BIND does, so that
    /// clamping never expires a zone before its next check could run.
    pub fn intervals(&self, soa: SoaTimers) -> Intervals {
        let refresh = clamp(soa.refresh, self.refresh_min, self.refresh_max);
        let retry = clamp(soa.retry, self.retry_min, self.retry_max);
        let expire = clamp(soa.expire, self.expire_min, self.expire_max).max(refresh + retry);
        Intervals {
            refresh,
            retry,
            expire,
        }
    }
}

/// The shortest interval ever scheduled, whatever the clamps say: a zero
/// would make the machine query its primaries in a busy loop.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_secs(1);

fn clamp(seconds: u32, min: Duration, max: Duration) -> Duration {
    Duration::from_secs(u64::from(seconds))
        .max(min)
        .min(max)
        .max(MIN_INTERVAL)
}

/// The parts of an SOA record the refresh machine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SoaTimers {
    /// SERIAL.
    pub serial: u32,
    /// REFRESH, seconds.
    pub refresh: u32,
    /// RETRY, seconds.
    pub retry: u32,
    /// EXPIRE, seconds.
    pub expire: u32,
}

impl From<&Soa> for SoaTimers {
    fn from(soa: &Soa) -> SoaTimers {
        SoaTimers {
            serial: soa.serial,
            refresh: soa.refresh,
            retry: soa.retry,
            expire: soa.expire,
        }
    }
}

/// SOA timers after clamping, as durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    /// Time between successful checks.
    pub refresh: Duration,
    /// Time between failed checks.
    pub retry: Duration,
    /// Time after the last confirmation at which the zone expires.
    pub expire: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soa(refresh: u32, retry: u32, expire: u32) -> SoaTimers {
        SoaTimers {
            serial: 1,
            refresh,
            retry,
            expire,
        }
    }

    #[test]
    fn intervals_are_clamped() {
        let config = RefreshConfig::default();
        let low = config.intervals(soa(1, 1, 1));
        assert_eq!(low.refresh, config.refresh_min);
        assert_eq!(low.retry, config.retry_min);
        assert_eq!(low.expire, config.expire_min);
        let high = config.intervals(soa(u32::MAX, u32::MAX, u32::MAX));
        assert_eq!(high.refresh, config.refresh_max);
        assert_eq!(high.retry, config.retry_max);
        assert_eq!(high.expire, config.expire_max);
        let middle = config.intervals(soa(7_200, 900, 1_209_600));
        assert_eq!(middle.refresh, Duration::from_secs(7_200));
        assert_eq!(middle.retry, Duration::from_secs(900));
        assert_eq!(middle.expire, Duration::from_secs(1_209_600));
    }

    #[test]
    fn expire_is_at_least_refresh_plus_retry() {
        let config = RefreshConfig::default();
        let intervals = config.intervals(soa(86_400, 3_600, 3_600));
        assert_eq!(intervals.expire, Duration::from_secs(86_400 + 3_600));
    }

    #[test]
    fn check_rejects_inverted_clamps_and_bad_jitter() {
        let mut config = RefreshConfig::default();
        assert_eq!(config.check(), Ok(()));
        config.retry_min = Duration::from_secs(7_200);
        assert_eq!(
            config.check(),
            Err(ConfigError::MinAboveMax { timer: "retry" })
        );
        config = RefreshConfig {
            jitter: 1.5,
            ..RefreshConfig::default()
        };
        assert_eq!(config.check(), Err(ConfigError::BadJitter));
        config.jitter = f64::NAN;
        assert_eq!(config.check(), Err(ConfigError::BadJitter));
        config = RefreshConfig {
            soa_timeout: Duration::ZERO,
            ..RefreshConfig::default()
        };
        assert_eq!(config.check(), Err(ConfigError::ZeroTimeout("soa_timeout")));
    }
}
