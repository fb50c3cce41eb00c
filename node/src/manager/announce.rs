//! Gossip in both directions: this node's zone adverts out, the members'
//! adverts in (to the replicator), and the cluster status everyone reads.
//!
//! Out: a zone's key is republished only when its version or the primary's
//! reachability changes, or a confirmation moved its verified-at time, so
//! an idle fleet gossips heartbeats and nothing else.
//!
//! In: a member's advert reaches the replicator only when its value
//! changed; the replicator notes the time it first saw the value, which is
//! what turns the published age into a point in time (DESIGN.md
//! decision 5: ages, never timestamps, between nodes).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use understudy_proto::replicate::{Advert, Liveness, LocalZone, MemberInfo, NodeId};
use understudy_proto::serial::ZoneVersion;
use understudy_proto::wire::gossip;
use understudy_proto::{Name, Timestamp};

use crate::cluster::gossip::Member;
use crate::cluster::status::{ClusterStatus, MemberStatus, MemberZone, ZoneFleet};

use super::Manager;
use super::replica::Known;

/// A confirmation that moved verified-at by less than this is not worth
/// a new advert: peers keep counting the age from the previous one.
const REANNOUNCE_AFTER: Duration = Duration::from_secs(1);

/// What this node last published of a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Announced {
    version: ZoneVersion,
    reachable: bool,
    /// Verified-at, as milliseconds on the manager's clock (`now - age`).
    verified_ms: Option<i128>,
}

impl Announced {
    fn of(local: &LocalZone, now: Timestamp) -> Option<Announced> {
        let now_ms = i128::from(now.as_millis());
        Some(Announced {
            version: local.serving?,
            reachable: local.primary_reachable,
            verified_ms: local
                .verified_age
                .map(|age| now_ms - i128::try_from(age.as_millis()).unwrap_or(i128::MAX)),
        })
    }

    /// Whether `self`, published before, must give way to `newer`.
    fn outdated_by(&self, newer: &Announced) -> bool {
        let moved = match (self.verified_ms, newer.verified_ms) {
            (Some(old), Some(new)) => new - old >= REANNOUNCE_AFTER.as_millis() as i128,
            (None, Some(_)) => true,
            _ => false,
        };
        self.version != newer.version || self.reachable != newer.reachable || moved
    }
}

impl Manager {
    /// Publishes the adverts of zones whose version, reachability or
    /// confirmation changed, and withdraws those of zones gone or empty.
    pub(super) async fn announce(&mut self) {
        let now = self.clock.now();
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let mut set = Vec::new();
        let mut withdraw = Vec::new();
        for (zone, machine) in self.scheduler.zones() {
            let local = LocalZone::of(machine, now);
            let Some(current) = Announced::of(&local, now) else {
                if cluster.announced.remove(zone).is_some() {
                    withdraw.push(gossip::zone_key(zone));
                }
                continue;
            };
            let stale = cluster
                .announced
                .get(zone)
                .is_none_or(|published| published.outdated_by(&current));
            if stale {
                let advert = Advert {
                    version: current.version,
                    confirmed_age: local.verified_age,
                    primary_reachable: current.reachable,
                };
                set.push((gossip::zone_key(zone), gossip::encode_zone(&advert)));
                cluster.announced.insert(zone.clone(), current);
            }
        }
        let gone: Vec<Name> = cluster
            .announced
            .keys()
            .filter(|zone| self.scheduler.zone(zone).is_none())
            .cloned()
            .collect();
        for zone in gone {
            cluster.announced.remove(&zone);
            cluster.replicator.remove_zone(&zone);
            withdraw.push(gossip::zone_key(&zone));
        }
        if !set.is_empty() {
            cluster.gossip.set_many(&set).await;
        }
        for key in withdraw {
            cluster.gossip.delete(&key).await;
        }
    }

