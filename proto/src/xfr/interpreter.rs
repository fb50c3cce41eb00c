//! The transfer interpreter: response messages in, a whole transfer out.
//!
//! Pure and sans-IO: the caller sends the query, verifies TSIG, and feeds
//! each response message in order; the interpreter answers
//! [`Progress::NeedMore`] until the transfer is complete, or an
//! [`XfrError`]. Nothing is applied anywhere until [`Progress::Done`].
//!
//! ```text
//!            first record: SOA(new)
//!  Start ─────────────────────────────▶ FirstSoa ──SOA query──▶ Done(Soa)
//!                                          │
//!          AXFR query, or IXFR answered    │   IXFR: SOA(client serial)
//!          with any other second record    │
//!        ┌─────────────────────────────────┴────────────────┐
//!        ▼                                                  ▼
//!      Full ──records──▶ Full ──SOA(new)──▶ Done(Full)    Removing ◀────────┐
//!                                                  SOA(to) │                │
//!   IXFR, message ends after SOA(new) and                  ▼                │
//!   new is not newer: Done(UpToDate)                    Adding ──SOA(to)───┘
//!                                                          │ SOA(new), to = new
//!                                                          ▼
//!                                                  Done(Incremental)
//! ```

use crate::name::Name;
use crate::record::{Class, Record, Rtype, opcode};
use crate::serial::Serial;
use crate::wire::Message;

use super::diff::Diff;
use super::error::XfrError;

/// What was asked of the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// An SOA query (refresh check).
    Soa,
    /// A full transfer (RFC 5936).
    Axfr,
    /// An incremental transfer from the secondary's `serial` (RFC 1995).
    Ixfr {
        /// The serial the secondary holds.
        serial: u32,
    },
}

impl Request {
    fn qtype(self) -> Rtype {
        match self {
            Request::Soa => Rtype::SOA,
            Request::Axfr => Rtype::AXFR,
            Request::Ixfr { .. } => Rtype::IXFR,
        }
    }
}

/// Bounds on what one transfer may bring, so a runaway primary cannot
/// exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records received, SOAs and both sides of diffs counted.
    pub max_records: usize,
    /// Most message octets received.
    pub max_bytes: usize,
}

impl Default for Limits {
    /// The config defaults: 5,000,000 records and 1 GiB.
    fn default() -> Limits {
        Limits {
            max_records: 5_000_000,
            max_bytes: 1 << 30,
        }
    }
}

/// A completed exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// The answer to an SOA query: the primary's SOA.
    Soa {
        /// The primary's SOA record.
        soa: Record,
    },
    /// IXFR answered with one SOA no newer than ours: nothing to transfer.
    /// The serial may be older than ours (a primary that went backwards):
    /// the caller compares serials.
    UpToDate {
        /// The primary's SOA record.
        soa: Record,
    },
    /// The whole zone, from AXFR or an AXFR-style answer to IXFR.
    Full {
        /// The zone's SOA (also in `records`).
        soa: Record,
        /// Every record of the zone, the SOA once, in the order received.
        records: Vec<Record>,
    },
    /// IXFR diffs leading from the serial asked about to `soa`'s.
    Incremental {
        /// The zone's new SOA.
        soa: Record,
        /// Consecutive diffs, oldest first.
        diffs: Vec<Diff>,
    },
}

impl Transfer {
    /// The primary's SOA record in this transfer.
    pub fn soa(&self) -> &Record {
        match self {
            Transfer::Soa { soa }
            | Transfer::UpToDate { soa }
            | Transfer::Full { soa, .. }
            | Transfer::Incremental { soa, .. } => soa,
        }
    }

    /// The primary's serial.
    pub fn serial(&self) -> u32 {
        crate::record::soa_serial(&self.soa().rdata).unwrap_or_default()
    }
}

/// What the interpreter wants after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Feed the next message.
    NeedMore,
    /// The transfer is complete.
    Done(Transfer),
}

#[derive(Debug)]
enum State {
    Start,
    FirstSoa,
    Full(Vec<Record>),
    Removing(Diff),
    Adding(Diff),
    Finished(Transfer),
    Spent,
}

/// Interprets the response to one SOA, AXFR or IXFR query.
#[derive(Debug)]
pub struct Interpreter {
    zone: Name,
    id: u16,
    request: Request,
    limits: Limits,
    state: State,
    new_soa: Option<Record>,
    diffs: Vec<Diff>,
    messages: usize,
    records: usize,
    bytes: usize,
}

