use ring::hmac;

use super::*;
use crate::name::Name;
use crate::record::{Class, Record, Rtype, opcode, rcode};
use crate::wire::{self, Header, MAX_MESSAGE_LEN, Message, MessageBuilder};

const NOW: u64 = 1_700_000_000;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn key(algorithm: Algorithm) -> Key {
    Key {
        name: name("xfr-key."),
        algorithm,
        secret: b"a secret that both ends know".to_vec(),
    }
}

fn ring_of(key: &Key) -> KeyRing {
    [key.clone()].into_iter().collect()
}

fn parse(bytes: &[u8]) -> Message {
    Message::parse(bytes).unwrap()
}

/// The `n`th message of a response to `query`: one A record.
fn response(query: &Message, n: u8) -> Vec<u8> {
    let mut builder = MessageBuilder::new(Header::response_to(&query.header), MAX_MESSAGE_LEN);
    builder.push_question(query.question().unwrap()).unwrap();
    let record = Record {
        owner: name("example."),
        rtype: Rtype::A,
        class: Class::IN,
        ttl: 60,
        rdata: vec![192, 0, 2, n].into(),
    };
    builder.push_answer(&record).unwrap();
    builder.finish()
}

fn signed_query(key: &Key, now: u64) -> (Vec<u8>, ResponseVerifier) {
    let mut query = wire::axfr_query(0x1234, &name("example."));
    let verifier = sign_request(&mut query, key, now).unwrap();
    (query, verifier)
}

#[test]
fn rfc8945_5_1_signed_request_verifies_with_every_algorithm() {
    for algorithm in Algorithm::ALL {
        let key = key(algorithm);
        let (query, verifier) = signed_query(&key, NOW);
        let parsed = parse(&query);
        let tsig = parsed.tsig.as_ref().unwrap();
        assert_eq!(tsig.record.owner, key.name);
        let rdata = TsigRdata::parse(&tsig.record.rdata).unwrap();
        assert_eq!(
            (rdata.fudge, rdata.time_signed, rdata.original_id),
            (300, NOW, 0x1234)
        );
        assert_eq!(rdata.mac.len(), algorithm.mac_len());
        assert_eq!(verifier.request_mac(), &rdata.mac[..]);
        let signer = verify_request(&query, &parsed, &ring_of(&key), NOW + 10)
            .unwrap()
            .unwrap();
        assert_eq!(signer.key(), &key);
        assert_eq!(signer.request_mac(), &rdata.mac[..]);
    }
}

#[test]
fn rfc8945_5_1_unsigned_request_is_reported_as_such() {
    let query = wire::soa_query(1, &name("example."));
    assert!(
        verify_request(&query, &parse(&query), &KeyRing::new(), NOW)
            .unwrap()
            .is_none()
    );
}

#[test]
fn rfc8945_4_3_1_original_id_is_what_was_signed() {
    let key = key(Algorithm::HmacSha256);
    let (mut query, _) = signed_query(&key, NOW);
    query[..2].copy_from_slice(&0x9999u16.to_be_bytes());
    assert!(verify_request(&query, &parse(&query), &ring_of(&key), NOW).is_ok());
}

#[test]
fn rfc8945_5_2_1_unknown_key_gets_unsigned_badkey() {
    let (query, mut verifier) = signed_query(&key(Algorithm::HmacSha256), NOW);
    let parsed = parse(&query);
    let other = Key {
        name: name("other."),
        ..key(Algorithm::HmacSha256)
    };
    let mut error = verify_request(&query, &parsed, &ring_of(&other), NOW).unwrap_err();
    assert!(matches!(error, RequestError::BadKey { .. }));
    // Same name, other algorithm: also BADKEY.
    let mismatched = key(Algorithm::HmacSha512);
    assert!(matches!(
        verify_request(&query, &parsed, &ring_of(&mismatched), NOW),
        Err(RequestError::BadKey { .. })
    ));
    let reply = error.response(&parsed, NOW).unwrap();
    let reply_parsed = parse(&reply);
    assert_eq!(reply_parsed.rcode(), rcode::NOTAUTH);
    let rdata = TsigRdata::parse(&reply_parsed.tsig.as_ref().unwrap().record.rdata).unwrap();
    assert_eq!((rdata.error, rdata.mac.len()), (rcode::BADKEY, 0));
    assert_eq!(
        verifier.verify(&reply, &reply_parsed, NOW),
        Err(VerifyError::ServerError {
            error: rcode::BADKEY,
            rcode: rcode::NOTAUTH,
            server_time: None
        })
    );
}

