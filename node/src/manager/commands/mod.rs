//! Zones coming and going, NOTIFYs and operator commands.

mod catalog;
mod fleet;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use understudy_proto::Name;
use understudy_proto::refresh::{Restore, SoaTimers, ZoneRefresh};
use understudy_proto::xfr::Journal;
use understudy_proto::zone::Snapshot;

use crate::config::{ZoneConfig, ZoneSpec};
use crate::control::{Command as ControlCommand, Response};
use crate::store::{ReadError, Store, ZoneFile};

use super::state::StateFile;
use super::writer::Job;
use super::zone::{ManagedZone, ZoneData, ZoneOrigin};
use super::{Command, Manager, journal_limits, status};

pub(in crate::manager) use fleet::FleetState;

impl Manager {
    /// Takes over `config`'s zone, loading what `store` holds of it; it is
    /// served once [`Manager::publish_loaded`] is called.
    pub fn load_zone(&mut self, config: ZoneConfig, origin: ZoneOrigin, store: &Store) {
        let mut managed = ManagedZone::new(config, origin, &self.keys);
        let name = managed.config.name.clone();
        managed.data = load_data(store, &managed);
        let persisted = match store.read_state::<StateFile>(&name) {
            Ok(file) => file.to_persisted(),
            Err(ReadError::Missing { .. }) => None,
            Err(error) => {
                tracing::warn!(zone = %name, %error, "zone state unreadable; starting fresh");
                None
            }
        };
        let loaded = managed
            .data
            .as_ref()
            .and_then(|data| data.snapshot.soa().soa())
            .map(|soa| SoaTimers::from(&soa));
        let now = self.clock.now();
        let restore = Restore {
            loaded,
            persisted,
            unix_now: self.clock.unix_now(),
        };
        let machine = ZoneRefresh::restore(
            managed.refresh_config(),
            managed.seed(self.seed),
            now,
            restore,
        );
        if let Some(data) = &managed.data {
            tracing::info!(zone = %name, serial = data.snapshot.serial(), op = "load", "serving from disk");
        }
        let (second, unix_second) = self.clock.whole_second();
        self.written
            .insert(name.clone(), machine.persisted(second, unix_second));
        self.scheduler.insert(name.clone(), machine);
        self.dirty.insert(name.clone());
        self.zones.insert(name, managed);
    }

    /// Serves every zone loaded with [`Manager::load_zone`], all at once,
    /// with the fleet's zones: those of the fleet list kept in the data
    /// directory and the members of every catalog that has data.
    pub fn publish_loaded(&mut self) {
        self.open_fleet();
        self.read_catalogs();
        self.apply_fleet();
        let entries = self
            .zones
            .iter()
            .map(|(name, zone)| (name.clone(), zone.data.clone()));
        self.shared.zones.publish_all(entries);
        self.publish_access();
    }

    pub(super) fn handle_command(&mut self, command: Command) {
        let now = self.clock.now();
        match command {
            Command::Notify {
                zone,
                serial,
                source,
            } => {
                self.scheduler.handle_notify(now, &zone, serial, source);
                self.dirty.insert(zone);
            }
            Command::Control { command, reply } => {
                let response = self.control(command);
                let _ = reply.send(response);
            }
            Command::Fleet => self.apply_fleet(),
        }
    }

    fn control(&mut self, command: ControlCommand) -> Response {
        let now = self.clock.now();
        match command {
            ControlCommand::ZoneStatus(zone) => self.zone_status(zone),
            ControlCommand::ZoneRefresh(zone) => {
                self.dirty.insert(zone.clone());
                match self.scheduler.handle_refresh_command(now, &zone) {
                    true => Response::done(format!("refresh of {zone} scheduled")),
                    false => no_such_zone(&zone),
                }
            }
            ControlCommand::ZoneRetransfer(zone) => {
                self.dirty.insert(zone.clone());
                match self.scheduler.handle_retransfer_command(now, &zone) {
                    true => Response::done(format!("retransfer of {zone} scheduled")),
                    false => no_such_zone(&zone),
                }
            }
            ControlCommand::ZoneAdd(spec) => match self.clustered_fleet() {
                Some(list) => self.fleet_zone_add(list, *spec),
                None => self.zone_add(*spec),
            },
            ControlCommand::ZoneRemove(zone) => {
                if let Some(refused) = self.removal_refused(&zone) {
                    return refused;
                }
                match self.clustered_fleet() {
                    Some(list) => self.fleet_zone_remove(list, &zone),
                    None => self.zone_remove(&zone),
                }
            }
            other => Response::not_available(other.op()),
        }
    }

