//! The fleet's zone list inside the manager: `ctl zone add` / `zone remove`
//! on a node with `[cluster]` write to the list, and the manager brings its
//! zones in line with the list whenever it changes (a local write, a merge
//! from a peer, a new catalog version).
//!
//! `[[zone]]` tables stay this node's own: a fleet entry with the name of a
//! configured zone is not applied here. Zones from the list are run-time
//! zones (origin `Runtime`) that the list may also remove.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use understudy_proto::Name;
use understudy_proto::catalog::Consumer;
use understudy_proto::fleet::FleetZone;

use crate::config::ZoneSpec;
use crate::control::Response;
use crate::fleet::{FleetList, convert};
use crate::store::Store;

use super::super::Manager;
use super::super::zone::ZoneOrigin;

/// What the manager keeps of the fleet.
#[derive(Default)]
pub struct FleetState {
    /// The list; `None` until [`Manager::publish_loaded`] opened it.
    pub(super) list: Option<Arc<FleetList>>,
    /// The entry each zone applied from the list was created from.
    pub(super) applied: HashMap<Name, FleetZone>,
    /// Fleet entries not applied because a `[[zone]]` has the name.
    shadowed: HashSet<Name>,
    /// Each catalog's last good member list.
    pub(super) catalogs: HashMap<Name, Consumer>,
}

impl Manager {
    /// The fleet list, for the sync task and for answering peers' requests
    /// (`FleetList::encoded`); set once the zones are loaded.
    pub fn fleet_list(&self) -> Option<Arc<FleetList>> {
        self.fleet.list.clone()
    }

    /// Applies the fleet list after it changed: adds, redefines (reset:
    /// data dropped, transferred again) and removes run-time zones.
    pub(in crate::manager) fn apply_fleet(&mut self) {
        let Some(list) = self.fleet.list.clone() else {
            return;
        };
        let list = list.snapshot();
        for (zone, entry) in list.entries() {
            match entry.live() {
                Some(fleet) => self.apply_live(zone, fleet),
                None => self.apply_removed(zone),
            }
        }
    }

    /// Opens the list in the data directory and loads the zones it holds
    /// from disk, so that they serve at once like every other zone.
    pub(super) fn open_fleet(&mut self) {
        let list = Arc::new(FleetList::open(
            &self.config.node.data_dir,
            &self.config.node.id,
        ));
        self.fleet.list = Some(list.clone());
        let store = match Store::open(&self.config.node.data_dir) {
            Ok(store) => store,
            Err(error) => {
                tracing::error!(%error, "fleet zones not loaded from disk; they are transferred again");
                return;
            }
        };
        for (zone, fleet) in list.snapshot().live() {
            if self.config.zone(zone).is_some() {
                continue;
            }
            if let Some(managed) = self.zones.get(zone) {
                // Loaded from `zones.json` already: adopted, data and all,
                // when it has the list's description (else apply_fleet
                // redefines it).
                let same =
                    convert::to_spec(zone, fleet).is_ok_and(|spec| managed.config.spec == spec);
                if same && managed.origin == ZoneOrigin::Runtime {
                    self.fleet.applied.insert(zone.clone(), fleet.clone());
                }
                continue;
            }
            let Some(config) = self.fleet_config(zone, fleet) else {
                continue;
            };
            self.load_zone(config, ZoneOrigin::Runtime, &store);
            self.fleet.applied.insert(zone.clone(), fleet.clone());
        }
    }

    /// `ctl zone add` on a node with `[cluster]`: into the list (on disk),
    /// then applied.
    pub(super) fn fleet_zone_add(&mut self, list: Arc<FleetList>, spec: ZoneSpec) -> Response {
        let config = match self.config.resolve_zone(&spec) {
            Ok(config) => config,
            Err(error) => return Response::error(error.to_string()),
        };
        let name = config.name.clone();
        if self.zones.contains_key(&name) {
            return Response::error(format!("zone {name} is already served"));
        }
        if let Err(error) = list.add(&name, convert::to_fleet(&config.spec)) {
            return Response::error(format!(
                "zone {name} not added: fleet list not written: {error}"
            ));
        }
        tracing::info!(zone = %name, op = "fleet-add", node = %self.config.node.id, "zone added to the fleet");
        self.apply_fleet();
        Response::done(format!("zone {name} added for the whole fleet"))
    }

