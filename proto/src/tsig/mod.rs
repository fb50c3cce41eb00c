//! TSIG (RFC 8945): signing and verifying messages and message streams.
//!
//! HMACs come from `ring`: hmac-sha1, hmac-sha256, hmac-sha384 and
//! hmac-sha512. Time is an input in Unix seconds; proto reads no clock.
//!
//! Requesting side (a secondary asking its primary, or sending NOTIFY):
//! [`sign_request`] appends the TSIG record and returns a
//! [`ResponseVerifier`]; feed it every response message in order with
//! [`ResponseVerifier::verify`], then call [`ResponseVerifier::finish`].
//!
//! Responding side (a downstream client asking us for a transfer, or a
//! primary sending NOTIFY): [`verify_request`] yields a [`ResponseSigner`]
//! for a valid request, or a [`RequestError`] that builds the error
//! response the RFC prescribes.
//!
//! Truncated MACs (RFC 8945 §5.2.2.1) are refused: BADTRUNC as a server,
//! [`VerifyError::Truncated`] as a client.

mod algorithm;
mod client;
mod key;
mod mac;
mod rdata;
mod server;

pub use algorithm::Algorithm;
pub use client::{MAX_UNSIGNED_RUN, ResponseVerifier, VerifyError, sign_request};
pub use key::{Key, KeyError, KeyRing};
pub use mac::{FUDGE, SignError};
pub use rdata::{MAX_TIME_SIGNED, TsigRdata};
pub use server::{RequestError, ResponseSigner, verify_request};

#[cfg(test)]
mod tests;