    fn zone_status(&self, zone: Option<Name>) -> Response {
        let now = self.clock.now();
        let mut names: Vec<&Name> = match &zone {
            Some(zone) if !self.zones.contains_key(zone) => return no_such_zone(zone),
            Some(zone) => vec![zone],
            None => self.zones.keys().collect(),
        };
        names.sort();
        let zones = names
            .into_iter()
            .filter_map(|name| status::view(self, name, now))
            .collect();
        Response::ZoneStatus { zones }
    }

    /// The fleet list when this node is in a cluster: `ctl zone add` and
    /// `zone remove` then act for the whole fleet.
    fn clustered_fleet(&self) -> Option<Arc<crate::fleet::FleetList>> {
        self.config.cluster.as_ref()?;
        self.fleet.list.clone()
    }

    /// `ctl zone add` on a single node: a run-time zone of this node.
    fn zone_add(&mut self, spec: ZoneSpec) -> Response {
        let config = match self.config.resolve_zone(&spec) {
            Ok(config) => config,
            Err(error) => return Response::error(error.to_string()),
        };
        if self.zones.contains_key(&config.name) {
            return Response::error(format!("zone {} is already served", config.name));
        }
        let name = config.name.clone();
        self.add_zone(config);
        Response::done(format!("zone {name} added"))
    }

    /// `ctl zone remove` on a single node.
    fn zone_remove(&mut self, zone: &Name) -> Response {
        if !self.zones.contains_key(zone) {
            return no_such_zone(zone);
        }
        self.drop_zone(zone);
        Response::done(format!("zone {zone} removed"))
    }

    /// Starts serving a run-time zone (kept in `zones.json`): no data yet,
    /// its first refresh scheduled now.
    fn add_zone(&mut self, config: ZoneConfig) {
        let name = config.name.clone();
        let managed = ManagedZone::new(config, ZoneOrigin::Runtime, &self.keys);
        let machine = ZoneRefresh::new(
            managed.refresh_config(),
            managed.seed(self.seed),
            self.clock.now(),
        );
        self.shared.zones.publish(&name, None);
        self.scheduler.insert(name.clone(), machine);
        self.dirty.insert(name.clone());
        self.zones.insert(name.clone(), managed);
        self.publish_access();
        self.writer.submit(Job::Zones(self.runtime_specs()));
        tracing::info!(zone = %name, op = "add", "zone added");
    }

    /// Stops serving `zone` and deletes its data.
    fn drop_zone(&mut self, zone: &Name) {
        self.zones.remove(zone);
        self.scheduler.remove(zone);
        self.written.remove(zone);
        self.shared.zones.remove(zone);
        self.shared.set_view(zone, None);
        self.publish_access();
        self.writer.submit(Job::Zones(self.runtime_specs()));
        self.writer.submit(Job::Remove(zone.clone()));
        tracing::info!(zone = %zone, op = "remove", "zone removed");
    }
}

/// The snapshot and journal on disk, validated; a corrupt snapshot is moved
/// aside (never served) and the zone loads from a primary instead.
fn load_data(store: &Store, managed: &ManagedZone) -> Option<ZoneData> {
    let name = &managed.config.name;
    let bytes = match store.read(name, ZoneFile::Snapshot) {
        Ok(bytes) => bytes,
        Err(ReadError::Missing { .. }) => return None,
        Err(error) => {
            tracing::error!(zone = %name, %error, "snapshot unreadable");
            return None;
        }
    };
    let snapshot = match Snapshot::from_bytes(bytes) {
        Ok(snapshot) if snapshot.origin() == *name => snapshot,
        Ok(snapshot) => {
            return quarantine(
                store,
                name,
                &format!("snapshot is of zone {}", snapshot.origin()),
            );
        }
        Err(error) => return quarantine(store, name, &error.to_string()),
    };
    let limits = journal_limits(managed);
    let journal = match store
        .read(name, ZoneFile::Journal)
        .map(|bytes| Journal::from_bytes(&bytes, name, limits))
    {
        Ok(Ok(journal)) if journal.serial() == Some(snapshot.serial()) => journal,
        _ => {
            let mut journal = Journal::new(name.clone(), limits);
            journal.reset(snapshot.serial());
            journal
        }
    };
    Some(ZoneData {
        snapshot: Arc::new(snapshot),
        journal: Arc::new(journal),
    })
}

fn quarantine(store: &Store, zone: &Name, reason: &str) -> Option<ZoneData> {
    match store.quarantine(zone, ZoneFile::Snapshot) {
        Ok(path) => tracing::error!(
            zone = %zone, reason, moved_to = %path.display(),
            "corrupt snapshot on disk: not served, moved aside; the zone is transferred again"
        ),
        Err(error) => {
            tracing::error!(zone = %zone, reason, %error, "corrupt snapshot on disk, not served")
        }
    }
    None
}

fn no_such_zone(zone: &Name) -> Response {
    Response::error(format!("no zone {zone}"))
}
