//! Why bytes are not a valid cluster message.

/// Why a request, response head or payload could not be read, or a head is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes end before the message does.
    #[error("message truncated")]
    Truncated,
    /// Bytes are left after the message.
    #[error("{0} bytes after the end of the message")]
    TrailingBytes(usize),
    /// A request that does not start with [`super::MAGIC`].
    #[error("not a cluster request")]
    BadMagic,
    /// A version outside [`super::LOWEST_VERSION`]..=[`super::HIGHEST_VERSION`].
    #[error("protocol version {0} not supported")]
    UnsupportedVersion(u16),
    /// A request or response kind this version does not define.
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    /// A zone or owner name that is not a valid uncompressed name.
    #[error("malformed name")]
    BadName,
    /// A flag byte other than 0 or 1.
    #[error("flag byte {0} is neither 0 nor 1")]
    BadFlag(u8),
    /// A request longer than [`super::MAX_REQUEST_LEN`].
    #[error("request of {0} bytes is too long")]
    RequestTooLong(usize),
    /// A head length outside what any head needs.
    #[error("response head length {0} out of bounds")]
    BadHeadLength(usize),
    /// A payload longer than the client's [`super::Limits`] allow.
    #[error("{what} of {length} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// The length announced.
        length: u64,
        /// The configured bound.
        limit: u64,
    },
}
