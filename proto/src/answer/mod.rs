//! The authoritative answering algorithm: (snapshot, query) -> response.
//!
//! [`Responder::respond`] reads a query, finds the zone, runs the algorithm
//! of RFC 1034 §4.3.2 (with RFC 2308 negative answers, RFC 4592 wildcards,
//! RFC 6672 DNAME, RFC 4035/5155 DNSSEC for pre-signed zones) and writes the
//! response into the caller's buffer. It never allocates and takes no lock:
//! names, RRsets and RR images are read in place from the snapshot archive,
//! and every intermediate lives on the stack in fixed-size structures.
//!
//! Behaviour follows NSD where the RFCs leave a choice (header-only
//! FORMERR/NOTIMP, REFUSED outside the served zones, one RRset for ANY,
//! CHAOS identity), and Knot DNS for minimal responses (no NS RRset in the
//! authority section of positive answers). Transfers, NOTIFY and any
//! TSIG-signed message are handed back as [`Outcome::Special`].

mod denial;
mod emit;
mod plan;
mod query;
mod reply;
mod resolve;
mod writer;

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Class, Rtype, opcode, rcode};
use crate::zone::Snapshot;

use self::query::{Parsed, Query};
use self::reply::{ChaosName, Opt};

/// Largest UDP payload we offer and send by default: the DNS Flag Day 2020
/// value that NSD and Knot DNS also default to.
pub const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;
/// Responses without EDNS are limited to this size (RFC 1035 §4.2.1).
const CLASSIC_UDP_LIMIT: usize = 512;
/// Most octets in a response over TCP.
const TCP_LIMIT: usize = 65535;
/// RFC 8914 §4.4 "Stale Answer".
const EDE_STALE_ANSWER: u16 = 3;
/// RFC 8914 §4.19 "Prohibited": a CHAOS name the operator disabled (as NSD).
const EDE_PROHIBITED: u16 = 18;
/// RFC 8914 §4.21 "Not Authoritative": a name outside our zones (as NSD).
const EDE_NOT_AUTHORITATIVE: u16 = 20;
/// RFC 8914 §4.22 "Not Supported": other classes and CHAOS names (as NSD).
const EDE_NOT_SUPPORTED: u16 = 21;
/// RFC 8914 §4.25 "Invalid Data": an expired zone (as NSD).
const EDE_INVALID_DATA: u16 = 24;
/// Room for names synthesised from DNAMEs while answering one query.
const ARENA_LEN: usize = 4 * MAX_NAME_LEN;

/// The zones a node serves.
pub trait ZoneSet {
    /// The zone whose origin is exactly `origin_lowercase_wire` (a lower-cased
    /// wire name), if served. The responder walks the question name's
    /// suffixes to find the longest match.
    fn find(&self, origin_lowercase_wire: &[u8]) -> Option<ServedZone<'_>>;
}

/// A served zone and how fresh its data is.
#[derive(Debug, Clone, Copy)]
pub struct ServedZone<'a> {
    /// The data.
    pub snapshot: &'a Snapshot,
    /// Whether the data may still be served.
    pub freshness: Freshness,
}

/// Freshness of a zone's data (DESIGN.md decision 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Within the expire time: answered normally.
    Fresh,
    /// Past expire under the serve-stale policy: answered, with an RFC 8914
    /// "Stale Answer" EDE option when the client sent EDNS.
    Stale,
    /// Past expire: SERVFAIL (RFC 1035 §3.3.13 EXPIRE).
    Expired,
}

/// A single snapshot served on its own, always fresh.
impl ZoneSet for Snapshot {
    fn find(&self, origin_lowercase_wire: &[u8]) -> Option<ServedZone<'_>> {
        let matches = name::eq_ignore_case(self.view().origin(), origin_lowercase_wire);
        matches.then_some(ServedZone {
            snapshot: self,
            freshness: Freshness::Fresh,
        })
    }
}

/// Node-level answering settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerConfig {
    /// NSID (RFC 5001) sent when a client asks for it; `None` disables it.
    pub nsid: Option<Vec<u8>>,
    /// CHAOS TXT `id.server.` / `hostname.bind.`; `None` answers REFUSED.
    pub identity: Option<String>,
    /// CHAOS TXT `version.bind.` / `version.server.`; `None` answers REFUSED.
    pub version: Option<String>,
    /// Largest UDP response with EDNS, and the payload size we advertise.
    pub max_udp_payload: u16,
}

impl Default for AnswerConfig {
    fn default() -> AnswerConfig {
        AnswerConfig {
            nsid: None,
            identity: None,
            version: None,
            max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
        }
    }
}

/// How the query arrived, which bounds the response size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: 512 octets without EDNS, else the client's payload size within
    /// [512, our maximum].
    Udp,
    /// TCP: up to 65535 octets (RFC 7766).
    Tcp,
}

/// What to do with a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Send the first `n` octets of the output buffer.
    Reply(usize),
    /// Send nothing (not a query, or no readable header).
    Drop,
    /// The node must handle this itself with the transfer and TSIG code.
    Special(SpecialQuery),
}

