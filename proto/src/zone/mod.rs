//! Zone snapshots: the canonical, immutable, archived form of one zone at one serial.
//!
//! A [`Snapshot`] is the bytes of one zone at one serial: a small header
//! (magic, format version, origin, serial, body length, SHA-256 of the body)
//! followed by an rkyv archive of the body. The same bytes are written to
//! disk, sent to peers and answered from: loading checks the header, the
//! digest, the archive (bytecheck) and the body's internal references once,
//! after which queries read the archive in place.
//!
//! The body is canonical: records sorted in RFC 4034 §6.1 order (then type,
//! then canonical RDATA), duplicates removed, a hash index built with a
//! fixed function in canonical order. Two nodes that build a snapshot from
//! the same records, in any order, produce identical bytes and digest.
//!
//! `build` refuses zones that break the rules Knot DNS enforces on transfers
//! (see [`BuildError`]): one SOA at the apex, NS at the apex, no CNAME beside
//! other data, at most one DNAME per name and nothing below it, class IN,
//! well-formed RDATA for the types the answering code reads.

mod build;
mod case;
mod check;
mod error;
mod hash;
mod header;
mod layout;
mod node;
mod nsec3;
mod rdata;
mod view;

use ring::digest;
use rkyv::rancor;
use rkyv::util::AlignedVec;

use crate::name::Name;
use crate::record::{Class, Record, Rtype};

pub(crate) use case::eq_ignore_case;
pub use error::{BuildError, LoadError};
pub(crate) use nsec3::hash_name as nsec3_hash;
pub use view::{NodeRef, Nsec3View, RrsetRef, ZoneView};

/// One zone at one serial: immutable, validated, answerable in place.
pub struct Snapshot {
    bytes: AlignedVec<{ header::ALIGN }>,
    body_start: usize,
    digest: [u8; 32],
    /// The apex NS RRset and its addresses, pre-written for answers.
    zone_ns: crate::answer::ZoneNs,
}

impl Snapshot {
    /// Canonical snapshot from records in any order (duplicates removed).
    pub fn build(origin: &Name, records: Vec<Record>) -> Result<Snapshot, BuildError> {
        let body = build::build_body(origin, records)?;
        let header_len = header::header_len(body.origin.len());
        let estimate =
            header_len + body.nodes.len() + body.offsets.len() * 4 + body.index.len() * 8 + 4096;
        let mut bytes = AlignedVec::<{ header::ALIGN }>::with_capacity(estimate);
        bytes.resize(header_len, 0);
        // The archive is written right after room for the header: its
        // pointers are relative, and the header length keeps it aligned.
        let mut bytes = rkyv::api::high::to_bytes_in::<_, rancor::Error>(&body, bytes)
            .map_err(|error| BuildError::Archive(error.to_string()))?;
        let body_start = header_len;
        let archive = bytes.get(body_start..).unwrap_or(&[]);
        let digest = sha256(archive);
        let mut encoded = Vec::with_capacity(header_len);
        header::write(
            &mut encoded,
            body.serial,
            archive.len() as u64,
            &digest,
            &body.origin,
        );
        bytes[..header_len].copy_from_slice(&encoded);
        Ok(Snapshot {
            bytes,
            body_start,
            digest,
            zone_ns: crate::answer::ZoneNs::default(),
        }
        .with_zone_ns())
    }

