//! A single TOML or JSON value of any scalar type, kept as written.
//!
//! The policy keys reach serde through `#[serde(flatten)]`, where a type
//! error loses the key's name. Reading them as `Scalar` always succeeds for
//! a single value; validation then reports a wrong type with the key and
//! zone it belongs to.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::units::Quantity;

/// One value: integer, float, string or boolean.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Text(String),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// A duration or size: a non-negative integer or a string with a unit.
    pub fn quantity(&self) -> Result<Quantity, String> {
        match self {
            Scalar::Integer(n) => u64::try_from(*n)
                .map(Quantity::Integer)
                .map_err(|_| format!("{self} is negative")),
            Scalar::Text(text) => Ok(Quantity::Text(text.clone())),
            _ => Err(format!("{self} is not a string with a unit or an integer")),
        }
    }

    /// A number, integer or not.
    pub fn number(&self) -> Result<f64, String> {
        match self {
            Scalar::Integer(n) => Ok(*n as f64),
            Scalar::Float(x) => Ok(*x),
            _ => Err(format!("{self} is not a number")),
        }
    }

    /// A non-negative integer.
    pub fn count(&self) -> Result<u64, String> {
        match self {
            Scalar::Integer(n) => u64::try_from(*n).map_err(|_| format!("{self} is negative")),
            _ => Err(format!("{self} is not an integer")),
        }
    }

    /// A string.
    pub fn text(&self) -> Result<&str, String> {
        match self {
            Scalar::Text(text) => Ok(text),
            _ => Err(format!("{self} is not a string")),
        }
    }
}

impl From<&str> for Scalar {
    fn from(text: &str) -> Scalar {
        Scalar::Text(text.to_owned())
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Integer(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(text) => write!(f, "\"{text}\""),
            Scalar::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value (number, string or boolean)")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
        Ok(Scalar::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
        i64::try_from(value)
            .map(Scalar::Integer)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(value.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(value))
    }
}
