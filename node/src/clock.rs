//! The node's clocks: monotonic time for the state machines, wall time for
//! what is shown to people and written to disk.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use understudy_proto::Timestamp;

/// Converts between the monotonic [`Timestamp`]s proto works with and wall
/// time. The origin is the last whole wall-clock second before the clock
/// was made (node start), so timestamps map to Unix seconds exactly.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    origin_wall: SystemTime,
}

impl Clock {
    /// A clock whose origin is the current whole second.
    pub fn start() -> Clock {
        let (instant, wall) = (Instant::now(), SystemTime::now());
        let into_second = Duration::from_nanos(u64::from(
            wall.duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.subsec_nanos()),
        ));
        match (
            instant.checked_sub(into_second),
            wall.checked_sub(into_second),
        ) {
            (Some(origin), Some(origin_wall)) => Clock {
                origin,
                origin_wall,
            },
            _ => Clock {
                origin: instant,
                origin_wall: wall,
            },
        }
    }

    /// The current monotonic time.
    pub fn now(&self) -> Timestamp {
        self.timestamp(Instant::now())
    }

    /// `instant` on the proto clock.
    pub fn timestamp(&self, instant: Instant) -> Timestamp {
        let elapsed = instant.saturating_duration_since(self.origin);
        Timestamp(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    /// The tokio instant of a proto timestamp, for timers.
    pub fn instant(&self, at: Timestamp) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.origin + Duration::from_millis(at.0))
    }

    /// The wall-clock time of a proto timestamp.
    pub fn wall(&self, at: Timestamp) -> SystemTime {
        self.origin_wall + Duration::from_millis(at.0)
    }

    /// The wall clock now, in Unix seconds.
    pub fn unix_now(&self) -> u64 {
        unix_seconds(SystemTime::now())
    }

    /// The latest moment, no later than now, at which the wall clock on this
    /// clock's mapping shows a whole second, with that second. Times
    /// converted relative to such a pair land on the same Unix second
    /// whenever they are converted, so state saved from it does not drift.
    pub fn whole_second(&self) -> (Timestamp, u64) {
        let wall_origin_ms = self
            .origin_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        let now = self.now();
        let wall_ms = wall_origin_ms + now.0;
        let aligned = Timestamp(now.0.saturating_sub(wall_ms % 1000));
        (aligned, (wall_origin_ms + aligned.0) / 1000)
    }
}

/// `at` in Unix seconds (0 before 1970).
pub fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_map_to_unix_seconds_without_drift() {
        let clock = Clock::start();
        let (first, first_unix) = clock.whole_second();
        std::thread::sleep(Duration::from_millis(1_100));
        let (later, later_unix) = clock.whole_second();
        assert_eq!(first.0 % 1000, 0);
        assert_eq!(later_unix - first_unix, (later.0 - first.0) / 1000);
        assert!(later_unix > first_unix);
    }
}
