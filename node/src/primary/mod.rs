//! Talking to primaries: SOA queries, IXFR and AXFR over TCP, NOTIFY in.

pub mod transport;