#[test]
fn rfc8945_5_2_2_altered_request_gets_unsigned_badsig() {
    let key = key(Algorithm::HmacSha384);
    let (mut query, mut verifier) = signed_query(&key, NOW);
    query[2] |= 0x01; // RD set after signing
    let parsed = parse(&query);
    let mut error = verify_request(&query, &parsed, &ring_of(&key), NOW).unwrap_err();
    assert!(matches!(error, RequestError::BadSig { .. }), "{error:?}");
    let reply = error.response(&parsed, NOW).unwrap();
    let verdict = verifier.verify(&reply, &parse(&reply), NOW);
    assert!(matches!(
        verdict,
        Err(VerifyError::ServerError {
            error: rcode::BADSIG,
            ..
        })
    ));
    // A wrong secret is the same failure.
    let (query, _) = signed_query(
        &Key {
            secret: b"guess".to_vec(),
            ..key.clone()
        },
        NOW,
    );
    let result = verify_request(&query, &parse(&query), &ring_of(&key), NOW);
    assert!(matches!(result, Err(RequestError::BadSig { .. })));
}

#[test]
fn rfc8945_5_2_2_1_truncated_mac_is_badtrunc_and_overlong_is_formerr() {
    let key = key(Algorithm::HmacSha256);
    for (mac_len, expect_trunc) in [(16, true), (33, false)] {
        let mut query = wire::axfr_query(7, &name("example."));
        let rdata = TsigRdata {
            algorithm: key.algorithm.name(),
            time_signed: NOW,
            fudge: 300,
            mac: vec![0; mac_len],
            original_id: 7,
            error: 0,
            other: Vec::new(),
        };
        mac::append(&mut query, &key.name, &rdata).unwrap();
        let result = verify_request(&query, &parse(&query), &ring_of(&key), NOW);
        match result {
            Err(RequestError::BadTrunc { .. }) => assert!(expect_trunc),
            Err(RequestError::Malformed) => assert!(!expect_trunc),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn rfc8945_5_2_3_old_request_gets_signed_badtime_with_server_time() {
    let key = key(Algorithm::HmacSha1);
    let (query, mut verifier) = signed_query(&key, NOW - 301);
    let parsed = parse(&query);
    let mut error = verify_request(&query, &parsed, &ring_of(&key), NOW).unwrap_err();
    assert_eq!(error.tsig_error(), Some(rcode::BADTIME));
    let reply = error.response(&parsed, NOW).unwrap();
    let reply_parsed = parse(&reply);
    let rdata = TsigRdata::parse(&reply_parsed.tsig.as_ref().unwrap().record.rdata).unwrap();
    assert_eq!(
        rdata.time_signed,
        NOW - 301,
        "Time Signed echoes the request"
    );
    assert_eq!(rdata.server_time(), Some(NOW));
    // The client, whose clock is behind, verifies the MAC and learns the server's time.
    assert_eq!(
        verifier.verify(&reply, &reply_parsed, NOW - 300),
        Err(VerifyError::ServerError {
            error: rcode::BADTIME,
            rcode: rcode::NOTAUTH,
            server_time: Some(NOW)
        })
    );
}

#[test]
fn rfc8945_5_2_malformed_tsig_is_formerr_without_tsig() {
    let record = Record {
        owner: name("k."),
        rtype: Rtype::TSIG,
        class: Class::ANY,
        ttl: 0,
        rdata: vec![0; 5].into(),
    };
    let mut builder = MessageBuilder::new(Header::query(7, opcode::QUERY), MAX_MESSAGE_LEN);
    let zone = parse(&wire::axfr_query(7, &name("example.")));
    builder.push_question(zone.question().unwrap()).unwrap();
    builder.push_additional(&record).unwrap();
    let query = builder.finish();
    let parsed = parse(&query);
    let mut error = verify_request(&query, &parsed, &KeyRing::new(), NOW).unwrap_err();
    assert!(matches!(error, RequestError::Malformed));
    let reply = parse(&error.response(&parsed, NOW).unwrap());
    assert_eq!(reply.rcode(), rcode::FORMERR);
    assert!(reply.tsig.is_none());
}

#[test]
fn rfc8945_5_3_1_every_message_signed_stream_verifies() {
    for algorithm in Algorithm::ALL {
        let key = key(algorithm);
        let (query, mut verifier) = signed_query(&key, NOW);
        let parsed = parse(&query);
        let mut signer = verify_request(&query, &parsed, &ring_of(&key), NOW)
            .unwrap()
            .unwrap();
        for n in 0..5 {
            let mut message = response(&parsed, n);
            signer.sign(&mut message, NOW + u64::from(n)).unwrap();
            verifier.verify(&message, &parse(&message), NOW).unwrap();
        }
        verifier.finish().unwrap();
    }
}

#[test]
fn rfc8945_5_3_1_reordered_or_replayed_messages_fail() {
    let key = key(Algorithm::HmacSha256);
    let (query, mut verifier) = signed_query(&key, NOW);
    let parsed = parse(&query);
    let mut signer = verify_request(&query, &parsed, &ring_of(&key), NOW)
        .unwrap()
        .unwrap();
    let mut messages = Vec::new();
    for n in 0..3 {
        let mut message = response(&parsed, n);
        signer.sign(&mut message, NOW).unwrap();
        messages.push(message);
    }
    verifier
        .verify(&messages[0], &parse(&messages[0]), NOW)
        .unwrap();
    assert_eq!(
        verifier.verify(&messages[2], &parse(&messages[2]), NOW),
        Err(VerifyError::BadSig)
    );
}

/// A server that signs only every `every`th message, computed here directly
/// with `ring` from the RFC's description, independent of `ResponseSigner`.
fn sparse_stream(
    key: &Key,
    query: &[u8],
    request_mac: &[u8],
    count: usize,
    every: usize,
) -> Vec<Vec<u8>> {
    let hmac_key = hmac::Key::new(key.algorithm.ring(), &key.secret);
    let query = parse(query);
    let mut prior = request_mac.to_vec();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut out = Vec::new();
    for n in 0..count {
        let message = response(&query, n as u8);
        let last = n + 1 == count;
        if n % every != 0 && !last {
            pending.push(message.clone());
            out.push(message);
            continue;
        }
        let mut context = hmac::Context::with_key(&hmac_key);
        context.update(&(prior.len() as u16).to_be_bytes());
        context.update(&prior);
        for unsigned in pending.drain(..) {
            context.update(&unsigned);
        }
        context.update(&message);
        let mut rdata = mac::new_rdata(key.algorithm, query.header.id, NOW, 0, Vec::new()).unwrap();
        if n == 0 {
            mac::update_variables(&mut context, &key.name, &rdata);
        } else {
            context.update(&NOW.to_be_bytes()[2..]);
            context.update(&rdata.fudge.to_be_bytes());
        }
        rdata.mac = context.sign().as_ref().to_vec();
        prior = rdata.mac.clone();
        let mut signed = message;
        mac::append(&mut signed, &key.name, &rdata).unwrap();
        out.push(signed);
    }
    out
}

#[test]
fn rfc8945_5_3_1_unsigned_messages_between_signed_ones_are_covered() {
    let key = key(Algorithm::HmacSha512);
    let (query, mut verifier) = signed_query(&key, NOW);
    let request_mac = verifier.request_mac().to_vec();
    let stream = sparse_stream(&key, &query, &request_mac, 250, 100);
    for message in &stream {
        verifier.verify(message, &parse(message), NOW).unwrap();
    }
    verifier.finish().unwrap();
    // An unsigned message altered in transit breaks the next signed one.
    let (query, mut verifier) = signed_query(&key, NOW);
    let request_mac = verifier.request_mac().to_vec();
    let mut stream = sparse_stream(&key, &query, &request_mac, 5, 3);
    let last = stream[1].len() - 1;
    stream[1][last] ^= 1;
    verifier
        .verify(&stream[0], &parse(&stream[0]), NOW)
        .unwrap();
    verifier
        .verify(&stream[1], &parse(&stream[1]), NOW)
        .unwrap();
    verifier
        .verify(&stream[2], &parse(&stream[2]), NOW)
        .unwrap();
    assert_eq!(
        verifier.verify(&stream[3], &parse(&stream[3]), NOW),
        Err(VerifyError::BadSig)
    );
}

#[test]
fn rfc8945_5_3_1_more_than_99_unsigned_or_unsigned_end_fails() {
    let key = key(Algorithm::HmacSha256);
    let (query, mut verifier) = signed_query(&key, NOW);
    let request_mac = verifier.request_mac().to_vec();
    let stream = sparse_stream(&key, &query, &request_mac, 102, 101);
    for message in &stream[..100] {
        verifier.verify(message, &parse(message), NOW).unwrap();
    }
    assert_eq!(
        verifier.verify(&stream[100], &parse(&stream[100]), NOW),
        Err(VerifyError::TooManyUnsigned)
    );

    let (query, mut verifier) = signed_query(&key, NOW);
    let request_mac = verifier.request_mac().to_vec();
    let stream = sparse_stream(&key, &query, &request_mac, 10, 5);
    for message in &stream[..7] {
        verifier.verify(message, &parse(message), NOW).unwrap();
    }
    assert_eq!(verifier.finish(), Err(VerifyError::EndedUnsigned));
}

#[test]
fn rfc8945_5_3_unsigned_first_message_wrong_key_and_stale_time_fail() {
    let key = key(Algorithm::HmacSha256);
    let (query, mut verifier) = signed_query(&key, NOW);
    let parsed = parse(&query);
    let unsigned = response(&parsed, 0);
    let verdict = verifier.verify(&unsigned, &parse(&unsigned), NOW);
    assert_eq!(verdict, Err(VerifyError::Unsigned { rcode: 0 }));

    let other = Key {
        name: name("other-key."),
        ..key.clone()
    };
    let (other_query, _) = signed_query(&other, NOW);
    let other_parsed = parse(&other_query);
    let mut foreign = verify_request(&other_query, &other_parsed, &ring_of(&other), NOW)
        .unwrap()
        .unwrap();
    let mut message = response(&parsed, 0);
    foreign.sign(&mut message, NOW).unwrap();
    let (_, mut verifier) = signed_query(&key, NOW);
    let verdict = verifier.verify(&message, &parse(&message), NOW);
    assert!(
        matches!(verdict, Err(VerifyError::WrongKey { .. })),
        "{verdict:?}"
    );

    let (query, mut verifier) = signed_query(&key, NOW);
    let mut signer = verify_request(&query, &parse(&query), &ring_of(&key), NOW)
        .unwrap()
        .unwrap();
    let mut message = response(&parsed, 0);
    signer.sign(&mut message, NOW + 1000).unwrap();
    let verdict = verifier.verify(&message, &parse(&message), NOW);
    assert_eq!(
        verdict,
        Err(VerifyError::BadTime {
            time_signed: NOW + 1000,
            now: NOW,
            fudge: 300
        })
    );
}
