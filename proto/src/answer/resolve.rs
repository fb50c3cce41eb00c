//! The authoritative algorithm of RFC 1034 §4.3.2 over every served zone,
//! with CNAME chains (into other served zones too), DNAME synthesis
//! (RFC 6672), wildcards (RFC 4592) and referrals, producing a [`Plan`]
//! the way NSD 4.6 builds its answer list.
//!
//! ```text
//!   sname ──► served zone? ──no──► REFUSED (first name only)
//!     ▲          │ yes (no data: SERVFAIL; expired: SERVFAIL)
//!     │          ▼
//!     │    closest encloser ──► at/below a cut ──► referral
//!     │          │
//!     │          ├─ exact node ──► qtype RRset ──► answer (+ zone NS)
//!     │          │                 CNAME ──► answer ─────────────┐
//!     │          │                 else ──► NODATA               │
//!     │          ├─ DNAME ──► DNAME + synthesised CNAME ─────────┤
//!     │          ├─ *.encloser ──► answer as the exact node      │
//!     │          └─ else ──► NXDOMAIN                            │
//!     └──────────────── next name (bounded chain) ◄──────────────┘
//! ```

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Rtype, rcode};
use crate::zone::{NodeRef, RrsetRef, ZoneView};

use super::any::Model;
use super::plan::{Data, Ede, Item, Plan, Section};
use super::template::Block;
use super::{Freshness, ZoneSet};

/// RFC 6672 §2.2: the name a DNAME substitution would produce is too long.
const YXDOMAIN: u16 = 6;
/// Most CNAME/DNAME steps followed for one query.
const MAX_CHAIN: usize = 32;
/// Most parent links walked to find the zone cut above a node.
const MAX_DEPTH: usize = 128;

/// RFC 8914 codes and NSD's texts for failures of the first name.
const NOT_AUTHORITATIVE: Ede = Ede { code: 20, text: "" };
const NOT_READY: Ede = Ede {
    code: 14,
    text: "Zone is configured but not loaded",
};
const EXPIRED: Ede = Ede {
    code: 24,
    text: "Zone has expired",
};
const DNAME_TOO_LONG: Ede = Ede {
    code: 0,
    text: "DNAME expansion became too large",
};
pub(super) const NSEC3_COLLISION: Ede = Ede {
    code: 0,
    text: "NSEC3 hash collision",
};

/// What to do after one lookup.
pub(super) enum Step<'n> {
    Done,
    Follow(&'n [u8]),
}

/// The zone a name is being answered from.
#[derive(Clone, Copy)]
pub(super) struct At<'n> {
    pub zone: ZoneView<'n>,
    /// DO=1 and the zone is signed: RRSIGs and denial proofs are owed.
    pub dnssec: bool,
    /// The zone's NS RRset and addresses, pre-written.
    pub zone_ns: Option<&'n Block>,
}

/// Runs the algorithm for one question.
pub(crate) struct Resolver<'p, 'n, Z: ZoneSet> {
    zones: &'n Z,
    pub(super) qtype: u16,
    /// QCLASS ANY: answered as IN, but not authoritatively (as NSD does).
    pub(super) class_any: bool,
    dnssec_ok: bool,
    /// Where the outcome goes; owned by the caller so it is never moved.
    pub(super) plan: &'p mut Plan<'n>,
    arena: &'n mut [u8],
    /// CNAMEs and DNAMEs followed so far (NSD's `cname_count`).
    steps: usize,
    /// The name being answered was synthesised from a DNAME: NSD then
    /// knows no closer name than its closest encloser, which changes the
    /// NSEC it picks to cover it.
    pub(super) synthesised: bool,
    /// The first zone is past expire and served under serve-stale.
    pub(crate) stale: bool,
}

impl<'p, 'n, Z: ZoneSet> Resolver<'p, 'n, Z> {
    pub(crate) fn new(
        zones: &'n Z,
        qtype: u16,
        dnssec_ok: bool,
        plan: &'p mut Plan<'n>,
        arena: &'n mut [u8],
    ) -> Resolver<'p, 'n, Z> {
        Resolver {
            zones,
            qtype,
            class_any: false,
            dnssec_ok,
            plan,
            arena,
            steps: 0,
            synthesised: false,
            stale: false,
        }
    }

