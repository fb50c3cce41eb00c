//! Resource records: types, classes and the owned record every layer shares.
//!
//! RDATA is kept in uncompressed wire form exactly as the primary sent it
//! (names inside it expanded, case untouched), so a record read from a
//! transfer, stored in a snapshot and written to a client is the same bytes.

use std::fmt;

use crate::name::{self, Name, NameError};

/// A resource record type (RFC 1035 §3.2.2 and later registrations).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rtype(pub u16);

macro_rules! rtypes {
    ($($name:ident = $value:expr),* $(,)?) => {
        impl Rtype {
            $(#[doc = concat!("`", stringify!($name), "`")] pub const $name: Rtype = Rtype($value);)*

            /// The mnemonic, if this type has one here.
            pub fn mnemonic(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// Looks a type up by mnemonic (`AAAA`) or RFC 3597 form (`TYPE28`).
            pub fn from_mnemonic(text: &str) -> Option<Rtype> {
                let upper = text.to_ascii_uppercase();
                match upper.as_str() {
                    $(stringify!($name) => Some(Rtype($value)),)*
                    _ => upper.strip_prefix("TYPE")?.parse().ok().map(Rtype),
                }
            }
        }
    };
}

rtypes! {
    A = 1, NS = 2, MD = 3, MF = 4, CNAME = 5, SOA = 6, MB = 7, MG = 8, MR = 9, NULL = 10,
    WKS = 11, PTR = 12, HINFO = 13, MINFO = 14, MX = 15, TXT = 16, RP = 17, AFSDB = 18,
    X25 = 19, ISDN = 20, RT = 21, NSAP = 22, SIG = 24, KEY = 25, PX = 26, GPOS = 27,
    AAAA = 28, LOC = 29, NXT = 30, SRV = 33, NAPTR = 35, KX = 36, CERT = 37, A6 = 38,
    DNAME = 39, OPT = 41, APL = 42, DS = 43, SSHFP = 44, IPSECKEY = 45, RRSIG = 46,
    NSEC = 47, DNSKEY = 48, DHCID = 49, NSEC3 = 50, NSEC3PARAM = 51, TLSA = 52,
    SMIMEA = 53, HIP = 55, CDS = 59, CDNSKEY = 60, OPENPGPKEY = 61, CSYNC = 62,
    ZONEMD = 63, SVCB = 64, HTTPS = 65, SPF = 99, NID = 104, L32 = 105, L64 = 106,
    LP = 107, EUI48 = 108, EUI64 = 109, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252,
    MAILB = 253, MAILA = 254, ANY = 255, URI = 256, CAA = 257, AVC = 258, DOA = 259,
    AMTRELAY = 260, RESINFO = 261, TA = 32768, DLV = 32769,
}

impl Rtype {
    /// Meta and query-only types (RFC 6895 §3.1) that never sit in a zone.
    pub fn is_meta(self) -> bool {
        matches!(self.0, 128..=255) || self == Rtype::OPT || self == Rtype(0)
    }

    /// Where domain names sit inside this type's RDATA.
    pub fn rdata_names(self) -> RdataNames {
        use RdataNames::*;
        match self {
            Rtype::NS | Rtype::MD | Rtype::MF | Rtype::CNAME | Rtype::MB | Rtype::MG => {
                Compressible(&[0])
            }
            Rtype::MR | Rtype::PTR => Compressible(&[0]),
            Rtype::SOA | Rtype::MINFO => Compressible(&[0, 1]),
            Rtype::MX => CompressibleAfterPrefix(2),
            Rtype::RP => Uncompressible(&[NameField::Name, NameField::Name]),
            Rtype::AFSDB | Rtype::RT | Rtype::KX => Uncompressed(2),
            Rtype::PX => Uncompressible(&[NameField::Fixed(2), NameField::Name, NameField::Name]),
            Rtype::SRV => Uncompressed(6),
            Rtype::DNAME => Uncompressed(0),
            Rtype::NAPTR => Naptr,
            Rtype::RRSIG | Rtype::SIG => Uncompressed(18),
            Rtype::NSEC | Rtype::NXT => Uncompressed(0),
            _ => None,
        }
    }
}

/// One piece of an RDATA layout with several names and fixed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    /// A fixed number of octets.
    Fixed(usize),
    /// One domain name.
    Name,
}

/// The layout of domain names inside a type's RDATA.
///
/// RFC 3597 §4: only the RFC 1035 types may carry compressed names, and a
/// server may compress those when it writes them; names in other types are
/// written uncompressed, though receivers decompress the few that old
/// implementations compressed anyway (RFC 3597 §4, RFC 2163, RFC 2535).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdataNames {
    /// No names.
    None,
    /// RDATA is only names (their count and order given by the indexes);
    /// compression allowed on the wire.
    Compressible(&'static [usize]),
    /// A fixed prefix of this many octets, then one name; compression allowed.
    CompressibleAfterPrefix(usize),
    /// A fixed prefix of this many octets, then one name, then possibly
    /// opaque octets; never compressed when writing.
    Uncompressed(usize),
    /// A sequence of fixed fields and names; never compressed when writing.
    Uncompressible(&'static [NameField]),
    /// NAPTR: order, preference, three character strings, then a name.
    Naptr,
}

impl fmt::Display for Rtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(text) => f.write_str(text),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

impl fmt::Debug for Rtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A class (RFC 1035 §3.2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Class(pub u16);

impl Class {
    /// The Internet.
    pub const IN: Class = Class(1);
    /// CHAOS, where servers answer `id.server.` and `version.bind.`.
    pub const CH: Class = Class(3);
    /// Hesiod.
    pub const HS: Class = Class(4);
    /// NONE (RFC 2136), used in UPDATE.
    pub const NONE: Class = Class(254);
    /// ANY, a query class.
    pub const ANY: Class = Class(255);
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("IN"),
            3 => f.write_str("CH"),
            4 => f.write_str("HS"),
            254 => f.write_str("NONE"),
            255 => f.write_str("ANY"),
            other => write!(f, "CLASS{other}"),
        }
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Response codes, extended ones included (RFC 6895 §2.3).
pub mod rcode {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// The query could not be interpreted.
    pub const FORMERR: u16 = 1;
    /// The server failed to answer, e.g. an expired zone.
    pub const SERVFAIL: u16 = 2;
    /// The name does not exist.
    pub const NXDOMAIN: u16 = 3;
    /// The opcode is not implemented.
    pub const NOTIMP: u16 = 4;
    /// Refused by policy.
    pub const REFUSED: u16 = 5;
    /// Server not authoritative for the zone (RFC 2136), or TSIG not authorised (RFC 8945).
    pub const NOTAUTH: u16 = 9;
    /// Name not in zone (RFC 2136).
    pub const NOTZONE: u16 = 10;
    /// Unsupported EDNS version (RFC 6891), an extended rcode.
    pub const BADVERS: u16 = 16;
    /// TSIG signature failure (RFC 8945).
    pub const BADSIG: u16 = 16;
    /// TSIG key not recognised (RFC 8945).
    pub const BADKEY: u16 = 17;
    /// TSIG time outside the fudge window (RFC 8945).
    pub const BADTIME: u16 = 18;
    /// TSIG MAC too short (RFC 8945).
    pub const BADTRUNC: u16 = 22;
    /// Bad or missing server cookie (RFC 7873).
    pub const BADCOOKIE: u16 = 23;
}

/// Operation codes (RFC 6895 §2.2).
pub mod opcode {
    /// A standard query.
    pub const QUERY: u8 = 0;
    /// Inverse query, obsolete.
    pub const IQUERY: u8 = 1;
    /// Server status request.
    pub const STATUS: u8 = 2;
    /// Zone change notification (RFC 1996).
    pub const NOTIFY: u8 = 4;
    /// Dynamic update (RFC 2136).
    pub const UPDATE: u8 = 5;
    /// DNS Stateful Operations (RFC 8490).
    pub const DSO: u8 = 6;
}

/// A resource record with uncompressed RDATA, owner case preserved.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The owner name.
    pub owner: Name,
    /// The type.
    pub rtype: Rtype,
    /// The class.
    pub class: Class,
    /// Time to live in seconds.
    pub ttl: u32,
    /// RDATA in uncompressed wire form.
    pub rdata: Box<[u8]>,
}

impl Record {
    /// The record's SOA fields, if it is a well-formed SOA.
    pub fn soa(&self) -> Option<Soa> {
        (self.rtype == Rtype::SOA)
            .then(|| Soa::from_rdata(&self.rdata))
            .flatten()
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} \\# {} ",
            self.owner,
            self.ttl,
            self.class,
            self.rtype,
            self.rdata.len()
        )?;
        for byte in self.rdata.iter() {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// The fields of an SOA record (RFC 1035 §3.3.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// The primary name server (MNAME).
    pub mname: Name,
    /// The responsible mailbox (RNAME).
    pub rname: Name,
    /// The zone's serial.
    pub serial: u32,
    /// Seconds between refreshes.
    pub refresh: u32,
    /// Seconds between retries after a failed refresh.
    pub retry: u32,
    /// Seconds after which an unrefreshed zone stops being authoritative.
    pub expire: u32,
    /// The negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

impl Soa {
    /// Reads uncompressed SOA RDATA.
    pub fn from_rdata(rdata: &[u8]) -> Option<Soa> {
        let mname_len = name::wire_len(rdata).ok()?;
        let rname_len = name::wire_len(&rdata[mname_len..]).ok()?;
        let fixed = &rdata[mname_len + rname_len..];
        if fixed.len() != 20 {
            return None;
        }
        let field =
            |i: usize| u32::from_be_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
        Some(Soa {
            mname: Name::from_wire(&rdata[..mname_len]).ok()?,
            rname: Name::from_wire(&rdata[mname_len..mname_len + rname_len]).ok()?,
            serial: field(0),
            refresh: field(4),
            retry: field(8),
            expire: field(12),
            minimum: field(16),
        })
    }

    /// The uncompressed RDATA.
    pub fn to_rdata(&self) -> Box<[u8]> {
        let mut out = Vec::with_capacity(self.mname.wire_len() + self.rname.wire_len() + 20);
        out.extend_from_slice(self.mname.as_wire());
        out.extend_from_slice(self.rname.as_wire());
        for value in [
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum,
        ] {
            out.extend_from_slice(&value.to_be_bytes());
        }
        out.into()
    }
}

/// Reads the serial out of uncompressed SOA RDATA without allocating.
pub fn soa_serial(rdata: &[u8]) -> Option<u32> {
    let tail = rdata.len().checked_sub(20)?;
    let bytes = rdata.get(tail..tail + 4)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A name in the owner or RDATA is invalid.
    #[error("bad name: {0}")]
    Name(#[from] NameError),
    /// The record or its RDATA ran past the end of the message.
    #[error("record truncated")]
    Truncated,
    /// RDATA does not match its type's layout.
    #[error("malformed {0} RDATA")]
    BadRdata(Rtype),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mnemonics_round_trip() {
        assert_eq!(Rtype::from_mnemonic("aaaa"), Some(Rtype::AAAA));
        assert_eq!(Rtype::from_mnemonic("TYPE65280"), Some(Rtype(65280)));
        assert_eq!(Rtype(65280).to_string(), "TYPE65280");
        assert_eq!(Rtype::NSEC3PARAM.to_string(), "NSEC3PARAM");
        assert!(Rtype::AXFR.is_meta() && Rtype::OPT.is_meta() && !Rtype::A.is_meta());
    }

    #[test]
    fn soa_rdata_round_trip() {
        let soa = Soa {
            mname: Name::from_ascii("ns1.example.").unwrap(),
            rname: Name::from_ascii("hostmaster.example.").unwrap(),
            serial: 2024010101,
            refresh: 3600,
            retry: 600,
            expire: 604800,
            minimum: 300,
        };
        let rdata = soa.to_rdata();
        assert_eq!(Soa::from_rdata(&rdata), Some(soa));
        assert_eq!(soa_serial(&rdata), Some(2024010101));
        assert_eq!(Soa::from_rdata(&rdata[..rdata.len() - 1]), None);
    }
}
