//! Seals outgoing chitchat messages into authenticated datagrams and opens
//! incoming ones: the frame ([`super::frame`]), the replay guard
//! ([`super::replay`]), fragmentation of messages too large for one
//! datagram, and the counters of everything dropped. No IO: time comes in
//! as Unix microseconds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;

use super::frame::{self, Header, MAX_DATAGRAM, MAX_FRAGMENTS, MAX_SKEW, Rejection};
use super::keys::GossipKeys;
use super::replay::ReplayGuard;

/// Fragment sets still incomplete after this long are dropped.
const REASSEMBLY_TIMEOUT_MICROS: u64 = 10_000_000;
/// Incomplete fragment sets kept at once.
const MAX_PENDING_MESSAGES: usize = 64;

/// What the gossip layer has counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GossipCounters {
    /// Datagrams sent.
    pub datagrams_sent: u64,
    /// Datagrams that passed every check.
    pub datagrams_accepted: u64,
    /// Bytes sent, framing included.
    pub bytes_sent: u64,
    /// Bytes of accepted datagrams.
    pub bytes_received: u64,
    /// Dropped: not an understudy gossip datagram.
    pub rejected_malformed: u64,
    /// Dropped: another cluster's name.
    pub rejected_foreign_cluster: u64,
    /// Dropped: MAC under none of the cluster keys.
    pub rejected_bad_mac: u64,
    /// Dropped: counter outside the time window.
    pub rejected_stale: u64,
    /// Dropped: counter already seen from that sender.
    pub rejected_replayed: u64,
    /// Outgoing messages too large even in fragments, not sent.
    pub dropped_oversized: u64,
    /// Fragment sets that never completed.
    pub dropped_incomplete: u64,
    /// Authenticated messages lost on the loopback leg to chitchat's
    /// decoder (see `super::loopback`).
    pub dropped_loopback: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    datagrams_sent: AtomicU64,
    datagrams_accepted: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    rejected_malformed: AtomicU64,
    rejected_foreign_cluster: AtomicU64,
    rejected_bad_mac: AtomicU64,
    rejected_stale: AtomicU64,
    rejected_replayed: AtomicU64,
    dropped_oversized: AtomicU64,
    dropped_incomplete: AtomicU64,
    pub(super) dropped_loopback: AtomicU64,
}

/// The cluster's authentication state, shared by the socket and the
/// [`super::Gossip`] handle.
#[derive(Debug)]
pub struct Authenticator {
    cluster: Box<str>,
    node_id: Box<str>,
    keys: ArcSwap<GossipKeys>,
    state: Mutex<State>,
    pub(super) counters: Counters,
}

#[derive(Debug)]
struct State {
    last_counter: u64,
    guard: ReplayGuard,
    pending: HashMap<(Box<str>, u64), Pending>,
}

#[derive(Debug)]
struct Pending {
    parts: Vec<Option<Vec<u8>>>,
    started_micros: u64,
}

/// An authenticated message: who sent it and the chitchat bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The sender's node id.
    pub sender: Box<str>,
    /// The whole chitchat message.
    pub message: Vec<u8>,
}

impl Authenticator {
    /// Authentication for node `node_id` of `cluster`.
    pub fn new(cluster: &str, node_id: &str, keys: GossipKeys) -> Arc<Authenticator> {
        let window = u64::try_from(MAX_SKEW.as_micros()).unwrap_or(u64::MAX);
        Arc::new(Authenticator {
            cluster: Box::from(cluster),
            node_id: Box::from(node_id),
            keys: ArcSwap::from_pointee(keys),
            state: Mutex::new(State {
                last_counter: 0,
                guard: ReplayGuard::new(window.saturating_mul(2)),
                pending: HashMap::new(),
            }),
            counters: Counters::default(),
        })
    }

    /// Switches to new keys (rotation): the first signs from now on.
    pub fn rotate(&self, keys: GossipKeys) {
        self.keys.store(Arc::new(keys));
    }

