//! The invariants, checked as the run goes; the first violation stops it.

use std::fmt;

use understudy_proto::ZoneVersion;
use understudy_proto::time::Timestamp;

/// Which rule broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A node served an older version than one it served before.
    Regressed,
    /// A node served content no primary produced.
    Unproduced,
    /// A region with a node up that ever loaded a zone did not answer it.
    RegionDark,
    /// A node had not converged to the primary's serial within the bound.
    NotConverged,
    /// The primary served more transfers for one change than the bound.
    TooManyTransfers,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::Regressed => "served an older version than before",
            Rule::Unproduced => "served data no primary produced",
            Rule::RegionDark => "region stopped answering",
            Rule::NotConverged => "did not converge in time",
            Rule::TooManyTransfers => "too many transfers from the primary for one change",
        })
    }
}

/// A broken invariant: where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The event number at which it was seen.
    pub step: u64,
    /// The simulated time.
    pub at: Timestamp,
    /// What exactly.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at step {} (t={:.3}s): {}",
            self.rule,
            self.step,
            self.at.as_millis() as f64 / 1_000.0,
            self.detail
        )
    }
}

/// What the checker remembers between steps.
pub struct Checker {
    /// The first violation.
    pub violation: Option<Violation>,
    /// `served[node][zone]`: the newest version ever served.
    served: Vec<Vec<Option<ZoneVersion>>>,
    /// Current step and time, set by the loop.
    pub step: u64,
    /// Current time.
    pub now: Timestamp,
}

impl Checker {
    /// A checker for `nodes` × `zones`.
    pub fn new(nodes: usize, zones: usize) -> Checker {
        Checker {
            violation: None,
            served: vec![vec![None; zones]; nodes],
            step: 0,
            now: Timestamp::ZERO,
        }
    }

    /// Records a failure of `rule`, keeping the first.
    pub fn fail(&mut self, rule: Rule, detail: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation {
                rule,
                step: self.step,
                at: self.now,
                detail,
            });
        }
    }

    /// A node starts serving `version` of `zone`: never older than before.
    pub fn serve(&mut self, node: usize, node_name: &str, zone: u32, version: ZoneVersion) {
        let slot = &mut self.served[node][zone as usize];
        if let Some(before) = *slot
            && before.is_newer_than(version)
        {
            self.fail(
                Rule::Regressed,
                format!("{node_name} zone {zone}: served {before:?}, now {version:?}"),
            );
            return;
        }
        *slot = Some(version);
    }

    /// Whether the node ever served the zone.
    pub fn ever_loaded(&self, node: usize, zone: u32) -> bool {
        self.served[node][zone as usize].is_some()
    }
}
