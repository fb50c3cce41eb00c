//! Anycast health against a real node and a real Knot primary: `ctl drain`
//! turns `/healthz` to 503 at once while DNS keeps answering, the drain
//! survives a restart, `ctl undrain` announces again after `rise`; `ctl
//! cluster members` shows a node without `[cluster]` alone; the ExaBGP
//! process of `deploy/exabgp/` follows the verdict.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use understudy_e2e::client::soa_serial;
use understudy_e2e::env::workspace_root;
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::metrics::http_get;
use understudy_e2e::servers::{self, ServerSpec};
use understudy_e2e::zones::{EXAMPLE, example};
use understudy_e2e::{Config, Understudy, ZoneConfig, wait_until};

/// `rise` is 3 evaluations a second apart; a loaded machine gets slack.
const RISE_BOUND: Duration = Duration::from_secs(15);
const PREFIX: &str = "192.0.2.53/32";

fn healthz(node: &Understudy) -> (u16, String) {
    http_get(node.metrics_addr(), "/healthz").unwrap_or((0, String::new()))
}

/// The ExaBGP process, its stdout lines arriving on a channel.
struct Exabgp {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Exabgp {
    fn start(node: &Understudy) -> Exabgp {
        let script = workspace_root().join("deploy/exabgp/understudy-healthz");
        let mut child = Command::new(script)
            .env(
                "UNDERSTUDY_HEALTHZ",
                format!("http://{}/healthz", node.metrics_addr()),
            )
            .env("ANYCAST_PREFIX", PREFIX)
            .env("INTERVAL", "0.2")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("deploy/exabgp/understudy-healthz runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Exabgp { child, lines }
    }

    /// Waits for `line`, skipping repeats of others.
    fn expect(&self, line: &str) {
        let deadline = std::time::Instant::now() + RISE_BOUND;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(got) if got == line => return,
                Ok(got) => seen.push(got),
                Err(_) => break,
            }
        }
        panic!("ExaBGP process never printed {line:?}; it printed {seen:?}");
    }
}

impl Drop for Exabgp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn health_drain_survives_a_restart_and_undrain_announces_again() {
    let primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(1, 30)));
    let config = Config::new("health-1").zone(ZoneConfig::new(EXAMPLE, &[primary.addr()]));
    let mut node = Understudy::start(config);
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    wait_until(RISE_BOUND, "/healthz turns 200", || {
        healthz(&node) == (200, "healthy\n".into())
    });
    let exabgp = Exabgp::start(&node);
    exabgp.expect(&format!("announce route {PREFIX} next-hop self"));

    let (ok, text) = node.ctl(&["drain"]);
    assert!(ok, "ctl drain failed: {text}");
    assert_eq!(healthz(&node), (503, "drained\n".into()), "no hysteresis");
    exabgp.expect(&format!("withdraw route {PREFIX} next-hop self"));
    assert_eq!(
        soa_serial(node.addr(), EXAMPLE),
        Some(1),
        "a drained node keeps answering"
    );
    let health = node.ctl_json(&["health"]);
    assert_eq!(health["health"]["reason"], "drained", "{health}");

    let members = node.ctl_json(&["cluster", "members"]);
    let this = &members["cluster"]["members"][0];
    assert_eq!(this["id"], "health-1", "{members}");
    assert_eq!(this["this_node"], true, "{members}");
    assert_eq!(this["state"], "alive", "{members}");
    assert_eq!(this["region"], "test", "{members}");
    assert_eq!(this["zones"][0]["zone"], EXAMPLE, "{members}");
    assert_eq!(this["zones"][0]["serial"], 1, "{members}");
    let (ok, table) = node.ctl(&["cluster", "members"]);
    assert!(ok && table.contains("health-1 (this node)"), "{table}");

    let metrics = node.metrics();
    assert_eq!(metrics.value("understudy_healthy", &[]), Some(0.0));
    assert_eq!(metrics.value("understudy_drained", &[]), Some(1.0));
    assert_eq!(
        metrics.value("understudy_health_reason", &[("reason", "drained")]),
        Some(1.0)
    );
    assert_eq!(
        metrics.value("understudy_cluster_members", &[("state", "alive")]),
        Some(1.0)
    );

    node.restart();
    wait_until(RISE_BOUND, "the restarted node answers /healthz", || {
        healthz(&node).0 != 0
    });
    node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    // Well past `rise`: a drain is not something a restart forgets.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(healthz(&node), (503, "drained\n".into()));

    let (ok, text) = node.ctl(&["undrain"]);
    assert!(ok, "ctl undrain failed: {text}");
    let rose = wait_until(RISE_BOUND, "/healthz turns 200 after undrain", || {
        healthz(&node) == (200, "healthy\n".into())
    });
    eprintln!("undrain to /healthz 200: {} ms", rose.as_millis());
    exabgp.expect(&format!("announce route {PREFIX} next-hop self"));
    assert!(node.stop(), "clean shutdown:\n{}", node.log());
}
