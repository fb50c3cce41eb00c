//! The sync task between two real QUIC endpoints with certificates of one
//! cluster CA (made by `understudy cert`'s code) on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ring::rand::SystemRandom;
use tokio::sync::{mpsc, watch};
use understudy_proto::Name;
use understudy_proto::fleet::FleetZone;

use super::*;
use crate::cert::{write_ca, write_node};
use crate::cluster::status::{ClusterShared, ClusterStatus, MemberStatus};
use crate::cluster::{
    ClientSettings, ClusterEndpoint, LocalZones, PeerClient, PeerServer, QuicSettings, Serving,
    TlsMaterial,
};
use crate::manager::Command;
use crate::store::scratch::Scratch;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn spec(primary: &str) -> FleetZone {
    FleetZone {
        primaries: vec![primary.into()],
        ..FleetZone::default()
    }
}

/// What a node's peer server answers: its fleet list, and no zone data.
struct ListOnly(Option<Arc<FleetList>>);

impl LocalZones for ListOnly {
    fn serving(&self, _zone: &Name) -> Option<Serving> {
        None
    }

    fn zone_list(&self) -> Vec<u8> {
        match &self.0 {
            Some(list) => list.encoded(),
            None => b"USZL\x01 not a list".to_vec(),
        }
    }
}

/// One node: its list on disk, its QUIC endpoint serving it, and a sync
/// task that sees the other node as its only live peer.
struct Node {
    list: Arc<FleetList>,
    endpoint: ClusterEndpoint,
    cluster: Arc<ClusterShared>,
    manager: mpsc::Receiver<Command>,
    sync: FleetSync<PeerClient>,
    _data: Scratch,
}

impl Node {
    fn start(id: &str, ca: &std::path::Path, pki: &Scratch, garbage: bool) -> Node {
        let data = Scratch::new(&format!("fleet-sync-{id}"));
        let list = Arc::new(FleetList::open(data.path(), id));
        let (certificate, key) =
            write_node(id, ca, &pki.path().join(id), 30, &SystemRandom::new()).unwrap();
        let material =
            TlsMaterial::load(&[ca.join("ca.pem")], &certificate, &key, Vec::new()).unwrap();
        let quic = QuicSettings::new(id, SocketAddr::from(([127, 0, 0, 1], 0)));
        let endpoint = ClusterEndpoint::bind(quic, &material).unwrap();
        let served = ListOnly((!garbage).then(|| list.clone()));
        endpoint.serve(Arc::new(PeerServer::new(Arc::new(served), 2)));
        let cluster = Arc::new(ClusterShared::default());
        let (sender, manager) = mpsc::channel(16);
        let client = PeerClient::new(endpoint.clone(), ClientSettings::default());
        let settings = SyncSettings {
            interval_min: Duration::from_millis(50),
            interval_max: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
        };
        let sync = FleetSync::new(list.clone(), client, cluster.clone(), sender, settings);
        Node {
            list,
            endpoint,
            cluster,
            manager,
            sync,
            _data: data,
        }
    }

    fn sees(&self, id: &str, other: &Node) {
        let member = MemberStatus {
            id: id.into(),
            region: "r".into(),
            generation: 1,
            alive: true,
            quic: Some(other.endpoint.local_addr().unwrap()),
            dns: None,
            rtt: None,
            zones: Vec::new(),
        };
        self.cluster.publish(ClusterStatus {
            node: "self".into(),
            members: vec![member],
            ..ClusterStatus::default()
        });
    }
}

fn pki() -> (Scratch, std::path::PathBuf) {
    let pki = Scratch::new("fleet-pki");
    let ca = pki.path().join("ca");
    write_ca(&ca, 30, &SystemRandom::new()).unwrap();
    (pki, ca)
}

fn pair() -> (Node, Node, Scratch) {
    let (pki, ca) = pki();
    let a = Node::start("node-a", &ca, &pki, false);
    let b = Node::start("node-b", &ca, &pki, false);
    a.sees("node-b", &b);
    b.sees("node-a", &a);
    (a, b, pki)
}

#[tokio::test]
async fn an_add_on_one_node_and_a_remove_on_the_other_reach_both() {
    let (a, b, _pki) = pair();
    b.list.add(&name("x.example."), spec("192.0.2.1")).unwrap();
    assert_eq!(a.sync.pull_once().await.unwrap(), 1);
    assert!(a.list.entry(&name("x.example.")).unwrap().live().is_some());
    assert_eq!(a.list.digest(), b.list.digest());

    a.list.remove(&name("x.example.")).unwrap();
    assert_eq!(b.sync.pull_once().await.unwrap(), 1);
    assert!(b.list.entry(&name("x.example.")).unwrap().live().is_none());
    assert_eq!(a.list.digest(), b.list.digest());
    assert_eq!(a.sync.pull_once().await.unwrap(), 0);
}

#[tokio::test]
async fn a_concurrent_add_and_remove_end_the_same_on_both_nodes() {
    let (a, b, _pki) = pair();
    a.list.add(&name("y.example."), spec("192.0.2.1")).unwrap();
    b.list.remove(&name("y.example.")).unwrap();
    a.sync.pull_once().await.unwrap();
    b.sync.pull_once().await.unwrap();
    assert_eq!(a.list.digest(), b.list.digest());
    // node-b's removal came later (or in the same millisecond, where the
    // higher node id wins): it wins on both nodes.
    assert!(a.list.entry(&name("y.example.")).unwrap().live().is_none());
}

#[tokio::test]
async fn the_running_task_tells_the_manager_when_the_list_changed() {
    let (a, b, _pki) = pair();
    let Node {
        sync, mut manager, ..
    } = a;
    let (stop, stopping) = watch::channel(false);
    let task = tokio::spawn(sync.run(stopping));
    b.list.add(&name("z.example."), spec("192.0.2.1")).unwrap();
    let told = tokio::time::timeout(Duration::from_secs(5), manager.recv()).await;
    assert!(matches!(told, Ok(Some(Command::Fleet))));
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_peer_sending_garbage_changes_nothing() {
    let (pki, ca) = pki();
    let a = Node::start("node-a", &ca, &pki, false);
    let liar = Node::start("node-liar", &ca, &pki, true);
    a.sees("node-liar", &liar);
    a.list.add(&name("x.example."), spec("192.0.2.1")).unwrap();
    let before = a.list.encoded();
    let error = a.sync.pull_once().await.unwrap_err();
    assert!(matches!(error, PullError::Merge { .. }), "{error}");
    assert_eq!(a.list.encoded(), before);
}

#[tokio::test]
async fn no_live_peer_is_no_pull() {
    let (pki, ca) = pki();
    let a = Node::start("node-a", &ca, &pki, false);
    assert!(matches!(a.sync.pull_once().await, Err(PullError::NoPeer)));
}
