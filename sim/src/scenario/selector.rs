//! Node selectors: `"all"`, `"primary"`, `"fra"`, `"fra/1"`.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::Scenario;

/// A node of the fleet: its region (index into `regions`) and its index
/// within the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeRef {
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// Index within the region, from 0.
    pub index: u32,
}

/// A set of nodes named in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Selector {
    /// Every node.
    All,
    /// The primary (meaningful in partitions and links only).
    Primary,
    /// Every node of a region.
    Region(String),
    /// One node of a region.
    Node(String, u32),
}

/// Why a selector's text is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a node selector (all, primary, REGION or REGION/N)")]
pub struct BadSelector(String);

impl FromStr for Selector {
    type Err = BadSelector;

    fn from_str(text: &str) -> Result<Selector, BadSelector> {
        let bad = || BadSelector(text.to_owned());
        match text {
            "" => Err(bad()),
            "all" => Ok(Selector::All),
            "primary" => Ok(Selector::Primary),
            _ => match text.split_once('/') {
                None => Ok(Selector::Region(text.to_owned())),
                Some((region, index)) if !region.is_empty() => Ok(Selector::Node(
                    region.to_owned(),
                    index.parse().map_err(|_| bad())?,
                )),
                Some(_) => Err(bad()),
            },
        }
    }
}

impl TryFrom<String> for Selector {
    type Error = BadSelector;

    fn try_from(text: String) -> Result<Selector, BadSelector> {
        text.parse()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => f.write_str("all"),
            Selector::Primary => f.write_str("primary"),
            Selector::Region(region) => f.write_str(region),
            Selector::Node(region, index) => write!(f, "{region}/{index}"),
        }
    }
}

impl Selector {
    /// Whether this selector names the primary.
    pub fn is_primary(&self) -> bool {
        matches!(self, Selector::Primary)
    }

    /// The nodes it names; `None` if it names a region or node that the
    /// scenario does not have.
    pub fn resolve(&self, scenario: &Scenario) -> Option<Vec<NodeRef>> {
        match self {
            Selector::All => Some(scenario.nodes().collect()),
            Selector::Primary => Some(Vec::new()),
            Selector::Region(name) => {
                let region = scenario.region_index(name)?;
                let count = scenario.regions[region].nodes;
                Some((0..count).map(|index| NodeRef { region, index }).collect())
            }
            Selector::Node(name, index) => {
                let region = scenario.region_index(name)?;
                (*index < scenario.regions[region].nodes).then(|| {
                    vec![NodeRef {
                        region,
                        index: *index,
                    }]
                })
            }
        }
    }
}
