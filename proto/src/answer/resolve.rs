//! The authoritative algorithm of RFC 1034 §4.3.2 over one zone, with
//! CNAME chains, DNAME synthesis (RFC 6672), wildcards (RFC 4592) and
//! referrals, producing a [`Plan`].
//!
//! ```text
//!   sname ──► exact node? ──no──► closest encloser
//!     ▲          │ yes               │
//!     │          ▼                   ├─ below/at a cut ──► referral
//!     │    below/at a cut? ─► referral├─ DNAME ──► synthesised CNAME ─┐
//!     │          │ no                ├─ *.encloser ──► answer as node │
//!     │          ▼                   └─ else ──► NXDOMAIN             │
//!     │   qtype RRset ──► answer                                      │
//!     │   CNAME ──► answer, follow target ────────────────────────────┤
//!     │   else ──► NODATA                                             │
//!     └───────────────────── next name (bounded chain) ◄──────────────┘
//! ```

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Rtype, rcode};
use crate::zone::{NodeRef, RrsetRef, ZoneView};

use super::plan::{Data, Item, Plan, Section};

/// RFC 6672 §2.2: the name a DNAME substitution would produce is too long.
const YXDOMAIN: u16 = 6;
/// Most CNAME/DNAME steps followed for one query.
const MAX_CHAIN: usize = 12;
/// Most parent links walked to find the zone cut above a node.
const MAX_DEPTH: usize = 128;

/// What to do after one step of the algorithm.
pub(super) enum Step<'n> {
    Done,
    Follow(&'n [u8]),
}

/// Runs the algorithm for one question against one zone.
pub(crate) struct Resolver<'p, 'n> {
    pub(super) zone: ZoneView<'n>,
    pub(super) qtype: u16,
    /// DO=1 and the zone is signed: RRSIGs and denial proofs are owed.
    pub(super) dnssec: bool,
    /// QCLASS ANY: answered as IN, but not authoritatively (as NSD does).
    pub(super) class_any: bool,
    /// Where the outcome goes; owned by the caller so it is never moved.
    pub(super) plan: &'p mut Plan<'n>,
    arena: &'n mut [u8],
}

impl<'p, 'n> Resolver<'p, 'n> {
    pub(crate) fn new(
        zone: ZoneView<'n>,
        qtype: u16,
        dnssec: bool,
        plan: &'p mut Plan<'n>,
        arena: &'n mut [u8],
    ) -> Resolver<'p, 'n> {
        Resolver {
            zone,
            qtype,
            dnssec,
            class_any: false,
            plan,
            arena,
        }
    }

    /// Answers `qname` (case as in the question) into the plan.
    pub(crate) fn run(mut self, qname: &'n [u8]) {
        let mut sname = qname;
        for step in 0..MAX_CHAIN {
            match self.step(sname, step) {
                Step::Done => break,
                Step::Follow(next) if name::is_subdomain(next, self.zone.origin()) => sname = next,
                Step::Follow(_) => break,
            }
        }
        if self.class_any {
            self.plan.authoritative = false;
        }
    }

    fn step(&mut self, sname: &'n [u8], step: usize) -> Step<'n> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = lowercase(sname, &mut buffer);
        let Some((exact, encloser)) = self.locate(lower) else {
            return Step::Done;
        };
        if let Some(cut) = self.cut_above(exact.unwrap_or(encloser), exact.is_some()) {
            self.referral(cut, step);
            return Step::Done;
        }
        match exact {
            Some(node) => self.answer_node(node, sname, lower, None),
            None => self.answer_missing(sname, lower, encloser),
        }
    }

    /// The node owning `lower`, if any, and its closest existing encloser.
    /// NSEC3 owners are hashes, not names: they are treated as absent.
    fn locate(&self, lower: &[u8]) -> Option<(Option<NodeRef<'n>>, NodeRef<'n>)> {
        let mut rest = lower;
        let mut exact = true;
        while rest.len() >= self.zone.origin().len() {
            match self.zone.find(rest) {
                Some(node) if !node.is_nsec3_only() => return Some((exact.then_some(node), node)),
                _ => {}
            }
            exact = false;
            rest = rest
                .get(1 + *rest.first().unwrap_or(&0) as usize..)
                .unwrap_or(&[]);
        }
        Some((None, self.zone.apex()?))
    }

