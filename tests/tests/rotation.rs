//! Rotating the cluster's gossip key and its CA on two running nodes with
//! `ctl reload`, and revoking a node's certificate, against real processes:
//! gossip keeps being accepted through every step of a key rotation, QUIC
//! fetches keep working through a CA rotation, and a revoked node is
//! refused at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use understudy_e2e::cluster::{CLUSTER, ClusterAddrs, source};
use understudy_e2e::env::free_addr;
use understudy_e2e::interop::{FIRST_TRANSFER, node_addr};
use understudy_e2e::process::run_ok;
use understudy_e2e::understudy::binary;
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{
    Config, Kind, Server, ServerSpec, TestDir, Understudy, ZoneConfig, poll_until, wait_until,
};

/// Gossip rounds are a second apart; a loaded machine gets slack.
const GOSSIP: Duration = Duration::from_secs(10);
/// A zone version reaching the peer over QUIC.
const SPREAD: Duration = Duration::from_secs(10);
const REJECTED: &str = "understudy_gossip_datagrams_rejected_total";
const DATAGRAMS: &str = "understudy_gossip_datagrams_total";
const CONNECTIONS: &str = "understudy_quic_connections_total";

/// CAs, node certificates and gossip keys, made by `understudy cert`.
struct Pki {
    dir: TestDir,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: TestDir::new("rotation-pki"),
        }
    }

    /// Makes CA `name` (a directory holding `ca.pem`); returns the CA file.
    fn ca(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        run_ok(cert(&["ca", "--out", &dir.display().to_string()]));
        dir.join("ca.pem")
    }

    /// Makes node `id`'s certificate from CA `ca`; returns (cert, key).
    fn node(&self, ca: &str, id: &str) -> (PathBuf, PathBuf) {
        let dir = self.dir.join(ca).display().to_string();
        run_ok(cert(&["node", id, "--ca", &dir, "--out", &dir]));
        let dir = self.dir.join(ca);
        (dir.join(format!("{id}.pem")), dir.join(format!("{id}.key")))
    }

    /// A fresh gossip key, one line of base64.
    fn gossip_key(&self) -> String {
        run_ok(cert(&["gossip-key"])).trim().to_string()
    }

    /// Writes node `id`'s key file with `keys`, the first signing.
    fn key_file(&self, id: &str, keys: &[&str]) -> PathBuf {
        self.dir
            .write(&format!("{id}.cluster.key"), &(keys.join("\n") + "\n"))
    }
}

fn cert(args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.arg("cert").args(args);
    command
}

