//! Proves the answer path never allocates: a counting global allocator
//! watches thousands of mixed queries (positive, NXDOMAIN, NODATA, wildcard,
//! CNAME, DNAME, referral, DNSSEC with DO over NSEC and NSEC3, EDNS,
//! truncation, errors).

mod answer_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use answer_support::{bench_zone, fake_sign, fake_sign_nsec3, name, parse_zone, query};
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
    let signed = Snapshot::build(&origin, fake_sign(&origin, records.clone())).unwrap();
    let nsec3 = Snapshot::build(&origin, fake_sign_nsec3(&origin, records, 2)).unwrap();
    assert!(signed.is_signed() && nsec3.is_signed() && !plain.is_signed());
    let dname_zone = dname_zone();
    let nxdomain = query(
        1,
        &name("no-such-name.bench.test."),
        Rtype::A,
        Some((1232, true)),
    );
    let mut out = vec![0u8; 65535];
    let Outcome::Reply { len, .. } =
        Responder::default().respond(&nsec3, &nxdomain, Transport::Udp, &mut out)
    else {
        panic!("no reply");
    };
    let proof = answer_support::nsd::read_message(&out[..len]).unwrap();
    let nsec3_records = proof.sections[1]
        .iter()
        .filter(|r| r.rtype == Rtype::NSEC3)
        .count();
    assert!(
        nsec3_records >= 2,
        "the NSEC3 path is exercised: {nsec3_records} NSEC3 in the proof"
    );
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
    let mut replies = 0;
    COUNTING.store(true, Ordering::SeqCst);
    for zone in [&plain, &signed, &nsec3, &dname_zone] {
        for (i, packet) in packets.iter().enumerate() {
            let transport = if i % 7 == 0 {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            if let Outcome::Reply { .. } = responder.respond(zone, packet, transport, &mut out) {
                replies += 1;
            }
        }
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    println!("{replies} replies, {allocations} allocations");
    assert!(replies > 4 * 3000, "{replies} replies");
    assert_eq!(allocations, 0, "the answer path allocated");
}

fn dname_zone() -> Snapshot {
    let text = "dn.test. 300 IN SOA ns.dn.test. h.dn.test. 1 2 3 4 5\n\
                dn.test. 300 IN NS ns.dn.test.\n\
                ns.dn.test. 300 IN A 192.0.2.1\n\
                d.dn.test. 300 IN DNAME target.test.\n";
    Snapshot::build(&name("dn.test."), parse_zone(text)).unwrap()
}
