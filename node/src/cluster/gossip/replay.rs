//! Replay protection for authenticated gossip (sans-IO).
//!
//! Every datagram's counter is unique per sender and within
//! [`super::frame::MAX_SKEW`] of the receiver's clock, so remembering the
//! counters accepted inside that window is enough to refuse every replay:
//! an older copy already fails the time check. Memory is bounded: per
//! sender the newest [`COUNTERS_PER_SENDER`] counters (older ones become a
//! floor below which everything is refused, as a replay window does), and
//! at most [`MAX_SENDERS`] senders (the one heard from least recently is
//! forgotten; its datagrams within the window then count as new once).

use std::collections::{BTreeSet, HashMap};

/// Counters remembered per sender.
pub const COUNTERS_PER_SENDER: usize = 4096;
/// Senders remembered.
pub const MAX_SENDERS: usize = 4096;

/// What has been accepted from each sender.
#[derive(Debug)]
pub struct ReplayGuard {
    window_micros: u64,
    senders: HashMap<Box<str>, Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Counters at or below this are refused.
    floor: u64,
    counters: BTreeSet<u64>,
    last_accepted_micros: u64,
}

impl ReplayGuard {
    /// A guard forgetting counters older than `window_micros` before now.
    pub fn new(window_micros: u64) -> ReplayGuard {
        ReplayGuard {
            window_micros,
            senders: HashMap::new(),
        }
    }

    /// Accepts `counter` from `sender` unless it was accepted before or is
    /// below the sender's floor. Call only for authenticated datagrams.
    pub fn accept(&mut self, sender: &str, counter: u64, now_micros: u64) -> bool {
        if !self.senders.contains_key(sender) && self.senders.len() >= MAX_SENDERS {
            self.forget_least_recent();
        }
        let seen = self.senders.entry(Box::from(sender)).or_default();
        if counter <= seen.floor || !seen.counters.insert(counter) {
            return false;
        }
        seen.last_accepted_micros = now_micros;
        let expired = now_micros.saturating_sub(self.window_micros);
        while let Some(&oldest) = seen.counters.first() {
            if oldest >= expired && seen.counters.len() <= COUNTERS_PER_SENDER {
                break;
            }
            seen.counters.pop_first();
            // Expired counters fail the time check anyway; only evicted
            // ones need the floor.
            if oldest >= expired {
                seen.floor = seen.floor.max(oldest);
            }
        }
        true
    }

    /// Senders currently remembered.
    pub fn senders(&self) -> usize {
        self.senders.len()
    }

    fn forget_least_recent(&mut self) {
        let least_recent = self
            .senders
            .iter()
            .min_by_key(|(_, seen)| seen.last_accepted_micros)
            .map(|(sender, _)| sender.clone());
        if let Some(sender) = least_recent {
            self.senders.remove(&sender);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: u64 = 300_000_000;
    const NOW: u64 = 1_750_000_000_000_000;

    #[test]
    fn replay_guard_refuses_a_counter_seen_before_but_allows_reordering() {
        let mut guard = ReplayGuard::new(WINDOW);
        assert!(guard.accept("a", NOW, NOW));
        assert!(guard.accept("a", NOW + 10, NOW));
        assert!(guard.accept("a", NOW + 5, NOW), "late but new");
        assert!(!guard.accept("a", NOW + 5, NOW));
        assert!(!guard.accept("a", NOW, NOW + 1));
        assert!(guard.accept("b", NOW, NOW), "senders are separate");
    }

    #[test]
    fn replay_guard_memory_is_bounded_with_a_floor() {
        let mut guard = ReplayGuard::new(WINDOW);
        let total = COUNTERS_PER_SENDER as u64 + 10;
        for counter in 1..=total {
            assert!(guard.accept("a", NOW + counter, NOW));
        }
        let seen = &guard.senders["a"];
        assert_eq!(seen.counters.len(), COUNTERS_PER_SENDER);
        assert_eq!(seen.floor, NOW + 10);
        // Below the floor: refused although no longer stored.
        assert!(!guard.accept("a", NOW + 3, NOW));
        assert!(!guard.accept("a", NOW + total, NOW));
        assert!(guard.accept("a", NOW + total + 1, NOW));
    }

    #[test]
    fn replay_guard_forgets_expired_counters_and_old_senders() {
        let mut guard = ReplayGuard::new(WINDOW);
        assert!(guard.accept("a", NOW, NOW));
        let later = NOW + WINDOW + 1;
        assert!(guard.accept("a", later, later));
        assert_eq!(guard.senders["a"].counters.len(), 1);
        for sender in 0..MAX_SENDERS {
            guard.accept(&format!("s{sender}"), later + 1, later + 1);
        }
        assert_eq!(guard.senders(), MAX_SENDERS);
        assert!(!guard.senders.contains_key("a"), "least recent forgotten");
    }
}
