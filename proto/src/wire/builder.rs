//! Building a message section by section, with compression and a size limit.

use crate::name;
use crate::record::{RdataNames, Record, Rtype};

use super::compress::Compressor;
use super::edns::Opt;
use super::error::{BuildError, Section};
use super::header::{HEADER_LEN, Header};
use super::message::Question;

/// Largest DNS message (RFC 1035 §4.2.2: a two-octet length over TCP).
pub const MAX_MESSAGE_LEN: usize = 65_535;

/// Writes one message. Sections are filled in order; an entry that would
/// push the message past its limit is refused with [`BuildError::Full`] and
/// leaves the message as it was.
#[derive(Debug)]
pub struct MessageBuilder {
    buf: Vec<u8>,
    limit: usize,
    compressor: Compressor,
    section: Section,
    counts: [u16; 4],
}

impl MessageBuilder {
    /// A message with `header` that may grow to `limit` octets (at most 65535).
    pub fn new(header: Header, limit: usize) -> MessageBuilder {
        let mut buf = Vec::with_capacity(512);
        buf.extend_from_slice(&header.to_bytes());
        buf.extend_from_slice(&[0; HEADER_LEN - 4]);
        MessageBuilder {
            buf,
            limit: limit.clamp(HEADER_LEN, MAX_MESSAGE_LEN),
            compressor: Compressor::default(),
            section: Section::Question,
            counts: [0; 4],
        }
    }

    /// Adds a question.
    pub fn push_question(&mut self, question: &Question) -> Result<(), BuildError> {
        self.enter(Section::Question)?;
        let mark = self.mark();
        self.compressor
            .write(&mut self.buf, question.qname.as_wire());
        self.buf.extend_from_slice(&question.qtype.0.to_be_bytes());
        self.buf.extend_from_slice(&question.qclass.0.to_be_bytes());
        self.commit(mark, Section::Question)
    }

    /// Adds `record` to `section` (not [`Section::Question`]).
    pub fn push(&mut self, section: Section, record: &Record) -> Result<(), BuildError> {
        if section == Section::Question {
            return Err(BuildError::SectionOrder {
                current: self.section,
                attempted: section,
            });
        }
        self.enter(section)?;
        let mark = self.mark();
        self.compressor.write(&mut self.buf, record.owner.as_wire());
        self.buf.extend_from_slice(&record.rtype.0.to_be_bytes());
        self.buf.extend_from_slice(&record.class.0.to_be_bytes());
        self.buf.extend_from_slice(&record.ttl.to_be_bytes());
        let length_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.write_rdata(record.rtype, &record.rdata);
        let Ok(rdlength) = u16::try_from(self.buf.len() - length_at - 2) else {
            self.rollback(mark);
            return Err(BuildError::RdataTooLong);
        };
        self.buf[length_at..length_at + 2].copy_from_slice(&rdlength.to_be_bytes());
        self.commit(mark, section)
    }

    /// Adds `record` to the answer section.
    pub fn push_answer(&mut self, record: &Record) -> Result<(), BuildError> {
        self.push(Section::Answer, record)
    }

    /// Adds `record` to the authority section.
    pub fn push_authority(&mut self, record: &Record) -> Result<(), BuildError> {
        self.push(Section::Authority, record)
    }

    /// Adds `record` to the additional section.
    pub fn push_additional(&mut self, record: &Record) -> Result<(), BuildError> {
        self.push(Section::Additional, record)
    }

    /// Adds an OPT record to the additional section.
    pub fn push_opt(&mut self, opt: &Opt) -> Result<(), BuildError> {
        self.push(Section::Additional, &opt.to_record())
    }

    /// Current length in octets.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing but the header has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN
    }

    /// Number of entries written to `section`.
    pub fn count(&self, section: Section) -> u16 {
        self.counts[section.index()]
    }

    /// The finished message.
    pub fn finish(mut self) -> Vec<u8> {
        for (i, count) in self.counts.iter().enumerate() {
            self.buf[4 + 2 * i..6 + 2 * i].copy_from_slice(&count.to_be_bytes());
        }
        self.buf
    }

    fn enter(&mut self, section: Section) -> Result<(), BuildError> {
        if section < self.section {
            return Err(BuildError::SectionOrder {
                current: self.section,
                attempted: section,
            });
        }
        if self.counts[section.index()] == u16::MAX {
            return Err(BuildError::TooManyEntries(section));
        }
        self.section = section;
        Ok(())
    }

    fn mark(&self) -> (usize, usize) {
        (self.buf.len(), self.compressor.mark())
    }

    fn rollback(&mut self, (len, compressor_mark): (usize, usize)) {
        self.buf.truncate(len);
        self.compressor.rollback(compressor_mark);
    }

    fn commit(&mut self, mark: (usize, usize), section: Section) -> Result<(), BuildError> {
        if self.buf.len() > self.limit {
            self.rollback(mark);
            return Err(BuildError::Full);
        }
        self.counts[section.index()] += 1;
        Ok(())
    }

    /// Writes RDATA, compressing names only where RFC 3597 §4 allows it;
    /// RDATA that does not match its layout is written as it is.
    fn write_rdata(&mut self, rtype: Rtype, rdata: &[u8]) {
        let (prefix, names) = match rtype.rdata_names() {
            RdataNames::Compressible(names) => (0, names.len()),
            RdataNames::CompressibleAfterPrefix(prefix) => (prefix, 1),
            _ => return self.buf.extend_from_slice(rdata),
        };
        let Some(ends) = name_ends(rdata, prefix, names) else {
            return self.buf.extend_from_slice(rdata);
        };
        self.buf.extend_from_slice(&rdata[..prefix]);
        let mut start = prefix;
        for end in ends.into_iter().take(names) {
            self.compressor.write(&mut self.buf, &rdata[start..end]);
            start = end;
        }
        self.buf.extend_from_slice(&rdata[start..]);
    }
}

/// End offsets of `count` (at most 2) consecutive names after `prefix` octets.
fn name_ends(rdata: &[u8], prefix: usize, count: usize) -> Option<[usize; 2]> {
    let mut ends = [0usize; 2];
    let mut pos = prefix;
    for end in ends.iter_mut().take(count) {
        pos += name::wire_len(rdata.get(pos..)?).ok()?;
        *end = pos;
    }
    (count <= 2).then_some(ends)
}
