//! The differential checker: the same raw queries to two (or more) servers,
//! responses normalised and compared.
//!
//! Normalisation ignores the message id and the order of records inside a
//! section; it keeps everything a resolver could act on: RCODE (extended
//! included), opcode, the AA/TC/RD/QR/CD flags, the question as echoed (case
//! included: 0x20), EDNS presence, version and DO, and each section as a
//! sorted multiset of (owner lower-cased, type, class, TTL, RDATA). Domain
//! names inside RDATA are compared lower-cased too: servers compress them
//! against the question, so their case follows the query's, an artefact of
//! compression rather than data.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::client::{Transport, connect_tcp, exchange_udp, read_tcp, send_tcp};
use crate::message::{Response, flag, lowercase_rdata_names, to_hex};
use crate::query::Query;
use crate::wire::{class_name, lowercase_wire, name_to_text, rcode_name, type_name};

/// How long to wait for each response: malformed queries are often dropped.
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(1500);

/// What a server did with a query, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A parsable response.
    Reply(Normalised),
    /// Nothing came back in time (or the TCP connection was closed).
    NoReply,
    /// Bytes came back that do not parse as a DNS message.
    Unparsable(String),
}

/// A response reduced to what is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    /// `rcode=… opcode=… flags=…` and the EDNS summary.
    pub header: String,
    /// The question section as echoed.
    pub question: Vec<String>,
    /// Sorted answer records.
    pub answer: Vec<String>,
    /// Sorted authority records.
    pub authority: Vec<String>,
    /// Sorted additional records (OPT excluded, summarised in `header`).
    pub additional: Vec<String>,
}

impl Normalised {
    /// Reduces a parsed response.
    pub fn from_response(response: &Response) -> Normalised {
        let mut flags = String::new();
        for (bit, name) in [
            (flag::QR, "qr"),
            (flag::AA, "aa"),
            (flag::TC, "tc"),
            (flag::RD, "rd"),
            (flag::CD, "cd"),
        ] {
            if response.has(bit) {
                flags.push(' ');
                flags.push_str(name);
            }
        }
        let edns = match &response.edns {
            None => "no-edns".to_string(),
            Some(e) => format!("edns v{} do={}", e.version, u8::from(e.dnssec_ok)),
        };
        let header = format!(
            "rcode={} opcode={} flags=[{}] {edns}",
            rcode_name(response.rcode),
            response.opcode,
            flags.trim()
        );
        let question = response
            .questions
            .iter()
            .map(|q| {
                format!(
                    "{} {} {}",
                    name_to_text(&q.name),
                    class_name(q.qclass),
                    type_name(q.qtype)
                )
            })
            .collect();
        let section = |records: &[crate::message::Rr]| {
            let mut lines: Vec<String> = records
                .iter()
                .map(|rr| {
                    let mut rr = rr.clone();
                    rr.owner = lowercase_wire(&rr.owner);
                    rr.rdata = lowercase_rdata_names(rr.rtype, &rr.rdata);
                    rr.to_text()
                })
                .collect();
            lines.sort();
            lines
        };
        Normalised {
            header,
            question,
            answer: section(&response.answer),
            authority: section(&response.authority),
            additional: section(&response.additional),
        }
    }

    /// Human-readable lines describing how `other` differs from `self`.
    pub fn diff(&self, other: &Normalised) -> Vec<String> {
        let mut lines = Vec::new();
        if self.header != other.header {
            lines.push(format!("header: {}  <>  {}", self.header, other.header));
        }
        if self.question != other.question {
            lines.push(format!(
                "question: {:?}  <>  {:?}",
                self.question, other.question
            ));
        }
        for (name, left, right) in [
            ("answer", &self.answer, &other.answer),
            ("authority", &self.authority, &other.authority),
            ("additional", &self.additional, &other.additional),
        ] {
            for line in left.iter().filter(|l| !right.contains(l)) {
                lines.push(format!("{name}: only left:  {line}"));
            }
            for line in right.iter().filter(|l| !left.contains(l)) {
                lines.push(format!("{name}: only right: {line}"));
            }
            if lines.is_empty() && left != right {
                lines.push(format!("{name}: same records, different multiplicity"));
            }
        }
        lines
    }
}

