//! Trust at the cluster's edges, against real processes on loopback: nodes
//! of a foreign cluster get neither gossip nor QUIC through, forged and
//! replayed gossip datagrams are dropped and counted without touching
//! membership, and a snapshot corrupted on disk is set aside instead of
//! being served or forwarded to a peer.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use understudy_e2e::cluster::{self, ClusterAddrs, Credentials, member, peer_installs, source};
use understudy_e2e::dig::dig;
use understudy_e2e::env::free_addr;
use understudy_e2e::interop::{FIRST_TRANSFER, node_addr};
use understudy_e2e::zones::{EXAMPLE, example, example_changed};
use understudy_e2e::{
    Config, Kind, Server, ServerSpec, Understudy, ZoneConfig, free_port, poll_until, wait_until,
};

/// Gossip rounds are a second apart; a loaded machine gets slack.
const GOSSIP: Duration = Duration::from_secs(10);
/// A zone version reaching a peer over QUIC, or a fetch attempt failing,
/// after gossip showed it (backoff included).
const SPREAD: Duration = Duration::from_secs(20);
/// How long something that must not happen is watched for.
const WATCH: Duration = Duration::from_secs(4);
const REJECTED: &str = "understudy_gossip_datagrams_rejected_total";
const CONNECTIONS: &str = "understudy_quic_connections_total";

fn metric(node: &Understudy, name: &str, labels: &[(&str, &str)]) -> f64 {
    node.metrics().sum(name, labels)
}

fn total(nodes: &[&Understudy], name: &str, labels: &[(&str, &str)]) -> f64 {
    nodes.iter().map(|node| metric(node, name, labels)).sum()
}

/// `ctl cluster members` of `node`: (id, state) of each member, sorted;
/// `None` while the control socket is not up.
fn members(node: &Understudy) -> Option<Vec<(String, String)>> {
    let (ok, text) = node.ctl(&["cluster", "members", "--json"]);
    let view: serde_json::Value = serde_json::from_str(&text).ok().filter(|_| ok)?;
    let mut found: Vec<(String, String)> = view["cluster"]["members"]
        .as_array()?
        .iter()
        .map(|m| {
            let text = |key: &str| m[key].as_str().unwrap_or_default().to_string();
            (text("id"), text("state"))
        })
        .collect();
    found.sort();
    Some(found)
}

fn sees_alive(node: &Understudy, peer: &str) -> bool {
    members(node)
        .unwrap_or_default()
        .iter()
        .any(|(id, state)| id == peer && state == "alive")
}

fn knows(node: &Understudy, peer: &str) -> bool {
    members(node)
        .unwrap_or_default()
        .iter()
        .any(|(id, _)| id == peer)
}

/// A Knot primary of `EXAMPLE` at serial 1 that notifies `notify`.
fn primary(port: u16, notify: &Config) -> Server {
    let spec = ServerSpec::new()
        .primary_zone(EXAMPLE, &example(1, 20))
        .ixfr()
        .notify(node_addr(notify))
        .port(port);
    Server::start(Kind::Knot, spec)
}

/// A node `id` serving `EXAMPLE` from `primary` only.
fn zone_node(id: &str, primary: SocketAddr) -> Config {
    Config::new(id).zone(ZoneConfig::new(EXAMPLE, &[primary]))
}

/// Whether `node` answers `EXAMPLE` with the data of the serial it
/// reports (the sentinel TXT names the serial it was generated for).
fn data_matches_serial(node: &Understudy) -> bool {
    let Some(serial) = node.serial(EXAMPLE) else {
        return false;
    };
    let txt = dig(node.addr(), &["serial.example.test.", "TXT"]);
    txt.answers_of("TXT")
        .first()
        .is_some_and(|answer| answer.rdata == format!("\"{serial}\""))
}

