//! The built-in primary against real `dig` and `kdig`: SOA, AXFR, IXFR,
//! TSIG. A missing tool fails the test (the README's test command installs
//! dnsutils and knot-dnsutils).

use std::net::SocketAddr;
use std::process::Command;

use base64::Engine as _;
use understudy_proto::Name;
use understudy_proto::tsig::Key;
use understudy_sim::live::fleet::free_port;
use understudy_sim::live::primary::{Primary, PrimaryConfig, SoaTimers};

const ZONE: &str = "drill.example.";
const SECRET: [u8; 32] = [42; 32];

async fn primary(tsig: bool) -> Primary {
    let ip = std::net::Ipv4Addr::LOCALHOST;
    let key = Key::new(
        Name::from_ascii("drill-key.").unwrap(),
        "hmac-sha256",
        SECRET.to_vec(),
    );
    let mut primary = Primary::start(PrimaryConfig {
        listen: SocketAddr::from((ip, free_port(ip).unwrap())),
        zone: ZONE.into(),
        timers: SoaTimers::default(),
        first_serial: 1,
        tsig: tsig.then(|| key.unwrap()),
        notify: Vec::new(),
    })
    .await
    .unwrap();
    primary.change().unwrap();
    primary.change().unwrap();
    primary
}

/// Runs `tool` against the primary; a missing tool fails.
async fn ask(tool: &str, primary: &Primary, args: &[&str]) -> String {
    let addr = primary.addr();
    let mut command = Command::new(tool);
    command
        .arg(format!("@{}", addr.ip()))
        .arg("-p")
        .arg(addr.port().to_string())
        .args(args);
    let tool = tool.to_string();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|error| {
            panic!("{tool} is required (apt-get install dnsutils knot-dnsutils): {error}")
        });
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn soa_serials(text: &str) -> Vec<u32> {
    text.lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let at = fields.iter().position(|f| *f == "SOA")?;
            fields.get(at + 3)?.parse().ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_and_kdig_read_soa_axfr_and_ixfr() {
    let primary = primary(false).await;
    for tool in ["dig", "kdig"] {
        let soa = ask(tool, &primary, &[ZONE, "SOA", "+short"]).await;
        assert!(
            soa.split_whitespace().nth(2) == Some("3"),
            "{tool} SOA: {soa}"
        );
        let axfr = ask(tool, &primary, &[ZONE, "AXFR"]).await;
        assert_eq!(soa_serials(&axfr), vec![3, 3], "{tool} AXFR: {axfr}");
        assert!(axfr.contains("\"v3\""), "{tool} AXFR: {axfr}");
        let ixfr = ask(tool, &primary, &[ZONE, "IXFR=1", "+tcp"]).await;
        // SOA 3, then per diff the old and the new SOA, then SOA 3.
        assert_eq!(
            soa_serials(&ixfr),
            vec![3, 1, 2, 2, 3, 3],
            "{tool} IXFR: {ixfr}"
        );
        assert!(
            ixfr.contains("\"v1\"") && ixfr.contains("\"v2\""),
            "{tool} IXFR: {ixfr}"
        );
    }
    let served = primary.transfers();
    assert_eq!(served.len(), 4, "{served:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsig_is_required_and_verified_by_dig() {
    let primary = primary(true).await;
    let secret = base64::engine::general_purpose::STANDARD.encode(SECRET);
    let key = format!("hmac-sha256:drill-key.:{secret}");
    let unsigned = ask("dig", &primary, &[ZONE, "AXFR"]).await;
    assert!(
        soa_serials(&unsigned).is_empty(),
        "unsigned AXFR refused: {unsigned}"
    );
    for tool in ["dig", "kdig"] {
        let signed = ask(tool, &primary, &["-y", &key, ZONE, "AXFR"]).await;
        assert_eq!(
            soa_serials(&signed),
            vec![3, 3],
            "{tool} signed AXFR: {signed}"
        );
        assert!(!signed.contains("failed"), "{tool}: {signed}");
    }
}
