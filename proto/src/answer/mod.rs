//! The authoritative answering algorithm: (snapshot, query) -> response.
//!
//! [`Responder::respond`] reads a query, finds the zone, runs the algorithm
//! of RFC 1034 §4.3.2 (with RFC 2308 negative answers, RFC 4592 wildcards,
//! RFC 6672 DNAME, RFC 4035/5155 DNSSEC for pre-signed zones) and writes the
//! response into the caller's buffer. It never allocates and takes no lock:
//! names, RRsets and RR images are read in place from the snapshot archive,
//! and every intermediate lives on the stack in fixed-size structures.
//!
//! Every response is the one NSD 4.6 gives for the same data, section by
//! section: the zone's NS RRset in the authority section of positive
//! answers with the servers' addresses, NSD's choice and order of denial
//! records, its additional-section and truncation rules, header-only
//! FORMERR/NOTIMP, REFUSED outside the served zones, SERVFAIL for a zone
//! without data, CHAOS identity. The one exception is QTYPE ANY where the
//! RRset NSD picks depends on the order the zone was loaded in, which a
//! snapshot does not keep: there Knot DNS's choice is used (see `any`).
//! Transfers, NOTIFY and any TSIG-signed message are handed back as
//! [`Outcome::Special`].

mod additional;
mod any;
mod denial;
mod emit;
mod plan;
mod query;
mod reply;
mod resolve;
mod template;
mod writer;

pub(crate) use template::ZoneNs;

use crate::name::MAX_NAME_LEN;
use crate::record::{Class, Rtype, opcode, rcode};
use crate::zone::Snapshot;

use self::plan::Ede;
use self::query::{HEADER_LEN, Parsed, Query};
use self::reply::{ChaosName, Opt};

