//! The per-zone refresh machine: SOA timers, NOTIFY, IXFR, AXFR, expiry.