    /// Answers `qname` (case as in the question) into the plan.
    pub(crate) fn run(&mut self, qname: &'n [u8]) {
        let mut sname = qname;
        for _ in 0..MAX_CHAIN {
            match self.lookup(sname) {
                Step::Done => break,
                Step::Follow(next) => sname = next,
            }
        }
    }

    /// NSD's `answer_lookup_zone`: the served zone of `sname`, then a
    /// referral or an authoritative answer from it.
    fn lookup(&mut self, sname: &'n [u8]) -> Step<'n> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = lowercase(sname, &mut buffer);
        let Some(at) = self.zone_for(lower) else {
            return Step::Done;
        };
        self.plan.authoritative = !self.class_any;
        let Some((exact, encloser)) = locate(at.zone, lower) else {
            return Step::Done;
        };
        let ds = self.qtype == Rtype::DS.0;
        if ds && exact && encloser.is_apex() {
            self.nodata(at, encloser);
            return Step::Done;
        }
        let cut = cut_above(encloser);
        self.plan.delegation = cut.is_some();
        match cut {
            Some(cut) if !(exact && ds && cut.index() == encloser.index()) => {
                self.referral(at, cut);
                Step::Done
            }
            _ => self.authoritative(at, sname, lower, exact, encloser),
        }
    }

