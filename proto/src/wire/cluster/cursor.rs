//! Bounds-checked reading and the writing helpers the messages share.

use std::time::Duration;

use crate::name::{self, Name};
use crate::record::{Class, Record, Rtype};
use crate::serial::ZoneVersion;

use super::error::CodecError;

/// A cursor over a message; every read checks bounds.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], CodecError> {
        let (head, tail) = self.0.split_at_checked(len).ok_or(CodecError::Truncated)?;
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| CodecError::Truncated)
    }

    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(super) fn digest(&mut self) -> Result<[u8; 32], CodecError> {
        self.array()
    }

    pub(super) fn flag(&mut self) -> Result<bool, CodecError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(CodecError::BadFlag(other)),
        }
    }

    pub(super) fn name(&mut self) -> Result<Name, CodecError> {
        let len = usize::from(self.u8()?);
        let wire = self.take(len)?;
        Name::from_wire(wire).map_err(|_| CodecError::BadName)
    }

    pub(super) fn version(&mut self) -> Result<ZoneVersion, CodecError> {
        let epoch = self.u32()?;
        Ok(ZoneVersion::new(epoch, self.u32()?))
    }

    pub(super) fn age(&mut self) -> Result<Option<Duration>, CodecError> {
        if self.flag()? {
            Ok(Some(Duration::from_millis(self.u64()?)))
        } else {
            Ok(None)
        }
    }

    pub(super) fn record(&mut self) -> Result<Record, CodecError> {
        let owner = self.name()?;
        let rtype = Rtype(self.u16()?);
        let class = Class(self.u16()?);
        let ttl = self.u32()?;
        let len = self.u32()? as usize;
        let rdata = self.take(len)?.into();
        Ok(Record {
            owner,
            rtype,
            class,
            ttl,
            rdata,
        })
    }

    /// The end of the message: nothing may follow.
    pub(super) fn finish(self) -> Result<(), CodecError> {
        match self.0.len() {
            0 => Ok(()),
            left => Err(CodecError::TrailingBytes(left)),
        }
    }
}

/// Octets of the smallest encoded record: root owner, type, class, TTL,
/// RDATA length.
pub(super) const MIN_RECORD_LEN: usize = 2 + 2 + 2 + 4 + 4;

pub(super) fn put_name(out: &mut Vec<u8>, name: &Name) {
    // A `Name` is at most 255 octets (`name::MAX_NAME_LEN`).
    debug_assert!(name.wire_len() <= name::MAX_NAME_LEN);
    out.push(u8::try_from(name.wire_len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name.as_wire());
}

pub(super) fn put_version(out: &mut Vec<u8>, version: ZoneVersion) {
    out.extend_from_slice(&version.epoch.to_be_bytes());
    out.extend_from_slice(&version.serial.0.to_be_bytes());
}

pub(super) fn put_age(out: &mut Vec<u8>, age: Option<Duration>) {
    match age {
        Some(age) => {
            out.push(1);
            let millis = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
            out.extend_from_slice(&millis.to_be_bytes());
        }
        None => out.push(0),
    }
}

pub(super) fn put_record(out: &mut Vec<u8>, record: &Record) {
    put_name(out, &record.owner);
    out.extend_from_slice(&record.rtype.0.to_be_bytes());
    out.extend_from_slice(&record.class.0.to_be_bytes());
    out.extend_from_slice(&record.ttl.to_be_bytes());
    let len = u32::try_from(record.rdata.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&record.rdata);
}

/// Octets [`put_record`] writes for `record`.
pub(super) fn record_len(record: &Record) -> usize {
    1 + record.owner.wire_len() + 2 + 2 + 4 + 4 + record.rdata.len()
}
