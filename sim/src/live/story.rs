//! The story of a drill, told as it happens from what the prober observed:
//! which node answers which serial, where its copy came from, which node or
//! region went silent and came back. Nothing here is scripted: a line is
//! printed only when an observation changes what is known.

use std::collections::HashSet;
use std::io::Write;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use super::observe::{Event, Mark, MarkKind, NodeInfo, Outcome, Probe, SourceSample};

/// What the story knows of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Unknown,
    Serving(u32),
    Wrong(u16),
    Silent(&'static str),
}

struct Teller {
    nodes: Vec<NodeInfo>,
    seen: Vec<Seen>,
    timeouts: Vec<u32>,
    sources: Vec<Option<SourceSample>>,
    told_sources: HashSet<(usize, Option<u32>, String)>,
    region_up: Vec<(String, Option<bool>)>,
    served: Vec<bool>,
    lines: Vec<String>,
    out: Box<dyn Write + Send>,
}

/// Tells the story of `events` on `out`; the thread returns every line.
pub fn spawn(
    nodes: Vec<NodeInfo>,
    events: Receiver<Event>,
    out: Box<dyn Write + Send>,
) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut regions: Vec<(String, Option<bool>)> = Vec::new();
        for node in &nodes {
            if !regions.iter().any(|(r, _)| r == &node.region) {
                regions.push((node.region.clone(), None));
            }
        }
        let count = nodes.len();
        let mut teller = Teller {
            nodes,
            seen: vec![Seen::Unknown; count],
            timeouts: vec![0; count],
            sources: vec![None; count],
            told_sources: HashSet::new(),
            region_up: regions,
            served: vec![false; count],
            lines: Vec::new(),
            out,
        };
        for event in events {
            match event {
                Event::Probe(probe) => teller.probe(&probe),
                Event::Source(sample) => teller.source(sample),
                Event::Mark(mark) => teller.mark(&mark),
            }
        }
        teller.lines
    })
}

impl Teller {
    fn say(&mut self, at_ms: u64, text: String) {
        let line = format!("[{:>6.1}s] {text}", at_ms as f64 / 1_000.0);
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
        self.lines.push(line);
    }

    fn mark(&mut self, mark: &Mark) {
        let arrow = match mark.kind {
            MarkKind::Change => "==>",
            MarkKind::Fault => "XX>",
            MarkKind::Heal => "++>",
        };
        self.say(mark.at_ms, format!("{arrow} {}", mark.label));
    }

    fn probe(&mut self, probe: &Probe) {
        let node = probe.node;
        let now = match &probe.outcome {
            Outcome::Answered {
                correct: true,
                serial: Some(serial),
                ..
            } => Seen::Serving(*serial),
            Outcome::Answered { rcode, .. } => Seen::Wrong(*rcode),
            Outcome::Refused => Seen::Silent("connection refused"),
            Outcome::Timeout => {
                self.timeouts[node] += 1;
                // One lost answer on a busy machine is not a silent node.
                if self.timeouts[node] < 2 {
                    return;
                }
                Seen::Silent("no answer")
            }
        };
        if !matches!(probe.outcome, Outcome::Timeout) {
            self.timeouts[node] = 0;
        }
        if now == self.seen[node] {
            return;
        }
        let before = std::mem::replace(&mut self.seen[node], now.clone());
        let id = self.nodes[node].id.clone();
        if let Seen::Silent(_) = now {
            // A node that went away comes back with whatever copy it has;
            // what ctl said before no longer describes it.
            self.sources[node] = None;
            self.told_sources.retain(|(n, _, _)| *n != node);
        }
        let served_before = self.served[node];
        self.served[node] |= matches!(now, Seen::Serving(_));
        let text = match (&before, &now) {
            (Seen::Silent(_), Seen::Serving(serial)) if served_before => {
                format!(
                    "{id} answers again, serial {serial}{}",
                    self.source_text(node, *serial)
                )
            }
            (_, Seen::Serving(serial)) => {
                format!(
                    "{id} answers serial {serial}{}",
                    self.source_text(node, *serial)
                )
            }
            (_, Seen::Wrong(0)) => {
                format!("{id} answers WRONG data (not what the primary published)")
            }
            (_, Seen::Wrong(rcode)) if served_before => {
                format!("{id} answers {}", rcode_name(*rcode))
            }
            (_, Seen::Wrong(rcode)) => {
                format!(
                    "{id} answers {} (no copy of the zone yet)",
                    rcode_name(*rcode)
                )
            }
            (_, Seen::Silent(why)) if served_before => format!("{id} stopped answering ({why})"),
            (_, Seen::Silent(why)) => format!("{id} does not answer yet ({why})"),
            (_, Seen::Unknown) => return,
        };
        self.say(probe.at_ms, text);
        self.region(probe.at_ms, node);
    }

