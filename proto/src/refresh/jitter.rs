//! Deterministic jitter for scheduled checks.
//!
//! proto owns no random number generator; each machine carries this tiny
//! generator (SplitMix64) seeded by its driver, so a simulation run repeats
//! exactly from its seed while a thousand zones still spread their checks.

use std::time::Duration;

/// A SplitMix64 stream.
#[derive(Debug, Clone)]
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    pub(crate) fn new(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform fraction in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `interval` brought forward by up to `fraction` of itself.
    ///
    /// Jitter only ever shortens: a check never runs later than the SOA
    /// asks, so it cannot push a zone towards expiry.
    pub(crate) fn shorten(&mut self, interval: Duration, fraction: f64) -> Duration {
        let cut = interval.mul_f64(fraction.clamp(0.0, 1.0) * self.unit());
        interval.saturating_sub(cut)
    }

    /// A delay spread uniformly over `[0, window)`.
    pub(crate) fn spread(&mut self, window: Duration) -> Duration {
        window.mul_f64(self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Jitter::new(42);
        let mut b = Jitter::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Jitter::new(1).next_u64(), Jitter::new(2).next_u64());
    }

    #[test]
    fn shorten_stays_within_fraction() {
        let mut jitter = Jitter::new(7);
        let interval = Duration::from_secs(3_600);
        let mut shortest = interval;
        for _ in 0..10_000 {
            let d = jitter.shorten(interval, 0.1);
            assert!(d <= interval && d > Duration::from_secs(3_240));
            shortest = shortest.min(d);
        }
        assert!(shortest < Duration::from_secs(3_250), "covers the window");
        assert_eq!(jitter.shorten(interval, 0.0), interval);
    }
}
