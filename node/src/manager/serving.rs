//! What this node serves, as the peer server answers it: per zone the
//! version (epoch included), the data and when a primary confirmed it.
//!
//! The manager updates an entry whenever the zone's version, data or
//! confirmation changes; the peer server reads it from the QUIC tasks
//! without waiting for the manager. The confirmation is kept as a monotonic
//! instant and turned into an age when a peer asks, so the age a peer
//! receives is exact at the moment it is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use understudy_proto::Name;
use understudy_proto::serial::ZoneVersion;

use crate::cluster::peer::{LocalZones, Serving};

use super::zone::ZoneData;

/// Where the fleet zone list comes from (the fleet's zone-list CRDT).
pub type ZoneListSource = Arc<dyn Fn() -> Vec<u8> + Send + Sync>;

/// One zone as served.
#[derive(Clone)]
struct Entry {
    version: ZoneVersion,
    data: Arc<ZoneData>,
    confirmed_at: Option<Instant>,
}

/// Every zone served, for the peer server. Cheap to share.
#[derive(Default)]
pub struct ServingTable {
    zones: Mutex<HashMap<Name, Entry>>,
    zone_list: Mutex<Option<ZoneListSource>>,
}

impl ServingTable {
    /// Records what is served of `zone` (`None`: nothing), confirmed by a
    /// primary `age` ago.
    pub fn set(
        &self,
        zone: &Name,
        serving: Option<(ZoneVersion, ZoneData)>,
        age: Option<Duration>,
    ) {
        let mut zones = self.lock();
        let Some((version, data)) = serving else {
            zones.remove(zone);
            return;
        };
        let confirmed_at = age.and_then(|age| Instant::now().checked_sub(age));
        let same = zones.get(zone).is_some_and(|entry| {
            entry.version == version && Arc::ptr_eq(&entry.data.snapshot, &data.snapshot)
        });
        match (same, zones.get_mut(zone)) {
            (true, Some(entry)) => entry.confirmed_at = confirmed_at,
            _ => {
                let entry = Entry {
                    version,
                    data: Arc::new(data),
                    confirmed_at,
                };
                zones.insert(zone.clone(), entry);
            }
        }
    }

    /// Forgets zones no longer managed.
    pub fn retain(&self, keep: impl Fn(&Name) -> bool) {
        self.lock().retain(|zone, _| keep(zone));
    }

    /// Sets where the fleet zone list comes from.
    pub fn set_zone_list(&self, source: ZoneListSource) {
        *self
            .zone_list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(source);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Name, Entry>> {
        self.zones
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LocalZones for ServingTable {
    fn serving(&self, zone: &Name) -> Option<Serving> {
        let entry = self.lock().get(zone)?.clone();
        Some(Serving {
            version: entry.version,
            data: entry.data,
            confirmed_age: entry.confirmed_at.map(|at| at.elapsed()),
        })
    }

    fn zone_list(&self) -> Vec<u8> {
        let source = self
            .zone_list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        source.map(|source| source()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use understudy_proto::xfr::{Journal, JournalLimits};
    use understudy_proto::zone::Snapshot;

    use super::*;

    fn data(serial: u32) -> ZoneData {
        use understudy_proto::{Class, Record, Rtype, Soa};
        let zone: Name = "example.".parse().unwrap();
        let ns: Name = "ns.example.".parse().unwrap();
        let soa = Soa {
            mname: ns.clone(),
            rname: ns.clone(),
            serial,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 300,
        };
        let record = |rtype, rdata: Vec<u8>| Record {
            owner: zone.clone(),
            rtype,
            class: Class::IN,
            ttl: 3600,
            rdata: rdata.into(),
        };
        let records = vec![
            record(Rtype::SOA, soa.to_rdata().into_vec()),
            record(Rtype::NS, ns.as_wire().to_vec()),
        ];
        let snapshot = Snapshot::build(&zone, records).unwrap();
        ZoneData {
            snapshot: Arc::new(snapshot),
            journal: Arc::new(Journal::new(zone, JournalLimits::default())),
        }
    }

    #[test]
    fn peers_see_the_version_served_and_an_age_that_grows() {
        let table = ServingTable::default();
        let zone: Name = "example.".parse().unwrap();
        assert!(table.serving(&zone).is_none());
        let version = ZoneVersion::new(2, 7);
        table.set(
            &zone,
            Some((version, data(7))),
            Some(Duration::from_secs(5)),
        );
        let served = table.serving(&zone).unwrap();
        assert_eq!(served.version, version);
        assert_eq!(served.data.snapshot.serial(), 7);
        assert!(served.confirmed_age.unwrap() >= Duration::from_secs(5));
        table.set(&zone, None, None);
        assert!(table.serving(&zone).is_none());
    }

    #[test]
    fn a_zone_never_confirmed_has_no_age() {
        let table = ServingTable::default();
        let zone: Name = "example.".parse().unwrap();
        table.set(&zone, Some((ZoneVersion::new(0, 1), data(1))), None);
        assert_eq!(table.serving(&zone).unwrap().confirmed_age, None);
        table.retain(|_| false);
        assert!(table.serving(&zone).is_none());
    }
}
