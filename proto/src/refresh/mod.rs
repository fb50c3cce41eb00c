//! The per-zone refresh machine: SOA timers, NOTIFY, IXFR, AXFR, expiry.
//!
//! [`ZoneRefresh`] decides, for one secondary zone, when to ask which
//! primary for its SOA, when to transfer (IXFR, falling back to AXFR), what
//! to serve past expire, and what to tell ctl, metrics and logs.
//! [`RefreshScheduler`] holds many of them and hands their work out with
//! bounded concurrency, NOTIFY- and operator-driven work first.
//!
//! Both are sans-IO, in the manner of quinn-proto: the driver (the node's
//! tokio tasks, or the simulator) feeds inputs with `handle_*(now, …)`,
//! drains outputs with `poll_*`, and carries out the network work itself.
//!
//! # Calling order for a driver
//!
//! 1. Create the machine: [`ZoneRefresh::new`] for a zone with nothing
//!    loaded (its first AXFR is queued at once), or [`ZoneRefresh::restore`]
//!    with the snapshot loaded from disk and the saved [`PersistedState`].
//! 2. Feed every input as it happens, with the current time:
//!    [`handle_notify`](ZoneRefresh::handle_notify) (after the NOTIFY
//!    passed its ACL and TSIG checks and was answered) or, in a cluster
//!    when this node is not the region's fetcher,
//!    [`handle_notify_deferred`](ZoneRefresh::handle_notify_deferred),
//!    [`handle_refresh_command`](ZoneRefresh::handle_refresh_command),
//!    [`handle_retransfer_command`](ZoneRefresh::handle_retransfer_command),
//!    [`handle_confirmation`](ZoneRefresh::handle_confirmation) and
//!    [`handle_peer_install`](ZoneRefresh::handle_peer_install) (cluster
//!    peers; install a peer's snapshot only if
//!    [`accepts_version`](ZoneRefresh::accepts_version) holds),
//!    [`reconfigure`](ZoneRefresh::reconfigure) on a configuration reload,
//!    and the reports of actions (step 4).
//! 3. After every input, and whenever the time from
//!    [`poll_timeout`](ZoneRefresh::poll_timeout) arrives (call
//!    [`handle_timeout`](ZoneRefresh::handle_timeout) then), drain:
//!    - [`poll_action`](ZoneRefresh::poll_action) until `None` (at most one
//!      action is ever in flight, so at most one comes out);
//!    - [`poll_event`](ZoneRefresh::poll_event) until `None`, logging each;
//!    - re-read [`poll_timeout`](ZoneRefresh::poll_timeout) and re-arm the
//!      timer;
//!    - write [`persisted`](ZoneRefresh::persisted) to disk if it changed.
//! 4. Carry out the action and report it with its [`ActionId`]:
//!    - [`Action`] `QuerySoa` → [`handle_soa_response`](ZoneRefresh::handle_soa_response)
//!      with the primary's SOA timers or a [`Failure`];
//!    - `Transfer` → receive and validate the transfer, then ask
//!      [`install_version`](ZoneRefresh::install_version) with the new
//!      serial: `None` means discard it; `Some(version)` means swap the new
//!      snapshot in and store it under that version, and report
//!      [`TransferOutcome::Installed`] (or `Failed(Failure::Store)` if
//!      storing failed). A single-SOA IXFR answer is
//!      [`TransferOutcome::UpToDate`]; a refused or inconsistent IXFR is
//!      [`TransferOutcome::FallbackToAxfr`].
//!
//!    Give up by the action's `deadline` and report [`Failure::Timeout`];
//!    the machine itself gives up [`DRIVER_GRACE`] later.
//! 5. Serve with [`freshness`](ZoneRefresh::freshness); show
//!    [`status`](ZoneRefresh::status) in ctl and metrics.
//!
//! With the scheduler the order is the same, through the scheduler's own
//! methods, which name the zone: see [`RefreshScheduler`].

mod action;
mod config;
mod cycle;
mod event;
mod held;
mod jitter;
mod machine;
mod persist;
mod scheduler;
mod status;

pub use action::{
    Action, ActionClass, ActionId, ActionKind, Failure, Priority, ReportError, TransferKind,
    TransferOutcome, XfrKind,
};
pub use config::{ConfigError, ExpiryPolicy, Intervals, RefreshConfig, SoaTimers};
pub use event::{Event, EventKind, NotifyDisposition, Op};
pub use machine::{DRIVER_GRACE, ZoneRefresh};
pub use persist::{PersistedState, Restore};
pub use scheduler::{
    Dispatch, RefreshScheduler, SchedulerConfig, SchedulerConfigError, SchedulerLoad,
};
pub use status::{Counters, Freshness, RefreshResult, Regression, ZoneState, ZoneStatus};
