//! The config the e2e tests write is the documented one: `understudy
//! check-config` accepts every key the tests use and rejects unknown keys
//! and bad values with a message naming them.

use std::net::SocketAddr;

use understudy_e2e::interop::key;
use understudy_e2e::understudy::{check_config, check_config_text};
use understudy_e2e::{Config, ZoneConfig};

fn full_config() -> Config {
    let primary: SocketAddr = "127.0.0.1:5300".parse().expect("addr");
    let backup: SocketAddr = "[::1]:5301".parse().expect("addr");
    Config::new("contract")
        .dns("tcp_idle_timeout", "\"10s\"")
        .dns("tcp_max_connections", "100")
        .dns("nsid", "\"e2e\"")
        .dns("identity", "\"e2e\"")
        .dns("version", "\"\"")
        .zone_default("expiry_policy", "\"serve-stale\"")
        .zone_default("refresh_min", "\"20s\"")
        .zone_default("retry_min", "\"1s\"")
        .zone_default("retry_max", "\"2s\"")
        .zone_default("jitter", "0.2")
        .zone_default("max_records", "5000000")
        .zone_default("max_zone_bytes", "\"1GiB\"")
        .zone_default("transfer_timeout", "\"15m\"")
        .zone_default("transfer_min_rate", "\"10KiB\"")
        .zone_default("journal_max_diffs", "100")
        .zone_default("journal_max_bytes", "\"64MiB\"")
        .tsig_key(key())
        .zone(
            ZoneConfig::new("example.test.", &[primary, backup])
                .tsig_key("xfr-key")
                .allow_transfer("127.0.0.1")
                .allow_transfer("::1/128")
                .allow_transfer("key:xfr-key")
                .allow_notify("127.0.0.2")
                .set("refresh_min", "\"1h\""),
        )
        .zone(ZoneConfig::new("other.test.", &[primary]))
}

#[test]
fn every_key_the_tests_write_is_accepted() {
    let (ok, output) = check_config(&full_config());
    assert!(
        ok,
        "check-config rejected the tests' config:\n{output}\n{}",
        full_config().to_toml(std::path::Path::new("/tmp"))
    );
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    let text = full_config().to_toml(std::path::Path::new("/tmp"));
    for (bad, name) in [
        (
            text.replace("[dns]\n", "[dns]\nlisten_everywhere = true\n"),
            "listen_everywhere",
        ),
        (
            text.replace("[[zone]]\n", "[[zone]]\nmaster = \"127.0.0.1\"\n"),
            "master",
        ),
        (format!("{text}\n[surprise]\nx = 1\n"), "surprise"),
    ] {
        let (ok, output) = check_config_text(&bad);
        assert!(!ok, "accepted an unknown key {name}");
        assert!(
            output.contains(name),
            "the error should name {name}:\n{output}"
        );
    }
}

#[test]
fn bad_values_are_rejected() {
    let text = full_config().to_toml(std::path::Path::new("/tmp"));
    for bad in [
        text.replace("version = 1\n", "version = 2\n"),
        text.replace("\"10s\"", "\"ten seconds\""),
        text.replace("algorithm = \"hmac-sha256\"", "algorithm = \"hmac-md4\""),
        text.replace("tsig_key = \"xfr-key\"", "tsig_key = \"no-such-key\""),
        text.replace("name = \"other.test.\"", "name = \"example.test.\""),
    ] {
        assert_ne!(bad, text);
        let (ok, output) = check_config_text(&bad);
        assert!(!ok, "accepted a bad config:\n{bad}\n{output}");
    }
}
