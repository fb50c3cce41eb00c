//! The manager's fleet commands, in process: a real config (with cluster
//! credentials made by `understudy cert`'s code), a real store and writer.

use std::path::Path;
use std::sync::Arc;

use ring::rand::SystemRandom;
use tokio::sync::oneshot;
use understudy_proto::Name;
use understudy_proto::fleet::{EntryState, ZoneList};

use crate::cert::{gossip_key, write_ca, write_node};
use crate::clock::Clock;
use crate::config::{Config, ZoneSpec};
use crate::control::{Command as ControlCommand, Response};
use crate::fleet::FleetList;
use crate::manager::{Command, Manager, Shared, start_writer};
use crate::store::Store;
use crate::store::scratch::Scratch;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// A node's directory: config, credentials, data.
struct Node {
    dir: Scratch,
    clustered: bool,
}

impl Node {
    fn new(purpose: &str, clustered: bool) -> Node {
        let dir = Scratch::new(purpose);
        if clustered {
            let random = SystemRandom::new();
            write_ca(&dir.path().join("ca"), 30, &random).unwrap();
            write_node("n1", &dir.path().join("ca"), dir.path(), 30, &random).unwrap();
            dir.write("cluster.key", &gossip_key(&random).unwrap());
        }
        Node { dir, clustered }
    }

