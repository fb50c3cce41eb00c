use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::name::Name;
use crate::record::{Class, Record, Rtype};
use crate::serial::ZoneVersion;
use crate::xfr::Diff;

fn name_strategy() -> impl Strategy<Value = Name> {
    prop::collection::vec("[a-zA-Z0-9-]{1,20}", 0..5)
        .prop_map(|labels| Name::from_ascii(&format!("{}.", labels.join("."))).unwrap())
}

fn version_strategy() -> impl Strategy<Value = ZoneVersion> {
    (any::<u32>(), any::<u32>()).prop_map(|(epoch, serial)| ZoneVersion::new(epoch, serial))
}

fn age_strategy() -> impl Strategy<Value = Option<Duration>> {
    prop::option::of(any::<u64>().prop_map(Duration::from_millis))
}

fn request_strategy() -> impl Strategy<Value = Request> {
    prop_oneof![
        name_strategy().prop_map(|zone| Request::Confirm { zone }),
        (
            name_strategy(),
            version_strategy(),
            prop::option::of((version_strategy(), any::<[u8; 32]>()))
        )
            .prop_map(|(zone, want, have)| Request::Fetch(FetchRequest {
                zone,
                want,
                have
            })),
        Just(Request::ZoneList),
    ]
}

fn response_strategy() -> impl Strategy<Value = Response> {
    prop_oneof![
        (version_strategy(), any::<[u8; 32]>(), age_strategy()).prop_map(
            |(version, digest, confirmed_age)| Response::Version {
                version,
                digest,
                confirmed_age
            }
        ),
        Just(Response::NotHeld),
        Just(Response::Busy),
        (any::<u16>(), any::<u16>())
            .prop_map(|(lowest, highest)| Response::Unsupported { lowest, highest }),
        (
            version_strategy(),
            any::<[u8; 32]>(),
            age_strategy(),
            any::<u64>()
        )
            .prop_map(
                |(to, digest_after, confirmed_age, length)| Response::Diffs {
                    to,
                    digest_after,
                    confirmed_age,
                    length
                }
            ),
        (version_strategy(), age_strategy(), any::<u64>()).prop_map(
            |(version, confirmed_age, length)| Response::Snapshot {
                version,
                confirmed_age,
                length
            }
        ),
        any::<u64>().prop_map(|length| Response::ZoneList { length }),
    ]
}

fn record_strategy() -> impl Strategy<Value = Record> {
    (
        name_strategy(),
        any::<u16>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(owner, rtype, ttl, rdata)| Record {
            owner,
            rtype: Rtype(rtype),
            class: Class::IN,
            ttl,
            rdata: rdata.into(),
        })
}

fn diff_strategy() -> impl Strategy<Value = Diff> {
    (
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(record_strategy(), 0..6),
        prop::collection::vec(record_strategy(), 0..6),
    )
        .prop_map(|(from, to, removed, added)| Diff {
            from,
            to,
            removed,
            added,
        })
}

