//! The replicator: one node's replication decisions over all its zones.
//!
//! ```text
//!   gossip ──handle_member / _liveness / _rtt / _advert──┐
//!   refresh machine ──handle_local (after each change)───┤
//!   NOTIFY ──handle_notify ──> NotifyPlan (direct | hold)│
//!                                                        v
//!                                   per zone: fetch? confirm? (poll_action)
//!                                                        |
//!       Fetch{peer, want, have} ─── QUIC ──> verify ──> handle_peer_install
//!       Confirm{peer, ours}     ─── QUIC ──> same digest? handle_confirmation
//!                                                        |
//!                  handle_fetch_result / handle_confirm_result (free the slot,
//!                  back off a failing peer, keep the evidence for health)
//! ```
//!
//! Fetch: when a live member advertises a version newer than ours (epoch
//! first, then RFC 1982), fetch the newest one advertised from the nearest
//! live member holding it that is not backed off: own region first, then
//! regions by round trip. At most one fetch per zone, at most
//! `max_fetches` overall. While a NOTIFY is held for the region's fetcher,
//! only own-region members are asked.
//!
//! Confirm (freshness inheritance, DESIGN.md decision 5): when no primary
//! has confirmed our version for a full refresh interval and our own last
//! check of the primaries failed, ask the live member advertising the freshest confirmation —
//! of our own version first, else of a newer one — for a confirmation,
//! at most every `min(retry, refresh / 2)` (never more often than
//! `confirm_interval`) per zone. A zone not loaded here asks too, so
//! health knows whether a peer serves it.
//!
//! Every choice is a pure function of the inputs: maps are ordered, ties
//! are broken by name, and nothing is random.

use std::collections::BTreeMap;

use crate::health::Lag;
use crate::name::Name;
use crate::refresh::{DRIVER_GRACE, Intervals};
use crate::serial::{Serial, ZoneVersion};
use crate::time::Timestamp;

use super::action::{
    ConfirmOutcome, FetchOutcome, PeerFailure, ReplicaAction, ReplicaActionKind, ReplicaId,
    ReplicaReportError,
};
use super::backoff::Backoffs;
use super::config::ReplicateConfig;
use super::local::LocalZone;
use super::member::{Advert, Confirmation, Liveness, MemberInfo, NodeId};
use super::view::{ClusterView, MemberChange};

/// The replicator; see the module documentation.
#[derive(Debug, Clone)]
pub struct Replicator {
    pub(super) config: ReplicateConfig,
    pub(super) view: ClusterView,
    pub(super) zones: BTreeMap<Name, ZoneEntry>,
    pub(super) backoffs: Backoffs,
    pub(super) flights: BTreeMap<ReplicaId, Flight>,
    next_id: u64,
    cursor: Option<Name>,
}

/// One zone's replication state.
#[derive(Debug, Clone)]
pub(super) struct ZoneEntry {
    pub(super) serving: Option<ZoneVersion>,
    pub(super) verified: Option<Confirmation>,
    pub(super) primary_version: Option<ZoneVersion>,
    pub(super) timers: Option<Intervals>,
    pub(super) primary_reachable: bool,
    pub(super) fetch: Option<ReplicaId>,
    pub(super) confirm: Option<ReplicaId>,
    pub(super) next_confirm: Timestamp,
    pub(super) wait: Option<NotifyWait>,
    /// What peers said over QUIC (confirmations and fetches).
    pub(super) peers: BTreeMap<NodeId, PeerEvidence>,
    pub(super) lag: Option<Lag>,
}

/// A NOTIFY held while the region's fetcher gets the new version.
#[derive(Debug, Clone)]
pub(super) struct NotifyWait {
    pub(super) serial: Option<Serial>,
    pub(super) until: Timestamp,
    pub(super) fetcher: NodeId,
    pub(super) baseline: Option<ZoneVersion>,
}

/// A peer's version of a zone as it stated it over QUIC.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeerEvidence {
    pub(super) generation: u64,
    pub(super) version: ZoneVersion,
    pub(super) confirmed: Confirmation,
}

/// An action handed out and not yet reported.
#[derive(Debug, Clone)]
pub(super) struct Flight {
    pub(super) zone: Name,
    pub(super) peer: NodeId,
    pub(super) kind: ReplicaActionKind,
    pub(super) deadline: Timestamp,
}

impl ZoneEntry {
    fn new() -> ZoneEntry {
        ZoneEntry {
            serving: None,
            verified: None,
            primary_version: None,
            timers: None,
            primary_reachable: true,
            fetch: None,
            confirm: None,
            next_confirm: Timestamp::ZERO,
            wait: None,
            peers: BTreeMap::new(),
            lag: None,
        }
    }

