//! NOTIFY fan-out: one node per region checks the primary, the others
//! fetch from it.
//!
//! ```text
//!   NOTIFY (answered, ACL and TSIG passed)
//!        |
//!        v
//!   rendezvous over {this node} + live region members holding the zone
//!   (those whose last primary check succeeded, if any did)
//!        |                                   |
//!        | this node is the heaviest         | another node is
//!        v                                   v
//!   Direct: handle_notify              Hold{fetcher, until}:
//!   (SOA check now)                    handle_notify_deferred(until);
//!                                      fetch only from own region until
//!                                      then; the refresh machine checks
//!                                      the primary at `until` unless a
//!                                      peer delivered
//! ```
//!
//! Every node of a region computes the same fetcher from the same members,
//! so one NOTIFY costs the primary about one transfer per region. Views
//! that differ for a moment (a member just died) cost at worst a second
//! fetcher, or the bounded wait.

use crate::name::Name;
use crate::serial::Serial;
use crate::time::Timestamp;

use super::member::NodeId;
use super::rendezvous;
use super::replicator::{NotifyWait, Replicator};

/// What to do with a NOTIFY.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NotifyPlan {
    /// Check the primary now: `handle_notify` on the refresh machine.
    Direct(DirectReason),
    /// Hold the check: `handle_notify_deferred(.., until)`; `fetcher` is
    /// the region's node that checks the primary.
    Hold {
        /// The region's fetcher for this zone.
        fetcher: NodeId,
        /// When the refresh machine falls back to the primary.
        until: Timestamp,
    },
}

/// Why a NOTIFY goes straight to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectReason {
    /// This node is the region's fetcher for the zone.
    Fetcher,
    /// No other live member of the region holds the zone.
    Alone,
    /// Nothing is loaded here (or the zone is unknown to the replicator):
    /// the zone is being loaded from the primary anyway.
    NotLoaded,
    /// The serial is not newer than ours: the refresh machine only notes it.
    NotNewer,
    /// Fan-out is off (`notify_wait` is zero).
    FanOutOff,
}

impl Replicator {
    /// A NOTIFY for `zone` carrying `serial`, after its ACL and TSIG
    /// checks: whether this node checks the primary now or holds the check
    /// for its region's fetcher. A hold restricts fetches for the zone to
    /// own-region members until it ends; a second hold keeps the first
    /// deadline.
    pub fn handle_notify(
        &mut self,
        now: Timestamp,
        zone: &Name,
        serial: Option<u32>,
    ) -> NotifyPlan {
        let serial = serial.map(Serial);
        let Some(ours) = self.zones.get(zone).and_then(|entry| entry.serving) else {
            return NotifyPlan::Direct(DirectReason::NotLoaded);
        };
        if serial.is_some_and(|serial| !serial.is_newer_than(ours.serial)) {
            return NotifyPlan::Direct(DirectReason::NotNewer);
        }
        if self.config.notify_wait.is_zero() {
            return NotifyPlan::Direct(DirectReason::FanOutOff);
        }
        let Some(fetcher) = self.region_fetcher(zone) else {
            return NotifyPlan::Direct(DirectReason::Alone);
        };
        if fetcher == *self.view.own_id() {
            return NotifyPlan::Direct(DirectReason::Fetcher);
        }
        let until = now + self.config.notify_wait;
        let Some(entry) = self.zones.get_mut(zone) else {
            return NotifyPlan::Direct(DirectReason::NotLoaded);
        };
        let wait = match entry.wait.take().filter(|wait| now < wait.until) {
            Some(earlier) => NotifyWait {
                serial: newest(earlier.serial, serial),
                fetcher: fetcher.clone(),
                ..earlier
            },
            None => NotifyWait {
                serial,
                until,
                fetcher: fetcher.clone(),
                baseline: Some(ours),
            },
        };
        let until = wait.until;
        entry.wait = Some(wait);
        NotifyPlan::Hold { fetcher, until }
    }

    /// The region's fetcher for `zone`: the heaviest of this node and the
    /// live own-region members advertising the zone, among those whose
    /// last check of the primaries succeeded (among all of them when none
    /// did); `None` when this node is alone.
    pub fn region_fetcher(&self, zone: &Name) -> Option<NodeId> {
        let own_region = self.view.own_region();
        let peers: Vec<(&NodeId, bool)> = self
            .view
            .live_adverts(zone)
            .filter(|(member, _)| member.info.region == own_region)
            .map(|(member, advert)| (&member.info.id, advert.primary_reachable))
            .collect();
        if peers.is_empty() {
            return None;
        }
        let reachable = self
            .zones
            .get(zone)
            .is_none_or(|entry| entry.primary_reachable);
        let candidates = peers.into_iter().chain([(self.view.own_id(), reachable)]);
        let all: Vec<(&NodeId, bool)> = candidates.collect();
        let able = all
            .iter()
            .filter(|(_, reachable)| *reachable)
            .map(|(id, _)| *id);
        let pick = match all.iter().any(|(_, reachable)| *reachable) {
            true => rendezvous::pick(zone, able),
            false => rendezvous::pick(zone, all.iter().map(|(id, _)| *id)),
        };
        pick.cloned()
    }

    /// The fetcher a held NOTIFY waits for, and until when.
    pub fn notify_wait(&self, zone: &Name) -> Option<(NodeId, Timestamp)> {
        let wait = self.zones.get(zone)?.wait.as_ref()?;
        Some((wait.fetcher.clone(), wait.until))
    }
}

fn newest(a: Option<Serial>, b: Option<Serial>) -> Option<Serial> {
    match (a, b) {
        (Some(a), Some(b)) if b.is_newer_than(a) => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}
