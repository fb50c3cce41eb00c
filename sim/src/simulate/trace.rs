//! The event trace: one canonical line per processed event, hashed with
//! SHA-256 and optionally written to a file.

use std::io::Write;

use ring::digest::{Context, SHA256};

/// The running trace of one run.
pub struct Trace {
    hash: Context,
    file: Option<Box<dyn Write>>,
    lines: u64,
    buffer: String,
}

impl Trace {
    /// A trace that is only hashed, or also written to `file`.
    pub fn new(file: Option<Box<dyn Write>>) -> Trace {
        Trace {
            hash: Context::new(&SHA256),
            file,
            lines: 0,
            buffer: String::new(),
        }
    }

    /// Records one line (without its newline).
    pub fn line(&mut self, line: &str) -> std::io::Result<()> {
        self.hash.update(line.as_bytes());
        self.hash.update(b"\n");
        self.lines += 1;
        if let Some(file) = self.file.as_mut() {
            writeln!(file, "{line}")?;
        }
        Ok(())
    }

    /// Records one line built by `build` in a reused buffer.
    pub fn record(&mut self, build: impl FnOnce(&mut String)) -> std::io::Result<()> {
        let mut line = std::mem::take(&mut self.buffer);
        line.clear();
        build(&mut line);
        let written = self.line(&line);
        self.buffer = line;
        written
    }

    /// How many lines were recorded.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The hash of every line so far, in hex; flushes the file.
    pub fn finish(self) -> std::io::Result<String> {
        if let Some(mut file) = self.file {
            file.flush()?;
        }
        let digest = self.hash.finish();
        Ok(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }
}
