//! Writing a [`Plan`] as a response, with NSD's `encode_answer` rules.
//!
//! Sections go out in order: answer, authority, the zone's NS RRset of a
//! positive answer, then additional addresses (all A, then all AAAA). An
//! RRset is written whole with its RRSIGs (DO=1) or not at all. In the
//! answer and authority sections an RRset that does not fit sets TC and
//! ends the response (RFC 2181 §9). Over UDP, the optional NS RRset and
//! additional data are kept within 1232 octets ("minimal responses"): the
//! first one that does not fit is dropped without TC, the rest of its pass
//! is still tried, and later passes are skipped; a referral that gets no
//! address at all is truncated.

use crate::record::{Class, Rtype};
use crate::zone::RrsetRef;

use super::additional::{Candidate, Phase, Targets, bears_additional};
use super::plan::{Data, Item, Plan, Section};
use super::query::{HEADER_LEN, Query};
use super::reply::{AA, Header, Opt, TC};
use super::template::{Block, Pass};
use super::writer::{Full, Writer};

/// NSD's `IPV4_MINIMAL_RESPONSE_SIZE`: optional data stops here over UDP.
const MINIMAL_RESPONSE: usize = 1232;
/// Most additional RRsets remembered to avoid writing one twice.
const MAX_ADDITIONAL: usize = 64;

/// Everything needed to write one answer.
pub(crate) struct Emit<'q, 'n> {
    pub query: &'q Query<'n>,
    pub plan: &'q Plan<'n>,
    pub opt: Option<Opt<'n>>,
    pub tcp: bool,
    /// Copy the zone's pre-written NS block where it is exact.
    pub template: bool,
}

/// Where an RRset goes, for the truncation rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Answer and authority: no fit, TC.
    Required,
    /// Optional NS and additional data: no fit, dropped.
    Optional,
}

/// Counts and flags while writing.
struct State {
    counts: [u16; 4],
    truncated: bool,
    /// Optional data hit the limit: later passes are skipped (NSD's `done`).
    done: bool,
}

