//! From what the node knows to what health and operators look at: zone
//! views plus the cluster status become the health machine's
//! [`ZoneHealth`] inputs and the [`ClusterView`] of `ctl cluster members`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use understudy_proto::Name;
use understudy_proto::answer::Freshness;
use understudy_proto::health::{HealthConfig, HealthStatus, Reason, ZoneHealth};
use understudy_proto::time::Timestamp;

use crate::cluster::status::{ClusterStatus, MemberStatus, MemberZone};
use crate::control::{
    ClusterView, FleetZoneView, HealthView, MemberState, MemberView, MemberZoneView, TimePoint,
    ZoneState, ZoneStatusView,
};

/// This node as `ctl cluster members` shows it when gossip has nothing
/// (no `[cluster]`, or not joined yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// `[node] id`
    pub id: String,
    /// `[node] region`
    pub region: String,
    /// The first DNS listen address.
    pub dns: Option<SocketAddr>,
    /// `[cluster] name`, if any.
    pub cluster: Option<String>,
}

/// One [`ZoneHealth`] per zone view, with the fleet's evidence for it.
pub fn zone_health(views: &[ZoneStatusView], status: &ClusterStatus) -> Vec<ZoneHealth> {
    views
        .iter()
        .filter_map(|view| {
            let zone = Name::from_ascii(&view.zone).ok()?;
            let fleet = status
                .zones
                .get(&zone)
                .map(|fleet| fleet.evidence.clone())
                .unwrap_or_default();
            Some(ZoneHealth {
                zone,
                freshness: freshness(view.state),
                loaded: view.serial.is_some(),
                fleet,
            })
        })
        .collect()
}

/// What the answer path does with a zone in `state`. A zone still loading
/// answers nothing, like an expired one.
fn freshness(state: ZoneState) -> Freshness {
    match state {
        ZoneState::Expired | ZoneState::Loading => Freshness::Expired,
        ZoneState::Stale => Freshness::Stale,
        ZoneState::Ok
        | ZoneState::Refreshing
        | ZoneState::Retrying
        | ZoneState::SerialRegressed => Freshness::Fresh,
    }
}

/// The one-word form of a reason, from [`HealthView::REASONS`].
pub fn reason_word(reason: &Reason) -> &'static str {
    match reason {
        Reason::Starting => "starting",
        Reason::Drained => "drained",
        Reason::NotLoaded { .. } => "not-loaded",
        Reason::Expired { .. } => "expired",
        Reason::Stale { .. } => "stale",
        Reason::Lagging { .. } => "lagging",
    }
}

/// The machine's status as operators see it.
pub fn health_view(
    status: &HealthStatus,
    drained: bool,
    config: &HealthConfig,
    since: SystemTime,
    now: SystemTime,
) -> HealthView {
    let HealthConfig { rise, fall, .. } = *config;
    // Between an undrain and `rise` clean evaluations the machine still
    // holds the drain as its reason; the node is rising, as after a start.
    let (reason, detail) = match &status.reason {
        Some(Reason::Drained) if !drained => (
            Some("starting".to_owned()),
            Some(format!("undrained; healthy after {rise} clean checks")),
        ),
        Some(reason) => (
            Some(reason_word(reason).to_owned()),
            Some(reason.to_string()),
        ),
        None => (None, None),
    };
    HealthView {
        healthy: status.healthy,
        drained,
        reason,
        detail,
        pending: status.pending.as_ref().map(ToString::to_string),
        streak: status.streak,
        rise,
        fall,
        problem_zones: status.problem_zones,
        since: TimePoint::new(since, now),
    }
}

