//! The discrete-event queue and the events the simulator processes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

use understudy_proto::refresh::{ActionId, SoaTimers, XfrKind};
use understudy_proto::replicate::ReplicaAction;
use understudy_proto::time::Timestamp;

use super::node::Snapshot;

/// What a node asks the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Its SOA.
    Soa,
    /// A transfer (IXFR from `from`, else AXFR).
    Transfer {
        /// The serial held, for IXFR.
        from: Option<u32>,
    },
}

/// One event. Node events carry the node's incarnation: those of a former
/// life (before a crash) are dropped.
#[derive(Debug, Clone)]
pub enum Event {
    /// Timeline step number `n` (in the sorted timeline).
    Timeline(usize),
    /// A flapping link changes: down or up; `left` down phases remain.
    Flap {
        /// The timeline step of the flap.
        step: usize,
        /// Whether the link goes down now.
        down: bool,
        /// Down phases left after this one.
        left: u32,
    },
    /// A node's timer.
    Wake { node: usize, inc: u32 },
    /// A node's gossip round.
    GossipRound { node: usize, inc: u32 },
    /// A gossip SYN arrives at `to`.
    Syn {
        from: usize,
        from_inc: u32,
        to: usize,
    },
    /// A node's health evaluation.
    HealthTick { node: usize, inc: u32 },
    /// NOTIFY from the primary arrives.
    Notify {
        node: usize,
        inc: u32,
        zone: u32,
        serial: u32,
    },
    /// A node's request arrives at the primary.
    AtPrimary {
        node: usize,
        inc: u32,
        zone: u32,
        id: ActionId,
        request: Request,
    },
    /// The primary's SOA answer arrives.
    SoaAnswer {
        node: usize,
        inc: u32,
        zone: u32,
        id: ActionId,
        soa: SoaTimers,
    },
    /// The primary's transfer arrives.
    TransferAnswer {
        node: usize,
        inc: u32,
        zone: u32,
        id: ActionId,
        soa: SoaTimers,
        digest: u64,
        kind: XfrKind,
    },
    /// IXFR answered with the SOA alone: up to date.
    UpToDate {
        node: usize,
        inc: u32,
        zone: u32,
        id: ActionId,
        soa: SoaTimers,
    },
    /// A refresh action's deadline.
    RefreshDeadline {
        node: usize,
        inc: u32,
        zone: u32,
        id: ActionId,
    },
    /// A node's replication request arrives at its peer.
    AtPeer {
        node: usize,
        inc: u32,
        peer: usize,
        zone: u32,
        action: ReplicaAction,
    },
    /// The peer's answer (its snapshot and confirmation age) arrives.
    PeerAnswer {
        node: usize,
        inc: u32,
        zone: u32,
        action: ReplicaAction,
        snapshot: Snapshot,
        age: Duration,
    },
    /// The peer does not hold the zone.
    PeerRefused {
        node: usize,
        inc: u32,
        action: ReplicaAction,
    },
    /// A replication action's deadline.
    ReplicaDeadline {
        node: usize,
        inc: u32,
        action: ReplicaAction,
    },
    /// Convergence check for a change or heal at `since`.
    Converge { since: Timestamp, serials: Vec<u32> },
    /// Periodic check that every region answers.
    Sweep,
    /// Coarse gossip: a member's news of this round leaves.
    Spread { member: usize, inc: u32 },
    /// Coarse gossip: an observer hears a member's state.
    Hear {
        observer: usize,
        inc: u32,
        member: usize,
        generation: u64,
        version: u64,
    },
    /// Coarse gossip: an observer's failure detector gives up on a member.
    Suspect {
        observer: usize,
        inc: u32,
        member: usize,
        generation: u64,
    },
}

struct Scheduled {
    at: Timestamp,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Scheduled) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Scheduled) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed: the heap pops the earliest, ties in insertion order.
    fn cmp(&self, other: &Scheduled) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Events by time; equal times in the order they were scheduled.
