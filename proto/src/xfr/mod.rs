//! Zone transfers: AXFR and IXFR in and out, diffs and the journal.