/// Splits an encoded head into its prefix-announced body.
fn head_body(encoded: &[u8]) -> &[u8] {
    let len = head_len([encoded[0], encoded[1]]).unwrap();
    assert_eq!(len, encoded.len() - HEAD_PREFIX_LEN);
    &encoded[HEAD_PREFIX_LEN..]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn requests_round_trip(request in request_strategy()) {
        let bytes = request.encode(HIGHEST_VERSION);
        prop_assert!(bytes.len() <= MAX_REQUEST_LEN);
        prop_assert_eq!(Request::decode(&bytes), Ok((HIGHEST_VERSION, request)));
        // Every proper prefix is truncated, never mistaken for a request.
        for cut in 0..bytes.len() {
            prop_assert!(Request::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn responses_round_trip(response in response_strategy()) {
        let bytes = response.encode(HIGHEST_VERSION);
        prop_assert_eq!(
            Response::decode(head_body(&bytes)),
            Ok((HIGHEST_VERSION, response))
        );
        for cut in HEAD_PREFIX_LEN..bytes.len() {
            prop_assert!(Response::decode(&bytes[HEAD_PREFIX_LEN..cut]).is_err());
        }
    }

    #[test]
    fn diffs_round_trip(diffs in prop::collection::vec(diff_strategy(), 0..5)) {
        let bytes = encode_diffs(&diffs);
        prop_assert_eq!(decode_diffs(&bytes, 5), Ok(diffs.clone()));
        for cut in 0..bytes.len() {
            prop_assert!(decode_diffs(&bytes[..cut], 5).is_err());
        }
        let mut padded = bytes.clone();
        padded.push(0);
        prop_assert_eq!(decode_diffs(&padded, 5), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Request::decode(&bytes);
        let _ = Response::decode(&bytes);
        let _ = decode_diffs(&bytes, u32::MAX);
        if let [a, b, ..] = bytes[..] {
            let _ = head_len([a, b]);
        }
        // The same bytes behind a valid request prefix reach the field parsers.
        let mut request = MAGIC.to_vec();
        request.extend_from_slice(&HIGHEST_VERSION.to_be_bytes());
        request.extend_from_slice(&bytes);
        let _ = Request::decode(&request);
    }

    #[test]
    fn flipped_bytes_never_panic(
        request in request_strategy(),
        response in response_strategy(),
        diffs in prop::collection::vec(diff_strategy(), 1..3),
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = request.encode(HIGHEST_VERSION);
        let at = position.index(bytes.len());
        bytes[at] = value;
        let _ = Request::decode(&bytes);
        let mut bytes = response.encode(HIGHEST_VERSION);
        let at = position.index(bytes.len() - HEAD_PREFIX_LEN) + HEAD_PREFIX_LEN;
        bytes[at] = value;
        let _ = Response::decode(&bytes[HEAD_PREFIX_LEN..]);
        let mut bytes = encode_diffs(&diffs);
        let at = position.index(bytes.len());
        bytes[at] = value;
        let _ = decode_diffs(&bytes, 10);
    }
}

#[test]
fn an_unknown_request_version_is_reported_for_an_unsupported_answer() {
    let request = Request::ZoneList.encode(HIGHEST_VERSION + 1);
    assert_eq!(
        Request::decode(&request),
        Err(CodecError::UnsupportedVersion(HIGHEST_VERSION + 1))
    );
    let mut foreign = request.clone();
    foreign[0] = b'X';
    assert_eq!(Request::decode(&foreign), Err(CodecError::BadMagic));
}

#[test]
fn unsupported_reads_in_any_version_other_heads_only_in_ours() {
    let future = HIGHEST_VERSION + 7;
    let unsupported = Response::Unsupported {
        lowest: 5,
        highest: future,
    };
    let bytes = unsupported.encode(future);
    assert_eq!(
        Response::decode(head_body(&bytes)),
        Ok((future, unsupported))
    );
    let bytes = Response::NotHeld.encode(future);
    assert_eq!(
        Response::decode(head_body(&bytes)),
        Err(CodecError::UnsupportedVersion(future))
    );
}

#[test]
fn negotiation_picks_the_highest_common_version_once() {
    assert_eq!(negotiate(1..=3, 1..=2, 3), Some(2));
    assert_eq!(negotiate(1..=2, 2..=5, 1), Some(2));
    // Nothing in common.
    assert_eq!(negotiate(1..=1, 2..=3, 1), None);
    // The peer claims the version it just refused: no loop.
    assert_eq!(negotiate(1..=2, 1..=2, 2), None);
}

#[test]
fn payloads_over_the_limits_are_refused_before_reading() {
    let limits = Limits::default();
    let snapshot = Response::Snapshot {
        version: ZoneVersion::new(0, 1),
        confirmed_age: None,
        length: limits.max_snapshot_len + 1,
    };
    assert_eq!(
        snapshot.check(&limits),
        Err(CodecError::TooLarge {
            what: "snapshot",
            length: limits.max_snapshot_len + 1,
            limit: limits.max_snapshot_len,
        })
    );
    let fits = Response::ZoneList {
        length: limits.max_zone_list_len,
    };
    assert_eq!(fits.check(&limits), Ok(()));
    let diffs = vec![
        Diff {
            from: 1,
            to: 2,
            removed: vec![],
            added: vec![],
        };
        3
    ];
    assert!(matches!(
        decode_diffs(&encode_diffs(&diffs), 2),
        Err(CodecError::TooLarge {
            what: "diff count",
            length: 3,
            limit: 2
        })
    ));
}

#[test]
fn head_lengths_outside_any_head_are_refused() {
    assert_eq!(head_len([0, 2]), Err(CodecError::BadHeadLength(2)));
    assert_eq!(
        head_len([0xff, 0xff]),
        Err(CodecError::BadHeadLength(0xffff))
    );
    assert_eq!(head_len([0, 3]), Ok(3));
}

#[test]
fn a_request_longer_than_the_bound_is_refused() {
    let bytes = vec![0u8; MAX_REQUEST_LEN + 1];
    assert_eq!(
        Request::decode(&bytes),
        Err(CodecError::RequestTooLong(MAX_REQUEST_LEN + 1))
    );
}

/// The layout in the module diagram, byte for byte: a change here breaks
/// nodes of adjacent releases.
#[test]
fn version_1_layout_is_pinned() {
    let fetch = Request::Fetch(FetchRequest {
        zone: Name::from_ascii("a.").unwrap(),
        want: ZoneVersion::new(1, 2),
        have: Some((ZoneVersion::new(1, 1), [0xab; 32])),
    });
    let mut expected = vec![b'U', b'Q', 0, 1, 2, 3, 1, b'a', 0];
    expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expected.extend_from_slice(&[0xab; 32]);
    assert_eq!(fetch.encode(1), expected);

    let snapshot = Response::Snapshot {
        version: ZoneVersion::new(0, 9),
        confirmed_age: Some(Duration::from_millis(258)),
        length: 4096,
    };
    let mut expected = vec![0, 28, 0, 1, 6, 0, 0, 0, 0, 0, 0, 0, 9, 1];
    expected.extend_from_slice(&258u64.to_be_bytes());
    expected.extend_from_slice(&4096u64.to_be_bytes());
    assert_eq!(snapshot.encode(1), expected);

    let unsupported = Response::Unsupported {
        lowest: 1,
        highest: 3,
    };
    assert_eq!(unsupported.encode(3), [0, 7, 0, 3, 4, 0, 1, 0, 3]);
}
