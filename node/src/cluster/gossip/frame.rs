//! The authenticated gossip datagram (sans-IO).
//!
//! ```text
//!  0      3   4     5          5+c    6+c         6+c+s
//!  +------+---+-----+----------+------+-----------+
//!  | USG  | 1 | len | cluster  | len  | sender id |
//!  +------+---+-----+----------+------+-----------+
//!  | counter u64 | message u64 | index u8 | count u8 |
//!  +-------------+-------------+----------+----------+
//!  | chitchat bytes (a fragment of) ...  | HMAC-SHA256 (32) |
//!  +-------------------------------------+------------------+
//! ```
//!
//! Integers are big-endian. The MAC covers every byte before it, under
//! the cluster key. `counter` is unique per datagram and per sender: the
//! sender's wall clock in microseconds since the Unix epoch, bumped to stay
//! strictly increasing; a receiver refuses counters more than
//! [`MAX_SKEW`] away from its own clock (the window RFC 8945 gives TSIG),
//! and remembers the counters it accepted within that window to refuse
//! replays ([`super::replay`]). A chitchat message too large for one
//! datagram once framed travels as up to [`MAX_FRAGMENTS`] fragments that
//! share `message` (the counter of fragment 0), each authenticated alone.

use std::time::Duration;

use ring::hmac;

use super::keys::GossipKeys;

/// The first bytes of every datagram.
pub const MAGIC: [u8; 3] = *b"USG";
/// Version of this layout.
pub const VERSION: u8 = 1;
/// Largest UDP payload over IPv4.
pub const MAX_DATAGRAM: usize = 65_507;
/// Most fragments of one message.
pub const MAX_FRAGMENTS: u8 = 4;
/// How far a datagram's counter may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(300);
/// Longest cluster name or node id on the wire.
pub const MAX_NAME_LEN: usize = 63;

const MAC_LEN: usize = 32;
/// Bytes after the two names: counter, message, index, count.
const FIXED_TAIL: usize = 8 + 8 + 1 + 1;

/// Who sent a datagram and where it sits in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The cluster's name.
    pub cluster: &'a str,
    /// The sender's node id.
    pub sender: &'a str,
    /// Unique per datagram of this sender (microseconds, increasing).
    pub counter: u64,
    /// The counter of the message's first fragment.
    pub message: u64,
    /// This fragment's position, from 0.
    pub index: u8,
    /// Fragments in the message, 1 to [`MAX_FRAGMENTS`].
    pub count: u8,
}

/// Why a datagram was dropped. Each is counted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not this layout: too short, wrong magic or version, bad lengths or
    /// fragment numbers.
    #[error("malformed")]
    Malformed,
    /// Well formed, but for another cluster.
    #[error("from another cluster")]
    ForeignCluster,
    /// The MAC matches none of the cluster keys.
    #[error("bad MAC")]
    BadMac,
    /// The counter is too far from this node's clock.
    #[error("outside the time window")]
    Stale,
    /// This sender's counter was seen before.
    #[error("replayed")]
    Replayed,
}

/// Bytes the header of `cluster` and `sender` takes, MAC included.
pub fn overhead(cluster: &str, sender: &str) -> usize {
    MAGIC.len() + 1 + 1 + cluster.len() + 1 + sender.len() + FIXED_TAIL + MAC_LEN
}

/// The datagram carrying `payload`, signed with the current key. Names
/// longer than [`MAX_NAME_LEN`] are the caller's bug: config validation
/// refuses them.
pub fn seal(keys: &GossipKeys, header: &Header<'_>, payload: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(overhead(header.cluster, header.sender) + payload.len());
    datagram.extend_from_slice(&MAGIC);
    datagram.push(VERSION);
    push_name(&mut datagram, header.cluster);
    push_name(&mut datagram, header.sender);
    datagram.extend_from_slice(&header.counter.to_be_bytes());
    datagram.extend_from_slice(&header.message.to_be_bytes());
    datagram.push(header.index);
    datagram.push(header.count);
    datagram.extend_from_slice(payload);
    let tag = hmac::sign(keys.signing(), &datagram);
    datagram.extend_from_slice(tag.as_ref());
    datagram
}

fn push_name(datagram: &mut Vec<u8>, name: &str) {
    let name = &name.as_bytes()[..name.len().min(MAX_NAME_LEN)];
    datagram.push(name.len() as u8);
    datagram.extend_from_slice(name);
}

