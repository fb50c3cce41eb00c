//! DNSSEC denial of existence for a pre-signed zone: which NSEC (RFC 4035
//! §3.1.3) or NSEC3 (RFC 5155 §7.2) records prove a negative, wildcard or
//! referral answer, chosen and ordered as NSD 4.6 does (the order decides
//! what survives truncation). Only called when DO=1 and the zone is signed.
//!
//! NSD precomputes, per name, the NSEC3 that matches or covers its hash
//! ("cover", "exact") and the same for `*.name` and for a delegation's own
//! hash; here they are computed when needed, for the same names.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Rtype, rcode};
use crate::zone::{NodeRef, Nsec3View, nsec3_hash};

use super::ZoneSet;
use super::plan::Section;
use super::resolve::{At, NSEC3_COLLISION, Resolver, lowercase, wildcard_name};

/// Most nodes walked back to find the NSEC covering a name, or up to find
/// a provable encloser.
const MAX_WALK: usize = 512;

/// The NSEC3 chain and the zone it belongs to.
#[derive(Clone, Copy)]
struct Chain<'n> {
    nsec3: Nsec3View<'n>,
}

impl<'n> Chain<'n> {
    fn hash(&self, wire: &[u8]) -> [u8; 20] {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = lowercase(wire, &mut buffer);
        nsec3_hash(lower, self.nsec3.salt(), self.nsec3.iterations())
    }

    /// The NSEC3 matching `wire`'s hash, or else the one covering it.
    fn cover(&self, wire: &[u8]) -> Option<(NodeRef<'n>, bool)> {
        let hash = self.hash(wire);
        match self.nsec3.matching(&hash) {
            Some(node) => Some((node, true)),
            None => self.nsec3.covering(&hash).map(|node| (node, false)),
        }
    }

    /// Whether NSD hashes `node` as a name of the zone: it exists (empty
    /// non-terminals too) and is authoritative.
    fn hashed(node: NodeRef<'_>) -> bool {
        !node.is_nsec3_only() && !node.is_delegation() && !node.is_below_cut()
    }

    /// Whether NSD hashes `node` as a delegation, for DS proofs.
    fn ds_hashed(node: NodeRef<'_>) -> bool {
        let delegation = node.rrset(Rtype::DS.0).is_some() || node.rrset(Rtype::NS.0).is_some();
        delegation && !node.is_apex() && !node.is_nsec3_only()
    }

    /// Whether NSD keeps NSEC3 data for `node` at all.
    fn known(node: NodeRef<'_>) -> bool {
        Self::hashed(node) || Self::ds_hashed(node) || node.rrset(Rtype::NSEC3.0).is_some()
    }

    /// NSD's `nsec3_cover` of a node and whether it matches exactly.
    fn node_cover(&self, node: NodeRef<'n>) -> Option<(NodeRef<'n>, bool)> {
        if Self::hashed(node) {
            self.cover(node.name())
        } else {
            None
        }
    }

    fn exact(&self, node: NodeRef<'n>) -> bool {
        self.node_cover(node).is_some_and(|(_, exact)| exact)
    }

    /// NSD's `nsec3_ds_parent_cover` of a delegation and whether it matches.
    fn ds_cover(&self, node: NodeRef<'n>) -> Option<(NodeRef<'n>, bool)> {
        if Self::ds_hashed(node) {
            self.cover(node.name())
        } else {
            None
        }
    }
}

