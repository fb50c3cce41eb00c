//! Transfers we send: AXFR from a zone's records, IXFR from the journal.
//!
//! The input is the zone's SOA and an iterator over its records (a
//! snapshot's, or any other), so this code depends on no storage format.
//! Messages are built lazily, one per `next()`, each at most
//! [`MESSAGE_LIMIT`] octets so that a TSIG record still fits; sign each one
//! with [`crate::tsig::ResponseSigner`] before sending.

use std::borrow::Cow;
use std::iter::Peekable;

use crate::record::{Record, Rtype, soa_serial};
use crate::serial::Serial;
use crate::wire::{BuildError, Header, MAX_MESSAGE_LEN, Message, MessageBuilder, Question};

use super::diff::Diff;
use super::journal::Journal;

/// Largest message of an outgoing transfer: the TCP maximum less room for
/// a TSIG record (key name up to 255 octets, a 64-octet MAC and the rest).
pub const MESSAGE_LIMIT: usize = MAX_MESSAGE_LEN - 512;

/// Why a transfer message could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The query has no question to answer.
    #[error("query has no question")]
    NoQuestion,
    /// A single record does not fit in a message.
    #[error("record {0:?} does not fit in a message")]
    RecordTooLarge(Box<Record>),
    /// Building the message failed otherwise.
    #[error("{0}")]
    Build(#[from] BuildError),
}

type Records<'a> = Box<dyn Iterator<Item = Cow<'a, Record>> + 'a>;

/// The messages of one transfer response, built as they are pulled.
pub struct ResponseStream<'a> {
    header: Header,
    question: Question,
    records: Peekable<Records<'a>>,
    limit: usize,
    first: bool,
    done: bool,
}

/// The serial a client holds, from the SOA in its IXFR query's authority
/// section (RFC 1995 §3).
pub fn ixfr_client_serial(query: &Message) -> Option<u32> {
    let soa = query.authority.iter().find(|r| r.rtype == Rtype::SOA)?;
    soa_serial(&soa.rdata)
}

/// The AXFR response (RFC 5936 §2.2): `soa`, every record of `records`
/// except SOAs, `soa` again.
pub fn axfr_stream<'a>(
    query: &Message,
    soa: &Record,
    records: impl Iterator<Item = Record> + 'a,
) -> Result<ResponseStream<'a>, OutboundError> {
    ResponseStream::new(query, full_zone(soa.clone(), records))
}

/// The IXFR response to a client at `client_serial` (RFC 1995 §4): one SOA
/// when the client is current, the journal's diffs when it reaches back to
/// the client's serial and forward to `soa`'s, otherwise the whole zone
/// AXFR-style from `records`. Condensing diffs is not attempted.
pub fn ixfr_stream<'a>(
    query: &Message,
    client_serial: u32,
    soa: &Record,
    journal: &'a Journal,
    records: impl Iterator<Item = Record> + 'a,
) -> Result<ResponseStream<'a>, OutboundError> {
    let serial = soa_serial(&soa.rdata).unwrap_or_default();
    if !Serial(serial).is_newer_than(Serial(client_serial)) {
        let only_soa: Records<'a> = Box::new(std::iter::once(Cow::Owned(soa.clone())));
        return ResponseStream::new(query, only_soa);
    }
    let diffs = (journal.serial() == Some(serial))
        .then(|| journal.diffs_since(client_serial))
        .flatten()
        .filter(|diffs| !diffs.is_empty());
    match diffs {
        Some(diffs) => ResponseStream::new(query, incremental(soa.clone(), diffs)),
        None => ResponseStream::new(query, full_zone(soa.clone(), records)),
    }
}

/// A response carrying only `soa`, as IXFR over UDP answers when the diffs
/// do not fit a datagram (RFC 1995 §2) and as any up-to-date IXFR answer.
pub fn soa_response(query: &Message, soa: &Record) -> Result<Vec<u8>, OutboundError> {
    let only_soa: Records<'_> = Box::new(std::iter::once(Cow::Owned(soa.clone())));
    let mut stream = ResponseStream::new(query, only_soa)?;
    stream.next().unwrap_or(Err(OutboundError::NoQuestion))
}

fn full_zone<'a>(soa: Record, records: impl Iterator<Item = Record> + 'a) -> Records<'a> {
    let body = records.filter(|r| r.rtype != Rtype::SOA).map(Cow::Owned);
    let last = soa.clone();
    Box::new(
        std::iter::once(Cow::Owned(soa))
            .chain(body)
            .chain(std::iter::once(Cow::Owned(last))),
    )
}

/// SOA(new), then per diff SOA(from) removals SOA(to) additions, then SOA(new).
fn incremental(soa: Record, diffs: Vec<&Diff>) -> Records<'_> {
    let body = diffs.into_iter().flat_map(|diff| {
        let old_soa = diff.old_soa().map(Cow::Borrowed);
        let new_soa = diff.new_soa().map(Cow::Borrowed);
        let removed = diff
            .removed
            .iter()
            .filter(|r| r.rtype != Rtype::SOA)
            .map(Cow::Borrowed);
        let added = diff
            .added
            .iter()
            .filter(|r| r.rtype != Rtype::SOA)
            .map(Cow::Borrowed);
        old_soa
            .into_iter()
            .chain(removed)
            .chain(new_soa)
            .chain(added)
    });
    let last = soa.clone();
    Box::new(
        std::iter::once(Cow::Owned(soa))
            .chain(body)
            .chain(std::iter::once(Cow::Owned(last))),
    )
}

impl<'a> ResponseStream<'a> {
    fn new(query: &Message, records: Records<'a>) -> Result<ResponseStream<'a>, OutboundError> {
        let question = query.question().cloned().ok_or(OutboundError::NoQuestion)?;
        let header = Header {
            aa: true,
            ..Header::response_to(&query.header)
        };
        Ok(ResponseStream {
            header,
            question,
            records: records.peekable(),
            limit: MESSAGE_LIMIT,
            first: true,
            done: false,
        })
    }

    /// Uses messages of at most `limit` octets instead of [`MESSAGE_LIMIT`].
    pub fn with_limit(mut self, limit: usize) -> ResponseStream<'a> {
        self.limit = limit;
        self
    }

    fn next_message(&mut self) -> Result<Vec<u8>, OutboundError> {
        let mut builder = MessageBuilder::new(self.header, self.limit);
        // RFC 5936 §2.2.1: the question in the first message only.
        if self.first {
            builder.push_question(&self.question)?;
            self.first = false;
        }
        while let Some(record) = self.records.peek() {
            match builder.push_answer(record) {
                Ok(()) => {
                    self.records.next();
                }
                Err(BuildError::Full) if builder.count(crate::wire::Section::Answer) > 0 => break,
                Err(BuildError::Full) => {
                    return Err(OutboundError::RecordTooLarge(Box::new(
                        record.clone().into_owned(),
                    )));
                }
                Err(error) => return Err(error.into()),
            }
        }
        if self.records.peek().is_none() {
            self.done = true;
        }
        Ok(builder.finish())
    }
}

impl Iterator for ResponseStream<'_> {
    type Item = Result<Vec<u8>, OutboundError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let message = self.next_message();
        if message.is_err() {
            self.done = true;
        }
        Some(message)
    }
}

impl std::fmt::Debug for ResponseStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("question", &self.question)
            .field("limit", &self.limit)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
