use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::store::scratch::Scratch;

const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=";

fn parse(text: &str) -> Result<Config, LoadError> {
    Config::parse(text, Path::new("/etc/understudy"), Path::new("test.toml"))
}

fn invalid(text: &str) -> Invalid {
    match parse(text) {
        Err(LoadError::Invalid { invalid, .. }) => invalid,
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

fn with_zone(zone: &str) -> String {
    format!(
        "version = 1\n[node]\nid = \"n1\"\n\
         [[tsig_key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n\
         [[zone]]\n{zone}\n"
    )
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn the_documented_example_loads_with_typed_values() {
    let text = format!(
        r#"
version = 1
[node]
id = "ams-1"
region = "eu-west"
data_dir = "data"
[dns]
listen = ["127.0.0.1:5300", "[::1]:5300"]
tcp_idle_timeout = "30s"
[control]
socket = "/run/understudy/control.sock"
[metrics]
listen = "127.0.0.1"
[zone_defaults]
expiry_policy = "serve-stale"
refresh_min = 30
max_zone_bytes = "16MiB"
[[tsig_key]]
name = "xfr-key"
algorithm = "hmac-sha256"
secret = "{SECRET}"
[[zone]]
name = "example.com."
primaries = ["192.0.2.1:53", "192.0.2.3", "[2001:db8::1]:5353", "2001:db8::2"]
tsig_key = "xfr-key"
allow_transfer = ["198.51.100.0/24", "key:xfr-key"]
allow_notify = ["192.0.2.2"]
jitter = 0.2
"#
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.node.id, "ams-1");
    assert_eq!(config.node.region, "eu-west");
    assert_eq!(config.node.data_dir, Path::new("/etc/understudy/data"));
    assert_eq!(
        config.dns.listen,
        [addr("127.0.0.1:5300"), addr("[::1]:5300")]
    );
    assert_eq!(config.dns.tcp_idle_timeout, Duration::from_secs(30));
    assert_eq!(config.dns.nsid.as_deref(), Some(&b"ams-1"[..]));
    assert_eq!(config.dns.identity.as_deref(), Some("ams-1"));
    assert_eq!(config.metrics.listen, Some(addr("127.0.0.1:9553")));
    assert_eq!(config.zone_defaults.expiry_policy, ExpiryPolicy::ServeStale);
    assert_eq!(config.zone_defaults.refresh_min, Duration::from_secs(30));
    assert_eq!(config.zone_defaults.max_zone_bytes, 16 << 20);
    let key = &config.tsig_keys[0];
    assert_eq!(key.algorithm, TsigAlgorithm::HmacSha256);
    assert_eq!(key.secret, b"secret-secret-secret-secret-secr");
    let zone = &config.zones[0];
    assert_eq!(zone.name, Name::from_ascii("EXAMPLE.com.").unwrap());
    assert_eq!(
        zone.primaries,
        [
            addr("192.0.2.1:53"),
            addr("192.0.2.3:53"),
            addr("[2001:db8::1]:5353"),
            addr("[2001:db8::2]:53")
        ]
    );
    assert_eq!(zone.tsig_key, Some(key.name.clone()));
    assert_eq!(zone.allow_transfer.entries().len(), 2);
    assert_eq!(zone.allow_notify.entries()[0].to_string(), "192.0.2.2");
    // The zone inherits the defaults it does not override.
    assert_eq!(zone.policy.expiry_policy, ExpiryPolicy::ServeStale);
    assert_eq!(zone.policy.jitter, 0.2);
    assert_eq!(zone.policy.max_zone_bytes, 16 << 20);
    assert_eq!(config.tsig_key(&key.name), Some(key));
    assert!(config.zone(&zone.name).is_some());
}

#[test]
fn minimal_file_takes_every_default() {
    let config = parse("version = 1\n[node]\nid = \"n1\"\n").unwrap();
    assert_eq!(config.node.region, "default");
    assert_eq!(config.node.data_dir, Path::new(DEFAULT_DATA_DIR));
    assert_eq!(config.control.socket, Path::new(DEFAULT_CONTROL_SOCKET));
    assert_eq!(config.dns.listen, [addr("0.0.0.0:53"), addr("[::]:53")]);
    assert_eq!(config.dns.tcp_max_connections, 1000);
    assert_eq!(config.dns.version.as_deref(), Some(DEFAULT_VERSION_TEXT));
    assert_eq!(config.metrics.listen, None);
    assert_eq!(config.log.format, LogFormat::Text);
    assert_eq!(config.zone_defaults, ZonePolicy::default());
    assert!(config.zones.is_empty());
}

#[test]
fn empty_strings_disable_nsid_and_chaos() {
    let text =
        "version = 1\n[node]\nid = \"n1\"\n[dns]\nnsid = \"\"\nidentity = \"\"\nversion = \"\"\n";
    let config = parse(text).unwrap();
    assert_eq!(config.dns.nsid, None);
    assert_eq!(config.dns.identity, None);
    assert_eq!(config.dns.version, None);
}

#[test]
fn version_must_be_one() {
    let missing = parse("[node]\nid = \"n1\"\n").unwrap_err();
    assert!(matches!(missing, LoadError::Version { .. }), "{missing}");
    assert!(missing.to_string().contains("missing"));
    // A future version's unknown keys do not hide the version mismatch.
    let future = parse("version = 2\nshiny = true\n[node]\nid = \"n1\"\n").unwrap_err();
    assert!(matches!(future, LoadError::Version { .. }), "{future}");
    assert!(future.to_string().contains("version = 2"));
}

#[test]
fn unknown_keys_are_rejected_in_every_table() {
    let tables = [
        "version = 1\ncolour = 1\n[node]\nid = \"n1\"\n",
        "version = 1\n[node]\nid = \"n1\"\nname = \"x\"\n",
        "version = 1\n[node]\nid = \"n1\"\n[dns]\nlisten_on = []\n",
        "version = 1\n[node]\nid = \"n1\"\n[control]\npath = \"x\"\n",
        "version = 1\n[node]\nid = \"n1\"\n[metrics]\nport = 1\n",
        "version = 1\n[node]\nid = \"n1\"\n[log]\ncolor = true\n",
        "version = 1\n[node]\nid = \"n1\"\n[health]\nflap = 1\n",
        "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"k\"\nsecrett = \"x\"\n",
    ];
    for text in tables {
        let error = parse(text).unwrap_err();
        assert!(matches!(error, LoadError::Syntax { .. }), "{text}: {error}");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }
    let defaults = invalid("version = 1\n[node]\nid = \"n1\"\n[zone_defaults]\nrefresh = \"1h\"\n");
    assert_eq!(defaults.context, "zone_defaults");
    assert!(defaults.reason.contains("`refresh`"));
    let zone = invalid(&with_zone(
        "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nprimary = \"x\"",
    ));
    assert_eq!(zone.context, "zone \"example.com.\"");
    assert!(zone.reason.contains("`primary`"));
}

#[test]
fn errors_name_the_zone_and_key() {
    let cases = [
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1:99999\"]",
            "zone \"example.com.\": primaries",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"ns1.example.net\"]",
            "zone \"example.com.\": primaries",
        ),
        (
            "name = \"example.com\"\nprimaries = []",
            "zone \"example.com.\": primaries",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\", \"192.0.2.1:53\"]",
            "zone \"example.com.\": primaries",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\ntsig_key = \"nokey\"",
            "zone \"example.com.\": tsig_key",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nallow_transfer = [\"key:other\"]",
            "zone \"example.com.\": allow_transfer",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nallow_notify = [\"10.0.0.0/8x\"]",
            "zone \"example.com.\": allow_notify",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\ntransfer_source = \"::1\"",
            "zone \"example.com.\": transfer_source",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nrefresh_min = \"2d\"",
            "zone \"example.com.\": refresh_min",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\njitter = 0.7",
            "zone \"example.com.\": jitter",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\njitter = \"high\"",
            "zone \"example.com.\": jitter",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nrefresh_min = -5",
            "zone \"example.com.\": refresh_min",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nretry_max = true",
            "zone \"example.com.\": retry_max",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nmax_records = 1.5",
            "zone \"example.com.\": max_records",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nexpiry_policy = 1",
            "zone \"example.com.\": expiry_policy",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\njournal_max_diffs = -1",
            "zone \"example.com.\": journal_max_diffs",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nexpiry_policy = \"sometimes\"",
            "zone \"example.com.\": expiry_policy",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\ntransfer_timeout = \"15 min\"",
            "zone \"example.com.\": transfer_timeout",
        ),
        (
            "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\nmax_zone_bytes = \"1GB\"",
            "zone \"example.com.\": max_zone_bytes",
        ),
        (
            "name = \"a..b\"\nprimaries = [\"192.0.2.1\"]",
            "zone \"a..b\": name",
        ),
        ("name = \"\"\nprimaries = [\"192.0.2.1\"]", "zone"),
    ];
    for (zone, context) in cases {
        let error = invalid(&with_zone(zone));
        assert_eq!(error.context, context, "{zone}: {error}");
        assert!(!error.reason.is_empty());
    }
}

#[test]
fn duplicate_zones_and_keys_are_rejected() {
    let text = with_zone(
        "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\n[[zone]]\nname = \"EXAMPLE.COM.\"\nprimaries = [\"192.0.2.2\"]",
    );
    let error = invalid(&text);
    assert!(error.reason.contains("twice"), "{error}");
    let keys = format!(
        "version = 1\n[node]\nid = \"n1\"\n\
         [[tsig_key]]\nname = \"k\"\nalgorithm = \"hmac-sha1\"\nsecret = \"{SECRET}\"\n\
         [[tsig_key]]\nname = \"K.\"\nalgorithm = \"hmac-sha1\"\nsecret = \"{SECRET}\"\n"
    );
    assert!(invalid(&keys).reason.contains("twice"));
}

#[test]
fn global_values_are_checked() {
    let base = "version = 1\n[node]\nid = \"n1\"\n";
    let cases = [
        ("[dns]\nlisten = []", "dns: listen"),
        ("[dns]\nlisten = [\"localhost:53\"]", "dns: listen"),
        ("[dns]\ntcp_idle_timeout = \"0s\"", "dns: tcp_idle_timeout"),
        ("[dns]\ntcp_max_connections = 0", "dns: tcp_max_connections"),
        ("[metrics]\nlisten = \"anywhere\"", "metrics: listen"),
        ("[log]\nformat = \"xml\"", "log: format"),
        ("[log]\nlevel = \"info,[\"", "log: level"),
        ("[health]\nrise = 0", "health: rise"),
        ("[health]\nmax_lag = \"-1s\"", "health: max_lag"),
        (
            "[zone_defaults]\nretry_min = \"2h\"",
            "zone_defaults: retry_min",
        ),
        ("[zone_defaults]\njitter = -0.1", "zone_defaults: jitter"),
        (
            "[zone_defaults]\nmax_records = 0",
            "zone_defaults: max_records",
        ),
    ];
    for (table, context) in cases {
        let error = invalid(&format!("{base}{table}\n"));
        assert_eq!(error.context, context, "{table}: {error}");
    }
    let bad_id = invalid("version = 1\n[node]\nid = \"ams 1\"\n");
    assert_eq!(bad_id.context, "node: id");
    let missing_id = parse("version = 1\n[node]\n").unwrap_err();
    assert!(missing_id.to_string().contains("id"), "{missing_id}");
}

#[test]
fn tsig_key_problems_are_explained() {
    let base = "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"k\"\n";
    let cases = [
        (
            "algorithm = \"hmac-md5\"\nsecret = \"AAAA\"",
            "algorithm",
            "not supported",
        ),
        (
            "algorithm = \"hmac-sha999\"\nsecret = \"AAAA\"",
            "algorithm",
            "unknown",
        ),
        (
            "algorithm = \"hmac-sha256\"\nsecret = \"!!!\"",
            "secret",
            "base64",
        ),
        (
            "algorithm = \"hmac-sha256\"\nsecret = \"\"",
            "secret",
            "empty",
        ),
        ("secret = \"AAAA\"", "algorithm", "required"),
        ("algorithm = \"hmac-sha256\"", "secret", "exactly one"),
        (
            "algorithm = \"hmac-sha256\"\nsecret = \"AAAA\"\nfile = \"k.key\"",
            "secret",
            "exactly one",
        ),
    ];
    for (lines, key, words) in cases {
        let error = invalid(&format!("{base}{lines}\n"));
        assert_eq!(error.context, format!("tsig_key \"k\": {key}"), "{lines}");
        assert!(error.reason.contains(words), "{lines}: {error}");
    }
}

#[test]
fn tsig_secret_from_a_bind_key_file_relative_to_the_config() {
    let dir = Scratch::new("config-keyfile");
    dir.write(
        "keys.conf",
        &format!(
            "key \"other\" {{ algorithm hmac-sha1; secret \"AAAA\"; }};\n\
             /* the transfer key */\n\
             key \"xfr-key\" {{\n\talgorithm hmac-sha512;\n\tsecret \"{SECRET}\";\n}};\n"
        ),
    );
    let config_path = dir.write(
        "understudy.toml",
        "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"xfr-key\"\nfile = \"keys.conf\"\n",
    );
    let config = Config::load(&config_path).unwrap();
    assert_eq!(config.tsig_keys[0].algorithm, TsigAlgorithm::HmacSha512);
    assert_eq!(
        config.tsig_keys[0].secret,
        b"secret-secret-secret-secret-secr"
    );
    assert_eq!(config.source, config_path);

    let absent = dir.write(
        "absent.toml",
        "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"missing\"\nfile = \"keys.conf\"\n",
    );
    let error = Config::load(&absent).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("holds no key named \"missing.\""),
        "{error}"
    );

    let clash = dir.write(
        "clash.toml",
        "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nfile = \"keys.conf\"\n",
    );
    let error = Config::load(&clash).unwrap_err();
    assert!(error.to_string().contains("differs"), "{error}");

    let unreadable = dir.write(
        "unreadable.toml",
        "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"k\"\nfile = \"nowhere.conf\"\n",
    );
    let error = Config::load(&unreadable).unwrap_err();
    assert!(
        matches!(&error, LoadError::Read { path, .. } if path.ends_with("nowhere.conf")),
        "{error}"
    );
}

#[test]
fn runtime_zone_goes_through_the_same_checks() {
    let config = parse(&with_zone(
        "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]",
    ))
    .unwrap();
    let spec = ZoneSpec {
        name: "example.net.".into(),
        primaries: vec!["[::1]:5300".into()],
        tsig_key: Some("xfr-key".into()),
        allow_transfer: vec!["key:xfr-key".into()],
        ..ZoneSpec::default()
    };
    let zone = config.resolve_zone(&spec).unwrap();
    assert_eq!(zone.primaries, [addr("[::1]:5300")]);
    assert_eq!(zone.policy, config.zone_defaults);
    assert_eq!(zone.spec, spec);
    let bad = ZoneSpec {
        tsig_key: Some("unknown".into()),
        ..spec
    };
    let error = config.resolve_zone(&bad).unwrap_err();
    assert_eq!(error.context, "zone \"example.net.\": tsig_key");
}

#[test]
fn zone_spec_round_trips_through_json_without_defaults() {
    let spec = ZoneSpec {
        name: "example.com.".into(),
        primaries: vec!["192.0.2.1".into()],
        policy: PolicySpec {
            refresh_min: Some(Scalar::from("5m")),
            jitter: Some(Scalar::Float(0.25)),
            ..PolicySpec::default()
        },
        ..ZoneSpec::default()
    };
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(
        json,
        r#"{"name":"example.com.","primaries":["192.0.2.1"],"refresh_min":"5m","jitter":0.25}"#
    );
    let back: ZoneSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
    let with_extra: ZoneSpec =
        serde_json::from_str(r#"{"name":"a.","primaries":[],"bogus":1}"#).unwrap();
    assert!(with_extra.unknown.contains_key("bogus"));
}

#[test]
fn control_socket_is_read_even_when_the_rest_is_invalid() {
    let dir = Scratch::new("config-socket");
    let path = dir.write(
        "broken.toml",
        "version = 1\n[node]\nid = \"bad id\"\n[control]\nsocket = \"run/ctl.sock\"\n",
    );
    assert!(Config::load(&path).is_err());
    assert_eq!(
        control_socket(&path).unwrap(),
        dir.path().join("run/ctl.sock")
    );
    let default = dir.write("default.toml", "version = 1\n");
    assert_eq!(
        control_socket(&default).unwrap(),
        Path::new(DEFAULT_CONTROL_SOCKET)
    );
}

#[test]
fn summary_lists_zones_and_listeners() {
    let config = parse(&with_zone(
        "name = \"example.com\"\nprimaries = [\"192.0.2.1\"]\ntsig_key = \"xfr-key\"",
    ))
    .unwrap();
    let summary = config.summary();
    assert!(
        summary.contains("node      n1 (region default)"),
        "{summary}"
    );
    assert!(summary.contains("zones     1"));
    assert!(
        summary.contains("health    rise 3, fall 3, max lag 1m, every 1s"),
        "{summary}"
    );
    assert!(summary.contains("example.com. from 192.0.2.1:53 key xfr-key."));
}

#[test]
fn deploy_template_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/understudy.toml");
    let config = Config::load(&path).unwrap_or_else(|error| panic!("{error}"));
    // The template documents the defaults: its values must be them.
    assert_eq!(config.zone_defaults, ZonePolicy::default());
    assert_eq!(config.node.data_dir, Path::new(DEFAULT_DATA_DIR));
    assert_eq!(config.control.socket, Path::new(DEFAULT_CONTROL_SOCKET));
    assert_eq!(config.dns.listen, [addr("0.0.0.0:53"), addr("[::]:53")]);
    assert_eq!(config.dns.tcp_idle_timeout, Duration::from_secs(10));
    assert_eq!(config.dns.tcp_max_connections, 1000);
    assert_eq!(config.metrics.listen, Some(addr("127.0.0.1:9553")));
    assert_eq!(config.health, super::HealthSettings::default());
}

#[test]
fn deploy_unit_matches_the_default_paths() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/understudy.service");
    let unit = std::fs::read_to_string(path).unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("{key} missing from the unit"))
            .to_owned()
    };
    assert_eq!(
        value("ExecStart"),
        "/usr/local/bin/understudy run --config /etc/understudy/understudy.toml"
    );
    assert_eq!(value("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    // systemd creates /var/lib/<StateDirectory> and /run/<RuntimeDirectory>.
    let state = Path::new("/var/lib").join(value("StateDirectory"));
    let runtime = Path::new("/run").join(value("RuntimeDirectory"));
    assert_eq!(state, Path::new(DEFAULT_DATA_DIR));
    assert_eq!(
        Path::new(DEFAULT_CONTROL_SOCKET).parent(),
        Some(runtime.as_path())
    );
}
