//! Which single RRset answers QTYPE ANY (RFC 8482 §4.1).
//!
//! NSD takes the first of A, AAAA, SOA, MX, PTR in the order the zone was
//! loaded, else the last other type, else the last of DNSKEY, RRSIG, NSEC;
//! Knot DNS takes the RRset of the lowest type. A snapshot does not keep
//! load order, so NSD's choice is followed where order cannot matter (one
//! candidate of the deciding kind, and the SOA at the apex, which zone
//! files and transfers always put first); elsewhere Knot's is, which is a
//! response Knot gives for the same data.

use crate::record::Rtype;
use crate::zone::{NodeRef, RrsetRef};

const PREFERRED: [Rtype; 5] = [Rtype::A, Rtype::AAAA, Rtype::SOA, Rtype::MX, Rtype::PTR];
const NON_PREFERRED: [Rtype; 3] = [Rtype::DNSKEY, Rtype::RRSIG, Rtype::NSEC];

/// Whose choice an ANY answer follows (the rest of the response must
/// follow the same server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Model {
    Nsd,
    Knot,
}

/// The RRset to answer ANY with at `node`, if it has any, and whose choice
/// it is.
pub(super) fn pick(node: NodeRef<'_>, dnssec: bool) -> Option<(RrsetRef<'_>, Model)> {
    if node.is_apex() {
        return node.rrset(Rtype::SOA.0).map(|soa| (soa, Model::Nsd));
    }
    let usable =
        move |r: &RrsetRef<'_>| r.rtype != Rtype::NSEC3.0 && !(dnssec && r.rtype == Rtype::RRSIG.0);
    let candidates = node.rrsets().filter(usable);
    let kinds = [
        |t: u16| PREFERRED.iter().any(|p| p.0 == t),
        |t: u16| !PREFERRED.iter().chain(&NON_PREFERRED).any(|p| p.0 == t),
        |t: u16| NON_PREFERRED.iter().any(|p| p.0 == t),
    ];
    for kind in kinds {
        let mut of_kind = candidates.clone().filter(|r| kind(r.rtype));
        match (of_kind.next(), of_kind.next()) {
            (None, _) => continue,
            (Some(only), None) => return Some((only, Model::Nsd)),
            (Some(_), Some(_)) => return lowest_type(node).map(|r| (r, Model::Knot)),
        }
    }
    None
}

/// Knot's choice: the node's RRset of the lowest type (NSEC3 live apart).
fn lowest_type(node: NodeRef<'_>) -> Option<RrsetRef<'_>> {
    node.rrsets().find(|r| r.rtype != Rtype::NSEC3.0)
}