/// Queries the node handles itself. `tsig` is the byte offset of the TSIG RR
/// (RFC 8945), which is always the last record of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialQuery {
    /// A zone transfer request (RFC 5936).
    Axfr {
        /// Offset of the TSIG RR, if signed.
        tsig: Option<usize>,
    },
    /// An incremental transfer request (RFC 1995).
    Ixfr {
        /// The serial of the SOA the client sent in the authority section.
        serial: Option<u32>,
        /// Offset of the TSIG RR, if signed.
        tsig: Option<usize>,
    },
    /// A NOTIFY (RFC 1996).
    Notify {
        /// Offset of the TSIG RR, if signed.
        tsig: Option<usize>,
    },
    /// Any other query carrying TSIG: verify it, then answer
    /// [`unsigned_query`] with [`Responder::respond_reserving`].
    Signed {
        /// Offset of the TSIG RR.
        tsig: usize,
    },
}

impl SpecialQuery {
    /// Offset of the TSIG RR, if the message is signed.
    pub fn tsig_offset(&self) -> Option<usize> {
        match *self {
            SpecialQuery::Axfr { tsig }
            | SpecialQuery::Ixfr { tsig, .. }
            | SpecialQuery::Notify { tsig } => tsig,
            SpecialQuery::Signed { tsig } => Some(tsig),
        }
    }
}

/// The query without its TSIG RR (ARCOUNT lowered), for answering after
/// the node has verified the signature.
pub fn unsigned_query(query: &[u8], tsig_offset: usize) -> Option<Vec<u8>> {
    let mut unsigned = query.get(..tsig_offset)?.to_vec();
    let arcount = u16::from_be_bytes([*unsigned.get(10)?, *unsigned.get(11)?]).checked_sub(1)?;
    unsigned[10..12].copy_from_slice(&arcount.to_be_bytes());
    Some(unsigned)
}

/// Answers queries; holds the node-level settings.
#[derive(Debug, Clone, Default)]
pub struct Responder {
    config: AnswerConfig,
}

impl Responder {
    /// A responder with these settings.
    pub fn new(config: AnswerConfig) -> Responder {
        Responder { config }
    }

    /// Never allocates on the answer path; writes the response into `out`.
    pub fn respond(
        &self,
        zones: &impl ZoneSet,
        query: &[u8],
        transport: Transport,
        out: &mut [u8],
    ) -> Outcome {
        self.respond_reserving(zones, query, transport, out, 0)
    }

    /// As [`respond`](Self::respond), keeping `reserve` octets free under
    /// the size limit (for a TSIG RR the node appends).
    pub fn respond_reserving(
        &self,
        zones: &impl ZoneSet,
        packet: &[u8],
        transport: Transport,
        out: &mut [u8],
        reserve: usize,
    ) -> Outcome {
        let query = match query::parse(packet) {
            Parsed::Drop => return Outcome::Drop,
            Parsed::Error {
                id,
                opcode,
                recursion_desired,
                rcode,
            } => {
                return reply_or_drop(reply::header_only(
                    out,
                    id,
                    opcode,
                    recursion_desired,
                    rcode,
                ));
            }
            Parsed::Query(query) => query,
        };
        if let Some(special) = classify(&query) {
            return Outcome::Special(special);
        }
        let limit = self
            .size_limit(&query, transport, out.len())
            .saturating_sub(reserve);
        reply_or_drop(self.answer(zones, &query, out, limit))
    }

    fn size_limit(&self, query: &Query<'_>, transport: Transport, available: usize) -> usize {
        let limit = match (transport, query.edns) {
            (Transport::Tcp, _) => TCP_LIMIT,
            (Transport::Udp, None) => CLASSIC_UDP_LIMIT,
            (Transport::Udp, Some(edns)) => {
                let ours = usize::from(self.config.max_udp_payload).max(CLASSIC_UDP_LIMIT);
                usize::from(edns.payload).clamp(CLASSIC_UDP_LIMIT, ours)
            }
        };
        limit.min(available)
    }

    fn answer(
        &self,
        zones: &impl ZoneSet,
        query: &Query<'_>,
        out: &mut [u8],
        limit: usize,
    ) -> Option<usize> {
        let opt = |ede| self.opt(query, ede);
        if query.edns.is_some_and(|edns| edns.version > 0) {
            let badvers = Opt {
                extended_rcode: (rcode::BADVERS >> 4) as u8,
                ..opt(None)?
            };
            return reply::simple(out, limit, query, rcode::BADVERS, None, Some(badvers));
        }
        match Class(query.qclass) {
            Class::IN | Class::ANY => self.answer_from_zones(zones, query, out, limit),
            Class::CH => self.answer_chaos(query, out, limit),
            _ => {
                let len = reply::header_only(
                    out,
                    query.id,
                    query.opcode,
                    query.recursion_desired,
                    rcode::REFUSED,
                )?;
                Some(append_opt(out, len, limit, opt(Some(EDE_NOT_SUPPORTED))))
            }
        }
    }

