//! The primary: the only party that produces zone versions.
//!
//! Zone content is modelled by a digest per (zone, serial), minted here
//! and nowhere else, so a node serving a digest the primary never minted
//! (a corrupted or invented copy) is detectable.

use std::collections::{BTreeMap, HashSet};

use understudy_proto::refresh::SoaTimers;

use crate::scenario::Scenario;

use super::rng::Rng;

/// The first serial of every zone.
pub const FIRST_SERIAL: u32 = 2_026_112_400;

/// The primary's state.
#[derive(Debug)]
pub struct Primary {
    /// Whether it answers.
    pub up: bool,
    serials: Vec<u32>,
    digests: Vec<u64>,
    timers: SoaTimers,
    minted: HashSet<(u32, u32, u64)>,
    /// Transfers served per (zone, serial).
    pub transfers: BTreeMap<(u32, u32), u32>,
    /// Transfers served in total.
    pub transfers_total: u64,
    /// SOA queries answered.
    pub soa_queries: u64,
}

impl Primary {
    /// A primary serving every zone of the scenario at [`FIRST_SERIAL`].
    pub fn new(scenario: &Scenario, zones: usize, rng: &mut Rng) -> Primary {
        let secs = |d: std::time::Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let mut primary = Primary {
            up: true,
            serials: vec![FIRST_SERIAL; zones],
            digests: vec![0; zones],
            timers: SoaTimers {
                serial: FIRST_SERIAL,
                refresh: secs(scenario.zones.refresh),
                retry: secs(scenario.zones.retry),
                expire: secs(scenario.zones.expire),
            },
            minted: HashSet::new(),
            transfers: BTreeMap::new(),
            transfers_total: 0,
            soa_queries: 0,
        };
        for zone in 0..zones {
            primary.mint(zone, rng);
        }
        primary
    }

    fn mint(&mut self, zone: usize, rng: &mut Rng) {
        let digest = rng.next_u64();
        self.digests[zone] = digest;
        self.minted
            .insert((zone as u32, self.serials[zone], digest));
    }

    /// Raises the serial of zone `zone` with new content.
    pub fn change(&mut self, zone: usize, rng: &mut Rng) {
        self.serials[zone] = self.serials[zone].wrapping_add(1);
        self.mint(zone, rng);
    }

    /// The serial of `zone` now.
    pub fn serial(&self, zone: usize) -> u32 {
        self.serials[zone]
    }

    /// The SOA of `zone` now.
    pub fn soa(&self, zone: usize) -> SoaTimers {
        SoaTimers {
            serial: self.serials[zone],
            ..self.timers
        }
    }

    /// The content digest of `zone` now.
    pub fn digest(&self, zone: usize) -> u64 {
        self.digests[zone]
    }

    /// Whether the primary ever produced this content for `(zone, serial)`.
    pub fn produced(&self, zone: u32, serial: u32, digest: u64) -> bool {
        self.minted.contains(&(zone, serial, digest))
    }

    /// Counts a transfer of `zone` at its current serial; returns the count
    /// for that serial.
    pub fn count_transfer(&mut self, zone: usize) -> u32 {
        self.transfers_total += 1;
        let count = self
            .transfers
            .entry((zone as u32, self.serials[zone]))
            .or_default();
        *count += 1;
        *count
    }
}
