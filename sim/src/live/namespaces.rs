//! One network namespace per region, joined by a bridge: the layout of a
//! drill run as root with `--network namespaces`. The bridge (in the
//! drill's own namespace) carries the primary's address 10.B.0.1 and the
//! prober's 10.B.255.254; region `r` lives in namespace `usdB-r`, its
//! nodes at 10.B.(r+1).(i+1)/16 on a veth whose other end is on the
//! bridge. Everything is removed when the value is dropped.

use std::process::Command;

use super::fleet::AddressPlan;

/// Why the namespaces could not be made.
#[derive(Debug, thiserror::Error)]
#[error("ip {command}: {message}")]
pub struct NamespaceError {
    command: String,
    message: String,
}

/// The namespaces, veths and bridge of one drill.
#[derive(Debug)]
pub struct Namespaces {
    plan: AddressPlan,
    regions: usize,
}

impl Namespaces {
    /// Creates the bridge and a namespace per region with `nodes[r]`
    /// addresses in region `r`, as `plan` lays them out.
    pub fn create(plan: AddressPlan, nodes: &[usize]) -> Result<Namespaces, NamespaceError> {
        let namespaces = Namespaces { plan, regions: 0 };
        let bridge = namespaces.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        let mut namespaces = namespaces;
        for address in [plan.primary(), plan.prober()] {
            ip(&["addr", "add", &format!("{address}/16"), "dev", &bridge])?;
        }
        ip(&["link", "set", &bridge, "up"])?;
        for (region, &count) in nodes.iter().enumerate() {
            namespaces.regions = region + 1;
            namespaces.region(region, count)?;
        }
        Ok(namespaces)
    }

    fn region(&self, region: usize, count: usize) -> Result<(), NamespaceError> {
        let ns = self.namespace(region);
        let block = self.plan.block();
        let host = format!("usd{block}h{region}");
        let inner = format!("usd{block}n{region}");
        ip(&["netns", "add", &ns])?;
        ip(&["link", "add", &host, "type", "veth", "peer", "name", &inner])?;
        ip(&["link", "set", &inner, "netns", &ns])?;
        ip(&["link", "set", &host, "master", &self.bridge(), "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&["-n", &ns, "link", "set", &inner, "up"])?;
        for index in 0..count {
            let address = format!("{}/16", self.plan.node(region, index));
            ip(&["-n", &ns, "addr", "add", &address, "dev", &inner])?;
        }
        Ok(())
    }

    fn namespace(&self, region: usize) -> String {
        self.plan
            .namespace(region)
            .unwrap_or_else(|| format!("usd{}-{region}", self.plan.block()))
    }

    fn bridge(&self) -> String {
        format!("usd{}br", self.plan.block())
    }

    /// Whether `ip netns` works here (root, a kernel with namespaces).
    pub fn available() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        root && Command::new("ip")
            .args(["netns", "list"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for region in 0..self.regions {
            // Deleting a namespace deletes its veth end, and with it the pair.
            let _ = ip(&["netns", "delete", &self.namespace(region)]);
        }
        let _ = ip(&["link", "delete", &self.bridge()]);
    }
}

fn ip(args: &[&str]) -> Result<(), NamespaceError> {
    let error = |message: String| NamespaceError {
        command: args.join(" "),
        message,
    };
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| error(e.to_string()))?;
    if !output.status.success() {
        return Err(error(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    Ok(())
}
