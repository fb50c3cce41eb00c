//! The node configuration: TOML, `version = 1`, unknown keys rejected.
