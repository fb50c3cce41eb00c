//! Catalog zones (RFC 9432) in the manager: after each new version of a
//! zone named in `[[catalog]]`, its members are written to the fleet list
//! (added, redefined on a unique-N change, removed) and the list applied.
//!
//! A member whose name clashes with a `[[zone]]` of this node or with a
//! fleet zone from elsewhere (`ctl zone add`, another catalog) is ignored
//! and logged (§5.2), unless the other catalog hands it over with `coo`
//! (§5.5). A broken catalog version changes nothing (§5.1).

use std::collections::HashSet;

use understudy_proto::Name;
use understudy_proto::catalog::{MemberChanges, Members};
use understudy_proto::fleet::{FleetZone, ZoneList};

use crate::config::CatalogSettings;
use crate::fleet::{Author, convert};

use super::super::Manager;

impl Manager {
    /// A new version of `zone` was installed: if it is a catalog, provision
    /// its members.
    pub(in crate::manager) fn catalog_installed(&mut self, zone: &Name) {
        let Some(settings) = self.catalog_settings(zone) else {
            return;
        };
        if self.read_catalog(&settings) {
            self.apply_fleet();
        }
    }

    /// Reads every catalog that has data (at start, from disk).
    pub(super) fn read_catalogs(&mut self) {
        let catalogs = self.config.catalogs.clone();
        for settings in &catalogs {
            self.read_catalog(settings);
        }
    }

    /// Reads the catalog's served version and writes its members to the
    /// fleet list; `true` when the list may have changed.
    fn read_catalog(&mut self, settings: &CatalogSettings) -> bool {
        let catalog = &settings.zone;
        let Some(snapshot) = self
            .zones
            .get(catalog)
            .and_then(|managed| managed.data.as_ref())
            .map(|data| data.snapshot.clone())
        else {
            return false;
        };
        let consumer = self.fleet.catalogs.entry(catalog.clone()).or_default();
        let changes = match consumer.update(&snapshot) {
            Ok(changes) => changes,
            Err(error) => {
                tracing::error!(zone = %catalog, serial = snapshot.serial(), %error,
                    "catalog version refused; its last good member list stays");
                return false;
            }
        };
        let Some(members) = consumer.members().cloned() else {
            return false;
        };
        log_changes(catalog, &members, &changes);
        let Some(list) = self.fleet.list.clone() else {
            return false;
        };
        let handed_over = self.handed_over_to(catalog);
        let taken: HashSet<Name> = members
            .iter()
            .map(|member| &member.zone)
            .filter(|zone| self.served_outside_fleet(zone))
            .cloned()
            .collect();
        let written = list
            .update(|list, node| provision(list, node, settings, &members, &handed_over, &taken));
        if let Err(error) = written {
            tracing::error!(zone = %catalog, %error, "catalog members not written to the fleet list; nothing changed");
            return false;
        }
        true
    }

    /// Zones another catalog hands over to `catalog` with `coo` (§5.5).
    fn handed_over_to(&self, catalog: &Name) -> HashSet<Name> {
        self.fleet
            .catalogs
            .iter()
            .filter(|(other, _)| *other != catalog)
            .filter_map(|(_, consumer)| consumer.members())
            .flat_map(|members| members.iter())
            .filter(|member| member.coo.as_ref() == Some(catalog))
            .map(|member| member.zone.clone())
            .collect()
    }

    fn catalog_settings(&self, zone: &Name) -> Option<CatalogSettings> {
        self.config
            .catalogs
            .iter()
            .find(|catalog| catalog.zone == *zone)
            .cloned()
    }
}

/// Brings `catalog`'s entries in `list` in line with `members`.
fn provision(
    list: &mut ZoneList,
    author: &Author<'_>,
    settings: &CatalogSettings,
    members: &Members,
    handed_over: &HashSet<Name>,
    taken: &HashSet<Name>,
) {
    let catalog = &settings.zone;
    for member in members.iter() {
        let zone = &member.zone;
        if taken.contains(zone) {
            tracing::warn!(zone = %zone, catalog = %catalog, "catalog member ignored: this node serves the zone from its configuration or ctl");
            continue;
        }
        let held = list.entry(zone).and_then(|entry| entry.live()).cloned();
        if let Some(held) = &held {
            let ours = held.catalog.as_ref() == Some(catalog);
            let handed = held.catalog.is_some() && handed_over.contains(zone);
            if !(ours || handed) {
                tracing::warn!(zone = %zone, catalog = %catalog, "catalog member ignored: the fleet already has this zone from elsewhere");
                continue;
            }
        }
        let mut want = convert::to_fleet(&settings.member_spec(zone));
        want.catalog = Some(catalog.clone());
        want.member_id = Some(member.unique_id.clone());
        if held.as_ref() != Some(&want) {
            author.add(list, zone.clone(), want);
        }
    }
    let gone: Vec<Name> = list
        .live()
        .filter(|(zone, fleet)| is_member_of(fleet, catalog) && members.get(zone).is_none())
        .map(|(zone, _)| zone.clone())
        .collect();
    for zone in gone {
        author.remove(list, zone);
    }
}

fn is_member_of(fleet: &FleetZone, catalog: &Name) -> bool {
    fleet.catalog.as_ref() == Some(catalog)
}

fn log_changes(catalog: &Name, members: &Members, changes: &MemberChanges) {
    for member in &changes.added {
        let groups = member.groups.join(",");
        tracing::info!(zone = %member.zone, catalog = %catalog, groups, op = "catalog-add", "catalog member added");
    }
    for zone in &changes.removed {
        tracing::info!(zone = %zone, catalog = %catalog, op = "catalog-remove", "catalog member removed");
    }
    for member in &changes.reset {
        tracing::info!(zone = %member.zone, catalog = %catalog, op = "catalog-reset", "catalog member's unique id changed; zone reset");
    }
    for (unique_id, zone) in &members.clashes {
        tracing::warn!(zone = %zone, catalog = %catalog, unique_id = %String::from_utf8_lossy(unique_id),
            "catalog lists the zone twice; the other entry is kept");
    }
    for member in members.iter().filter(|member| member.coo.is_some()) {
        if let Some(coo) = &member.coo {
            tracing::debug!(zone = %member.zone, catalog = %catalog, to = %coo, "catalog member is moving (coo)");
        }
    }
}
