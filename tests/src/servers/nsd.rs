//! NSD: config writer, command line, `nsd-control`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::{Server, ZoneSource, zone_file_name};
use crate::env::binary;
use crate::process::{run, run_ok};

pub(super) fn command(config: &Path) -> Command {
    let mut command = Command::new(binary("nsd"));
    command.arg("-d").arg("-c").arg(config);
    command
}

fn control_command(server: &Server, args: &[&str]) -> Command {
    let mut command = Command::new(binary("nsd-control"));
    command
        .arg("-c")
        .arg(server.dir.join("nsd.conf"))
        .args(args);
    command
}

pub(super) fn try_control(server: &Server, args: &[&str]) -> (bool, String) {
    run(control_command(server, args))
}

pub(super) fn control(server: &Server, args: &[&str]) {
    run_ok(control_command(server, args));
}

/// `axfr for example. from 127.0.0.1` (logged at verbosity 2; IXFR queries
/// are answered with an AXFR-style full zone and logged the same way).
pub(super) fn is_transfer_out(line: &str) -> bool {
    line.contains("axfr for ") && line.contains(" from ")
}

pub(super) fn config(server: &Server) -> String {
    let spec = &server.spec;
    let dir = server.dir.path().display();
    let port = server.port;
    let mut text = format!("server:\n    ip-address: 127.0.0.1@{port}\n");
    if spec.ipv6 {
        let _ = writeln!(text, "    ip-address: ::1@{port}");
    } else {
        text.push_str("    do-ip6: no\n");
    }
    let _ = write!(
        text,
        "    port: {port}\n    server-count: 1\n    username: \"\"\n    chroot: \"\"\n    \
         zonesdir: \"{dir}/zones\"\n    database: \"\"\n    zonelistfile: \"{dir}/zone.list\"\n    \
         xfrdfile: \"{dir}/xfrd.state\"\n    xfrdir: \"{dir}\"\n    pidfile: \"{dir}/nsd.pid\"\n    \
         logfile: \"{dir}/server.log\"\n    verbosity: 2\n    zonefiles-check: yes\n    \
         xfrd-reload-timeout: 0\n    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\n\
         remote-control:\n    control-enable: yes\n    control-interface: \"{dir}/nsd.ctl\"\n"
    );
    if let Some(identity) = &spec.identity {
        let hex: String = identity.bytes().map(|b| format!("{b:02x}")).collect();
        let _ = write!(
            text,
            "server:\n    identity: \"{identity}\"\n    version: \"{identity}\"\n    \
             hide-version: no\n    nsid: \"{hex}\"\n"
        );
    }
    let key = spec.tsig.as_ref().map_or("NOKEY", |k| k.name.as_str());
    if let Some(tsig) = &spec.tsig {
        let _ = write!(
            text,
            "key:\n    name: \"{}\"\n    algorithm: {}\n    secret: \"{}\"\n",
            tsig.name, tsig.algorithm, tsig.secret
        );
    }
    for zone in &spec.zones {
        let _ = write!(
            text,
            "zone:\n    name: \"{}\"\n    zonefile: \"{}\"\n",
            zone.name,
            zone_file_name(&zone.name)
        );
        for prefix in spec.transfer_prefixes() {
            let _ = writeln!(text, "    provide-xfr: {prefix} {key}");
        }
        for target in &spec.notify {
            let _ = writeln!(text, "    notify: {}@{} {key}", target.ip(), target.port());
        }
        if let ZoneSource::Primaries(primaries) = &zone.source {
            text.push_str("    allow-notify: 127.0.0.0/8 NOKEY\n    allow-notify: ::1 NOKEY\n");
            for primary in primaries {
                let _ = writeln!(
                    text,
                    "    request-xfr: {}@{} {key}",
                    primary.ip(),
                    primary.port()
                );
            }
        }
    }
    text
}
