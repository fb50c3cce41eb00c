//! Proves the answer path never allocates: a counting global allocator
//! watches thousands of mixed queries (positive, NXDOMAIN, NODATA, wildcard,
//! CNAME, DNAME, referral, DNSSEC with DO, EDNS, truncation, errors).

mod answer_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use answer_support::{bench_zone, fake_sign, name, parse_zone, query};
use understudy_proto::answer::{Outcome, Responder, Transport};
use understudy_proto::record::Rtype;
use understudy_proto::zone::Snapshot;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn answering_never_allocates() {
    let (records, mix) = bench_zone(2000, 3000);
    let origin = name("bench.test.");
    let plain = Snapshot::build(&origin, records.clone()).unwrap();
    let signed = Snapshot::build(&origin, fake_sign(&origin, records)).unwrap();
    assert!(signed.is_signed() && !plain.is_signed());
    let dname_zone = dname_zone();
    let mut packets = Vec::new();
    for (i, (qname, qtype)) in mix.iter().enumerate() {
        let edns = match i % 4 {
            0 => None,
            1 => Some((1232, false)),
            _ => Some((4096, true)),
        };
        packets.push(query(i as u16, qname, *qtype, edns));
    }
    for extra in ["www.d.dn.test.", "x.y.d.dn.test.", "dn.test."] {
        packets.push(query(7, &name(extra), Rtype::A, Some((1232, true))));
    }
    packets.push(vec![0; 5]);
    packets.push(query(9, &name("bench.test."), Rtype::ANY, None));
    packets.push(query(9, &name("version.bind."), Rtype::TXT, None));
    let responder = Responder::default();
    let mut out = vec![0u8; 65535];
    let mut replies = 0;
    COUNTING.store(true, Ordering::SeqCst);
    for zone in [&plain, &signed, &dname_zone] {
        for (i, packet) in packets.iter().enumerate() {
            let transport = if i % 7 == 0 {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            if let Outcome::Reply(_) = responder.respond(zone, packet, transport, &mut out) {
                replies += 1;
            }
        }
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    println!("{replies} replies, {allocations} allocations");
    assert!(replies > 3 * 3000, "{replies} replies");
    assert_eq!(allocations, 0, "the answer path allocated");
}

fn dname_zone() -> Snapshot {
    let text = "dn.test. 300 IN SOA ns.dn.test. h.dn.test. 1 2 3 4 5\n\
                dn.test. 300 IN NS ns.dn.test.\n\
                ns.dn.test. 300 IN A 192.0.2.1\n\
                d.dn.test. 300 IN DNAME target.test.\n";
    Snapshot::build(&name("dn.test."), parse_zone(text)).unwrap()
}