    /// The zone cut governing `node`: itself if it is a delegation (unless a
    /// DS query for it, answered from the parent side, RFC 4035 §3.1.4.1),
    /// or the delegation above it.
    fn cut_above(&self, node: NodeRef<'n>, exact: bool) -> Option<NodeRef<'n>> {
        if node.is_delegation() {
            let ds_at_cut = exact && self.qtype == Rtype::DS.0;
            return (!ds_at_cut).then_some(node);
        }
        let mut current = node;
        for _ in 0..MAX_DEPTH {
            if !current.is_below_cut() {
                return None;
            }
            current = current.parent();
            if current.is_delegation() {
                return Some(current);
            }
        }
        None
    }

    fn answer_node(
        &mut self,
        node: NodeRef<'n>,
        owner: &'n [u8],
        lower: &[u8],
        wildcard: Option<NodeRef<'n>>,
    ) -> Step<'n> {
        let id = node.index();
        let wanted = match self.qtype {
            qtype if qtype == Rtype::ANY.0 => self.pick_any(node),
            qtype if qtype == Rtype::NSEC3.0 => None,
            qtype => node.rrset(qtype),
        };
        if let Some(rrset) = wanted {
            self.plan.add_rrset(Section::Answer, owner, id, rrset);
            self.prove_wildcard_answer(lower, wildcard);
            return Step::Done;
        }
        let cname = node
            .rrset(Rtype::CNAME.0)
            .filter(|_| self.qtype != Rtype::NSEC3.0);
        if let Some(cname) = cname {
            if !self.plan.add_rrset(Section::Answer, owner, id, cname) {
                return Step::Done;
            }
            self.prove_wildcard_answer(lower, wildcard);
            return cname.rdatas().next().map_or(Step::Done, Step::Follow);
        }
        self.nodata(node, lower, wildcard);
        Step::Done
    }

    /// RFC 8482 §4.1: one RRset, preferring small common types as NSD does.
    fn pick_any(&self, node: NodeRef<'n>) -> Option<RrsetRef<'n>> {
        let preferred = [Rtype::A, Rtype::AAAA, Rtype::SOA, Rtype::MX, Rtype::PTR];
        let unwanted = [Rtype::DNSKEY, Rtype::RRSIG, Rtype::NSEC];
        let usable = |r: &RrsetRef<'n>| {
            r.rtype != Rtype::NSEC3.0 && !(self.dnssec && r.rtype == Rtype::RRSIG.0)
        };
        let mut rrsets = node.rrsets().filter(usable);
        // NSD takes the first preferred RRset in load order, where the SOA leads.
        let soa = rrsets.clone().find(|r| r.rtype == Rtype::SOA.0);
        let first_preferred = soa.or_else(|| {
            rrsets
                .clone()
                .find(|r| preferred.iter().any(|t| t.0 == r.rtype))
        });
        let normal = rrsets
            .clone()
            .find(|r| !unwanted.iter().any(|t| t.0 == r.rtype));
        first_preferred.or(normal).or_else(|| rrsets.next())
    }

