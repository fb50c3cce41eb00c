//! IXFR and AXFR from a primary over TCP.
//!
//! The messages go straight from the connection into the sans-IO
//! interpreter (`proto::xfr`), which checks the sequence and the limits;
//! this module adds what needs IO: the connection, its deadline and minimum
//! rate, and TSIG verification of every message.

use understudy_proto::Name;
use understudy_proto::record::{Record, rcode};
use understudy_proto::refresh::Failure;
use understudy_proto::tsig::VerifyError;
use understudy_proto::wire::{self, Message};
use understudy_proto::xfr::{Interpreter, Limits, Progress, Request, Transfer, XfrError};

use super::soa::signed;
use super::transport::{Stream, StreamLimits, TransportError};
use super::{Primary, unix_now};

/// Why a transfer did not complete.
#[derive(Debug)]
pub enum TransferError {
    /// The primary refused or could not do IXFR, or sent an inconsistent
    /// diff: asking it for AXFR is appropriate (RFC 1995 §4).
    Fallback(String),
    /// Any other failure.
    Failed(Failure),
}

/// Limits of one transfer.
#[derive(Debug, Clone, Copy)]
pub struct TransferLimits {
    /// What the interpreter accepts.
    pub size: Limits,
    /// Time and rate of the connection.
    pub stream: StreamLimits,
}

/// Transfers `zone` from `primary`: IXFR when `current_soa` is given, AXFR
/// otherwise.
pub async fn transfer(
    primary: &Primary,
    zone: &Name,
    current_soa: Option<&Record>,
    limits: TransferLimits,
) -> Result<Transfer, TransferError> {
    let id = rand::random::<u16>();
    let (query, request) = match current_soa {
        Some(soa) => {
            let serial = understudy_proto::record::soa_serial(&soa.rdata).unwrap_or_default();
            let query = wire::ixfr_query(id, zone, soa)
                .map_err(|error| TransferError::Failed(Failure::Malformed(error.to_string())))?;
            (query, Request::Ixfr { serial })
        }
        None => (wire::axfr_query(id, zone), Request::Axfr),
    };
    let (query, mut verifier) = signed(primary, query).map_err(TransferError::Failed)?;
    let mut stream = Stream::connect(primary.addr, primary.source, limits.stream)
        .await
        .map_err(|error| TransferError::Failed(super::failure(error)))?;
    stream
        .send(&query)
        .await
        .map_err(|error| TransferError::Failed(super::failure(error)))?;
    let mut interpreter = Interpreter::new(zone.clone(), id, request, limits.size);
    loop {
        let bytes = stream
            .receive()
            .await
            .map_err(|error| closed_early(error, request))?;
        let message =
            Message::parse(&bytes).map_err(|error| xfr_error(XfrError::from(error), request))?;
        if let Some(verifier) = verifier.as_mut() {
            verifier
                .verify(&bytes, &message, unix_now())
                .map_err(|error| tsig_error(error, request))?;
        }
        match interpreter
            .feed(message, bytes.len())
            .map_err(|error| xfr_error(error, request))?
        {
            Progress::NeedMore => {}
            Progress::Done(transfer) => {
                if let Some(verifier) = &verifier {
                    verifier
                        .finish()
                        .map_err(|error| TransferError::Failed(Failure::Tsig(error.to_string())))?;
                }
                return Ok(transfer);
            }
        }
    }
}

fn xfr_error(error: XfrError, request: Request) -> TransferError {
    let ixfr = matches!(request, Request::Ixfr { .. });
    if ixfr && error.fallback() {
        return TransferError::Fallback(error.to_string());
    }
    TransferError::Failed(match error {
        XfrError::Rcode(rcode) => Failure::Rcode(rcode),
        XfrError::TooManyRecords { .. } => {
            Failure::Limit("the transfer exceeds the zone's max_records".into())
        }
        XfrError::TooManyBytes { .. } => {
            Failure::Limit("the transfer exceeds the zone's max_zone_bytes".into())
        }
        other => Failure::Malformed(other.to_string()),
    })
}

/// A TSIG failure; an unsigned refusal of IXFR (some primaries do not sign
/// errors) still leads to AXFR, which is itself verified.
fn tsig_error(error: VerifyError, request: Request) -> TransferError {
    let refused = matches!(error, VerifyError::Unsigned { rcode } if matches!(rcode, rcode::NOTIMP | rcode::REFUSED | rcode::FORMERR));
    if refused && matches!(request, Request::Ixfr { .. }) {
        return TransferError::Fallback(format!("IXFR refused: {error}"));
    }
    TransferError::Failed(Failure::Tsig(error.to_string()))
}

fn closed_early(error: TransportError, request: Request) -> TransferError {
    match error {
        TransportError::Closed => xfr_error(XfrError::Incomplete, request),
        other => TransferError::Failed(super::failure(other)),
    }
}
