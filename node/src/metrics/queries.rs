//! `understudy_queries_total{protocol,rcode}` without a lock or an
//! allocation per query.
//!
//! Each UDP worker owns a [`QueryCounter`]: a fixed block of counters
//! indexed by protocol × RCODE that only it writes (a relaxed load and store,
//! no read-modify-write). TCP connection tasks share a
//! [`SharedQueryCounter`] that adds with a relaxed `fetch_add`. A scrape
//! sums every block; blocks are kept after their worker ends so counts never
//! go backwards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounterVec, Opts};

/// The transport a query came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// UDP
    Udp = 0,
    /// TCP
    Tcp = 1,
}

const PROTOCOLS: [(Protocol, &str); 2] = [(Protocol::Udp, "udp"), (Protocol::Tcp, "tcp")];

/// RCODE label values, indexed by RCODE (RFC 6895 §2.3); the last slot
/// counts any RCODE past them.
const RCODES: [&str; 25] = [
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
    "DSOTYPENI",
    "RCODE12",
    "RCODE13",
    "RCODE14",
    "RCODE15",
    "BADVERS",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
    "OTHER",
];
const OTHER: usize = RCODES.len() - 1;

/// Series exported even at zero, so that rates work from the first scrape.
const ALWAYS: [usize; 5] = [0, 1, 2, 3, 5];

#[derive(Default)]
struct Block {
    answered: [[AtomicU64; RCODES.len()]; 2],
    dropped: [AtomicU64; 2],
}

impl Block {
    fn slot(&self, protocol: Protocol, rcode: u16) -> &AtomicU64 {
        let index = usize::from(rcode).min(OTHER);
        &self.answered[protocol as usize][index]
    }
}

/// One worker's counters. Not `Clone`: exactly one writer per block.
pub struct QueryCounter {
    block: Arc<Block>,
}

impl QueryCounter {
    /// Counts one answered query.
    #[inline]
    pub fn answered(&mut self, protocol: Protocol, rcode: u16) {
        bump(self.block.slot(protocol, rcode));
    }

    /// Counts one query dropped without an answer.
    #[inline]
    pub fn dropped(&mut self, protocol: Protocol) {
        bump(&self.block.dropped[protocol as usize]);
    }
}

/// Only the owning worker writes the block, so a plain load and store is
/// exact; the scrape reads it without stopping the worker.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Counters shared by many tasks (TCP connections), cheap to clone.
#[derive(Clone)]
pub struct SharedQueryCounter {
    block: Arc<Block>,
}

