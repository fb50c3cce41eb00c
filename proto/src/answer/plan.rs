//! The outcome of the authoritative algorithm, before it is written: which
//! RRsets go to which section, under which owner name, in the order NSD
//! adds them (the order decides what survives truncation).
//!
//! A plan has a fixed capacity and lives on the stack; names it refers to
//! borrow from the zones, the query packet, or the per-query arena where
//! DNAME-synthesised names are written. Additional-section data is not
//! planned: the writer derives it from the planned NS, MX and SRV RRsets.

use crate::record::{Rtype, rcode};
use crate::zone::{RrsetRef, ZoneView};

use super::template::Block;

/// Most RRsets in the answer and authority sections of one response.
const MAX_ITEMS: usize = 32;

/// A response section, in the order NSD writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Answer,
    Authority,
    /// The zone's NS RRset added to positive answers: dropped, without TC,
    /// when it does not fit (NSD's `OPTIONAL_AUTHORITY_SECTION`).
    OptionalAuthority,
}

/// What one plan item writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Data<'n> {
    /// An RRset from a zone.
    Rrset(RrsetRef<'n>),
    /// A CNAME synthesised from a DNAME (RFC 6672 §3.1), to this target.
    Cname { target: &'n [u8], ttl: u32 },
}

/// One RRset to write.
#[derive(Clone, Copy)]
pub(crate) struct Item<'n> {
    pub section: Section,
    pub owner: &'n [u8],
    pub data: Data<'n>,
    /// The zone the data comes from (additional data is looked up there).
    pub zone: ZoneView<'n>,
    /// Write the covering RRSIGs (DO=1 and the zone is signed).
    pub signed: bool,
    /// TTL written instead of the stored one (negative answers' SOA).
    pub ttl: Option<u32>,
    /// The owner is the question name reached through a wildcard. NSD
    /// tells it apart from the same name reached through a CNAME (so a
    /// wildcard CNAME to a name it covers is answered twice before the
    /// loop stops).
    pub question_wildcard: bool,
}

/// RFC 8914 Extended DNS Error to attach, with NSD's EXTRA-TEXT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ede {
    pub code: u16,
    pub text: &'static str,
}

/// The planned response.
pub(crate) struct Plan<'n> {
    pub rcode: u16,
    pub authoritative: bool,
    /// The delegation the last lookup met, if any: when the additional
    /// section gets no address at all, the response is truncated (NSD).
    pub delegation: bool,
    pub ede: Option<Ede>,
    /// The pre-written form of the planned optional NS RRset, if any.
    pub zone_ns: Option<&'n Block>,
    /// That zone is the question name's own (no CNAME or DNAME followed),
    /// so its origin was first written as the question name's suffix.
    pub zone_ns_in_question: bool,
    items: [Option<Item<'n>>; MAX_ITEMS],
    len: usize,
}

impl<'n> Plan<'n> {
    pub(crate) fn new() -> Plan<'n> {
        Plan {
            rcode: rcode::NOERROR,
            authoritative: false,
            delegation: false,
            ede: None,
            zone_ns: None,
            zone_ns_in_question: false,
            items: [None; MAX_ITEMS],
            len: 0,
        }
    }

    /// Adds an item as NSD's `answer_add_rrset` does: an RRset already
    /// planned under the same owner moves to the earlier of the two
    /// sections (keeping its place) and counts as not added. Returns
    /// whether the item was added (false for a repeat, which is how CNAME
    /// loops end, or when the plan is full).
    pub(crate) fn push(&mut self, item: Item<'n>) -> bool {
        for planned in self.items[..self.len].iter_mut().flatten() {
            if same_rrset(planned, &item) {
                if item.section < planned.section {
                    planned.section = item.section;
                    return true;
                }
                return false;
            }
        }
        if self.len == MAX_ITEMS {
            return false;
        }
        self.items[self.len] = Some(item);
        self.len += 1;
        true
    }

    /// Whether `rrset` is planned under `owner` in any section (as NSD
    /// identifies additional data: not the wildcard-matched question).
    pub(crate) fn contains(&self, owner: &[u8], rrset: &RrsetRef<'_>) -> bool {
        self.items().any(|item| match item.data {
            Data::Rrset(planned) => {
                planned.images.as_ptr() == rrset.images.as_ptr()
                    && !item.question_wildcard
                    && crate::zone::eq_ignore_case(item.owner, owner)
            }
            Data::Cname { .. } => false,
        })
    }

    /// Whether a CNAME from `owner` to `target` is already in the answer
    /// (NSD's loop check before synthesising one from a DNAME).
    pub(crate) fn has_cname(&self, owner: &[u8], target: &[u8]) -> bool {
        self.items()
            .filter(|item| item.section == Section::Answer)
            .any(|item| {
                let planned_target = match item.data {
                    Data::Cname { target, .. } => Some(target),
                    Data::Rrset(rrset) if rrset.rtype == Rtype::CNAME.0 && rrset.count == 1 => {
                        rrset.rdatas().next()
                    }
                    Data::Rrset(_) => None,
                };
                planned_target.is_some_and(|planned| {
                    crate::zone::eq_ignore_case(item.owner, owner)
                        && crate::zone::eq_ignore_case(planned, target)
                })
            })
    }

    /// The planned items in the order they were added.
    pub(crate) fn items(&self) -> impl Iterator<Item = &Item<'n>> + Clone {
        self.items[..self.len].iter().flatten()
    }
}

/// NSD's identity of an answer entry: the same RRset under the same owner.
fn same_rrset(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (a.data, b.data) {
        (Data::Rrset(x), Data::Rrset(y)) => {
            x.images.as_ptr() == y.images.as_ptr()
                && x.rtype == y.rtype
                && a.ttl == b.ttl
                && a.question_wildcard == b.question_wildcard
                && crate::zone::eq_ignore_case(a.owner, b.owner)
        }
        _ => false,
    }
}
