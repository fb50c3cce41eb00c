//! The prober: real DNS questions over UDP to every node several times a
//! second (the zone's SOA and the TXT naming the version), and a poll of
//! `understudy ctl zone status --json` on each node for where its copy
//! came from.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use understudy_proto::wire::{Message, MessageBuilder, Question};
use understudy_proto::{Class, Name, Rtype, Serial};

use super::fleet::NodeSpec;
use super::observe::{Outcome, Probe, Recorder, SourceSample};
use super::primary::{History, serial_owner};

/// How often and how patiently to probe.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// The zone asked about.
    pub zone: Name,
    /// Between two probes of one node.
    pub interval: Duration,
    /// How long to wait for the answers of one probe.
    pub timeout: Duration,
    /// Between two `ctl zone status` polls of one node.
    pub status_interval: Duration,
    /// The `understudy` binary (for `ctl`).
    pub binary: PathBuf,
    /// The address to ask from.
    pub source: std::net::Ipv4Addr,
}

/// Starts probing and polling every node; abort the handles to stop.
pub fn spawn(
    recorder: &Recorder,
    history: &History,
    nodes: &[NodeSpec],
    settings: &ProbeSettings,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let (probe_recorder, history, probe_settings) =
            (recorder.clone(), history.clone(), settings.clone());
        let target = node.dns;
        tasks.push(tokio::spawn(async move {
            probe_loop(index, target, &probe_recorder, &history, &probe_settings).await
        }));
        let (recorder, settings) = (recorder.clone(), settings.clone());
        let socket = node.control_socket();
        tasks.push(tokio::spawn(async move {
            status_loop(index, socket, &recorder, &settings).await
        }));
    }
    tasks
}

async fn probe_loop(
    node: usize,
    target: SocketAddr,
    recorder: &Recorder,
    history: &History,
    settings: &ProbeSettings,
) {
    let mut ticks = tokio::time::interval(settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut id: u16 = (node as u16).wrapping_mul(4_099);
    loop {
        ticks.tick().await;
        id = id.wrapping_add(2);
        let outcome = probe_once(target, id, settings, history).await;
        recorder.probe(Probe {
            at_ms: recorder.now_ms(),
            node,
            outcome,
        });
    }
}

/// Asks `target` the SOA and the version TXT, from a fresh socket so that a
/// refused datagram is reported for this probe only.
async fn probe_once(
    target: SocketAddr,
    id: u16,
    settings: &ProbeSettings,
    history: &History,
) -> Outcome {
    let Ok(socket) = UdpSocket::bind(SocketAddr::from((settings.source, 0))).await else {
        return Outcome::Timeout;
    };
    if socket.connect(target).await.is_err() {
        return Outcome::Refused;
    }
    let Ok(txt_owner) = serial_owner(&settings.zone) else {
        return Outcome::Timeout;
    };
    for (query_id, name, rtype) in [
        (id, &settings.zone, Rtype::SOA),
        (id.wrapping_add(1), &txt_owner, Rtype::TXT),
    ] {
        if socket.send(&query(query_id, name, rtype)).await.is_err() {
            return Outcome::Refused;
        }
    }
    let mut soa: Option<Message> = None;
    let mut txt: Option<Message> = None;
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let mut buffer = vec![0u8; 4_096];
    while soa.is_none() || txt.is_none() {
        match tokio::time::timeout_at(deadline, socket.recv(&mut buffer)).await {
            Err(_) => break,
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Outcome::Refused;
            }
            Ok(Err(_)) => break,
            Ok(Ok(len)) => match Message::parse(&buffer[..len]) {
                Ok(message) if message.header.id == id => soa = Some(message),
                Ok(message) if message.header.id == id.wrapping_add(1) => txt = Some(message),
                _ => {}
            },
        }
    }
    let Some(soa) = soa else {
        return Outcome::Timeout;
    };
    judge(&soa, txt.as_ref(), &settings.zone, history)
}

fn query(id: u16, name: &Name, rtype: Rtype) -> Vec<u8> {
    let mut builder = MessageBuilder::new(understudy_proto::wire::Header::query(id, 0), 512);
    let _ = builder.push_question(&Question {
        qname: name.clone(),
        qtype: rtype,
        qclass: Class::IN,
    });
    builder.finish()
}

