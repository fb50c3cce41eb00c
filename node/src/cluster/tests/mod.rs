//! Tests of the cluster transport on real sockets (loopback), with
//! certificates made by `understudy cert`'s own code.

mod cert;
mod config;
mod fixtures;
mod gossip;
mod quic;
