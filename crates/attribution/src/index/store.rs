//! Views over the memory-mapped files: tokens, packed pointers, documents.
//!
//! Every read is bounds-checked and clamps instead of panicking: a corrupt
//! file gives wrong answers (which [`crate::index::Index::verify`] detects),
//! never an out-of-bounds access.

use std::cmp::Ordering;

use super::format::DOCUMENT_RECORD;

/// One token as stored on disk: `u8` for byte indexes, `[u8; 2]` (u16
/// little-endian) for BPE indexes.
pub(crate) trait Symbol: Copy + Eq + Send + Sync + 'static {
    /// The token id.
    fn value(self) -> u32;
    /// The stored form of `value`, which the caller has checked fits.
    fn from_value(value: u32) -> Self;
    /// Lexicographic order of token sequences by id (a shorter prefix first).
    fn compare(a: &[Self], b: &[Self]) -> Ordering;
    /// The file's bytes as tokens (a trailing partial token is ignored).
    fn cast(bytes: &[u8]) -> &[Self];
}

impl Symbol for u8 {
    #[inline]
    fn value(self) -> u32 {
        u32::from(self)
    }
    #[inline]
    fn from_value(value: u32) -> Self {
        value as u8
    }
    #[inline]
    fn compare(a: &[Self], b: &[Self]) -> Ordering {
        a.cmp(b)
    }
    fn cast(bytes: &[u8]) -> &[Self] {
        bytes
    }
}

impl Symbol for [u8; 2] {
    #[inline]
    fn value(self) -> u32 {
        u32::from(u16::from_le_bytes(self))
    }
    #[inline]
    fn from_value(value: u32) -> Self {
        (value as u16).to_le_bytes()
    }
    #[inline]
    fn compare(a: &[Self], b: &[Self]) -> Ordering {
        // Byte order of little-endian pairs is not id order: compare ids.
        for (x, y) in a.iter().zip(b) {
            if x != y {
                return u16::from_le_bytes(*x).cmp(&u16::from_le_bytes(*y));
            }
        }
        a.len().cmp(&b.len())
    }
    fn cast(bytes: &[u8]) -> &[Self] {
        bytes.as_chunks::<2>().0
    }
}

/// An array of unsigned integers of `width` bytes each, little-endian.
#[derive(Clone, Copy)]
pub(crate) struct Packed<'a> {
    bytes: &'a [u8],
    width: usize,
    mask: u64,
    len: usize,
}

impl<'a> Packed<'a> {
    /// A view of `bytes` as `width`-byte integers (`1..=8`).
    pub(crate) fn new(bytes: &'a [u8], width: usize) -> Self {
        let width = width.clamp(1, 8);
        let mask = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
        Self { bytes, width, mask, len: bytes.len() / width }
    }

    /// Number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entry `i`; 0 past the end.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> u64 {
        let start = i.wrapping_mul(self.width);
        if let Some(word) = self.bytes.get(start..).and_then(|rest| rest.first_chunk::<8>()) {
            return u64::from_le_bytes(*word) & self.mask;
        }
        // The last few entries: fewer than eight bytes remain.
        let mut word = [0u8; 8];
        for (k, slot) in word.iter_mut().take(self.width).enumerate() {
            *slot = self.bytes.get(start.wrapping_add(k)).copied().unwrap_or(0);
        }
        u64::from_le_bytes(word)
    }
}

/// The document table: for each document in acceptance order, the offset of
/// its first token and its contribution id.
#[derive(Clone, Copy)]
pub(crate) struct Documents<'a> {
    records: &'a [[u8; DOCUMENT_RECORD]],
    num_tokens: u64,
}

impl<'a> Documents<'a> {
    pub(crate) fn new(bytes: &'a [u8], num_tokens: u64) -> Self {
        Self { records: bytes.as_chunks::<DOCUMENT_RECORD>().0, num_tokens }
    }

    /// Number of documents.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Token offset of document `d`'s first token.
    #[inline]
    pub(crate) fn start(&self, d: usize) -> u64 {
        self.records.get(d).map_or(self.num_tokens, |r| u64::from_le_bytes(first_half(r)))
    }

    /// Token offset one past document `d`'s last token.
    #[inline]
    pub(crate) fn end(&self, d: usize) -> u64 {
        if d + 1 < self.records.len() { self.start(d + 1) } else { self.num_tokens }
    }

    /// Contribution id of document `d`.
    #[inline]
    pub(crate) fn id(&self, d: usize) -> u64 {
        self.records.get(d).map_or(u64::MAX, |r| u64::from_le_bytes(second_half(r)))
    }

    /// The document holding token `position`: the last one starting at or
    /// before it (so empty documents, which share their start with the next,
    /// are never chosen). 0 for an index without documents.
    #[inline]
    pub(crate) fn of_position(&self, position: u64) -> usize {
        let after = self.records.partition_point(|r| u64::from_le_bytes(first_half(r)) <= position);
        after.saturating_sub(1)
    }
}

fn first_half(record: &[u8; DOCUMENT_RECORD]) -> [u8; 8] {
    let (first, _) = record.split_at(8);
    let mut out = [0u8; 8];
    out.copy_from_slice(first);
    out
}

fn second_half(record: &[u8; DOCUMENT_RECORD]) -> [u8; 8] {
    let (_, second) = record.split_at(8);
    let mut out = [0u8; 8];
    out.copy_from_slice(second);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_reads_every_width() {
        for width in 1..=8 {
            let values: Vec<u64> =
                (0..20u64).map(|v| (v * 0x0123_4567_89ab) & mask(width)).collect();
            let mut bytes = Vec::new();
            for v in &values {
                bytes.extend_from_slice(&v.to_le_bytes()[..width]);
            }
            let packed = Packed::new(&bytes, width);
            assert_eq!(packed.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                assert_eq!(packed.get(i), *v, "width {width} entry {i}");
            }
            assert_eq!(packed.get(values.len() + 3), 0);
            assert_eq!(packed.get(usize::MAX), 0);
        }
    }

    fn mask(width: usize) -> u64 {
        if width == 8 { u64::MAX } else { (1 << (8 * width)) - 1 }
    }

    #[test]
    fn wide_symbols_compare_by_id() {
        let a = [<[u8; 2]>::from_value(0x0100)];
        let b = [<[u8; 2]>::from_value(0x00FF)];
        assert_eq!(<[u8; 2]>::compare(&a, &b), Ordering::Greater);
        assert_eq!(<[u8; 2]>::compare(&b, &[b[0], a[0]]), Ordering::Less);
    }

    #[test]
    fn documents_skip_empty_ones() {
        let mut bytes = Vec::new();
        for (start, id) in [(0u64, 7u64), (0, 9), (5, 3)] {
            bytes.extend_from_slice(&start.to_le_bytes());
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        let docs = Documents::new(&bytes, 8);
        assert_eq!(docs.of_position(0), 1);
        assert_eq!(docs.of_position(4), 1);
        assert_eq!(docs.of_position(5), 2);
        assert_eq!(docs.end(2), 8);
        assert_eq!(docs.id(2), 3);
    }
}
