//! The zone table the query path reads: which zones are served, from which
//! snapshot, and how fresh each is.
//!
//! Readers load the current table once per batch of queries (`arc-swap`: no
//! lock, no allocation) and answer from it; the zone manager publishes a new
//! table whenever a zone is added, removed or gets a new snapshot. A table is
//! immutable, so a batch never sees a zone half-updated (DESIGN.md decision
//! 2). Freshness changes in place through an atomic, without a new table.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use arc_swap::{ArcSwap, Guard};
use understudy_proto::Name;
use understudy_proto::answer::{Freshness, ServedZone, ZoneSet};

use crate::manager::zone::ZoneData;

/// One served zone: its current data and freshness.
pub struct ZoneEntry {
    /// The zone's name.
    pub name: Name,
    /// The snapshot answered from and its journal; `None` until the first
    /// transfer or load.
    pub data: Option<ZoneData>,
    freshness: Arc<AtomicU8>,
}

type Entries = HashMap<Name, (Option<ZoneData>, Arc<AtomicU8>)>;

/// An immutable set of zones, keyed by lower-cased wire name.
#[derive(Default)]
pub struct ZoneTable {
    by_name: HashMap<Box<[u8]>, ZoneEntry>,
}

/// The shared, swappable zone table.
#[derive(Default)]
pub struct Zones {
    current: ArcSwap<ZoneTable>,
    freshness: std::sync::Mutex<HashMap<Name, Arc<AtomicU8>>>,
}

impl Zones {
    /// The table to answer a batch of queries from.
    pub fn load(&self) -> Guard<Arc<ZoneTable>> {
        self.current.load()
    }

    /// Serves `data` for zone `name` from now on (adding the zone if new).
    pub fn publish(&self, name: &Name, data: Option<ZoneData>) {
        let freshness = self.freshness_cell(name);
        self.update(|entries| {
            entries.insert(name.clone(), (data.clone(), freshness.clone()));
        });
    }

    /// Serves each zone of `entries` with its data (a start-up's worth of
    /// zones in one new table).
    pub fn publish_all(&self, entries: impl IntoIterator<Item = (Name, Option<ZoneData>)>) {
        let entries: Vec<(Name, Option<ZoneData>, Arc<AtomicU8>)> = entries
            .into_iter()
            .map(|(name, data)| {
                let freshness = self.freshness_cell(&name);
                (name, data, freshness)
            })
            .collect();
        self.update(|table| {
            for (name, data, freshness) in &entries {
                table.insert(name.clone(), (data.clone(), freshness.clone()));
            }
        });
    }

    /// Stops serving `name`.
    pub fn remove(&self, name: &Name) {
        self.update(|entries| {
            entries.remove(name);
        });
        self.lock_freshness().remove(name);
    }

    /// Sets how fresh `name` is; takes effect for the next query.
    pub fn set_freshness(&self, name: &Name, freshness: Freshness) {
        self.freshness_cell(name)
            .store(encode(freshness), Ordering::Relaxed);
    }

    /// The data currently served for `name`, and how fresh it is.
    pub fn data(&self, name: &Name) -> Option<(ZoneData, Freshness)> {
        let key = name.to_lowercase();
        let table = self.load();
        let entry = table.by_name.get(key.as_wire())?;
        Some((
            entry.data.clone()?,
            decode(entry.freshness.load(Ordering::Relaxed)),
        ))
    }

    fn freshness_cell(&self, name: &Name) -> Arc<AtomicU8> {
        let mut cells = self.lock_freshness();
        cells
            .entry(name.clone())
            .or_insert_with(|| Arc::new(AtomicU8::new(encode(Freshness::Fresh))))
            .clone()
    }

    fn lock_freshness(&self) -> std::sync::MutexGuard<'_, HashMap<Name, Arc<AtomicU8>>> {
        self.freshness
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Rebuilds the table from the current one with `change` applied.
    fn update(&self, change: impl Fn(&mut Entries)) {
        self.current.rcu(|table| {
            let mut entries: Entries = table
                .by_name
                .values()
                .map(|entry| {
                    (
                        entry.name.clone(),
                        (entry.data.clone(), entry.freshness.clone()),
                    )
                })
                .collect();
            change(&mut entries);
            Arc::new(ZoneTable::new(entries))
        });
    }
}

impl ZoneTable {
    fn new(entries: Entries) -> ZoneTable {
        let mut table = ZoneTable::default();
        for (name, (data, freshness)) in entries {
            let key = name.to_lowercase().as_wire().into();
            table.by_name.insert(
                key,
                ZoneEntry {
                    name,
                    data,
                    freshness,
                },
            );
        }
        table
    }

    /// Number of zones in the table.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the table has no zone.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl ZoneSet for ZoneTable {
    fn find(&self, origin: &[u8]) -> Option<ServedZone<'_>> {
        let entry = self.by_name.get(origin)?;
        // A zone without data yet is still ours: SERVFAIL, not a parent's answer.
        let snapshot = entry.data.as_ref().map(|data| data.snapshot.as_ref());
        let freshness = decode(entry.freshness.load(Ordering::Relaxed));
        Some(ServedZone {
            snapshot,
            freshness,
        })
    }
}

fn encode(freshness: Freshness) -> u8 {
    match freshness {
        Freshness::Fresh => 0,
        Freshness::Stale => 1,
        Freshness::Expired => 2,
    }
}

fn decode(value: u8) -> Freshness {
    match value {
        0 => Freshness::Fresh,
        1 => Freshness::Stale,
        _ => Freshness::Expired,
    }
}
