//! The authoritative answering algorithm: (snapshot, query) -> response.
