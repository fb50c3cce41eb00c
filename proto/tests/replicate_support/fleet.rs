//! A small discrete-event fleet: each node runs the real refresh machine,
//! replicator and health machine for one zone; the primary, QUIC and gossip
//! are modelled with fixed latencies. It is a driver of the sans-IO core,
//! as the node and the simulator are.

use std::collections::BTreeMap;

use understudy_proto::refresh::{
    ActionId, ActionKind, Failure, PersistedState, RefreshConfig, Restore, SoaTimers,
    TransferOutcome, XfrKind, ZoneRefresh,
};
use understudy_proto::replicate::ReplicaId;

use super::*;

/// One-way latencies of the modelled network.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// An SOA query to the primary, answer included.
    pub soa: Duration,
    /// A transfer from the primary.
    pub transfer: Duration,
    /// A snapshot fetch from a peer.
    pub fetch: Duration,
    /// A confirmation from a peer.
    pub confirm: Duration,
    /// An advert reaching every other member.
    pub gossip: Duration,
}

impl Default for Latency {
    fn default() -> Latency {
        Latency {
            soa: Duration::from_millis(10),
            transfer: Duration::from_millis(50),
            fetch: Duration::from_millis(30),
            confirm: Duration::from_millis(10),
            gossip: Duration::from_millis(150),
        }
    }
}

/// One member of the fleet.
pub struct SimNode {
    pub id: NodeId,
    pub region: String,
    pub refresh: ZoneRefresh,
    pub replicator: Replicator,
    pub health: Health,
    pub reaches_primary: bool,
    pub alive: bool,
    pub peer_installs: u32,
    pub confirms: u32,
    /// Withdrawals after the node had once been healthy.
    pub withdrawals: u32,
    /// Times the zone was not fresh at a health evaluation.
    pub unfresh_evaluations: u32,
    gossiped: Option<(Option<ZoneVersion>, Option<Timestamp>, bool)>,
    was_healthy: bool,
}

impl SimNode {
    /// Node `index` of `layout`, restored from disk with `serial`, knowing
    /// every other member.
    fn new(
        layout: &[(&str, &str)],
        index: usize,
        config: &ReplicateConfig,
        serial: u32,
    ) -> SimNode {
        let (own, region) = layout[index];
        let spread = REFRESH * index as u64 / (2 * layout.len() as u64);
        let restore = Restore {
            loaded: Some(soa(serial)),
            persisted: Some(PersistedState {
                serving: Some(soa(serial)),
                verified_at: Some(UNIX_START),
                next_refresh: Some(UNIX_START + REFRESH - spread),
                ..PersistedState::default()
            }),
            unix_now: UNIX_START,
        };
        let refresh_config = RefreshConfig {
            primaries: 1,
            jitter: 0.1,
            ..RefreshConfig::default()
        };
        let mut replicator = Replicator::new(config.clone(), id(own), region);
        for (other, other_region) in layout.iter().filter(|(other, _)| *other != own) {
            let info = MemberInfo {
                id: id(other),
                generation: 1,
                region: other_region.to_string(),
            };
            replicator.handle_member(ms(0), info);
            replicator.handle_rtt(&id(other), rtt_between(layout, region, other_region));
        }
        SimNode {
            id: id(own),
            region: region.to_string(),
            refresh: ZoneRefresh::restore(refresh_config, index as u64 + 1, ms(0), restore),
            replicator,
            health: Health::new(HealthConfig::default(), ms(0)),
            reaches_primary: true,
            alive: true,
            peer_installs: 0,
            confirms: 0,
            withdrawals: 0,
            unfresh_evaluations: 0,
            gossiped: None,
            was_healthy: false,
        }
    }
}

enum Work {
    Soa {
        node: usize,
        id: ActionId,
    },
    Transfer {
        node: usize,
        id: ActionId,
    },
    Fetch {
        node: usize,
        id: ReplicaId,
        from: usize,
    },
    Confirm {
        node: usize,
        id: ReplicaId,
        from: usize,
    },
    Gossip {
        to: usize,
        from: usize,
        advert: Advert,
        sent: Timestamp,
    },
    Notify {
        node: usize,
        serial: u32,
    },
}