#[test]
fn nodes_of_a_foreign_cluster_get_no_gossip_or_quic_through_and_never_the_zone() {
    let ours = Credentials::new();
    let theirs = Credentials::new();
    let knot = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (a_addrs, b_addrs) = (ClusterAddrs::new(), ClusterAddrs::new());
    let a_config = member(zone_node("trust-a", knot), "one", a_addrs, &[], &ours);
    let b_config = zone_node("trust-b", free_addr());
    let b_config = member(b_config, "one", b_addrs, &[a_addrs.gossip], &ours);
    let mut primary = primary(knot.port(), &a_config);
    let a = Understudy::start(a_config);
    let b = Understudy::start(b_config);
    cluster::wait_all(&[&a, &b], EXAMPLE, 1, FIRST_TRANSFER);
    let real = [&a, &b];
    let bad_mac = total(&real, REJECTED, &[("reason", "bad-mac")]);
    let refused = total(&real, CONNECTIONS, &[("result", "refused")]);

    // Same cluster name and seeds, but its own CA and its own gossip key.
    let seeds = [a_addrs.gossip, b_addrs.gossip];
    let stranger = zone_node("trust-stranger", free_addr());
    let stranger = member(stranger, "one", ClusterAddrs::new(), &seeds, &theirs);
    let stranger = Understudy::start(stranger);
    // The cluster's gossip key, but a certificate of another CA: it hears
    // the serial in gossip and can only try QUIC.
    let impostor = zone_node("trust-impostor", free_addr());
    let mut impostor = member(impostor, "one", ClusterAddrs::new(), &seeds, &theirs);
    let (their_key, our_key) = (theirs.key_file(), ours.key_file());
    for table in &mut impostor.tables {
        *table = table.replace(
            &their_key.display().to_string(),
            &our_key.display().to_string(),
        );
    }
    let impostor = Understudy::start(impostor);

    wait_until(
        GOSSIP,
        "the real nodes reject the stranger's gossip",
        || total(&real, REJECTED, &[("reason", "bad-mac")]) >= bad_mac + 3.0,
    );
    wait_until(SPREAD, "the real nodes refuse the impostor's QUIC", || {
        total(&real, CONNECTIONS, &[("result", "refused")]) > refused
    });
    wait_until(SPREAD, "the impostor's connects fail", || {
        metric(&impostor, CONNECTIONS, &[("result", "connect-failed")]) >= 1.0
    });

    eprintln!(
        "real nodes: {} stranger datagrams rejected (bad MAC), {} impostor connections refused",
        total(&real, REJECTED, &[("reason", "bad-mac")]) - bad_mac,
        total(&real, CONNECTIONS, &[("result", "refused")]) - refused,
    );

    // The real cluster keeps working next to them; they stay without data.
    primary.update_zone(EXAMPLE, &example_changed(2, 20, 2));
    cluster::wait_all(&real, EXAMPLE, 2, SPREAD);
    let served = poll_until(WATCH, || {
        stranger.serial(EXAMPLE).is_some() || impostor.serial(EXAMPLE).is_some()
    });
    assert!(!served, "a node of a foreign cluster serves the zone");
    assert_eq!(peer_installs(&stranger), 0, "{}", stranger.log());
    assert_eq!(peer_installs(&impostor), 0, "{}", impostor.log());
    for node in real {
        assert!(
            !knows(node, "trust-stranger"),
            "a real node lists the stranger: {:?}",
            members(node)
        );
    }
    assert!(
        !knows(&stranger, "trust-a") && !knows(&stranger, "trust-b"),
        "the stranger accepted the real nodes' gossip: {:?}",
        members(&stranger)
    );
}

/// A UDP relay between node `from`'s gossip socket and node `to`'s: what
/// `from` sends is recorded and forwarded to `to`; anything else that
/// reaches the relay goes back to `from`.
struct Relay {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(from: SocketAddr, to: SocketAddr) -> Relay {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the relay");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("relay read timeout");
        let addr = socket.local_addr().expect("relay address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (record, stopped) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buffer = vec![0; 65_536];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((len, sender)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                let datagram = &buffer[..len];
                if sender == from {
                    let _ = socket.send_to(datagram, to);
                    lock(&record).push(datagram.to_vec());
                } else {
                    let _ = socket.send_to(datagram, from);
                }
            }
        });
        Relay {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// The first datagram `from` sent through the relay, once there is one.
    fn first(&self) -> Vec<u8> {
        let mut first = None;
        wait_until(GOSSIP, "a datagram crosses the relay", || {
            first = lock(&self.seen).first().cloned();
            first.is_some()
        });
        first.unwrap_or_default()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A datagram in the gossip layout (`USG`, version 1, cluster, sender,
/// counter, message, fragment 0 of 1, payload) with a MAC of zeros.
fn forged_frame(cluster: &str, sender: &str, payload: &[u8]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let mut frame = b"USG\x01".to_vec();
    for name in [cluster, sender] {
        frame.push(name.len() as u8);
        frame.extend_from_slice(name.as_bytes());
    }
    frame.extend_from_slice(&now.to_be_bytes());
    frame.extend_from_slice(&now.to_be_bytes());
    frame.extend_from_slice(&[0, 1]);
    frame.extend_from_slice(payload);
    frame.extend_from_slice(&[0; 32]);
    frame
}

/// Bytes from a fixed xorshift sequence that do not start with `USG`.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_be_bytes()[0]
        })
        .collect();
    bytes[0] = b'!';
    bytes
}

const REASONS: [&str; 4] = ["malformed", "bad-mac", "foreign-cluster", "replayed"];

fn rejections(node: &Understudy) -> [f64; 4] {
    REASONS.map(|reason| metric(node, REJECTED, &[("reason", reason)]))
}