    fn answer_missing(&mut self, sname: &'n [u8], lower: &[u8], encloser: NodeRef<'n>) -> Step<'n> {
        if encloser.has_dname() {
            return self.synthesise_from_dname(sname, encloser);
        }
        if encloser.has_wildcard_child() {
            let mut buffer = [0u8; MAX_NAME_LEN];
            let wildcard =
                wildcard_name(encloser.name(), &mut buffer).and_then(|w| self.zone.find(w));
            if let Some(wildcard) = wildcard {
                return self.answer_node(wildcard, sname, lower, Some(encloser));
            }
        }
        self.plan.rcode = rcode::NXDOMAIN;
        // NSD's order: the denial records, then the SOA (it decides what
        // survives truncation).
        if self.dnssec {
            self.prove_nxdomain(lower, encloser);
        }
        self.add_negative_soa();
        Step::Done
    }

    fn nodata(&mut self, node: NodeRef<'n>, lower: &[u8], wildcard: Option<NodeRef<'n>>) {
        if wildcard.is_some() {
            // No exact match first, as NSD orders a wildcard NODATA.
            self.prove_wildcard_answer(lower, wildcard);
        }
        self.add_negative_soa();
        if self.dnssec {
            self.prove_nodata(node, lower, wildcard);
        }
    }

    /// The apex SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308 §3), except for
    /// QCLASS ANY, where NSD leaves it out.
    fn add_negative_soa(&mut self) {
        let Some(apex) = self.zone.apex() else {
            return;
        };
        let Some(soa) = apex.rrset(Rtype::SOA.0).filter(|_| !self.class_any) else {
            return;
        };
        let minimum = soa.rdatas().next().and_then(soa_minimum).unwrap_or(0);
        let ttl = soa.ttl().min(minimum);
        let item = Item {
            section: Section::Authority,
            owner: apex.name(),
            node: apex.index(),
            data: Data::Rrset(soa),
            ttl: Some(ttl),
        };
        self.plan.push(item);
    }

    /// RFC 1034 §4.3.2 step 3b: NS of the cut in authority, AA clear (set
    /// again when a CNAME from our data led here, as NSD does), DS or its
    /// denial with DO=1 (RFC 4035 §3.1.4).
    fn referral(&mut self, cut: NodeRef<'n>, step: usize) {
        self.plan.authoritative = step > 0;
        self.plan.referral = Some(cut.name());
        if let Some(ns) = cut.rrset(Rtype::NS.0) {
            self.plan
                .add_rrset(Section::Authority, cut.name(), cut.index(), ns);
        }
        if !self.dnssec {
            return;
        }
        match cut.rrset(Rtype::DS.0) {
            Some(ds) => {
                self.plan
                    .add_rrset(Section::Authority, cut.name(), cut.index(), ds);
            }
            None => self.prove_no_ds(cut),
        }
    }

    /// RFC 6672 §3.1: the DNAME, then a CNAME from `sname` to the name with
    /// the DNAME owner replaced by its target (TTL of the DNAME).
    fn synthesise_from_dname(&mut self, sname: &'n [u8], owner: NodeRef<'n>) -> Step<'n> {
        let Some(dname) = owner.rrset(Rtype::DNAME.0) else {
            return Step::Done;
        };
        if !self
            .plan
            .add_rrset(Section::Answer, owner.name(), owner.index(), dname)
        {
            return Step::Done;
        }
        let target = dname.rdatas().next().unwrap_or(&[0]);
        let prefix = sname.len().saturating_sub(owner.name().len());
        if prefix + target.len() > MAX_NAME_LEN {
            self.plan.rcode = YXDOMAIN;
            return Step::Done;
        }
        let Some(slot) = self.alloc(prefix + target.len()) else {
            return Step::Done;
        };
        slot[..prefix].copy_from_slice(&sname[..prefix]);
        slot[prefix..].copy_from_slice(target);
        let slot: &'n [u8] = slot;
        let item = Item {
            section: Section::Answer,
            owner: sname,
            node: u32::MAX,
            data: Data::Cname {
                target: slot,
                ttl: dname.ttl(),
            },
            ttl: None,
        };
        if !self.plan.push(item) || self.qtype == Rtype::CNAME.0 {
            return Step::Done;
        }
        Step::Follow(slot)
    }

    /// Room for a synthesised name, from the per-query arena.
    fn alloc(&mut self, len: usize) -> Option<&'n mut [u8]> {
        if self.arena.len() < len {
            return None;
        }
        let arena = std::mem::take(&mut self.arena);
        let (slot, rest) = arena.split_at_mut(len);
        self.arena = rest;
        Some(slot)
    }
}

/// `*.` prepended to `encloser`, lower-cased, in `buffer`.
pub(super) fn wildcard_name<'b>(
    encloser: &[u8],
    buffer: &'b mut [u8; MAX_NAME_LEN],
) -> Option<&'b [u8]> {
    let len = encloser.len() + 2;
    if len > MAX_NAME_LEN {
        return None;
    }
    buffer[0] = 1;
    buffer[1] = b'*';
    for (out, byte) in buffer[2..len].iter_mut().zip(encloser) {
        *out = byte.to_ascii_lowercase();
    }
    Some(&buffer[..len])
}

/// `wire` in lower case, in `buffer`.
pub(super) fn lowercase<'b>(wire: &[u8], buffer: &'b mut [u8; MAX_NAME_LEN]) -> &'b [u8] {
    let len = wire.len().min(MAX_NAME_LEN);
    for (out, byte) in buffer.iter_mut().zip(&wire[..len]) {
        *out = byte.to_ascii_lowercase();
    }
    &buffer[..len]
}

fn soa_minimum(rdata: &[u8]) -> Option<u32> {
    let tail = rdata.get(rdata.len().checked_sub(4)?..)?;
    Some(u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]))
}