impl Interpreter {
    /// An interpreter for the response to query `id` for `zone`.
    pub fn new(zone: Name, id: u16, request: Request, limits: Limits) -> Interpreter {
        Interpreter {
            zone,
            id,
            request,
            limits,
            state: State::Start,
            new_soa: None,
            diffs: Vec::new(),
            messages: 0,
            records: 0,
            bytes: 0,
        }
    }

    /// Parses and feeds the next response message.
    pub fn feed_bytes(&mut self, bytes: &[u8]) -> Result<Progress, XfrError> {
        let message = Message::parse(bytes)?;
        self.feed(message, bytes.len())
    }

    /// Feeds the next response message, parsed, and its length on the wire.
    pub fn feed(&mut self, message: Message, wire_len: usize) -> Result<Progress, XfrError> {
        if matches!(self.state, State::Finished(_) | State::Spent) {
            return Err(XfrError::TrailingRecords);
        }
        self.account(&message, wire_len)?;
        self.check_header(&message)?;
        let first = self.messages == 0;
        self.messages += 1;
        if self.request == Request::Soa {
            return self.soa_answer(message);
        }
        if first && message.answers.is_empty() {
            return Err(XfrError::MissingSoa);
        }
        for record in message.answers {
            self.record(record)?;
        }
        self.end_of_message()
    }

    /// Messages fed so far.
    pub fn messages(&self) -> usize {
        self.messages
    }

    /// Message octets fed so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Records received so far.
    pub fn records(&self) -> usize {
        self.records
    }

    fn account(&mut self, message: &Message, wire_len: usize) -> Result<(), XfrError> {
        self.bytes = self.bytes.saturating_add(wire_len);
        if self.bytes > self.limits.max_bytes {
            return Err(XfrError::TooManyBytes {
                limit: self.limits.max_bytes,
            });
        }
        self.records = self.records.saturating_add(message.answers.len());
        if self.records > self.limits.max_records {
            return Err(XfrError::TooManyRecords {
                limit: self.limits.max_records,
            });
        }
        Ok(())
    }

    fn check_header(&self, message: &Message) -> Result<(), XfrError> {
        let header = &message.header;
        if header.id != self.id {
            return Err(XfrError::IdMismatch {
                expected: self.id,
                received: header.id,
            });
        }
        if !header.qr || header.opcode != opcode::QUERY {
            return Err(XfrError::NotResponse);
        }
        if !message.is_noerror() {
            return Err(XfrError::Rcode(message.rcode()));
        }
        if header.tc {
            return Err(XfrError::Truncated);
        }
        let asked = |q: &crate::wire::Question| {
            q.qname == self.zone && q.qtype == self.request.qtype() && q.qclass == Class::IN
        };
        // RFC 5936 §2.2.1: the first message echoes the question, later ones may.
        match message.questions.as_slice() {
            [] if self.messages > 0 => Ok(()),
            [question] if asked(question) => Ok(()),
            _ => Err(XfrError::QuestionMismatch),
        }
    }

    fn soa_answer(&mut self, message: Message) -> Result<Progress, XfrError> {
        if !message.header.aa {
            return Err(XfrError::NotAuthoritative);
        }
        let soa = message
            .answers
            .into_iter()
            .find(|r| r.rtype == Rtype::SOA && r.owner == self.zone)
            .filter(|r| r.class == Class::IN && r.soa().is_some())
            .ok_or(XfrError::MissingSoa)?;
        self.state = State::Spent;
        Ok(Progress::Done(Transfer::Soa { soa }))
    }

    fn record(&mut self, record: Record) -> Result<(), XfrError> {
        self.check_record(&record)?;
        let state = std::mem::replace(&mut self.state, State::Spent);
        self.state = match state {
            State::Start => self.first_record(record)?,
            State::FirstSoa => self.second_record(record)?,
            State::Full(records) => self.full_record(records, record)?,
            State::Removing(diff) => self.removing_record(diff, record)?,
            State::Adding(diff) => self.adding_record(diff, record)?,
            State::Finished(_) | State::Spent => return Err(XfrError::TrailingRecords),
        };
        Ok(())
    }

    fn check_record(&self, record: &Record) -> Result<(), XfrError> {
        if !record.owner.is_subdomain_of(&self.zone) {
            return Err(XfrError::OutOfZone(record.owner.clone()));
        }
        if record.class != Class::IN {
            return Err(XfrError::WrongClass(record.class));
        }
        if record.rtype.is_meta() {
            return Err(XfrError::MetaType(record.rtype));
        }
        if record.rtype == Rtype::SOA && (record.owner != self.zone || record.soa().is_none()) {
            return Err(XfrError::OutOfZone(record.owner.clone()));
        }
        Ok(())
    }

