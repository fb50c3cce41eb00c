//! Serial number arithmetic (RFC 1982) and zone versions with an epoch.
//!
//! Every comparison of SOA serials in understudy goes through [`Serial`].
//! A [`ZoneVersion`] puts the per-zone *epoch* in front of the serial: the
//! epoch only rises when an operator forces a retransfer (after a primary
//! reset its serial), so a lower serial in a higher epoch is newer.

use std::cmp::Ordering;
use std::fmt;

/// An SOA serial compared with RFC 1982 sequence space arithmetic (SERIAL_BITS = 32).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Serial(pub u32);

impl Serial {
    /// RFC 1982 §3.2: the largest increment that keeps the result greater.
    pub const MAX_INCREMENT: u32 = (1 << 31) - 1;

    /// RFC 1982 §3.2: `Some(order)`, or `None` for the pairs 2^31 apart whose
    /// order is undefined.
    pub fn compare(self, other: Serial) -> Option<Ordering> {
        let (a, b) = (self.0, other.0);
        if a == b {
            return Some(Ordering::Equal);
        }
        let forward = b.wrapping_sub(a);
        match forward.cmp(&(1 << 31)) {
            Ordering::Less => Some(Ordering::Less),
            Ordering::Greater => Some(Ordering::Greater),
            Ordering::Equal => None,
        }
    }

    /// Whether `self` is strictly newer than `other`; undefined pairs are not.
    pub fn is_newer_than(self, other: Serial) -> bool {
        self.compare(other) == Some(Ordering::Greater)
    }
}

/// RFC 1982 §3.1: `serial + n`, for `n` up to [`Serial::MAX_INCREMENT`].
impl std::ops::Add<u32> for Serial {
    type Output = Serial;
    fn add(self, n: u32) -> Serial {
        debug_assert!(n <= Serial::MAX_INCREMENT);
        Serial(self.0.wrapping_add(n))
    }
}

impl PartialOrd for Serial {
    fn partial_cmp(&self, other: &Serial) -> Option<Ordering> {
        self.compare(*other)
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A zone's version: the epoch, compared first, then the serial (RFC 1982).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ZoneVersion {
    /// Raised by each operator-forced retransfer; starts at 0.
    pub epoch: u32,
    /// The SOA serial.
    pub serial: Serial,
}

impl ZoneVersion {
    /// A version in `epoch` at `serial`.
    pub fn new(epoch: u32, serial: u32) -> ZoneVersion {
        ZoneVersion {
            epoch,
            serial: Serial(serial),
        }
    }

    /// Whether `self` is strictly newer: a higher epoch, or the same epoch
    /// and a serial newer by RFC 1982.
    pub fn is_newer_than(self, other: ZoneVersion) -> bool {
        match self.epoch.cmp(&other.epoch) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => self.serial.is_newer_than(other.serial),
        }
    }
}

impl PartialOrd for ZoneVersion {
    fn partial_cmp(&self, other: &ZoneVersion) -> Option<Ordering> {
        match self.epoch.cmp(&other.epoch) {
            Ordering::Equal => self.serial.compare(other.serial),
            order => Some(order),
        }
    }
}

impl fmt::Display for ZoneVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.epoch, self.serial)
    }
}

impl fmt::Debug for ZoneVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1982 §5.2 examples with SERIAL_BITS = 2 scaled up: wrap-around is newer.
    #[test]
    fn rfc1982_section_3_2_comparison() {
        assert!(Serial(1).is_newer_than(Serial(0)));
        assert!(Serial(0).is_newer_than(Serial(u32::MAX)));
        assert!(Serial(5).is_newer_than(Serial(u32::MAX - 5)));
        assert!(!Serial(u32::MAX).is_newer_than(Serial(0)));
        assert_eq!(Serial(0).compare(Serial(1 << 31)), None);
        assert!(!Serial(0).is_newer_than(Serial(1 << 31)));
        assert!(!Serial(1 << 31).is_newer_than(Serial(0)));
        assert_eq!(Serial(7).compare(Serial(7)), Some(Ordering::Equal));
    }

    #[test]
    fn rfc1982_section_3_1_addition_wraps() {
        assert_eq!(Serial(u32::MAX) + 1, Serial(0));
        let far = Serial(u32::MAX) + Serial::MAX_INCREMENT;
        assert!(far.is_newer_than(Serial(u32::MAX)));
    }

    #[test]
    fn epoch_is_compared_before_serial() {
        assert!(ZoneVersion::new(1, 1).is_newer_than(ZoneVersion::new(0, 2_000_000_000)));
        assert!(!ZoneVersion::new(0, 5).is_newer_than(ZoneVersion::new(1, 1)));
        assert!(ZoneVersion::new(2, 10).is_newer_than(ZoneVersion::new(2, 9)));
    }
}
