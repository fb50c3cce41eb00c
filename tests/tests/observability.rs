//! What operators see agrees with what is served: `ctl zone status`, the
//! Prometheus metrics and the answers tell the same serial and state.

use std::time::{SystemTime, UNIX_EPOCH};

use understudy_e2e::client::soa_serial;
use understudy_e2e::dig::dig;
use understudy_e2e::interop::{FIRST_TRANSFER, NOTIFY_BOUND, node_addr};
use understudy_e2e::servers::{self, ServerSpec};
use understudy_e2e::understudy::{status_time, status_zone};
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{Config, Understudy, ZoneConfig};

#[test]
fn status_metrics_and_answers_agree() {
    let config = Config::new("observe");
    let mut primary = servers::knot(
        ServerSpec::new()
            .primary_zone(EXAMPLE, &example(1, 30))
            .ixfr()
            .notify(node_addr(&config)),
    );
    let node = Understudy::start(config.zone(ZoneConfig::new(EXAMPLE, &[primary.addr()])));
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    primary.update_zone(EXAMPLE, &example_changed(2, 30, 2));
    node.wait_serial(EXAMPLE, 2, NOTIFY_BOUND);

    let statuses = node.zone_statuses();
    let status = statuses
        .iter()
        .find(|s| status_zone(s) == Some(EXAMPLE))
        .unwrap_or_else(|| panic!("{EXAMPLE} missing from ctl zone status: {statuses:?}"));
    assert_eq!(
        status.get("state").and_then(|v| v.as_str()),
        Some("ok"),
        "{status}"
    );
    assert_eq!(
        status.get("serial").and_then(|v| v.as_u64()),
        Some(2),
        "{status}"
    );
    assert_eq!(
        status.get("primary_serial").and_then(|v| v.as_u64()),
        Some(2),
        "{status}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let next = status_time(status, "next_refresh").unwrap_or_default();
    assert!(
        next > now,
        "next refresh {next} is not in the future ({now}): {status}"
    );
    let expires = status_time(status, "expires_at").unwrap_or_default();
    assert!(
        expires >= now + 86_400 - 60,
        "SOA expire is a day: {status}"
    );

    let text = node.ctl(&["zone", "status", EXAMPLE]);
    assert!(
        text.0 && text.1.contains(EXAMPLE) && text.1.contains('2'),
        "{}",
        text.1
    );

    let before = node.metrics();
    for _ in 0..20 {
        assert!(soa_serial(node.addr(), EXAMPLE).is_some());
    }
    let tcp = dig(node.addr(), &["+tcp", "www.example.test.", "A"]);
    assert_eq!(tcp.rcode, "NOERROR");
    let after = node.metrics();
    let udp = |m: &understudy_e2e::metrics::Metrics| {
        m.sum("understudy_queries_total", &[("protocol", "udp")])
    };
    let tcp = |m: &understudy_e2e::metrics::Metrics| {
        m.sum("understudy_queries_total", &[("protocol", "tcp")])
    };
    assert!(
        udp(&after) - udp(&before) >= 20.0,
        "UDP queries not counted:\n{}",
        after.text
    );
    assert!(
        tcp(&after) - tcp(&before) >= 1.0,
        "TCP queries not counted:\n{}",
        after.text
    );
    assert_eq!(
        after.value("understudy_zone_serial", &[("zone", EXAMPLE)]),
        Some(2.0),
        "{}",
        after.text
    );
    let ixfr = after.sum(
        "understudy_transfers_total",
        &[("kind", "ixfr"), ("result", "ok")],
    );
    let axfr = after.sum(
        "understudy_transfers_total",
        &[("kind", "axfr"), ("result", "ok")],
    );
    assert!(
        ixfr >= 1.0 && axfr >= 1.0,
        "one AXFR then one IXFR:\n{}",
        after.text
    );
    assert!(
        after.sum("understudy_notify_received_total", &[]) >= 1.0,
        "{}",
        after.text
    );
}
