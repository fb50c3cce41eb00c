//! Transfers from real primaries over raw TCP: AXFR of a few-thousand-record
//! zone from Knot, BIND and NSD; IXFR after changes, applied with
//! `apply_diffs` and compared with a fresh AXFR; up-to-date answers;
//! refusals. Signed with TSIG where the primary is configured for it.

mod xfr_support;

use understudy_proto::record::{Rtype, rcode};
use understudy_proto::tsig::{Algorithm, Key, ResponseVerifier, VerifyError, sign_request};
use understudy_proto::wire::{self, Message};
use understudy_proto::xfr::{
    Interpreter, Limits, Progress, Request, Transfer, XfrError, apply_diffs,
};
use understudy_proto::{Name, Record};
use xfr_support::{Bind, DnsTcp, Knot, Nsd, TsigSpec, unix_now, zone_record_count, zone_text};

const ZONE: &str = "example.";
const HOSTS: usize = 3000;

fn zone() -> Name {
    Name::from_ascii(ZONE).unwrap()
}

#[derive(Debug)]
enum FetchError {
    Xfr(XfrError),
    Tsig(VerifyError),
}

impl From<XfrError> for FetchError {
    fn from(error: XfrError) -> FetchError {
        FetchError::Xfr(error)
    }
}

impl From<VerifyError> for FetchError {
    fn from(error: VerifyError) -> FetchError {
        FetchError::Tsig(error)
    }
}

/// One transfer over TCP from `port`, as the node's primary client does it.
fn fetch(
    port: u16,
    request: Request,
    current: Option<&Record>,
    key: Option<&Key>,
) -> Result<Transfer, FetchError> {
    let id = 0x1357;
    let mut query = match request {
        Request::Soa => wire::soa_query(id, &zone()),
        Request::Axfr => wire::axfr_query(id, &zone()),
        Request::Ixfr { .. } => wire::ixfr_query(id, &zone(), current.unwrap()).unwrap(),
    };
    let mut verifier: Option<ResponseVerifier> =
        key.map(|key| sign_request(&mut query, key, unix_now()).unwrap());
    let mut interpreter = Interpreter::new(zone(), id, request, Limits::default());
    let mut tcp = DnsTcp::connect(port);
    tcp.send(&query);
    loop {
        let bytes = tcp.receive().ok_or(XfrError::Incomplete)?;
        let message = Message::parse(&bytes).map_err(XfrError::from)?;
        if let Some(verifier) = verifier.as_mut() {
            verifier.verify(&bytes, &message, unix_now())?;
        }
        if let Progress::Done(transfer) = interpreter.feed(message, bytes.len())? {
            if let Some(verifier) = &verifier {
                verifier.finish()?;
            }
            return Ok(transfer);
        }
    }
}

fn full(transfer: Transfer) -> (Record, Vec<Record>) {
    match transfer {
        Transfer::Full { soa, records } => (soa, records),
        other => panic!("expected a full zone, got {}", kind(&other)),
    }
}

fn kind(transfer: &Transfer) -> &'static str {
    match transfer {
        Transfer::Soa { .. } => "SOA",
        Transfer::UpToDate { .. } => "up to date",
        Transfer::Full { .. } => "full",
        Transfer::Incremental { .. } => "incremental",
    }
}

/// Records in a fixed order, for comparing zones.
fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by(|x, y| {
        (&x.owner, x.rtype, &x.rdata, x.ttl).cmp(&(&y.owner, y.rtype, &y.rdata, y.ttl))
    });
    records
}

/// Records with owner and RDATA folded to lower case, for comparing what
/// different servers send (some fold case, some keep it).
fn folded(records: Vec<Record>) -> Vec<Record> {
    let records = records
        .into_iter()
        .map(|record| {
            let rdata = if record.rtype == Rtype::TXT {
                record.rdata
            } else {
                record.rdata.to_ascii_lowercase().into()
            };
            Record {
                owner: record.owner.to_lowercase(),
                rdata,
                ..record
            }
        })
        .collect();
    sorted(records)
}

trait Primary {
    fn port(&self) -> u16;
    fn update(&self, text: &str);
}

impl Primary for Knot {
    fn port(&self) -> u16 {
        self.daemon.port
    }
    fn update(&self, text: &str) {
        Knot::update(self, text)
    }
}

