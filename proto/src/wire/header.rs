//! The fixed 12-octet message header (RFC 1035 §4.1.1, RFC 2535 §6.1).

/// Length of the header in octets.
pub const HEADER_LEN: usize = 12;

const QR: u16 = 0x8000;
const AA: u16 = 0x0400;
const TC: u16 = 0x0200;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const AD: u16 = 0x0020;
const CD: u16 = 0x0010;

/// Header fields other than the section counts, which the reader and the
/// builder keep themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// The message id, copied from query to response.
    pub id: u16,
    /// Whether this is a response.
    pub qr: bool,
    /// The operation code, see [`crate::record::opcode`].
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Authentic data (RFC 4035 §3.2.3).
    pub ad: bool,
    /// Checking disabled (RFC 4035 §3.2.2).
    pub cd: bool,
    /// The low four bits of the response code; the upper eight bits of an
    /// extended code travel in the OPT record.
    pub rcode: u8,
}

impl Header {
    /// A query header with `id` and `opcode`, every flag clear.
    pub fn query(id: u16, opcode: u8) -> Header {
        Header {
            id,
            opcode,
            ..Header::default()
        }
    }

    /// The header of a response to `query`: same id, opcode, RD and CD; QR set.
    pub fn response_to(query: &Header) -> Header {
        Header {
            id: query.id,
            qr: true,
            opcode: query.opcode,
            rd: query.rd,
            cd: query.cd,
            ..Header::default()
        }
    }

    /// Reads the id and flags from the first four octets of `bytes`.
    pub(crate) fn from_bytes(bytes: &[u8; 4]) -> Header {
        let id = u16::from_be_bytes([bytes[0], bytes[1]]);
        let flags = u16::from_be_bytes([bytes[2], bytes[3]]);
        Header {
            id,
            qr: flags & QR != 0,
            opcode: ((flags >> 11) & 0xF) as u8,
            aa: flags & AA != 0,
            tc: flags & TC != 0,
            rd: flags & RD != 0,
            ra: flags & RA != 0,
            ad: flags & AD != 0,
            cd: flags & CD != 0,
            rcode: (flags & 0xF) as u8,
        }
    }

    /// The id and flags as the first four octets of a message.
    pub(crate) fn to_bytes(self) -> [u8; 4] {
        let mut flags = (u16::from(self.opcode) & 0xF) << 11 | u16::from(self.rcode) & 0xF;
        for (set, bit) in [
            (self.qr, QR),
            (self.aa, AA),
            (self.tc, TC),
            (self.rd, RD),
            (self.ra, RA),
            (self.ad, AD),
            (self.cd, CD),
        ] {
            if set {
                flags |= bit;
            }
        }
        let [id_high, id_low] = self.id.to_be_bytes();
        let [flags_high, flags_low] = flags.to_be_bytes();
        [id_high, id_low, flags_high, flags_low]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_4_1_1_flags_round_trip() {
        let header = Header {
            id: 0xBEEF,
            qr: true,
            opcode: 4,
            aa: true,
            tc: false,
            rd: true,
            ra: false,
            ad: true,
            cd: false,
            rcode: 9,
        };
        let bytes = header.to_bytes();
        assert_eq!(bytes, [0xBE, 0xEF, 0xA5, 0x29]);
        assert_eq!(Header::from_bytes(&bytes), header);
    }
}