    /// The zone to answer `lower` from; sets the RCODE when there is none
    /// to use and this is the question name (after a CNAME, NSD just stops).
    fn zone_for(&mut self, lower: &[u8]) -> Option<At<'n>> {
        let first = self.steps == 0;
        let fail = |plan: &mut Plan<'n>, code, ede| {
            if first {
                plan.rcode = code;
                plan.ede = Some(ede);
            }
            None
        };
        let Some(served) = find_zone(self.zones, lower, self.qtype) else {
            return fail(self.plan, rcode::REFUSED, NOT_AUTHORITATIVE);
        };
        let Some(snapshot) = served.snapshot else {
            return fail(self.plan, rcode::SERVFAIL, NOT_READY);
        };
        match served.freshness {
            Freshness::Expired => return fail(self.plan, rcode::SERVFAIL, EXPIRED),
            Freshness::Stale if first => self.stale = true,
            _ => {}
        }
        let zone = snapshot.view();
        let dnssec = self.dnssec_ok && zone.is_signed();
        Some(At {
            zone,
            dnssec,
            zone_ns: snapshot.zone_ns().block(dnssec),
        })
    }

    /// NSD's `answer_authoritative`: the exact node, a DNAME, a wildcard,
    /// or NXDOMAIN, with the denial records owed along the way.
    fn authoritative(
        &mut self,
        at: At<'n>,
        sname: &'n [u8],
        lower: &[u8],
        exact: bool,
        encloser: NodeRef<'n>,
    ) -> Step<'n> {
        // NSEC3 owners are hashes, not names of the zone.
        let (exact, encloser) = match exact && encloser.is_nsec3_only() {
            true => (false, encloser.parent()),
            false => (exact, encloser),
        };
        let mut matched = None;
        let mut wildcard = false;
        if exact {
            matched = Some(encloser);
        } else if encloser.has_dname() {
            return self.dname(at, sname, encloser);
        } else if let Some(node) = self.wildcard_child(at.zone, encloser) {
            if at.dnssec {
                self.prove_wildcard_nsec3(at, lower, encloser);
            }
            matched = Some(node);
            wildcard = true;
        }
        if at.dnssec {
            self.prove_authoritative(at, lower, matched, exact, encloser);
        }
        if self.plan.rcode != rcode::NOERROR {
            return Step::Done;
        }
        match matched {
            Some(node) => {
                let question_wildcard = wildcard && self.steps == 0;
                self.answer_domain(at, node, sname, question_wildcard)
            }
            None => {
                self.plan.rcode = rcode::NXDOMAIN;
                self.add_negative_soa(at);
                Step::Done
            }
        }
    }

    fn wildcard_child(&self, zone: ZoneView<'n>, encloser: NodeRef<'n>) -> Option<NodeRef<'n>> {
        if !encloser.has_wildcard_child() {
            return None;
        }
        let mut buffer = [0u8; MAX_NAME_LEN];
        wildcard_name(encloser.name(), &mut buffer).and_then(|w| zone.find(w))
    }

    /// NSD's `answer_domain`: the RRset asked for (or one for ANY), a CNAME
    /// to follow, or NODATA; positive answers carry the zone's NS RRset.
    fn answer_domain(
        &mut self,
        at: At<'n>,
        node: NodeRef<'n>,
        owner: &'n [u8],
        question_wildcard: bool,
    ) -> Step<'n> {
        let wanted = match Rtype(self.qtype) {
            Rtype::ANY => super::any::pick(node, at.dnssec).map(|(rrset, model)| {
                // Knot answers QCLASS ANY authoritatively.
                if model == Model::Knot {
                    self.plan.authoritative = true;
                }
                rrset
            }),
            Rtype::NSEC3 => None,
            qtype => node.rrset(qtype.0),
        };
        if let Some(rrset) = wanted {
            self.add_as(at, Section::Answer, owner, rrset, question_wildcard);
            self.add_zone_ns(at);
            return Step::Done;
        }
        let cname = node
            .rrset(Rtype::CNAME.0)
            .filter(|_| self.qtype != Rtype::NSEC3.0);
        if let Some(cname) = cname {
            if !self.add_as(at, Section::Answer, owner, cname, question_wildcard) {
                return Step::Done;
            }
            self.steps += 1;
            self.synthesised = false;
            return cname.rdatas().next().map_or(Step::Done, Step::Follow);
        }
        self.nodata(at, node);
        Step::Done
    }

    /// The apex NS RRset in the authority section of a positive answer,
    /// except for DNSKEY, DS and ANY, and for QCLASS ANY (NSD's default).
    fn add_zone_ns(&mut self, at: At<'n>) {
        let skipped = [Rtype::DNSKEY.0, Rtype::DS.0, Rtype::ANY.0];
        if self.class_any || skipped.contains(&self.qtype) {
            return;
        }
        let Some(apex) = at.zone.apex() else {
            return;
        };
        if let Some(ns) = apex.rrset(Rtype::NS.0)
            && self.add(at, Section::OptionalAuthority, apex.name(), ns)
        {
            self.plan.zone_ns = at.zone_ns;
            self.plan.zone_ns_in_question = self.steps == 0;
        }
    }

    /// NODATA: the SOA, then the proof that `original` has no such type.
    pub(super) fn nodata(&mut self, at: At<'n>, original: NodeRef<'n>) {
        self.add_negative_soa(at);
        if at.dnssec {
            self.prove_nodata(at, original);
        }
    }

    /// The apex SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308 §3), except for
    /// QCLASS ANY, where NSD leaves it out.
    fn add_negative_soa(&mut self, at: At<'n>) {
        let Some(apex) = at.zone.apex() else {
            return;
        };
        let Some(soa) = apex.rrset(Rtype::SOA.0).filter(|_| !self.class_any) else {
            return;
        };
        let minimum = soa.rdatas().next().and_then(soa_minimum).unwrap_or(0);
        self.plan.push(Item {
            section: Section::Authority,
            owner: apex.name(),
            data: Data::Rrset(soa),
            zone: at.zone,
            signed: at.dnssec,
            ttl: Some(soa.ttl().min(minimum)),
            question_wildcard: false,
        });
    }

    /// RFC 1034 §4.3.2 step 3b: NS of the cut in authority, AA clear (set
    /// again when a CNAME from our data led here, as NSD does), DS or its
    /// denial with DO=1 (RFC 4035 §3.1.4).
    fn referral(&mut self, at: At<'n>, cut: NodeRef<'n>) {
        self.plan.authoritative = self.steps > 0;
        if let Some(ns) = cut.rrset(Rtype::NS.0) {
            self.add(at, Section::Authority, cut.name(), ns);
        }
        if !at.dnssec {
            return;
        }
        match cut.rrset(Rtype::DS.0) {
            Some(ds) => {
                self.add(at, Section::Authority, cut.name(), ds);
            }
            None => self.prove_no_ds(at, cut),
        }
    }

    /// RFC 6672 §3.1: the DNAME, then a CNAME from `sname` to the name with
    /// the DNAME owner replaced by its target (TTL of the DNAME).
    fn dname(&mut self, at: At<'n>, sname: &'n [u8], owner: NodeRef<'n>) -> Step<'n> {
        let Some(dname) = owner.rrset(Rtype::DNAME.0) else {
            return Step::Done;
        };
        let target = dname.rdatas().next().unwrap_or(&[0]);
        let added = self.add(at, Section::Answer, owner.name(), dname);
        if !added && name::is_subdomain(target, owner.name()) {
            return Step::Done;
        }
        let prefix = sname.len().saturating_sub(owner.name().len());
        if prefix + target.len() > MAX_NAME_LEN {
            self.plan.rcode = YXDOMAIN;
            self.plan.ede = Some(DNAME_TOO_LONG);
            return Step::Done;
        }
        self.steps += 1;
        let Some(slot) = self.alloc(prefix + target.len()) else {
            return Step::Done;
        };
        // NSD works on the question name in lower case (only the question
        // section keeps the client's case), so the synthesised target's
        // first labels are lower case.
        for (out, byte) in slot[..prefix].iter_mut().zip(sname) {
            *out = byte.to_ascii_lowercase();
        }
        slot[prefix..].copy_from_slice(target);
        let slot: &'n [u8] = slot;
        if self.plan.has_cname(sname, slot) {
            return Step::Done;
        }
        let cname = Item {
            section: Section::Answer,
            owner: sname,
            data: Data::Cname {
                target: slot,
                ttl: dname.ttl(),
            },
            zone: at.zone,
            signed: false,
            ttl: None,
            question_wildcard: false,
        };
        if !self.plan.push(cname) || self.qtype == Rtype::CNAME.0 {
            return Step::Done;
        }
        self.synthesised = true;
        Step::Follow(slot)
    }

    /// Plans `rrset` from `at`'s zone; false if it was planned already.
    pub(super) fn add(
        &mut self,
        at: At<'n>,
        section: Section,
        owner: &'n [u8],
        rrset: RrsetRef<'n>,
    ) -> bool {
        self.add_as(at, section, owner, rrset, false)
    }

    /// [`add`](Self::add), telling whether `owner` is the question name
    /// reached through a wildcard.
    fn add_as(
        &mut self,
        at: At<'n>,
        section: Section,
        owner: &'n [u8],
        rrset: RrsetRef<'n>,
        question_wildcard: bool,
    ) -> bool {
        self.plan.push(Item {
            section,
            owner,
            data: Data::Rrset(rrset),
            zone: at.zone,
            signed: at.dnssec,
            ttl: None,
            question_wildcard,
        })
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

/// The served zone closest above `lower`. A DS query for a zone's own apex
/// belongs to the parent zone when that is served too (RFC 4035 §3.1.4.1),
/// unless the zone itself has no data yet (NSD answers SERVFAIL then).
fn find_zone<'z>(
    zones: &'z impl ZoneSet,
    lower: &[u8],
    qtype: u16,
) -> Option<super::ServedZone<'z>> {
    let mut rest = lower;
    let mut child_apex = None;
    loop {
        if let Some(zone) = zones.find(rest) {
            let apex_ds = qtype == Rtype::DS.0 && rest.len() == lower.len() && rest.len() > 1;
            if child_apex.is_some() || !apex_ds || zone.snapshot.is_none() {
                return Some(zone);
            }
            child_apex = Some(zone);
        }
        let &label = rest.first()?;
        if label == 0 {
            return child_apex;
        }
        rest = rest.get(1 + label as usize..)?;
    }
}

/// The node of the zone closest to `lower` at or above it (empty
/// non-terminals included) and whether it is `lower` itself.
fn locate<'n>(zone: ZoneView<'n>, lower: &[u8]) -> Option<(bool, NodeRef<'n>)> {
    let mut rest = lower;
    let mut exact = true;
    while rest.len() > zone.origin().len() {
        if let Some(node) = zone.find(rest) {
            return Some((exact, node));
        }
        exact = false;
        rest = rest
            .get(1 + *rest.first().unwrap_or(&0) as usize..)
            .unwrap_or(&[]);
    }
    Some((exact, zone.apex()?))
}

/// The highest zone cut at or above `node`, if any.
fn cut_above(node: NodeRef<'_>) -> Option<NodeRef<'_>> {
    if node.is_delegation() {
        return Some(node);
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
