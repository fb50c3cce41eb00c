//! `understudy`: the secondary authoritative DNS daemon and its tools.

mod config;
mod control;
mod dns;
mod keygen;
mod metrics;
mod primary;
mod server;
mod store;

fn main() {
    println!("understudy");
}
