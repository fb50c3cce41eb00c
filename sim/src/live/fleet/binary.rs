//! Finding the `understudy` binary and running its helper subcommands.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::FleetError;

/// The `understudy` binary: `$UNDERSTUDY_BIN`, else `understudy` next to
/// this executable (or one directory up, for test binaries in `deps/`),
/// else `target/release` or `target/debug` of the workspace.
pub fn find() -> Result<PathBuf, FleetError> {
    if let Some(path) = std::env::var_os("UNDERSTUDY_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(FleetError::Binary(format!(
                "UNDERSTUDY_BIN={} is not a file",
                path.display()
            )))
        };
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(2) {
            candidates.push(dir.join("understudy"));
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for profile in ["release", "debug"] {
        candidates.push(workspace.join("target").join(profile).join("understudy"));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        FleetError::Binary(
            "the understudy binary was not found next to understudy-sim nor in target/: \
             run `cargo build --release --bins` (or set UNDERSTUDY_BIN)"
                .to_string(),
        )
    })
}

/// Runs `understudy ARGS…`, returning stdout; a failure carries stderr.
pub fn run(binary: &Path, args: &[&str]) -> Result<String, FleetError> {
    let output = Command::new(binary)
        .args(args)
        .output()
        .map_err(|error| FleetError::Command(format!("{}: {error}", binary.display())))?;
    if !output.status.success() {
        return Err(FleetError::Command(format!(
            "understudy {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