impl SharedQueryCounter {
    /// Counts one answered query.
    #[inline]
    pub fn answered(&self, protocol: Protocol, rcode: u16) {
        self.block
            .slot(protocol, rcode)
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one query dropped without an answer.
    #[inline]
    pub fn dropped(&self, protocol: Protocol) {
        self.block.dropped[protocol as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// Every block, summed at scrape time.
pub struct QueryCounters {
    blocks: Mutex<Vec<Arc<Block>>>,
    answered: IntCounterVec,
    dropped: IntCounterVec,
}

impl QueryCounters {
    /// The collector, with no worker yet.
    pub fn new() -> prometheus::Result<QueryCounters> {
        Ok(QueryCounters {
            blocks: Mutex::new(Vec::new()),
            answered: answered_vec()?,
            dropped: dropped_vec()?,
        })
    }

    /// A block for one worker.
    pub fn worker(&self) -> QueryCounter {
        QueryCounter {
            block: self.add_block(),
        }
    }

    /// A block shared by many tasks.
    pub fn shared(&self) -> SharedQueryCounter {
        SharedQueryCounter {
            block: self.add_block(),
        }
    }

    fn add_block(&self) -> Arc<Block> {
        let block = Arc::new(Block::default());
        self.lock().push(Arc::clone(&block));
        block
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Block>>> {
        // The list is only pushed to; a panic elsewhere cannot leave it torn.
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sums of every block: answered per protocol and RCODE, dropped per
    /// protocol.
    fn totals(&self) -> ([[u64; RCODES.len()]; 2], [u64; 2]) {
        let mut answered = [[0u64; RCODES.len()]; 2];
        let mut dropped = [0u64; 2];
        for block in self.lock().iter() {
            for (sums, counts) in answered.iter_mut().zip(&block.answered) {
                for (sum, count) in sums.iter_mut().zip(counts) {
                    *sum = sum.wrapping_add(count.load(Ordering::Relaxed));
                }
            }
            for (sum, count) in dropped.iter_mut().zip(&block.dropped) {
                *sum = sum.wrapping_add(count.load(Ordering::Relaxed));
            }
        }
        (answered, dropped)
    }
}

fn answered_vec() -> prometheus::Result<IntCounterVec> {
    IntCounterVec::new(
        Opts::new(
            "understudy_queries_total",
            "DNS queries answered, by transport and response code.",
        ),
        &["protocol", "rcode"],
    )
}

fn dropped_vec() -> prometheus::Result<IntCounterVec> {
    IntCounterVec::new(
        Opts::new(
            "understudy_queries_dropped_total",
            "DNS queries dropped without an answer (unparseable or a response), by transport.",
        ),
        &["protocol"],
    )
}

impl Collector for QueryCounters {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.answered.desc();
        descs.extend(self.dropped.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (answered, dropped) = self.totals();
        // Fresh vectors each scrape: the sums are the state, not these.
        let (Ok(answered_out), Ok(dropped_out)) = (answered_vec(), dropped_vec()) else {
            return Vec::new();
        };
        for ((_, protocol_name), counts) in PROTOCOLS.iter().zip(&answered) {
            for (index, (count, rcode)) in counts.iter().zip(RCODES).enumerate() {
                if *count > 0 || ALWAYS.contains(&index) {
                    answered_out
                        .with_label_values(&[*protocol_name, rcode])
                        .inc_by(*count);
                }
            }
        }
        for ((_, protocol_name), count) in PROTOCOLS.iter().zip(dropped) {
            dropped_out
                .with_label_values(&[*protocol_name])
                .inc_by(count);
        }
        let mut families = answered_out.collect();
        families.extend(dropped_out.collect());
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(families: &[MetricFamily], name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        let family = families.iter().find(|family| family.name() == name)?;
        family.get_metric().iter().find_map(|metric| {
            let matches = labels.iter().all(|(key, wanted)| {
                metric
                    .get_label()
                    .iter()
                    .any(|pair| pair.name() == *key && pair.value() == *wanted)
            });
            matches.then(|| metric.get_counter().get_value() as u64)
        })
    }

    #[test]
    fn workers_and_shared_blocks_add_up() {
        let counters = QueryCounters::new().unwrap();
        let mut first = counters.worker();
        let mut second = counters.worker();
        let shared = counters.shared();
        for _ in 0..5 {
            first.answered(Protocol::Udp, 0);
        }
        second.answered(Protocol::Udp, 0);
        second.answered(Protocol::Udp, 3);
        shared.answered(Protocol::Tcp, 5);
        shared.clone().answered(Protocol::Tcp, 5);
        first.answered(Protocol::Udp, 16);
        first.answered(Protocol::Udp, 4095);
        first.dropped(Protocol::Udp);
        let families = counters.collect();
        let queries = |protocol, rcode| {
            value(
                &families,
                "understudy_queries_total",
                &[("protocol", protocol), ("rcode", rcode)],
            )
        };
        assert_eq!(queries("udp", "NOERROR"), Some(6));
        assert_eq!(queries("udp", "NXDOMAIN"), Some(1));
        assert_eq!(queries("tcp", "REFUSED"), Some(2));
        assert_eq!(queries("udp", "BADVERS"), Some(1));
        assert_eq!(queries("udp", "OTHER"), Some(1));
        assert_eq!(
            queries("tcp", "SERVFAIL"),
            Some(0),
            "common codes start at zero"
        );
        assert_eq!(queries("tcp", "YXDOMAIN"), None, "unused codes stay out");
        assert_eq!(
            value(
                &families,
                "understudy_queries_dropped_total",
                &[("protocol", "udp")]
            ),
            Some(1)
        );
    }

    #[test]
    fn counts_survive_the_worker_and_many_threads() {
        let counters = Arc::new(QueryCounters::new().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let mut counter = counters.worker();
                let shared = counters.shared();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        counter.answered(Protocol::Udp, 0);
                        shared.answered(Protocol::Tcp, 0);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let families = counters.collect();
        let total = |protocol| {
            value(
                &families,
                "understudy_queries_total",
                &[("protocol", protocol), ("rcode", "NOERROR")],
            )
        };
        assert_eq!(total("udp"), Some(40_000));
        assert_eq!(total("tcp"), Some(40_000));
    }
}