#[derive(Default)]
pub struct Queue {
    heap: BinaryHeap<Scheduled>,
    seq: u64,
}

impl Queue {
    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: Timestamp, event: Event) {
        self.seq += 1;
        self.heap.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    /// The earliest event, if it is due by `until`.
    pub fn pop_until(&mut self, until: Timestamp) -> Option<(Timestamp, Event)> {
        if self.heap.peek()?.at > until {
            return None;
        }
        self.heap.pop().map(|s| (s.at, s.event))
    }
}

impl Event {
    /// Appends the event's canonical trace text to `line`: a short tag and
    /// its numbers (Debug formatting would cost a fifth of the run).
    pub fn write_trace(&self, line: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Event::Timeline(step) => write!(line, "timeline {step}"),
            Event::Flap { step, down, left } => write!(line, "flap {step} {down} {left}"),
            Event::Wake { node, inc } => write!(line, "wake {node}.{inc}"),
            Event::GossipRound { node, inc } => write!(line, "round {node}.{inc}"),
            Event::Syn { from, from_inc, to } => write!(line, "syn {from}.{from_inc}>{to}"),
            Event::HealthTick { node, inc } => write!(line, "health {node}.{inc}"),
            Event::Notify {
                node,
                inc,
                zone,
                serial,
            } => write!(line, "notify {node}.{inc} z{zone} {serial}"),
            Event::AtPrimary {
                node,
                inc,
                zone,
                id,
                request,
            } => {
                write!(
                    line,
                    "at-primary {node}.{inc} z{zone} a{} {request:?}",
                    id.0
                )
            }
            Event::SoaAnswer {
                node,
                inc,
                zone,
                id,
                soa,
            } => {
                write!(line, "soa {node}.{inc} z{zone} a{} {}", id.0, soa.serial)
            }
            Event::TransferAnswer {
                node,
                inc,
                zone,
                id,
                soa,
                digest,
                kind,
            } => write!(
                line,
                "xfr {node}.{inc} z{zone} a{} {} {digest:016x} {kind:?}",
                id.0, soa.serial
            ),
            Event::UpToDate {
                node,
                inc,
                zone,
                id,
                soa,
            } => {
                write!(
                    line,
                    "uptodate {node}.{inc} z{zone} a{} {}",
                    id.0, soa.serial
                )
            }
            Event::RefreshDeadline {
                node,
                inc,
                zone,
                id,
            } => {
                write!(line, "deadline {node}.{inc} z{zone} a{}", id.0)
            }
            Event::AtPeer {
                node,
                inc,
                peer,
                zone,
                action,
            } => {
                write!(
                    line,
                    "at-peer {node}.{inc}>{peer} z{zone} r{} {:?}",
                    action.id.0, action.kind
                )
            }
            Event::PeerAnswer {
                node,
                inc,
                zone,
                action,
                snapshot,
                age,
            } => write!(
                line,
                "peer-answer {node}.{inc} z{zone} r{} {:?} {:016x} {}",
                action.id.0,
                snapshot.version,
                snapshot.digest,
                age.as_millis()
            ),
            Event::PeerRefused { node, inc, action } => {
                write!(line, "peer-refused {node}.{inc} r{}", action.id.0)
            }
            Event::ReplicaDeadline { node, inc, action } => {
                write!(line, "replica-deadline {node}.{inc} r{}", action.id.0)
            }
            Event::Converge { since, .. } => write!(line, "converge {}", since.as_millis()),
            Event::Sweep => write!(line, "sweep"),
            Event::Spread { member, inc } => write!(line, "spread {member}.{inc}"),
            Event::Hear {
                observer,
                inc,
                member,
                generation,
                version,
            } => {
                write!(
                    line,
                    "hear {observer}.{inc} {member}/{generation}@{version}"
                )
            }
            Event::Suspect {
                observer,
                inc,
                member,
                generation,
            } => {
                write!(line, "suspect {observer}.{inc} {member}/{generation}")
            }
        };
    }
}
