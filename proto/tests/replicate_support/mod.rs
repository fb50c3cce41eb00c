//! Shared set-up for the `replicate_*` and `health_*` tests: names, members,
//! adverts, local zone states, and a small discrete-event fleet.
#![allow(dead_code, unused_imports)]

pub mod fleet;

pub use std::time::Duration;

pub use understudy_proto::health::{FleetEvidence, Health, HealthConfig, Lag, Reason, ZoneHealth};
pub use understudy_proto::refresh::{Freshness, Intervals};
pub use understudy_proto::replicate::{
    Advert, ConfirmOutcome, DirectReason, FetchOutcome, Liveness, LocalZone, MemberInfo, NodeId,
    NotifyPlan, PeerFailure, ReplicaAction, ReplicaActionKind, ReplicaReportError, ReplicateConfig,
    Replicator,
};
pub use understudy_proto::{Name, Timestamp, ZoneVersion};

pub const REFRESH: u64 = 3_600;
pub const RETRY: u64 = 600;
pub const EXPIRE: u64 = 86_400;

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

pub fn zone() -> Name {
    name("example.com.")
}

pub fn id(text: &str) -> NodeId {
    NodeId::from(text)
}

pub fn v(epoch: u32, serial: u32) -> ZoneVersion {
    ZoneVersion::new(epoch, serial)
}

pub fn ms(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

pub fn s(seconds: u64) -> Timestamp {
    Timestamp::from_millis(seconds * 1_000)
}

pub fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

pub fn timers() -> Intervals {
    Intervals {
        refresh: secs(REFRESH),
        retry: secs(RETRY),
        expire: secs(EXPIRE),
    }
}

/// A zone loaded here at `version`, confirmed `age` ago, primary reachable.
pub fn loaded(version: ZoneVersion, age: Duration) -> LocalZone {
    LocalZone {
        serving: Some(version),
        verified_age: Some(age),
        primary_version: Some(version),
        timers: Some(timers()),
        primary_reachable: true,
    }
}

pub fn unloaded() -> LocalZone {
    LocalZone {
        serving: None,
        verified_age: None,
        primary_version: None,
        timers: None,
        primary_reachable: true,
    }
}

/// Node `own` in `region` with the default settings.
pub fn replicator(own: &str, region: &str) -> Replicator {
    Replicator::new(ReplicateConfig::default(), id(own), region)
}

/// Adds member `who` (generation 1) in `region`, alive, with a round trip.
pub fn join(r: &mut Replicator, who: &str, region: &str, rtt_ms: Option<u64>) {
    r.handle_member(
        ms(0),
        MemberInfo {
            id: id(who),
            generation: 1,
            region: region.to_string(),
        },
    );
    if let Some(rtt) = rtt_ms {
        r.handle_rtt(&id(who), Duration::from_millis(rtt));
    }
}

/// `who` (generation 1) advertises `version` of `zone`, confirmed `age` ago.
pub fn advertise(
    r: &mut Replicator,
    now: Timestamp,
    who: &str,
    zone: &Name,
    version: ZoneVersion,
    age: Duration,
) {
    let advert = Advert {
        version,
        confirmed_age: Some(age),
        primary_reachable: true,
    };
    assert!(r.handle_advert(now, &id(who), 1, zone, Some(advert)));
}

/// The next action, which must be a fetch: (peer, want).
pub fn fetch(r: &mut Replicator, now: Timestamp) -> (ReplicaAction, NodeId, ZoneVersion) {
    let action = r.poll_action(now).expect("an action is ready");
    match action.kind {
        ReplicaActionKind::Fetch { want, .. } => {
            let peer = action.peer.clone();
            (action, peer, want)
        }
        other => panic!("expected a fetch, got {other:?}"),
    }
}

/// Every action ready now.
pub fn drain(r: &mut Replicator, now: Timestamp) -> Vec<ReplicaAction> {
    std::iter::from_fn(|| r.poll_action(now)).collect()
}