    /// The datagrams carrying `message`: one, or up to
    /// [`MAX_FRAGMENTS`]; none when it is too large even then.
    pub fn seal(&self, message: &[u8], now_micros: u64) -> Vec<Vec<u8>> {
        let room = MAX_DATAGRAM.saturating_sub(frame::overhead(&self.cluster, &self.node_id));
        let count = message.len().div_ceil(room).max(1);
        let Ok(count) = u8::try_from(count) else {
            self.counters
                .dropped_oversized
                .fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        };
        if count > MAX_FRAGMENTS {
            self.counters
                .dropped_oversized
                .fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
        let chunk = message.len().div_ceil(usize::from(count)).max(1);
        let keys = self.keys.load();
        let mut state = lock(&self.state);
        let mut message_id = None;
        let mut datagrams = Vec::with_capacity(usize::from(count));
        for index in 0..count {
            let counter = state.last_counter.saturating_add(1).max(now_micros);
            state.last_counter = counter;
            let first = *message_id.get_or_insert(counter);
            let start = (usize::from(index) * chunk).min(message.len());
            let end = (start + chunk).min(message.len());
            let header = Header {
                cluster: &self.cluster,
                sender: &self.node_id,
                counter,
                message: first,
                index,
                count,
            };
            datagrams.push(frame::seal(&keys, &header, &message[start..end]));
        }
        drop(state);
        for datagram in &datagrams {
            self.counters.datagrams_sent.fetch_add(1, Ordering::Relaxed);
            self.counters
                .bytes_sent
                .fetch_add(datagram.len() as u64, Ordering::Relaxed);
        }
        datagrams
    }

    /// Checks one datagram; returns the message once it is complete.
    /// Everything dropped is counted.
    pub fn open(&self, datagram: &[u8], now_micros: u64) -> Option<Opened> {
        let keys = self.keys.load();
        let (header, payload) = match frame::open(datagram, &self.cluster, &keys, now_micros) {
            Ok(opened) => opened,
            Err(rejection) => {
                self.count_rejection(rejection);
                return None;
            }
        };
        let mut state = lock(&self.state);
        if !state
            .guard
            .accept(header.sender, header.counter, now_micros)
        {
            drop(state);
            self.count_rejection(Rejection::Replayed);
            return None;
        }
        self.counters
            .datagrams_accepted
            .fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_received
            .fetch_add(datagram.len() as u64, Ordering::Relaxed);
        if header.count == 1 {
            return Some(Opened {
                sender: Box::from(header.sender),
                message: payload.to_vec(),
            });
        }
        self.reassemble(&mut state, &header, payload, now_micros)
    }

    /// What has been counted so far.
    pub fn counters(&self) -> GossipCounters {
        let counters = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        GossipCounters {
            datagrams_sent: load(&counters.datagrams_sent),
            datagrams_accepted: load(&counters.datagrams_accepted),
            bytes_sent: load(&counters.bytes_sent),
            bytes_received: load(&counters.bytes_received),
            rejected_malformed: load(&counters.rejected_malformed),
            rejected_foreign_cluster: load(&counters.rejected_foreign_cluster),
            rejected_bad_mac: load(&counters.rejected_bad_mac),
            rejected_stale: load(&counters.rejected_stale),
            rejected_replayed: load(&counters.rejected_replayed),
            dropped_oversized: load(&counters.dropped_oversized),
            dropped_incomplete: load(&counters.dropped_incomplete),
            dropped_loopback: load(&counters.dropped_loopback),
        }
    }

    fn reassemble(
        &self,
        state: &mut State,
        header: &Header<'_>,
        payload: &[u8],
        now_micros: u64,
    ) -> Option<Opened> {
        self.expire_pending(state, now_micros);
        let key = (Box::from(header.sender), header.message);
        let pending = state.pending.entry(key.clone()).or_insert_with(|| Pending {
            parts: vec![None; usize::from(header.count)],
            started_micros: now_micros,
        });
        let slot = pending.parts.get_mut(usize::from(header.index))?;
        *slot = Some(payload.to_vec());
        if pending.parts.iter().any(Option::is_none) {
            return None;
        }
        let parts = state.pending.remove(&key)?.parts;
        Some(Opened {
            sender: key.0,
            message: parts.into_iter().flatten().flatten().collect(),
        })
    }

    fn expire_pending(&self, state: &mut State, now_micros: u64) {
        let before = state.pending.len();
        state.pending.retain(|_, pending| {
            now_micros.saturating_sub(pending.started_micros) < REASSEMBLY_TIMEOUT_MICROS
        });
        while state.pending.len() >= MAX_PENDING_MESSAGES {
            let oldest = state
                .pending
                .iter()
                .min_by_key(|(_, pending)| pending.started_micros)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => state.pending.remove(&key),
                None => break,
            };
        }
        let dropped = before.saturating_sub(state.pending.len());
        self.counters
            .dropped_incomplete
            .fetch_add(dropped as u64, Ordering::Relaxed);
    }

