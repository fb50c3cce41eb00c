//! Property tests: `respond` never panics on arbitrary bytes, and every
//! response to a random query decodes with hickory-proto and respects the
//! size limit.

mod answer_support;

use std::sync::OnceLock;

use hickory_proto::op::Message;
use proptest::prelude::*;

use answer_support::{fake_sign, name, parse_zone, query};
use understudy_proto::Name;
use understudy_proto::answer::{AnswerConfig, Outcome, Responder, Transport};
use understudy_proto::record::Rtype;
use understudy_proto::zone::Snapshot;

const ZONE: &str = r#"
example. 3600 IN SOA ns1.example. hostmaster.example. 7 3600 600 604800 300
example. 3600 IN NS ns1.example.
example. 3600 IN NS ns.sub.example.
example. 3600 IN MX 10 mail.example.
ns1.example. 3600 IN A 192.0.2.1
mail.example. 3600 IN A 192.0.2.3
mail.example. 3600 IN AAAA 2001:db8::3
www.example. 300 IN A 192.0.2.10
www.example. 300 IN TXT "some text" "more text"
alias.example. 300 IN CNAME www.example.
a.b.c.example. 300 IN A 192.0.2.20
*.w.example. 300 IN TXT "wild"
*.cw.example. 300 IN CNAME www.example.
sub.example. 3600 IN NS ns.sub.example.
sub.example. 3600 IN NS ns.elsewhere.test.
ns.sub.example. 3600 IN A 192.0.2.30
dn.example. 300 IN DNAME target.example.
target.example. 300 IN A 192.0.2.40
srv.example. 300 IN SRV 0 1 53 mail.example.
big.example. 300 IN TXT "0123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "1123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "2123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "3123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "4123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "5123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "6123456789012345678901234567890123456789012345678901234567890123456789"
big.example. 300 IN TXT "7123456789012345678901234567890123456789012345678901234567890123456789"
"#;

fn zones() -> &'static (Snapshot, Snapshot) {
    static ZONES: OnceLock<(Snapshot, Snapshot)> = OnceLock::new();
    ZONES.get_or_init(|| {
        let origin = name("example.");
        let records = parse_zone(ZONE);
        let plain = Snapshot::build(&origin, records.clone()).unwrap();
        let signed = Snapshot::build(&origin, fake_sign(&origin, records)).unwrap();
        (plain, signed)
    })
}

fn responder() -> Responder {
    Responder::new(AnswerConfig {
        nsid: Some(b"node-1".to_vec()),
        identity: Some("node-1".into()),
        version: Some("understudy".into()),
        ..AnswerConfig::default()
    })
}

const LABELS: [&str; 12] = [
    "www", "alias", "a", "b", "c", "w", "cw", "sub", "ns", "dn", "big", "WwW",
];
const TYPES: [Rtype; 14] = [
    Rtype::A,
    Rtype::AAAA,
    Rtype::NS,
    Rtype::SOA,
    Rtype::MX,
    Rtype::TXT,
    Rtype::CNAME,
    Rtype::DNAME,
    Rtype::DS,
    Rtype::ANY,
    Rtype::RRSIG,
    Rtype::NSEC,
    Rtype::SRV,
    Rtype(65000),
];

fn qname(labels: &[usize]) -> Name {
    let mut text: String = labels.iter().map(|&i| format!("{}.", LABELS[i])).collect();
    text.push_str("example.");
    name(&text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn responses_decode_and_fit(
        labels in prop::collection::vec(0..LABELS.len(), 0..4),
        qtype in 0..TYPES.len(),
        edns in prop::option::of((0u16..5000, any::<bool>())),
        tcp in any::<bool>(),
        signed in any::<bool>(),
    ) {
        let (plain, signed_zone) = zones();
        let zone = if signed { signed_zone } else { plain };
        let packet = query(0x4242, &qname(&labels), TYPES[qtype], edns);
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        let mut out = vec![0u8; 65535];
        let Outcome::Reply { len, .. } = responder().respond(zone, &packet, transport, &mut out) else {
            return Err(TestCaseError::fail("no reply"));
        };
        let limit = match (tcp, edns) {
            (true, _) => 65535,
            (false, None) => 512,
            (false, Some((payload, _))) => usize::from(payload).clamp(512, 1232),
        };
        prop_assert!(len <= limit, "{} > {}", len, limit);
        let message = Message::from_vec(&out[..len]);
        prop_assert!(message.is_ok(), "hickory: {:?}", message.err());
        let message = message.unwrap();
        prop_assert_eq!(message.metadata.id, 0x4242);
        prop_assert_eq!(message.queries.len(), 1);
        prop_assert_eq!(message.edns.is_some(), edns.is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), tcp in any::<bool>()) {
        let (plain, _) = zones();
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        let mut out = vec![0u8; 65535];
        if let Outcome::Reply { len, .. } = responder().respond(plain, &bytes, transport, &mut out) {
            prop_assert!(len >= 12 && len <= out.len());
        }
    }

    #[test]
    fn mutated_queries_never_panic(
        labels in prop::collection::vec(0..LABELS.len(), 0..4),
        qtype in 0..TYPES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let (_, signed) = zones();
        let mut packet = query(1, &qname(&labels), TYPES[qtype], Some((1232, true)));
        for (index, value) in edits {
            let i = index.index(packet.len());
            packet[i] = value;
        }
        let keep = cut.index(packet.len() + 1);
        packet.truncate(keep.max(12));
        let mut out = vec![0u8; 1232];
        if let Outcome::Reply { len, .. } = responder().respond(signed, &packet, Transport::Udp, &mut out) {
            prop_assert!(Message::from_vec(&out[..len]).is_ok() || len == 12);
        }
    }
}