impl<'n, Z: ZoneSet> Resolver<'_, 'n, Z> {
    /// RFC 5155 §7.2.6: a wildcard answer proves the next closer name absent.
    pub(super) fn prove_wildcard_nsec3(&mut self, at: At<'n>, lower: &[u8], encloser: NodeRef<'n>) {
        if let Some(nsec3) = at.zone.nsec3() {
            self.nonexistence(at, Chain { nsec3 }, encloser, lower);
        }
    }

    /// NSD's proofs in `answer_authoritative`: for NSEC, the NSEC covering
    /// the name unless it matched exactly and, for NXDOMAIN, the one
    /// covering the wildcard; for NSEC3, the empty non-terminal NODATA
    /// proof or the closest encloser proof with the wildcard's cover.
    pub(super) fn prove_authoritative(
        &mut self,
        at: At<'n>,
        lower: &[u8],
        matched: Option<NodeRef<'n>>,
        exact: bool,
        encloser: NodeRef<'n>,
    ) {
        let Some(nsec3) = at.zone.nsec3() else {
            if !exact && self.synthesised {
                self.add_nsec_from(at, encloser);
            } else if !exact {
                self.add_nsec_covering(at, lower);
            }
            if matched.is_none() {
                let mut buffer = [0u8; MAX_NAME_LEN];
                if let Some(wildcard) = wildcard_name(encloser.name(), &mut buffer) {
                    self.add_nsec_covering(at, wildcard);
                }
            }
            return;
        };
        let chain = Chain { nsec3 };
        match matched {
            Some(node) if node.rrset_count() == 0 => self.nsec3_nodata(at, chain, node),
            Some(_) => {}
            None => {
                self.closest_encloser_proof(at, chain, encloser, lower);
                let mut buffer = [0u8; MAX_NAME_LEN];
                if Chain::hashed(encloser)
                    && let Some(wildcard) = wildcard_name(encloser.name(), &mut buffer)
                {
                    self.add_nsec3(at, chain.cover(wildcard));
                }
            }
        }
    }

    /// No data at `original` (RFC 4035 §3.1.3.1/§3.1.3.4, RFC 5155
    /// §7.2.3-7.2.5).
    pub(super) fn prove_nodata(&mut self, at: At<'n>, original: NodeRef<'n>) {
        match at.zone.nsec3() {
            Some(nsec3) => self.nsec3_nodata(at, Chain { nsec3 }, original),
            None => self.add_nsec_from(at, original),
        }
    }

    /// A referral without DS (RFC 4035 §3.1.4.1, RFC 5155 §7.2.7): the NSEC
    /// of the cut, or NSEC3 proof that the cut has no DS (opt-out included).
    pub(super) fn prove_no_ds(&mut self, at: At<'n>, cut: NodeRef<'n>) {
        match at.zone.nsec3() {
            Some(nsec3) => self.ds_proof(at, Chain { nsec3 }, cut, true),
            None => {
                if let Some(nsec) = cut.rrset(Rtype::NSEC.0) {
                    self.add(at, Section::Authority, cut.name(), nsec);
                }
            }
        }
    }

    /// NSD's `nsec3_answer_nodata`.
    fn nsec3_nodata(&mut self, at: At<'n>, chain: Chain<'n>, original: NodeRef<'n>) {
        let wildcard = name::labels(original.name()).next() == Some(b"*");
        if self.qtype == Rtype::DS.0 {
            if original.is_apex() {
                if chain.exact(original) {
                    self.add_nsec3(at, chain.node_cover(original));
                }
                return;
            }
            self.ds_proof(at, chain, original, false);
            if wildcard {
                self.add_exact_parent(at, chain, original);
            }
        } else if wildcard {
            self.add_exact_parent(at, chain, original);
            self.add_nsec3(at, chain.node_cover(original));
        } else if Chain::known(original) {
            let mut node = original;
            if !chain.exact(node) {
                for _ in 0..MAX_WALK {
                    let parent = node.parent();
                    if node.is_apex() || !Chain::known(parent) || chain.exact(parent) {
                        break;
                    }
                    node = parent;
                }
            }
            self.add_nsec3(at, chain.node_cover(node));
            if !chain.exact(node) {
                self.add_exact_parent(at, chain, node);
            }
        }
    }

    fn add_exact_parent(&mut self, at: At<'n>, chain: Chain<'n>, node: NodeRef<'n>) {
        let parent = node.parent();
        if !node.is_apex() && chain.exact(parent) {
            self.add_nsec3(at, chain.node_cover(parent));
        }
    }

    /// NSD's `nsec3_add_ds_proof`: the delegation's own NSEC3, or (opt-out)
    /// the closest provable encloser and the NSEC3 covering the next name.
    fn ds_proof(&mut self, at: At<'n>, chain: Chain<'n>, domain: NodeRef<'n>, delegation: bool) {
        if let Some((nsec3, true)) = chain.ds_cover(domain) {
            self.add_nsec3(at, Some((nsec3, true)));
            return;
        }
        if !delegation && chain.exact(domain) {
            self.add_nsec3(at, chain.node_cover(domain));
            return;
        }
        let mut parent = domain.parent();
        let mut below = None;
        for _ in 0..MAX_WALK {
            if (Chain::known(parent) && chain.exact(parent)) || parent.is_apex() {
                break;
            }
            below = Some(parent);
            parent = parent.parent();
        }
        if !Chain::known(parent) {
            return;
        }
        self.add_nsec3(at, chain.node_cover(parent));
        match below {
            Some(below) if Chain::known(below) => self.add_nsec3(at, chain.node_cover(below)),
            _ if Chain::known(domain) => self.add_nsec3(at, chain.ds_cover(domain)),
            _ => {}
        }
    }

    /// RFC 5155 §7.2.1 as NSD writes it: the NSEC3 covering the next closer
    /// name, then the one matching the closest encloser.
    fn closest_encloser_proof(
        &mut self,
        at: At<'n>,
        chain: Chain<'n>,
        encloser: NodeRef<'n>,
        lower: &[u8],
    ) {
        self.nonexistence(at, chain, encloser, lower);
        if chain.exact(encloser) {
            self.add_nsec3(at, chain.node_cover(encloser));
        }
    }

    /// The NSEC3 covering the name one label below `encloser` on the way
    /// to `lower`; a matching one means a hash collision (SERVFAIL, NSD).
    fn nonexistence(&mut self, at: At<'n>, chain: Chain<'n>, encloser: NodeRef<'n>, lower: &[u8]) {
        let next_closer = suffix(lower, encloser.label_count() + 1);
        match chain.cover(next_closer) {
            Some((_, true)) => {
                self.plan.rcode = rcode::SERVFAIL;
                self.plan.ede = Some(NSEC3_COLLISION);
            }
            covering => self.add_nsec3(at, covering),
        }
    }

    fn add_nsec3(&mut self, at: At<'n>, cover: Option<(NodeRef<'n>, bool)>) {
        if let Some((node, _)) = cover
            && let Some(nsec3) = node.rrset(Rtype::NSEC3.0)
        {
            self.add(at, Section::Authority, node.name(), nsec3);
        }
    }

    /// The NSEC of the last name at or before `lower` that has one (NSD's
    /// `find_covering_nsec`): empty non-terminals and glue have none.
    fn add_nsec_covering(&mut self, at: At<'n>, lower: &[u8]) {
        if let Some(node) = at.zone.predecessor(lower) {
            self.add_nsec_from(at, node);
        }
    }

    /// The NSEC of `node`, or of the closest node before it that has one.
    fn add_nsec_from(&mut self, at: At<'n>, mut node: NodeRef<'n>) {
        for _ in 0..MAX_WALK {
            if let Some(nsec) = node.rrset(Rtype::NSEC.0).filter(|_| !node.is_below_cut()) {
                self.add(at, Section::Authority, node.name(), nsec);
                return;
            }
            let Some(previous) = node.index().checked_sub(1).and_then(|i| at.zone.node(i)) else {
                return;
            };
            node = previous;
        }
    }
}

/// The ancestor of `wire` (or itself) with `labels` labels.
pub(super) fn suffix(wire: &[u8], labels: usize) -> &[u8] {
    let total = name::labels(wire).count();
    let mut rest = wire;
    for _ in labels..total {
        rest = rest
            .get(1 + *rest.first().unwrap_or(&0) as usize..)
            .unwrap_or(&[0]);
    }
    rest
}
