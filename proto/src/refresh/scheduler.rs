//! Many zones' refresh machines, their work handed out with bounded
//! concurrency and NOTIFY-driven work first.
//!
//! ```text
//!   zone timers ──handle_timeout──> machine has work ──┐
//!   NOTIFY / ctl ──handle_*───────> machine has work ──┤
//!                                                      v
//!          +---------------- queues (FIFO each) -----------------+
//!          | urgent transfers | urgent SOA | bg transfers | bg SOA |
//!          +-----------------------------------------------------+
//!                     | poll_action: first queue in that order whose
//!                     v class has a free slot (background may not use
//!            in flight: SOA queries <= max,   the slots reserved for
//!                       transfers   <= max    urgent work)
//!                     |
//!                     v report (handle_*_response) frees the slot
//! ```
//!
//! Urgent work (after a NOTIFY or an operator's command, and the transfer
//! that follows such a check) always goes before background work (refresh
//! and retry timers, first loads), and a few slots of each class are kept
//! for it, so a NOTIFY is handed out at once even while every background
//! slot is busy, and at worst after one completion when urgent work fills
//! every slot. Transfers go before SOA queries of the same priority, to
//! finish work already begun.
//!
//! The scheduler is deterministic: zones are kept in name order, timers in
//! (time, name) order, queues in arrival order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::name::Name;
use crate::serial::ZoneVersion;
use crate::time::Timestamp;

use super::action::{
    Action, ActionClass, ActionId, Failure, Priority, ReportError, TransferOutcome,
};
use super::config::SoaTimers;
use super::event::{Event, NotifyDisposition};
use super::machine::ZoneRefresh;

/// Concurrency limits, per class of network work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchedulerConfig {
    /// SOA queries in flight at most.
    pub max_soa_queries: usize,
    /// Transfers in flight at most.
    pub max_transfers: usize,
    /// SOA query slots background work may not use.
    pub reserved_soa_queries: usize,
    /// Transfer slots background work may not use.
    pub reserved_transfers: usize,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            max_soa_queries: 32,
            max_transfers: 8,
            reserved_soa_queries: 4,
            reserved_transfers: 2,
        }
    }
}

/// Why a [`SchedulerConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerConfigError {
    /// The reserved slots leave none for background work, which would then
    /// never refresh.
    #[error("reserved {0} slots must be fewer than the maximum")]
    NoBackgroundSlots(&'static str),
}

impl SchedulerConfig {
    /// Checks the limits; the node rejects a configuration that fails.
    pub fn check(&self) -> Result<(), SchedulerConfigError> {
        if self.reserved_soa_queries >= self.max_soa_queries {
            return Err(SchedulerConfigError::NoBackgroundSlots("SOA query"));
        }
        if self.reserved_transfers >= self.max_transfers {
            return Err(SchedulerConfigError::NoBackgroundSlots("transfer"));
        }
        Ok(())
    }

    fn max(&self, class: ActionClass) -> usize {
        match class {
            ActionClass::SoaQuery => self.max_soa_queries,
            ActionClass::Transfer => self.max_transfers,
        }
    }

    fn reserved(&self, class: ActionClass) -> usize {
        match class {
            ActionClass::SoaQuery => self.reserved_soa_queries,
            ActionClass::Transfer => self.reserved_transfers,
        }
    }
}

/// An action for the driver, with the zone it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    /// The zone.
    pub zone: Name,
    /// What to do; report it back with the zone's name and `action.id`.
    pub action: Action,
}

/// How busy the scheduler is, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SchedulerLoad {
    /// SOA queries in flight.
    pub soa_queries: usize,
    /// Transfers in flight.
    pub transfers: usize,
    /// Zones with urgent work waiting for a slot.
    pub urgent_waiting: usize,
    /// Zones with background work waiting for a slot.
    pub background_waiting: usize,
}

/// The queue order `poll_action` serves.
const ORDER: [(ActionClass, Priority); 4] = [
    (ActionClass::Transfer, Priority::Urgent),
    (ActionClass::SoaQuery, Priority::Urgent),
    (ActionClass::Transfer, Priority::Background),
    (ActionClass::SoaQuery, Priority::Background),
];

