//! Driving one node's refresh machines: the calling order of
//! `proto::refresh` (see its module documentation), with the primary
//! reached over the virtual network.

use std::fmt::Write as _;
use std::time::Duration;

use understudy_proto::Serial;
use understudy_proto::refresh::{
    Action, ActionKind, Dispatch, EventKind, Failure, SoaTimers, TransferKind, TransferOutcome,
    XfrKind,
};
use understudy_proto::replicate::{LocalZone, NotifyPlan};
use understudy_proto::time::Timestamp;

use super::check::Rule;
use super::event::{Event, Request};
use super::network::Endpoint;
use super::node::{Life, Snapshot, UNIX_ORIGIN};
use super::world::World;

impl World<'_> {
    /// Starts (or restarts) a node from its disk.
    pub(super) fn start_node(&mut self, node: usize, at: Timestamp) {
        let seed = self.seed() ^ (node as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let names = self.names.clone();
        let n = &mut self.nodes[node];
        n.start(self.scenario, &names, seed ^ n.generation, at);
        let (inc, generation) = (n.incarnation, n.generation);
        for zone in 0..self.names.len() as u32 {
            if let Some(snapshot) = self.nodes[node]
                .memory
                .as_ref()
                .and_then(|m| m.serving[zone as usize])
            {
                let name = self.nodes[node].id.to_string();
                self.check.serve(node, &name, zone, snapshot.version);
                self.check_provenance(node, zone, snapshot);
            }
        }
        if self.coarse.is_some() {
            self.coarse_start(node, generation);
        } else {
            self.gossip.start(node, generation, at);
            let offset = self.rng.below(self.gossip.interval.as_millis() as u64);
            let round = at + Duration::from_millis(offset);
            self.queue.push(round, Event::GossipRound { node, inc });
        }
        self.queue
            .push(at + Duration::from_secs(1), Event::HealthTick { node, inc });
        self.queue.push(at, Event::Wake { node, inc });
    }

    pub(super) fn crash_node(&mut self, node: usize) {
        if self.nodes[node].life == Life::Down {
            return;
        }
        self.nodes[node].crash();
        self.check_node_regions(node);
        self.coarse_recheck(Some(node));
    }

    pub(super) fn freeze_node(&mut self, node: usize) {
        if self.nodes[node].life == Life::Up {
            self.nodes[node].life = Life::Frozen;
            self.check_node_regions(node);
            self.coarse_recheck(Some(node));
        }
    }

    pub(super) fn thaw_node(&mut self, node: usize) {
        if self.nodes[node].life == Life::Frozen {
            self.nodes[node].life = Life::Up;
            let inc = self.nodes[node].incarnation;
            self.queue.push(self.now, Event::Wake { node, inc });
            match self.coarse.is_some() {
                true => self.coarse_recheck(Some(node)),
                false => self.queue.push(self.now, Event::GossipRound { node, inc }),
            }
            self.queue.push(self.now, Event::HealthTick { node, inc });
        }
    }

    fn check_node_regions(&mut self, node: usize) {
        let region = self.nodes[node].region;
        for zone in 0..self.names.len() as u32 {
            self.check_region(region, zone);
        }
    }

    /// Whether the node answers queries for the zone now.
    pub(super) fn answers(&self, node: usize, zone: u32) -> bool {
        let Some(memory) = self.nodes[node].memory.as_ref() else {
            return false;
        };
        memory.serving[zone as usize].is_some()
            && memory
                .scheduler
                .zone(&self.names[zone as usize])
                .is_some_and(|m| {
                    m.freshness(self.now) != understudy_proto::answer::Freshness::Expired
                })
    }

    /// Node events: drop those of a former life or of a stopped node.
    pub(super) fn node_event(&mut self, event: Event) {
        let (node, inc) = match &event {
            Event::Wake { node, inc }
            | Event::HealthTick { node, inc }
            | Event::Notify { node, inc, .. }
            | Event::SoaAnswer { node, inc, .. }
            | Event::TransferAnswer { node, inc, .. }
            | Event::UpToDate { node, inc, .. }
            | Event::RefreshDeadline { node, inc, .. }
            | Event::PeerAnswer { node, inc, .. }
            | Event::PeerRefused { node, inc, .. }
            | Event::ReplicaDeadline { node, inc, .. } => (*node, *inc),
            Event::AtPrimary {
                node,
                inc,
                zone,
                id,
                request,
            } => {
                self.at_primary(*node, *inc, *zone, *id, *request);
                return;
            }
            Event::AtPeer { peer, .. } => {
                let peer = *peer;
                if self.nodes[peer].is_up() {
                    self.at_peer(event);
                }
                return;
            }
            _ => return,
        };
        if !self.alive_incarnation(node, inc) {
            return;
        }
        self.node_input(node, event);
        self.poke(node);
    }

    fn node_input(&mut self, node: usize, event: Event) {
        let now = self.now;
        match event {
            Event::Wake { .. } => {
                if let Some(m) = self.nodes[node].memory.as_mut() {
                    // Only the armed timer's own wake-up disarms it; a
                    // wake-up queued for gossip news leaves it armed.
                    if m.timer.is_some_and(|at| at <= now) {
                        m.timer = None;
                    }
                    m.poke_queued = false;
                    m.replica_input |= m.replica_timer.is_some_and(|at| at <= now);
                }
            }
            Event::HealthTick { inc, .. } => self.evaluate_health(node, inc),
            Event::Notify { zone, serial, .. } => self.notify(node, zone, serial),
            Event::SoaAnswer { zone, id, soa, .. } => {
                self.refresh_report(node, zone, |s, name| {
                    s.handle_soa_response(now, name, id, Ok(soa))
                });
            }
            Event::UpToDate { zone, id, soa, .. } => {
                let outcome = TransferOutcome::UpToDate { soa };
                self.refresh_report(node, zone, |s, name| {
                    s.handle_transfer_response(now, name, id, outcome)
                });
            }
            Event::TransferAnswer {
                zone,
                id,
                soa,
                digest,
                kind,
                ..
            } => {
                self.transfer_answer(node, zone, id, soa, digest, kind);
            }
            Event::RefreshDeadline { zone, id, .. } => self.refresh_deadline(node, zone, id),
            other => self.peer_input(node, other),
        }
    }

    fn refresh_report<R>(
        &mut self,
        node: usize,
        zone: u32,
        report: impl FnOnce(
            &mut understudy_proto::refresh::RefreshScheduler,
            &understudy_proto::Name,
        ) -> R,
    ) {
        let name = self.names[zone as usize].clone();
        if let Some(memory) = self.nodes[node].memory.as_mut() {
            report(&mut memory.scheduler, &name);
        }
    }

    fn refresh_deadline(
        &mut self,
        node: usize,
        zone: u32,
        id: understudy_proto::refresh::ActionId,
    ) {
        let now = self.now;
        let name = self.names[zone as usize].clone();
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let Some(action) = memory.scheduler.zone(&name).and_then(|m| m.in_flight()) else {
            return;
        };
        if action.id != id {
            return;
        }
        match action.kind {
            ActionKind::QuerySoa { .. } => {
                let _ = memory
                    .scheduler
                    .handle_soa_response(now, &name, id, Err(Failure::Timeout));
            }
            ActionKind::Transfer { .. } => {
                let outcome = TransferOutcome::Failed(Failure::Timeout);
                let _ = memory
                    .scheduler
                    .handle_transfer_response(now, &name, id, outcome);
            }
        }
    }

    fn notify(&mut self, node: usize, zone: u32, serial: u32) {
        let now = self.now;
        let name = self.names[zone as usize].clone();
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        match memory.replicator.handle_notify(now, &name, Some(serial)) {
            NotifyPlan::Direct(_) => {
                memory
                    .scheduler
                    .handle_notify(now, &name, Some(serial), Some(0));
            }
            NotifyPlan::Hold { until, .. } => {
                memory
                    .scheduler
                    .handle_notify_deferred(now, &name, Some(serial), Some(0), until);
            }
        }
    }

    fn transfer_answer(
        &mut self,
        node: usize,
        zone: u32,
        id: understudy_proto::refresh::ActionId,
        soa: SoaTimers,
        digest: u64,
        kind: XfrKind,
    ) {
        let now = self.now;
        let name = self.names[zone as usize].clone();
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let Some(version) = memory.scheduler.install_version(&name, id, soa.serial) else {
            let outcome = TransferOutcome::UpToDate { soa };
            let _ = memory
                .scheduler
                .handle_transfer_response(now, &name, id, outcome);
            return;
        };
        let snapshot = Snapshot {
            version,
            soa,
            digest,
        };
        self.install(node, zone, snapshot);
        self.stats.primary_installs += 1;
        if let Some(memory) = self.nodes[node].memory.as_mut() {
            let outcome = TransferOutcome::Installed { soa, kind };
            let _ = memory
                .scheduler
                .handle_transfer_response(now, &name, id, outcome);
        }
    }

    /// Swaps a snapshot in and stores it, checking the invariants.
    pub(super) fn install(&mut self, node: usize, zone: u32, snapshot: Snapshot) {
        let n = &mut self.nodes[node];
        if let Some(memory) = n.memory.as_mut() {
            memory.serving[zone as usize] = Some(snapshot);
        }
        n.disk[zone as usize].snapshot = Some(snapshot);
        let name = n.id.to_string();
        self.check.serve(node, &name, zone, snapshot.version);
        self.check_provenance(node, zone, snapshot);
    }

    fn check_provenance(&mut self, node: usize, zone: u32, snapshot: Snapshot) {
        let serial = snapshot.version.serial.0;
        if !self.primary.produced(zone, serial, snapshot.digest) {
            let detail = format!(
                "{} zone {zone} serial {serial} digest {:016x}",
                self.nodes[node].id, snapshot.digest
            );
            self.check.fail(Rule::Unproduced, detail);
        }
    }

    /// After every input: drain the machines' actions and events, re-arm
    /// the timer, store changed state (steps 3 of both calling orders).
    pub(super) fn poke(&mut self, node: usize) {
        let now = self.now;
        let mut dispatches = Vec::new();
        let mut touched = Vec::new();
        let mut states = Vec::new();
        {
            let Some(memory) = self.nodes[node].memory.as_mut() else {
                return;
            };
            memory.scheduler.handle_timeout(now);
            while let Some(dispatch) = memory.scheduler.poll_action(now) {
                dispatches.push(dispatch);
            }
            while let Some((zone, event)) = memory.scheduler.poll_event() {
                if let EventKind::StateChanged { to, .. } = event.kind {
                    states.push((zone.clone(), to));
                }
                touched.push(zone);
            }
        }
        touched.dedup();
        for (zone, state) in states {
            // Zone states go into the trace: two runs that served
            // differently (say, expired under rfc or stale) must differ.
            let _ = self.trace.record(|line| {
                let _ = write!(line, "  state {node} {zone} {}", state.as_str());
            });
        }
        for dispatch in dispatches {
            self.dispatch_refresh(node, dispatch);
        }
        for name in touched {
            self.zone_changed(node, &name);
        }
        let replica_input = self.nodes[node]
            .memory
            .as_mut()
            .is_some_and(|m| std::mem::take(&mut m.replica_input));
        if replica_input {
            self.drain_replicator(node);
        }
        self.arm(node);
    }

    /// A zone's refresh machine changed: tell the replicator, store the
    /// state, advertise, and check that the region still answers.
    fn zone_changed(&mut self, node: usize, name: &understudy_proto::Name) {
        let now = self.now;
        let Some(&zone) = self.zone_of.get(name) else {
            return;
        };
        let unix_now = UNIX_ORIGIN + now.as_millis() / 1_000;
        let n = &mut self.nodes[node];
        let Some(memory) = n.memory.as_mut() else {
            return;
        };
        let Some(machine) = memory.scheduler.zone(name) else {
            return;
        };
        let local = LocalZone::of(machine, now);
        n.disk[zone as usize].persisted = Some(machine.persisted(now, unix_now));
        memory.replicator.handle_local(now, name, local);
        memory.replica_input = true;
        let advert = local
            .serving
            .map(|version| understudy_proto::replicate::Advert {
                version,
                confirmed_age: local.verified_age,
                primary_reachable: local.primary_reachable,
            });
        let before = memory.published[zone as usize];
        let changed = match (before, advert) {
            (Some(a), Some(b)) => {
                a.version != b.version || a.primary_reachable != b.primary_reachable
            }
            (a, b) => a.is_some() != b.is_some(),
        };
        if changed {
            memory.published[zone as usize] = advert;
            match self.coarse.is_some() {
                true => self.coarse_publish(node, (zone, advert)),
                false => self.gossip.publish(node, zone, advert),
            }
        }
        let region = self.nodes[node].region;
        if !self.answers(node, zone) {
            self.check_region(region, zone);
        }
    }

    fn dispatch_refresh(&mut self, node: usize, dispatch: Dispatch) {
        let Dispatch { zone: name, action } = dispatch;
        let Some(&zone) = self.zone_of.get(&name) else {
            return;
        };
        let inc = self.nodes[node].incarnation;
        let Action {
            id, kind, deadline, ..
        } = action;
        self.queue.push(
            deadline,
            Event::RefreshDeadline {
                node,
                inc,
                zone,
                id,
            },
        );
        let request = match kind {
            ActionKind::QuerySoa { .. } => Request::Soa,
            ActionKind::Transfer {
                kind: TransferKind::Ixfr { from },
                ..
            } => Request::Transfer { from: Some(from.0) },
            ActionKind::Transfer {
                kind: TransferKind::Axfr,
                ..
            } => Request::Transfer { from: None },
        };
        if let Some(delay) = self
            .net
            .send(&mut self.rng, Endpoint::Node(node), Endpoint::Primary)
        {
            let event = Event::AtPrimary {
                node,
                inc,
                zone,
                id,
                request,
            };
            self.queue.push(self.now + delay, event);
        }
    }

    /// A request reaches the primary: it answers if up, and the answer
    /// travels back (a transfer takes a few more round trips).
    fn at_primary(
        &mut self,
        node: usize,
        inc: u32,
        zone: u32,
        id: understudy_proto::refresh::ActionId,
        request: Request,
    ) {
        if !self.primary.up {
            return;
        }
        let z = zone as usize;
        let soa = self.primary.soa(z);
        let (event, extra) = match request {
            Request::Soa => {
                self.primary.soa_queries += 1;
                (
                    Event::SoaAnswer {
                        node,
                        inc,
                        zone,
                        id,
                        soa,
                    },
                    Duration::ZERO,
                )
            }
            Request::Transfer { from: Some(from) }
                if !Serial(soa.serial).is_newer_than(Serial(from)) =>
            {
                (
                    Event::UpToDate {
                        node,
                        inc,
                        zone,
                        id,
                        soa,
                    },
                    Duration::ZERO,
                )
            }
            Request::Transfer { from } => {
                let count = self.primary.count_transfer(z);
                let initial = soa.serial == super::primary::FIRST_SERIAL;
                if !initial && count > self.transfer_bound {
                    let detail = format!(
                        "zone {zone} serial {}: transfer {count} to {} (bound {})",
                        soa.serial, self.nodes[node].id, self.transfer_bound
                    );
                    self.check.fail(Rule::TooManyTransfers, detail);
                }
                let kind = if from.is_some() {
                    XfrKind::Ixfr
                } else {
                    XfrKind::Axfr
                };
                let digest = self.primary.digest(z);
                let rtt = self.net.rtt(Endpoint::Node(node), Endpoint::Primary);
                (
                    Event::TransferAnswer {
                        node,
                        inc,
                        zone,
                        id,
                        soa,
                        digest,
                        kind,
                    },
                    rtt * 2,
                )
            }
        };
        if let Some(delay) = self
            .net
            .send(&mut self.rng, Endpoint::Primary, Endpoint::Node(node))
        {
            self.queue.push(self.now + delay + extra, event);
        }
    }

    /// Re-arms the node's one timer at the earliest wake-up its machines
    /// ask for.
    fn arm(&mut self, node: usize) {
        let now = self.now;
        let inc = self.nodes[node].incarnation;
        let Some(memory) = self.nodes[node].memory.as_mut() else {
            return;
        };
        let refresh = memory.scheduler.poll_timeout();
        let replica = memory.replicator.poll_timeout(now);

        memory.replica_timer = replica;
        let wake = [refresh, replica]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.max(now));
        if wake.is_some() && (memory.timer.is_none() || wake < memory.timer) {
            memory.timer = wake;
            if let Some(at) = wake {
                self.queue.push(at, Event::Wake { node, inc });
            }
        }
    }
}
