//! Interop scenarios run against each primary implementation: AXFR, IXFR
//! after a change, NOTIFY-triggered refresh, TSIG success and failure, and a
//! signed zone served with the primary's proofs.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use crate::differential::{compare_with_oracles, report};
use crate::dig::{DigAnswer, dig};
use crate::env::{binary, fixture};
use crate::fixtures;
use crate::message::QueryMessage;
use crate::process::run;
use crate::query::{Payload, Query};
use crate::servers::{self, Kind, Server, ServerSpec, Signing, TsigKey};
use crate::understudy::{Config, Understudy, ZoneConfig};
use crate::wire::type_code;
use crate::zones::{EXAMPLE, example, example_changed};
use crate::{Transport, differential};

/// How long the first transfer of a small zone may take.
pub const FIRST_TRANSFER: Duration = Duration::from_secs(30);

/// How long a change may take to be served after the primary's NOTIFY
/// (the zone's SOA refresh is an hour, so only NOTIFY explains it).
pub const NOTIFY_BOUND: Duration = Duration::from_secs(10);

/// The key the transfer tests share.
pub fn key() -> TsigKey {
    TsigKey::new(
        "xfr-key",
        "hmac-sha256",
        "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    )
}

/// Same name, other secret.
pub fn wrong_key() -> TsigKey {
    TsigKey::new(
        "xfr-key",
        "hmac-sha256",
        "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=",
    )
}

/// The loopback address a node with this config answers on.
pub fn node_addr(config: &Config) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], config.port))
}

/// The zone's records as `dig AXFR +onesoa` prints them from `server`.
pub fn axfr_text(server: SocketAddr, zone: &str, extra: &[&str]) -> DigAnswer {
    let mut args = vec!["AXFR", zone, "+onesoa", "+nocmd", "+nostats"];
    args.extend_from_slice(extra);
    dig(server, &args)
}

/// Queries for every (owner, type) pair of the primary's AXFR of `zone`.
/// `dig_args` may carry `-y KEY` for primaries that require TSIG.
pub fn queries_for_zone(primary: SocketAddr, zone: &str, dig_args: &[&str]) -> Vec<Query> {
    let answer = axfr_text(primary, zone, dig_args);
    let pairs: BTreeSet<(String, String)> = answer
        .records("answer")
        .into_iter()
        .map(|r| (r.owner, r.rtype))
        .collect();
    assert!(
        pairs.len() > 2,
        "AXFR of {zone} from {primary} failed:\n{}",
        answer.text
    );
    pairs
        .into_iter()
        .filter_map(|(owner, rtype)| {
            let message = QueryMessage::new(&owner, type_code(&rtype)?);
            Some(Query {
                label: format!("{owner} {rtype}"),
                payload: Payload::Message(message),
                transport: Transport::Udp,
            })
        })
        .collect()
}

/// Every record of the primary's zone is answered identically by the node
/// (answer sections compared; authority may differ by style).
pub fn assert_serves_same_records(
    primary: SocketAddr,
    node: SocketAddr,
    zone: &str,
    dig_args: &[&str],
) {
    let mut differences = Vec::new();
    for query in queries_for_zone(primary, zone, dig_args) {
        let (want, got) = (
            differential::outcome(primary, &query),
            differential::outcome(node, &query),
        );
        let answers = |o: &differential::Outcome| match o {
            differential::Outcome::Reply(n) => Some((n.answer.clone(), n.header.contains("aa"))),
            _ => None,
        };
        if answers(&want) != answers(&got) {
            differences.push(format!("{query}: primary {want:?}\n    node {got:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} names answered differently:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

fn transfer_lines(primary: &Server) -> Vec<String> {
    primary
        .log()
        .lines()
        .filter(|l| l.contains("XFR") || l.contains("xfr"))
        .map(str::to_string)
        .collect()
}

/// AXFR first, then a change with NOTIFY: served within [`NOTIFY_BOUND`],
/// through IXFR where the primary has a journal (Knot, BIND; NSD 4.6 only
/// sends full zones), identical to the primary both times.
pub fn axfr_then_ixfr_after_notify(kind: Kind) {
    let config = Config::new("interop");
    let mut primary = Server::start(
        kind,
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 200))
            .ixfr()
            .notify(node_addr(&config)),
    );
    let node = Understudy::start(config.zone(ZoneConfig::new(EXAMPLE, &[primary.addr()])));
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    assert_serves_same_records(primary.addr(), node.addr(), EXAMPLE, &[]);

    let before = transfer_lines(&primary).len();
    primary.update_zone(EXAMPLE, &example_changed(2, 200, 3));
    let took = node.wait_serial(EXAMPLE, 2, NOTIFY_BOUND);
    eprintln!("{kind:?}: change served {took:?} after the reload");
    assert_serves_same_records(primary.addr(), node.addr(), EXAMPLE, &[]);
    let after = transfer_lines(&primary);
    let new: Vec<&String> = after.iter().skip(before).collect();
    let ixfr = new
        .iter()
        .any(|l| l.contains("IXFR") && !l.contains("AXFR-style"));
    match kind {
        Kind::Knot | Kind::Bind => assert!(ixfr, "{kind:?} should have served an IXFR:\n{new:#?}"),
        Kind::Nsd => assert!(!new.is_empty(), "NSD logged no transfer:\n{after:#?}"),
    }
}

/// Transfers and NOTIFY signed with TSIG succeed.
pub fn tsig_success(kind: Kind) {
    let config = Config::new("tsig").tsig_key(key());
    let mut primary = Server::start(
        kind,
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 20))
            .tsig(key())
            .ixfr()
            .notify(node_addr(&config)),
    );
    let zone = ZoneConfig::new(EXAMPLE, &[primary.addr()]).tsig_key("xfr-key");
    let node = Understudy::start(config.zone(zone));
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    primary.update_zone(EXAMPLE, &example_changed(2, 20, 2));
    node.wait_serial(EXAMPLE, 2, NOTIFY_BOUND);
    let key_arg = key().to_dig_arg();
    assert_serves_same_records(primary.addr(), node.addr(), EXAMPLE, &["-y", &key_arg]);
}

/// With a wrong secret the primary refuses the node; the node keeps
/// serving the data it had (from disk, after a restart with the bad key).
pub fn tsig_failure_keeps_old_data(kind: Kind) {
    let config = Config::new("tsig-bad").tsig_key(key());
    let mut primary = Server::start(
        kind,
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 20))
            .tsig(key())
            .notify(node_addr(&config)),
    );
    let zone = ZoneConfig::new(EXAMPLE, &[primary.addr()]).tsig_key("xfr-key");
    let good = config.zone(zone);
    let mut node = Understudy::start(good.clone());
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);

    let mut bad = good;
    bad.tsig_keys = vec![wrong_key()];
    node.reconfigure(bad);
    node.restart();
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    primary.update_zone(EXAMPLE, &example(2, 20));
    let _ = node.ctl(&["zone", "refresh", EXAMPLE]);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        node.serial(EXAMPLE),
        Some(1),
        "a refused transfer must keep serial 1"
    );
    let old = dig(node.addr(), &["serial.example.test.", "TXT"]);
    assert_eq!(
        old.answers_of("TXT").first().map(|r| r.rdata.as_str()),
        Some("\"1\"")
    );
    let log = node.log().to_ascii_lowercase();
    assert!(
        ["badsig", "badkey", "notauth", "tsig", "refused"]
            .iter()
            .any(|word| log.contains(word)),
        "the node's log should say why the refresh failed"
    );
}

