//! TSIG (RFC 8945): signing and verifying messages and message streams.