/// The `revoked` entry naming a certificate by its serial, as `understudy
/// cert show` prints it.
fn serial_entry(certificate: &Path) -> String {
    let shown = run_ok(cert(&["show", &certificate.display().to_string()]));
    shown
        .lines()
        .find_map(|line| line.strip_prefix("revoked entry: \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|entry| entry.starts_with("serial:"))
        .unwrap_or_else(|| panic!("no serial entry in `cert show`:\n{shown}"))
        .to_string()
}

/// One node's `[cluster]` table, changed step by step.
#[derive(Clone)]
struct Membership {
    addrs: ClusterAddrs,
    seeds: Vec<SocketAddr>,
    key_file: PathBuf,
    cas: Vec<PathBuf>,
    cert: PathBuf,
    key: PathBuf,
    revoked: Vec<String>,
}

impl Membership {
    fn table(&self) -> String {
        let quoted = |items: Vec<String>| {
            items
                .iter()
                .map(|item| format!("\"{item}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "[cluster]\nname = \"{CLUSTER}\"\ngossip_listen = \"{}\"\nquic_listen = \"{}\"\n\
             seeds = [{}]\nkey_file = \"{}\"\nca_cert = [{}]\ncert = \"{}\"\nkey = \"{}\"\n\
             revoked = [{}]",
            self.addrs.gossip,
            self.addrs.quic,
            quoted(self.seeds.iter().map(SocketAddr::to_string).collect()),
            self.key_file.display(),
            quoted(self.cas.iter().map(|ca| ca.display().to_string()).collect()),
            self.cert.display(),
            self.key.display(),
            quoted(self.revoked.clone()),
        )
    }
}

/// A running node and the `[cluster]` table its file holds.
struct Member {
    node: Understudy,
    base: Config,
    membership: Membership,
}

impl Member {
    fn start(base: Config, membership: Membership) -> Member {
        let node = Understudy::start(with_cluster(&base, &membership));
        Member {
            node,
            base,
            membership,
        }
    }

    /// Rewrites the config file with `change` applied, then `ctl reload`;
    /// returns the daemon's answer, failing the test on an error.
    fn reload_with(&mut self, change: impl FnOnce(&mut Membership)) -> String {
        let (ok, answer) = self.try_reload(change);
        assert!(
            ok,
            "{}: ctl reload failed: {answer}\n{}",
            self.base.node_id,
            self.node.log()
        );
        eprintln!("{}: {}", self.base.node_id, answer.trim());
        answer
    }
}

impl Member {
    /// Rewrites the config file with `change` applied, then `ctl reload`;
    /// returns whether it succeeded and the answer.
    fn try_reload(&mut self, change: impl FnOnce(&mut Membership)) -> (bool, String) {
        change(&mut self.membership);
        self.node
            .reconfigure(with_cluster(&self.base, &self.membership));
        self.node.ctl(&["reload"])
    }

    /// Like [`Member::try_reload`], expecting a refusal that says nothing
    /// changed.
    fn reload_refused(&mut self, change: impl FnOnce(&mut Membership)) -> String {
        let (ok, answer) = self.try_reload(change);
        assert!(
            !ok,
            "{}: a broken reload was accepted: {answer}",
            self.base.node_id
        );
        assert!(answer.contains("nothing changed"), "{answer}");
        eprintln!("{}: {}", self.base.node_id, answer.trim());
        answer
    }
}

/// The id of the signing key in a reload's answer.
fn signing(answer: &str) -> String {
    answer
        .split("(signing ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no signing key in {answer:?}"))
        .to_string()
}

fn with_cluster(base: &Config, membership: &Membership) -> Config {
    let mut config = base.clone();
    config.tables.push(membership.table());
    config
}

fn metric(node: &Understudy, name: &str, labels: &[(&str, &str)]) -> f64 {
    node.metrics().sum(name, labels)
}

/// Whether `node`'s `ctl cluster members` holds `peer` alive (false while
/// the control socket is not up yet).
fn sees_alive(node: &Understudy, peer: &str) -> bool {
    let (ok, text) = node.ctl(&["cluster", "members", "--json"]);
    let Some(view) = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .filter(|_| ok)
    else {
        return false;
    };
    view["cluster"]["members"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|member| member["id"] == peer && member["state"] == "alive")
}

/// Both nodes accept several more of each other's datagrams, reject none
/// at all, and hold each other alive.
fn gossip_flows(a: &Member, b: &Member, step: &str) {
    let pair = [(a, b), (b, a)];
    let before: Vec<f64> = pair
        .iter()
        .map(|(node, _)| metric(&node.node, DATAGRAMS, &[("direction", "received")]))
        .collect();
    for ((node, peer), before) in pair.iter().zip(before) {
        wait_until(
            GOSSIP,
            &format!("{step}: gossip reaches {}", node.base.node_id),
            || metric(&node.node, DATAGRAMS, &[("direction", "received")]) >= before + 3.0,
        );
        let rejected = metric(&node.node, REJECTED, &[]);
        assert_eq!(
            rejected,
            0.0,
            "{step}: {} rejected gossip datagrams:\n{}",
            node.base.node_id,
            node.node.metrics().text
        );
        assert!(
            sees_alive(&node.node, &peer.base.node_id),
            "{step}: {} no longer holds {} alive",
            node.base.node_id,
            peer.base.node_id
        );
    }
}

/// Two nodes gossiping with key `k1`, certificates of CA `ca1`, seeded
/// with each other's gossip address.
fn pair(pki: &Pki, key: &str) -> (Membership, Membership) {
    let ca = pki.ca("ca1");
    let addrs = [ClusterAddrs::new(), ClusterAddrs::new()];
    let [a, b] = ["rot-a", "rot-b"].map(|id| {
        let (cert, key_path) = pki.node("ca1", id);
        (id, cert, key_path)
    });
    let membership = |index: usize, (id, cert, key_path): (&str, PathBuf, PathBuf)| Membership {
        addrs: addrs[index],
        seeds: vec![addrs[1 - index].gossip],
        key_file: pki.key_file(id, &[key]),
        cas: vec![ca.clone()],
        cert,
        key: key_path,
        revoked: Vec::new(),
    };
    (membership(0, a), membership(1, b))
}

#[test]
fn the_gossip_key_rotates_on_reload_while_gossip_keeps_being_accepted() {
    let pki = Pki::new();
    let (old, new) = (pki.gossip_key(), pki.gossip_key());
    let (first, second) = pair(&pki, &old);
    let mut a = Member::start(Config::new("rot-a"), first);
    let mut b = Member::start(Config::new("rot-b"), second);
    wait_until(GOSSIP, "the two nodes see each other", || {
        sees_alive(&a.node, "rot-b") && sees_alive(&b.node, "rot-a")
    });
    gossip_flows(&a, &b, "before the rotation");

    // The safe order: every node learns the new key before any signs with
    // it, and every node signs with it before any forgets the old one.
    let mut signing_ids = Vec::new();
    for member in [&mut a, &mut b] {
        let answer = member.reload_with(|m| rewrite(&m.key_file, &[&old, &new]));
        assert!(answer.contains("cluster keys: 2"), "{answer}");
        signing_ids.push(signing(&answer));
    }
    gossip_flows(&a, &b, "new key verifying");
    for member in [&mut a, &mut b] {
        let answer = member.reload_with(|m| rewrite(&m.key_file, &[&new, &old]));
        signing_ids.push(signing(&answer));
    }
    gossip_flows(&a, &b, "new key signing");
    for member in [&mut a, &mut b] {
        let answer = member.reload_with(|m| rewrite(&m.key_file, &[&new]));
        assert!(answer.contains("cluster keys: 1"), "{answer}");
        signing_ids.push(signing(&answer));
    }
    gossip_flows(&a, &b, "old key dropped");
    let (old_id, new_id) = (signing_ids[0].as_str(), signing_ids[2].as_str());
    assert_ne!(old_id, new_id, "{signing_ids:?}");
    assert_eq!(
        signing_ids,
        [old_id, old_id, new_id, new_id, new_id, new_id],
        "the same key has the same id on both nodes"
    );

    // A key file that cannot be used is refused and the keys in force stay.
    a.reload_refused(|m| rewrite(&m.key_file, &["not base64!"]));
    gossip_flows(&a, &b, "after a refused reload");

    // The keys really changed: a node given a key its peer never heard of
    // is rejected by it, and the old key no longer gets through either.
    let stranger = pki.gossip_key();
    a.reload_with(|m| rewrite(&m.key_file, &[&stranger, &old]));
    wait_until(GOSSIP, "rot-b rejects rot-a's unknown key", || {
        metric(&b.node, REJECTED, &[]) >= 3.0
    });
}

/// Writes `keys` over the key file at `path`, the first signing.
fn rewrite(path: &Path, keys: &[&str]) {
    std::fs::write(path, keys.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
fn the_ca_rotates_on_reload_while_peers_keep_fetching_and_a_revoked_node_is_refused() {
    let pki = Pki::new();
    let key = pki.gossip_key();
    let (first, second) = pair(&pki, &key);
    // rot-a transfers from the primary; rot-b can only fetch from rot-a.
    let knot_port = understudy_e2e::free_port();
    let knot = SocketAddr::from(([127, 0, 0, 1], knot_port));
    let base_a = Config::new("rot-a").zone(ZoneConfig::new(EXAMPLE, &[knot]));
    let base_b = Config::new("rot-b").zone(ZoneConfig::new(EXAMPLE, &[free_addr()]));
    let spec = ServerSpec::new()
        .primary_zone(EXAMPLE, &example(1, 20))
        .ixfr()
        .notify(node_addr(&base_a))
        .port(knot_port);
    let mut primary = Server::start(Kind::Knot, spec);
    let mut a = Member::start(base_a, first);
    let mut b = Member::start(base_b, second);
    b.node.wait_serial(EXAMPLE, 1, FIRST_TRANSFER);
    assert_eq!(source(&b.node, EXAMPLE).as_deref(), Some("peer rot-a"));

    // A certificate that cannot be read is refused and changes nothing.
    let cert = a.membership.cert.clone();
    let answer = a.reload_refused(|m| m.cert = m.cert.with_extension("missing"));
    assert!(answer.contains("rot-a.missing"), "{answer}");
    a.membership.cert = cert;

    // Trust both CAs, move to certificates of the new one, drop the old.
    let ca2 = pki.ca("ca2");
    for member in [&mut a, &mut b] {
        let answer = member.reload_with(|m| m.cas.push(ca2.clone()));
        assert!(answer.contains("2 CAs"), "{answer}");
    }
    for member in [&mut a, &mut b] {
        let (cert, key) = pki.node("ca2", &member.base.node_id);
        member.reload_with(|m| (m.cert, m.key) = (cert, key));
    }
    for member in [&mut a, &mut b] {
        let answer = member.reload_with(|m| m.cas.retain(|ca| ca == &ca2));
        assert!(answer.contains("1 CA,"), "{answer}");
    }
    let accepted = metric(&a.node, CONNECTIONS, &[("result", "accepted")]);
    primary.update_zone(EXAMPLE, &example_changed(2, 20, 2));
    let took = b.node.wait_serial(EXAMPLE, 2, SPREAD);
    eprintln!("serial 2 reached rot-b over QUIC {took:?} after the CA rotation");
    assert_eq!(source(&b.node, EXAMPLE).as_deref(), Some("peer rot-a"));
    assert!(
        metric(&a.node, CONNECTIONS, &[("result", "accepted")]) > accepted,
        "rot-b fetched serial 2 without a new handshake on the new certificates"
    );

    // Revoke rot-b's certificate on rot-a only.
    let revoked = serial_entry(&b.membership.cert);
    let refused = metric(&a.node, CONNECTIONS, &[("result", "refused")]);
    let answer = a.reload_with(|m| m.revoked.push(revoked));
    assert!(answer.contains("1 revoked"), "{answer}");
    primary.update_zone(EXAMPLE, &example_changed(3, 20, 3));
    a.node.wait_serial(EXAMPLE, 3, SPREAD);
    wait_until(SPREAD, "rot-a refuses rot-b's connection", || {
        metric(&a.node, CONNECTIONS, &[("result", "refused")]) > refused
    });
    let fetched = poll_until(Duration::from_secs(3), || b.node.serial(EXAMPLE) == Some(3));
    assert!(
        !fetched,
        "rot-b fetched serial 3 from rot-a with a revoked certificate"
    );
    assert_eq!(b.node.serial(EXAMPLE), Some(2));
}