/// The zone signed by Knot, as text (`dig AXFR +onesoa`).
pub fn signed_text(signer: &Server, origin: &str) -> String {
    let answer = axfr_text(signer.addr(), origin, &[]);
    assert!(
        answer.answers_of("RRSIG").len() > 3,
        "not signed:\n{}",
        answer.text
    );
    answer.answer.join("\n") + "\n"
}

/// A fixture zone signed by Knot, the signed text loaded into a primary of
/// another kind, and NSD serving the same signed text as another oracle.
#[derive(Debug)]
pub struct SignedSetup {
    /// The Knot that signed the zone (the primary when the kind is Knot).
    pub signer: Server,
    /// NSD serving the signed text.
    pub nsd: Server,
    /// The primary of the requested kind when it is not Knot.
    pub primary: Option<Server>,
    /// The signed zone's serial.
    pub serial: u32,
}

impl SignedSetup {
    /// Signs `origin`'s fixture with `signing` and starts the servers.
    pub fn new(kind: Kind, signing: Signing, origin: &str) -> SignedSetup {
        let signer = servers::knot(
            ServerSpec::new()
                .primary_zone(origin, &fixture(&format!("{origin}zone")))
                .sign(signing)
                .identity(fixtures::IDENTITY),
        );
        let text = signed_text(&signer, origin);
        let presigned = |kind| {
            Server::start(
                kind,
                ServerSpec::new()
                    .primary_zone(origin, &text)
                    .identity(fixtures::IDENTITY),
            )
        };
        let serial = signer.serial(origin).unwrap_or_default();
        SignedSetup {
            nsd: presigned(Kind::Nsd),
            primary: (kind != Kind::Knot).then(|| presigned(kind)),
            signer,
            serial,
        }
    }

    /// The primary a secondary should transfer from.
    pub fn primary_addr(&self) -> SocketAddr {
        self.primary
            .as_ref()
            .map_or(self.signer.addr(), Server::addr)
    }

    /// Every server holding the signed data, the primary first.
    pub fn oracles(&self) -> Vec<SocketAddr> {
        let mut oracles = vec![self.primary_addr(), self.signer.addr(), self.nsd.addr()];
        oracles.dedup();
        oracles
    }
}

/// A fixture zone signed by Knot and served by a primary of `kind`; the
/// node's answers to the fixture's query list (DO on and off) must equal
/// one of the oracles serving the same signed data.
pub fn signed_zone_served_with_proofs(kind: Kind, signing: Signing, origin: &str) {
    let setup = SignedSetup::new(kind, signing, origin);
    let config = Config::new("signed")
        .dns("nsid", "\"e2e\"")
        .dns("identity", "\"e2e\"")
        .dns("version", "\"e2e\"");
    let node = Understudy::start(config.zone(ZoneConfig::new(origin, &[setup.primary_addr()])));
    node.wait_serial(origin, setup.serial, FIRST_TRANSFER);
    let differences =
        compare_with_oracles(node.addr(), &setup.oracles(), &fixtures::queries(origin));
    assert!(differences.is_empty(), "{}", report(&differences));
}

/// `kdig` with a TSIG key, for transfers out of the node.
pub fn kdig_with_key(server: SocketAddr, key: &TsigKey, args: &[&str]) -> DigAnswer {
    let mut command = Command::new(binary("kdig"));
    command
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .arg("-y")
        .arg(key.to_dig_arg())
        .args(["+time=5", "+retry=0"])
        .args(args);
    let (ok, text) = run(command);
    DigAnswer::parse(ok, &text)
}
