//! The timeline: what happens when.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use super::{Selector, duration};

/// One timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// When, from the start of the run.
    pub at: Duration,
    /// What.
    pub action: StepAction,
}

/// Read by hand: serde's `flatten` would let unknown keys through, and a
/// misspelt key in a fault is a scenario that silently tests less.
impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Step, D::Error> {
        let mut table = toml::Table::deserialize(deserializer)?;
        let at = table
            .remove("at")
            .ok_or_else(|| D::Error::missing_field("at"))?;
        let at = duration::deserialize(at).map_err(D::Error::custom)?;
        let keys: Vec<String> = table.keys().cloned().collect();
        let action =
            StepAction::deserialize(toml::Value::Table(table)).map_err(D::Error::custom)?;
        let allowed = action.fields();
        if let Some(key) = keys
            .iter()
            .find(|k| *k != "do" && !allowed.contains(&k.as_str()))
        {
            return Err(D::Error::custom(format!(
                "unknown key {key:?} in a {:?} step",
                action.name()
            )));
        }
        Ok(Step { at, action })
    }
}

/// What happens at a step (the TOML key `do`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StepAction {
    /// The primary raises the serial of `zones` zones (all when absent;
    /// the first ones by index) and sends NOTIFY to every node.
    Change {
        /// How many zones change.
        #[serde(default)]
        zones: Option<u32>,
    },
    /// The primary stops answering.
    PrimaryDown,
    /// The primary answers again.
    PrimaryUp,
    /// Traffic between nodes of different groups is dropped until `heal`.
    /// Nodes in no group keep talking to every group.
    Partition {
        /// Disjoint groups of selectors (`"primary"` allowed).
        groups: Vec<Vec<Selector>>,
    },
    /// Every partition and link fault ends.
    Heal,
    /// Traffic between two sets of nodes is dropped until `link-up`/`heal`.
    LinkDown {
        /// The two ends.
        between: (Selector, Selector),
    },
    /// Traffic between two sets flows again.
    LinkUp {
        /// The two ends.
        between: (Selector, Selector),
    },
    /// The link between two sets goes down and up `count` times.
    Flap {
        /// The two ends.
        between: (Selector, Selector),
        /// Length of each down and each up phase.
        #[serde(with = "duration")]
        period: Duration,
        /// Number of down phases.
        count: u32,
    },
    /// The nodes die (kill -9): memory lost, disk kept.
    Crash {
        /// Which nodes.
        nodes: Vec<Selector>,
    },
    /// Crashed nodes start again from their disk.
    Restart {
        /// Which nodes.
        nodes: Vec<Selector>,
    },
    /// The nodes stop (SIGSTOP): memory kept, nothing processed.
    Freeze {
        /// Which nodes.
        nodes: Vec<Selector>,
    },
    /// Frozen nodes continue (SIGCONT).
    Thaw {
        /// Which nodes.
        nodes: Vec<Selector>,
    },
    /// Message loss probability from now on.
    Loss {
        /// Probability in 0.0..=1.0.
        rate: f64,
    },
}

impl StepAction {
    /// The TOML name of the action, for traces and reports.
    pub fn name(&self) -> &'static str {
        match self {
            StepAction::Change { .. } => "change",
            StepAction::PrimaryDown => "primary-down",
            StepAction::PrimaryUp => "primary-up",
            StepAction::Partition { .. } => "partition",
            StepAction::Heal => "heal",
            StepAction::LinkDown { .. } => "link-down",
            StepAction::LinkUp { .. } => "link-up",
            StepAction::Flap { .. } => "flap",
            StepAction::Crash { .. } => "crash",
            StepAction::Restart { .. } => "restart",
            StepAction::Freeze { .. } => "freeze",
            StepAction::Thaw { .. } => "thaw",
            StepAction::Loss { .. } => "loss",
        }
    }

    /// The TOML keys the action takes besides `do`.
    fn fields(&self) -> &'static [&'static str] {
        match self {
            StepAction::Change { .. } => &["zones"],
            StepAction::Partition { .. } => &["groups"],
            StepAction::LinkDown { .. } | StepAction::LinkUp { .. } => &["between"],
            StepAction::Flap { .. } => &["between", "period", "count"],
            StepAction::Crash { .. }
            | StepAction::Restart { .. }
            | StepAction::Freeze { .. }
            | StepAction::Thaw { .. } => &["nodes"],
            StepAction::Loss { .. } => &["rate"],
            StepAction::PrimaryDown | StepAction::PrimaryUp | StepAction::Heal => &[],
        }
    }

    /// Every selector the action names.
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            StepAction::Partition { groups } => groups.iter().flatten().collect(),
            StepAction::LinkDown { between }
            | StepAction::LinkUp { between }
            | StepAction::Flap { between, .. } => vec![&between.0, &between.1],
            StepAction::Crash { nodes }
            | StepAction::Restart { nodes }
            | StepAction::Freeze { nodes }
            | StepAction::Thaw { nodes } => nodes.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the action ends with the network or nodes still faulty
    /// (the convergence bound starts after the last fault ends).
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            StepAction::PrimaryDown
                | StepAction::Partition { .. }
                | StepAction::LinkDown { .. }
                | StepAction::Flap { .. }
                | StepAction::Crash { .. }
                | StepAction::Freeze { .. }
        )
    }
}
