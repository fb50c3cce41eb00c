//! The per-zone policy: timer clamps, expiry behaviour and resource limits,
//! from `[zone_defaults]` overlaid with a zone's own keys.

use std::fmt;
use std::time::Duration;

use super::Invalid;
use super::spec::PolicySpec;
use super::units::{format_duration, parse_duration, parse_size};

/// What a zone does once it is past its expire time (DESIGN.md decision 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryPolicy {
    /// RFC 1996 behaviour: answer SERVFAIL after expire.
    Rfc,
    /// Keep answering, flagged as stale in metrics and EDE.
    ServeStale,
    /// Never expire.
    Never,
}

impl ExpiryPolicy {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            ExpiryPolicy::Rfc => "rfc",
            ExpiryPolicy::ServeStale => "serve-stale",
            ExpiryPolicy::Never => "never",
        }
    }

    fn parse(text: &str) -> Option<ExpiryPolicy> {
        [
            ExpiryPolicy::Rfc,
            ExpiryPolicy::ServeStale,
            ExpiryPolicy::Never,
        ]
        .into_iter()
        .find(|policy| policy.name() == text)
    }
}

impl fmt::Display for ExpiryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The resolved policy of one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZonePolicy {
    /// `expiry_policy`
    pub expiry_policy: ExpiryPolicy,
    /// Lower clamp on the SOA REFRESH value.
    pub refresh_min: Duration,
    /// Upper clamp on the SOA REFRESH value.
    pub refresh_max: Duration,
    /// Lower clamp on the SOA RETRY value.
    pub retry_min: Duration,
    /// Upper clamp on the SOA RETRY value.
    pub retry_max: Duration,
    /// Lower clamp on the SOA EXPIRE value.
    pub expire_min: Duration,
    /// Upper clamp on the SOA EXPIRE value.
    pub expire_max: Duration,
    /// Fraction of each timer drawn at random, in [0, 0.5].
    pub jitter: f64,
    /// Most records a zone may hold; a larger transfer is refused.
    pub max_records: u64,
    /// Most bytes a zone may take; a larger transfer is refused.
    pub max_zone_bytes: u64,
    /// Longest a single transfer may run.
    pub transfer_timeout: Duration,
    /// Slowest a transfer may go, in bytes per second, before it is abandoned.
    pub transfer_min_rate: u64,
    /// Most diffs kept in the journal for IXFR out.
    pub journal_max_diffs: u64,
    /// Most bytes the journal may take.
    pub journal_max_bytes: u64,
}

impl Default for ZonePolicy {
    fn default() -> ZonePolicy {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 60 * MINUTE;
        const DAY: u64 = 24 * HOUR;
        ZonePolicy {
            expiry_policy: ExpiryPolicy::Rfc,
            refresh_min: Duration::from_secs(MINUTE),
            refresh_max: Duration::from_secs(DAY),
            retry_min: Duration::from_secs(10),
            retry_max: Duration::from_secs(HOUR),
            expire_min: Duration::from_secs(HOUR),
            expire_max: Duration::from_secs(28 * DAY),
            jitter: 0.1,
            max_records: 5_000_000,
            max_zone_bytes: 1 << 30,
            transfer_timeout: Duration::from_secs(15 * MINUTE),
            transfer_min_rate: 10 << 10,
            journal_max_diffs: 100,
            journal_max_bytes: 64 << 20,
        }
    }
}