    /// `ctl zone remove` on a node with `[cluster]`: a tombstone in the
    /// list (on disk), then applied. A zone this node does not know yet is
    /// removed too: it may have been added elsewhere a moment ago, and the
    /// operator wants it gone from the fleet either way.
    pub(super) fn fleet_zone_remove(&mut self, list: Arc<FleetList>, zone: &Name) -> Response {
        let known = self.zones.contains_key(zone)
            || list.entry(zone).is_some_and(|entry| entry.live().is_some());
        let catalog = self
            .fleet
            .applied
            .get(zone)
            .and_then(|fleet| fleet.catalog.clone());
        if let Err(error) = list.remove(zone) {
            return Response::error(format!(
                "zone {zone} not removed: fleet list not written: {error}"
            ));
        }
        tracing::info!(zone = %zone, op = "fleet-remove", node = %self.config.node.id, "zone removed from the fleet");
        self.apply_fleet();
        match (known, catalog) {
            (_, Some(catalog)) => Response::done(format!(
                "zone {zone} removed from the whole fleet; a node reading catalog {catalog} \
                 adds it back at the catalog's next version while the catalog lists it"
            )),
            (true, None) => Response::done(format!("zone {zone} removed from the whole fleet")),
            (false, None) => Response::done(format!(
                "zone {zone} was not known here; removed from the whole fleet"
            )),
        }
    }

    /// Whether `zone` is served here from elsewhere than the fleet list
    /// (a `[[zone]]`, or a single node's `ctl zone add`), so that a catalog
    /// member of that name clashes (RFC 9432 §5.2).
    pub(super) fn served_outside_fleet(&self, zone: &Name) -> bool {
        self.config.zone(zone).is_some()
            || (self.zones.contains_key(zone) && !self.fleet.applied.contains_key(zone))
    }

    /// Why `ctl zone remove` must not touch `zone`, if it must not.
    pub(super) fn removal_refused(&self, zone: &Name) -> Option<Response> {
        if self.zones.get(zone)?.origin == ZoneOrigin::Config {
            return Some(Response::error(format!(
                "zone {zone} is in the configuration file; remove it there"
            )));
        }
        // A member of a catalog this node reads would come back with the
        // catalog's next version: refused. Elsewhere it may go (the way to
        // clean up after a catalog that no node reads any more); the
        // response says what a node still reading it would do.
        let catalog = self.fleet.applied.get(zone)?.catalog.as_ref()?;
        self.config
            .catalogs
            .iter()
            .any(|read| read.zone == *catalog)
            .then(|| {
                Response::error(format!(
                    "zone {zone} is a member of catalog {catalog}; remove it from the catalog"
                ))
            })
    }

    fn apply_live(&mut self, zone: &Name, fleet: &FleetZone) {
        if self.fleet.applied.get(zone) == Some(fleet) {
            return;
        }
        match self.zones.get(zone).map(|managed| managed.origin) {
            Some(ZoneOrigin::Config) => {
                if self.fleet.shadowed.insert(zone.clone()) {
                    tracing::warn!(zone = %zone, "fleet zone not applied: this node's configuration file defines it");
                }
                return;
            }
            Some(ZoneOrigin::Runtime) => {
                let same = convert::to_spec(zone, fleet)
                    .is_ok_and(|spec| self.zones[zone].config.spec == spec);
                // Loaded at start from `zones.json` with the same description:
                // adopt it as it is, data and all.
                if same && !self.fleet.applied.contains_key(zone) {
                    self.fleet.applied.insert(zone.clone(), fleet.clone());
                    return;
                }
                tracing::info!(zone = %zone, op = "fleet-reset", "fleet zone redefined; its data is transferred again");
                self.drop_zone(zone);
            }
            None => {}
        }
        let Some(config) = self.fleet_config(zone, fleet) else {
            return;
        };
        self.add_zone(config);
        self.fleet.applied.insert(zone.clone(), fleet.clone());
    }

    fn apply_removed(&mut self, zone: &Name) {
        self.fleet.applied.remove(zone);
        if self
            .zones
            .get(zone)
            .is_some_and(|managed| managed.origin == ZoneOrigin::Runtime)
        {
            self.drop_zone(zone);
        }
    }

    /// The zone configuration of a fleet entry, checked on this node.
    fn fleet_config(&self, zone: &Name, fleet: &FleetZone) -> Option<crate::config::ZoneConfig> {
        let resolved = convert::to_spec(zone, fleet).and_then(|spec| {
            self.config
                .resolve_zone(&spec)
                .map_err(|error| error.to_string())
        });
        match resolved {
            Ok(config) => Some(config),
            Err(error) => {
                tracing::error!(zone = %zone, %error, "fleet zone not valid on this node; not served here");
                None
            }
        }
    }
}
