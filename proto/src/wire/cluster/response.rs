//! Response heads: the answer to a request, and the length of the payload
//! that follows it.

use std::time::Duration;

use crate::serial::ZoneVersion;

use super::cursor::{Reader, put_age, put_version};
use super::error::CodecError;
use super::{HEAD_PREFIX_LEN, HIGHEST_VERSION, LOWEST_VERSION, Limits, MAX_HEAD_LEN};

const VERSION: u8 = 1;
const NOT_HELD: u8 = 2;
const BUSY: u8 = 3;
const UNSUPPORTED: u8 = 4;
const DIFFS: u8 = 5;
const SNAPSHOT: u8 = 6;
const ZONE_LIST: u8 = 7;

/// The head of an answer. `Diffs`, `Snapshot` and `ZoneList` are followed
/// by a payload of `length` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The version the peer serves (answer to `Confirm`).
    Version {
        /// Epoch and serial.
        version: ZoneVersion,
        /// SHA-256 of its snapshot body.
        digest: [u8; 32],
        /// How long ago a primary confirmed it, if ever.
        confirmed_age: Option<Duration>,
    },
    /// The peer does not serve the zone, or only a version older than the
    /// one wanted.
    NotHeld,
    /// The peer sends as many transfers as it allows; ask elsewhere or later.
    Busy,
    /// The peer does not speak the request's version; it speaks these.
    Unsupported {
        /// Its oldest version.
        lowest: u16,
        /// Its newest version.
        highest: u16,
    },
    /// Diffs from the client's version follow.
    Diffs {
        /// The version they lead to.
        to: ZoneVersion,
        /// The snapshot digest at `to`, for the client to check its rebuild.
        digest_after: [u8; 32],
        /// How long ago a primary confirmed `to`, if ever.
        confirmed_age: Option<Duration>,
        /// Payload length.
        length: u64,
    },
    /// The whole snapshot follows.
    Snapshot {
        /// Its version.
        version: ZoneVersion,
        /// How long ago a primary confirmed it, if ever.
        confirmed_age: Option<Duration>,
        /// Payload length.
        length: u64,
    },
    /// The fleet zone list follows.
    ZoneList {
        /// Payload length.
        length: u64,
    },
}

impl Response {
    /// The head's bytes in protocol `version`, length prefix included.
    pub fn encode(&self, version: u16) -> Vec<u8> {
        let mut out = vec![0; HEAD_PREFIX_LEN];
        out.extend_from_slice(&version.to_be_bytes());
        self.encode_fields(&mut out);
        let len = u16::try_from(out.len() - HEAD_PREFIX_LEN).unwrap_or(u16::MAX);
        out[..HEAD_PREFIX_LEN].copy_from_slice(&len.to_be_bytes());
        out
    }

    fn encode_fields(&self, out: &mut Vec<u8>) {
        match self {
            Response::Version {
                version,
                digest,
                confirmed_age,
            } => {
                out.push(VERSION);
                put_version(out, *version);
                out.extend_from_slice(digest);
                put_age(out, *confirmed_age);
            }
            Response::NotHeld => out.push(NOT_HELD),
            Response::Busy => out.push(BUSY),
            Response::Unsupported { lowest, highest } => {
                out.push(UNSUPPORTED);
                out.extend_from_slice(&lowest.to_be_bytes());
                out.extend_from_slice(&highest.to_be_bytes());
            }
            Response::Diffs {
                to,
                digest_after,
                confirmed_age,
                length,
            } => {
                out.push(DIFFS);
                put_version(out, *to);
                out.extend_from_slice(digest_after);
                put_age(out, *confirmed_age);
                out.extend_from_slice(&length.to_be_bytes());
            }
            Response::Snapshot {
                version,
                confirmed_age,
                length,
            } => {
                out.push(SNAPSHOT);
                put_version(out, *version);
                put_age(out, *confirmed_age);
                out.extend_from_slice(&length.to_be_bytes());
            }
            Response::ZoneList { length } => {
                out.push(ZONE_LIST);
                out.extend_from_slice(&length.to_be_bytes());
            }
        }
    }

    /// Reads a head (the [`head_len`] bytes after the prefix): its version
    /// and content. `Unsupported` reads in any version; every other kind
    /// only in a version this release speaks.
    pub fn decode(head: &[u8]) -> Result<(u16, Response), CodecError> {
        let mut reader = Reader(head);
        let version = reader.u16()?;
        let kind = reader.u8()?;
        let spoken = (LOWEST_VERSION..=HIGHEST_VERSION).contains(&version);
        if kind != UNSUPPORTED && !spoken {
            return Err(CodecError::UnsupportedVersion(version));
        }
        let response = match kind {
            VERSION => Response::Version {
                version: reader.version()?,
                digest: reader.digest()?,
                confirmed_age: reader.age()?,
            },
            NOT_HELD => Response::NotHeld,
            BUSY => Response::Busy,
            UNSUPPORTED => Response::Unsupported {
                lowest: reader.u16()?,
                highest: reader.u16()?,
            },
            DIFFS => Response::Diffs {
                to: reader.version()?,
                digest_after: reader.digest()?,
                confirmed_age: reader.age()?,
                length: reader.u64()?,
            },
            SNAPSHOT => Response::Snapshot {
                version: reader.version()?,
                confirmed_age: reader.age()?,
                length: reader.u64()?,
            },
            ZONE_LIST => Response::ZoneList {
                length: reader.u64()?,
            },
            other => return Err(CodecError::UnknownKind(other)),
        };
        reader.finish()?;
        Ok((version, response))
    }

    /// Length of the payload that follows the head.
    pub fn payload_len(&self) -> u64 {
        match self {
            Response::Diffs { length, .. }
            | Response::Snapshot { length, .. }
            | Response::ZoneList { length } => *length,
            _ => 0,
        }
    }

    /// Refuses a payload longer than `limits` allow, before it is read.
    pub fn check(&self, limits: &Limits) -> Result<(), CodecError> {
        let (what, limit) = match self {
            Response::Diffs { .. } => ("diffs", limits.max_diffs_len),
            Response::Snapshot { .. } => ("snapshot", limits.max_snapshot_len),
            Response::ZoneList { .. } => ("zone list", limits.max_zone_list_len),
            _ => return Ok(()),
        };
        let length = self.payload_len();
        if length > limit {
            return Err(CodecError::TooLarge {
                what,
                length,
                limit,
            });
        }
        Ok(())
    }
}

/// The length of the head that follows a `prefix`, refused when no head
/// could be that long or that short.
pub fn head_len(prefix: [u8; HEAD_PREFIX_LEN]) -> Result<usize, CodecError> {
    let len = usize::from(u16::from_be_bytes(prefix));
    // Version and kind at least.
    if (3..=MAX_HEAD_LEN).contains(&len) {
        Ok(len)
    } else {
        Err(CodecError::BadHeadLength(len))
    }
}