    /// Whether `version` from a peer would replace what we serve.
    pub(super) fn wants(&self, version: ZoneVersion) -> bool {
        self.serving.is_none_or(|ours| version.is_newer_than(ours))
    }

    /// Ends a held NOTIFY's restriction once its serial is served.
    fn settle_wait(&mut self, now: Timestamp) {
        let Some(wait) = &self.wait else {
            return;
        };
        let served = self.serving.is_some_and(|ours| match wait.serial {
            Some(notified) => !notified.is_newer_than(ours.serial),
            None => wait.baseline.is_none_or(|base| ours.is_newer_than(base)),
        });
        if served || wait.until <= now {
            self.wait = None;
        }
    }
}

impl Replicator {
    /// The replicator of node `own` in `region`: no member, no zone yet.
    pub fn new(config: ReplicateConfig, own: NodeId, region: impl Into<String>) -> Replicator {
        Replicator {
            config,
            view: ClusterView::new(own, region),
            zones: BTreeMap::new(),
            backoffs: Backoffs::default(),
            flights: BTreeMap::new(),
            next_id: 1,
            cursor: None,
        }
    }

    /// A member's id, generation and region from gossip; see
    /// [`ClusterView::handle_member`]. A restarted member's backoffs and
    /// statements are forgotten.
    pub fn handle_member(&mut self, now: Timestamp, info: MemberInfo) -> MemberChange {
        let id = info.id.clone();
        let change = self.view.handle_member(info);
        if change == MemberChange::Restarted {
            self.forget_peer(&id);
        }
        if change != MemberChange::Ignored {
            self.track_all_lags(now);
        }
        change
    }

    /// The failure detector's verdict on a member.
    pub fn handle_liveness(&mut self, now: Timestamp, id: &NodeId, liveness: Liveness) -> bool {
        let changed = self.view.handle_liveness(id, liveness);
        if changed {
            self.track_all_lags(now);
        }
        changed
    }

    /// A round trip measured to a member.
    pub fn handle_rtt(&mut self, id: &NodeId, rtt: std::time::Duration) -> bool {
        self.view.handle_rtt(id, rtt)
    }

    /// A member's advert for `zone` (or its withdrawal, `None`); see
    /// [`ClusterView::handle_advert`].
    pub fn handle_advert(
        &mut self,
        now: Timestamp,
        id: &NodeId,
        generation: u64,
        zone: &Name,
        advert: Option<Advert>,
    ) -> bool {
        let taken = self.view.handle_advert(now, id, generation, zone, advert);
        if taken {
            self.track_lag(zone, now);
        }
        taken
    }

    /// Forgets a member that left the cluster.
    pub fn remove_member(&mut self, now: Timestamp, id: &NodeId) {
        self.view.remove_member(id);
        self.forget_peer(id);
        self.track_all_lags(now);
    }

    fn forget_peer(&mut self, id: &NodeId) {
        self.backoffs.forget_peer(id);
        for entry in self.zones.values_mut() {
            entry.peers.remove(id);
        }
    }

    /// The zone's local state after any change of its refresh machine
    /// (install, confirmation, SOA answer); adds the zone if new.
    pub fn handle_local(&mut self, now: Timestamp, zone: &Name, local: LocalZone) {
        let entry = self
            .zones
            .entry(zone.clone())
            .or_insert_with(ZoneEntry::new);
        entry.serving = local.serving;
        entry.verified = local
            .verified_age
            .map(|age| Confirmation { read_at: now, age });
        entry.primary_version = local.primary_version;
        entry.timers = local.timers;
        entry.primary_reachable = local.primary_reachable;
        entry.settle_wait(now);
        self.track_lag(zone, now);
    }

    /// Stops replicating a zone (removed from the node). Its actions in
    /// flight are dropped: their reports are refused.
    pub fn remove_zone(&mut self, zone: &Name) {
        self.zones.remove(zone);
        self.flights.retain(|_, flight| flight.zone != *zone);
        self.backoffs.forget_zone(zone);
    }

