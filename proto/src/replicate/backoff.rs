//! Exponential, bounded backoff per (peer, zone).
//!
//! A peer that failed to deliver a zone is not asked for that zone again
//! until its backoff ends; each further failure doubles the wait, up to a
//! maximum; a success forgets it. A peer that sent corrupt data waits the
//! maximum at once. Failures that are this node's own (a full disk) are
//! kept under this node's id, so the zone waits without blaming a peer.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::name::Name;
use crate::time::Timestamp;

use super::member::NodeId;

/// One (peer, zone)'s failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backoff {
    /// Failures in a row.
    pub failures: u32,
    /// Not asked again before this time.
    pub until: Timestamp,
}

/// Every (peer, zone) backoff of one node.
#[derive(Debug, Clone, Default)]
pub(super) struct Backoffs {
    entries: BTreeMap<(NodeId, Name), Backoff>,
}

impl Backoffs {
    /// Counts a failure at `now`; the wait doubles from `min` up to `max`,
    /// or is `max` at once when `severe`.
    pub(super) fn fail(
        &mut self,
        now: Timestamp,
        key: (NodeId, Name),
        (min, max): (Duration, Duration),
        severe: bool,
    ) -> Backoff {
        let entry = self.entries.entry(key).or_insert(Backoff {
            failures: 0,
            until: now,
        });
        entry.failures = entry.failures.saturating_add(1);
        let doublings = entry.failures.saturating_sub(1).min(30);
        let wait = match severe {
            true => max,
            false => min.saturating_mul(1 << doublings).min(max),
        };
        entry.until = now + wait;
        *entry
    }

    pub(super) fn succeed(&mut self, peer: &NodeId, zone: &Name) {
        self.entries.remove(&(peer.clone(), zone.clone()));
    }

    pub(super) fn is_waiting(&self, peer: &NodeId, zone: &Name, now: Timestamp) -> bool {
        self.entry(peer, zone)
            .is_some_and(|entry| now < entry.until)
    }

    pub(super) fn entry(&self, peer: &NodeId, zone: &Name) -> Option<&Backoff> {
        self.entries.get(&(peer.clone(), zone.clone()))
    }

    /// Forgets a peer's failures (it restarted or left).
    pub(super) fn forget_peer(&mut self, peer: &NodeId) {
        self.entries.retain(|(id, _), _| id != peer);
    }

    /// Forgets a zone's failures (it was removed).
    pub(super) fn forget_zone(&mut self, zone: &Name) {
        self.entries.retain(|(_, name), _| name != zone);
    }

    /// The earliest backoff ending after `now`.
    pub(super) fn next_end(&self, now: Timestamp) -> Option<Timestamp> {
        self.entries
            .values()
            .map(|entry| entry.until)
            .filter(|until| *until > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum_and_success_forgets() {
        let mut backoffs = Backoffs::default();
        let peer = NodeId::from("p");
        let zone = Name::from_ascii("example.").unwrap();
        let bounds = (Duration::from_secs(1), Duration::from_secs(5));
        let t0 = Timestamp::from_millis(0);
        let key = || (peer.clone(), zone.clone());
        assert_eq!(
            backoffs.fail(t0, key(), bounds, false).until,
            Timestamp(1_000)
        );
        assert_eq!(
            backoffs.fail(t0, key(), bounds, false).until,
            Timestamp(2_000)
        );
        assert_eq!(
            backoffs.fail(t0, key(), bounds, false).until,
            Timestamp(4_000)
        );
        assert_eq!(
            backoffs.fail(t0, key(), bounds, false).until,
            Timestamp(5_000)
        );
        assert!(backoffs.is_waiting(&peer, &zone, Timestamp(4_999)));
        assert!(!backoffs.is_waiting(&peer, &zone, Timestamp(5_000)));
        backoffs.succeed(&peer, &zone);
        assert!(backoffs.entry(&peer, &zone).is_none());
        assert_eq!(
            backoffs.fail(t0, key(), bounds, true).until,
            Timestamp(5_000)
        );
    }
}