    /// Reads every member from gossip into the replicator.
    pub(super) async fn read_gossip(&mut self) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let members = cluster.gossip.members().await;
        let own = cluster.replicator.view().own_id().clone();
        let now = self.clock.now();
        let mut newest: BTreeMap<NodeId, Member> = BTreeMap::new();
        for member in members {
            let id = NodeId::new(member.id.node_id.as_str());
            if id == own {
                continue;
            }
            let newer = newest
                .get(&id)
                .is_none_or(|seen| seen.id.generation < member.id.generation);
            if newer {
                newest.insert(id, member);
            }
        }
        let gone: Vec<NodeId> = cluster
            .members
            .keys()
            .filter(|id| !newest.contains_key(*id))
            .cloned()
            .collect();
        for id in gone {
            cluster.members.remove(&id);
            cluster.replicator.remove_member(now, &id);
        }
        for (id, member) in newest {
            let known = cluster.members.remove(&id);
            let known = take_member(&mut cluster.replicator, now, &id, &member, known);
            cluster.members.insert(id, known);
        }
        self.poll_replicator();
    }

    /// Publishes the cluster as this node sees it.
    pub(super) fn publish_cluster(&self) {
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        let now = self.clock.now();
        let view = cluster.replicator.view();
        let own = MemberStatus {
            id: self.config.node.id.clone(),
            region: self.config.node.region.clone(),
            generation: cluster.gossip.id().generation,
            alive: true,
            quic: cluster.endpoint.local_addr().ok(),
            dns: self.config.dns.listen.first().copied(),
            rtt: None,
            zones: self.own_zones(now),
        };
        let mut members = vec![own];
        for (id, known) in &cluster.members {
            members.push(MemberStatus {
                id: id.to_string(),
                region: known.region.clone(),
                generation: known.generation,
                alive: known.alive,
                quic: known.quic,
                dns: known.dns,
                rtt: view.member(id).and_then(|member| member.rtt),
                zones: member_zones(&known.adverts),
            });
        }
        let mut names: BTreeSet<&Name> = self.zones.keys().collect();
        names.extend(view.advertised_zones());
        let zones = names
            .into_iter()
            .map(|zone| {
                let newest = view
                    .live_adverts(zone)
                    .map(|(_, advert)| advert.version)
                    .fold(None, newest_of);
                let fleet = ZoneFleet {
                    newest,
                    evidence: cluster.replicator.evidence(zone, now),
                };
                (zone.clone(), fleet)
            })
            .collect();
        self.shared.cluster.publish(ClusterStatus {
            cluster: cluster.cluster_name.clone(),
            node: self.config.node.id.clone(),
            region: self.config.node.region.clone(),
            members,
            zones,
        });
    }

    fn own_zones(&self, now: Timestamp) -> Vec<MemberZone> {
        let mut zones: Vec<MemberZone> = self
            .scheduler
            .zones()
            .filter_map(|(zone, machine)| {
                Some(MemberZone {
                    zone: zone.clone(),
                    version: machine.serving()?,
                    confirmed_age: machine.verified_age(now),
                })
            })
            .collect();
        zones.sort_by(|a, b| a.zone.cmp(&b.zone));
        zones
    }
}

/// Feeds one member's gossip to the replicator: identity, liveness, then
/// the adverts whose value changed since `known`.
fn take_member(
    replicator: &mut understudy_proto::replicate::Replicator,
    now: Timestamp,
    id: &NodeId,
    member: &Member,
    known: Option<Known>,
) -> Known {
    let keys = gossip::decode(
        member
            .key_values
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );
    let generation = member.id.generation;
    let region = keys.node.region.clone().unwrap_or_default();
    let info = MemberInfo {
        id: id.clone(),
        generation,
        region: region.clone(),
    };
    replicator.handle_member(now, info);
    let liveness = match member.alive {
        true => Liveness::Alive,
        false => Liveness::Dead,
    };
    replicator.handle_liveness(now, id, liveness);
    let mut before = known
        .filter(|known| known.generation == generation)
        .map(|known| known.adverts)
        .unwrap_or_default();
    let adverts: BTreeMap<Name, Advert> = keys.zones.into_iter().collect();
    for (zone, advert) in &adverts {
        if before.remove(zone).as_ref() != Some(advert) {
            replicator.handle_advert(now, id, generation, zone, Some(*advert));
        }
    }
    for zone in before.keys() {
        replicator.handle_advert(now, id, generation, zone, None);
    }
    Known {
        generation,
        region,
        alive: member.alive,
        quic: keys.node.quic,
        dns: keys.node.dns,
        adverts,
    }
}

fn member_zones(adverts: &BTreeMap<Name, Advert>) -> Vec<MemberZone> {
    adverts
        .iter()
        .map(|(zone, advert)| MemberZone {
            zone: zone.clone(),
            version: advert.version,
            confirmed_age: advert.confirmed_age,
        })
        .collect()
}

fn newest_of(newest: Option<ZoneVersion>, version: ZoneVersion) -> Option<ZoneVersion> {
    match newest {
        Some(seen) if !version.is_newer_than(seen) => Some(seen),
        _ => Some(version),
    }
}
