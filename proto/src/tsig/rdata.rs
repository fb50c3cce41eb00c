//! The TSIG record's RDATA (RFC 8945 §4.2).

use crate::name::{self, Name};
use crate::record::{Class, Record, Rtype};

/// Largest value of the 48-bit Time Signed field.
pub const MAX_TIME_SIGNED: u64 = (1 << 48) - 1;

/// The fields of a TSIG record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigRdata {
    /// The algorithm's name, e.g. `hmac-sha256.`.
    pub algorithm: Name,
    /// Seconds since the Unix epoch when the message was signed (48 bits).
    pub time_signed: u64,
    /// Permitted difference from the receiver's clock, seconds.
    pub fudge: u16,
    /// The MAC; empty in unsigned error responses.
    pub mac: Vec<u8>,
    /// The id the message had when it was signed.
    pub original_id: u16,
    /// A TSIG error (BADSIG, BADKEY, BADTIME, BADTRUNC) or 0.
    pub error: u16,
    /// Other data: the server's time in a BADTIME response, otherwise empty.
    pub other: Vec<u8>,
}

impl TsigRdata {
    /// Reads RDATA; `None` if it is malformed (the message is then FORMERR).
    pub fn parse(rdata: &[u8]) -> Option<TsigRdata> {
        let name_len = name::wire_len(rdata).ok()?;
        let algorithm = Name::from_wire(rdata.get(..name_len)?).ok()?;
        let mut rest = Fields(rdata.get(name_len..)?);
        let time_high = u64::from(rest.u16()?);
        let time_low = u64::from(rest.u16()?) << 16 | u64::from(rest.u16()?);
        let fudge = rest.u16()?;
        let mac_len = usize::from(rest.u16()?);
        let mac = rest.take(mac_len)?.to_vec();
        let original_id = rest.u16()?;
        let error = rest.u16()?;
        let other_len = usize::from(rest.u16()?);
        let other = rest.take(other_len)?.to_vec();
        if !rest.0.is_empty() {
            return None;
        }
        Some(TsigRdata {
            algorithm,
            time_signed: time_high << 32 | time_low,
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }

    /// The RDATA octets. Time Signed is cut to 48 bits, MAC and other data
    /// to 65535 octets; callers keep them in range.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.algorithm.wire_len() + 16 + self.mac.len() + self.other.len());
        out.extend_from_slice(self.algorithm.to_lowercase().as_wire());
        out.extend_from_slice(&time_bytes(self.time_signed));
        out.extend_from_slice(&self.fudge.to_be_bytes());
        push_counted(&mut out, &self.mac);
        out.extend_from_slice(&self.original_id.to_be_bytes());
        out.extend_from_slice(&self.error.to_be_bytes());
        push_counted(&mut out, &self.other);
        out
    }

    /// The server time carried in the other data of a BADTIME response.
    pub fn server_time(&self) -> Option<u64> {
        let bytes: [u8; 6] = self.other.as_slice().try_into().ok()?;
        Some(
            bytes
                .iter()
                .fold(0u64, |time, &byte| time << 8 | u64::from(byte)),
        )
    }

    /// The whole TSIG record owned by `key_name` (class ANY, TTL 0).
    pub fn to_record(&self, key_name: &Name) -> Record {
        Record {
            owner: key_name.clone(),
            rtype: Rtype::TSIG,
            class: Class::ANY,
            ttl: 0,
            rdata: self.to_bytes().into(),
        }
    }
}

/// The 48-bit big-endian form of a time.
pub(crate) fn time_bytes(time: u64) -> [u8; 6] {
    let bytes = (time & MAX_TIME_SIGNED).to_be_bytes();
    [bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]
}

fn push_counted(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&data[..len]);
}

struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(len)?;
        self.0 = tail;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8945_4_2_rdata_round_trip() {
        let rdata = TsigRdata {
            algorithm: Name::from_ascii("hmac-sha256.").unwrap(),
            time_signed: 0x0001_2345_6789,
            fudge: 300,
            mac: vec![7; 32],
            original_id: 0xABCD,
            error: 18,
            other: time_bytes(0x0000_0000_FFFF_FFFF + 1).to_vec(),
        };
        let bytes = rdata.to_bytes();
        let parsed = TsigRdata::parse(&bytes).unwrap();
        assert_eq!(parsed, rdata);
        assert_eq!(parsed.server_time(), Some(0x1_0000_0000));
        for cut in 0..bytes.len() {
            assert_eq!(TsigRdata::parse(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(TsigRdata::parse(&longer), None);
    }
}