    /// ", copy from …" when ctl already reported this serial's source.
    fn source_text(&mut self, node: usize, serial: u32) -> String {
        match &self.sources[node] {
            Some(sample) if sample.serial == Some(serial) => {
                let key = (node, sample.serial, sample.source.clone());
                let text = describe(&sample.source);
                self.told_sources.insert(key);
                format!(" — {text}")
            }
            _ => String::new(),
        }
    }

    fn source(&mut self, sample: SourceSample) {
        let node = sample.node;
        let key = (node, sample.serial, sample.source.clone());
        self.sources[node] = Some(sample.clone());
        let serving = matches!(self.seen[node], Seen::Serving(s) if Some(s) == sample.serial);
        if serving && self.told_sources.insert(key) {
            let serial = sample.serial.unwrap_or(0);
            let text = format!(
                "{}'s serial {serial}: {}",
                self.nodes[node].id,
                describe(&sample.source)
            );
            self.say(sample.at_ms, text);
        }
    }

    fn region(&mut self, at_ms: u64, node: usize) {
        let region = self.nodes[node].region.clone();
        let up = self
            .nodes
            .iter()
            .zip(&self.seen)
            .any(|(n, seen)| n.region == region && matches!(seen, Seen::Serving(_)));
        let Some(index) = self.region_up.iter().position(|(r, _)| r == &region) else {
            return;
        };
        // Regions are narrated once they first answered: before that the
        // nodes are still loading the zone.
        let before = self.region_up[index].1;
        match (before, up) {
            (Some(true), false) => self.say(at_ms, format!("region {region}: NO node answers")),
            (Some(false), true) => self.say(at_ms, format!("region {region} answers again")),
            _ => {}
        }
        if before.is_some() || up {
            self.region_up[index].1 = Some(up);
        }
    }
}

fn rcode_name(rcode: u16) -> String {
    match rcode {
        1 => "FORMERR".to_string(),
        2 => "SERVFAIL".to_string(),
        3 => "NXDOMAIN".to_string(),
        5 => "REFUSED".to_string(),
        other => format!("rcode {other}"),
    }
}

fn describe(source: &str) -> String {
    match source {
        "disk" => "loaded from its own disk (no transfer since it started)".to_string(),
        "nothing yet" => "no copy yet".to_string(),
        other => format!("copy from {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(at_ms: u64, node: usize, outcome: Outcome) -> Event {
        Event::Probe(Probe {
            at_ms,
            node,
            outcome,
        })
    }

    fn serving(serial: u32) -> Outcome {
        Outcome::Answered {
            rcode: 0,
            serial: Some(serial),
            txt_serial: Some(serial),
            correct: true,
        }
    }

    #[test]
    fn the_story_follows_observations_only() {
        let nodes = vec![
            NodeInfo {
                id: "a-1".into(),
                region: "a".into(),
            },
            NodeInfo {
                id: "b-1".into(),
                region: "b".into(),
            },
        ];
        let (sender, receiver) = std::sync::mpsc::channel();
        let teller = spawn(nodes, receiver, Box::new(std::io::sink()));
        let source = |at_ms, node, serial, source: &str| {
            Event::Source(SourceSample {
                at_ms,
                node,
                serial: Some(serial),
                source: source.into(),
            })
        };
        for event in [
            probe(0, 1, Outcome::Refused),
            probe(10, 0, serving(1)),
            probe(20, 1, serving(1)),
            source(30, 0, 1, "peer b-1"),
            probe(200, 1, Outcome::Timeout),
            probe(400, 1, Outcome::Timeout),
            source(500, 1, 1, "disk"),
            probe(600, 1, serving(1)),
            probe(700, 1, serving(1)),
        ] {
            sender.send(event).unwrap();
        }
        drop(sender);
        let lines = teller.join().unwrap();
        let text: Vec<&str> = lines.iter().map(|l| &l[10..]).collect();
        assert_eq!(
            text,
            vec![
                "b-1 does not answer yet (connection refused)",
                "a-1 answers serial 1",
                "b-1 answers serial 1",
                "a-1's serial 1: copy from peer b-1",
                "b-1 stopped answering (no answer)",
                "region b: NO node answers",
                "b-1 answers again, serial 1 — loaded from its own disk (no transfer since it started)",
                "region b answers again",
            ]
        );
    }
}
