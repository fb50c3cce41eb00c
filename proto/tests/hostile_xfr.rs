//! Hostile primaries: captured AXFR and IXFR streams from Knot DNS,
//! damaged message by message, reordered, cut short, or with garbage mixed
//! in, never panic the transfer interpreter; whatever it completes stays in
//! the zone and within the limits (see `fuzz_support::xfr`).

mod fuzz_support;
#[path = "fuzz_support/mutate.rs"]
mod mutate;

use proptest::prelude::*;
use understudy_proto::wire::Message;
use understudy_proto::xfr::{Limits, Request, Transfer, XfrError};

use fuzz_support::seeds;
use fuzz_support::xfr::{LIMITS, run};
use mutate::{Mutation, apply, mutations};

/// What happens to the stream as a whole.
#[derive(Debug, Clone)]
enum StreamDamage {
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    CutAfter(usize),
}

fn stream_damage() -> impl Strategy<Value = Option<StreamDamage>> {
    proptest::option::of(prop_oneof![
        any::<usize>().prop_map(StreamDamage::Drop),
        any::<usize>().prop_map(StreamDamage::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| StreamDamage::Swap(a, b)),
        any::<usize>().prop_map(StreamDamage::CutAfter),
    ])
}

/// `messages` with `damage` applied to one of them and to the stream.
fn damaged(
    messages: Vec<&[u8]>,
    target: usize,
    damage: &[Mutation],
    stream: Option<StreamDamage>,
) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = messages.into_iter().map(<[u8]>::to_vec).collect();
    let n = messages.len();
    if n == 0 {
        return messages;
    }
    apply(&mut messages[target % n], damage);
    match stream {
        Some(StreamDamage::Drop(i)) => {
            messages.remove(i % n);
        }
        Some(StreamDamage::Duplicate(i)) => messages.insert(i % n, messages[i % n].clone()),
        Some(StreamDamage::Swap(a, b)) => messages.swap(a % n, b % n),
        Some(StreamDamage::CutAfter(i)) => messages.truncate(i % n + 1),
        None => {}
    }
    messages
}

fn borrowed(messages: &[Vec<u8>]) -> Vec<&[u8]> {
    messages.iter().map(Vec::as_slice).collect()
}

fn first_id(messages: &[&[u8]]) -> u16 {
    messages
        .first()
        .and_then(|m| m.get(..2))
        .map_or(0, |id| u16::from_be_bytes([id[0], id[1]]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn damaged_axfr_streams_keep_the_invariants(
        zone in 0usize..3,
        target in any::<usize>(),
        damage in mutations(3),
        stream in stream_damage(),
        limits in proptest::sample::select(LIMITS.to_vec()),
    ) {
        let (zone, messages) = seeds::axfr_stream(zone);
        let id = first_id(&messages);
        let messages = damaged(messages, target, &damage, stream);
        run(zone, id, Request::Axfr, limits, &borrowed(&messages));
    }

    #[test]
    fn damaged_ixfr_streams_keep_the_invariants(
        zone in 0usize..3,
        target in any::<usize>(),
        damage in mutations(3),
        stream in stream_damage(),
        limits in proptest::sample::select(LIMITS.to_vec()),
    ) {
        let (zone, serial, messages) = seeds::ixfr_stream(zone);
        let id = first_id(&messages);
        let messages = damaged(messages, target, &damage, stream);
        run(zone, id, Request::Ixfr { serial }, limits, &borrowed(&messages));
    }

    /// Garbage mid-transfer that is not a DNS message ends the transfer
    /// with an error: nothing half-received is ever handed back.
    #[test]
    fn garbage_mid_transfer_is_an_error(
        zone in 0usize..3,
        at in any::<usize>(),
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        prop_assume!(Message::parse(&garbage).is_err());
        let (zone, messages) = seeds::axfr_stream(zone);
        let id = first_id(&messages);
        let mut fed = messages.clone();
        fed.insert(at % messages.len(), &garbage);
        let ending = run(zone, id, Request::Axfr, Limits::default(), &fed);
        prop_assert!(matches!(ending, Some(Err(XfrError::Malformed(_)))), "{:?}", ending);
    }
}

/// The captured streams themselves complete: a full zone, and IXFR diffs
/// from the serial asked.
#[test]
fn captured_streams_complete() {
    for index in 0..3 {
        let (zone, messages) = seeds::axfr_stream(index);
        let ending = run(
            zone,
            first_id(&messages),
            Request::Axfr,
            Limits::default(),
            &messages,
        );
        assert!(
            matches!(ending, Some(Ok(Transfer::Full { .. }))),
            "{ending:?}"
        );
        let (zone, serial, messages) = seeds::ixfr_stream(index);
        let request = Request::Ixfr { serial };
        let ending = run(
            zone,
            first_id(&messages),
            request,
            Limits::default(),
            &messages,
        );
        assert!(
            matches!(ending, Some(Ok(Transfer::Incremental { .. }))),
            "{ending:?}"
        );
    }
}

/// An oversized zone is refused with the limit that stopped it.
#[test]
fn oversized_zones_hit_their_limits() {
    let (zone, messages) = seeds::axfr_stream(0);
    let few_records = Limits {
        max_records: 10,
        max_bytes: usize::MAX,
    };
    let ending = run(
        zone.clone(),
        first_id(&messages),
        Request::Axfr,
        few_records,
        &messages,
    );
    assert!(
        matches!(ending, Some(Err(XfrError::TooManyRecords { limit: 10 }))),
        "{ending:?}"
    );
    let few_bytes = Limits {
        max_records: usize::MAX,
        max_bytes: 100,
    };
    let ending = run(
        zone,
        first_id(&messages),
        Request::Axfr,
        few_bytes,
        &messages,
    );
    assert!(
        matches!(ending, Some(Err(XfrError::TooManyBytes { limit: 100 }))),
        "{ending:?}"
    );
}
