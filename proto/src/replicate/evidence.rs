//! What the fleet offers for a zone, for the health machine: a peer that
//! serves it fresh, and how long we have lagged a verified newer version.
//!
//! Only authenticated statements count as evidence (DESIGN.md decision 6):
//! a peer's word over QUIC (a confirmation or a fetch) and the primary's
//! SOA. Gossip adverts only add that the fleet *has* a newer version once
//! the primary's SOA has already verified one exists, so that a version
//! the whole fleet lacks (the primary's transfer is broken for everyone)
//! withdraws nobody.

use crate::health::{FleetEvidence, Lag};
use crate::name::Name;
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

use super::plan::newest;
use super::replicator::{PeerEvidence, Replicator, ZoneEntry};

impl Replicator {
    /// The fleet's side of `zone`'s health at `now`.
    pub fn evidence(&self, zone: &Name, now: Timestamp) -> FleetEvidence {
        let Some(entry) = self.zones.get(zone) else {
            return FleetEvidence::default();
        };
        let expire = entry
            .timers
            .map_or(self.config.unloaded_expire, |timers| timers.expire);
        let fresh_peer = self
            .current_evidence(entry)
            .filter(|(_, evidence)| evidence.confirmed.age_at(now) < expire)
            .map(|(peer, _)| peer.clone())
            .next();
        FleetEvidence {
            fresh_peer,
            lag: entry.lag,
        }
    }

    /// Peers' QUIC statements from their current generation while alive.
    fn current_evidence<'a>(
        &'a self,
        entry: &'a ZoneEntry,
    ) -> impl Iterator<Item = (&'a super::member::NodeId, &'a PeerEvidence)> + 'a {
        entry.peers.iter().filter(|(peer, evidence)| {
            self.view.member(peer).is_some_and(|member| {
                member.is_alive() && member.info.generation == evidence.generation
            })
        })
    }

    pub(super) fn track_all_lags(&mut self, now: Timestamp) {
        let zones: Vec<Name> = self.zones.keys().cloned().collect();
        for zone in zones {
            self.track_lag(&zone, now);
        }
    }

    /// Starts or ends the zone's lag: lagging while a verified version
    /// newer than ours exists and a live peer serves something newer.
    pub(super) fn track_lag(&mut self, zone: &Name, now: Timestamp) {
        let behind = self
            .zones
            .get(zone)
            .and_then(|entry| self.lagged(zone, entry));
        if let Some(entry) = self.zones.get_mut(zone) {
            entry.lag = behind.map(|behind| Lag {
                since: entry.lag.map_or(now, |lag| lag.since),
                behind,
            });
        }
    }

    fn lagged(&self, zone: &Name, entry: &ZoneEntry) -> Option<ZoneVersion> {
        let ours = entry.serving?;
        let from_peers: Vec<ZoneVersion> = self
            .current_evidence(entry)
            .map(|(_, evidence)| evidence.version)
            .filter(|version| version.is_newer_than(ours))
            .collect();
        let from_primary = entry
            .primary_version
            .filter(|version| version.is_newer_than(ours));
        let verified = newest(from_primary.into_iter().chain(from_peers.iter().copied()))?;
        let fleet_has_it = !from_peers.is_empty()
            || self
                .view
                .live_adverts(zone)
                .any(|(_, advert)| advert.version.is_newer_than(ours));
        fleet_has_it.then_some(verified)
    }
}