impl Primary for Bind {
    fn port(&self) -> u16 {
        self.daemon.port
    }
    fn update(&self, text: &str) {
        Bind::update(self, text)
    }
}

impl Primary for Nsd {
    fn port(&self) -> u16 {
        self.daemon.port
    }
    fn update(&self, text: &str) {
        Nsd::update(self, text)
    }
}

#[test]
fn rfc5936_axfr_from_knot_bind_and_nsd_brings_the_same_zone() {
    let text = zone_text(ZONE, 1, HOSTS, 0);
    let knot = Knot::primary(ZONE, &text, &[]);
    let bind = Bind::primary(ZONE, &text, &[]);
    let nsd = Nsd::primary(ZONE, &text, &[]);
    let mut zones = Vec::new();
    for (server, port) in [
        ("knot", knot.port()),
        ("bind", bind.port()),
        ("nsd", nsd.port()),
    ] {
        let (soa, records) = full(fetch(port, Request::Axfr, None, None).unwrap());
        assert_eq!(soa.soa().unwrap().serial, 1, "{server}");
        assert_eq!(records.len(), zone_record_count(HOSTS, 0), "{server}");
        zones.push(folded(records));
    }
    assert_eq!(zones[0], zones[1], "Knot and BIND differ");
    assert_eq!(zones[0], zones[2], "Knot and NSD differ");
}

/// Changes the zone twice and checks that IXFR (or the primary's AXFR-style
/// answer), applied to what we had, equals a fresh AXFR each time.
fn ixfr_follows_changes(primary: &impl Primary, key: Option<&Key>, expect_diffs: bool) {
    let port = primary.port();
    let (soa1, v1) = full(fetch(port, Request::Axfr, None, key).unwrap());
    primary.update(&zone_text(ZONE, 2, HOSTS, 1));
    let (soa2, v2) = check_ixfr(port, (&soa1, &v1), key, expect_diffs, 1);
    primary.update(&zone_text(ZONE, 3, HOSTS, 2));
    check_ixfr(port, (&soa2, &v2), key, expect_diffs, 1);
    // From serial 1, the primary's journal holds two diffs to chain.
    let (soa3, _) = check_ixfr(port, (&soa1, &v1), key, expect_diffs, 2);
    let current = fetch(port, Request::Ixfr { serial: 3 }, Some(&soa3), key).unwrap();
    assert_eq!(current, Transfer::UpToDate { soa: soa3.clone() });
    let Transfer::Soa { soa } = fetch(port, Request::Soa, None, key).unwrap() else {
        panic!("SOA query")
    };
    assert_eq!(soa.soa().unwrap().serial, 3);
}

fn check_ixfr(
    port: u16,
    (soa, records): (&Record, &[Record]),
    key: Option<&Key>,
    expect_diffs: bool,
    diff_count: usize,
) -> (Record, Vec<Record>) {
    let serial = soa.soa().unwrap().serial;
    let transfer = fetch(port, Request::Ixfr { serial }, Some(soa), key).unwrap();
    let new_records = match transfer {
        Transfer::Incremental { diffs, .. } => {
            assert!(expect_diffs, "unexpected diffs");
            assert!(
                !diffs.is_empty() && diffs.len() <= diff_count,
                "{} diffs",
                diffs.len()
            );
            let changed: usize = diffs.iter().map(|d| d.removed.len() + d.added.len()).sum();
            assert!(
                changed < 200 * diff_count,
                "diffs are small: {changed} records"
            );
            apply_diffs(records.to_vec(), &diffs).unwrap()
        }
        Transfer::Full { records, .. } => {
            assert!(!expect_diffs, "expected diffs, got a full zone");
            records
        }
        other => panic!("unexpected {}", kind(&other)),
    };
    let (fresh_soa, fresh) = full(fetch(port, Request::Axfr, None, key).unwrap());
    assert_eq!(sorted(new_records), sorted(fresh.clone()));
    (fresh_soa, fresh)
}

fn spec(algorithm: Algorithm) -> TsigSpec {
    TsigSpec {
        name: "xfr-key".into(),
        algorithm: algorithm.as_str(),
        secret: b"interop secret for transfers".to_vec(),
    }
}

fn key(spec: &TsigSpec) -> Key {
    Key::new(
        Name::from_ascii(&spec.name).unwrap(),
        spec.algorithm,
        spec.secret.clone(),
    )
    .unwrap()
}

