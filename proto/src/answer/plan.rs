//! The outcome of the authoritative algorithm, before it is written: which
//! RRsets go to which section, under which owner name.
//!
//! A plan has a fixed capacity and lives on the stack; names it refers to
//! borrow from the zone, the query packet, or the per-query arena where
//! DNAME-synthesised names are written.

use crate::record::rcode;
use crate::zone::RrsetRef;

/// Most RRsets in the answer and authority sections of one response.
const MAX_ITEMS: usize = 24;

/// A response section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Answer,
    Authority,
}

/// What one plan item writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Data<'n> {
    /// Nothing (an unused slot).
    Empty,
    /// An RRset from the zone.
    Rrset(RrsetRef<'n>),
    /// A CNAME synthesised from a DNAME (RFC 6672 §3.1), to this target.
    Cname { target: &'n [u8], ttl: u32 },
}

/// One RRset to write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item<'n> {
    pub section: Section,
    pub owner: &'n [u8],
    /// The node the data comes from, to avoid writing it twice.
    pub node: u32,
    pub data: Data<'n>,
    /// TTL written instead of the stored one (negative answers' SOA).
    pub ttl: Option<u32>,
}

const EMPTY: Item<'static> = Item {
    section: Section::Answer,
    owner: &[],
    node: u32::MAX,
    data: Data::Empty,
    ttl: None,
};

/// The planned response.
pub(crate) struct Plan<'n> {
    pub rcode: u16,
    pub authoritative: bool,
    /// The response is a referral (RFC 9471 glue rules apply).
    pub referral: Option<&'n [u8]>,
    items: [Item<'n>; MAX_ITEMS],
    len: usize,
}

impl<'n> Plan<'n> {
    pub(crate) fn new() -> Plan<'n> {
        Plan {
            rcode: rcode::NOERROR,
            authoritative: true,
            referral: None,
            items: [EMPTY; MAX_ITEMS],
            len: 0,
        }
    }

    /// Adds an item unless the same RRset is already in that section.
    /// Returns false if it was there already (a loop) or the plan is full.
    pub(crate) fn push(&mut self, item: Item<'n>) -> bool {
        if self.contains(item.section, item.node, rtype_of(&item.data)) || self.len == MAX_ITEMS {
            return false;
        }
        self.items[self.len] = item;
        self.len += 1;
        true
    }

    pub(crate) fn add_rrset(
        &mut self,
        section: Section,
        owner: &'n [u8],
        node: u32,
        rrset: RrsetRef<'n>,
    ) -> bool {
        self.push(Item {
            section,
            owner,
            node,
            data: Data::Rrset(rrset),
            ttl: None,
        })
    }

    /// Whether an RRset of `rtype` from `node` is planned in `section`.
    pub(crate) fn contains(&self, section: Section, node: u32, rtype: u16) -> bool {
        node != u32::MAX
            && self
                .items()
                .iter()
                .any(|i| i.section == section && i.node == node && rtype_of(&i.data) == rtype)
    }

    pub(crate) fn items(&self) -> &[Item<'n>] {
        &self.items[..self.len]
    }
}

fn rtype_of(data: &Data<'_>) -> u16 {
    match data {
        Data::Rrset(rrset) => rrset.rtype,
        Data::Cname { .. } => crate::record::Rtype::CNAME.0,
        Data::Empty => 0,
    }
}