/// The fleet, the primary and the pending work.
pub struct Fleet {
    pub nodes: Vec<SimNode>,
    pub zone: Name,
    pub now: Timestamp,
    pub primary_serial: u32,
    pub primary_up: bool,
    pub primary_transfers: u32,
    pub latency: Latency,
    pub health_every: Duration,
    pub notify_plans: Vec<(usize, NotifyPlan)>,
    next_health: Timestamp,
    queue: BTreeMap<(Timestamp, u64), Work>,
    seq: u64,
}

/// The SOA of `serial` with the test timers.
pub fn soa(serial: u32) -> SoaTimers {
    SoaTimers {
        serial,
        refresh: REFRESH as u32,
        retry: RETRY as u32,
        expire: EXPIRE as u32,
    }
}

const UNIX_START: u64 = 1_700_000_000;

impl Fleet {
    /// Nodes named and placed by `layout` (id, region), each serving
    /// `serial` confirmed at t=0, their next checks spread over the first
    /// refresh interval.
    pub fn new(layout: &[(&str, &str)], config: ReplicateConfig, serial: u32) -> Fleet {
        let nodes = (0..layout.len())
            .map(|index| SimNode::new(layout, index, &config, serial))
            .collect();
        let mut fleet = Fleet {
            nodes,
            zone: zone(),
            now: ms(0),
            primary_serial: serial,
            primary_up: true,
            primary_transfers: 0,
            latency: Latency::default(),
            health_every: Duration::from_secs(10),
            notify_plans: Vec::new(),
            next_health: ms(0),
            queue: BTreeMap::new(),
            seq: 0,
        };
        for node in 0..fleet.nodes.len() {
            fleet.drive(node);
        }
        fleet
    }

    /// The primary's zone changes to `serial` and it sends NOTIFY to
    /// `notified` now.
    pub fn change_and_notify(&mut self, serial: u32, notified: &[usize]) {
        self.primary_serial = serial;
        for &node in notified {
            self.schedule(Duration::ZERO, Work::Notify { node, serial });
        }
    }

    /// Stops a node; the others' failure detectors see it dead.
    pub fn kill(&mut self, node: usize) {
        self.nodes[node].alive = false;
        let dead = self.nodes[node].id.clone();
        let now = self.now;
        for other in self.nodes.iter_mut().filter(|other| other.alive) {
            other.replicator.handle_liveness(now, &dead, Liveness::Dead);
        }
    }

    /// The version node `node` serves.
    pub fn serving(&self, node: usize) -> Option<ZoneVersion> {
        self.nodes[node].refresh.serving()
    }

    /// Runs until `end`, or earlier once `done` holds.
    pub fn run_until(&mut self, end: Timestamp, done: impl Fn(&Fleet) -> bool) {
        for _ in 0..10_000_000 {
            if done(self) {
                return;
            }
            let Some(next) = self.next_wake().filter(|next| *next <= end) else {
                self.now = end;
                return;
            };
            self.now = next.max(self.now);
            self.step();
        }
        panic!("the fleet did not settle");
    }

    fn next_wake(&self) -> Option<Timestamp> {
        let queued = self.queue.keys().next().map(|(at, _)| *at);
        let timers = self
            .nodes
            .iter()
            .filter(|node| node.alive)
            .flat_map(|node| {
                [
                    node.refresh.poll_timeout(),
                    node.replicator.poll_timeout(self.now),
                ]
            });
        let earliest = [queued, Some(self.next_health)]
            .into_iter()
            .chain(timers)
            .flatten()
            .min()?;
        Some(earliest.max(self.now))
    }