    fn config(&self) -> Arc<Config> {
        let cluster = if self.clustered {
            "[cluster]\nname = \"t\"\ngossip_listen = \"127.0.0.1:0\"\nquic_listen = \"127.0.0.1:0\"\n\
             key_file = \"cluster.key\"\nca_cert = \"ca/ca.pem\"\ncert = \"n1.pem\"\nkey = \"n1.key\"\n"
        } else {
            ""
        };
        let text = format!(
            "version = 1\n[node]\nid = \"n1\"\ndata_dir = \"data\"\n{cluster}\
             [[zone]]\nname = \"own.example.\"\nprimaries = [\"127.0.0.1:1\"]\n\
             [[catalog]]\nzone = \"own.example.\"\n"
        );
        Arc::new(Config::parse(&text, self.dir.path(), Path::new("t.toml")).unwrap())
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// A manager as the daemon starts it: config zones, `zones.json`,
    /// then `publish_loaded`.
    fn manager(&self) -> (Manager, Arc<Shared>, crate::manager::writer::WriterThread) {
        let config = self.config();
        let store = Arc::new(Store::open(&config.node.data_dir).unwrap());
        let (writer, thread) = start_writer(store.clone()).unwrap();
        let shared = Arc::new(Shared::default());
        let mut manager = Manager::new(
            config.clone(),
            Clock::start(),
            shared.clone(),
            writer,
            Vec::new(),
            None,
        );
        for zone in &config.zones {
            manager.load_zone(zone.clone(), super::ZoneOrigin::Config, &store);
        }
        for spec in store.read_zones().unwrap() {
            let zone = config.resolve_zone(&spec).unwrap();
            manager.load_zone(zone, super::ZoneOrigin::Runtime, &store);
        }
        manager.publish_loaded();
        (manager, shared, thread)
    }
}

fn control(manager: &mut Manager, command: ControlCommand) -> Response {
    let (reply, mut response) = oneshot::channel();
    manager.handle_command(Command::Control { command, reply });
    response.try_recv().unwrap()
}

fn add(manager: &mut Manager, zone: &str) -> Response {
    let spec = ZoneSpec {
        name: zone.into(),
        primaries: vec!["127.0.0.1:1".into()],
        ..ZoneSpec::default()
    };
    control(manager, ControlCommand::ZoneAdd(Box::new(spec)))
}

/// Whether the zone is published to the NOTIFY and transfer paths (every
/// managed zone is, with or without data yet).
fn served(shared: &Shared, zone: &str) -> bool {
    shared.access.load().contains_key(&name(zone))
}

fn stop(manager: Manager, thread: crate::manager::writer::WriterThread) {
    drop(manager);
    thread.join();
}

#[test]
fn a_clustered_add_goes_into_the_fleet_list_and_survives_a_restart() {
    let node = Node::new("fleet-cmd-add", true);
    let (mut manager, shared, thread) = node.manager();
    let response = add(&mut manager, "x.example.");
    assert!(matches!(&response, Response::Done { message } if message.contains("whole fleet")));
    assert!(served(&shared, "x.example."));
    let list = manager.fleet_list().unwrap();
    let entry = list.entry(&name("x.example.")).unwrap();
    assert_eq!(entry.tag.node, "n1");
    assert_eq!(entry.live().unwrap().primaries, ["127.0.0.1:1"]);
    stop(manager, thread);

    let on_disk = FleetList::open(&node.data(), "n1");
    assert!(on_disk.entry(&name("x.example.")).is_some());
    let (manager, shared, thread) = node.manager();
    assert!(served(&shared, "x.example."));
    assert!(served(&shared, "own.example."));
    stop(manager, thread);
}

#[test]
fn a_clustered_remove_leaves_a_tombstone_and_config_zones_stay() {
    let node = Node::new("fleet-cmd-remove", true);
    let (mut manager, shared, thread) = node.manager();
    add(&mut manager, "x.example.");
    let response = control(&mut manager, ControlCommand::ZoneRemove(name("x.example.")));
    assert!(matches!(response, Response::Done { .. }), "{response:?}");
    assert!(!served(&shared, "x.example."));
    let list = manager.fleet_list().unwrap();
    assert_eq!(
        list.entry(&name("x.example.")).unwrap().state,
        EntryState::Removed
    );
    let refused = control(
        &mut manager,
        ControlCommand::ZoneRemove(name("own.example.")),
    );
    assert!(matches!(refused, Response::Error { .. }));
    assert!(served(&shared, "own.example."));
    stop(manager, thread);
    let (manager, shared, thread) = node.manager();
    assert!(!served(&shared, "x.example."));
    stop(manager, thread);
}

#[test]
fn a_merged_peer_list_is_applied_and_cannot_override_a_config_zone() {
    let node = Node::new("fleet-cmd-merge", true);
    let (mut manager, shared, thread) = node.manager();
    add(&mut manager, "x.example.");
    let list = manager.fleet_list().unwrap();
    let mut peer = ZoneList::new();
    peer.merge(&list.snapshot());
    peer.remove(name("x.example."), "n2");
    let fleet = crate::fleet::convert::to_fleet(&ZoneSpec {
        name: "y.example.".into(),
        primaries: vec!["127.0.0.1:2".into()],
        ..ZoneSpec::default()
    });
    peer.add(name("y.example."), fleet.clone(), "n2");
    peer.add(name("own.example."), fleet, "n2");
    list.merge_bytes(&peer.to_bytes()).unwrap();
    manager.handle_command(Command::Fleet);
    assert!(!served(&shared, "x.example."));
    assert!(served(&shared, "y.example."));
    let own = &manager.zones[&name("own.example.")];
    let first: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
    assert_eq!(own.config.primaries, [first]);
    stop(manager, thread);
}

#[test]
fn a_single_node_keeps_its_run_time_zones_to_itself() {
    let node = Node::new("fleet-cmd-single", false);
    let (mut manager, shared, thread) = node.manager();
    let response = add(&mut manager, "x.example.");
    assert!(matches!(&response, Response::Done { message } if !message.contains("fleet")));
    assert!(served(&shared, "x.example."));
    let list = manager.fleet_list().unwrap();
    assert!(list.snapshot().is_empty());
    stop(manager, thread);
    let (manager, shared, thread) = node.manager();
    assert!(served(&shared, "x.example."));
    stop(manager, thread);
}

#[test]
fn a_member_of_a_catalog_read_here_is_not_removed_by_hand_one_of_another_is() {
    let node = Node::new("fleet-cmd-members", true);
    let (mut manager, shared, thread) = node.manager();
    let member = |catalog: &str| {
        let mut fleet = crate::fleet::convert::to_fleet(&ZoneSpec {
            name: String::new(),
            primaries: vec!["127.0.0.1:2".into()],
            ..ZoneSpec::default()
        });
        fleet.catalog = Some(name(catalog));
        fleet.member_id = Some(b"m1".to_vec());
        fleet
    };
    let mut peer = ZoneList::new();
    peer.add(name("ours.example."), member("own.example."), "n2");
    peer.add(
        name("theirs.example."),
        member("other-catalog.example."),
        "n2",
    );
    manager
        .fleet_list()
        .unwrap()
        .merge_bytes(&peer.to_bytes())
        .unwrap();
    manager.handle_command(Command::Fleet);
    assert!(served(&shared, "ours.example.") && served(&shared, "theirs.example."));

    let refused = control(
        &mut manager,
        ControlCommand::ZoneRemove(name("ours.example.")),
    );
    assert!(matches!(&refused, Response::Error { message } if message.contains("catalog")));
    assert!(served(&shared, "ours.example."));
    let removed = control(
        &mut manager,
        ControlCommand::ZoneRemove(name("theirs.example.")),
    );
    assert!(
        matches!(&removed, Response::Done { message } if message.contains("adds it back")),
        "{removed:?}"
    );
    assert!(!served(&shared, "theirs.example."));
    stop(manager, thread);
}
