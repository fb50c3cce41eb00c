//! Durations and byte sizes as operators write them: `"10s"`, `"4w"`,
//! `"64MiB"`, or a bare integer (seconds, bytes).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A duration or a size as written in the file, before its unit is read.
///
/// Kept raw in the parsed file so that a bad value is reported with the key
/// and zone it belongs to rather than as a bare serde error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Quantity {
    /// A bare integer: seconds for durations, bytes for sizes.
    Integer(u64),
    /// A number followed by a unit.
    Text(String),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Integer(n) => write!(f, "{n}"),
            Quantity::Text(text) => write!(f, "\"{text}\""),
        }
    }
}

impl From<&str> for Quantity {
    fn from(text: &str) -> Quantity {
        Quantity::Text(text.to_owned())
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Quantity, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string with a unit (\"30s\", \"64MiB\") or a non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Quantity, E> {
        Ok(Quantity::Integer(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Quantity, E> {
        u64::try_from(value)
            .map(Quantity::Integer)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Quantity, E> {
        Ok(Quantity::Text(value.to_owned()))
    }
}

const DURATION_UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("m", 60),
    ("h", 3600),
    ("d", 86_400),
    ("w", 604_800),
];

const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// Reads a duration: integer seconds, or a number with one of `s m h d w`.
pub fn parse_duration(value: &Quantity) -> Result<Duration, String> {
    let seconds = scaled(
        value,
        DURATION_UNITS,
        "a duration such as \"30s\", \"15m\", \"1d\"",
    )?;
    Ok(Duration::from_secs(seconds))
}

/// Reads a byte size: integer bytes, or a number with one of `B KiB MiB GiB TiB`.
pub fn parse_size(value: &Quantity) -> Result<u64, String> {
    scaled(
        value,
        SIZE_UNITS,
        "a size such as \"64MiB\" or a number of bytes",
    )
}

fn scaled(value: &Quantity, units: &[(&str, u64)], expected: &str) -> Result<u64, String> {
    let text = match value {
        Quantity::Integer(n) => return Ok(*n),
        Quantity::Text(text) => text.trim(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || format!("{value} is not {expected}");
    if digits.is_empty() {
        return Err(bad());
    }
    let number: u64 = digits.parse().map_err(|_| bad())?;
    let factor = if unit.is_empty() {
        1
    } else {
        units
            .iter()
            .find(|(name, _)| *name == unit.trim_start())
            .map(|(_, factor)| *factor)
            .ok_or_else(bad)?
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{value} is too large"))
}

/// Prints a duration the way the config file writes it, in the largest
/// unit that divides it.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (name, factor) = DURATION_UNITS
        .iter()
        .rev()
        .find(|(_, factor)| seconds != 0 && seconds.is_multiple_of(*factor))
        .copied()
        .unwrap_or(("s", 1));
    format!("{}{name}", seconds / factor)
}

/// Prints a size in the largest binary unit that divides it.
pub fn format_size(bytes: u64) -> String {
    let (name, factor) = SIZE_UNITS
        .iter()
        .rev()
        .find(|(_, factor)| bytes != 0 && bytes.is_multiple_of(*factor))
        .copied()
        .unwrap_or(("B", 1));
    if name == "B" {
        bytes.to_string()
    } else {
        format!("{}{name}", bytes / factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_every_unit_and_bare_seconds() {
        let cases = [
            ("10s", 10),
            ("1m", 60),
            ("2h", 7200),
            ("1d", 86_400),
            ("4w", 2_419_200),
            ("45", 45),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(&Quantity::from(text)),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        assert_eq!(
            parse_duration(&Quantity::Integer(90)),
            Ok(Duration::from_secs(90))
        );
    }

    #[test]
    fn bad_durations_are_rejected_with_the_value() {
        for text in [
            "",
            "s",
            "10x",
            "1.5h",
            "-1s",
            "10 minutes",
            "99999999999999999999w",
        ] {
            let error = parse_duration(&Quantity::from(text)).expect_err(text);
            assert!(error.contains(text), "{error}");
        }
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(parse_size(&Quantity::from("10KiB")), Ok(10_240));
        assert_eq!(parse_size(&Quantity::from("64MiB")), Ok(64 << 20));
        assert_eq!(parse_size(&Quantity::from("1GiB")), Ok(1 << 30));
        assert_eq!(parse_size(&Quantity::from("512B")), Ok(512));
        assert_eq!(parse_size(&Quantity::Integer(77)), Ok(77));
        assert!(parse_size(&Quantity::from("1GB")).is_err());
        assert!(parse_size(&Quantity::from("1gib")).is_err());
        assert!(parse_size(&Quantity::from("99999999TiB")).is_err());
    }

    #[test]
    fn formatting_round_trips() {
        for seconds in [1, 59, 60, 3600, 86_400, 604_800, 90, 0] {
            let text = format_duration(Duration::from_secs(seconds));
            assert_eq!(
                parse_duration(&Quantity::Text(text.clone())),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for bytes in [0, 1, 1024, 10_240, 1 << 30, 1500] {
            let text = format_size(bytes);
            assert_eq!(
                parse_size(&Quantity::Text(text.clone())),
                Ok(bytes),
                "{text}"
            );
        }
    }
}