/// Largest UDP payload we offer and send by default: the DNS Flag Day 2020
/// value that NSD and Knot DNS also default to.
pub const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;
/// Responses without EDNS are limited to this size (RFC 1035 §4.2.1).
const CLASSIC_UDP_LIMIT: usize = 512;
/// Most octets in a response over TCP.
const TCP_LIMIT: usize = 65535;
/// Shortest TCP message NSD answers: a header and a root question.
const TCP_MIN_QUERY: usize = HEADER_LEN + 1 + 4;
/// RFC 8914 §4.4 "Stale Answer".
const STALE_ANSWER: Ede = Ede { code: 3, text: "" };
/// RFC 8914 §4.19 "Prohibited": a CHAOS name the operator disabled (as NSD).
const PROHIBITED: Ede = Ede { code: 18, text: "" };
/// RFC 8914 §4.22 "Not Supported": other classes and CHAOS names (as NSD).
const NOT_SUPPORTED: Ede = Ede { code: 21, text: "" };
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
    /// The data; `None` for a zone that is configured but has none yet
    /// (first transfer not done), which answers SERVFAIL as NSD and Knot do.
    pub snapshot: Option<&'a Snapshot>,
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
        let matches = crate::zone::eq_ignore_case(self.view().origin(), origin_lowercase_wire);
        matches.then_some(ServedZone {
            snapshot: Some(self),
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
    /// Send the first `len` octets of the output buffer.
    Reply {
        /// Length of the response.
        len: usize,
        /// Its RCODE, extended bits from the OPT RR included.
        rcode: u16,
    },
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
#[derive(Debug, Clone)]
pub struct Responder {
    config: AnswerConfig,
    /// Copy each zone's pre-written NS block where it is exact (always,
    /// except in tests that check it against the general path).
    template: bool,
}

impl Default for Responder {
    fn default() -> Responder {
        Responder::new(AnswerConfig::default())
    }
}

impl Responder {
    /// A responder with these settings.
    pub fn new(config: AnswerConfig) -> Responder {
        Responder {
            config,
            template: true,
        }
    }

    /// A responder that always writes the zone's NS RRset and addresses
    /// the general way, to check the pre-written blocks against.
    #[cfg(test)]
    pub(crate) fn without_template(config: AnswerConfig) -> Responder {
        Responder {
            config,
            template: false,
        }
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
        if transport == Transport::Tcp && packet.len() < TCP_MIN_QUERY {
            return Outcome::Drop;
        }
        let query = match query::parse(packet) {
            Parsed::Drop => return Outcome::Drop,
            Parsed::Error {
                id,
                opcode,
                recursion_desired,
                rcode,
            } => {
                let len = reply::header_only(out, id, opcode, recursion_desired, rcode);
                return reply_or_drop(len.map(|len| (len, rcode)));
            }
            Parsed::Query(query) => query,
        };
        if let Some(rcode) = transfer_over_udp(zones, &query, transport) {
            let limit = self.size_limit(&query, transport, out.len());
            let opt = self.opt(&query, None);
            let len = reply::simple(out, limit, &query, rcode, None, opt);
            return reply_or_drop(len.map(|len| (len, rcode)));
        }
        if let Some(special) = classify(&query) {
            return Outcome::Special(special);
        }
        let limit = self
            .size_limit(&query, transport, out.len())
            .saturating_sub(reserve);
        reply_or_drop(self.answer(zones, &query, transport, out, limit))
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

    /// The response and its full RCODE.
    fn answer(
        &self,
        zones: &impl ZoneSet,
        query: &Query<'_>,
        transport: Transport,
        out: &mut [u8],
        limit: usize,
    ) -> Option<(usize, u16)> {
        if query.edns.is_some_and(|edns| edns.version > 0) {
            let badvers = Opt {
                extended_rcode: (rcode::BADVERS >> 4) as u8,
                ..self.opt(query, None)?
            };
            let len = reply::simple(out, limit, query, rcode::BADVERS, None, Some(badvers))?;
            return Some((len, rcode::BADVERS));
        }
        match Class(query.qclass) {
            Class::IN | Class::ANY => self.answer_from_zones(zones, query, transport, out, limit),
            Class::CH => self.answer_chaos(query, out, limit),
            _ => {
                let refused = rcode::REFUSED;
                let len = reply::header_only(
                    out,
                    query.id,
                    query.opcode,
                    query.recursion_desired,
                    refused,
                )?;
                let opt = self.opt(query, Some(NOT_SUPPORTED));
                Some((append_opt(out, len, limit, opt), refused))
            }
        }
    }

    fn answer_from_zones(
        &self,
        zones: &impl ZoneSet,
        query: &Query<'_>,
        transport: Transport,
        out: &mut [u8],
        limit: usize,
    ) -> Option<(usize, u16)> {
        let dnssec_ok = query.edns.is_some_and(|edns| edns.dnssec_ok);
        let mut arena = [0u8; ARENA_LEN];
        let mut plan = plan::Plan::new();
        let mut resolver =
            resolve::Resolver::new(zones, query.qtype, dnssec_ok, &mut plan, &mut arena);
        resolver.class_any = query.qclass == Class::ANY.0;
        resolver.run(query.qname);
        let stale = resolver.stale;
        let ede = plan.ede.or(stale.then_some(STALE_ANSWER));
        let emit = emit::Emit {
            query,
            plan: &plan,
            opt: self.opt(query, ede),
            tcp: transport == Transport::Tcp,
            template: self.template,
        };
        let len = emit.write(out, limit)?;
        Some((len, plan.rcode))
    }

    fn answer_chaos(
        &self,
        query: &Query<'_>,
        out: &mut [u8],
        limit: usize,
    ) -> Option<(usize, u16)> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = query.lower_qname(&mut buffer);
        let wants_txt = query.qtype == Rtype::TXT.0 || query.qtype == Rtype::ANY.0;
        let (text, ede) = match reply::chaos_name(lower) {
            _ if !wants_txt => (None, NOT_SUPPORTED),
            ChaosName::Identity => (self.config.identity.as_deref(), PROHIBITED),
            ChaosName::Version => (self.config.version.as_deref(), PROHIBITED),
            ChaosName::Other => (None, NOT_SUPPORTED),
        };
        let (rcode, ede) = match text {
            Some(_) => (rcode::NOERROR, None),
            None => (rcode::REFUSED, Some(ede)),
        };
        let text = text.map(str::as_bytes);
        let len = reply::simple(out, limit, query, rcode, text, self.opt(query, ede))?;
        Some((len, rcode))
    }

    /// Our OPT RR, if the query had one: payload, DO echoed, NSID if asked.
    fn opt<'c>(&'c self, query: &Query<'_>, ede: Option<Ede>) -> Option<Opt<'c>> {
        let edns = query.edns?;
        let nsid = self.config.nsid.as_deref().filter(|_| edns.nsid);
        Some(Opt {
            payload: self.config.max_udp_payload,
            dnssec_ok: edns.dnssec_ok,
            extended_rcode: 0,
            nsid,
            ede,
            cookie: edns.cookie,
        })
    }
}

/// Unsigned transfer requests over UDP that NSD and Knot refuse before
/// looking at access control: AXFR (NOTIMP, RFC 5936 §4.2) and an IXFR of
/// a served zone without the client's SOA (FORMERR, as Knot; NSD's is
/// unparsable). The node answers the rest (NOTAUTH for other names).
fn transfer_over_udp(zones: &impl ZoneSet, query: &Query<'_>, transport: Transport) -> Option<u16> {
    if transport != Transport::Udp || query.tsig.is_some() || query.opcode != opcode::QUERY {
        return None;
    }
    match Rtype(query.qtype) {
        Rtype::AXFR => Some(rcode::NOTIMP),
        Rtype::IXFR if query.ixfr_serial.is_none() => {
            let mut buffer = [0u8; MAX_NAME_LEN];
            zones
                .find(query.lower_qname(&mut buffer))
                .map(|_| rcode::FORMERR)
        }
        _ => None,
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

fn reply_or_drop(reply: Option<(usize, u16)>) -> Outcome {
    reply.map_or(Outcome::Drop, |(len, rcode)| Outcome::Reply { len, rcode })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_parity;
