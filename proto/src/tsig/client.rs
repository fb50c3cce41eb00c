//! The requesting side: sign a query, verify the response or response
//! stream (RFC 8945 §5.1, §5.3.1, §5.4).
//!
//! ```text
//!  sign_request ──▶ ResponseVerifier ──verify(msg)──▶ signed? ──yes──▶ MAC over
//!                        ▲                              │          prior MAC +
//!                        │                              no         unsigned msgs +
//!                        │                              ▼          this msg + vars
//!                        └────────── at most 99 unsigned in a row ◀─┘
//!  finish(): the last message verified must have been signed.
//! ```

use ring::hmac;

use crate::name::Name;
use crate::record::rcode;
use crate::wire::Message;

use super::key::Key;
use super::mac::{self, SignError};
use super::rdata::TsigRdata;

/// RFC 8945 §5.3.1: at most this many unsigned messages between signed ones.
pub const MAX_UNSIGNED_RUN: usize = 99;

/// Why a response failed TSIG verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The first message (or the only one) carries no TSIG record.
    #[error("response is not signed (rcode {rcode})")]
    Unsigned {
        /// The response code of the unsigned message.
        rcode: u16,
    },
    /// More than 99 unsigned messages in a row.
    #[error("more than 99 unsigned messages in a row")]
    TooManyUnsigned,
    /// The stream ended on an unsigned message.
    #[error("the last message of the response is not signed")]
    EndedUnsigned,
    /// The TSIG record cannot be read (the server's FORMERR case).
    #[error("malformed TSIG record")]
    Malformed,
    /// Signed with another key name or algorithm than the request.
    #[error("response signed with key {key} ({algorithm}), not the request's")]
    WrongKey {
        /// The key name in the response.
        key: Name,
        /// The algorithm name in the response.
        algorithm: Name,
    },
    /// The MAC is shorter than the algorithm's full length; understudy does
    /// not accept truncated MACs (RFC 8945 §5.2.2.1 allows refusing them).
    #[error("truncated MAC of {0} octets")]
    Truncated(usize),
    /// The MAC does not match.
    #[error("MAC does not verify")]
    BadSig,
    /// Signed outside the fudge window around our clock.
    #[error("response signed at {time_signed}, our time is {now} (fudge {fudge}s)")]
    BadTime {
        /// Time Signed of the response.
        time_signed: u64,
        /// Our time.
        now: u64,
        /// The response's fudge.
        fudge: u16,
    },
    /// The server reported a TSIG error about our request: BADKEY or BADSIG
    /// (unsigned), or BADTIME (signed, with the server's clock).
    #[error("server reported TSIG error {error} (rcode {rcode})")]
    ServerError {
        /// The TSIG error: [`rcode::BADSIG`], [`rcode::BADKEY`], [`rcode::BADTIME`]…
        error: u16,
        /// The response code, usually NOTAUTH.
        rcode: u16,
        /// The server's time, from a BADTIME response.
        server_time: Option<u64>,
    },
}

/// Signs `message` (a complete query without TSIG) with `key` at `now`
/// (Unix seconds) and returns the verifier for its response.
pub fn sign_request(
    message: &mut Vec<u8>,
    key: &Key,
    now: u64,
) -> Result<ResponseVerifier, SignError> {
    let id = mac::message_id(message)?;
    let mut rdata = mac::new_rdata(key.algorithm, id, now, 0, Vec::new())?;
    let hmac_key = key.hmac();
    let mut context = hmac::Context::with_key(&hmac_key);
    context.update(message);
    mac::update_variables(&mut context, &key.name, &rdata);
    rdata.mac = context.sign().as_ref().to_vec();
    mac::append(message, &key.name, &rdata)?;
    Ok(ResponseVerifier::new(key, hmac_key, rdata.mac))
}

/// Verifies the messages of the response to one signed request, in order.
pub struct ResponseVerifier {
    key: Key,
    hmac_key: hmac::Key,
    request_mac: Vec<u8>,
    /// Digest so far: prior MAC and the unsigned messages since.
    context: hmac::Context,
    messages: usize,
    unsigned_run: usize,
}