/// Whether the answers are data the primary produced.
fn judge(soa: &Message, txt: Option<&Message>, zone: &Name, history: &History) -> Outcome {
    let serial = soa
        .answers
        .iter()
        .find(|r| r.rtype == Rtype::SOA && &r.owner == zone)
        .and_then(|r| r.soa())
        .map(|s| s.serial);
    let txt_serial = txt.and_then(version_of);
    let correct = soa.rcode() == 0
        && soa.header.aa
        && serial.is_some_and(|s| history.produced(s))
        && match (serial, txt_serial) {
            (Some(s), Some(t)) => {
                history.produced(t) && (s == t || Serial(t).is_newer_than(Serial(s)))
            }
            _ => false,
        };
    Outcome::Answered {
        rcode: soa.rcode(),
        serial,
        txt_serial,
        correct,
    }
}

/// The serial named by a TXT answer `v<serial>`.
fn version_of(message: &Message) -> Option<u32> {
    let record = message.answers.iter().find(|r| r.rtype == Rtype::TXT)?;
    let (&len, text) = record.rdata.split_first()?;
    let text = std::str::from_utf8(text.get(..usize::from(len))?).ok()?;
    text.strip_prefix('v')?.parse().ok()
}

async fn status_loop(node: usize, socket: PathBuf, recorder: &Recorder, settings: &ProbeSettings) {
    let mut ticks = tokio::time::interval(settings.status_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let binary = settings.binary.clone();
        let socket = socket.clone();
        let status = tokio::task::spawn_blocking(move || zone_status(&binary, &socket)).await;
        if let Ok(Some((serial, source))) = status {
            recorder.source(SourceSample {
                at_ms: recorder.now_ms(),
                node,
                serial,
                source,
            });
        }
    }
}

/// The serial and the source of the node's first zone, from `ctl`.
fn zone_status(
    binary: &std::path::Path,
    socket: &std::path::Path,
) -> Option<(Option<u32>, String)> {
    let output = std::process::Command::new(binary)
        .arg("ctl")
        .arg("--socket")
        .arg(socket)
        .args(["--json", "zone", "status"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    source_of(value.get("zones")?.get(0)?)
}

/// Where a zone's copy came from: the node's own `source` field when it
/// reports one, else `disk` before any transfer, else its last primary.
pub fn source_of(zone: &serde_json::Value) -> Option<(Option<u32>, String)> {
    let serial = zone
        .get("serial")
        .and_then(|s| s.as_u64())
        .map(|s| s as u32);
    if let Some(source) = zone.get("source").and_then(|s| s.as_str()) {
        return Some((serial, source.to_string()));
    }
    let transfers = zone.get("transfers");
    let count = |key: &str| {
        transfers
            .and_then(|t| t.get(key))
            .and_then(|n| n.as_u64())
            .unwrap_or(0)
    };
    let source = match zone.get("last_primary").and_then(|p| p.as_str()) {
        _ if serial.is_none() => "nothing yet".to_string(),
        _ if count("ixfr") + count("axfr") == 0 => "disk".to_string(),
        Some(primary) => format!("primary {primary}"),
        None => "unknown".to_string(),
    };
    Some((serial, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_prefers_the_nodes_own_field_and_knows_a_copy_from_disk() {
        let with_source = serde_json::json!({"serial": 3, "source": "peer ams-1",
            "transfers": {"ixfr": 0, "axfr": 0}});
        assert_eq!(
            source_of(&with_source),
            Some((Some(3), "peer ams-1".into()))
        );
        let from_disk = serde_json::json!({"serial": 2, "last_primary": null,
            "transfers": {"ixfr": 0, "axfr": 0, "fallbacks": 0}});
        assert_eq!(source_of(&from_disk), Some((Some(2), "disk".into())));
        let transferred = serde_json::json!({"serial": 2, "last_primary": "127.1.0.1:53",
            "transfers": {"ixfr": 1, "axfr": 1}});
        assert_eq!(
            source_of(&transferred),
            Some((Some(2), "primary 127.1.0.1:53".into()))
        );
    }
}
