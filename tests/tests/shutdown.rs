//! Graceful shutdown: SIGTERM while a transfer is running ends the node
//! cleanly, and what it left on disk is either the complete new zone or the
//! old one — never a corrupt or partial zone.

use std::time::{Duration, Instant};

use understudy_e2e::dig::dig;
use understudy_e2e::interop::{FIRST_TRANSFER, axfr_text, node_addr};
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::zones::{EXAMPLE, example};
use understudy_e2e::{Config, Understudy, ZoneConfig, poll_until};

const HOSTS: usize = 60_000;

fn outgoing_transfers(primary: &Server) -> usize {
    primary
        .log()
        .lines()
        .filter(|l| l.contains("XFR, outgoing") && l.contains("started"))
        .count()
}

/// Waits (briefly) for the primary to start sending a transfer, then sends
/// SIGTERM; returns whether the node exited cleanly and in time.
fn sigterm_during_transfer(primary: &Server, node: &mut Understudy, seen: usize) -> bool {
    let started = poll_until(Duration::from_secs(20), || {
        outgoing_transfers(primary) > seen
    });
    assert!(started, "the primary never started a transfer");
    node.signal(libc::SIGTERM);
    node.wait_exit(Duration::from_secs(20))
        .is_some_and(|status| status.success())
}

/// After a restart with the primary stopped the zone is served complete at
/// one of `serials`, or (when no serial had been committed) not at all.
fn assert_complete_or_absent(node: &mut Understudy, serials: &[u32]) {
    node.restart();
    let appeared = poll_until(Duration::from_secs(5), || node.serial(EXAMPLE).is_some());
    if !appeared {
        assert!(serials.contains(&0), "the committed zone was lost");
        let www = dig(node.addr(), &["www.example.test.", "A"]);
        assert_ne!(www.rcode, "NOERROR", "{}", www.text);
        return;
    }
    let serial = node.serial(EXAMPLE).unwrap_or_default();
    assert!(
        serials.contains(&serial),
        "serving serial {serial}, expected one of {serials:?}"
    );
    let marker = dig(node.addr(), &["serial.example.test.", "TXT"]);
    assert_eq!(marker.answers_of("TXT")[0].rdata, format!("\"{serial}\""));
    let axfr = axfr_text(node.addr(), EXAMPLE, &[]);
    assert_eq!(axfr.answer.len(), 8 + HOSTS, "a partial zone was kept");
}

fn node_config(primary: &Server) -> Config {
    Config::new("shutdown")
        .zone(ZoneConfig::new(EXAMPLE, &[primary.addr()]).allow_transfer("127.0.0.1"))
}

#[test]
fn sigterm_during_the_first_transfer_leaves_nothing_partial() {
    let mut primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(1, HOSTS)));
    let mut node = Understudy::start(node_config(&primary));
    let clean = sigterm_during_transfer(&primary, &mut node, 0);
    assert!(clean, "SIGTERM must end the node cleanly within 20 s");
    primary.stop();
    assert_complete_or_absent(&mut node, &[0, 1]);
}

#[test]
fn sigterm_during_an_update_keeps_the_old_or_the_new_zone() {
    let config = Config::new("shutdown");
    let mut primary = servers::knot(
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, HOSTS))
            .notify(node_addr(&config)),
    );
    let mut config = config;
    config.zones = node_config(&primary).zones;
    let mut node = Understudy::start(config);
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    let seen = outgoing_transfers(&primary);
    let start = Instant::now();
    primary.update_zone(EXAMPLE, &example(2, HOSTS));
    let clean = sigterm_during_transfer(&primary, &mut node, seen);
    eprintln!("SIGTERM handled {:?} after the update", start.elapsed());
    assert!(clean, "SIGTERM must end the node cleanly within 20 s");
    primary.stop();
    assert_complete_or_absent(&mut node, &[1, 2]);
}