impl<'n> Emit<'_, 'n> {
    /// Writes the response into `out`, at most `limit` octets; `None` if not
    /// even the question fits.
    pub(crate) fn write(&self, out: &mut [u8], limit: usize) -> Option<usize> {
        let mut header = Header::for_query(self.query, self.plan.rcode);
        if self.plan.authoritative {
            header.flags |= AA;
        }
        let mut writer = Writer::new(out, limit);
        writer.put_bytes(&[0; HEADER_LEN]).ok()?;
        writer.put_bytes(self.query.question).ok()?;
        writer.remember(self.query.qname, HEADER_LEN);
        let reserved = self.opt.map_or(0, |opt| opt.reserved_len());
        writer.set_limit(limit.saturating_sub(reserved));
        let mut state = State {
            counts: [1, 0, 0, 0],
            truncated: false,
            done: false,
        };
        self.write_sections(&mut writer, &mut state);
        if state.truncated {
            header.flags |= TC;
        }
        header.counts = state.counts;
        if let Some(opt) = self.opt {
            // The EDE option may go past the limit, as in NSD.
            writer.set_limit(limit + opt.unreserved_len());
            opt.write(&mut writer).ok()?;
            header.counts[3] += 1;
        }
        let len = writer.finish();
        header.write_into(out);
        Some(len)
    }

    fn write_sections(&self, writer: &mut Writer<'_, 'n>, state: &mut State) {
        for (section, count) in [(Section::Answer, 1), (Section::Authority, 2)] {
            for item in self.plan.items().filter(|i| i.section == section) {
                if state.truncated {
                    return;
                }
                state.counts[count] += self.put_item(writer, item, Kind::Required, state);
            }
        }
        if state.truncated {
            return;
        }
        if let Some(block) = self.plan.zone_ns.filter(|_| self.template)
            && !self
                .plan
                .items()
                .any(|i| i.section != Section::OptionalAuthority && bears_additional(i))
            && let Some(origin) = block.usable(writer, self.plan, self.query.qname.len(), self.tcp)
        {
            self.write_block(writer, block, origin, state);
            return;
        }
        let optional = self
            .plan
            .items()
            .filter(|i| i.section == Section::OptionalAuthority);
        for item in optional {
            state.counts[2] += self.put_item(writer, item, Kind::Optional, state);
        }
        if !state.done {
            self.write_additional(writer, state);
        }
    }

    /// The zone's NS RRset and addresses from the pre-written block, with
    /// the same per-RRset rules as the general path.
    fn write_block(
        &self,
        writer: &mut Writer<'_, 'n>,
        block: &Block,
        origin: usize,
        state: &mut State,
    ) {
        if block.fits_whole(writer, self.tcp, MINIMAL_RESPONSE) && block.copy_whole(writer, origin)
        {
            let (ns, more) = block.counts();
            state.counts[2] += ns;
            state.counts[3] += more;
            return;
        }
        let mut ns_at = 0;
        for pass in [Pass::Ns, Pass::A, Pass::Aaaa] {
            let before = state.counts[3];
            for segment in block.segments().iter().filter(|s| s.pass == pass) {
                let len = segment.end - segment.start;
                let fits = writer.room() >= len;
                if !self.tcp && (!fits || writer.len() + len > MINIMAL_RESPONSE) {
                    state.done = true;
                    continue;
                }
                if pass == Pass::Ns {
                    ns_at = writer.len();
                }
                if block.copy(writer, segment, origin, ns_at) {
                    state.counts[if pass == Pass::Ns { 2 } else { 3 }] += segment.records;
                }
            }
            if state.done {
                if pass == Pass::A && state.counts[3] == before && self.plan.delegation {
                    state.truncated = true;
                }
                return;
            }
        }
    }

    fn put_item(
        &self,
        writer: &mut Writer<'_, 'n>,
        item: &Item<'n>,
        kind: Kind,
        state: &mut State,
    ) -> u16 {
        match item.data {
            Data::Rrset(rrset) => {
                let signed = item.signed && rrset.rtype != Rtype::RRSIG.0;
                self.put_rrset(writer, item.owner, rrset, item.ttl, signed, kind, state)
            }
            Data::Cname { target, ttl } => {
                let mark = writer.mark();
                match put_synthesised_cname(writer, item.owner, target, ttl) {
                    Ok(()) => 1,
                    Err(Full) => {
                        writer.rollback(mark);
                        state.truncated = true;
                        0
                    }
                }
            }
        }
    }

    /// NSD's `packet_encode_rrset`: the records, then their RRSIGs, undone
    /// as a whole when they do not all fit (or, for optional data over
    /// UDP, when they end past the minimal response size).
    #[allow(clippy::too_many_arguments)]
    fn put_rrset(
        &self,
        writer: &mut Writer<'_, 'n>,
        owner: &'n [u8],
        rrset: RrsetRef<'n>,
        ttl: Option<u32>,
        signed: bool,
        kind: Kind,
        state: &mut State,
    ) -> u16 {
        let start = writer.mark();
        let mut written = 0u16;
        let mut all = true;
        for image in images(rrset.images) {
            if put_one(writer, owner, image, ttl) {
                written += 1;
            } else {
                all = false;
                break;
            }
        }
        if all && signed {
            // The SOA's RRSIG carries the SOA's TTL (NSD: negative TTL too).
            let sig_ttl = (rrset.rtype == Rtype::SOA.0).then(|| ttl.unwrap_or(rrset.ttl()));
            for image in images(rrset.sigs) {
                if put_one(writer, owner, image, sig_ttl) {
                    written += 1;
                } else {
                    all = false;
                    break;
                }
            }
        }
        let over = writer.len() > MINIMAL_RESPONSE;
        if kind == Kind::Optional && !self.tcp && (!all || over) {
            writer.rollback(start);
            state.done = true;
            return 0;
        }
        if !all && kind == Kind::Required {
            writer.rollback(start);
            state.truncated = true;
            return 0;
        }
        written
    }

    /// The additional passes over every planned NS, MB, MX, KX, SRV and RT
    /// RRset, in the order they were planned.
    fn write_additional(&self, writer: &mut Writer<'_, 'n>, state: &mut State) {
        if !self.plan.items().any(bears_additional) {
            return;
        }
        let mut added = Added {
            keys: [(0, &[]); MAX_ADDITIONAL],
            len: 0,
        };
        let mut targets = Targets::new();
        for phase in Phase::ALL {
            if phase == Phase::Other && !self.plan.items().any(has_rt) {
                return;
            }
            let before = state.counts[3];
            targets.rewind();
            for item in self.plan.items() {
                let Data::Rrset(master) = item.data else {
                    continue;
                };
                targets.for_each(item.zone, master, phase, |candidate| {
                    self.put_candidate(writer, item, candidate, &mut added, state);
                });
            }
            if state.done {
                if phase == Phase::A && state.counts[3] == before && self.plan.delegation {
                    state.truncated = true;
                }
                return;
            }
        }
    }

    fn put_candidate(
        &self,
        writer: &mut Writer<'_, 'n>,
        master: &Item<'n>,
        candidate: Candidate<'n>,
        added: &mut Added<'n>,
        state: &mut State,
    ) {
        let key = (candidate.rrset.images.as_ptr() as usize, candidate.owner);
        if added.contains(key) || self.plan.contains(candidate.owner, &candidate.rrset) {
            return;
        }
        added.push(key);
        let signed = master.signed;
        let written = self.put_rrset(
            writer,
            candidate.owner,
            candidate.rrset,
            None,
            signed,
            Kind::Optional,
            state,
        );
        state.counts[3] += written;
    }
}

