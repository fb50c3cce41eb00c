//! Additional-section data (RFC 1034 §4.3.2 step 6, RFC 1035 §3.3): the
//! addresses of the names NS, MB, MX, KX, SRV and RT records point to, found
//! as NSD's `add_additional_rrsets` finds them: in the zone of the record
//! only, glue (at or below a zone cut) only for NS, and synthesised from a
//! wildcard when the name does not exist.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::Rtype;
use crate::zone::{NodeRef, RrsetRef, ZoneView};

use super::resolve::{lowercase, wildcard_name};

/// One pass over the additional section: NSD writes every A first, then
/// every AAAA, then the X25 and ISDN records of RT targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    A,
    Aaaa,
    Other,
}

impl Phase {
    pub(super) const ALL: [Phase; 3] = [Phase::A, Phase::Aaaa, Phase::Other];

    /// The types this pass writes for targets of `master`.
    fn types(self, master: u16) -> &'static [Rtype] {
        match self {
            Phase::A => &[Rtype::A],
            Phase::Aaaa => &[Rtype::AAAA],
            Phase::Other if master == Rtype::RT.0 => &[Rtype::X25, Rtype::ISDN],
            Phase::Other => &[],
        }
    }
}

/// Where the target name sits in the RDATA of a type that gets additional
/// data, and whether glue may be used for it.
fn target_at(rtype: u16) -> Option<(usize, bool)> {
    match Rtype(rtype) {
        Rtype::NS => Some((0, true)),
        Rtype::MB => Some((0, false)),
        Rtype::MX | Rtype::KX | Rtype::RT => Some((2, false)),
        Rtype::SRV => Some((6, false)),
        _ => None,
    }
}

/// Whether the item's RRset brings additional data.
pub(super) fn bears_additional(item: &super::plan::Item<'_>) -> bool {
    matches!(item.data, super::plan::Data::Rrset(rrset) if target_at(rrset.rtype).is_some())
}

/// One additional RRset to try: its owner as written and the data.
#[derive(Clone, Copy)]
pub(super) struct Candidate<'n> {
    pub owner: &'n [u8],
    pub rrset: RrsetRef<'n>,
}

/// Most targets whose resolution is remembered between passes; later ones
/// are resolved again in each pass.
const REMEMBERED: usize = 128;
/// A remembered target with no usable node.
const NOTHING: u32 = u32::MAX;
/// Flag on a remembered node index: reached through a wildcard.
const WILDCARD: u32 = 1 << 31;

/// Target names resolved in the first pass, in the order the passes meet
/// them, so that later passes need no lookups.
pub(super) struct Targets {
    nodes: [u32; REMEMBERED],
    len: usize,
    /// Position of the next target in the current pass.
    cursor: usize,
}

impl Targets {
    pub(super) fn new() -> Targets {
        Targets {
            nodes: [NOTHING; REMEMBERED],
            len: 0,
            cursor: 0,
        }
    }

    /// Starts another pass over the same targets.
    pub(super) fn rewind(&mut self) {
        self.cursor = 0;
    }

    /// Calls `each` with every additional RRset of `phase` that the records
    /// of `master` (from `zone`) call for, in record order.
    pub(super) fn for_each<'n>(
        &mut self,
        zone: ZoneView<'n>,
        master: RrsetRef<'n>,
        phase: Phase,
        mut each: impl FnMut(Candidate<'n>),
    ) {
        let Some((offset, glue)) = target_at(master.rtype) else {
            return;
        };
        let types = phase.types(master.rtype);
        for target in master.rdatas().filter_map(|rdata| rdata.get(offset..)) {
            let Some((owner, node)) = self.resolve(zone, target, glue) else {
                continue;
            };
            for rtype in types {
                if let Some(rrset) = node.rrset(rtype.0) {
                    each(Candidate { owner, rrset });
                }
            }
        }
    }

    /// The target's node, remembered from the first pass when possible.
    fn resolve<'n>(
        &mut self,
        zone: ZoneView<'n>,
        target: &'n [u8],
        glue: bool,
    ) -> Option<(&'n [u8], NodeRef<'n>)> {
        let position = self.cursor;
        self.cursor += 1;
        if position < self.len {
            let code = self.nodes[position];
            let node = zone.node(code & !WILDCARD)?;
            let owner = if code & WILDCARD != 0 {
                target.get(..name::wire_len(target).ok()?)?
            } else {
                node.name()
            };
            return Some((owner, node));
        }
        let found = resolve(zone, target, glue);
        if position == self.len && position < REMEMBERED {
            self.nodes[position] = found.map_or(NOTHING, |(owner, node)| {
                let wildcard = if std::ptr::eq(owner, node.name()) {
                    0
                } else {
                    WILDCARD
                };
                node.index() | wildcard
            });
            self.len += 1;
        }
        found
    }
}

/// The node whose data a target name gets, and the owner to write: the
/// node itself, or for a missing name the wildcard of its closest
/// encloser (owned by the target name). Glue only when `glue`.
fn resolve<'n>(
    zone: ZoneView<'n>,
    target: &'n [u8],
    glue: bool,
) -> Option<(&'n [u8], NodeRef<'n>)> {
    let len = name::wire_len(target).ok()?;
    let target = target.get(..len)?;
    let mut buffer = [0u8; MAX_NAME_LEN];
    let lower = lowercase(target, &mut buffer);
    if !name::is_subdomain(lower, zone.origin()) {
        return None;
    }
    let mut rest = lower;
    let mut exact = true;
    let node = loop {
        if let Some(node) = zone.find(rest) {
            break node;
        }
        exact = false;
        let skip = 1 + *rest.first()? as usize;
        rest = rest.get(skip..).filter(|r| !r.is_empty())?;
    };
    if !glue && (node.is_delegation() || node.is_below_cut()) {
        return None;
    }
    if exact {
        return Some((node.name(), node));
    }
    if !node.has_wildcard_child() {
        return None;
    }
    let mut wildcard = [0u8; MAX_NAME_LEN];
    let source = zone.find(wildcard_name(node.name(), &mut wildcard)?)?;
    Some((target, source))
}
