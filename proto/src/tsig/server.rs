//! The responding side: verify a signed request, sign the response or
//! response stream, and answer TSIG failures (RFC 8945 §5.2, §5.3).
//!
//! Checks run in the RFC's order: key (BADKEY), MAC (BADSIG, BADTRUNC),
//! then time (BADTIME). BADKEY, BADSIG and BADTRUNC are answered with an
//! unsigned TSIG record (§5.3.2); BADTIME is signed with the key and carries
//! the server's time (§5.2.3). Every message of a response stream is signed.

use ring::hmac;

use crate::name::Name;
use crate::record::rcode;
use crate::wire::{self, Message};

use super::key::{Key, KeyRing};
use super::mac::{self, SignError};
use super::rdata::{TsigRdata, time_bytes};

/// Why a signed request is refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The TSIG record cannot be read: answer FORMERR without TSIG (§5.2).
    #[error("malformed TSIG record")]
    Malformed,
    /// No key of that name and algorithm: NOTAUTH with TSIG error BADKEY.
    #[error("unknown TSIG key {key} ({algorithm})")]
    BadKey {
        /// The key name the request used.
        key: Name,
        /// The algorithm name the request used.
        algorithm: Name,
    },
    /// The MAC does not verify: NOTAUTH with TSIG error BADSIG.
    #[error("TSIG MAC of key {key} does not verify")]
    BadSig {
        /// The key name.
        key: Name,
        /// The algorithm name.
        algorithm: Name,
    },
    /// A truncated MAC, which understudy does not accept (§5.2.2.1 lets a
    /// server refuse them): NOTAUTH with TSIG error BADTRUNC.
    #[error("truncated TSIG MAC from key {key}")]
    BadTrunc {
        /// The key name.
        key: Name,
        /// The algorithm name.
        algorithm: Name,
    },
    /// Valid MAC, but signed outside the fudge window: NOTAUTH with TSIG
    /// error BADTIME, signed, carrying our time.
    #[error("request signed at {time_signed}, our time is {now}")]
    BadTime {
        /// Signs the error response.
        signer: Box<ResponseSigner>,
        /// The request's Time Signed.
        time_signed: u64,
        /// Our time.
        now: u64,
    },
}

impl RequestError {
    /// The response code of the error response.
    pub fn rcode(&self) -> u16 {
        match self {
            RequestError::Malformed => rcode::FORMERR,
            _ => rcode::NOTAUTH,
        }
    }

    /// The TSIG error of the error response, if it carries a TSIG record.
    pub fn tsig_error(&self) -> Option<u16> {
        match self {
            RequestError::Malformed => None,
            RequestError::BadKey { .. } => Some(rcode::BADKEY),
            RequestError::BadSig { .. } => Some(rcode::BADSIG),
            RequestError::BadTrunc { .. } => Some(rcode::BADTRUNC),
            RequestError::BadTime { .. } => Some(rcode::BADTIME),
        }
    }

    /// The whole error response to `query`, question echoed, at `now`.
    pub fn response(&mut self, query: &Message, now: u64) -> Result<Vec<u8>, SignError> {
        let mut response =
            wire::error_response(query, self.rcode() as u8).map_err(|_| SignError::NoRoom)?;
        let id = mac::message_id(&response)?;
        let error = self.tsig_error().unwrap_or_default();
        match self {
            RequestError::Malformed => {}
            RequestError::BadKey { key, algorithm }
            | RequestError::BadSig { key, algorithm }
            | RequestError::BadTrunc { key, algorithm } => {
                let rdata = TsigRdata {
                    algorithm: algorithm.clone(),
                    time_signed: now.min(super::rdata::MAX_TIME_SIGNED),
                    fudge: mac::FUDGE,
                    mac: Vec::new(),
                    original_id: id,
                    error,
                    other: Vec::new(),
                };
                mac::append(&mut response, key, &rdata)?;
            }
            RequestError::BadTime {
                signer,
                time_signed,
                now,
            } => {
                let other = time_bytes(*now).to_vec();
                signer.sign_with(&mut response, *time_signed, rcode::BADTIME, other)?;
            }
        }
        Ok(response)
    }
}

