//! Hostile messages for the general parser: captured responses and built
//! queries, damaged, never panic `Message::parse`, and whatever it accepts
//! rebuilds to the same content (see `fuzz_support::message`).

mod fuzz_support;
#[path = "fuzz_support/mutate.rs"]
mod mutate;

use proptest::prelude::*;
use understudy_proto::wire::{Message, WireError};

use fuzz_support::message::check_message;
use fuzz_support::seeds;
use mutate::{Mutation, apply, mutations};

/// Every captured transfer message and every built query.
fn seed_messages() -> Vec<Vec<u8>> {
    let mut messages = seeds::queries();
    for index in 0..3 {
        let (_, stream) = seeds::axfr_stream(index);
        messages.extend(stream.into_iter().map(<[u8]>::to_vec));
        let (_, _, stream) = seeds::ixfr_stream(index);
        messages.extend(stream.into_iter().map(<[u8]>::to_vec));
    }
    messages
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn mutated_messages_parse_or_fail_cleanly(
        seed in proptest::sample::select(seed_messages()),
        damage in mutations(5),
    ) {
        let mut message = seed;
        apply(&mut message, &damage);
        check_message(&message);
    }

    #[test]
    fn random_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        check_message(&bytes);
    }

    /// RFC 1035 §4.1.4: a name pointing at itself, or two names pointing at
    /// each other, is an error, never a loop.
    #[test]
    fn rfc1035_4_1_4_pointer_loops_are_errors(
        seed in proptest::sample::select(seed_messages()),
        first in any::<usize>(),
        second in any::<usize>(),
    ) {
        for damage in [Mutation::SelfPointer(first), Mutation::PointerLoop(first, second)] {
            let mut message = seed.clone();
            apply(&mut message, &[damage]);
            if message != seed {
                prop_assert!(Message::parse(&message).is_err());
            }
        }
    }

    /// Counts far beyond the message end fail without reserving memory for
    /// them first.
    #[test]
    fn huge_counts_are_errors(
        seed in proptest::sample::select(seed_messages()),
        section in 0usize..4,
    ) {
        let mut message = seed;
        apply(&mut message, &[Mutation::Count(section, u16::MAX)]);
        prop_assert!(Message::parse(&message).is_err());
    }
}

#[test]
fn truncation_at_every_octet_is_an_error() {
    for seed in seed_messages() {
        for len in 0..seed.len() {
            let result = Message::parse(&seed[..len]);
            assert!(result.is_err(), "{len} of {} octets parsed", seed.len());
        }
        assert!(matches!(
            Message::parse(&[seed.as_slice(), &[0]].concat()),
            Err(WireError::TrailingBytes(1))
        ));
    }
}
