//! Where things are: the workspace, the fixtures, the real binaries, free
//! loopback ports and per-test scratch directories.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The workspace root (parent of `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `tests/zones/`.
pub fn zones_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("zones")
}

/// The shared folder beside the checkout (`$SHARED` or `<root>/../shared`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("..").join("shared"))
}

/// Reads a fixture file under `tests/zones/`.
pub fn fixture(name: &str) -> String {
    let path = zones_dir().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Every fixture zone as (origin, master-file text), sorted by origin.
pub fn fixture_zones() -> Vec<(String, String)> {
    let mut zones: Vec<(String, String)> = std::fs::read_dir(zones_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", zones_dir().display()))
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let origin = format!("{}.", file.strip_suffix(".zone")?);
            Some((origin, fixture(&file)))
        })
        .collect();
    zones.sort();
    zones
}

/// The path of a required binary; panics with an install hint when absent
/// (a missing server is a failure, never a skip).
pub fn binary(name: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "`{name}` is not installed: run scripts/test, or \
         apt-get install -y knot bind9 nsd dnsutils knot-dnsutils dnsperf"
    )
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A port that is free for both UDP and TCP on 127.0.0.1 and ::1 right now.
///
/// Ports come from a per-process counter starting at a random base in
/// 10000..30000 (below the kernel's ephemeral range, so outgoing
/// connections do not take them), and each is probed before use so that
/// parallel test processes do not collide.
pub fn free_port() -> u16 {
    if NEXT_PORT.load(Ordering::Relaxed) == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seed = (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 20_000;
        let _ = NEXT_PORT.compare_exchange(
            0,
            10_000 + seed as u16,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
    for _ in 0..2000 {
        let mut port = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        if !(10_000..30_000).contains(&port) {
            port = 10_000 + port % 20_000;
            NEXT_PORT.store(port + 1, Ordering::Relaxed);
        }
        if port_is_free(port) {
            return port;
        }
    }
    panic!("no free loopback port found")
}

fn port_is_free(port: u16) -> bool {
    ["127.0.0.1", "[::1]"].iter().all(|host| {
        let Ok(addr) = format!("{host}:{port}").parse::<SocketAddr>() else {
            return false;
        };
        let usable = |result: std::io::Result<()>| match result {
            Ok(()) => true,
            // A host without IPv6 on loopback still has IPv4 ports to give.
            Err(e) => host.starts_with('[') && e.kind() == std::io::ErrorKind::AddrNotAvailable,
        };
        usable(UdpSocket::bind(addr).map(drop)) && usable(TcpListener::bind(addr).map(drop))
    })
}

/// 127.0.0.1 at a fresh free port.
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// A scratch directory removed on drop, unless the test is failing (then it
/// is kept and its path printed for post-mortem).
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates `$TMPDIR/understudy-e2e/<label>-<pid>-<n>`.
    pub fn new(label: &str) -> TestDir {
        static COUNTER: AtomicU16 = AtomicU16::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join("understudy-e2e")
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes a file inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("UNDERSTUDY_E2E_KEEP").is_some() {
            eprintln!("test files kept in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