/// Whether the item is an RT RRset, the only type with "other" additional data.
fn has_rt(item: &Item<'_>) -> bool {
    matches!(item.data, Data::Rrset(rrset) if rrset.rtype == Rtype::RT.0)
}

/// One record; on failure the writer is back where it was.
fn put_one<'n>(
    writer: &mut Writer<'_, 'n>,
    owner: &'n [u8],
    image: &'n [u8],
    ttl: Option<u32>,
) -> bool {
    let mark = writer.mark();
    if writer.put_record(owner, image, ttl).is_ok() {
        return true;
    }
    writer.rollback(mark);
    false
}

/// Additional RRsets tried so far, by (RRset, owner).
struct Added<'n> {
    keys: [(usize, &'n [u8]); MAX_ADDITIONAL],
    len: usize,
}

impl<'n> Added<'n> {
    fn contains(&self, key: (usize, &[u8])) -> bool {
        self.keys[..self.len]
            .iter()
            .any(|(rrset, owner)| *rrset == key.0 && crate::name::eq_ignore_case(owner, key.1))
    }

    /// Remembers `key` (beyond the capacity, a target named twice could
    /// be written twice: harmless, and only with over 64 address RRsets).
    fn push(&mut self, key: (usize, &'n [u8])) {
        if self.len < MAX_ADDITIONAL {
            self.keys[self.len] = key;
            self.len += 1;
        }
    }
}

/// A CNAME synthesised from a DNAME: not signed (RFC 6672 §5.3).
fn put_synthesised_cname<'n>(
    writer: &mut Writer<'_, 'n>,
    owner: &'n [u8],
    target: &'n [u8],
    ttl: u32,
) -> Result<(), Full> {
    writer.put_name(owner)?;
    writer.put_u16(Rtype::CNAME.0)?;
    writer.put_u16(Class::IN.0)?;
    writer.put_u32(ttl)?;
    let rdlength_at = writer.len();
    writer.put_u16(0)?;
    writer.put_name(target)?;
    let rdlength = writer.len() - rdlength_at - 2;
    writer.patch_u16(rdlength_at, rdlength as u16);
    Ok(())
}

/// Each RR image (TYPE .. RDATA) in a run of images.
fn images(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = run;
    std::iter::from_fn(move || {
        let rdlength = rest.get(8..10)?;
        let len = (10 + u16::from_be_bytes([rdlength[0], rdlength[1]]) as usize).min(rest.len());
        let (image, tail) = rest.split_at(len);
        rest = tail;
        Some(image)
    })
}
