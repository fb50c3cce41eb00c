//! Choosing, for one zone, whom to fetch from and whom to ask for a
//! confirmation (the rules are in the replicator's documentation).

use std::time::Duration;

use crate::name::Name;
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

use super::action::ReplicaActionKind;
use super::member::{HeldAdvert, Member, NodeId};
use super::replicator::{Replicator, ZoneEntry};
use super::view::Proximity;

impl ZoneEntry {
    /// When a confirmation falls due, never before `next_confirm`: for a
    /// loaded zone, once a full refresh interval passed without a primary's
    /// confirmation and our own check of the primaries failed; or, should
    /// that check not even end, half a refresh interval (at most a retry
    /// interval) later still.
    pub(super) fn confirm_due(&self) -> Option<Timestamp> {
        if self.serving.is_none() {
            return Some(self.next_confirm);
        }
        let timers = self.timers?;
        let verified = self.verified?;
        let grace = match self.primary_reachable {
            true => timers.retry.min(timers.refresh / 2),
            false => Duration::ZERO,
        };
        let due_age = timers.refresh + grace;
        let stale_at = verified.read_at + due_age.saturating_sub(verified.age);
        Some(stale_at.max(self.next_confirm))
    }

    /// How old our own confirmation is at `now`; unknown counts as ancient.
    fn verified_age(&self, now: Timestamp) -> Duration {
        self.verified
            .map_or(Duration::MAX, |verified| verified.age_at(now))
    }
}

impl Replicator {
    /// The action this zone needs now, if any and if its kind has room.
    pub(super) fn plan_zone(
        &self,
        zone: &Name,
        entry: &ZoneEntry,
        now: Timestamp,
        (fetch_room, confirm_room): (bool, bool),
    ) -> Option<(NodeId, ReplicaActionKind)> {
        if fetch_room && let Some((peer, want)) = self.plan_fetch(zone, entry, now) {
            let have = entry.serving;
            return Some((peer, ReplicaActionKind::Fetch { want, have }));
        }
        if confirm_room && let Some(peer) = self.plan_confirm(zone, entry, now) {
            let ours = entry.serving;
            return Some((peer, ReplicaActionKind::Confirm { ours }));
        }
        None
    }

    /// A live, not backed-off member holding a newer version: the newest
    /// version offered, from the nearest member offering it.
    pub(super) fn plan_fetch(
        &self,
        zone: &Name,
        entry: &ZoneEntry,
        now: Timestamp,
    ) -> Option<(NodeId, ZoneVersion)> {
        if entry.fetch.is_some() || self.backoffs.is_waiting(self.view.own_id(), zone, now) {
            return None;
        }
        let region_only = entry.wait.as_ref().is_some_and(|wait| now < wait.until);
        let own_region = self.view.own_region();
        let mut offers: Vec<(Proximity, ZoneVersion)> = self
            .usable_adverts(zone, now)
            .filter(|(member, _)| !region_only || member.info.region == own_region)
            .filter(|(_, advert)| entry.wants(advert.version))
            .map(|(member, advert)| (self.view.proximity(member), advert.version))
            .collect();
        offers.sort_by(|(a, _), (b, _)| a.cmp(b));
        let newest = newest(offers.iter().map(|(_, version)| *version))?;
        offers
            .into_iter()
            .find(|(_, version)| *version == newest)
            .map(|(proximity, version)| (proximity.id, version))
    }

    /// A live, not backed-off member whose advertised confirmation is
    /// fresher than ours, when ours is due for one.
    pub(super) fn plan_confirm(
        &self,
        zone: &Name,
        entry: &ZoneEntry,
        now: Timestamp,
    ) -> Option<NodeId> {
        if entry.confirm.is_some() || entry.confirm_due().is_none_or(|due| now < due) {
            return None;
        }
        let ours = entry.serving;
        if ours.is_none() && entry.fetch.is_some() {
            return None;
        }
        let our_age = entry.verified_age(now);
        self.usable_adverts(zone, now)
            .filter_map(|(member, advert)| {
                let age = advert.confirmed?.age_at(now);
                let useful = match ours {
                    Some(ours) => advert.version == ours || advert.version.is_newer_than(ours),
                    None => true,
                };
                (useful && age < our_age).then_some((member, advert.version, age))
            })
            .map(|(member, version, age)| {
                let other_version = ours.is_some_and(|ours| version != ours);
                (other_version, age, self.view.proximity(member))
            })
            .min()
            .map(|(_, _, proximity)| proximity.id)
    }

    /// The time between two confirmation requests for a zone.
    pub(super) fn confirm_gap(&self, zone: &Name) -> Duration {
        let floor = self.config.confirm_interval;
        let timers = self.zones.get(zone).and_then(|entry| entry.timers);
        match timers {
            Some(timers) => timers.retry.min(timers.refresh / 2).max(floor),
            None => floor,
        }
    }

    /// Adverts of live members not backed off for the zone, in id order.
    fn usable_adverts<'a>(
        &'a self,
        zone: &'a Name,
        now: Timestamp,
    ) -> impl Iterator<Item = (&'a Member, &'a HeldAdvert)> + 'a {
        self.view
            .live_adverts(zone)
            .filter(move |(member, _)| !self.backoffs.is_waiting(&member.info.id, zone, now))
    }
}

/// The newest of `versions`: the first that no other is newer than.
///
/// RFC 1982 order is not transitive — serials spread over more than half
/// the serial space can form a cycle — so when no such version exists
/// the first that beats every one before it is taken; the choice only
/// depends on the order given, which is deterministic.
pub(super) fn newest(versions: impl Iterator<Item = ZoneVersion> + Clone) -> Option<ZoneVersion> {
    let beaten = |version: ZoneVersion| versions.clone().any(|other| other.is_newer_than(version));
    versions
        .clone()
        .find(|version| !beaten(*version))
        .or_else(|| {
            versions.reduce(|best, version| match version.is_newer_than(best) {
                true => version,
                false => best,
            })
        })
}