impl Outcome {
    fn describe(&self) -> String {
        match self {
            Outcome::Reply(n) => n.header.clone(),
            Outcome::NoReply => "no reply".into(),
            Outcome::Unparsable(e) => format!("unparsable reply: {e}"),
        }
    }

    fn diff(&self, other: &Outcome) -> Vec<String> {
        match (self, other) {
            (Outcome::Reply(a), Outcome::Reply(b)) => a.diff(b),
            (a, b) if a == b => Vec::new(),
            (a, b) => vec![format!("{}  <>  {}", a.describe(), b.describe())],
        }
    }
}

/// Sends `query` to `server` and normalises what comes back.
pub fn outcome(server: SocketAddr, query: &Query) -> Outcome {
    let wire = query.to_wire();
    let reply = match query.transport {
        Transport::Udp => exchange_udp(server, &wire, DIFF_TIMEOUT),
        Transport::Tcp => connect_tcp(server).and_then(|mut stream| {
            stream.set_read_timeout(Some(DIFF_TIMEOUT))?;
            send_tcp(&mut stream, &wire)?;
            read_tcp(&mut stream)
        }),
    };
    match reply {
        Err(_) => Outcome::NoReply,
        Ok(bytes) => match Response::parse(&bytes) {
            Ok(response) => Outcome::Reply(Normalised::from_response(&response)),
            Err(e) => Outcome::Unparsable(format!("{e}: {}", to_hex(&bytes))),
        },
    }
}

/// One query on which the servers disagreed.
#[derive(Debug, Clone)]
pub struct Difference {
    /// The query (file:line, text, variant).
    pub query: String,
    /// What differs, one line each.
    pub details: Vec<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.query)?;
        for line in &self.details {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// Sends every query to both servers and lists where they differ.
pub fn compare(left: SocketAddr, right: SocketAddr, queries: &[Query]) -> Vec<Difference> {
    queries
        .iter()
        .filter_map(|query| {
            let details = outcome(left, query).diff(&outcome(right, query));
            (!details.is_empty()).then(|| Difference {
                query: query.label.clone(),
                details,
            })
        })
        .collect()
}

/// Lists the queries on which `subject` matches none of `oracles` (where the
/// oracles disagree, matching any one of them is correct); the details
/// show the difference against each oracle in turn. An answer that equals
/// an oracle's except for the NS RRset (and its addresses) that the oracle
/// added to a positive answer counts as a match: see
/// [`left_only_adds_authority_ns`].
pub fn compare_with_oracles(
    subject: SocketAddr,
    oracles: &[SocketAddr],
    queries: &[Query],
) -> Vec<Difference> {
    let mut differences = Vec::new();
    for query in queries {
        let mine = outcome(subject, query);
        let mut details = Vec::new();
        for (index, oracle) in oracles.iter().enumerate() {
            let diff = outcome(*oracle, query).diff(&mine);
            if diff.is_empty() || only_authority_ns_added(&diff) {
                details.clear();
                break;
            }
            details.extend(diff.into_iter().map(|d| format!("vs oracle {index}: {d}")));
        }
        if !details.is_empty() {
            differences.push(Difference {
                query: query.label.clone(),
                details,
            });
        }
    }
    differences
}

/// All differences as one printable block.
pub fn report(differences: &[Difference]) -> String {
    let mut text = format!("{} differing queries\n", differences.len());
    for difference in differences {
        text.push_str(&difference.to_string());
    }
    text
}

/// Whether the only difference is that the left server added the zone's NS
/// RRset to the authority section (and its addresses to the additional
/// section) of an otherwise identical answer: NSD does, Knot does not, and
/// RFC 1034 §4.3.2 and RFC 2181 §6.1 allow both.
pub fn left_only_adds_authority_ns(difference: &Difference) -> bool {
    only_authority_ns_added(&difference.details)
}

fn only_authority_ns_added(details: &[String]) -> bool {
    // An RRSIG covering NS prints as `RRSIG \# LEN 0002…`.
    let covers_ns = |line: &str| {
        line.split_once(" IN RRSIG \\# ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .is_some_and(|hex| hex.starts_with("0002"))
    };
    let has_ns = details
        .iter()
        .any(|line| line.starts_with("authority: only left:") && line.contains(" IN NS "));
    has_ns
        && details.iter().all(|line| {
            (line.starts_with("authority: only left:")
                && (line.contains(" IN NS ") || covers_ns(line)))
                || line.starts_with("additional: only left:")
        })
}
