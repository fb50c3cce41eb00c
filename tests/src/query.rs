//! Query lists: the `tests/zones/*.queries` files.
//!
//! One query per line, `#` starts a comment:
//!
//! ```text
//! NAME TYPE[,TYPE…] [OPTION…]
//! hex HEXBYTES [tcp]                  # a raw (possibly malformed) message
//! @variants OPTIONS | OPTIONS | …      # every later query line is sent once
//!                                     # per variant, its own options last
//! ```
//!
//! Options: `do`, `cd`, `rd`, `ad`, `noedns`, `edns=SIZE`, `ednsver=N`,
//! `nsid`, `tcp`, `udp`, `class=CH`, `opcode=N|status|notify|update`,
//! `id=N`. Without options a query is IN, opcode QUERY, EDNS 1232, UDP.

use std::fmt;

use crate::client::Transport;
use crate::message::{EdnsQuery, QueryMessage, flag, from_hex};
use crate::wire::{class_code, type_code};

/// What goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A well-formed query.
    Message(QueryMessage),
    /// Bytes as given (malformed packets, odd headers).
    Raw(Vec<u8>),
}

/// One query of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// What is sent.
    pub payload: Payload,
    /// How.
    pub transport: Transport,
    /// Where it came from (`file:line`) and its options, for reports.
    pub label: String,
}

impl Query {
    /// A query from one line of the list syntax.
    pub fn parse(line: &str) -> Result<Query, String> {
        Query::parse_with(line, "", line)
    }

    fn parse_with(line: &str, variant: &str, label: &str) -> Result<Query, String> {
        let mut words = line.split_whitespace();
        let first = words.next().ok_or("empty query line")?;
        if first == "hex" {
            let rest: Vec<&str> = words.collect();
            let transport = if rest.contains(&"tcp") {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            let hex: String = rest.iter().filter(|w| **w != "tcp").copied().collect();
            let bytes = from_hex(&hex).map_err(|e| e.to_string())?;
            return Ok(Query {
                payload: Payload::Raw(bytes),
                transport,
                label: label.to_string(),
            });
        }
        let qtype_text = words.next().ok_or("missing query type")?;
        let qtype = type_code(qtype_text).ok_or_else(|| format!("unknown type {qtype_text}"))?;
        let mut message = QueryMessage::new(first, qtype);
        let mut transport = Transport::Udp;
        for option in variant.split_whitespace().chain(words) {
            apply_option(&mut message, &mut transport, option)?;
        }
        Ok(Query {
            payload: Payload::Message(message),
            transport,
            label: label.to_string(),
        })
    }

    /// The bytes to send.
    pub fn to_wire(&self) -> Vec<u8> {
        match &self.payload {
            Payload::Raw(bytes) => bytes.clone(),
            Payload::Message(message) => message
                .to_wire()
                .unwrap_or_else(|e| panic!("query {} cannot be encoded: {e}", self.label)),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

fn edns(message: &mut QueryMessage) -> &mut EdnsQuery {
    message.edns.get_or_insert(EdnsQuery {
        udp_size: 1232,
        version: 0,
        dnssec_ok: false,
        nsid: false,
    })
}

fn apply_option(
    message: &mut QueryMessage,
    transport: &mut Transport,
    option: &str,
) -> Result<(), String> {
    let (key, value) = option.split_once('=').unwrap_or((option, ""));
    let number = || -> Result<u16, String> {
        value
            .parse()
            .map_err(|_| format!("option {option}: not a number"))
    };
    match key {
        "do" => edns(message).dnssec_ok = true,
        "cd" => message.flags |= flag::CD,
        "rd" => message.flags |= flag::RD,
        "ad" => message.flags |= flag::AD,
        "noedns" => message.edns = None,
        "edns" => edns(message).udp_size = number()?,
        "ednsver" => edns(message).version = number()? as u8,
        "nsid" => edns(message).nsid = true,
        "tcp" => *transport = Transport::Tcp,
        "udp" => *transport = Transport::Udp,
        "id" => message.id = number()?,
        "class" => {
            message.qclass = class_code(value).ok_or_else(|| format!("unknown class {value}"))?;
        }
        "opcode" => {
            message.opcode = match value {
                "query" => 0,
                "iquery" => 1,
                "status" => 2,
                "notify" => 4,
                "update" => 5,
                other => other
                    .parse()
                    .map_err(|_| format!("unknown opcode {other}"))?,
            };
        }
        _ => return Err(format!("unknown option {option}")),
    }
    Ok(())
}

/// Reads a query list; panics with the file and line of a bad entry.
pub fn load(path: &std::path::Path) -> Vec<Query> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read query list {}: {e}", path.display()));
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    parse_list(&text, &file).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses the text of a query list; `file` names it in labels and errors.
pub fn parse_list(text: &str, file: &str) -> Result<Vec<Query>, String> {
    let mut variants = vec![String::new()];
    let mut queries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        let at = format!("{file}:{}", index + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(list) = line.strip_prefix("@variants") {
            variants = list.split('|').map(|v| v.trim().to_string()).collect();
            continue;
        }
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (types, options) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let type_list: Vec<&str> = if name == "hex" {
            vec![rest]
        } else {
            types.split(',').collect()
        };
        let variant_list: &[String] = if name == "hex" {
            &[String::new()]
        } else {
            &variants
        };
        for qtype in &type_list {
            for variant in variant_list {
                let one = if name == "hex" {
                    line.to_string()
                } else {
                    format!("{name} {qtype} {options}")
                };
                let label = format!("{at}: {} [{variant}]", one.trim());
                let query =
                    Query::parse_with(&one, variant, &label).map_err(|e| format!("{at}: {e}"))?;
                queries.push(query);
            }
        }
    }
    Ok(queries)
}
