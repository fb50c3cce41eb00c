//! BIND 9: config writer, command line, `rndc`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::{Server, ZoneSource, zone_file_name};
use crate::env::binary;
use crate::process::{run, run_ok};

/// The rndc key of every test instance (loopback control channel only).
const RNDC_SECRET: &str = "dW5kZXJzdHVkeS10ZXN0LXJuZGMta2V5LTMyYnl0ZXM=";

pub(super) fn command(config: &Path) -> Command {
    let mut command = Command::new(binary("named"));
    command.arg("-g").arg("-n").arg("1").arg("-c").arg(config);
    command
}

fn control_command(server: &Server, args: &[&str]) -> Command {
    let mut command = Command::new(binary("rndc"));
    command
        .arg("-c")
        .arg(server.dir.join("rndc.conf"))
        .args(args);
    command
}

pub(super) fn try_control(server: &Server, args: &[&str]) -> (bool, String) {
    run(control_command(server, args))
}

pub(super) fn control(server: &Server, args: &[&str]) {
    run_ok(control_command(server, args));
}

/// `transfer of 'example/IN': AXFR started` (also `IXFR started` and
/// `AXFR-style IXFR started`).
pub(super) fn is_transfer_out(line: &str) -> bool {
    line.contains("transfer of '") && line.contains("XFR started")
}

pub(super) fn rndc_config(server: &Server) -> String {
    format!(
        "key \"rndc-key\" {{ algorithm hmac-sha256; secret \"{RNDC_SECRET}\"; }};\n\
         options {{ default-key \"rndc-key\"; default-server 127.0.0.1; default-port {}; }};\n",
        server.control_port
    )
}

pub(super) fn config(server: &Server) -> String {
    let spec = &server.spec;
    let dir = server.dir.path().display();
    let port = server.port;
    let listen6 = if spec.ipv6 {
        format!("listen-on-v6 port {port} {{ ::1; }};")
    } else {
        "listen-on-v6 { none; };".to_string()
    };
    let key_clause = spec
        .tsig
        .as_ref()
        .map(|k| format!(" key \"{}\"", k.name))
        .unwrap_or_default();
    let notify = if spec.notify.is_empty() {
        "notify no;".to_string()
    } else {
        let targets: String = spec
            .notify
            .iter()
            .map(|t| format!("{} port {}{key_clause}; ", t.ip(), t.port()))
            .collect();
        format!("notify explicit; notify-delay 0; also-notify {{ {targets}}};")
    };
    let ixfr = if spec.ixfr {
        "ixfr-from-differences yes;"
    } else {
        "ixfr-from-differences no; provide-ixfr no;"
    };
    let identity = spec
        .identity
        .as_ref()
        .map(|i| format!("server-id \"{i}\"; version \"{i}\"; hostname \"{i}\";"))
        .unwrap_or_default();
    let mut text = format!(
        "options {{\n    {identity}\n    directory \"{dir}\";\n    pid-file \"{dir}/named.pid\";\n    \
         session-keyfile \"{dir}/session.key\";\n    managed-keys-directory \"{dir}\";\n    \
         listen-on port {port} {{ 127.0.0.1; }};\n    {listen6}\n    recursion no;\n    \
         allow-query {{ any; }};\n    dnssec-validation no;\n    querylog no;\n    \
         check-names primary ignore;\n    check-names secondary ignore;\n    {notify}\n    {ixfr}\n}};\n\
         key \"rndc-key\" {{ algorithm hmac-sha256; secret \"{RNDC_SECRET}\"; }};\n\
         controls {{ inet 127.0.0.1 port {} allow {{ 127.0.0.1; }} keys {{ \"rndc-key\"; }}; }};\n",
        server.control_port
    );
    if let Some(key) = &spec.tsig {
        text.push_str(&key.to_bind_conf());
    }
    let allow_transfer: String = match &spec.tsig {
        Some(key) => format!("key \"{}\"; ", key.name),
        None => spec
            .transfer_prefixes()
            .iter()
            .map(|p| format!("{p}; "))
            .collect(),
    };
    for zone in &spec.zones {
        let file = format!("zones/{}", zone_file_name(&zone.name));
        match &zone.source {
            ZoneSource::Text(_) => {
                let _ = writeln!(
                    text,
                    "zone \"{}\" {{ type primary; file \"{file}\"; allow-transfer {{ {allow_transfer}}}; }};",
                    zone.name
                );
            }
            ZoneSource::Primaries(primaries) => {
                let list: String = primaries
                    .iter()
                    .map(|p| format!("{} port {}{key_clause}; ", p.ip(), p.port()))
                    .collect();
                let _ = writeln!(
                    text,
                    "zone \"{}\" {{ type secondary; file \"{file}\"; primaries {{ {list}}}; \
                     allow-notify {{ 127.0.0.0/8; ::1; }}; allow-transfer {{ {allow_transfer}}}; }};",
                    zone.name
                );
            }
        }
    }
    text
}