    fn first_record(&mut self, record: Record) -> Result<State, XfrError> {
        if record.rtype != Rtype::SOA {
            return Err(XfrError::MissingSoa);
        }
        self.new_soa = Some(record);
        Ok(State::FirstSoa)
    }

    /// RFC 1995 §4: after SOA(new), SOA(the client's serial) starts diffs;
    /// anything else is an AXFR-style answer.
    fn second_record(&mut self, record: Record) -> Result<State, XfrError> {
        let new_soa = self.new_soa.clone().ok_or(XfrError::MissingSoa)?;
        let new_serial = serial_of(&new_soa);
        let records = vec![new_soa];
        match self.request {
            Request::Ixfr { serial } if record.rtype == Rtype::SOA => {
                let found = serial_of(&record);
                if found == new_serial {
                    return self.full_record(records, record);
                }
                if found != serial {
                    return Err(XfrError::SerialMismatch {
                        expected: serial,
                        found,
                    });
                }
                Ok(State::Removing(Diff::starting_at(record)))
            }
            _ => self.full_record(records, record),
        }
    }

    fn full_record(&mut self, mut records: Vec<Record>, record: Record) -> Result<State, XfrError> {
        if record.rtype != Rtype::SOA {
            records.push(record);
            return Ok(State::Full(records));
        }
        let new_soa = self.new_soa.take().ok_or(XfrError::MissingSoa)?;
        let expected = serial_of(&new_soa);
        let found = serial_of(&record);
        if found != expected {
            return Err(XfrError::SerialMismatch { expected, found });
        }
        Ok(State::Finished(Transfer::Full {
            soa: new_soa,
            records,
        }))
    }

    fn removing_record(&self, mut diff: Diff, record: Record) -> Result<State, XfrError> {
        if record.rtype != Rtype::SOA {
            diff.removed.push(record);
            return Ok(State::Removing(diff));
        }
        let to = serial_of(&record);
        if !Serial(to).is_newer_than(Serial(diff.from)) {
            return Err(XfrError::BadDiffOrder {
                from: diff.from,
                to,
            });
        }
        let new_serial = self.new_soa.as_ref().map(serial_of).unwrap_or_default();
        if Serial(to).is_newer_than(Serial(new_serial)) {
            return Err(XfrError::SerialMismatch {
                expected: new_serial,
                found: to,
            });
        }
        diff.to = to;
        diff.added.push(record);
        Ok(State::Adding(diff))
    }

    fn adding_record(&mut self, mut diff: Diff, record: Record) -> Result<State, XfrError> {
        if record.rtype != Rtype::SOA {
            diff.added.push(record);
            return Ok(State::Adding(diff));
        }
        let new_soa = self.new_soa.clone().ok_or(XfrError::MissingSoa)?;
        let new_serial = serial_of(&new_soa);
        let found = serial_of(&record);
        if found != diff.to {
            return Err(XfrError::SerialMismatch {
                expected: diff.to,
                found,
            });
        }
        let to = diff.to;
        self.diffs.push(diff);
        if to == new_serial {
            let diffs = std::mem::take(&mut self.diffs);
            return Ok(State::Finished(Transfer::Incremental {
                soa: new_soa,
                diffs,
            }));
        }
        Ok(State::Removing(Diff::starting_at(record)))
    }

    fn end_of_message(&mut self) -> Result<Progress, XfrError> {
        let state = std::mem::replace(&mut self.state, State::Spent);
        match state {
            State::Finished(transfer) => Ok(Progress::Done(transfer)),
            State::FirstSoa => self.after_single_soa(),
            other => {
                self.state = other;
                Ok(Progress::NeedMore)
            }
        }
    }

    /// RFC 1995 §4: a lone SOA no newer than ours means we are current. A
    /// newer one may be followed by more messages, so keep listening.
    fn after_single_soa(&mut self) -> Result<Progress, XfrError> {
        let soa = self.new_soa.clone().ok_or(XfrError::MissingSoa)?;
        match self.request {
            Request::Ixfr { serial } if !Serial(serial_of(&soa)).is_newer_than(Serial(serial)) => {
                Ok(Progress::Done(Transfer::UpToDate { soa }))
            }
            _ => {
                self.state = State::FirstSoa;
                Ok(Progress::NeedMore)
            }
        }
    }
}

/// Serial of an SOA record already checked by `check_record`.
fn serial_of(soa: &Record) -> u32 {
    crate::record::soa_serial(&soa.rdata).unwrap_or_default()
}
