//! Rendezvous (highest random weight) hashing: which node of a region
//! checks the primary for a zone after a NOTIFY.
//!
//! Every node of a region computes the weight of each (zone, node) pair
//! with the same fixed hash and picks the heaviest node, so all of them
//! agree on the fetcher without talking, and zones spread evenly over the
//! region's nodes. When a node leaves, only its own zones move.
//!
//! The weight is the first eight bytes of SHA-256 over the zone's
//! lower-case wire form (self-delimiting: it ends with the root label)
//! followed by the node id; equal weights, vanishingly rare, go to the
//! smaller id.

use ring::digest;

use crate::name::Name;

use super::member::NodeId;

/// The weight of `node` for `zone`.
pub fn weight(zone: &Name, node: &NodeId) -> u64 {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(zone.to_lowercase().as_wire());
    context.update(node.as_str().as_bytes());
    let hash = context.finish();
    let mut first = [0u8; 8];
    for (to, from) in first.iter_mut().zip(hash.as_ref()) {
        *to = *from;
    }
    u64::from_be_bytes(first)
}

/// The heaviest of `nodes` for `zone`: the one that fetches it.
pub fn pick<'a>(zone: &Name, nodes: impl IntoIterator<Item = &'a NodeId>) -> Option<&'a NodeId> {
    nodes
        .into_iter()
        .map(|node| (weight(zone, node), node))
        .max_by(|(wa, a), (wb, b)| wa.cmp(wb).then_with(|| b.cmp(a)))
        .map(|(_, node)| node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn weight_ignores_zone_case_and_depends_on_both_inputs() {
        let a = NodeId::from("ams-1");
        assert_eq!(
            weight(&name("Example.COM."), &a),
            weight(&name("example.com."), &a)
        );
        assert_ne!(
            weight(&name("example.com."), &a),
            weight(&name("example.net."), &a)
        );
        assert_ne!(
            weight(&name("example.com."), &a),
            weight(&name("example.com."), &NodeId::from("ams-2"))
        );
    }

    #[test]
    fn pick_does_not_depend_on_order() {
        let nodes: Vec<NodeId> = ["a", "b", "c", "d"].into_iter().map(NodeId::from).collect();
        let zone = name("example.org.");
        let forward = pick(&zone, &nodes);
        let backward = pick(&zone, nodes.iter().rev());
        assert_eq!(forward, backward);
        assert!(forward.is_some());
        assert_eq!(pick(&zone, std::iter::empty()), None);
    }
}