    /// How fetch `id` ended.
    pub fn handle_fetch_result(
        &mut self,
        now: Timestamp,
        id: ReplicaId,
        outcome: FetchOutcome,
    ) -> Result<(), ReplicaReportError> {
        let flight = self.land(id, true)?;
        if let Some(entry) = self.zones.get_mut(&flight.zone) {
            entry.fetch = None;
        }
        match outcome {
            FetchOutcome::Installed { version, age } => {
                self.backoffs.succeed(&flight.peer, &flight.zone);
                self.backoffs.succeed(self.view.own_id(), &flight.zone);
                let confirmed = Confirmation { read_at: now, age };
                self.note_peer(&flight, version, confirmed);
                if let Some(entry) = self.zones.get_mut(&flight.zone)
                    && entry.wants(version)
                {
                    entry.serving = Some(version);
                    entry.verified = Some(confirmed);
                }
            }
            FetchOutcome::Superseded => {}
            FetchOutcome::Failed(failure) => self.peer_failed(now, &flight, failure),
        }
        if let Some(entry) = self.zones.get_mut(&flight.zone) {
            entry.settle_wait(now);
        }
        self.track_lag(&flight.zone, now);
        Ok(())
    }

    /// How confirmation `id` ended. A failure lets another peer be asked
    /// at once (the failed one is backed off).
    pub fn handle_confirm_result(
        &mut self,
        now: Timestamp,
        id: ReplicaId,
        outcome: ConfirmOutcome,
    ) -> Result<(), ReplicaReportError> {
        let flight = self.land(id, false)?;
        if let Some(entry) = self.zones.get_mut(&flight.zone) {
            entry.confirm = None;
        }
        match outcome {
            ConfirmOutcome::Confirmed { version, age } => {
                self.backoffs.succeed(&flight.peer, &flight.zone);
                let confirmed = Confirmation { read_at: now, age };
                self.note_peer(&flight, version, confirmed);
                if let Some(entry) = self.zones.get_mut(&flight.zone) {
                    let fresher = entry.verified.is_none_or(|ours| age < ours.age_at(now));
                    if entry.serving == Some(version) && fresher {
                        entry.verified = Some(confirmed);
                    }
                }
            }
            ConfirmOutcome::Failed(failure) => {
                self.peer_failed(now, &flight, failure);
                if let Some(entry) = self.zones.get_mut(&flight.zone) {
                    entry.next_confirm = now;
                }
            }
        }
        self.track_lag(&flight.zone, now);
        Ok(())
    }

    fn land(&mut self, id: ReplicaId, fetch: bool) -> Result<Flight, ReplicaReportError> {
        let flight = self
            .flights
            .get(&id)
            .ok_or(ReplicaReportError::NotInFlight(id))?;
        let is_fetch = matches!(flight.kind, ReplicaActionKind::Fetch { .. });
        if is_fetch != fetch {
            return Err(ReplicaReportError::WrongKind(id));
        }
        self.flights
            .remove(&id)
            .ok_or(ReplicaReportError::NotInFlight(id))
    }

    fn note_peer(&mut self, flight: &Flight, version: ZoneVersion, confirmed: Confirmation) {
        let Some(member) = self.view.member(&flight.peer) else {
            return;
        };
        let generation = member.info.generation;
        if let Some(entry) = self.zones.get_mut(&flight.zone) {
            let evidence = PeerEvidence {
                generation,
                version,
                confirmed,
            };
            entry.peers.insert(flight.peer.clone(), evidence);
        }
    }

    fn peer_failed(&mut self, now: Timestamp, flight: &Flight, failure: PeerFailure) {
        let bounds = (self.config.backoff_min, self.config.backoff_max);
        let blamed = match failure {
            PeerFailure::Local => self.view.own_id().clone(),
            _ => flight.peer.clone(),
        };
        let severe = failure == PeerFailure::Corrupt;
        self.backoffs
            .fail(now, (blamed, flight.zone.clone()), bounds, severe);
    }