    /// Bytes from disk or a peer: header, length, SHA-256 and archive validated.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Snapshot, LoadError> {
        let header = header::read(&bytes)?;
        let available = (bytes.len() - header.header_len) as u64;
        if available < header.body_len {
            return Err(LoadError::Truncated(bytes.len()));
        }
        if available > header.body_len {
            return Err(LoadError::TrailingBytes(
                (available - header.body_len) as usize,
            ));
        }
        let body = &bytes[header.header_len..];
        let digest = sha256(body);
        if digest != header.digest {
            return Err(LoadError::DigestMismatch);
        }
        let mut aligned = AlignedVec::<{ header::ALIGN }>::with_capacity(bytes.len());
        aligned.extend_from_slice(&bytes);
        let archived =
            rkyv::access::<layout::ArchivedBody, rancor::Error>(&aligned[header.header_len..])
                .map_err(|error| LoadError::BadArchive(error.to_string()))?;
        check::check_body(archived, &header)?;
        let loaded = Snapshot {
            bytes: aligned,
            body_start: header.header_len,
            digest,
            zone_ns: crate::answer::ZoneNs::default(),
        };
        loaded.check_canonical()?;
        Ok(loaded.with_zone_ns())
    }

    /// Proves the snapshot is exactly what building its own records gives.
    ///
    /// The digest only shows the bytes arrived as they were sent; a faulty
    /// or hostile sender could send a well-formed archive whose derived data
    /// (hash index, node flags, NSEC3 chain) or records disagree, and answers
    /// would then differ from the zone's. Snapshots are canonical, so one
    /// rebuild settles it, whatever the damage.
    fn check_canonical(&self) -> Result<(), LoadError> {
        let rebuilt = Snapshot::build(&self.origin(), self.records().collect())?;
        if rebuilt.as_bytes() == self.as_bytes() {
            Ok(())
        } else {
            Err(LoadError::NotCanonical)
        }
    }

    fn with_zone_ns(mut self) -> Snapshot {
        self.zone_ns = crate::answer::ZoneNs::build(self.view());
        self
    }

    /// The apex NS RRset and its addresses as answers carry them.
    pub(crate) fn zone_ns(&self) -> &crate::answer::ZoneNs {
        &self.zone_ns
    }

    /// Header and archive; identical for the same content on every node.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The zone's origin, case as in the zone data.
    pub fn origin(&self) -> Name {
        Name::from_wire(self.view().origin()).unwrap_or_else(|_| Name::root())
    }

    /// The SOA serial.
    pub fn serial(&self) -> u32 {
        self.body().serial.to_native()
    }

    /// The apex SOA record.
    pub fn soa(&self) -> Record {
        let view = self.view();
        let soa = view.apex().and_then(|apex| apex.rrset(Rtype::SOA.0));
        let rdata = soa.and_then(|s| s.rdatas().next()).unwrap_or(&[]);
        Record {
            owner: self.origin(),
            rtype: Rtype::SOA,
            class: Class::IN,
            ttl: soa.map_or(0, |s| s.ttl()),
            rdata: rdata.into(),
        }
    }

    /// SHA-256 of the body, as carried in the header.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Number of records, RRSIGs included.
    pub fn record_count(&self) -> usize {
        self.body().record_count.to_native() as usize
    }

    /// Whether the zone is DNSSEC-signed (its apex SOA has an RRSIG).
    pub fn is_signed(&self) -> bool {
        self.view().is_signed()
    }

    /// All records in canonical order.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let view = self.view();
        (0..view.node_count() as u32)
            .filter_map(move |i| view.node(i))
            .flat_map(|node| {
                let owner = Name::from_wire(node.name()).unwrap_or_else(|_| Name::root());
                node.rrsets().flat_map(move |rrset| {
                    let owner = owner.clone();
                    images_with_ttl(rrset.images).map(move |(ttl, rdata)| Record {
                        owner: owner.clone(),
                        rtype: Rtype(rrset.rtype),
                        class: Class::IN,
                        ttl,
                        rdata: rdata.into(),
                    })
                })
            })
    }

    /// The zero-copy view the answer path reads.
    pub fn view(&self) -> ZoneView<'_> {
        ZoneView::new(self.body())
    }

    fn body(&self) -> &layout::ArchivedBody {
        let archive = self.bytes.get(self.body_start..).unwrap_or(&[]);
        // SAFETY: `archive` was produced by rkyv (`build`) or validated with
        // `rkyv::access` (bytecheck, `from_bytes`) at the same alignment, and
        // the buffer is never mutated afterwards.
        unsafe { rkyv::access_unchecked::<layout::ArchivedBody>(archive) }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("origin", &self.origin())
            .field("serial", &self.serial())
            .field("records", &self.record_count())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

fn images_with_ttl(run: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut rest = run;
    std::iter::from_fn(move || {
        let len = build::image_len(rest).min(rest.len());
        let (image, tail) = rest.split_at(len);
        rest = tail;
        let ttl = image.get(4..8)?;
        let rdata = image.get(layout::IMAGE_FIXED..)?;
        Some((u32::from_be_bytes([ttl[0], ttl[1], ttl[2], ttl[3]]), rdata))
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod testing;
