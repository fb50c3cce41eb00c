//! Small generated zones for transfer tests (the tricky fixtures live in
//! `tests/zones/`).

use std::fmt::Write as _;

/// The zone most transfer tests use.
pub const EXAMPLE: &str = "example.test.";

/// `example.test.` at `serial` with `hosts` A records `hN` plus the
/// sentinel `serial.example.test. TXT "N"` that tells versions apart.
pub fn example(serial: u32, hosts: usize) -> String {
    let mut text = format!(
        "$ORIGIN example.test.\n$TTL 300\n\
         @ SOA ns1 hostmaster {serial} 3600 600 86400 60\n\
         @ NS ns1\nns1 A 192.0.2.1\nns1 AAAA 2001:db8::1\n\
         www A 192.0.2.80\nwww AAAA 2001:db8::80\nmail MX 10 www\n\
         serial TXT \"{serial}\"\n"
    );
    for i in 0..hosts {
        let _ = writeln!(
            text,
            "h{i} A 10.{}.{}.{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
    }
    text
}

/// [`example`] with `changed N` extra TXT records (an IXFR-sized change).
pub fn example_changed(serial: u32, hosts: usize, added: usize) -> String {
    let mut text = example(serial, hosts);
    for i in 0..added {
        let _ = writeln!(text, "added{i} TXT \"added at {serial}\"");
    }
    text
}

/// A zone named `name` with one A record, for many-zone tests.
pub fn tiny(name: &str, serial: u32) -> String {
    format!(
        "$ORIGIN {name}\n$TTL 300\n@ SOA ns1 hostmaster {serial} 3600 600 86400 60\n\
         @ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n"
    )
}