/// Checks a datagram for `cluster`: layout, cluster, MAC under any key,
/// time window around `now_micros`. Replays are the caller's next check.
pub fn open<'a>(
    datagram: &'a [u8],
    cluster: &str,
    keys: &GossipKeys,
    now_micros: u64,
) -> Result<(Header<'a>, &'a [u8]), Rejection> {
    let (signed, tag) = datagram
        .split_last_chunk::<MAC_LEN>()
        .ok_or(Rejection::Malformed)?;
    let mut reader = Reader { rest: signed };
    if reader.take(MAGIC.len())? != MAGIC || reader.byte()? != VERSION {
        return Err(Rejection::Malformed);
    }
    let their_cluster = reader.name()?;
    let sender = reader.name()?;
    let counter = reader.u64()?;
    let message = reader.u64()?;
    let index = reader.byte()?;
    let count = reader.byte()?;
    let payload = reader.rest;
    let fragments_valid = (1..=MAX_FRAGMENTS).contains(&count) && index < count;
    let first_is_message = index != 0 || message == counter;
    if sender.is_empty() || !fragments_valid || !first_is_message || message > counter {
        return Err(Rejection::Malformed);
    }
    if their_cluster != cluster {
        return Err(Rejection::ForeignCluster);
    }
    let authentic = keys
        .verifying()
        .iter()
        .any(|key| hmac::verify(key, signed, tag).is_ok());
    if !authentic {
        return Err(Rejection::BadMac);
    }
    let skew = u64::try_from(MAX_SKEW.as_micros()).unwrap_or(u64::MAX);
    if counter.abs_diff(now_micros) > skew {
        return Err(Rejection::Stale);
    }
    let header = Header {
        cluster: their_cluster,
        sender,
        counter,
        message,
        index,
        count,
    };
    Ok((header, payload))
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], Rejection> {
        let (taken, rest) = self
            .rest
            .split_at_checked(len)
            .ok_or(Rejection::Malformed)?;
        self.rest = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Rejection> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, Rejection> {
        let bytes = self.take(8)?;
        let bytes = <[u8; 8]>::try_from(bytes).map_err(|_| Rejection::Malformed)?;
        Ok(u64::from_be_bytes(bytes))
    }

    fn name(&mut self) -> Result<&'a str, Rejection> {
        let len = usize::from(self.byte()?);
        if len > MAX_NAME_LEN {
            return Err(Rejection::Malformed);
        }
        std::str::from_utf8(self.take(len)?).map_err(|_| Rejection::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_750_000_000_000_000;

    fn keys(secret: u8) -> GossipKeys {
        GossipKeys::from_secrets(&[vec![secret; 32]]).unwrap()
    }

    fn header(counter: u64) -> Header<'static> {
        Header {
            cluster: "prod",
            sender: "ams-1",
            counter,
            message: counter,
            index: 0,
            count: 1,
        }
    }

    #[test]
    fn gossip_frame_round_trips_under_any_accepted_key() {
        let datagram = seal(&keys(1), &header(NOW), b"chitchat bytes");
        assert_eq!(datagram.len(), overhead("prod", "ams-1") + 14);
        let (opened, payload) = open(&datagram, "prod", &keys(1), NOW + 5).unwrap();
        assert_eq!((opened, payload), (header(NOW), &b"chitchat bytes"[..]));
        // During a rotation the receiver holds the old key second.
        let rotating = GossipKeys::from_secrets(&[vec![2; 32], vec![1; 32]]).unwrap();
        assert!(open(&datagram, "prod", &rotating, NOW).is_ok());
    }

    #[test]
    fn gossip_frame_rejections_are_told_apart() {
        let good = seal(&keys(1), &header(NOW), b"payload");
        assert_eq!(open(&good, "prod", &keys(9), NOW), Err(Rejection::BadMac));
        assert_eq!(
            open(&good, "staging", &keys(1), NOW),
            Err(Rejection::ForeignCluster)
        );
        let late = NOW + 301_000_000;
        assert_eq!(open(&good, "prod", &keys(1), late), Err(Rejection::Stale));
        let early = NOW - 301_000_000;
        assert_eq!(open(&good, "prod", &keys(1), early), Err(Rejection::Stale));
        for position in [0, 3, 5, 12, 20, good.len() - 1] {
            let mut flipped = good.clone();
            flipped[position] ^= 0x01;
            let result = open(&flipped, "prod", &keys(1), NOW);
            assert!(
                matches!(
                    result,
                    Err(Rejection::Malformed | Rejection::BadMac | Rejection::ForeignCluster)
                ),
                "byte {position}: {result:?}"
            );
        }
    }

    #[test]
    fn gossip_frame_never_panics_on_truncation_or_bad_fragment_numbers() {
        let good = seal(&keys(1), &header(NOW), b"payload");
        for len in 0..good.len() {
            assert!(open(&good[..len], "prod", &keys(1), NOW).is_err(), "{len}");
        }
        let bad_fragments = [
            (0, 0, NOW),
            (1, 1, NOW),
            (0, 5, NOW),
            (0, 1, NOW - 1),
            (1, 2, NOW + 1),
        ];
        for (index, count, message) in bad_fragments {
            let header = Header {
                index,
                count,
                message,
                ..header(NOW)
            };
            let datagram = seal(&keys(1), &header, b"x");
            assert_eq!(
                open(&datagram, "prod", &keys(1), NOW),
                Err(Rejection::Malformed)
            );
        }
    }
}
