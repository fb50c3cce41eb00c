//! The cluster as gossip describes it: members, their liveness and round
//! trip, and the zone versions they advertise.
//!
//! Everything here is advisory (DESIGN.md decision 6): it decides where to
//! fetch from and whom to ask for a confirmation, never what is served.
//! A member's adverts belong to one generation of it: when the node
//! restarts (higher generation) they are dropped until it advertises again.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::name::Name;
use crate::time::Timestamp;

use super::member::{Advert, Confirmation, HeldAdvert, Liveness, Member, MemberInfo, NodeId};

/// What [`ClusterView::handle_member`] made of a member's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberChange {
    /// A member not known before.
    Joined,
    /// A known member with a higher generation: its old adverts are gone.
    Restarted,
    /// The same generation; its region was updated.
    Updated,
    /// An older generation than the one known, or this node itself: ignored.
    Ignored,
}

/// How near a member is, as a sort key: own region first, then regions by
/// their round trip, then the member's own round trip, then names, so every
/// node orders the same members the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Proximity {
    /// `false` for this node's region.
    pub other_region: bool,
    /// The nearest live member's round trip in its region (unknown: last).
    pub region_rtt: Duration,
    /// Its own round trip (unknown: last).
    pub rtt: Duration,
    /// Its region's name.
    pub region: String,
    /// Its id.
    pub id: NodeId,
}

/// The cluster as seen from one node; see the module documentation.
#[derive(Debug, Clone)]
pub struct ClusterView {
    own: NodeId,
    region: String,
    members: BTreeMap<NodeId, Member>,
    adverts: BTreeMap<Name, BTreeMap<NodeId, HeldAdvert>>,
    /// Per region, the nearest live member's round trip; kept up to date
    /// by every change of membership, liveness or round trip.
    region_rtts: BTreeMap<String, Duration>,
}

impl ClusterView {
    /// The view of node `own` in `region`, with no other member yet.
    pub fn new(own: NodeId, region: impl Into<String>) -> ClusterView {
        ClusterView {
            own,
            region: region.into(),
            members: BTreeMap::new(),
            adverts: BTreeMap::new(),
            region_rtts: BTreeMap::new(),
        }
    }

    /// A member's id, generation and region from gossip. A new member, or
    /// a known one with a higher generation, starts alive.
    pub fn handle_member(&mut self, info: MemberInfo) -> MemberChange {
        let change = self.take_member(info);
        if change != MemberChange::Ignored {
            self.measure_regions();
        }
        change
    }

    fn take_member(&mut self, info: MemberInfo) -> MemberChange {
        if info.id == self.own {
            return MemberChange::Ignored;
        }
        let Some(member) = self.members.get_mut(&info.id) else {
            self.members.insert(
                info.id.clone(),
                Member {
                    info,
                    liveness: Liveness::Alive,
                    rtt: None,
                },
            );
            return MemberChange::Joined;
        };
        match info.generation.cmp(&member.info.generation) {
            std::cmp::Ordering::Less => MemberChange::Ignored,
            std::cmp::Ordering::Equal => {
                member.info.region = info.region;
                MemberChange::Updated
            }
            std::cmp::Ordering::Greater => {
                let id = info.id.clone();
                member.info = info;
                member.liveness = Liveness::Alive;
                self.drop_adverts(&id);
                MemberChange::Restarted
            }
        }
    }

    /// The failure detector's verdict on a member; `true` if it changed.
    pub fn handle_liveness(&mut self, id: &NodeId, liveness: Liveness) -> bool {
        match self.members.get_mut(id) {
            Some(member) if member.liveness != liveness => {
                member.liveness = liveness;
                self.measure_regions();
                true
            }
            _ => false,
        }
    }

    /// A round trip measured to a member (e.g. the QUIC connection's).
    pub fn handle_rtt(&mut self, id: &NodeId, rtt: Duration) -> bool {
        match self.members.get_mut(id) {
            Some(member) => {
                member.rtt = Some(rtt);
                self.measure_regions();
                true
            }
            None => false,
        }
    }

