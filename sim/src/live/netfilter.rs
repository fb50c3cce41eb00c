//! True partitions between regions with nftables: as every address of a
//! drill sits in its own /24 per region (see `fleet::AddressPlan`), a
//! partition is a set of drop rules between address ranges, in tables of
//! this drill's own: `inet` at `input` (on loopback, and for the primary on
//! the bridge) and, with namespaces, `bridge` at `forward` (between
//! regions) and `inet` at `output` (from the primary). Packets are dropped
//! silently, as on a cut link. Needs root and the `nft` tool.

use std::io::Write;
use std::process::{Command, Stdio};

/// Why the rules could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum NetfilterError {
    /// Not root, or `nft` missing.
    #[error("network partitions need root and the nft tool (apt-get install nftables): {0}")]
    Unavailable(String),
    /// `nft` refused the rules.
    #[error("nft: {0}")]
    Nft(String),
}

/// A blocked pair of address ranges (both directions are dropped).
pub type Cut = (String, String);

/// The drill's nftables table; removed when dropped.
#[derive(Debug)]
pub struct Partitions {
    table: String,
    bridged: bool,
    cuts: Vec<Cut>,
}

impl Partitions {
    /// Checks that partitions can be made: root and a working `nft`.
    pub fn available() -> Result<(), NetfilterError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err(NetfilterError::Unavailable("not running as root".into()));
        }
        let output = Command::new("nft")
            .args(["list", "tables"])
            .output()
            .map_err(|error| NetfilterError::Unavailable(format!("nft: {error}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(NetfilterError::Unavailable(stderr));
        }
        Ok(())
    }

    /// Creates the drill's tables, empty; `bridged` when regions are
    /// namespaces on a bridge.
    pub fn new(name: &str, bridged: bool) -> Result<Partitions, NetfilterError> {
        Partitions::available()?;
        let partitions = Partitions {
            table: format!("understudy_drill_{name}"),
            bridged,
            cuts: Vec::new(),
        };
        partitions.apply()?;
        Ok(partitions)
    }

    /// Drops traffic between `a` and `b` (address ranges) from now on.
    pub fn cut(&mut self, a: &str, b: &str) -> Result<(), NetfilterError> {
        let pair = ordered(a, b);
        if !self.cuts.contains(&pair) {
            self.cuts.push(pair);
        }
        self.apply()
    }

    /// Lets traffic between `a` and `b` flow again.
    pub fn mend(&mut self, a: &str, b: &str) -> Result<(), NetfilterError> {
        let pair = ordered(a, b);
        self.cuts.retain(|c| c != &pair);
        self.apply()
    }

    /// Removes every cut.
    pub fn heal(&mut self) -> Result<(), NetfilterError> {
        self.cuts.clear();
        self.apply()
    }

    /// The cuts in force.
    pub fn cuts(&self) -> &[Cut] {
        &self.cuts
    }

    /// Replaces the table's rules with the current cuts, atomically (one
    /// `nft -f` transaction).
    fn apply(&self) -> Result<(), NetfilterError> {
        run_nft(&script(&self.table, &self.cuts, self.bridged))
    }
}

impl Drop for Partitions {
    fn drop(&mut self) {
        let _ = run_nft(&format!("delete table inet {}\n", self.table));
        if self.bridged {
            let _ = run_nft(&format!("delete table bridge {}\n", self.table));
        }
    }
}

fn ordered(a: &str, b: &str) -> Cut {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// The nft script that (re)creates the tables with one drop rule per
/// direction of each cut in each chain.
pub fn script(table: &str, cuts: &[Cut], bridged: bool) -> String {
    let mut rules = String::new();
    for (a, b) in cuts {
        rules.push_str(&format!("    ip saddr {a} ip daddr {b} drop\n"));
        rules.push_str(&format!("    ip saddr {b} ip daddr {a} drop\n"));
    }
    let chain = |name: &str, hook: &str| {
        format!(
            "  chain {name} {{\n    type filter hook {hook} priority -10; policy accept;\n{rules}  }}\n"
        )
    };
    let mut text =
        format!("table inet {table} {{}}\ndelete table inet {table}\ntable inet {table} {{\n");
    text.push_str(&chain("input", "input"));
    if bridged {
        text.push_str(&chain("output", "output"));
    }
    text.push_str("}\n");
    if bridged {
        text.push_str(&format!(
            "table bridge {table} {{}}\ndelete table bridge {table}\ntable bridge {table} {{\n{}}}\n",
            chain("forward", "forward")
        ));
    }
    text
}

fn run_nft(script: &str) -> Result<(), NetfilterError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| NetfilterError::Unavailable(format!("nft: {error}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|error| NetfilterError::Nft(error.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| NetfilterError::Nft(error.to_string()))?;
    if !output.status.success() {
        return Err(NetfilterError::Nft(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_drops_both_directions_of_each_cut() {
        let cuts = vec![ordered("127.9.2.0/24", "127.9.0.0/24")];
        let text = script("understudy_drill_t", &cuts, false);
        assert!(text.contains("ip saddr 127.9.0.0/24 ip daddr 127.9.2.0/24 drop"));
        assert!(text.contains("ip saddr 127.9.2.0/24 ip daddr 127.9.0.0/24 drop"));
        assert!(text.starts_with("table inet understudy_drill_t {}\ndelete table"));
        assert!(!text.contains("bridge"));
        let bridged = script("understudy_drill_t", &cuts, true);
        assert_eq!(
            bridged
                .matches("127.9.0.0/24 ip daddr 127.9.2.0/24 drop")
                .count(),
            3
        );
        assert!(bridged.contains("table bridge understudy_drill_t {\n  chain forward"));
    }
}
