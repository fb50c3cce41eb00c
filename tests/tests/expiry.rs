//! Expiry (RFC 1035 §3.3.13 EXPIRE; DESIGN.md decision 5): with the primary
//! gone, a zone past its SOA expire answers SERVFAIL under policy `rfc`,
//! keeps answering with an RFC 8914 "Stale Answer" EDE under `serve-stale`,
//! and keeps answering under `never`; `ctl` and the metrics say which.

use std::time::{Duration, Instant};

use understudy_e2e::dig::dig;
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::servers::{self, ServerSpec};
use understudy_e2e::{Config, Understudy, ZoneConfig};

/// SOA timers of a few seconds: refresh 2, retry 1, expire 6.
fn short_lived(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n@ SOA ns1 hostmaster 1 2 1 6 60\n\
         @ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n"
    )
}

const RFC: &str = "rfc.expiry.test.";
const STALE: &str = "stale.expiry.test.";
const NEVER: &str = "never.expiry.test.";

#[test]
fn rfc1035_3_3_13_expired_zones_follow_their_policy() {
    let mut primary = servers::knot(
        ServerSpec::new()
            .primary_zone(RFC, &short_lived(RFC))
            .primary_zone(STALE, &short_lived(STALE))
            .primary_zone(NEVER, &short_lived(NEVER)),
    );
    let zone = |name: &str, policy: &str| {
        ZoneConfig::new(name, &[primary.addr()]).set("expiry_policy", &format!("\"{policy}\""))
    };
    let config = Config::new("expiry")
        .zone_default("refresh_min", "\"1s\"")
        .zone_default("retry_min", "\"1s\"")
        .zone_default("expire_min", "\"1s\"")
        .zone(zone(RFC, "rfc"))
        .zone(zone(STALE, "serve-stale"))
        .zone(zone(NEVER, "never"));
    let node = Understudy::start(config);
    for name in [RFC, STALE, NEVER] {
        node.wait_serial(name, 1, FIRST_TRANSFER);
    }
    primary.stop();
    let stopped = Instant::now();

    let deadline = stopped + Duration::from_secs(30);
    loop {
        let answer = dig(node.addr(), &[&format!("www.{RFC}"), "A"]);
        if answer.rcode == "SERVFAIL" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{RFC} never expired: {}\n{}",
            answer.text,
            node.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let expired_after = stopped.elapsed();
    eprintln!("expired {expired_after:?} after the primary stopped");
    assert!(
        expired_after >= Duration::from_secs(3),
        "expired too early: {expired_after:?}"
    );

    let stale = dig(node.addr(), &[&format!("www.{STALE}"), "A"]);
    assert_eq!(stale.rcode, "NOERROR", "{}", stale.text);
    assert_eq!(
        stale.answers_of("A")[0].rdata,
        "192.0.2.80",
        "{}",
        stale.text
    );
    assert!(
        stale.text.contains("EDE: 3"),
        "a Stale Answer EDE: {}",
        stale.text
    );

    let never = dig(node.addr(), &[&format!("www.{NEVER}"), "A"]);
    assert_eq!(never.rcode, "NOERROR", "{}", never.text);
    assert!(!never.text.contains("EDE"), "{}", never.text);

    let states: Vec<(String, String)> = node
        .zone_statuses()
        .iter()
        .map(|zone| {
            (
                zone["zone"].as_str().unwrap_or_default().to_string(),
                zone["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&(RFC.to_string(), "expired".to_string())),
        "{states:?}"
    );
    assert!(
        states.contains(&(STALE.to_string(), "stale".to_string())),
        "{states:?}"
    );
    let metrics = node.metrics();
    assert_eq!(
        metrics.sum(
            "understudy_zone_state",
            &[("zone", RFC), ("state", "expired")]
        ),
        1.0,
        "expired state in the metrics"
    );
}
