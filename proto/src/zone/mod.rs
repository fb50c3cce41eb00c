//! Zone snapshots: the canonical, immutable, archived form of one zone at one serial.
