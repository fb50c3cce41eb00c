//! Presentation format: zone files in, records out, and records as text.