fn lane(class: ActionClass, priority: Priority) -> usize {
    match (class, priority) {
        (ActionClass::Transfer, Priority::Urgent) => 0,
        (ActionClass::SoaQuery, Priority::Urgent) => 1,
        (ActionClass::Transfer, Priority::Background) => 2,
        (ActionClass::SoaQuery, Priority::Background) => 3,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    lane: usize,
    ticket: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Running {
    id: ActionId,
    lane: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    machine: ZoneRefresh,
    timer: Option<Timestamp>,
    queued: Option<Queued>,
    running: Option<Running>,
    events_listed: bool,
}

/// Many zones' refresh machines; see the module documentation.
///
/// Calling order: as for one [`ZoneRefresh`], through the scheduler's
/// methods, which name the zone. After every input, drain
/// [`poll_action`](RefreshScheduler::poll_action) and
/// [`poll_event`](RefreshScheduler::poll_event), and re-arm one timer at
/// [`poll_timeout`](RefreshScheduler::poll_timeout), calling
/// [`handle_timeout`](RefreshScheduler::handle_timeout) when it fires.
#[derive(Debug, Clone)]
pub struct RefreshScheduler {
    config: SchedulerConfig,
    zones: BTreeMap<Name, Entry>,
    timers: BTreeSet<(Timestamp, Name)>,
    lanes: [VecDeque<(Name, u64)>; 4],
    running: [usize; 4],
    events: VecDeque<Name>,
    next_ticket: u64,
}

impl RefreshScheduler {
    /// An empty scheduler with these limits.
    pub fn new(config: SchedulerConfig) -> RefreshScheduler {
        RefreshScheduler {
            config,
            zones: BTreeMap::new(),
            timers: BTreeSet::new(),
            lanes: Default::default(),
            running: [0; 4],
            events: VecDeque::new(),
            next_ticket: 0,
        }
    }

    /// Adds a zone's machine, replacing (and returning) any of that name;
    /// the replaced machine's action in flight no longer holds a slot.
    pub fn insert(&mut self, zone: Name, machine: ZoneRefresh) -> Option<ZoneRefresh> {
        let replaced = self.remove(&zone);
        let entry = Entry {
            machine,
            timer: None,
            queued: None,
            running: None,
            events_listed: false,
        };
        self.zones.insert(zone.clone(), entry);
        self.sync(&zone);
        replaced
    }

    /// Removes a zone; its action in flight (the driver should abandon it)
    /// no longer holds a slot, and its reports are refused.
    pub fn remove(&mut self, zone: &Name) -> Option<ZoneRefresh> {
        let (name, entry) = self.zones.remove_entry(zone)?;
        if let Some(running) = entry.running {
            self.release(running);
        }
        if let Some(at) = entry.timer {
            self.timers.remove(&(at, name));
        }
        Some(entry.machine)
    }

    /// Runs `input` on the zone's machine and brings the queues, slots and
    /// timers up to date; `None` when there is no such zone.
    ///
    /// Every input goes through here; the `handle_*` methods are shorthands.
    pub fn update<R>(
        &mut self,
        zone: &Name,
        input: impl FnOnce(&mut ZoneRefresh) -> R,
    ) -> Option<R> {
        let result = input(&mut self.zones.get_mut(zone)?.machine);
        self.sync(zone);
        Some(result)
    }

    /// A NOTIFY for `zone`; see [`ZoneRefresh::handle_notify`].
    pub fn handle_notify(
        &mut self,
        now: Timestamp,
        zone: &Name,
        serial: Option<u32>,
        source: Option<usize>,
    ) -> Option<NotifyDisposition> {
        self.update(zone, |machine| machine.handle_notify(now, serial, source))
    }

    /// A NOTIFY for `zone` held until `until` for a cluster peer; see
    /// [`ZoneRefresh::handle_notify_deferred`].
    pub fn handle_notify_deferred(
        &mut self,
        now: Timestamp,
        zone: &Name,
        serial: Option<u32>,
        source: Option<usize>,
        until: Timestamp,
    ) -> Option<NotifyDisposition> {
        self.update(zone, |machine| {
            machine.handle_notify_deferred(now, serial, source, until)
        })
    }

    /// `zone refresh`; `false` when there is no such zone.
    pub fn handle_refresh_command(&mut self, now: Timestamp, zone: &Name) -> bool {
        self.update(zone, |machine| machine.handle_refresh_command(now))
            .is_some()
    }

    /// `zone retransfer`; `false` when there is no such zone.
    pub fn handle_retransfer_command(&mut self, now: Timestamp, zone: &Name) -> bool {
        self.update(zone, |machine| machine.handle_retransfer_command(now))
            .is_some()
    }

    /// The answer to an SOA query action; see [`ZoneRefresh::handle_soa_response`].
    pub fn handle_soa_response(
        &mut self,
        now: Timestamp,
        zone: &Name,
        id: ActionId,
        result: Result<SoaTimers, Failure>,
    ) -> Result<(), ReportError> {
        self.update(zone, |machine| machine.handle_soa_response(now, id, result))
            .unwrap_or(Err(ReportError::UnknownZone))
    }

    /// How a transfer action ended; see [`ZoneRefresh::handle_transfer_response`].
    pub fn handle_transfer_response(
        &mut self,
        now: Timestamp,
        zone: &Name,
        id: ActionId,
        outcome: TransferOutcome,
    ) -> Result<(), ReportError> {
        self.update(zone, |machine| {
            machine.handle_transfer_response(now, id, outcome)
        })
        .unwrap_or(Err(ReportError::UnknownZone))
    }

    /// A peer's confirmation; see [`ZoneRefresh::handle_confirmation`].
    pub fn handle_confirmation(
        &mut self,
        now: Timestamp,
        zone: &Name,
        version: ZoneVersion,
        age: Duration,
    ) -> bool {
        self.update(zone, |machine| {
            machine.handle_confirmation(now, version, age)
        })
        .unwrap_or(false)
    }

    /// A version from a peer; see [`ZoneRefresh::handle_peer_install`].
    pub fn handle_peer_install(
        &mut self,
        now: Timestamp,
        zone: &Name,
        version: ZoneVersion,
        soa: SoaTimers,
        age: Duration,
    ) -> bool {
        self.update(zone, |machine| {
            machine.handle_peer_install(now, version, soa, age)
        })
        .unwrap_or(false)
    }

    /// Runs every zone timer due at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let due: Vec<Name> = self
            .timers
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, zone)| zone.clone())
            .collect();
        for zone in due {
            self.update(&zone, |machine| machine.handle_timeout(now));
        }
    }

    /// The next action to carry out, if one is ready and its class has a
    /// free slot; runs due timers first.
    pub fn poll_action(&mut self, now: Timestamp) -> Option<Dispatch> {
        self.handle_timeout(now);
        for (class, priority) in ORDER {
            if self.has_room(class, priority)
                && let Some(dispatch) = self.dispatch(lane(class, priority), now)
            {
                return Some(dispatch);
            }
        }
        None
    }

    /// The next event to log, with its zone.
    pub fn poll_event(&mut self) -> Option<(Name, Event)> {
        while let Some(zone) = self.events.front() {
            if let Some(entry) = self.zones.get_mut(zone) {
                if let Some(event) = entry.machine.poll_event() {
                    return Some((zone.clone(), event));
                }
                entry.events_listed = false;
            }
            self.events.pop_front();
        }
        None
    }

    fn dispatch(&mut self, lane: usize, now: Timestamp) -> Option<Dispatch> {
        while let Some((zone, ticket)) = self.lanes[lane].pop_front() {
            let Some(entry) = self.zones.get_mut(&zone) else {
                continue;
            };
            if entry.queued != Some(Queued { lane, ticket }) {
                continue;
            }
            entry.queued = None;
            let action = entry.machine.poll_action(now);
            if let Some(action) = action {
                let running = Running {
                    id: action.id,
                    lane,
                };
                entry.running = Some(running);
                self.running[lane] += 1;
                self.sync(&zone);
                return Some(Dispatch { zone, action });
            }
            self.sync(&zone);
        }
        None
    }

    fn has_room(&self, class: ActionClass, priority: Priority) -> bool {
        let urgent = self.running[lane(class, Priority::Urgent)];
        let background = self.running[lane(class, Priority::Background)];
        let max = self.config.max(class);
        let room = urgent + background < max;
        match priority {
            Priority::Urgent => room,
            Priority::Background => {
                room && background < max.saturating_sub(self.config.reserved(class))
            }
        }
    }

    fn release(&mut self, running: Running) {
        self.running[running.lane] = self.running[running.lane].saturating_sub(1);
    }

    /// Brings the zone's slot, queue place, timer and event listing in line
    /// with its machine.
    fn sync(&mut self, zone: &Name) {
        let Some(entry) = self.zones.get_mut(zone) else {
            return;
        };
        let in_flight = entry.machine.in_flight().map(|action| action.id);
        let finished = entry
            .running
            .filter(|running| Some(running.id) != in_flight);
        if let Some(running) = finished {
            entry.running = None;
            self.running[running.lane] = self.running[running.lane].saturating_sub(1);
        }
        let wanted = entry
            .machine
            .pending()
            .map(|(class, priority)| lane(class, priority));
        if wanted != entry.queued.map(|queued| queued.lane) {
            entry.queued = wanted.map(|lane| {
                self.next_ticket += 1;
                self.lanes[lane].push_back((zone.clone(), self.next_ticket));
                Queued {
                    lane,
                    ticket: self.next_ticket,
                }
            });
        }
        let timer = entry.machine.poll_timeout();
        if timer != entry.timer {
            if let Some(old) = entry.timer {
                self.timers.remove(&(old, zone.clone()));
            }
            if let Some(new) = timer {
                self.timers.insert((new, zone.clone()));
            }
            entry.timer = timer;
        }
        if entry.machine.has_events() && !entry.events_listed {
            entry.events_listed = true;
            self.events.push_back(zone.clone());
        }
        self.compact_lanes();
    }

    /// Drops queue places made stale by zones that changed lanes or left,
    /// once they outnumber the zones, so a lane that is rarely served
    /// cannot grow without bound.
    fn compact_lanes(&mut self) {
        let limit = 2 * self.zones.len() + 64;
        for (lane, places) in self.lanes.iter_mut().enumerate() {
            if places.len() > limit {
                let zones = &self.zones;
                places.retain(|(zone, ticket)| {
                    zones.get(zone).and_then(|entry| entry.queued)
                        == Some(Queued {
                            lane,
                            ticket: *ticket,
                        })
                });
            }
        }
    }

    /// When [`RefreshScheduler::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// The zone's machine, for status and persisted state.
    pub fn zone(&self, zone: &Name) -> Option<&ZoneRefresh> {
        self.zones.get(zone).map(|entry| &entry.machine)
    }

    /// Every zone, in name order.
    pub fn zones(&self) -> impl Iterator<Item = (&Name, &ZoneRefresh)> + '_ {
        self.zones
            .iter()
            .map(|(name, entry)| (name, &entry.machine))
    }

    /// How many zones are scheduled.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Whether no zone is scheduled.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The version under which to install transfer `id` of `zone`; see
    /// [`ZoneRefresh::install_version`].
    pub fn install_version(&self, zone: &Name, id: ActionId, serial: u32) -> Option<ZoneVersion> {
        self.zone(zone)?.install_version(id, serial)
    }

    /// Slots in use and work waiting.
    pub fn load(&self) -> SchedulerLoad {
        let waiting = |priority: Priority| {
            self.zones
                .values()
                .filter(|entry| entry.machine.pending().is_some_and(|(_, p)| p == priority))
                .count()
        };
        let class = |class: ActionClass| {
            self.running[lane(class, Priority::Urgent)]
                + self.running[lane(class, Priority::Background)]
        };
        SchedulerLoad {
            soa_queries: class(ActionClass::SoaQuery),
            transfers: class(ActionClass::Transfer),
            urgent_waiting: waiting(Priority::Urgent),
            background_waiting: waiting(Priority::Background),
        }
    }
}
