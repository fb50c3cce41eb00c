//! Real QUIC tests of the peer protocol.
