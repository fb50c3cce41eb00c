//! Per-zone gauges, read at scrape time from the same [`ZoneStatusView`]s
//! that `ctl zone status` shows, so the two never disagree and a removed
//! zone's series vanish with it.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, IntGaugeVec, Opts};

use crate::control::{ZoneState, ZoneStatusView};

/// The daemon's view of every zone, taken when Prometheus scrapes.
pub type ZoneSource = Box<dyn Fn() -> Vec<ZoneStatusView> + Send + Sync>;

/// The per-zone gauge families.
struct Families {
    serial: IntGaugeVec,
    epoch: IntGaugeVec,
    state: IntGaugeVec,
    expiry: GaugeVec,
    verified_age: GaugeVec,
    regressed: IntGaugeVec,
    records: IntGaugeVec,
    bytes: IntGaugeVec,
    zones: IntGaugeVec,
}

impl Families {
    fn new() -> prometheus::Result<Families> {
        let int = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels)
        };
        let float = |name: &str, help: &str| GaugeVec::new(Opts::new(name, help), &["zone"]);
        Ok(Families {
            serial: int(
                "understudy_zone_serial",
                "SOA serial of the zone being served.",
                &["zone"],
            )?,
            epoch: int(
                "understudy_zone_epoch",
                "Retransfer epoch of the zone, compared before the serial.",
                &["zone"],
            )?,
            state: int(
                "understudy_zone_state",
                "1 for the zone's current state, 0 for the others.",
                &["zone", "state"],
            )?,
            expiry: float(
                "understudy_zone_expiry_timestamp_seconds",
                "Unix time at which the zone expires unless the primary confirms it.",
            )?,
            verified_age: float(
                "understudy_zone_verified_age_seconds",
                "Seconds since a primary last confirmed the served serial.",
            )?,
            regressed: int(
                "understudy_zone_serial_regressed",
                "1 while the primary's serial is behind the served one.",
                &["zone"],
            )?,
            records: int(
                "understudy_zone_records",
                "Records in the served snapshot.",
                &["zone"],
            )?,
            bytes: int(
                "understudy_zone_size_bytes",
                "Bytes of the served snapshot.",
                &["zone"],
            )?,
            zones: int("understudy_zones", "Zones in each state.", &["state"])?,
        })
    }

    fn all(&self) -> [&dyn Collector; 9] {
        [
            &self.serial,
            &self.epoch,
            &self.state,
            &self.expiry,
            &self.verified_age,
            &self.regressed,
            &self.records,
            &self.bytes,
            &self.zones,
        ]
    }

    fn observe(&self, view: &ZoneStatusView) {
        let zone = view.zone.as_str();
        if let Some(serial) = view.serial {
            self.serial
                .with_label_values(&[zone])
                .set(i64::from(serial));
        }
        self.epoch
            .with_label_values(&[zone])
            .set(i64::from(view.epoch));
        for state in ZoneState::ALL {
            let current = i64::from(state == view.state);
            self.state
                .with_label_values(&[zone, state.name()])
                .set(current);
        }
        if let Some(expires) = &view.expires_at {
            self.expiry
                .with_label_values(&[zone])
                .set(expires.unix_seconds as f64);
        }
        if let Some(age) = view.verified_age_seconds {
            self.verified_age.with_label_values(&[zone]).set(age as f64);
        }
        let regressed = i64::from(view.state == ZoneState::SerialRegressed);
        self.regressed.with_label_values(&[zone]).set(regressed);
        self.records
            .with_label_values(&[zone])
            .set(saturating(view.records));
        self.bytes
            .with_label_values(&[zone])
            .set(saturating(view.bytes));
        self.zones.with_label_values(&[view.state.name()]).inc();
    }
}

fn saturating(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Collects the zone gauges from a [`ZoneSource`] at each scrape.
pub struct ZoneCollector {
    source: ZoneSource,
    descs: Families,
}

impl ZoneCollector {
    /// A collector reading `source`.
    pub fn new(source: ZoneSource) -> prometheus::Result<ZoneCollector> {
        Ok(ZoneCollector {
            source,
            descs: Families::new()?,
        })
    }
}

impl Collector for ZoneCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs
            .all()
            .into_iter()
            .flat_map(|family| family.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // Fresh families each scrape, so zones that are gone leave no series.
        let Ok(families) = Families::new() else {
            return Vec::new();
        };
        for state in ZoneState::ALL {
            families.zones.with_label_values(&[state.name()]).set(0);
        }
        for view in (self.source)() {
            families.observe(&view);
        }
        families
            .all()
            .into_iter()
            .flat_map(|family| family.collect())
            .collect()
    }
}
