//! DNSSEC denial of existence for a pre-signed zone: which NSEC (RFC 4035
//! §3.1.3) or NSEC3 (RFC 5155 §7.2) records prove a negative or wildcard
//! answer. Only called when DO=1 and the zone is signed.

use crate::name::{self, MAX_NAME_LEN};
use crate::record::Rtype;
use crate::zone::{NodeRef, Nsec3View};

use super::plan::Section;
use super::resolve::{Resolver, wildcard_name};

/// Most nodes walked back to find the NSEC covering a name.
const MAX_WALK: usize = 512;

impl<'n> Resolver<'_, 'n> {
    /// Wildcard expansion (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6): prove that
    /// the query name itself does not exist.
    pub(super) fn prove_wildcard_answer(&mut self, lower: &[u8], wildcard: Option<NodeRef<'n>>) {
        let Some(encloser) = wildcard.filter(|_| self.dnssec) else {
            return;
        };
        match self.zone.nsec3() {
            Some(chain) => {
                let next_closer = suffix(lower, encloser.label_count() + 1);
                self.add_nsec3_covering(chain, next_closer);
            }
            None => self.add_nsec_covering(lower),
        }
    }

    /// Name error (RFC 4035 §3.1.3.2, RFC 5155 §7.2.2): no such name, and no
    /// wildcard at the closest encloser.
    pub(super) fn prove_nxdomain(&mut self, lower: &[u8], encloser: NodeRef<'n>) {
        let mut buffer = [0u8; MAX_NAME_LEN];
        match self.zone.nsec3() {
            Some(chain) => {
                let labels = self.closest_encloser_proof(chain, lower, encloser.label_count());
                if let Some(wildcard) = wildcard_name(suffix(lower, labels), &mut buffer) {
                    self.add_nsec3_covering(chain, wildcard);
                }
            }
            None => {
                self.add_nsec_covering(lower);
                if let Some(wildcard) = wildcard_name(encloser.name(), &mut buffer) {
                    self.add_nsec_covering(wildcard);
                }
            }
        }
    }

    /// No data (RFC 4035 §3.1.3.1/§3.1.3.4, RFC 5155 §7.2.3-7.2.5), at the
    /// name itself or at the wildcard that matched it.
    pub(super) fn prove_nodata(
        &mut self,
        node: NodeRef<'n>,
        lower: &[u8],
        wildcard: Option<NodeRef<'n>>,
    ) {
        match (self.zone.nsec3(), wildcard) {
            (Some(chain), Some(encloser)) => {
                // With the next closer name covered already: RFC 5155 §7.2.5.
                self.closest_encloser_proof(chain, lower, encloser.label_count());
                self.add_nsec3_matching(chain, node.name());
            }
            (Some(chain), None) => {
                if !self.add_nsec3_matching(chain, lower) && self.qtype == Rtype::DS.0 {
                    // RFC 5155 §7.2.4: an opt-out delegation has no NSEC3 of its own.
                    self.closest_encloser_proof(chain, lower, node.label_count().saturating_sub(1));
                }
            }
            (None, Some(_)) => self.add_nsec_at(node),
            (None, None) if node.rrset(Rtype::NSEC.0).is_some() => self.add_nsec_at(node),
            (None, None) => self.add_nsec_covering(lower),
        }
    }

    /// A referral without DS (RFC 4035 §3.1.4.1, RFC 5155 §7.2.7): the NSEC
    /// or NSEC3 of the cut, or for opt-out the closest provable encloser.
    pub(super) fn prove_no_ds(&mut self, cut: NodeRef<'n>) {
        match self.zone.nsec3() {
            Some(chain) => {
                let mut buffer = [0u8; MAX_NAME_LEN];
                let lower = super::resolve::lowercase(cut.name(), &mut buffer);
                if !self.add_nsec3_matching(chain, lower) {
                    self.closest_encloser_proof(chain, lower, cut.label_count().saturating_sub(1));
                }
            }
            None => self.add_nsec_at(cut),
        }
    }

    /// RFC 5155 §7.2.1: the NSEC3 matching the closest provable encloser
    /// (starting at `labels` labels of `lower` and going up) and the one
    /// covering the next closer name. Returns the encloser's label count.
    fn closest_encloser_proof(
        &mut self,
        chain: Nsec3View<'n>,
        lower: &[u8],
        labels: usize,
    ) -> usize {
        let origin_labels = self.zone.apex().map_or(0, |apex| apex.label_count());
        let mut labels = labels.max(origin_labels);
        while !self.add_nsec3_matching(chain, suffix(lower, labels)) && labels > origin_labels {
            labels -= 1;
        }
        if labels < name::labels(lower).count() {
            self.add_nsec3_covering(chain, suffix(lower, labels + 1));
        }
        labels
    }

    fn add_nsec3_matching(&mut self, chain: Nsec3View<'n>, name: &[u8]) -> bool {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = super::resolve::lowercase(name, &mut buffer);
        let hash = crate::zone::nsec3_hash(lower, chain.salt(), chain.iterations());
        match chain.matching(&hash) {
            Some(node) => {
                self.add_rrset_of(node, Rtype::NSEC3.0);
                true
            }
            None => false,
        }
    }

    fn add_nsec3_covering(&mut self, chain: Nsec3View<'n>, lower: &[u8]) {
        let hash = crate::zone::nsec3_hash(lower, chain.salt(), chain.iterations());
        if let Some(node) = chain.covering(&hash) {
            self.add_rrset_of(node, Rtype::NSEC3.0);
        }
    }

    fn add_nsec_at(&mut self, node: NodeRef<'n>) {
        self.add_rrset_of(node, Rtype::NSEC.0);
    }

    /// The NSEC of the last authoritative name before `lower` (NSD's
    /// `find_covering_nsec`): empty non-terminals and glue have none.
    fn add_nsec_covering(&mut self, lower: &[u8]) {
        let Some(mut node) = self.zone.predecessor(lower) else {
            return;
        };
        for _ in 0..MAX_WALK {
            if node.rrset(Rtype::NSEC.0).is_some() && !node.is_below_cut() {
                self.add_nsec_at(node);
                return;
            }
            let Some(previous) = node.index().checked_sub(1).and_then(|i| self.zone.node(i)) else {
                return;
            };
            node = previous;
        }
    }

    fn add_rrset_of(&mut self, node: NodeRef<'n>, rtype: u16) {
        if let Some(rrset) = node.rrset(rtype) {
            self.plan
                .add_rrset(Section::Authority, node.name(), node.index(), rrset);
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
