//! Driving one node's replicator and health machine: gossip into the
//! cluster view, fetches and confirmations over the virtual network (the
//! calling order of `proto::replicate`), health evaluations.

use std::time::Duration;

use understudy_proto::health::ZoneHealth;
use understudy_proto::replicate::{
    ConfirmOutcome, FetchOutcome, Liveness, MemberInfo, PeerFailure, ReplicaAction,
    ReplicaActionKind,
};

use super::event::Event;
use super::gossip::Learned;
use super::network::Endpoint;
use super::node::Snapshot;
use super::world::{Mutant, World};

/// How long a peer takes to send a snapshot, beyond the round trip.
const PEER_SEND: Duration = Duration::from_millis(20);

impl World<'_> {
    pub(super) fn gossip_round(&mut self, node: usize, inc: u32) {
        if !self.alive_incarnation(node, inc) {
            return;
        }
        let mut learned = Vec::new();
        let peers = self
            .gossip
            .round(node, self.now, &mut self.rng, &mut learned);
        self.learn(node, learned);
        for peer in peers {
            self.stats.gossip_exchanges += 1;
            let path = self
                .net
                .send(&mut self.rng, Endpoint::Node(node), Endpoint::Node(peer));
            if let Some(delay) = path {
                let event = Event::Syn {
                    from: node,
                    from_inc: inc,
                    to: peer,
                };
                self.queue.push(self.now + delay, event);
            }
        }
        let next = self.now + self.gossip.interval;
        self.queue.push(next, Event::GossipRound { node, inc });
    }

    pub(super) fn gossip_syn(&mut self, from: usize, from_inc: u32, to: usize) {
        if !self.alive_incarnation(from, from_inc) || !self.nodes[to].is_up() {
            return;
        }
        let mut learned = Vec::new();
        self.gossip.merge(from, to, self.now, &mut learned);
        self.learn(to, learned);
        // The SYN-ACK: merged at once rather than one trip later, which
        // halves the gossip events for tens of milliseconds of a second's
        // round.
        let back = self
            .net
            .send(&mut self.rng, Endpoint::Node(to), Endpoint::Node(from));
        if back.is_some() {
            let mut learned = Vec::new();
            self.gossip.merge(to, from, self.now, &mut learned);
            self.learn(from, learned);
        }
    }

    /// Hands what gossip taught `node` to its replicator (calling order
    /// step 2), then drains it.
    pub(super) fn learn(&mut self, node: usize, learned: Vec<(usize, Learned)>) {
        if learned.is_empty() {
            return;
        }
        let now = self.now;
        let mut offers = Vec::new();
        for (member, what) in learned {
            let id = self.nodes[member].id.clone();
            let region = self.scenario.regions[self.nodes[member].region]
                .name
                .clone();
            let rtt = self.net.rtt(Endpoint::Node(node), Endpoint::Node(member));
            let alive = match self.coarse.is_some() {
                true => self.coarse_alive(node, member),
                false => self.gossip.holds_alive(node, member),
            };
            let names = &self.names;
            let Some(memory) = self.nodes[node].memory.as_mut() else {
                return;
            };
            let replicator = &mut memory.replicator;
            match what {
                Learned::Member { generation } => {
                    replicator.handle_member(
                        now,
                        MemberInfo {
                            id: id.clone(),
                            generation,
                            region,
                        },
                    );
                    replicator.handle_rtt(&id, rtt);
                    let liveness = if alive {
                        Liveness::Alive
                    } else {
                        Liveness::Dead
                    };
                    replicator.handle_liveness(now, &id, liveness);
                }
                Learned::Adverts(generation, adverts) => {
                    for (zone, advert) in adverts {
                        offers.push((member, zone));
                        let name = &names[zone as usize];
                        replicator.handle_advert(now, &id, generation, name, advert);
                    }
                }
                Learned::Alive(alive) => {
                    let liveness = if alive {
                        Liveness::Alive
                    } else {
                        Liveness::Dead
                    };
                    replicator.handle_liveness(now, &id, liveness);
                }
                Learned::Forgotten => replicator.remove_member(now, &id),
            }
            memory.replica_input = true;
        }
        if self.mutant == Some(Mutant::AcceptAnyPeerVersion) {
            self.accept_any(node, offers);
        }
        // Everything heard at this instant is drained once: the
        // replicator's poll scans every zone.
        let inc = self.nodes[node].incarnation;
        if let Some(memory) = self.nodes[node].memory.as_mut()
            && !std::mem::replace(&mut memory.poke_queued, true)
        {
            self.queue.push(self.now, Event::Wake { node, inc });
        }
    }

    /// The broken rule of [`Mutant::AcceptAnyPeerVersion`]: each advertised
    /// version unlike ours is taken from the peer at once.
    fn accept_any(&mut self, node: usize, offers: Vec<(usize, u32)>) {
        for (member, zone) in offers {
            let theirs = self.nodes[member]
                .memory
                .as_ref()
                .and_then(|m| m.serving[zone as usize]);
            let ours = self.nodes[node]
                .memory
                .as_ref()
                .and_then(|m| m.serving[zone as usize]);
            if let Some(snapshot) = theirs
                && ours.is_some_and(|ours| ours.version != snapshot.version)
            {
                self.install(node, zone, snapshot);
            }
        }
    }

    /// Drains the replicator's actions and sends them (step 5).
    pub(super) fn drain_replicator(&mut self, node: usize) {
        let now = self.now;
        let inc = self.nodes[node].incarnation;
        let mut actions = Vec::new();
        if let Some(memory) = self.nodes[node].memory.as_mut() {
            while let Some(action) = memory.replicator.poll_action(now) {
                actions.push(action);
            }
        }
        for action in actions {
            let Some(&peer) = self.node_of.get(&action.peer) else {
                continue;
            };
            let Some(&zone) = self.zone_of.get(&action.zone) else {
                continue;
            };
            self.queue.push(
                action.deadline,
                Event::ReplicaDeadline {
                    node,
                    inc,
                    action: action.clone(),
                },
            );
            if let Some(delay) =
                self.net
                    .send(&mut self.rng, Endpoint::Node(node), Endpoint::Node(peer))
            {
                let event = Event::AtPeer {
                    node,
                    inc,
                    peer,
                    zone,
                    action,
                };
                self.queue.push(now + delay, event);
            }
        }
    }

    /// A fetch or confirmation reaches the peer, which answers with what
    /// it serves.
    pub(super) fn at_peer(&mut self, event: Event) {
        let Event::AtPeer {
            node,
            inc,
            peer,
            zone,
            action,
        } = event
        else {
            return;
        };
        let now = self.now;
        let held = self.nodes[peer].memory.as_ref().and_then(|m| {
            let snapshot = m.serving[zone as usize]?;
            let machine = m.scheduler.zone(&self.names[zone as usize])?;
            Some((snapshot, machine.verified_age(now).unwrap_or(Duration::MAX)))
        });
        let Some(delay) = self
            .net
            .send(&mut self.rng, Endpoint::Node(peer), Endpoint::Node(node))
        else {
            return;
        };
        let event = match held {
            None => Event::PeerRefused { node, inc, action },
            Some((mut snapshot, age)) => {
                if self.mutant == Some(Mutant::SkipDigestCheck) {
                    snapshot.digest ^= 1;
                }
                let transit = delay + PEER_SEND;
                Event::PeerAnswer {
                    node,
                    inc,
                    zone,
                    action,
                    snapshot,
                    age: age.saturating_add(transit),
                }
            }
        };
        self.queue.push(now + delay + PEER_SEND, event);
    }

    pub(super) fn peer_input(&mut self, node: usize, event: Event) {
        if let Some(memory) = self.nodes[node].memory.as_mut() {
            memory.replica_input = true;
        }
        match event {
            Event::PeerAnswer {
                zone,
                action,
                snapshot,
                age,
                ..
            } => match action.kind {
                ReplicaActionKind::Fetch { .. } => self.fetched(node, zone, &action, snapshot, age),
                ReplicaActionKind::Confirm { ours } => {
                    self.confirmed(node, zone, &action, ours, snapshot, age);
                }
            },
            Event::PeerRefused { action, .. } => {
                self.peer_failed(node, &action, PeerFailure::Refused)
            }
            Event::ReplicaDeadline { action, .. } => {
                self.peer_failed(node, &action, PeerFailure::Timeout)
            }
            _ => {}
        }
    }

    fn peer_failed(&mut self, node: usize, action: &ReplicaAction, failure: PeerFailure) {
        let now = self.now;
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let _ = match action.kind {
            ReplicaActionKind::Fetch { .. } => {
                memory
                    .replicator
                    .handle_fetch_result(now, action.id, FetchOutcome::Failed(failure))
            }
            ReplicaActionKind::Confirm { .. } => memory.replicator.handle_confirm_result(
                now,
                action.id,
                ConfirmOutcome::Failed(failure),
            ),
        };
    }

    /// A peer's snapshot arrived: verify it, offer it to the refresh
    /// machine, install it only if taken (step 6).
    fn fetched(
        &mut self,
        node: usize,
        zone: u32,
        action: &ReplicaAction,
        snapshot: Snapshot,
        age: Duration,
    ) {
        let now = self.now;
        let verified = self.mutant == Some(Mutant::SkipDigestCheck)
            || self
                .primary
                .produced(zone, snapshot.version.serial.0, snapshot.digest);
        if !verified {
            self.peer_failed(node, action, PeerFailure::Corrupt);
            return;
        }
        let name = self.names[zone as usize].clone();
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let taken =
            memory
                .scheduler
                .handle_peer_install(now, &name, snapshot.version, snapshot.soa, age);
        let forced = self.mutant == Some(Mutant::AcceptAnyPeerVersion);
        let outcome = if taken || forced {
            self.install(node, zone, snapshot);
            self.stats.peer_installs += 1;
            FetchOutcome::Installed {
                version: snapshot.version,
                age,
            }
        } else {
            FetchOutcome::Superseded
        };
        if let Some(memory) = self.nodes[node].memory.as_mut() {
            let _ = memory
                .replicator
                .handle_fetch_result(now, action.id, outcome);
        }
    }

    fn confirmed(
        &mut self,
        node: usize,
        zone: u32,
        action: &ReplicaAction,
        ours: Option<understudy_proto::ZoneVersion>,
        snapshot: Snapshot,
        age: Duration,
    ) {
        let now = self.now;
        let name = self.names[zone as usize].clone();
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let mine = memory.serving[zone as usize];
        let outcome = match (ours, mine) {
            (Some(v), Some(m)) if v == snapshot.version && m.digest != snapshot.digest => {
                ConfirmOutcome::Failed(PeerFailure::Corrupt)
            }
            (Some(v), _) if v == snapshot.version => {
                memory.scheduler.handle_confirmation(now, &name, v, age);
                ConfirmOutcome::Confirmed {
                    version: snapshot.version,
                    age,
                }
            }
            _ => ConfirmOutcome::Confirmed {
                version: snapshot.version,
                age,
            },
        };
        let _ = memory
            .replicator
            .handle_confirm_result(now, action.id, outcome);
    }

    /// One health evaluation (calling order step 2 of `proto::health`).
    pub(super) fn evaluate_health(&mut self, node: usize, inc: u32) {
        let now = self.now;
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let zones: Vec<ZoneHealth> = memory
            .scheduler
            .zones()
            .map(|(name, machine)| ZoneHealth {
                zone: name.clone(),
                freshness: machine.freshness(now),
                loaded: machine.serving().is_some(),
                fleet: memory.replicator.evidence(name, now),
            })
            .collect();
        memory.health.evaluate(now, false, zones);
        let period = super::bounds::health_period(self.scenario);
        self.queue
            .push(now + period, Event::HealthTick { node, inc });
    }
}