#[test]
fn forged_and_replayed_gossip_is_dropped_and_counted_and_changes_no_membership() {
    let credentials = Credentials::new();
    let (a_addrs, b_addrs) = (ClusterAddrs::new(), ClusterAddrs::new());
    let a = Understudy::start(member(
        Config::new("gossip-a"),
        "one",
        a_addrs,
        &[],
        &credentials,
    ));
    wait_until(GOSSIP, "gossip-a is up", || members(&a).is_some());
    // gossip-b only knows the relay, so its first datagrams to gossip-a
    // cross it and are recorded.
    let relay = Relay::start(b_addrs.gossip, a_addrs.gossip);
    let b = Understudy::start(member(
        Config::new("gossip-b"),
        "one",
        b_addrs,
        &[relay.addr],
        &credentials,
    ));
    wait_until(GOSSIP, "the two nodes see each other", || {
        sees_alive(&a, "gossip-b") && sees_alive(&b, "gossip-a")
    });
    let genuine = relay.first();
    assert_eq!(
        metric(&a, REJECTED, &[]),
        0.0,
        "gossip-a rejected genuine datagrams:\n{}",
        a.metrics().text
    );
    let before_members = members(&a).unwrap_or_default();
    let before = rejections(&a);

    let mut wrong_mac = genuine.clone();
    if let Some(last) = wrong_mac.last_mut() {
        *last ^= 0x01;
    }
    let mut foreign = genuine.clone();
    let cluster_len = usize::from(foreign[4]);
    foreign[5..5 + cluster_len].fill(b'x');
    let intruder = forged_frame(cluster::CLUSTER, "intruder", &noise(200));
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the forger's socket");
    for datagram in [noise(300), wrong_mac, foreign, intruder, genuine] {
        socket
            .send_to(&datagram, a_addrs.gossip)
            .expect("send a datagram to gossip-a");
    }
    let expected = [1.0, 2.0, 1.0, 1.0];
    let mut now = before;
    let counted = poll_until(GOSSIP, || {
        now = rejections(&a);
        (0..4).all(|i| now[i] >= before[i] + expected[i])
    });
    assert!(
        counted,
        "rejections by reason {REASONS:?}: before {before:?}, after {now:?}, \
         expected at least {expected:?} more"
    );
    eprintln!("gossip-a rejected {REASONS:?}: {before:?} -> {now:?}");

    // A few more gossip rounds: nothing of it shows in membership.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(members(&a).unwrap_or_default(), before_members);
    assert!(!knows(&a, "intruder") && !knows(&b, "intruder"));
    assert!(sees_alive(&a, "gossip-b") && sees_alive(&b, "gossip-a"));
}

/// The snapshot file of `EXAMPLE` under `data_dir`.
fn snapshot_file(data_dir: &Path) -> PathBuf {
    data_dir.join("example.test").join("snapshot")
}

fn corrupt_middle(path: &Path) {
    let mut bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
fn a_snapshot_corrupt_on_disk_is_set_aside_and_never_reaches_the_peer() {
    let credentials = Credentials::new();
    let knot = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (a_addrs, b_addrs) = (ClusterAddrs::new(), ClusterAddrs::new());
    let a_config = member(zone_node("disk-a", knot), "one", a_addrs, &[], &credentials);
    let b_config = zone_node("disk-b", free_addr());
    let b_config = member(b_config, "one", b_addrs, &[a_addrs.gossip], &credentials);
    let mut primary = primary(knot.port(), &a_config);
    let mut a = Understudy::start(a_config);
    let mut b = Understudy::start(b_config);
    cluster::wait_all(&[&a, &b], EXAMPLE, 1, FIRST_TRANSFER);

    // disk-a alone takes serial 2, then its copy of it is damaged on disk
    // while the primary goes away.
    assert!(b.stop(), "disk-b did not stop cleanly");
    primary.update_zone(EXAMPLE, &example_changed(2, 20, 2));
    a.wait_serial(EXAMPLE, 2, SPREAD);
    assert!(a.stop(), "disk-a did not stop cleanly");
    let snapshot = snapshot_file(&a.data_dir());
    corrupt_middle(&snapshot);
    primary.stop();

    b.restart();
    b.wait_serial(EXAMPLE, 1, Duration::from_secs(5));
    let installs = peer_installs(&b);
    a.restart();
    let aside = snapshot.with_file_name("snapshot.corrupt-1");
    wait_until(SPREAD, "disk-a moves the corrupt snapshot aside", || {
        aside.is_file()
    });

    // disk-b keeps serving good data; disk-a never serves the damaged copy.
    let mut seen = Vec::new();
    let broken = poll_until(WATCH, || {
        seen.push((a.serial(EXAMPLE), b.serial(EXAMPLE)));
        !data_matches_serial(&b) || a.serial(EXAMPLE) == Some(2)
    });
    assert!(
        !broken,
        "(disk-a, disk-b) serials over time: {seen:?}\n{}",
        a.log()
    );
    assert_eq!(b.serial(EXAMPLE), Some(1));
    assert_eq!(peer_installs(&b), installs, "{}", b.log());

    // disk-a takes the good version back from its peer.
    a.wait_serial(EXAMPLE, 1, SPREAD);
    assert!(data_matches_serial(&a));
    assert_eq!(source(&a, EXAMPLE).as_deref(), Some("peer disk-b"));
}
