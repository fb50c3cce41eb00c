//! Structure-aware damage to DNS messages for the hostile-input property
//! tests: bit flips, truncation, lying length and count fields, and
//! compression pointers that loop.
//!
//! Positions are given as arbitrary numbers and taken modulo the relevant
//! length, so any generated value lands somewhere meaningful.

use proptest::prelude::*;

/// One kind of damage.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flips one bit anywhere.
    FlipBit(usize, u8),
    /// Cuts the message short.
    Truncate(usize),
    /// Overwrites a record's RDLENGTH with a lie.
    RdlengthLie(usize, u16),
    /// Overwrites one of the four section counts.
    Count(usize, u16),
    /// Replaces the start of a name with a pointer to itself.
    SelfPointer(usize),
    /// Points one name at a second one that points back.
    PointerLoop(usize, usize),
    /// Points a name past the end of the message, or forward.
    WildPointer(usize, u16),
    /// Writes a label length byte (e.g. 0x40, 0x80: the reserved types).
    LabelType(usize, u8),
    /// Copies a slice of the message over another place.
    Splice(usize, usize, usize),
    /// Appends garbage.
    Append(Vec<u8>),
}

/// Any mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting_u16 = prop_oneof![
        Just(0u16),
        Just(1),
        Just(0x7FFF),
        Just(0xFFFF),
        any::<u16>(),
        0u16..600,
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), interesting_u16.clone()).prop_map(|(i, v)| Mutation::RdlengthLie(i, v)),
        (0usize..4, interesting_u16.clone()).prop_map(|(i, v)| Mutation::Count(i, v)),
        any::<usize>().prop_map(Mutation::SelfPointer),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::PointerLoop(a, b)),
        (any::<usize>(), interesting_u16).prop_map(|(i, v)| Mutation::WildPointer(i, v)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0x40u8),
                Just(0x80),
                Just(0x3F),
                Just(0xFF),
                any::<u8>()
            ]
        )
            .prop_map(|(i, v)| Mutation::LabelType(i, v)),
        (any::<usize>(), any::<usize>(), 1usize..64)
            .prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
        proptest::collection::vec(any::<u8>(), 1..32).prop_map(Mutation::Append),
    ]
}

/// Between one and `max` mutations.
pub fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..=max)
}

/// Where the names and RDLENGTH fields of a message start, found by
/// walking it; the walk stops quietly where the message stops making sense.
#[derive(Debug, Default)]
pub struct Layout {
    /// Offsets of every name (question and owner names).
    pub names: Vec<usize>,
    /// Offsets of every RDLENGTH field.
    pub rdlengths: Vec<usize>,
}

impl Layout {
    /// Walks `msg`.
    pub fn of(msg: &[u8]) -> Layout {
        let mut layout = Layout::default();
        let count = |i: usize| {
            msg.get(4 + 2 * i..6 + 2 * i)
                .map_or(0, |c| usize::from(u16::from_be_bytes([c[0], c[1]])))
        };
        let mut pos = 12;
        for _ in 0..count(0) {
            layout.names.push(pos);
            let Some(end) = skip_name(msg, pos) else {
                return layout;
            };
            pos = end + 4;
        }
        let records = count(1) + count(2) + count(3);
        for _ in 0..records {
            layout.names.push(pos);
            let Some(end) = skip_name(msg, pos) else {
                return layout;
            };
            let Some(len) = msg.get(end + 8..end + 10) else {
                return layout;
            };
            layout.rdlengths.push(end + 8);
            pos = end + 10 + usize::from(u16::from_be_bytes([len[0], len[1]]));
        }
        layout
    }
}

fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            0xC0.. => return Some(pos + 2),
            _ => pos += 1 + usize::from(len),
        }
    }
}

/// Applies `mutations` in order, each to the result of the previous one.
pub fn apply(msg: &mut Vec<u8>, mutations: &[Mutation]) {
    for mutation in mutations {
        apply_one(msg, mutation);
    }
}

fn apply_one(msg: &mut Vec<u8>, mutation: &Mutation) {
    let layout = Layout::of(msg);
    let pick = |list: &[usize], i: usize| (!list.is_empty()).then(|| list[i % list.len()]);
    match *mutation {
        Mutation::FlipBit(at, bit) if !msg.is_empty() => {
            let len = msg.len();
            msg[at % len] ^= 1 << bit;
        }
        Mutation::Truncate(at) => msg.truncate(at % (msg.len() + 1)),
        Mutation::RdlengthLie(i, value) => {
            if let Some(at) = pick(&layout.rdlengths, i) {
                put_u16(msg, at, value);
            }
        }
        Mutation::Count(i, value) => put_u16(msg, 4 + 2 * i, value),
        Mutation::SelfPointer(i) => {
            if let Some(at) = pick(&layout.names, i) {
                put_u16(msg, at, pointer(at));
            }
        }
        Mutation::PointerLoop(a, b) => {
            if let (Some(a), Some(b)) = (pick(&layout.names, a), pick(&layout.names, b)) {
                put_u16(msg, a, pointer(b));
                put_u16(msg, b, pointer(a));
            }
        }
        Mutation::WildPointer(i, target) => {
            if let Some(at) = pick(&layout.names, i) {
                put_u16(msg, at, 0xC000 | (target & 0x3FFF));
            }
        }
        Mutation::LabelType(i, byte) => {
            if let Some(slot) = pick(&layout.names, i).and_then(|at| msg.get_mut(at)) {
                *slot = byte;
            }
        }
        Mutation::Splice(from, to, len) if !msg.is_empty() => {
            let from = from % msg.len();
            let to = to % msg.len();
            let chunk: Vec<u8> = msg[from..(from + len).min(msg.len())].to_vec();
            for (offset, byte) in chunk.into_iter().enumerate() {
                if let Some(slot) = msg.get_mut(to + offset) {
                    *slot = byte;
                }
            }
        }
        Mutation::Append(ref garbage) => msg.extend_from_slice(garbage),
        _ => {}
    }
}

fn pointer(target: usize) -> u16 {
    0xC000 | (target as u16 & 0x3FFF)
}

fn put_u16(msg: &mut [u8], at: usize, value: u16) {
    if let Some(slot) = msg.get_mut(at..at + 2) {
        slot.copy_from_slice(&value.to_be_bytes());
    }
}
