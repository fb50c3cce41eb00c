//! Requests: what a node asks a peer, and version negotiation.

use std::ops::RangeInclusive;

use crate::name::Name;
use crate::serial::ZoneVersion;

use super::cursor::{Reader, put_name, put_version};
use super::error::CodecError;
use super::{HIGHEST_VERSION, LOWEST_VERSION, MAGIC, MAX_REQUEST_LEN};

const CONFIRM: u8 = 1;
const FETCH: u8 = 2;
const ZONE_LIST: u8 = 3;

/// One request to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The peer's version and digest of a zone, and the age of its primary
    /// confirmation. Answered by `Version` or `NotHeld`.
    Confirm {
        /// The zone.
        zone: Name,
    },
    /// The zone's data. Answered by `Diffs`, `Snapshot`, `NotHeld` or
    /// `Busy`.
    Fetch(FetchRequest),
    /// The fleet's zone list. Answered by `ZoneList`.
    ZoneList,
}

/// What a fetch asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// The zone.
    pub zone: Name,
    /// The version wanted; the peer sends what it serves, if not older.
    pub want: ZoneVersion,
    /// The version the client serves and its snapshot digest, from which
    /// diffs may be sent.
    pub have: Option<(ZoneVersion, [u8; 32])>,
}

impl Request {
    /// The request's bytes in protocol `version`. The layout is the same in
    /// every version this release speaks.
    pub fn encode(&self, version: u16) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&version.to_be_bytes());
        match self {
            Request::Confirm { zone } => {
                out.push(CONFIRM);
                put_name(&mut out, zone);
            }
            Request::Fetch(fetch) => {
                out.push(FETCH);
                put_name(&mut out, &fetch.zone);
                put_version(&mut out, fetch.want);
                match &fetch.have {
                    Some((version, digest)) => {
                        out.push(1);
                        put_version(&mut out, *version);
                        out.extend_from_slice(digest);
                    }
                    None => out.push(0),
                }
            }
            Request::ZoneList => out.push(ZONE_LIST),
        }
        out
    }

    /// Reads a whole request: its version and content.
    /// [`CodecError::UnsupportedVersion`] calls for an `Unsupported` answer.
    pub fn decode(bytes: &[u8]) -> Result<(u16, Request), CodecError> {
        if bytes.len() > MAX_REQUEST_LEN {
            return Err(CodecError::RequestTooLong(bytes.len()));
        }
        let mut reader = Reader(bytes);
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(CodecError::BadMagic);
        }
        let version = reader.u16()?;
        if !(LOWEST_VERSION..=HIGHEST_VERSION).contains(&version) {
            return Err(CodecError::UnsupportedVersion(version));
        }
        let request = match reader.u8()? {
            CONFIRM => Request::Confirm {
                zone: reader.name()?,
            },
            FETCH => Request::Fetch(FetchRequest {
                zone: reader.name()?,
                want: reader.version()?,
                have: match reader.flag()? {
                    true => Some((reader.version()?, reader.digest()?)),
                    false => None,
                },
            }),
            ZONE_LIST => Request::ZoneList,
            other => return Err(CodecError::UnknownKind(other)),
        };
        reader.finish()?;
        Ok((version, request))
    }
}

/// The version to retry with after a peer that speaks `theirs` refused
/// `tried`: the highest both sides speak, or `None` when there is none or
/// it is `tried` again.
pub fn negotiate(
    ours: RangeInclusive<u16>,
    theirs: RangeInclusive<u16>,
    tried: u16,
) -> Option<u16> {
    let highest = (*ours.end()).min(*theirs.end());
    let lowest = (*ours.start()).max(*theirs.start());
    (highest >= lowest && highest != tried).then_some(highest)
}
