//! One catalog's last good member list, and what each new version changes.

use crate::name::Name;
use crate::zone::Snapshot;

use super::members::{CatalogError, Member, Members};

/// Follows one catalog zone from version to version.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    last_good: Option<Members>,
}

/// What a new catalog version changes in its member list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    /// Members new in this version.
    pub added: Vec<Member>,
    /// Zones no longer members (§5.3): stop serving them.
    pub removed: Vec<Name>,
    /// Members whose unique-N changed (§5.4): their zone state is reset
    /// (data dropped, transferred again) as for a removal and a new add.
    pub reset: Vec<Member>,
    /// Members whose properties (group, coo) changed, nothing else.
    pub updated: Vec<Member>,
}

impl MemberChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.reset.is_empty()
            && self.updated.is_empty()
    }
}

impl Consumer {
    /// A consumer that has seen no version yet.
    pub fn new() -> Consumer {
        Consumer::default()
    }

    /// Reads `snapshot`; on success it becomes the last good list and the
    /// changes from the previous one are returned. On error nothing changes.
    pub fn update(&mut self, snapshot: &Snapshot) -> Result<MemberChanges, CatalogError> {
        let members = Members::read(snapshot, self.last_good.as_ref())?;
        let changes = changes(self.last_good.as_ref(), &members);
        self.last_good = Some(members);
        Ok(changes)
    }

    /// The last member list read without error.
    pub fn members(&self) -> Option<&Members> {
        self.last_good.as_ref()
    }
}

fn changes(previous: Option<&Members>, current: &Members) -> MemberChanges {
    let mut changes = MemberChanges::default();
    for member in current.iter() {
        match previous.and_then(|previous| previous.get(&member.zone)) {
            None => changes.added.push(member.clone()),
            Some(old) if old.unique_id != member.unique_id => changes.reset.push(member.clone()),
            Some(old) if old != member => changes.updated.push(member.clone()),
            Some(_) => {}
        }
    }
    if let Some(previous) = previous {
        changes.removed = previous
            .iter()
            .filter(|member| current.get(&member.zone).is_none())
            .map(|member| member.zone.clone())
            .collect();
    }
    changes
}
