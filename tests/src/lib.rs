//! Harness for the end-to-end tests: starts real primaries and the daemon.
