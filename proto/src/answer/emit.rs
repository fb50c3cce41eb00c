//! Writing a [`Plan`] as a response: sections in order, RRSIGs beside their
//! RRsets with DO=1, additional A/AAAA for NS/MX/SRV targets, truncation.
//!
//! Truncation follows NSD and RFC 2181 §9: an answer or authority RRset
//! that does not fit is left out whole, TC is set and nothing more is
//! added. Additional data that does not fit is dropped silently, except
//! in-domain glue of a referral, whose loss sets TC (RFC 9471 §3).

use crate::name::{self, MAX_NAME_LEN};
use crate::record::{Class, Rtype};
use crate::zone::{NodeRef, RrsetRef, ZoneView};

use super::plan::{Data, Item, Plan, Section};
use super::query::{HEADER_LEN, Query};
use super::reply::{AA, Header, Opt, TC};
use super::resolve::lowercase;
use super::writer::{Full, Writer};

/// Most additional RRsets in one response.
const MAX_ADDITIONAL: usize = 64;

/// Everything needed to write one answer.
pub(crate) struct Emit<'q, 'n> {
    pub query: &'q Query<'n>,
    pub zone: ZoneView<'n>,
    pub plan: &'q Plan<'n>,
    /// DO=1 and the zone is signed.
    pub dnssec: bool,
    pub opt: Option<Opt<'n>>,
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
        header.counts[0] = 1;
        let full_limit = writer.limit();
        let opt_len = self.opt.map_or(0, |opt| opt.len());
        writer.set_limit(full_limit.saturating_sub(opt_len));
        let truncated = self.write_sections(&mut writer, &mut header.counts);
        if truncated {
            header.flags |= TC;
        }
        writer.set_limit(full_limit);
        if let Some(opt) = self.opt {
            opt.write(&mut writer).ok()?;
            header.counts[3] += 1;
        }
        let len = writer.finish();
        header.write_into(out);
        Some(len)
    }

    /// Writes answer, authority and additional; returns whether TC is owed.
    fn write_sections(&self, writer: &mut Writer<'_, 'n>, counts: &mut [u16; 4]) -> bool {
        for (section, count) in [(Section::Answer, 1), (Section::Authority, 2)] {
            for item in self.plan.items().iter().filter(|i| i.section == section) {
                match self.put_item(writer, item) {
                    Ok(written) => counts[count] += written,
                    Err(Full) => return true,
                }
            }
        }
        self.write_additional(writer, &mut counts[3])
    }

    fn put_item(&self, writer: &mut Writer<'_, 'n>, item: &Item<'n>) -> Result<u16, Full> {
        let mark = writer.mark();
        let result = match item.data {
            Data::Rrset(rrset) => self.put_rrset(writer, item.owner, rrset, item.ttl, true),
            Data::Cname { target, ttl } => {
                put_synthesised_cname(writer, item.owner, target, ttl).map(|()| 1)
            }
            Data::Empty => Ok(0),
        };
        if result.is_err() {
            writer.rollback(mark);
        }
        result
    }

    fn put_rrset(
        &self,
        writer: &mut Writer<'_, 'n>,
        owner: &'n [u8],
        rrset: RrsetRef<'n>,
        ttl: Option<u32>,
        sigs: bool,
    ) -> Result<u16, Full> {
        let mut written = 0u16;
        for image in images(rrset.images) {
            writer.put_record(owner, image, ttl)?;
            written = written.wrapping_add(1);
        }
        if sigs && self.dnssec {
            for image in images(rrset.sigs) {
                writer.put_record(owner, image, ttl)?;
                written = written.wrapping_add(1);
            }
        }
        Ok(written)
    }

    /// A/AAAA of the targets of NS, MX and SRV records in the answer and
    /// authority sections, from this zone (glue only for NS): every A first,
    /// then every AAAA, as NSD orders them. Returns whether TC is owed for
    /// lost in-domain glue.
    fn write_additional(&self, writer: &mut Writer<'_, 'n>, count: &mut u16) -> bool {
        let mut added = Added {
            keys: [(0, 0); MAX_ADDITIONAL],
            len: 0,
        };
        for rtype in [Rtype::A.0, Rtype::AAAA.0] {
            for item in self.plan.items() {
                let Data::Rrset(rrset) = item.data else {
                    continue;
                };
                let target_at = match Rtype(rrset.rtype) {
                    Rtype::NS => 0,
                    Rtype::MX => 2,
                    Rtype::SRV => 6,
                    _ => continue,
                };
                let glue_allowed = rrset.rtype == Rtype::NS.0;
                for target in rrset.rdatas().filter_map(|rdata| rdata.get(target_at..)) {
                    if self.add_address(writer, target, rtype, glue_allowed, &mut added, count) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Adds the `rtype` RRset of `target`, if there is one and it is new.
    /// Returns whether it did not fit and is in-domain glue (TC owed).
    fn add_address(
        &self,
        writer: &mut Writer<'_, 'n>,
        target: &[u8],
        rtype: u16,
        glue_allowed: bool,
        added: &mut Added,
        count: &mut u16,
    ) -> bool {
        let Some(node) = self.additional_node(target, glue_allowed) else {
            return false;
        };
        let Some(address) = node.rrset(rtype) else {
            return false;
        };
        let key = (node.index(), rtype);
        if added.contains(key) || self.plan.contains(Section::Answer, key.0, rtype) {
            return false;
        }
        let mark = writer.mark();
        match self.put_rrset(writer, node.name(), address, None, true) {
            Ok(written) => {
                *count += written;
                added.push(key);
                false
            }
            Err(Full) => {
                writer.rollback(mark);
                self.is_in_domain_glue(target)
            }
        }
    }

    /// The node owning an additional-section target, if it may be used:
    /// authoritative data always, glue (at or below a cut) only for NS.
    fn additional_node(&self, target: &[u8], glue_allowed: bool) -> Option<NodeRef<'n>> {
        let mut buffer = [0u8; MAX_NAME_LEN];
        let lower = lowercase(target, &mut buffer);
        let node = self.zone.find(lower)?;
        let is_glue = node.is_below_cut() || node.is_delegation();
        (glue_allowed || !is_glue).then_some(node)
    }

    fn is_in_domain_glue(&self, target: &[u8]) -> bool {
        self.plan
            .referral
            .is_some_and(|cut| name::is_subdomain(target, cut))
    }
}

/// Additional RRsets written so far, by (node, type).
struct Added {
    keys: [(u32, u16); MAX_ADDITIONAL],
    len: usize,
}

impl Added {
    fn contains(&self, key: (u32, u16)) -> bool {
        self.keys[..self.len].contains(&key)
    }

    /// Remembers `key` (beyond the capacity, a target named twice could
    /// be written twice: harmless, and only with over 64 address RRsets).
    fn push(&mut self, key: (u32, u16)) {
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
