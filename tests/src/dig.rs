//! The real `dig` and `kdig` clients, their output parsed.

use std::net::SocketAddr;
use std::process::Command;

use crate::env::binary;
use crate::process::run;

/// What `dig` or `kdig` printed, parsed.
#[derive(Debug, Clone, Default)]
pub struct DigAnswer {
    /// Whether the command exited successfully.
    pub success: bool,
    /// `NOERROR`, `NXDOMAIN`, … (empty when no header was printed).
    pub rcode: String,
    /// `QUERY`, `NOTIFY`, `UPDATE`, …
    pub opcode: String,
    /// Header flags, lower case (`qr`, `aa`, `tc`, …).
    pub flags: Vec<String>,
    /// EDNS version when an OPT record came back.
    pub edns_version: Option<u8>,
    /// EDNS flags (`do`).
    pub edns_flags: Vec<String>,
    /// The NSID line's content, when present.
    pub nsid: Option<String>,
    /// Answer records, one normalised line each (AXFR output lands here).
    pub answer: Vec<String>,
    /// Authority records.
    pub authority: Vec<String>,
    /// Additional records (OPT excluded).
    pub additional: Vec<String>,
    /// The complete output.
    pub text: String,
}

/// One record line split into its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine {
    /// Owner name as printed.
    pub owner: String,
    /// TTL.
    pub ttl: u32,
    /// Class mnemonic.
    pub class: String,
    /// Type mnemonic.
    pub rtype: String,
    /// RDATA as printed, whitespace normalised.
    pub rdata: String,
}

impl RecordLine {
    /// Splits a normalised record line.
    pub fn parse(line: &str) -> Option<RecordLine> {
        let mut fields = line.split_whitespace();
        let owner = fields.next()?.to_string();
        let ttl = fields.next()?.parse().ok()?;
        let class = fields.next()?.to_string();
        let rtype = fields.next()?.to_string();
        let rdata = fields.collect::<Vec<_>>().join(" ");
        Some(RecordLine {
            owner,
            ttl,
            class,
            rtype,
            rdata,
        })
    }
}

impl DigAnswer {
    /// Whether a header flag was set.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// Parsed records of a section (`answer`, `authority`, `additional`).
    pub fn records(&self, section: &str) -> Vec<RecordLine> {
        let lines = match section {
            "answer" => &self.answer,
            "authority" => &self.authority,
            "additional" => &self.additional,
            other => panic!("unknown section {other}"),
        };
        lines.iter().filter_map(|l| RecordLine::parse(l)).collect()
    }

    /// Records of `rtype` in the answer section.
    pub fn answers_of(&self, rtype: &str) -> Vec<RecordLine> {
        self.records("answer")
            .into_iter()
            .filter(|r| r.rtype.eq_ignore_ascii_case(rtype))
            .collect()
    }

    /// The serial of the first SOA in the answer section.
    pub fn soa_serial(&self) -> Option<u32> {
        let soa = self.answers_of("SOA").into_iter().next()?;
        soa.rdata.split_whitespace().nth(2)?.parse().ok()
    }

    /// Parses the output of either client.
    pub fn parse(success: bool, text: &str) -> DigAnswer {
        let mut answer = DigAnswer {
            success,
            text: text.to_string(),
            ..DigAnswer::default()
        };
        let mut section = "answer";
        for raw in text.lines() {
            let line = raw.trim();
            let lower = line.to_ascii_lowercase();
            if line.is_empty() {
                continue;
            }
            if !line.starts_with(';') {
                let record = line.split_whitespace().collect::<Vec<_>>().join(" ");
                match section {
                    "authority" => answer.authority.push(record),
                    "additional" => answer.additional.push(record),
                    "answer" => answer.answer.push(record),
                    _ => {}
                }
                continue;
            }
            if lower.contains("->>header<<-") {
                answer.opcode = field_after(line, "opcode:");
                answer.rcode = field_after(line, "status:");
            } else if lower.starts_with(";; flags:") {
                let flags = line[9..].split(';').next().unwrap_or_default();
                answer.flags = flags.split_whitespace().map(str::to_lowercase).collect();
            } else if let Some(version) = edns_version(&lower) {
                answer.edns_version = Some(version);
                answer.edns_flags = edns_flags(&lower);
            } else if lower.starts_with("; nsid:") || lower.starts_with(";; nsid:") {
                let value = line.split_once(':').map_or("", |(_, v)| v.trim());
                answer.nsid = Some(value.to_string());
            } else if lower.contains("section:") {
                section = if lower.contains("answer") {
                    "answer"
                } else if lower.contains("authority") {
                    "authority"
                } else if lower.contains("additional") {
                    "additional"
                } else {
                    "other"
                };
            }
        }
        answer
    }
}

fn field_after(line: &str, key: &str) -> String {
    let Some(index) = line.find(key) else {
        return String::new();
    };
    line[index + key.len()..]
        .trim_start()
        .split([',', ';', ' '])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn edns_version(lower: &str) -> Option<u8> {
    let rest = lower
        .strip_prefix("; edns: version:")
        .or_else(|| lower.strip_prefix(";; version:"))?;
    rest.trim_start()
        .split([',', ';', ' '])
        .next()?
        .parse()
        .ok()
}

fn edns_flags(lower: &str) -> Vec<String> {
    let Some(index) = lower.find("flags:") else {
        return Vec::new();
    };
    let rest = lower[index + 6..].split(';').next().unwrap_or_default();
    rest.split_whitespace()
        .take_while(|w| !w.contains(':'))
        .map(|w| w.trim_end_matches(',').to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Runs `dig @server -p PORT +norec +time=2 +tries=1 ARGS…`.
pub fn dig(server: SocketAddr, args: &[&str]) -> DigAnswer {
    let mut command = Command::new(binary("dig"));
    command
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(["+norec", "+time=2", "+tries=1"])
        .args(args);
    let (ok, text) = run(command);
    DigAnswer::parse(ok, &text)
}

/// Runs `kdig @server -p PORT +norec +time=2 +retry=0 ARGS…`.
pub fn kdig(server: SocketAddr, args: &[&str]) -> DigAnswer {
    let mut command = Command::new(binary("kdig"));
    command
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(["+norec", "+time=2", "+retry=0"])
        .args(args);
    let (ok, text) = run(command);
    DigAnswer::parse(ok, &text)
}