impl ZonePolicy {
    /// This policy with the keys present in `spec` replaced; `context` names
    /// the table (`zone_defaults`, `zone "example.com."`) in errors.
    pub fn overlay(&self, spec: &PolicySpec, context: &str) -> Result<ZonePolicy, Invalid> {
        let mut policy = self.clone();
        let at = |key: &str| Invalid::new(format!("{context}: {key}"));
        if let Some(value) = &spec.expiry_policy {
            let text = value
                .text()
                .map_err(|reason| at("expiry_policy").because(reason))?;
            policy.expiry_policy = ExpiryPolicy::parse(text).ok_or_else(|| {
                at("expiry_policy").because(format!(
                    "\"{text}\" is not one of \"rfc\", \"serve-stale\", \"never\""
                ))
            })?;
        }
        policy.overlay_quantities(spec, &at)?;
        if let Some(jitter) = &spec.jitter {
            policy.jitter = jitter
                .number()
                .map_err(|reason| at("jitter").because(reason))?;
        }
        let counts = [
            ("max_records", &spec.max_records, &mut policy.max_records),
            (
                "journal_max_diffs",
                &spec.journal_max_diffs,
                &mut policy.journal_max_diffs,
            ),
        ];
        for (key, value, slot) in counts {
            if let Some(value) = value {
                *slot = value.count().map_err(|reason| at(key).because(reason))?;
            }
        }
        policy.validate(context)?;
        Ok(policy)
    }

    /// The duration and size keys of `spec`, read into this policy.
    fn overlay_quantities(
        &mut self,
        spec: &PolicySpec,
        at: &impl Fn(&str) -> Invalid,
    ) -> Result<(), Invalid> {
        let durations = [
            ("refresh_min", &spec.refresh_min, &mut self.refresh_min),
            ("refresh_max", &spec.refresh_max, &mut self.refresh_max),
            ("retry_min", &spec.retry_min, &mut self.retry_min),
            ("retry_max", &spec.retry_max, &mut self.retry_max),
            ("expire_min", &spec.expire_min, &mut self.expire_min),
            ("expire_max", &spec.expire_max, &mut self.expire_max),
            (
                "transfer_timeout",
                &spec.transfer_timeout,
                &mut self.transfer_timeout,
            ),
        ];
        for (key, value, slot) in durations {
            if let Some(value) = value {
                *slot = value
                    .quantity()
                    .and_then(|quantity| parse_duration(&quantity))
                    .map_err(|reason| at(key).because(reason))?;
            }
        }
        let sizes = [
            (
                "max_zone_bytes",
                &spec.max_zone_bytes,
                &mut self.max_zone_bytes,
            ),
            (
                "transfer_min_rate",
                &spec.transfer_min_rate,
                &mut self.transfer_min_rate,
            ),
            (
                "journal_max_bytes",
                &spec.journal_max_bytes,
                &mut self.journal_max_bytes,
            ),
        ];
        for (key, value, slot) in sizes {
            if let Some(value) = value {
                *slot = value
                    .quantity()
                    .and_then(|quantity| parse_size(&quantity))
                    .map_err(|reason| at(key).because(reason))?;
            }
        }
        Ok(())
    }

    fn validate(&self, context: &str) -> Result<(), Invalid> {
        let clamps = [
            ("refresh", self.refresh_min, self.refresh_max),
            ("retry", self.retry_min, self.retry_max),
            ("expire", self.expire_min, self.expire_max),
        ];
        for (timer, min, max) in clamps {
            if min > max {
                return Err(
                    Invalid::new(format!("{context}: {timer}_min")).because(format!(
                        "{timer}_min ({}) is greater than {timer}_max ({})",
                        format_duration(min),
                        format_duration(max)
                    )),
                );
            }
        }
        if self.refresh_min.is_zero() || self.retry_min.is_zero() {
            return Err(Invalid::new(format!("{context}: refresh_min/retry_min"))
                .because("must be at least 1s, or the zone would be polled in a tight loop"));
        }
        if !(0.0..=0.5).contains(&self.jitter) {
            return Err(Invalid::new(format!("{context}: jitter"))
                .because(format!("{} is outside [0, 0.5]", self.jitter)));
        }
        let positive = [
            ("max_records", self.max_records),
            ("max_zone_bytes", self.max_zone_bytes),
            ("transfer_timeout", self.transfer_timeout.as_secs()),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(Invalid::new(format!("{context}: {key}")).because("must not be 0"));
            }
        }
        Ok(())
    }
}
