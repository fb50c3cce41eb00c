//! Hostile queries: real queries damaged every way a packet can be (bit
//! flips, truncation, lying counts and lengths, compression loops), and
//! random bytes, never panic the responder and keep every reply invariant
//! (see `fuzz_support::query`).

mod fuzz_support;
#[path = "fuzz_support/mutate.rs"]
mod mutate;

use proptest::prelude::*;
use understudy_proto::answer::{AnswerConfig, Outcome, Responder, Transport};
use understudy_proto::record::rcode;
use understudy_proto::wire::Message;

use fuzz_support::fixture::fixture;
use fuzz_support::query::check_query;
use fuzz_support::seeds;
use mutate::{Mutation, apply, mutations};

fn seed_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::sample::select(seeds::queries())
}

fn answer(packet: &[u8]) -> Message {
    let responder = Responder::new(AnswerConfig::default());
    let zones = fixture().zones(understudy_proto::answer::Freshness::Fresh);
    let mut out = vec![0u8; 65535];
    match responder.respond(&zones, packet, Transport::Udp, &mut out) {
        Outcome::Reply { len, .. } => Message::parse(&out[..len]).expect("reply parses"),
        other => panic!("expected a reply, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn mutated_queries_keep_the_reply_invariants(
        seed in seed_strategy(),
        damage in mutations(4),
        mode in any::<u8>(),
    ) {
        let mut packet = seed;
        apply(&mut packet, &damage);
        let mut input = vec![mode];
        input.extend_from_slice(&packet);
        check_query(&input);
    }

    #[test]
    fn random_packets_keep_the_reply_invariants(
        packet in proptest::collection::vec(any::<u8>(), 0..600),
        mode in any::<u8>(),
    ) {
        let mut input = vec![mode];
        input.extend_from_slice(&packet);
        check_query(&input);
    }

    /// Random bytes after a plausible query header reach the question and
    /// section readers instead of stopping at the header checks.
    #[test]
    fn random_sections_keep_the_reply_invariants(
        id in any::<u16>(),
        counts in proptest::array::uniform4(0u16..4),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        mode in any::<u8>(),
    ) {
        let mut input = vec![mode];
        input.extend_from_slice(&id.to_be_bytes());
        input.extend_from_slice(&[0x01, 0x00]);
        for count in counts {
            input.extend_from_slice(&count.to_be_bytes());
        }
        input.extend_from_slice(&body);
        check_query(&input);
    }

    /// RFC 1035 §4.1.4: a pointer that loops makes the question unreadable,
    /// which is FORMERR, not a hang or a crash.
    #[test]
    fn rfc1035_4_1_4_looping_question_name_is_formerr(seed in seed_strategy()) {
        let mut packet = seed;
        apply(&mut packet, &[Mutation::SelfPointer(0)]);
        let reply = answer(&packet);
        prop_assert_eq!(reply.rcode(), rcode::FORMERR);
        prop_assert_eq!(&packet[..2], &reply.header.id.to_be_bytes()[..]);
    }

    /// A question count that claims more than the packet holds is FORMERR.
    #[test]
    fn rfc1035_4_1_1_lying_question_count_is_formerr(seed in seed_strategy(), count in 2u16..) {
        let mut packet = seed;
        apply(&mut packet, &[Mutation::Count(0, count)]);
        prop_assert_eq!(answer(&packet).rcode(), rcode::FORMERR);
    }
}
