//! Zones, certificates and endpoint pairs for the peer tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::rand::SystemRandom;
use understudy_proto::serial::ZoneVersion;
use understudy_proto::xfr::{Diff, Journal, JournalLimits};
use understudy_proto::zone::Snapshot;
use understudy_proto::{Class, Name, Record, Rtype, Soa};

use super::{ClientSettings, LocalZones, PeerClient, PeerServer, Serving};
use crate::cert::{write_ca, write_node};
use crate::cluster::{ClusterEndpoint, Peer, QuicSettings, RequestHandler, TlsMaterial};
use crate::manager::zone::ZoneData;
use crate::store::scratch::Scratch;

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn record(owner: Name, rtype: Rtype, rdata: Vec<u8>) -> Record {
    Record {
        owner,
        rtype,
        class: Class::IN,
        ttl: 3600,
        rdata: rdata.into(),
    }
}

/// `example.com` at `serial` with `hosts` A records; host `i` changes its
/// address at serial `i + 1`, so each serial step is a one-record diff.
pub fn records(serial: u32, hosts: u32) -> Vec<Record> {
    let apex = name("example.com.");
    let ns = name("ns1.example.com.");
    let soa = Soa {
        mname: ns.clone(),
        rname: name("hostmaster.example.com."),
        serial,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    let mut records = vec![
        record(apex.clone(), Rtype::SOA, soa.to_rdata().into()),
        record(apex, Rtype::NS, ns.as_wire().to_vec()),
        record(ns, Rtype::A, vec![192, 0, 2, 1]),
    ];
    for i in 0..hosts {
        let [_, b, c, d] = i.to_be_bytes();
        let changed = u8::from(i < serial);
        let owner = name(&format!("h{i}.example.com."));
        records.push(record(owner, Rtype::A, vec![10 + changed, b, c, d]));
    }
    records
}

/// The zone at `serial` with a journal of the diffs from `journal_from`.
pub fn zone_data(serial: u32, hosts: u32, journal_from: u32) -> Arc<ZoneData> {
    let zone = name("example.com.");
    let snapshot = Snapshot::build(&zone, records(serial, hosts)).unwrap();
    let mut journal = Journal::new(zone, JournalLimits::default());
    journal.reset(journal_from);
    for from in journal_from..serial {
        let diff = Diff::between(&records(from, hosts), &records(from + 1, hosts)).unwrap();
        journal.push(diff).unwrap();
    }
    Arc::new(ZoneData {
        snapshot: Arc::new(snapshot),
        journal: Arc::new(journal),
    })
}

/// What the test server serves.
#[derive(Default)]
pub struct Zones {
    pub served: Mutex<HashMap<Name, Serving>>,
    pub list: Vec<u8>,
}

impl Zones {
    pub fn serve(&self, epoch: u32, data: Arc<ZoneData>, confirmed_age: Option<Duration>) {
        let serving = Serving {
            version: ZoneVersion::new(epoch, data.snapshot.serial()),
            data,
            confirmed_age,
        };
        self.served
            .lock()
            .unwrap()
            .insert(name("example.com."), serving);
    }
}

impl LocalZones for Zones {
    fn serving(&self, zone: &Name) -> Option<Serving> {
        self.served.lock().unwrap().get(zone).cloned()
    }

    fn zone_list(&self) -> Vec<u8> {
        self.list.clone()
    }
}

/// A client endpoint and a server endpoint on loopback, with certificates
/// of one cluster CA made by `understudy cert`'s code.
pub struct Pair {
    pub client: PeerClient,
    pub server: Peer,
    endpoints: [ClusterEndpoint; 2],
    _pki: Scratch,
}

impl Pair {
    pub async fn new<H: RequestHandler>(handler: Arc<H>, settings: ClientSettings) -> Pair {
        let pki = Scratch::new("peer");
        let ca = pki.path().join("ca");
        write_ca(&ca, 30, &SystemRandom::new()).unwrap();
        let material = |id: &str| {
            let (certificate, key) =
                write_node(id, &ca, &pki.path().join("nodes"), 30, &SystemRandom::new()).unwrap();
            TlsMaterial::load(&[ca.join("ca.pem")], &certificate, &key, Vec::new()).unwrap()
        };
        let bind = |id: &str| {
            let mut quic = QuicSettings::new(id, SocketAddr::from(([127, 0, 0, 1], 0)));
            quic.connect_timeout = Duration::from_secs(5);
            quic.stream_idle_timeout = Duration::from_secs(5);
            ClusterEndpoint::bind(quic, &material(id)).unwrap()
        };
        let (client, server) = (bind("client-1"), bind("server-1"));
        server.serve(handler);
        let peer = Peer {
            id: "server-1".to_owned(),
            address: server.local_addr().unwrap(),
        };
        Pair {
            client: PeerClient::new(client.clone(), settings),
            server: peer,
            endpoints: [client, server],
            _pki: pki,
        }
    }

    /// A pair whose server is a [`PeerServer`] over `zones`.
    pub async fn serving(zones: Arc<Zones>, max_transfers: usize) -> Pair {
        let server = Arc::new(PeerServer::new(zones, max_transfers));
        Pair::new(server, ClientSettings::default()).await
    }

    /// The client's endpoint, for raw requests.
    pub fn client_endpoint(&self) -> &ClusterEndpoint {
        &self.endpoints[0]
    }

    pub async fn close(self) {
        for endpoint in &self.endpoints {
            endpoint.close().await;
        }
    }
}