    fn step(&mut self) {
        let now = self.now;
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let work = entry.remove();
            self.perform(work);
        }
        for node in 0..self.nodes.len() {
            if self.nodes[node].alive {
                self.nodes[node].refresh.handle_timeout(now);
                self.drive(node);
            }
        }
        if now >= self.next_health {
            self.evaluate_health();
            self.next_health = now + self.health_every;
        }
    }

    fn schedule(&mut self, after: Duration, work: Work) {
        self.seq += 1;
        self.queue.insert((self.now + after, self.seq), work);
    }

    fn index(&self, who: &NodeId) -> usize {
        self.nodes
            .iter()
            .position(|node| node.id == *who)
            .expect("a member of the fleet")
    }

    fn reachable(&self, node: usize) -> bool {
        self.primary_up && self.nodes[node].reaches_primary
    }

    fn perform(&mut self, work: Work) {
        let now = self.now;
        match work {
            Work::Soa { node, id } => {
                let result = match self.reachable(node) {
                    true => Ok(soa(self.primary_serial)),
                    false => Err(Failure::Network("unreachable".into())),
                };
                let _ = self.nodes[node]
                    .refresh
                    .handle_soa_response(now, id, result);
            }
            Work::Transfer { node, id } => self.transfer_done(node, id),
            Work::Fetch { node, id, from } => self.fetch_done(node, id, from),
            Work::Confirm { node, id, from } => self.confirm_done(node, id, from),
            Work::Gossip {
                to,
                from,
                advert,
                sent,
            } => self.deliver_gossip(to, from, advert, sent),
            Work::Notify { node, serial } => self.deliver_notify(node, serial),
        }
    }

    fn deliver_gossip(&mut self, to: usize, from: usize, mut advert: Advert, sent: Timestamp) {
        let now = self.now;
        if !self.nodes[to].alive {
            return;
        }
        advert.confirmed_age = advert.confirmed_age.map(|age| age + now.since(sent));
        let from = self.nodes[from].id.clone();
        let zone = self.zone.clone();
        let replicator = &mut self.nodes[to].replicator;
        replicator.handle_advert(now, &from, 1, &zone, Some(advert));
    }

    /// A NOTIFY as the node handles it: the replicator's plan, then the
    /// refresh machine's direct or held check.
    fn deliver_notify(&mut self, node: usize, serial: u32) {
        let now = self.now;
        if !self.nodes[node].alive {
            return;
        }
        let zone = self.zone.clone();
        let target = &mut self.nodes[node];
        let plan = target.replicator.handle_notify(now, &zone, Some(serial));
        match &plan {
            NotifyPlan::Direct(_) => {
                target.refresh.handle_notify(now, Some(serial), Some(0));
            }
            NotifyPlan::Hold { until, .. } => {
                target
                    .refresh
                    .handle_notify_deferred(now, Some(serial), Some(0), *until);
            }
        }
        self.notify_plans.push((node, plan));
    }

    fn transfer_done(&mut self, node: usize, id: ActionId) {
        let now = self.now;
        let outcome = match self.reachable(node) {
            true => {
                self.primary_transfers += 1;
                let serial = self.primary_serial;
                match self.nodes[node].refresh.install_version(id, serial) {
                    Some(_) => TransferOutcome::Installed {
                        soa: soa(serial),
                        kind: XfrKind::Ixfr,
                    },
                    None => TransferOutcome::Failed(Failure::Malformed("not newer".into())),
                }
            }
            false => TransferOutcome::Failed(Failure::Network("unreachable".into())),
        };
        let _ = self.nodes[node]
            .refresh
            .handle_transfer_response(now, id, outcome);
    }

    fn fetch_done(&mut self, node: usize, id: ReplicaId, from: usize) {
        let now = self.now;
        let offered = match self.nodes[from].alive {
            true => self.nodes[from].refresh.serving(),
            false => None,
        };
        let age = self.nodes[from]
            .refresh
            .verified_age(now)
            .unwrap_or_default();
        let peer_alive = self.nodes[from].alive;
        let target = &mut self.nodes[node];
        let outcome = match offered {
            None if !peer_alive => FetchOutcome::Failed(PeerFailure::Network),
            None => FetchOutcome::Failed(PeerFailure::Refused),
            Some(version) => {
                let soa = soa(version.serial.0);
                match target.refresh.handle_peer_install(now, version, soa, age) {
                    true => {
                        target.peer_installs += 1;
                        FetchOutcome::Installed { version, age }
                    }
                    false => FetchOutcome::Superseded,
                }
            }
        };
        let _ = target.replicator.handle_fetch_result(now, id, outcome);
    }

    fn confirm_done(&mut self, node: usize, id: ReplicaId, from: usize) {
        let now = self.now;
        let peer = &self.nodes[from];
        let stated = match peer.alive {
            true => peer.refresh.serving().zip(peer.refresh.verified_age(now)),
            false => None,
        };
        let target = &mut self.nodes[node];
        let outcome = match stated {
            Some((version, age)) => {
                target.confirms += 1;
                target.refresh.handle_confirmation(now, version, age);
                ConfirmOutcome::Confirmed { version, age }
            }
            None => ConfirmOutcome::Failed(PeerFailure::Network),
        };
        let _ = target.replicator.handle_confirm_result(now, id, outcome);
    }

    /// After any input to a node: hand out its actions, tell its
    /// replicator its state, gossip what changed.
    fn drive(&mut self, node: usize) {
        let now = self.now;
        let zone = self.zone.clone();
        while let Some(action) = self.nodes[node].refresh.poll_action(now) {
            let work = match action.kind {
                ActionKind::QuerySoa { .. } => (
                    self.latency.soa,
                    Work::Soa {
                        node,
                        id: action.id,
                    },
                ),
                ActionKind::Transfer { .. } => (
                    self.latency.transfer,
                    Work::Transfer {
                        node,
                        id: action.id,
                    },
                ),
            };
            self.schedule(work.0, work.1);
        }
        while self.nodes[node].refresh.poll_event().is_some() {}
        let local = LocalZone::of(&self.nodes[node].refresh, now);
        self.nodes[node].replicator.handle_local(now, &zone, local);
        while let Some(action) = self.nodes[node].replicator.poll_action(now) {
            let from = self.index(&action.peer);
            let work = match action.kind {
                ReplicaActionKind::Fetch { .. } => (
                    self.latency.fetch,
                    Work::Fetch {
                        node,
                        id: action.id,
                        from,
                    },
                ),
                ReplicaActionKind::Confirm { .. } => (
                    self.latency.confirm,
                    Work::Confirm {
                        node,
                        id: action.id,
                        from,
                    },
                ),
            };
            self.schedule(work.0, work.1);
        }
        self.gossip(node, local);
    }

    fn gossip(&mut self, node: usize, local: LocalZone) {
        let now = self.now;
        let status = self.nodes[node].refresh.status(now);
        let state = (status.serving, status.verified_at, local.primary_reachable);
        if self.nodes[node].gossiped == Some(state) {
            return;
        }
        self.nodes[node].gossiped = Some(state);
        let Some(version) = status.serving else {
            return;
        };
        let advert = Advert {
            version,
            confirmed_age: local.verified_age,
            primary_reachable: local.primary_reachable,
        };
        for to in (0..self.nodes.len()).filter(|to| *to != node) {
            let work = Work::Gossip {
                to,
                from: node,
                advert,
                sent: now,
            };
            self.schedule(self.latency.gossip, work);
        }
    }

    fn evaluate_health(&mut self) {
        let now = self.now;
        let zone = self.zone.clone();
        for node in self.nodes.iter_mut().filter(|node| node.alive) {
            let freshness = node.refresh.freshness(now);
            if freshness != Freshness::Fresh {
                node.unfresh_evaluations += 1;
            }
            let health = ZoneHealth {
                zone: zone.clone(),
                freshness,
                loaded: node.refresh.serving().is_some(),
                fleet: node.replicator.evidence(&zone, now),
            };
            let changed = node.health.evaluate(now, false, [health]);
            if changed && !node.health.is_healthy() && node.was_healthy {
                node.withdrawals += 1;
            }
            node.was_healthy |= node.health.is_healthy();
        }
    }
}

/// Round trips: 1 ms within a region, 20 ms plus 30 ms per step between
/// regions in the order they first appear in the layout.
fn rtt_between(layout: &[(&str, &str)], a: &str, b: &str) -> Duration {
    let place = |region: &str| {
        let mut seen: Vec<&str> = Vec::new();
        for (_, r) in layout {
            if !seen.contains(r) {
                seen.push(r);
            }
        }
        seen.iter().position(|r| *r == region).unwrap_or(0)
    };
    match a == b {
        true => Duration::from_millis(1),
        false => Duration::from_millis(20 + 30 * place(a).abs_diff(place(b)) as u64),
    }
}
