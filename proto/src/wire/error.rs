//! Why a message could not be read or built.

use std::fmt;

use crate::name::NameError;
use crate::record::Rtype;

/// The four sections of a DNS message (RFC 1035 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// The question section.
    Question,
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

impl Section {
    /// Index of the section's count in the header (QDCOUNT first).
    pub(crate) fn index(self) -> usize {
        match self {
            Section::Question => 0,
            Section::Answer => 1,
            Section::Authority => 2,
            Section::Additional => 3,
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Question => "question",
            Section::Answer => "answer",
            Section::Authority => "authority",
            Section::Additional => "additional",
        })
    }
}

/// Why bytes are not a well-formed DNS message. Every variant maps to FORMERR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer than the 12 octets of a header.
    #[error("message shorter than a DNS header")]
    ShortHeader,
    /// A section ended before its header count was reached.
    #[error("{0} section truncated")]
    Truncated(Section),
    /// An owner name or a question name is invalid.
    #[error("bad name in {section} section: {source}")]
    Name {
        /// Where the name was.
        section: Section,
        /// What is wrong with it.
        source: NameError,
    },
    /// RDATA that does not fit its type's layout.
    #[error("malformed {rtype} RDATA in {section} section")]
    BadRdata {
        /// Where the record was.
        section: Section,
        /// The record's type.
        rtype: Rtype,
    },
    /// An OPT record outside the additional section, not owned by the root,
    /// or more than one (RFC 6891 §6.1.1).
    #[error("misplaced or repeated OPT record")]
    BadOpt,
    /// A TSIG record that is not the last record of the additional section,
    /// or more than one (RFC 8945 §5.1).
    #[error("TSIG record is not the last record")]
    MisplacedTsig,
    /// Octets after the last record the header announced.
    #[error("{0} octets after the last record")]
    TrailingBytes(usize),
}

/// Why a record or question could not be added to a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The message would exceed its size limit; nothing was added, so the
    /// caller can finish this message and start the next one.
    #[error("message full")]
    Full,
    /// Sections must be written in order: question, answer, authority, additional.
    #[error("cannot add to the {attempted} section after the {current} section")]
    SectionOrder {
        /// The section being written.
        current: Section,
        /// The earlier section asked for.
        attempted: Section,
    },
    /// A section would hold more than 65535 entries.
    #[error("more than 65535 entries in the {0} section")]
    TooManyEntries(Section),
    /// RDATA longer than the 65535 octets RDLENGTH can express.
    #[error("RDATA longer than 65535 octets")]
    RdataTooLong,
}
