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
use understudy_proto::wire::gossip::{self, ZoneAdvert};
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
    /// The publication count sent with it.
    sequence: u32,
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
            sequence: 0,
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

    /// `self` as the publication following `previous`.
    fn after(self, previous: Option<&Announced>) -> Announced {
        let sequence = previous.map_or(0, |previous| previous.sequence.wrapping_add(1));
        Announced { sequence, ..self }
    }
}

impl Manager {
    /// Publishes the adverts of the zones synced since the last call whose
    /// version, reachability or confirmation changed, and withdraws those
    /// of zones gone or empty.
    pub(super) async fn announce(&mut self) {
        let now = self.clock.now();
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let mut set = Vec::new();
        let mut withdraw = Vec::new();
        let synced = std::mem::take(&mut cluster.synced);
        for zone in &synced {
            let Some(machine) = self.scheduler.zone(zone) else {
                continue;
            };
            let local = LocalZone::of(machine, now);
            let Some(current) = Announced::of(&local, now) else {
                if cluster.announced.remove(zone).is_some() {
                    withdraw.push(gossip::zone_key(zone));
                }
                continue;
            };
            let previous = cluster.announced.get(zone);
            if previous.is_none_or(|published| published.outdated_by(&current)) {
                let current = current.after(previous);
                let advert = ZoneAdvert {
                    advert: Advert {
                        version: current.version,
                        confirmed_age: local.verified_age,
                        primary_reachable: current.reachable,
                    },
                    sequence: current.sequence,
                };
                set.push((gossip::zone_key(zone), gossip::encode_zone(&advert)));
                cluster.announced.insert(zone.clone(), current);
            }
        }
        let gone: Vec<Name> = cluster
            .local_zones
            .iter()
            .filter(|zone| self.scheduler.zone(zone).is_none())
            .cloned()
            .collect();
        for zone in gone {
            cluster.local_zones.remove(&zone);
            cluster.replicator.remove_zone(&zone);
            if cluster.announced.remove(&zone).is_some() {
                withdraw.push(gossip::zone_key(&zone));
            }
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
    let adverts: BTreeMap<Name, ZoneAdvert> = keys.zones.into_iter().collect();
    for (zone, published) in &adverts {
        if before.remove(zone).as_ref() != Some(published) {
            replicator.handle_advert(now, id, generation, zone, Some(published.advert));
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

fn member_zones(adverts: &BTreeMap<Name, ZoneAdvert>) -> Vec<MemberZone> {
    adverts
        .iter()
        .map(|(zone, published)| MemberZone {
            zone: zone.clone(),
            version: published.advert.version,
            confirmed_age: published.advert.confirmed_age,
        })
        .collect()
}

fn newest_of(newest: Option<ZoneVersion>, version: ZoneVersion) -> Option<ZoneVersion> {
    match newest {
        Some(seen) if !version.is_newer_than(seen) => Some(seen),
        _ => Some(version),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use understudy_proto::replicate::{ReplicateConfig, Replicator};

    use super::*;
    use crate::cluster::gossip::MemberId;

    fn local(serial: u32, age: Option<u64>, reachable: bool) -> LocalZone {
        LocalZone {
            serving: Some(ZoneVersion::new(0, serial)),
            verified_age: age.map(Duration::from_millis),
            primary_version: None,
            timers: None,
            primary_reachable: reachable,
        }
    }

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    #[test]
    fn an_advert_is_republished_on_change_not_as_time_passes() {
        let published = Announced::of(&local(5, Some(0), true), at(10_000)).unwrap();
        // Ten seconds later, no confirmation: same verified-at, no advert.
        let later = Announced::of(&local(5, Some(10_000), true), at(20_000)).unwrap();
        assert!(!published.outdated_by(&later));
        // A confirmation half a second later is not worth one either.
        let soon = Announced::of(&local(5, Some(0), true), at(10_500)).unwrap();
        assert!(!published.outdated_by(&soon));
        let confirmed = Announced::of(&local(5, Some(0), true), at(20_000)).unwrap();
        assert!(published.outdated_by(&confirmed));
        let newer = Announced::of(&local(6, Some(10_000), true), at(20_000)).unwrap();
        assert!(published.outdated_by(&newer));
        let cut_off = Announced::of(&local(5, Some(10_000), false), at(20_000)).unwrap();
        assert!(published.outdated_by(&cut_off));
        assert!(
            Announced::of(
                &LocalZone {
                    serving: None,
                    ..local(1, None, true)
                },
                at(0)
            )
            .is_none()
        );
    }

    #[test]
    fn each_republication_counts_up_so_that_readers_see_a_new_value() {
        let first = Announced::of(&local(5, Some(0), true), at(0))
            .unwrap()
            .after(None);
        assert_eq!(first.sequence, 0);
        let second = Announced::of(&local(5, Some(0), true), at(2_000))
            .unwrap()
            .after(Some(&first));
        assert_eq!(second.sequence, 1);
        let wrapped = Announced {
            sequence: u32::MAX,
            ..second.clone()
        };
        assert_eq!(second.after(Some(&wrapped)).sequence, 0);
    }

    fn member(generation: u64, alive: bool, pairs: &[(&str, &str)]) -> Member {
        Member {
            id: MemberId {
                node_id: "b".into(),
                generation,
                gossip_address: "127.0.0.1:7946".parse().unwrap(),
            },
            alive,
            key_values: pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn gossip_reaches_the_replicator_as_members_and_adverts() {
        let mut replicator = Replicator::new(ReplicateConfig::default(), NodeId::new("a"), "eu");
        let id = NodeId::new("b");
        let zone: Name = "example.".parse().unwrap();
        let key = gossip::zone_key(&zone);
        let pairs = [
            ("region", "eu"),
            ("quic", "127.0.0.1:7947"),
            (key.as_str(), "0/7/1500/1/0"),
        ];
        let known = take_member(
            &mut replicator,
            at(1_000),
            &id,
            &member(1, true, &pairs),
            None,
        );
        assert_eq!(known.quic, Some("127.0.0.1:7947".parse().unwrap()));
        assert_eq!(known.region, "eu");
        let advert = replicator.view().advert(&zone, &id).copied().unwrap();
        assert_eq!(advert.version, ZoneVersion::new(0, 7));
        let read_at = advert.confirmed.unwrap().read_at;
        assert_eq!(read_at, at(1_000));

        // The same value read again keeps the time it was first seen.
        let known = take_member(
            &mut replicator,
            at(5_000),
            &id,
            &member(1, true, &pairs),
            Some(known),
        );
        let advert = replicator.view().advert(&zone, &id).copied().unwrap();
        assert_eq!(advert.confirmed.unwrap().read_at, read_at);

        // Dead, then withdrawn.
        let pairs = [("region", "eu"), ("quic", "127.0.0.1:7947")];
        let known = take_member(
            &mut replicator,
            at(6_000),
            &id,
            &member(1, false, &pairs),
            Some(known),
        );
        assert!(!replicator.view().is_alive(&id));
        assert!(replicator.view().advert(&zone, &id).is_none());
        assert!(known.adverts.is_empty());
    }

    #[test]
    fn a_restarted_member_is_read_afresh() {
        let mut replicator = Replicator::new(ReplicateConfig::default(), NodeId::new("a"), "eu");
        let id = NodeId::new("b");
        let zone: Name = "example.".parse().unwrap();
        let key = gossip::zone_key(&zone);
        let pairs = [("region", "eu"), (key.as_str(), "0/7/-/1/0")];
        let known = take_member(&mut replicator, at(0), &id, &member(1, true, &pairs), None);
        let known = take_member(
            &mut replicator,
            at(100),
            &id,
            &member(2, true, &pairs),
            Some(known),
        );
        assert_eq!(known.generation, 2);
        let advert = replicator.view().advert(&zone, &id).copied().unwrap();
        assert_eq!(advert.version, ZoneVersion::new(0, 7));
        assert_eq!(advert.confirmed, None);
    }
}
