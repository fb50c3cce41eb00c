//! What the MAC covers (RFC 8945 §4.3) and how a TSIG record is attached.

use ring::hmac;

use crate::name::Name;
use crate::record::Class;
use crate::wire::HEADER_LEN;

use super::algorithm::Algorithm;
use super::rdata::{MAX_TIME_SIGNED, TsigRdata, time_bytes};

/// Fudge we put into the records we sign: five minutes, as RFC 8945 §10 recommends.
pub const FUDGE: u16 = 300;

/// Offset of ARCOUNT in the header.
const ARCOUNT: usize = 10;

/// Why a message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The message is shorter than a DNS header.
    #[error("message shorter than a DNS header")]
    NotAMessage,
    /// With the TSIG record the message would pass 65535 octets, or its
    /// additional section 65535 records.
    #[error("no room for the TSIG record")]
    NoRoom,
    /// The time does not fit the 48-bit Time Signed field.
    #[error("time {0} does not fit 48 bits")]
    TimeOutOfRange(u64),
}

/// Feeds a MAC field as it is digested: its length, then its octets.
pub(crate) fn update_mac_field(context: &mut hmac::Context, mac: &[u8]) {
    let len = u16::try_from(mac.len()).unwrap_or(u16::MAX);
    context.update(&len.to_be_bytes());
    context.update(mac);
}

/// Feeds a received message up to its TSIG record as it was before the
/// record was added: ARCOUNT one less and the original id (RFC 8945 §4.3.1).
pub(crate) fn update_received(
    context: &mut hmac::Context,
    bytes: &[u8],
    tsig_offset: usize,
    original_id: u16,
) -> Option<()> {
    let mut header: [u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    let arcount = u16::from_be_bytes([header[ARCOUNT], header[ARCOUNT + 1]]).checked_sub(1)?;
    header[..2].copy_from_slice(&original_id.to_be_bytes());
    header[ARCOUNT..].copy_from_slice(&arcount.to_be_bytes());
    context.update(&header);
    context.update(bytes.get(HEADER_LEN..tsig_offset)?);
    Some(())
}

/// Feeds the TSIG variables of RFC 8945 §4.3.3, names in canonical form.
pub(crate) fn update_variables(context: &mut hmac::Context, key_name: &Name, rdata: &TsigRdata) {
    context.update(key_name.to_lowercase().as_wire());
    context.update(&Class::ANY.0.to_be_bytes());
    context.update(&0u32.to_be_bytes());
    context.update(rdata.algorithm.to_lowercase().as_wire());
    update_timers(context, rdata);
    context.update(&rdata.error.to_be_bytes());
    update_mac_field(context, &rdata.other);
}

/// Feeds the timer variables only, as for the later messages of a stream.
pub(crate) fn update_timers(context: &mut hmac::Context, rdata: &TsigRdata) {
    context.update(&time_bytes(rdata.time_signed));
    context.update(&rdata.fudge.to_be_bytes());
}

/// The TSIG fields of a message we sign; the MAC is filled in later.
pub(crate) fn new_rdata(
    algorithm: Algorithm,
    id: u16,
    now: u64,
    error: u16,
    other: Vec<u8>,
) -> Result<TsigRdata, SignError> {
    if now > MAX_TIME_SIGNED {
        return Err(SignError::TimeOutOfRange(now));
    }
    Ok(TsigRdata {
        algorithm: algorithm.name(),
        time_signed: now,
        fudge: FUDGE,
        mac: Vec::new(),
        original_id: id,
        error,
        other,
    })
}

/// The message id of a message we are about to sign.
pub(crate) fn message_id(message: &[u8]) -> Result<u16, SignError> {
    match message {
        [high, low, ..] if message.len() >= HEADER_LEN => Ok(u16::from_be_bytes([*high, *low])),
        _ => Err(SignError::NotAMessage),
    }
}

/// Appends the TSIG record and counts it in ARCOUNT.
pub(crate) fn append(
    message: &mut Vec<u8>,
    key_name: &Name,
    rdata: &TsigRdata,
) -> Result<(), SignError> {
    let header = message
        .get_mut(..HEADER_LEN)
        .ok_or(SignError::NotAMessage)?;
    let arcount = u16::from_be_bytes([header[ARCOUNT], header[ARCOUNT + 1]])
        .checked_add(1)
        .ok_or(SignError::NoRoom)?;
    let rdata_bytes = rdata.to_bytes();
    let record_len = key_name.wire_len() + 10 + rdata_bytes.len();
    if message.len() + record_len > crate::wire::MAX_MESSAGE_LEN {
        return Err(SignError::NoRoom);
    }
    message[ARCOUNT..ARCOUNT + 2].copy_from_slice(&arcount.to_be_bytes());
    message.extend_from_slice(key_name.as_wire());
    message.extend_from_slice(&crate::record::Rtype::TSIG.0.to_be_bytes());
    message.extend_from_slice(&Class::ANY.0.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(&(rdata_bytes.len() as u16).to_be_bytes());
    message.extend_from_slice(&rdata_bytes);
    Ok(())
}

/// Compares MACs in time independent of where they differ.
pub(crate) fn macs_equal(computed: &[u8], received: &[u8]) -> bool {
    computed.len() == received.len()
        && computed
            .iter()
            .zip(received)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
