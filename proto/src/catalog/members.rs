//! Reading the member list out of a catalog zone's records.

use std::collections::BTreeMap;

use crate::name::Name;
use crate::record::{Record, Rtype};
use crate::zone::Snapshot;

/// The only catalog schema version this node reads (RFC 9432 §4.2.1).
pub const SUPPORTED_VERSION: &str = "2";

/// Why a catalog zone cannot be used; the previous member list stays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// No `version` TXT record at the catalog's apex.
    #[error("catalog {0} has no version property")]
    MissingVersion(Name),
    /// A `version` other than "2" (or not a single string).
    #[error("catalog {catalog} has schema version {found:?}; only \"2\" is supported")]
    UnsupportedVersion {
        /// The catalog.
        catalog: Name,
        /// The version text found.
        found: String,
    },
    /// More than one `version` TXT record.
    #[error("catalog {0} has more than one version record")]
    AmbiguousVersion(Name),
    /// A member node with more than one PTR record (§4.1: broken catalog).
    #[error("catalog member {0} has more than one PTR record")]
    AmbiguousMember(Name),
    /// A PTR whose RDATA is not a name.
    #[error("catalog member {0} has a malformed PTR record")]
    MalformedMember(Name),
}

/// One member zone of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member zone (the PTR target), lower case.
    pub zone: Name,
    /// The unique-N label that lists it (§4.1), lower case.
    pub unique_id: Vec<u8>,
    /// Its `group` property strings (§4.3.2), in record order.
    pub groups: Vec<String>,
    /// Its `coo` property (§4.3.1): the catalog it is moving to.
    pub coo: Option<Name>,
}

/// The member zones of one version of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    /// The catalog zone.
    pub catalog: Name,
    /// The serial these members were read from.
    pub serial: u32,
    members: BTreeMap<Name, Member>,
    /// Member entries ignored because another unique-N already lists the
    /// same zone (§5.2): (ignored unique-N, zone).
    pub clashes: Vec<(Vec<u8>, Name)>,
}

/// What one `<unique-N>.zones.<catalog>` subtree says, before clashes are
/// resolved.
#[derive(Default)]
struct Node {
    targets: Vec<Name>,
    groups: Vec<String>,
    coo: Option<Name>,
}

impl Members {
    /// Reads the members of `snapshot`. `previous`, the last good list of
    /// the same catalog, decides which of two entries naming the same zone
    /// is the existing one (§5.2).
    pub fn read(snapshot: &Snapshot, previous: Option<&Members>) -> Result<Members, CatalogError> {
        let catalog = snapshot.origin().to_lowercase();
        let zones = catalog
            .prepend(b"zones")
            .map_err(|_| CatalogError::MissingVersion(catalog.clone()))?;
        let mut version = Vec::new();
        let mut nodes: BTreeMap<Vec<u8>, Node> = BTreeMap::new();
        for record in snapshot.records() {
            let owner = record.owner.to_lowercase();
            if owner.parent().as_ref() == Some(&catalog) && first_label(&owner) == b"version" {
                if record.rtype == Rtype::TXT {
                    version.push(txt_strings(&record.rdata));
                }
                continue;
            }
            read_member_record(&zones, &owner, &record, &mut nodes)?;
        }
        check_version(&catalog, &version)?;
        let mut members = Members {
            catalog,
            serial: snapshot.serial(),
            members: BTreeMap::new(),
            clashes: Vec::new(),
        };
        members.resolve(nodes, previous)?;
        Ok(members)
    }

    /// The member listing `zone`.
    pub fn get(&self, zone: &Name) -> Option<&Member> {
        self.members.get(zone)
    }

