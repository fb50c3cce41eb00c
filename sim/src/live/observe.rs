//! What a drill observed: probes of every node, where each node said its
//! copy came from, the primary's changes and the faults injected. The
//! report and the story are computed from this alone.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::Serialize;

/// How one probe of one node ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The node answered the SOA question.
    Answered {
        /// The response code.
        rcode: u16,
        /// The serial of the SOA in the answer, if any.
        serial: Option<u32>,
        /// The version named by the TXT record `serial.<zone>`, if any.
        txt_serial: Option<u32>,
        /// Whether the answer is data the primary produced: NOERROR, AA,
        /// a published serial, and a TXT of that serial (or of a newer
        /// published one, when a new version arrived between the two
        /// questions).
        correct: bool,
    },
    /// ICMP port unreachable: nothing listens.
    Refused,
    /// No answer in time (a frozen process, a dropped packet).
    Timeout,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// Index of the node.
    pub node: usize,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Probe {
    /// The serial answered, when the answer was correct.
    pub fn correct_serial(&self) -> Option<u32> {
        match self.outcome {
            Outcome::Answered {
                correct: true,
                serial,
                ..
            } => serial,
            _ => None,
        }
    }

    /// Whether the node answered correctly.
    pub fn is_correct(&self) -> bool {
        self.correct_serial().is_some()
    }
}

/// What `understudy ctl zone status` said about a node's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSample {
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// Index of the node.
    pub node: usize,
    /// The serial the node serves.
    pub serial: Option<u32>,
    /// Where the copy came from: `primary ADDR`, `peer ID`, or `disk` when
    /// the node has transferred nothing since it started.
    pub source: String,
}

/// A fault injected, a fault healed, or a change at the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// What kind of event.
    pub kind: MarkKind,
    /// For the reader, e.g. `kill -9 fra-1`.
    pub label: String,
    /// Nodes it concerns (empty: the primary or the network).
    pub nodes: Vec<usize>,
}

/// Kinds of [`Mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkKind {
    /// The primary published a new serial.
    Change,
    /// Something was broken.
    Fault,
    /// Something was repaired.
    Heal,
}

/// A transfer the primary served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryTransfer {
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// The node it went to, when the client was one.
    pub node: Option<usize>,
    /// `axfr` or `ixfr`.
    pub kind: String,
    /// The serial transferred.
    pub serial: u32,
}

/// A node of the drill, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// Its id.
    pub id: String,
    /// Its region.
    pub region: String,
}

/// Everything observed, in arrival order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observations {
    /// The nodes, by index.
    pub nodes: Vec<NodeInfo>,
    /// Every probe.
    pub probes: Vec<Probe>,
    /// Every change of a node's reported source or serial.
    pub sources: Vec<SourceSample>,
    /// Faults, heals and changes.
    pub marks: Vec<Mark>,
    /// The primary's serial history: (ms, serial), the first at 0.
    pub serials: Vec<(u64, u32)>,
    /// Transfers the primary served.
    pub primary_transfers: Vec<PrimaryTransfer>,
    /// Milliseconds the drill ran.
    pub duration_ms: u64,
    /// From when availability counts: once every node first served the
    /// zone (before that, nodes are still loading it).
    pub steady_from_ms: u64,
}

impl Observations {
    /// The region names in first-seen order.
    pub fn regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = Vec::new();
        for node in &self.nodes {
            if !regions.contains(&node.region) {
                regions.push(node.region.clone());
            }
        }
        regions
    }

    /// Indexes of the nodes of `region`.
    pub fn region_nodes(&self, region: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].region == region)
            .collect()
    }

    /// The primary's newest serial at `at_ms`.
    pub fn primary_serial_at(&self, at_ms: u64) -> Option<u32> {
        self.serials
            .iter()
            .take_while(|(at, _)| *at <= at_ms)
            .last()
            .map(|(_, serial)| *serial)
    }
}

/// An observation as it arrives, for the story.
#[derive(Debug, Clone)]
pub enum Event {
    /// A probe ended.
    Probe(Probe),
    /// A node's reported copy changed.
    Source(SourceSample),
    /// A fault, heal or change.
    Mark(Mark),
}

/// The shared, growing record of a drill and its clock.
#[derive(Debug, Clone)]
pub struct Recorder {
    start: Instant,
    inner: Arc<Mutex<Observations>>,
    events: Option<Sender<Event>>,
}

impl Recorder {
    /// Starts the clock for `nodes`, the primary at `serial`.
    pub fn new(nodes: Vec<NodeInfo>, serial: u32) -> Recorder {
        let observations = Observations {
            nodes,
            serials: vec![(0, serial)],
            ..Observations::default()
        };
        Recorder {
            start: Instant::now(),
            inner: Arc::new(Mutex::new(observations)),
            events: None,
        }
    }

    /// Also sends every observation to `events` as it is recorded.
    pub fn with_events(mut self, events: Sender<Event>) -> Recorder {
        self.events = Some(events);
        self
    }

    /// Records a probe.
    pub fn probe(&self, probe: Probe) {
        self.lock().probes.push(probe.clone());
        self.send(Event::Probe(probe));
    }

    /// Records a node's reported copy when it differs from the last one.
    pub fn source(&self, sample: SourceSample) {
        {
            let mut observations = self.lock();
            let last = observations
                .sources
                .iter()
                .rev()
                .find(|s| s.node == sample.node);
            if last.is_some_and(|l| l.serial == sample.serial && l.source == sample.source) {
                return;
            }
            observations.sources.push(sample.clone());
        }
        self.send(Event::Source(sample));
    }

    fn send(&self, event: Event) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    /// Milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Milliseconds from the start to `at`.
    pub fn ms_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_millis() as u64
    }

    /// Locks the record.
    pub fn lock(&self) -> MutexGuard<'_, Observations> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a mark now and returns it.
    pub fn mark(&self, kind: MarkKind, label: impl Into<String>, nodes: Vec<usize>) -> Mark {
        let mark = Mark {
            at_ms: self.now_ms(),
            kind,
            label: label.into(),
            nodes,
        };
        self.lock().marks.push(mark.clone());
        self.send(Event::Mark(mark.clone()));
        mark
    }

    /// Records the primary's new serial now.
    pub fn primary_serial(&self, serial: u32) {
        let at = self.now_ms();
        self.lock().serials.push((at, serial));
    }

    /// Availability counts from now on.
    pub fn steady(&self) {
        let at = self.now_ms();
        self.lock().steady_from_ms = at;
    }

    /// A copy of everything so far, its duration set to now.
    pub fn snapshot(&self) -> Observations {
        let mut observations = self.lock().clone();
        observations.duration_ms = self.now_ms();
        observations
    }
}
