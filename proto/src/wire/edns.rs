//! The EDNS(0) OPT pseudo-record (RFC 6891 §6.1).

use crate::name::Name;
use crate::record::{Class, Record, Rtype};

/// DNSSEC OK, the top bit of the OPT flags (RFC 3225).
const DO: u16 = 0x8000;

/// One EDNS option (RFC 6891 §6.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdnsOption {
    /// OPTION-CODE, e.g. 3 for NSID (RFC 5001).
    pub code: u16,
    /// OPTION-DATA.
    pub data: Vec<u8>,
}

/// The fields of an OPT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The sender's UDP payload size (the CLASS field).
    pub udp_payload_size: u16,
    /// The upper eight bits of the twelve-bit response code.
    pub extended_rcode: u8,
    /// The EDNS version; only 0 is defined.
    pub version: u8,
    /// DNSSEC OK (RFC 3225).
    pub dnssec_ok: bool,
    /// The remaining flag bits, kept as received (zero when sending).
    pub other_flags: u16,
    /// The options, in order.
    pub options: Vec<EdnsOption>,
}

impl Opt {
    /// EDNS version 0 with `udp_payload_size` and no options.
    pub fn new(udp_payload_size: u16) -> Opt {
        Opt {
            udp_payload_size,
            extended_rcode: 0,
            version: 0,
            dnssec_ok: false,
            other_flags: 0,
            options: Vec::new(),
        }
    }

    /// Reads an OPT record; `None` if its options do not fill RDATA exactly.
    pub(crate) fn from_record(record: &Record) -> Option<Opt> {
        let [extended_rcode, version, flags_high, flags_low] = record.ttl.to_be_bytes();
        let flags = u16::from_be_bytes([flags_high, flags_low]);
        let mut options = Vec::new();
        let mut rest = &record.rdata[..];
        while !rest.is_empty() {
            let (code, len) = match rest {
                [a, b, c, d, ..] => (
                    u16::from_be_bytes([*a, *b]),
                    usize::from(u16::from_be_bytes([*c, *d])),
                ),
                _ => return None,
            };
            let data = rest.get(4..4 + len)?;
            options.push(EdnsOption {
                code,
                data: data.to_vec(),
            });
            rest = &rest[4 + len..];
        }
        Some(Opt {
            udp_payload_size: record.class.0,
            extended_rcode,
            version,
            dnssec_ok: flags & DO != 0,
            other_flags: flags & !DO,
            options,
        })
    }

    /// The OPT record to put into the additional section.
    pub fn to_record(&self) -> Record {
        let flags = self.other_flags & !DO | if self.dnssec_ok { DO } else { 0 };
        let [flags_high, flags_low] = flags.to_be_bytes();
        let mut rdata = Vec::new();
        for option in &self.options {
            rdata.extend_from_slice(&option.code.to_be_bytes());
            let len = u16::try_from(option.data.len()).unwrap_or(u16::MAX);
            rdata.extend_from_slice(&len.to_be_bytes());
            rdata.extend_from_slice(&option.data[..usize::from(len)]);
        }
        Record {
            owner: Name::root(),
            rtype: Rtype::OPT,
            class: Class(self.udp_payload_size),
            ttl: u32::from_be_bytes([self.extended_rcode, self.version, flags_high, flags_low]),
            rdata: rdata.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6891_6_1_2_opt_round_trip() {
        let mut opt = Opt::new(1232);
        opt.dnssec_ok = true;
        opt.extended_rcode = 1;
        opt.options.push(EdnsOption {
            code: 3,
            data: b"ams-1".to_vec(),
        });
        opt.options.push(EdnsOption {
            code: 10,
            data: Vec::new(),
        });
        let record = opt.to_record();
        assert_eq!(record.class, Class(1232));
        assert_eq!(record.ttl, 0x0100_8000);
        assert_eq!(Opt::from_record(&record), Some(opt));
    }

    #[test]
    fn rfc6891_6_1_2_option_overrunning_rdata_is_refused() {
        let mut record = Opt::new(512).to_record();
        record.rdata = vec![0, 3, 0, 9, b'x'].into();
        assert_eq!(Opt::from_record(&record), None);
    }
}