    /// Every member, in canonical order of the zone names.
    pub fn iter(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the catalog lists no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Turns member nodes into members. Two unique-Ns naming one zone: the
    /// one the previous list had wins, else the first in canonical order;
    /// the other is ignored and recorded (§5.2).
    fn resolve(
        &mut self,
        nodes: BTreeMap<Vec<u8>, Node>,
        previous: Option<&Members>,
    ) -> Result<(), CatalogError> {
        let mut ordered: Vec<(Vec<u8>, Node)> = nodes.into_iter().collect();
        let existing = |id: &[u8], node: &Node| {
            let held = node.targets.first().and_then(|zone| previous?.get(zone));
            held.is_some_and(|member| member.unique_id == id)
        };
        // Entries that already held their zone come first, so they win.
        ordered.sort_by_key(|(id, node)| !existing(id, node));
        for (unique_id, node) in ordered {
            let Some(zone) = single_target(&self.catalog, &unique_id, &node)? else {
                continue;
            };
            if self.members.contains_key(&zone) {
                self.clashes.push((unique_id, zone));
                continue;
            }
            let member = Member {
                zone: zone.clone(),
                unique_id,
                groups: node.groups,
                coo: node.coo,
            };
            self.members.insert(zone, member);
        }
        Ok(())
    }
}

/// Files a record below `zones.<catalog>` into its member node.
fn read_member_record(
    zones: &Name,
    owner: &Name,
    record: &Record,
    nodes: &mut BTreeMap<Vec<u8>, Node>,
) -> Result<(), CatalogError> {
    let Some(parent) = owner.parent() else {
        return Ok(());
    };
    if parent == *zones {
        if record.rtype == Rtype::PTR {
            let target = ptr_target(owner, record)?;
            let node = nodes.entry(first_label(owner).to_vec()).or_default();
            node.targets.push(target);
        }
        return Ok(());
    }
    if parent.parent().as_ref() != Some(zones) {
        return Ok(());
    }
    let unique_id = first_label(&parent).to_vec();
    match (first_label(owner), record.rtype) {
        (b"group", Rtype::TXT) => {
            let node = nodes.entry(unique_id).or_default();
            node.groups.extend(txt_strings(&record.rdata));
        }
        (b"coo", Rtype::PTR) => {
            let target = ptr_target(owner, record)?;
            nodes.entry(unique_id).or_default().coo = Some(target);
        }
        _ => {}
    }
    Ok(())
}

fn check_version(catalog: &Name, version: &[Vec<String>]) -> Result<(), CatalogError> {
    match version {
        [] => Err(CatalogError::MissingVersion(catalog.clone())),
        [strings] if strings.len() == 1 && strings[0] == SUPPORTED_VERSION => Ok(()),
        [strings] => Err(CatalogError::UnsupportedVersion {
            catalog: catalog.clone(),
            found: strings.join(""),
        }),
        _ => Err(CatalogError::AmbiguousVersion(catalog.clone())),
    }
}

/// The zone a member node names: `None` for a node with properties but no
/// PTR (nothing to provision), an error for several PTRs.
fn single_target(
    catalog: &Name,
    unique_id: &[u8],
    node: &Node,
) -> Result<Option<Name>, CatalogError> {
    match node.targets.as_slice() {
        [] => Ok(None),
        [zone] => Ok(Some(zone.clone())),
        _ => {
            let owner = catalog
                .prepend(b"zones")
                .and_then(|zones| zones.prepend(unique_id))
                .unwrap_or_else(|_| catalog.clone());
            Err(CatalogError::AmbiguousMember(owner))
        }
    }
}

fn ptr_target(owner: &Name, record: &Record) -> Result<Name, CatalogError> {
    Name::from_wire(&record.rdata)
        .map(|name| name.to_lowercase())
        .map_err(|_| CatalogError::MalformedMember(owner.clone()))
}

fn first_label(name: &Name) -> &[u8] {
    name.labels().next().unwrap_or_default()
}

/// The character-strings of TXT RDATA, lossily decoded (a malformed
/// length ends the list rather than failing: TXT content is advisory here).
fn txt_strings(rdata: &[u8]) -> Vec<String> {
    let mut strings = Vec::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let Some(text) = tail.get(..usize::from(len)) else {
            break;
        };
        strings.push(String::from_utf8_lossy(text).into_owned());
        rest = &tail[usize::from(len)..];
    }
    strings
}