    /// A member's advert for `zone` read from gossip at `now`, or `None`
    /// when it no longer advertises the zone. Taken only from the known
    /// generation of a known member; `true` when taken.
    pub fn handle_advert(
        &mut self,
        now: Timestamp,
        id: &NodeId,
        generation: u64,
        zone: &Name,
        advert: Option<Advert>,
    ) -> bool {
        let current = self
            .members
            .get(id)
            .is_some_and(|member| member.info.generation == generation);
        if !current {
            return false;
        }
        match advert {
            Some(advert) => {
                let held = HeldAdvert {
                    version: advert.version,
                    confirmed: advert
                        .confirmed_age
                        .map(|age| Confirmation { read_at: now, age }),
                    primary_reachable: advert.primary_reachable,
                };
                self.adverts
                    .entry(zone.clone())
                    .or_default()
                    .insert(id.clone(), held);
            }
            None => {
                if let Some(holders) = self.adverts.get_mut(zone) {
                    holders.remove(id);
                    if holders.is_empty() {
                        self.adverts.remove(zone);
                    }
                }
            }
        }
        true
    }

    /// Forgets a member that left the cluster.
    pub fn remove_member(&mut self, id: &NodeId) -> Option<Member> {
        self.drop_adverts(id);
        let removed = self.members.remove(id);
        self.measure_regions();
        removed
    }

    fn measure_regions(&mut self) {
        self.region_rtts.clear();
        for member in self.members.values().filter(|member| member.is_alive()) {
            let Some(rtt) = member.rtt else {
                continue;
            };
            self.region_rtts
                .entry(member.info.region.clone())
                .and_modify(|nearest| *nearest = (*nearest).min(rtt))
                .or_insert(rtt);
        }
    }

    fn drop_adverts(&mut self, id: &NodeId) {
        self.adverts.retain(|_, holders| {
            holders.remove(id);
            !holders.is_empty()
        });
    }

    /// This node's id.
    pub fn own_id(&self) -> &NodeId {
        &self.own
    }

    /// This node's region.
    pub fn own_region(&self) -> &str {
        &self.region
    }

    /// A member by id.
    pub fn member(&self, id: &NodeId) -> Option<&Member> {
        self.members.get(id)
    }

    /// Every member, in id order.
    pub fn members(&self) -> impl Iterator<Item = &Member> + '_ {
        self.members.values()
    }

    /// Whether the member is known and alive.
    pub fn is_alive(&self, id: &NodeId) -> bool {
        self.members.get(id).is_some_and(Member::is_alive)
    }

    /// A member's advert for `zone`.
    pub fn advert(&self, zone: &Name, id: &NodeId) -> Option<&HeldAdvert> {
        self.adverts.get(zone)?.get(id)
    }

    /// The adverts of live members for `zone`, in id order.
    pub fn live_adverts<'a>(
        &'a self,
        zone: &Name,
    ) -> impl Iterator<Item = (&'a Member, &'a HeldAdvert)> + 'a {
        self.adverts
            .get(zone)
            .into_iter()
            .flatten()
            .filter_map(|(id, advert)| {
                let member = self.members.get(id).filter(|member| member.is_alive())?;
                Some((member, advert))
            })
    }

    /// Every zone some member advertises, in name order.
    pub fn advertised_zones(&self) -> impl Iterator<Item = &Name> + '_ {
        self.adverts.keys()
    }

    /// The round trip to a region: that of its nearest live member with a
    /// measurement.
    pub fn region_rtt(&self, region: &str) -> Option<Duration> {
        self.region_rtts.get(region).copied()
    }

    /// The sort key placing nearer members first.
    pub fn proximity(&self, member: &Member) -> Proximity {
        let region = &member.info.region;
        Proximity {
            other_region: *region != self.region,
            region_rtt: self.region_rtt(region).unwrap_or(Duration::MAX),
            rtt: member.rtt.unwrap_or(Duration::MAX),
            region: region.clone(),
            id: member.info.id.clone(),
        }
    }
}