    fn answer_from_zones(
        &self,
        zones: &impl ZoneSet,
        query: &Query<'_>,
        out: &mut [u8],
        limit: usize,
    ) -> Option<usize> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = query.lower_qname(&mut buffer);
        let Some(served) = find_zone(zones, lower, query.qtype) else {
            return reply::simple(
                out,
                limit,
                query,
                rcode::REFUSED,
                None,
                self.opt(query, Some(EDE_NOT_AUTHORITATIVE)),
            );
        };
        if served.freshness == Freshness::Expired {
            return reply::simple(
                out,
                limit,
                query,
                rcode::SERVFAIL,
                None,
                self.opt(query, Some(EDE_INVALID_DATA)),
            );
        }
        let ede = (served.freshness == Freshness::Stale).then_some(EDE_STALE_ANSWER);
        let zone = served.snapshot.view();
        let dnssec = zone.is_signed() && query.edns.is_some_and(|edns| edns.dnssec_ok);
        let mut arena = [0u8; ARENA_LEN];
        let mut plan = plan::Plan::new();
        let mut resolver = resolve::Resolver::new(zone, query.qtype, dnssec, &mut plan, &mut arena);
        resolver.class_any = query.qclass == Class::ANY.0;
        resolver.run(query.qname);
        let emit = emit::Emit {
            query,
            zone,
            plan: &plan,
            dnssec,
            opt: self.opt(query, ede),
        };
        emit.write(out, limit)
    }

    fn answer_chaos(&self, query: &Query<'_>, out: &mut [u8], limit: usize) -> Option<usize> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = query.lower_qname(&mut buffer);
        let wants_txt = query.qtype == Rtype::TXT.0 || query.qtype == Rtype::ANY.0;
        let (text, ede) = match reply::chaos_name(lower) {
            _ if !wants_txt => (None, EDE_NOT_SUPPORTED),
            ChaosName::Identity => (self.config.identity.as_deref(), EDE_PROHIBITED),
            ChaosName::Version => (self.config.version.as_deref(), EDE_PROHIBITED),
            ChaosName::Other => (None, EDE_NOT_SUPPORTED),
        };
        let (rcode, ede) = match text {
            Some(_) => (rcode::NOERROR, None),
            None => (rcode::REFUSED, Some(ede)),
        };
        let text = text.map(str::as_bytes);
        reply::simple(out, limit, query, rcode, text, self.opt(query, ede))
    }

    /// Our OPT RR, if the query had one: payload, DO echoed, NSID if asked.
    fn opt<'c>(&'c self, query: &Query<'_>, ede: Option<u16>) -> Option<Opt<'c>> {
        let edns = query.edns?;
        let nsid = self.config.nsid.as_deref().filter(|_| edns.nsid);
        Some(Opt {
            payload: self.config.max_udp_payload,
            dnssec_ok: edns.dnssec_ok,
            extended_rcode: 0,
            nsid,
            ede,
        })
    }
}

/// AXFR, IXFR, NOTIFY and signed queries go to the node.
fn classify(query: &Query<'_>) -> Option<SpecialQuery> {
    let tsig = query.tsig;
    if query.opcode == opcode::NOTIFY {
        return Some(SpecialQuery::Notify { tsig });
    }
    match Rtype(query.qtype) {
        Rtype::AXFR => Some(SpecialQuery::Axfr { tsig }),
        Rtype::IXFR => Some(SpecialQuery::Ixfr {
            serial: query.ixfr_serial,
            tsig,
        }),
        _ => tsig.map(|tsig| SpecialQuery::Signed { tsig }),
    }
}

/// The served zone closest above `lower`. A DS query for a zone's own apex
/// belongs to the parent zone when that is served too (RFC 4035 §3.1.4.1).
fn find_zone<'z>(zones: &'z impl ZoneSet, lower: &[u8], qtype: u16) -> Option<ServedZone<'z>> {
    let mut rest = lower;
    let mut child_apex = None;
    loop {
        if let Some(zone) = zones.find(rest) {
            let apex_ds = qtype == Rtype::DS.0 && rest.len() == lower.len() && rest.len() > 1;
            if !apex_ds {
                return Some(zone);
            }
            child_apex.get_or_insert(zone);
        }
        let &label = rest.first()?;
        if label == 0 {
            return child_apex;
        }
        rest = rest.get(1 + label as usize..)?;
    }
}

fn append_opt(out: &mut [u8], len: usize, limit: usize, opt: Option<Opt<'_>>) -> usize {
    let Some(opt) = opt else {
        return len;
    };
    let Some(rest) = out.get_mut(len..) else {
        return len;
    };
    let mut writer = writer::Writer::new(rest, limit.saturating_sub(len));
    if opt.write(&mut writer).is_err() {
        return len;
    }
    let added = writer.finish();
    if let Some(arcount) = out.get_mut(10..12) {
        arcount.copy_from_slice(&1u16.to_be_bytes());
    }
    len + added
}

fn reply_or_drop(len: Option<usize>) -> Outcome {
    len.map_or(Outcome::Drop, Outcome::Reply)
}

#[cfg(test)]
mod tests;
