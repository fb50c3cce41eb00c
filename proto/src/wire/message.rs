//! Reading a whole DNS message into owned parts.

use crate::name::{self, MAX_NAME_LEN, Name};
use crate::record::{Class, Record, Rtype, rcode};

use super::edns::Opt;
use super::error::{Section, WireError};
use super::header::{HEADER_LEN, Header};
use super::rdata::read_rdata;

/// Smallest possible record: root owner, type, class, TTL, RDLENGTH.
const MIN_RECORD_LEN: usize = 11;

/// A question (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// QNAME, case as sent.
    pub qname: Name,
    /// QTYPE.
    pub qtype: Rtype,
    /// QCLASS.
    pub qclass: Class,
}

/// The TSIG record of a message and where it starts (RFC 8945 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigRecord {
    /// The record: owner is the key name, RDATA as received.
    pub record: Record,
    /// Offset of the record's first octet in the message; the MAC covers
    /// the octets before it.
    pub offset: usize,
}

/// A parsed DNS message.
///
/// RDATA of every record is in uncompressed form, names expanded where
/// RFC 3597 §4 allows compression, and checked against its type's layout;
/// the OPT and TSIG records are taken out of the additional section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Id and flags; `header.rcode` holds only the low four bits.
    pub header: Header,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section, without OPT and TSIG.
    pub additional: Vec<Record>,
    /// The OPT record, if any.
    pub opt: Option<Opt>,
    /// The TSIG record, if any.
    pub tsig: Option<TsigRecord>,
}

impl Message {
    /// Parses `bytes`, which must hold exactly one message.
    pub fn parse(bytes: &[u8]) -> Result<Message, WireError> {
        let fixed: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|head| head.try_into().ok())
            .ok_or(WireError::ShortHeader)?;
        let count =
            |i: usize| usize::from(u16::from_be_bytes([fixed[4 + 2 * i], fixed[5 + 2 * i]]));
        let mut reader = Reader {
            msg: bytes,
            pos: HEADER_LEN,
        };
        let mut message = Message {
            header: Header::from_bytes(&[fixed[0], fixed[1], fixed[2], fixed[3]]),
            questions: Vec::new(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            opt: None,
            tsig: None,
        };
        message.questions = reader.questions(count(0))?;
        message.answers = reader.records(count(1), Section::Answer)?;
        message.authority = reader.records(count(2), Section::Authority)?;
        message.read_additional(&mut reader, count(3))?;
        match bytes.len() - reader.pos {
            0 => Ok(message),
            extra => Err(WireError::TrailingBytes(extra)),
        }
    }

    /// The full response code: header bits plus the OPT record's extension.
    pub fn rcode(&self) -> u16 {
        let extended = self
            .opt
            .as_ref()
            .map_or(0, |opt| u16::from(opt.extended_rcode));
        extended << 4 | u16::from(self.header.rcode)
    }

    /// The first question, the only one in every message that matters here.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// Whether the response code is NOERROR.
    pub fn is_noerror(&self) -> bool {
        self.rcode() == rcode::NOERROR
    }

    fn read_additional(&mut self, reader: &mut Reader<'_>, count: usize) -> Result<(), WireError> {
        self.additional = Vec::with_capacity(reader.capacity_for(count));
        for index in 0..count {
            let offset = reader.pos;
            let record = reader.record(Section::Additional)?;
            match record.rtype {
                Rtype::OPT => {
                    if self.opt.is_some() || !record.owner.is_root() {
                        return Err(WireError::BadOpt);
                    }
                    self.opt = Some(Opt::from_record(&record).ok_or(WireError::BadRdata {
                        section: Section::Additional,
                        rtype: Rtype::OPT,
                    })?);
                }
                Rtype::TSIG if index + 1 == count => {
                    self.tsig = Some(TsigRecord { record, offset })
                }
                Rtype::TSIG => return Err(WireError::MisplacedTsig),
                _ => self.additional.push(record),
            }
        }
        Ok(())
    }
}

/// A cursor over a whole message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// A capacity for `count` records that the remaining octets can hold, so
    /// a forged count cannot make us reserve memory.
    fn capacity_for(&self, count: usize) -> usize {
        count.min((self.msg.len() - self.pos) / MIN_RECORD_LEN)
    }

    fn questions(&mut self, count: usize) -> Result<Vec<Question>, WireError> {
        let mut questions = Vec::with_capacity(self.capacity_for(count));
        for _ in 0..count {
            let qname = self.name(Section::Question)?;
            let qtype = Rtype(self.u16(Section::Question)?);
            let qclass = Class(self.u16(Section::Question)?);
            questions.push(Question {
                qname,
                qtype,
                qclass,
            });
        }
        Ok(questions)
    }

    fn records(&mut self, count: usize, section: Section) -> Result<Vec<Record>, WireError> {
        let mut records = Vec::with_capacity(self.capacity_for(count));
        for _ in 0..count {
            let record = self.record(section)?;
            match record.rtype {
                Rtype::OPT => return Err(WireError::BadOpt),
                Rtype::TSIG => return Err(WireError::MisplacedTsig),
                _ => records.push(record),
            }
        }
        Ok(records)
    }

    fn record(&mut self, section: Section) -> Result<Record, WireError> {
        let owner = self.name(section)?;
        let rtype = Rtype(self.u16(section)?);
        let class = Class(self.u16(section)?);
        let ttl = u32::from(self.u16(section)?) << 16 | u32::from(self.u16(section)?);
        let len = usize::from(self.u16(section)?);
        let end = self.pos + len;
        if end > self.msg.len() {
            return Err(WireError::Truncated(section));
        }
        let rdata = read_rdata(self.msg, self.pos, end, rtype)
            .ok_or(WireError::BadRdata { section, rtype })?;
        self.pos = end;
        Ok(Record {
            owner,
            rtype,
            class,
            ttl,
            rdata,
        })
    }

    fn name(&mut self, section: Section) -> Result<Name, WireError> {
        let mut wire = [0u8; MAX_NAME_LEN];
        let (len, next) = name::read_compressed_into(self.msg, self.pos, &mut wire)
            .map_err(|source| WireError::Name { section, source })?;
        self.pos = next;
        let bytes = wire.get(..len).unwrap_or_default();
        Name::from_wire(bytes).map_err(|source| WireError::Name { section, source })
    }

    fn u16(&mut self, section: Section) -> Result<u16, WireError> {
        match self.msg.get(self.pos..self.pos + 2) {
            Some(&[high, low]) => {
                self.pos += 2;
                Ok(u16::from_be_bytes([high, low]))
            }
            _ => Err(WireError::Truncated(section)),
        }
    }
}