/// Members (this node first, its zones from its own views) and every zone
/// served here against the fleet.
pub fn cluster_view(
    status: &ClusterStatus,
    views: &[ZoneStatusView],
    node: &LocalNode,
    now: Timestamp,
) -> ClusterView {
    let ours: BTreeMap<Name, MemberZone> = views.iter().filter_map(own_zone).collect();
    let mut members: Vec<MemberView> = status
        .members
        .iter()
        .map(|member| member_view(member, member.id == node.id, &ours))
        .collect();
    if !members.iter().any(|member| member.this_node) {
        members.insert(0, local_member(node, &ours));
    }
    let zones = views
        .iter()
        .map(|view| fleet_zone(view, status, now))
        .collect();
    ClusterView {
        cluster: node
            .cluster
            .clone()
            .or_else(|| (!status.cluster.is_empty()).then(|| status.cluster.clone())),
        node: node.id.clone(),
        members,
        zones,
    }
}

fn own_zone(view: &ZoneStatusView) -> Option<(Name, MemberZone)> {
    let zone = Name::from_ascii(&view.zone).ok()?;
    let version = understudy_proto::serial::ZoneVersion::new(view.epoch, view.serial?);
    let confirmed_age = view
        .verified_age_seconds
        .map(std::time::Duration::from_secs);
    Some((
        zone.clone(),
        MemberZone {
            zone,
            version,
            confirmed_age,
        },
    ))
}

fn local_member(node: &LocalNode, ours: &BTreeMap<Name, MemberZone>) -> MemberView {
    MemberView {
        id: node.id.clone(),
        this_node: true,
        region: node.region.clone(),
        state: MemberState::Alive,
        generation: 0,
        quic: None,
        dns: node.dns.map(|dns| dns.to_string()),
        rtt_ms: None,
        zones: ours.values().map(|zone| zone_view(zone, ours)).collect(),
    }
}

fn member_view(
    member: &MemberStatus,
    this_node: bool,
    ours: &BTreeMap<Name, MemberZone>,
) -> MemberView {
    // This node's own zones come from its views, which gossip may trail.
    let zones = match this_node {
        true => ours.values().map(|zone| zone_view(zone, ours)).collect(),
        false => member
            .zones
            .iter()
            .map(|zone| zone_view(zone, ours))
            .collect(),
    };
    MemberView {
        id: member.id.clone(),
        this_node,
        region: member.region.clone(),
        state: match member.alive {
            true => MemberState::Alive,
            false => MemberState::Dead,
        },
        generation: member.generation,
        quic: member.quic.map(|quic| quic.to_string()),
        dns: member.dns.map(|dns| dns.to_string()),
        rtt_ms: member
            .rtt
            .map(|rtt| u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX)),
        zones,
    }
}

fn zone_view(zone: &MemberZone, ours: &BTreeMap<Name, MemberZone>) -> MemberZoneView {
    let serial_delta = ours
        .get(&zone.zone)
        .filter(|own| own.version.epoch == zone.version.epoch)
        .map(|own| i64::from(zone.version.serial.0.wrapping_sub(own.version.serial.0) as i32));
    MemberZoneView {
        zone: zone.zone.to_string(),
        epoch: zone.version.epoch,
        serial: zone.version.serial.0,
        serial_delta,
        confirmed_age_seconds: zone.confirmed_age.map(|age| age.as_secs()),
    }
}

fn fleet_zone(view: &ZoneStatusView, status: &ClusterStatus, now: Timestamp) -> FleetZoneView {
    let fleet = Name::from_ascii(&view.zone)
        .ok()
        .and_then(|zone| status.zones.get(&zone));
    let evidence = fleet.map(|fleet| &fleet.evidence);
    FleetZoneView {
        zone: view.zone.clone(),
        serial: view.serial,
        fleet_serial: fleet.and_then(|fleet| fleet.newest).map(|v| v.serial.0),
        lag_seconds: evidence
            .and_then(|evidence| evidence.lag)
            .map_or(0, |lag| now.since(lag.since).as_secs()),
        fresh_peer: evidence
            .and_then(|evidence| evidence.fresh_peer.as_ref())
            .map(ToString::to_string),
    }
}