impl ResponseVerifier {
    fn new(key: &Key, hmac_key: hmac::Key, request_mac: Vec<u8>) -> ResponseVerifier {
        let mut context = hmac::Context::with_key(&hmac_key);
        mac::update_mac_field(&mut context, &request_mac);
        ResponseVerifier {
            key: key.clone(),
            hmac_key,
            request_mac,
            context,
            messages: 0,
            unsigned_run: 0,
        }
    }

    /// Checks the next response message: `bytes` and its parse `message`.
    /// `now` is Unix seconds. After an error the stream must be abandoned.
    pub fn verify(&mut self, bytes: &[u8], message: &Message, now: u64) -> Result<(), VerifyError> {
        let first = self.messages == 0;
        self.messages += 1;
        let Some(tsig) = &message.tsig else {
            if first {
                return Err(VerifyError::Unsigned {
                    rcode: message.rcode(),
                });
            }
            self.unsigned_run += 1;
            if self.unsigned_run > MAX_UNSIGNED_RUN {
                return Err(VerifyError::TooManyUnsigned);
            }
            self.context.update(bytes);
            return Ok(());
        };
        let rdata = TsigRdata::parse(&tsig.record.rdata).ok_or(VerifyError::Malformed)?;
        self.check_signer(&tsig.record.owner, &rdata.algorithm)?;
        if rdata.error != 0 && rdata.mac.is_empty() {
            return Err(server_error(message, &rdata));
        }
        self.check_mac(bytes, tsig.offset, &rdata, first)?;
        check_time(&rdata, now)?;
        if rdata.error != 0 {
            return Err(server_error(message, &rdata));
        }
        self.context = hmac::Context::with_key(&self.hmac_key);
        mac::update_mac_field(&mut self.context, &rdata.mac);
        self.unsigned_run = 0;
        Ok(())
    }

    /// Called once the response is complete: the last message must be signed.
    pub fn finish(&self) -> Result<(), VerifyError> {
        match (self.messages, self.unsigned_run) {
            (0, _) => Err(VerifyError::Unsigned {
                rcode: rcode::NOERROR,
            }),
            (_, 0) => Ok(()),
            _ => Err(VerifyError::EndedUnsigned),
        }
    }

    /// The MAC of the request, which the first response MAC covers.
    pub fn request_mac(&self) -> &[u8] {
        &self.request_mac
    }

    fn check_signer(&self, owner: &Name, algorithm: &Name) -> Result<(), VerifyError> {
        if *owner != self.key.name || *algorithm != self.key.algorithm.name() {
            return Err(VerifyError::WrongKey {
                key: owner.clone(),
                algorithm: algorithm.clone(),
            });
        }
        Ok(())
    }

    fn check_mac(
        &mut self,
        bytes: &[u8],
        offset: usize,
        rdata: &TsigRdata,
        first: bool,
    ) -> Result<(), VerifyError> {
        if rdata.mac.len() != self.key.algorithm.mac_len() {
            return Err(VerifyError::Truncated(rdata.mac.len()));
        }
        let mut context = self.context.clone();
        mac::update_received(&mut context, bytes, offset, rdata.original_id)
            .ok_or(VerifyError::Malformed)?;
        if first {
            mac::update_variables(&mut context, &self.key.name, rdata);
        } else {
            mac::update_timers(&mut context, rdata);
        }
        if !mac::macs_equal(context.sign().as_ref(), &rdata.mac) {
            return Err(VerifyError::BadSig);
        }
        Ok(())
    }
}

impl std::fmt::Debug for ResponseVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseVerifier")
            .field("key", &self.key)
            .field("messages", &self.messages)
            .field("unsigned_run", &self.unsigned_run)
            .finish_non_exhaustive()
    }
}

fn check_time(rdata: &TsigRdata, now: u64) -> Result<(), VerifyError> {
    if now.abs_diff(rdata.time_signed) > u64::from(rdata.fudge) {
        return Err(VerifyError::BadTime {
            time_signed: rdata.time_signed,
            now,
            fudge: rdata.fudge,
        });
    }
    Ok(())
}

fn server_error(message: &Message, rdata: &TsigRdata) -> VerifyError {
    VerifyError::ServerError {
        error: rdata.error,
        rcode: message.rcode(),
        server_time: rdata.server_time(),
    }
}