/// Checks the TSIG record of a request (`bytes` and its parse `message`)
/// against `keys` at `now` (Unix seconds). `Ok(None)` for an unsigned
/// request; `Ok(Some(signer))` for a valid one, the signer then signs the
/// response.
pub fn verify_request(
    bytes: &[u8],
    message: &Message,
    keys: &KeyRing,
    now: u64,
) -> Result<Option<ResponseSigner>, RequestError> {
    let Some(tsig) = &message.tsig else {
        return Ok(None);
    };
    let rdata = TsigRdata::parse(&tsig.record.rdata).ok_or(RequestError::Malformed)?;
    let key = find_key(keys, &tsig.record.owner, &rdata)?;
    let hmac_key = key.hmac();
    let mut context = hmac::Context::with_key(&hmac_key);
    mac::update_received(&mut context, bytes, tsig.offset, rdata.original_id)
        .ok_or(RequestError::Malformed)?;
    mac::update_variables(&mut context, &key.name, &rdata);
    if !mac::macs_equal(context.sign().as_ref(), &rdata.mac) {
        return Err(RequestError::BadSig {
            key: tsig.record.owner.clone(),
            algorithm: rdata.algorithm,
        });
    }
    let signer = ResponseSigner::new(key, hmac_key, rdata.mac);
    if now.abs_diff(rdata.time_signed) > u64::from(rdata.fudge) {
        return Err(RequestError::BadTime {
            signer: Box::new(signer),
            time_signed: rdata.time_signed,
            now,
        });
    }
    Ok(Some(signer))
}

/// The key a request names, checked against its algorithm and MAC length
/// (BADKEY, then FORMERR for an overlong MAC or BADTRUNC for a short one).
fn find_key<'a>(
    keys: &'a KeyRing,
    name: &Name,
    rdata: &TsigRdata,
) -> Result<&'a Key, RequestError> {
    let key = keys
        .find(name)
        .filter(|key| key.algorithm.name() == rdata.algorithm)
        .ok_or_else(|| RequestError::BadKey {
            key: name.clone(),
            algorithm: rdata.algorithm.clone(),
        })?;
    let full = key.algorithm.mac_len();
    if rdata.mac.len() > full {
        return Err(RequestError::Malformed);
    }
    if rdata.mac.len() < full {
        return Err(RequestError::BadTrunc {
            key: name.clone(),
            algorithm: rdata.algorithm.clone(),
        });
    }
    Ok(key)
}

/// Signs every message of the response to one verified request.
pub struct ResponseSigner {
    key: Key,
    hmac_key: hmac::Key,
    request_mac: Vec<u8>,
    /// MAC of the last message signed, the request's at first.
    prior_mac: Vec<u8>,
    signed: usize,
}

impl ResponseSigner {
    fn new(key: &Key, hmac_key: hmac::Key, request_mac: Vec<u8>) -> ResponseSigner {
        ResponseSigner {
            key: key.clone(),
            hmac_key,
            prior_mac: request_mac.clone(),
            request_mac,
            signed: 0,
        }
    }

    /// The key the request was signed with, e.g. for an ACL check.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The request's MAC.
    pub fn request_mac(&self) -> &[u8] {
        &self.request_mac
    }

    /// Signs the next response message (complete, without TSIG) at `now`.
    pub fn sign(&mut self, message: &mut Vec<u8>, now: u64) -> Result<(), SignError> {
        self.sign_with(message, now, 0, Vec::new())
    }

    fn sign_with(
        &mut self,
        message: &mut Vec<u8>,
        time_signed: u64,
        error: u16,
        other: Vec<u8>,
    ) -> Result<(), SignError> {
        let id = mac::message_id(message)?;
        let mut rdata = mac::new_rdata(self.key.algorithm, id, time_signed, error, other)?;
        let mut context = hmac::Context::with_key(&self.hmac_key);
        mac::update_mac_field(&mut context, &self.prior_mac);
        context.update(message);
        if self.signed == 0 {
            mac::update_variables(&mut context, &self.key.name, &rdata);
        } else {
            mac::update_timers(&mut context, &rdata);
        }
        rdata.mac = context.sign().as_ref().to_vec();
        mac::append(message, &self.key.name, &rdata)?;
        self.prior_mac = rdata.mac;
        self.signed += 1;
        Ok(())
    }
}

impl std::fmt::Debug for ResponseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseSigner")
            .field("key", &self.key)
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}