    fn count_rejection(&self, rejection: Rejection) {
        let counter = match rejection {
            Rejection::Malformed => &self.counters.rejected_malformed,
            Rejection::ForeignCluster => &self.counters.rejected_foreign_cluster,
            Rejection::BadMac => &self.counters.rejected_bad_mac,
            Rejection::Stale => &self.counters.rejected_stale,
            Rejection::Replayed => &self.counters.rejected_replayed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The state stays consistent through a panic elsewhere (each update is
/// complete before the lock is released), so a poisoned lock is used as is.
fn lock(mutex: &Mutex<State>) -> MutexGuard<'_, State> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_750_000_000_000_000;

    fn pair() -> (Arc<Authenticator>, Arc<Authenticator>) {
        let keys = || GossipKeys::from_secrets(&[vec![5; 32]]).unwrap();
        (
            Authenticator::new("prod", "a", keys()),
            Authenticator::new("prod", "b", keys()),
        )
    }

    #[test]
    fn gossip_auth_counters_increase_even_when_the_clock_stands_still() {
        let (a, b) = pair();
        let first = a.seal(b"one", NOW);
        let second = a.seal(b"two", NOW);
        assert_eq!(b.open(&first[0], NOW).unwrap().message, b"one");
        assert_eq!(b.open(&second[0], NOW).unwrap().message, b"two");
        assert_eq!(b.open(&first[0], NOW), None);
        let counters = b.counters();
        assert_eq!(
            (counters.datagrams_accepted, counters.rejected_replayed),
            (2, 1)
        );
    }

    #[test]
    fn gossip_auth_fragments_large_messages_and_reassembles_out_of_order() {
        let (a, b) = pair();
        let message: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let datagrams = a.seal(&message, NOW);
        assert_eq!(datagrams.len(), 3);
        assert!(
            datagrams
                .iter()
                .all(|datagram| datagram.len() <= MAX_DATAGRAM)
        );
        assert_eq!(b.open(&datagrams[2], NOW), None);
        assert_eq!(b.open(&datagrams[0], NOW), None);
        let opened = b.open(&datagrams[1], NOW).unwrap();
        assert_eq!((&*opened.sender, opened.message), ("a", message));
        // A replayed fragment cannot restart the message.
        assert_eq!(b.open(&datagrams[0], NOW), None);
        assert_eq!(b.counters().rejected_replayed, 1);
        let too_large = vec![0u8; 4 * MAX_DATAGRAM];
        assert!(a.seal(&too_large, NOW).is_empty());
        assert_eq!(a.counters().dropped_oversized, 1);
    }

    #[test]
    fn gossip_auth_drops_fragment_sets_that_never_complete() {
        let (a, b) = pair();
        let datagrams = a.seal(&vec![1u8; 100_000], NOW);
        assert_eq!(b.open(&datagrams[0], NOW), None);
        let later = NOW + REASSEMBLY_TIMEOUT_MICROS + 1;
        let fresh = a.seal(b"small", later);
        assert!(b.open(&fresh[0], later).is_some());
        assert_eq!(b.open(&datagrams[1], later), None, "its set expired");
        assert_eq!(b.counters().dropped_incomplete, 1);
    }

    #[test]
    fn gossip_auth_rotation_accepts_old_and_new_keys() {
        let old = vec![1u8; 32];
        let new = vec![2u8; 32];
        let sender = Authenticator::new(
            "prod",
            "a",
            GossipKeys::from_secrets(std::slice::from_ref(&old)).unwrap(),
        );
        let receiver = Authenticator::new(
            "prod",
            "b",
            GossipKeys::from_secrets(std::slice::from_ref(&old)).unwrap(),
        );
        receiver.rotate(GossipKeys::from_secrets(&[old.clone(), new.clone()]).unwrap());
        assert!(
            receiver
                .open(&sender.seal(b"old key", NOW)[0], NOW)
                .is_some()
        );
        sender.rotate(GossipKeys::from_secrets(&[new.clone(), old]).unwrap());
        assert!(
            receiver
                .open(&sender.seal(b"new key", NOW)[0], NOW)
                .is_some()
        );
        receiver.rotate(GossipKeys::from_secrets(&[vec![3u8; 32]]).unwrap());
        assert!(
            receiver
                .open(&sender.seal(b"dropped", NOW)[0], NOW)
                .is_none()
        );
        assert_eq!(receiver.counters().rejected_bad_mac, 1);
    }
}
