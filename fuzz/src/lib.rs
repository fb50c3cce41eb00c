//! The invariant checks the fuzz targets run, shared with the tests that
//! replay the committed corpora (`proto/tests/fuzz_corpus.rs`).

#[path = "../../proto/tests/fuzz_support/mod.rs"]
pub mod checks;
