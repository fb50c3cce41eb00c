//! Knot DNS: config writer, command line, `knotc` control.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::{Server, Signing, ZoneSource, zone_file_name};
use crate::env::binary;
use crate::process::{run, run_ok};

pub(super) fn command(config: &Path) -> Command {
    let mut command = Command::new(binary("knotd"));
    command.arg("-c").arg(config);
    command
}

pub(super) fn try_control(server: &Server, args: &[&str]) -> (bool, String) {
    let mut command = Command::new(binary("knotc"));
    command
        .arg("-c")
        .arg(server.dir.join("knot.conf"))
        .arg("-t")
        .arg("10")
        .args(args);
    run(command)
}

pub(super) fn control(server: &Server, args: &[&str]) {
    let mut command = Command::new(binary("knotc"));
    command
        .arg("-c")
        .arg(server.dir.join("knot.conf"))
        .arg("-t")
        .arg("10")
        .args(args);
    run_ok(command);
}

/// `[zone.] AXFR, outgoing, remote 127.0.0.1@1234, started, serial 1`
pub(super) fn is_transfer_out(line: &str) -> bool {
    (line.contains("AXFR, outgoing") || line.contains("IXFR, outgoing")) && line.contains("started")
}

pub(super) fn config(server: &Server) -> String {
    let spec = &server.spec;
    let dir = server.dir.path().display();
    let port = server.port;
    let mut listen = format!("127.0.0.1@{port}");
    if spec.ipv6 {
        let _ = write!(listen, ", ::1@{port}");
    }
    let mut text = format!(
        "server:\n    rundir: \"{dir}\"\n    listen: [{listen}]\n    udp-workers: 1\n    \
         tcp-workers: 1\n    background-workers: 1\n\
         log:\n  - target: stderr\n    any: info\n\
         database:\n    storage: \"{dir}/db\"\n\
         control:\n    listen: \"{dir}/knot.sock\"\n"
    );
    if let Some(identity) = &spec.identity {
        let marker = "    background-workers: 1\n";
        let extra = format!(
            "{marker}    identity: \"{identity}\"\n    version: \"{identity}\"\n    nsid: \"{identity}\"\n"
        );
        text = text.replacen(marker, &extra, 1);
    }
    let key_ref = spec
        .tsig
        .as_ref()
        .map(|k| format!("    key: {}\n", k.name))
        .unwrap_or_default();
    if let Some(key) = &spec.tsig {
        let _ = write!(
            text,
            "key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
            key.name, key.algorithm, key.secret
        );
    }
    let mut remotes = String::new();
    for (index, target) in spec.notify.iter().enumerate() {
        let _ = write!(
            remotes,
            "  - id: notify{index}\n    address: {}@{}\n{key_ref}",
            target.ip(),
            target.port()
        );
    }
    for (zone_index, zone) in spec.zones.iter().enumerate() {
        if let ZoneSource::Primaries(primaries) = &zone.source {
            for (index, primary) in primaries.iter().enumerate() {
                let _ = write!(
                    remotes,
                    "  - id: primary{zone_index}_{index}\n    address: {}@{}\n{key_ref}",
                    primary.ip(),
                    primary.port()
                );
            }
        }
    }
    if !remotes.is_empty() {
        let _ = write!(text, "remote:\n{remotes}");
    }
    let prefixes = spec.transfer_prefixes().join(", ");
    let _ = write!(
        text,
        "acl:\n  - id: transfer_out\n    address: [{prefixes}]\n{key_ref}    action: transfer\n\
         \x20 - id: notify_in\n    address: [127.0.0.0/8, ::1]\n{key_ref}    action: notify\n"
    );
    if let Some(signing) = spec.signing {
        let nsec3 = match signing {
            Signing::Nsec => "off",
            Signing::Nsec3 => "on",
        };
        let _ = write!(
            text,
            "policy:\n  - id: signing\n    algorithm: ecdsap256sha256\n    nsec3: {nsec3}\n    \
             nsec3-iterations: 0\n    nsec3-salt-length: 8\n    rrsig-lifetime: 30d\n"
        );
    }
    let (load, journal) = if spec.ixfr || spec.signing.is_some() {
        ("difference", "changes")
    } else {
        ("whole", "none")
    };
    let _ = write!(
        text,
        "template:\n  - id: default\n    storage: \"{dir}/zones\"\n    semantic-checks: off\n    \
         zonefile-sync: -1\n    zonefile-load: {load}\n    journal-content: {journal}\n"
    );
    text.push_str("zone:\n");
    for (zone_index, zone) in spec.zones.iter().enumerate() {
        let _ = write!(
            text,
            "  - domain: \"{}\"\n    file: \"{}\"\n    acl: [transfer_out, notify_in]\n",
            zone.name,
            zone_file_name(&zone.name)
        );
        if !spec.notify.is_empty() {
            let ids: Vec<String> = (0..spec.notify.len())
                .map(|i| format!("notify{i}"))
                .collect();
            let _ = writeln!(text, "    notify: [{}]", ids.join(", "));
        }
        match &zone.source {
            ZoneSource::Primaries(primaries) => {
                let ids: Vec<String> = (0..primaries.len())
                    .map(|i| format!("primary{zone_index}_{i}"))
                    .collect();
                let _ = writeln!(text, "    master: [{}]", ids.join(", "));
                text.push_str("    journal-content: changes\n");
            }
            ZoneSource::Text(_) if spec.signing.is_some() => {
                text.push_str("    dnssec-signing: on\n    dnssec-policy: signing\n");
            }
            ZoneSource::Text(_) => {}
        }
    }
    text
}
