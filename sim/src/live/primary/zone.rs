//! The built-in primary's zone: one version per serial, each carrying a TXT
//! record `serial.<zone>` = `v<serial>` so that a prober can tell from an
//! answer alone which version a node serves and whether the primary ever
//! produced it.

use understudy_proto::record::Soa;
use understudy_proto::xfr::{Diff, Journal, JournalLimits};
use understudy_proto::{Class, Name, Record, Rtype};

/// SOA REFRESH, RETRY and EXPIRE of the zone, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaTimers {
    /// SOA REFRESH.
    pub refresh: u32,
    /// SOA RETRY.
    pub retry: u32,
    /// SOA EXPIRE.
    pub expire: u32,
}

impl Default for SoaTimers {
    fn default() -> SoaTimers {
        SoaTimers {
            refresh: 2,
            retry: 1,
            expire: 3_600,
        }
    }
}

/// Why the zone could not be built or changed.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// The zone name is not a valid domain name.
    #[error("bad zone name {0:?}")]
    BadName(String),
    /// The diff from one version to the next could not be recorded.
    #[error("journal: {0}")]
    Journal(String),
}

/// Every version the primary has published, the newest serving.
#[derive(Debug)]
pub struct ZoneHistory {
    name: Name,
    timers: SoaTimers,
    records: Vec<Record>,
    journal: Journal,
    serials: Vec<u32>,
}

impl ZoneHistory {
    /// The zone `name` at serial `first`.
    pub fn new(name: &str, timers: SoaTimers, first: u32) -> Result<ZoneHistory, ZoneError> {
        let name = Name::from_ascii(name).map_err(|_| ZoneError::BadName(name.to_string()))?;
        let records = version_records(&name, timers, first)?;
        let mut journal = Journal::new(name.clone(), JournalLimits::default());
        journal.reset(first);
        Ok(ZoneHistory {
            name,
            timers,
            records,
            journal,
            serials: vec![first],
        })
    }

    /// Publishes the next version (serial + 1) and returns its serial.
    pub fn change(&mut self) -> Result<u32, ZoneError> {
        let serial = self.serial().wrapping_add(1);
        let records = version_records(&self.name, self.timers, serial)?;
        let diff = Diff::between(&self.records, &records)
            .map_err(|error| ZoneError::Journal(error.to_string()))?;
        self.journal
            .push(diff)
            .map_err(|error| ZoneError::Journal(error.to_string()))?;
        self.records = records;
        self.serials.push(serial);
        Ok(serial)
    }

    /// The zone's name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The newest serial.
    pub fn serial(&self) -> u32 {
        self.serials.last().copied().unwrap_or_default()
    }

    /// Whether the primary ever published `serial`.
    pub fn produced(&self, serial: u32) -> bool {
        self.serials.contains(&serial)
    }

    /// Every serial published, oldest first.
    pub fn serials(&self) -> &[u32] {
        &self.serials
    }

    /// The newest SOA record.
    pub fn soa(&self) -> &Record {
        self.records
            .iter()
            .find(|r| r.rtype == Rtype::SOA)
            .unwrap_or(&self.records[0])
    }

    /// The newest version's records.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Diffs between published versions, for IXFR.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}

/// The text of the TXT record `serial.<zone>` at `serial`.
pub fn serial_text(serial: u32) -> String {
    format!("v{serial}")
}

/// The owner of the TXT record naming the version.
pub fn serial_owner(zone: &Name) -> Result<Name, ZoneError> {
    zone.prepend(b"serial")
        .map_err(|_| ZoneError::BadName(zone.to_string()))
}

fn version_records(zone: &Name, timers: SoaTimers, serial: u32) -> Result<Vec<Record>, ZoneError> {
    let bad = |_| ZoneError::BadName(zone.to_string());
    let ns = zone.prepend(b"ns1").map_err(bad)?;
    let soa = Soa {
        mname: ns.clone(),
        rname: zone.prepend(b"hostmaster").map_err(bad)?,
        serial,
        refresh: timers.refresh,
        retry: timers.retry,
        expire: timers.expire,
        minimum: 60,
    };
    let text = serial_text(serial);
    let mut txt = vec![text.len() as u8];
    txt.extend_from_slice(text.as_bytes());
    Ok(vec![
        record(zone.clone(), Rtype::SOA, soa.to_rdata().into()),
        record(zone.clone(), Rtype::NS, ns.as_wire().to_vec()),
        record(ns, Rtype::A, vec![127, 0, 0, 53]),
        record(serial_owner(zone)?, Rtype::TXT, txt),
        record(
            zone.prepend(b"www").map_err(bad)?,
            Rtype::A,
            vec![192, 0, 2, 1],
        ),
    ])
}

fn record(owner: Name, rtype: Rtype, rdata: Vec<u8>) -> Record {
    Record {
        owner,
        rtype,
        class: Class::IN,
        ttl: 60,
        rdata: rdata.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_journalled_with_its_txt() {
        let mut zone = ZoneHistory::new("drill.example.", SoaTimers::default(), 1).unwrap();
        assert_eq!(zone.change().unwrap(), 2);
        assert_eq!(zone.change().unwrap(), 3);
        assert_eq!(zone.serials(), &[1, 2, 3]);
        assert_eq!(zone.journal().serial(), Some(3));
        assert_eq!(zone.journal().diffs_since(1).map(|d| d.len()), Some(2));
        let txt = zone
            .records()
            .iter()
            .find(|r| r.rtype == Rtype::TXT)
            .unwrap();
        assert_eq!(&txt.rdata[1..], b"v3");
        assert!(zone.produced(2) && !zone.produced(4));
    }
}
