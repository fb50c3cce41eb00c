//! Replication decisions: where to fetch a zone from, whom to ask for a
//! confirmation, who checks the primary after a NOTIFY.
//!
//! Gossip describes the cluster ([`ClusterView`]: members, liveness, round
//! trips, advertised zone versions and confirmation ages); it is advisory.
//! The [`Replicator`] turns it, with each zone's local state, into actions
//! the driver carries out over QUIC, and keeps the authenticated evidence
//! (peer confirmations, fetches, the primary's SOA) the health machine
//! needs. Zone bytes are only ever installed through the refresh machine,
//! after the driver verified their digest; gossip alone never changes what
//! is served.
//!
//! Sans-IO, like the refresh machine: no clock, no sockets, no randomness.
//! The same inputs give the same actions, so the simulator can drive it.
//!
//! # Calling order for a driver
//!
//! 1. [`Replicator::new`] with this node's id and region.
//! 2. Feed gossip as it changes: [`handle_member`](Replicator::handle_member)
//!    (id, generation, region) before that member's adverts,
//!    [`handle_liveness`](Replicator::handle_liveness),
//!    [`handle_rtt`](Replicator::handle_rtt) (from QUIC connections),
//!    [`handle_advert`](Replicator::handle_advert) per (member, zone),
//!    [`remove_member`](Replicator::remove_member).
//! 3. After every change of a zone's refresh machine (each drained event,
//!    each `handle_peer_install` / `handle_confirmation`), call
//!    [`handle_local`](Replicator::handle_local) with
//!    [`LocalZone::of`]; [`remove_zone`](Replicator::remove_zone) when the
//!    zone goes.
//! 4. On a NOTIFY that passed its checks, ask
//!    [`handle_notify`](Replicator::handle_notify): `Direct` → the refresh
//!    machine's `handle_notify`; `Hold { until, .. }` →
//!    `handle_notify_deferred(.., until)`.
//! 5. After every input, drain [`poll_action`](Replicator::poll_action)
//!    until `None`, then re-arm one timer at
//!    [`poll_timeout`](Replicator::poll_timeout) and call `poll_action`
//!    again when it fires.
//! 6. Carry out each [`ReplicaAction`] and report it with its id:
//!    - `Fetch { want, have }`: ask the peer for diffs from `have` or the
//!      full snapshot; verify the digest; offer it to the refresh machine
//!      with `handle_peer_install(now, version, soa, age)`. Installed (then
//!      swap in and store) → [`FetchOutcome::Installed`]; refused because
//!      we already serve as new → [`FetchOutcome::Superseded`]; else
//!      [`FetchOutcome::Failed`] with the [`PeerFailure`].
//!    - `Confirm { ours }`: ask the peer's (epoch, serial, digest, age).
//!      When it is our version with our digest, pass it to the refresh
//!      machine's `handle_confirmation`; a different digest for our
//!      version is [`PeerFailure::Corrupt`]. Report
//!      [`ConfirmOutcome::Confirmed`] with the peer's version and age.
//!
//!    Give up by the action's deadline and report `Timeout`; the
//!    replicator itself gives up `DRIVER_GRACE` later.
//! 7. For health, [`evidence`](Replicator::evidence) per zone goes into
//!    `health::ZoneHealth`.

mod action;
mod backoff;
mod config;
mod evidence;
mod fanout;
mod local;
mod member;
mod plan;
pub mod rendezvous;
mod replicator;
mod view;

pub use action::{
    ConfirmOutcome, FetchOutcome, PeerFailure, ReplicaAction, ReplicaActionKind, ReplicaId,
    ReplicaReportError,
};
pub use backoff::Backoff;
pub use config::{ReplicateConfig, ReplicateConfigError};
pub use fanout::{DirectReason, NotifyPlan};
pub use local::LocalZone;
pub use member::{Advert, Confirmation, HeldAdvert, Liveness, Member, MemberInfo, NodeId};
pub use replicator::Replicator;
pub use view::{ClusterView, MemberChange, Proximity};
