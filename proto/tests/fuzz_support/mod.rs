//! Invariant checks shared by the fuzz targets in `fuzz/` and by the tests
//! that replay their corpora or mutate real packets.
//!
//! Each `check_*` function takes one fuzz input, runs it through the real
//! code, and panics when an invariant breaks; an input the code rightly
//! refuses passes. Inputs start with a mode byte choosing the settings
//! (transport, buffer size, limits, ...), as documented on each function.
#![allow(dead_code)]

pub mod fixture;
pub mod message;
pub mod query;
pub mod seeds;
pub mod snapshot;
pub mod xfr;

/// Splits a TCP stream into messages at their two-octet length prefixes
/// (RFC 1035 §4.2.2). A last, short message is returned as it is, so that
/// truncated streams are fed too.
pub fn frames(mut stream: &[u8]) -> Vec<&[u8]> {
    let mut messages = Vec::new();
    while let [high, low, rest @ ..] = stream {
        let len = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
        let (message, tail) = rest.split_at(len);
        messages.push(message);
        stream = tail;
    }
    messages
}

/// The messages framed for TCP, the inverse of [`frames`].
pub fn framed<'a>(messages: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut stream = Vec::new();
    for message in messages {
        let len = u16::try_from(message.len()).unwrap_or(u16::MAX);
        stream.extend_from_slice(&len.to_be_bytes());
        stream.extend_from_slice(&message[..usize::from(len)]);
    }
    stream
}