#[test]
fn rfc1995_ixfr_from_knot_journal_matches_fresh_axfr_signed() {
    let spec = spec(Algorithm::HmacSha512);
    let knot = Knot::primary(
        ZONE,
        &zone_text(ZONE, 1, HOSTS, 0),
        std::slice::from_ref(&spec),
    );
    ixfr_follows_changes(&knot, Some(&key(&spec)), true);
}

#[test]
fn rfc1995_ixfr_from_bind_differences_matches_fresh_axfr_signed() {
    let spec = spec(Algorithm::HmacSha384);
    let bind = Bind::primary(
        ZONE,
        &zone_text(ZONE, 1, HOSTS, 0),
        std::slice::from_ref(&spec),
    );
    ixfr_follows_changes(&bind, Some(&key(&spec)), true);
}

#[test]
fn rfc1995_4_ixfr_from_nsd_without_diffs_is_answered_axfr_style() {
    // NSD 4.6 keeps no IXFR history for zones loaded from files: it answers
    // IXFR with the whole zone, which must be taken as a full transfer.
    let nsd = Nsd::primary(ZONE, &zone_text(ZONE, 1, HOSTS, 0), &[]);
    ixfr_follows_changes(&nsd, None, false);
}

#[test]
fn rfc5936_refusals_are_typed_errors() {
    let spec = spec(Algorithm::HmacSha256);
    let text = zone_text(ZONE, 1, 10, 0);
    let knot = Knot::primary(ZONE, &text, std::slice::from_ref(&spec));
    let bind = Bind::primary(ZONE, &text, std::slice::from_ref(&spec));
    let nsd = Nsd::primary(ZONE, &text, std::slice::from_ref(&spec));
    for (server, port) in [
        ("knot", knot.port()),
        ("bind", bind.port()),
        ("nsd", nsd.port()),
    ] {
        // Unsigned, where the primary demands the key.
        match fetch(port, Request::Axfr, None, None) {
            Err(FetchError::Xfr(XfrError::Rcode(code))) => {
                assert!(
                    [rcode::REFUSED, rcode::NOTAUTH].contains(&code),
                    "{server}: rcode {code}"
                );
            }
            other => panic!("{server}: expected a refusal, got {other:?}"),
        }
        // Signed with a secret the primary does not share.
        let wrong = Key {
            secret: b"wrong".to_vec(),
            ..key(&spec)
        };
        match fetch(port, Request::Axfr, None, Some(&wrong)) {
            Err(FetchError::Tsig(VerifyError::ServerError { error, .. })) => {
                assert_eq!(error, rcode::BADSIG, "{server}");
            }
            other => panic!("{server}: expected BADSIG, got {other:?}"),
        }
        // A zone it does not serve.
        let other_zone = Name::from_ascii("not-served.example.").unwrap();
        let mut query = wire::axfr_query(7, &other_zone);
        let mut verifier = sign_request(&mut query, &key(&spec), unix_now()).unwrap();
        let mut tcp = DnsTcp::connect(port);
        tcp.send(&query);
        let bytes = tcp.receive().unwrap();
        let _ = verifier.verify(&bytes, &Message::parse(&bytes).unwrap(), unix_now());
        let mut interpreter = Interpreter::new(other_zone, 7, Request::Axfr, Limits::default());
        let error = interpreter.feed_bytes(&bytes).unwrap_err();
        assert!(matches!(error, XfrError::Rcode(_)), "{server}: {error:?}");
    }
}

#[test]
fn transfer_limits_stop_a_large_zone_from_a_real_primary() {
    let knot = Knot::primary(ZONE, &zone_text(ZONE, 1, HOSTS, 0), &[]);
    let limits = Limits {
        max_records: 1000,
        max_bytes: usize::MAX,
    };
    let mut interpreter = Interpreter::new(zone(), 9, Request::Axfr, limits);
    let mut tcp = DnsTcp::connect(knot.port());
    tcp.send(&wire::axfr_query(9, &zone()));
    let error = loop {
        let bytes = tcp.receive().expect("closed before the limit was hit");
        if let Err(error) = interpreter.feed_bytes(&bytes) {
            break error;
        }
    };
    assert_eq!(error, XfrError::TooManyRecords { limit: 1000 });
    assert!(!error.fallback());
}