    /// Gives up on actions past their deadline (plus the driver's grace)
    /// as timed out, and ends held NOTIFYs whose wait is over.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let lost: Vec<ReplicaId> = self
            .flights
            .iter()
            .filter(|(_, flight)| now >= flight.deadline + DRIVER_GRACE)
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            let fetch = self
                .flights
                .get(&id)
                .is_some_and(|flight| matches!(flight.kind, ReplicaActionKind::Fetch { .. }));
            let failed = PeerFailure::Timeout;
            // The ids come from the map itself, so neither report is refused.
            let _ = match fetch {
                true => self.handle_fetch_result(now, id, FetchOutcome::Failed(failed)),
                false => self.handle_confirm_result(now, id, ConfirmOutcome::Failed(failed)),
            };
        }
        for entry in self.zones.values_mut() {
            entry.settle_wait(now);
        }
    }

    /// The next fetch or confirmation to carry out, if one is ready and a
    /// slot is free; runs [`Replicator::handle_timeout`] first. Call until
    /// `None` after every input.
    pub fn poll_action(&mut self, now: Timestamp) -> Option<ReplicaAction> {
        self.handle_timeout(now);
        let (fetches, confirms) = self.load();
        let fetch_room = fetches < self.config.max_fetches;
        let confirm_room = confirms < self.config.max_confirms;
        if !fetch_room && !confirm_room {
            return None;
        }
        let room = (fetch_room, confirm_room);
        let (zone, peer, kind) = self.scan_order().find_map(|(zone, entry)| {
            let (peer, kind) = self.plan_zone(zone, entry, now, room)?;
            Some((zone.clone(), peer, kind))
        })?;
        self.cursor = Some(zone.clone());
        Some(self.dispatch(now, zone, peer, kind))
    }

    /// Zones from just after the last one served, wrapping around, so a
    /// zone early in name order cannot starve later ones.
    fn scan_order(&self) -> impl Iterator<Item = (&Name, &ZoneEntry)> + '_ {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let (after, before) = match &self.cursor {
            Some(cursor) => (
                self.zones.range::<Name, _>((Excluded(cursor), Unbounded)),
                Some(self.zones.range::<Name, _>((Unbounded, Included(cursor)))),
            ),
            None => (self.zones.range::<Name, _>(..), None),
        };
        after.chain(before.into_iter().flatten())
    }

    fn dispatch(
        &mut self,
        now: Timestamp,
        zone: Name,
        peer: NodeId,
        kind: ReplicaActionKind,
    ) -> ReplicaAction {
        let id = ReplicaId(self.next_id);
        self.next_id += 1;
        let (timeout, fetch) = match kind {
            ReplicaActionKind::Fetch { .. } => (self.config.fetch_timeout, true),
            ReplicaActionKind::Confirm { .. } => (self.config.confirm_timeout, false),
        };
        let deadline = now + timeout;
        let gap = self.confirm_gap(&zone);
        if let Some(entry) = self.zones.get_mut(&zone) {
            match fetch {
                true => entry.fetch = Some(id),
                false => {
                    entry.confirm = Some(id);
                    entry.next_confirm = now + gap;
                }
            }
        }
        let flight = Flight {
            zone: zone.clone(),
            peer: peer.clone(),
            kind,
            deadline,
        };
        self.flights.insert(id, flight);
        ReplicaAction {
            id,
            zone,
            peer,
            kind,
            deadline,
        }
    }

    /// When [`Replicator::handle_timeout`] / [`Replicator::poll_action`]
    /// must next run: a deadline, the end of a wait or backoff, or a
    /// confirmation falling due. Only times after `now`.
    pub fn poll_timeout(&self, now: Timestamp) -> Option<Timestamp> {
        let lost = self
            .flights
            .values()
            .map(|flight| flight.deadline + DRIVER_GRACE);
        let waits = self
            .zones
            .values()
            .filter_map(|entry| entry.wait.as_ref().map(|wait| wait.until));
        let confirms = self.zones.values().filter_map(|entry| entry.confirm_due());
        lost.chain(waits)
            .chain(confirms)
            .chain(self.backoffs.next_end(now))
            .filter(|at| *at > now)
            .min()
    }

    /// Fetches and confirmations in flight.
    pub fn load(&self) -> (usize, usize) {
        let fetches = self
            .flights
            .values()
            .filter(|flight| matches!(flight.kind, ReplicaActionKind::Fetch { .. }))
            .count();
        (fetches, self.flights.len() - fetches)
    }

    /// The cluster as gossip describes it.
    pub fn view(&self) -> &ClusterView {
        &self.view
    }

    /// The settings.
    pub fn config(&self) -> &ReplicateConfig {
        &self.config
    }

    /// The actions in flight for `zone`, in id order.
    pub fn in_flight(&self, zone: &Name) -> Vec<ReplicaAction> {
        self.flights
            .iter()
            .filter(|(_, flight)| flight.zone == *zone)
            .map(|(id, flight)| ReplicaAction {
                id: *id,
                zone: flight.zone.clone(),
                peer: flight.peer.clone(),
                kind: flight.kind,
                deadline: flight.deadline,
            })
            .collect()
    }

    /// The backoff of `peer` for `zone` (this node's own id: local
    /// failures), if it failed since its last success.
    pub fn backoff(&self, peer: &NodeId, zone: &Name) -> Option<super::backoff::Backoff> {
        self.backoffs.entry(peer, zone).copied()
    }

    /// Whether `peer` is backed off for `zone` at `now`.
    pub fn is_backed_off(&self, peer: &NodeId, zone: &Name, now: Timestamp) -> bool {
        self.backoffs.is_waiting(peer, zone, now)
    }
}
