//! Views over the memory-mapped files: tokens, packed pointers, documents.
//!
//! Every read is bounds-checked and clamps instead of panicking: a corrupt
//! file gives wrong answers (which [`crate::index::Index::verify`] detects),
//! never an out-of-bounds access.

use std::cmp::Ordering;

/// One token as stored on disk: `u8` for byte indexes, `[u8; 2]` (u16
/// little-endian) for BPE indexes.
pub(crate) trait Symbol: Copy + Eq + Send + Sync + 'static {
    /// Bytes per token on disk.
    const BYTES: usize;
    /// The token id.
    fn value(self) -> u32;
    /// The stored form of `value`, which the caller has checked fits.
    fn from_value(value: u32) -> Self;
    /// Lexicographic order of token sequences by id (a shorter prefix first).
    fn compare(a: &[Self], b: &[Self]) -> Ordering;
    /// The file's bytes as tokens (a trailing partial token is ignored).
    fn cast(bytes: &[u8]) -> &[Self];
    /// The ids of the first `16 / BYTES` tokens, big-endian in `BYTES` bytes
    /// each, when there are that many.
    fn head(tokens: &[Self]) -> Option<u128>;
}

impl Symbol for u8 {
    const BYTES: usize = 1;
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
    #[inline]
    fn head(tokens: &[Self]) -> Option<u128> {
        tokens.first_chunk::<16>().map(|bytes| u128::from_be_bytes(*bytes))
    }
}

impl Symbol for [u8; 2] {
    const BYTES: usize = 2;
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
    #[inline]
    fn head(tokens: &[Self]) -> Option<u128> {
        let pairs = tokens.first_chunk::<8>()?;
        // Big-endian over the little-endian pairs, then each pair swapped.
        let swapped = u128::from_be_bytes(*pairs.as_flattened().first_chunk::<16>()?);
        const LOW: u128 = 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
        Some(((swapped >> 8) & LOW) | ((swapped & LOW) << 8))
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

/// The document table, `documents.bin`: each document's first token offset
/// (pointer width), in acceptance order, then each one's contribution id (id
/// width), in the same order.
#[derive(Clone, Copy)]
pub(crate) struct Documents<'a> {
    offsets: Packed<'a>,
    ids: Packed<'a>,
    num_tokens: u64,
}

impl<'a> Documents<'a> {
    /// The table of `count` documents in `bytes`, which the caller has
    /// checked holds `count × (pointer_width + id_width)` bytes (a shorter
    /// file reads as fewer documents or ids of `u64::MAX`, never out of
    /// bounds).
    pub(crate) fn new(
        bytes: &'a [u8],
        count: usize,
        pointer_width: usize,
        id_width: usize,
        num_tokens: u64,
    ) -> Self {
        let (offsets, ids) = bytes.split_at(count.saturating_mul(pointer_width).min(bytes.len()));
        Self {
            offsets: Packed::new(offsets, pointer_width),
            ids: Packed::new(ids, id_width),
            num_tokens,
        }
    }

    /// Number of documents.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Token offset of document `d`'s first token.
    #[inline]
    pub(crate) fn start(&self, d: usize) -> u64 {
        if d < self.len() { self.offsets.get(d) } else { self.num_tokens }
    }

    /// Token offset one past document `d`'s last token.
    #[inline]
    pub(crate) fn end(&self, d: usize) -> u64 {
        if d + 1 < self.len() { self.start(d + 1) } else { self.num_tokens }
    }

    /// Contribution id of document `d`.
    #[inline]
    pub(crate) fn id(&self, d: usize) -> u64 {
        if d < self.len() && d < self.ids.len() { self.ids.get(d) } else { u64::MAX }
    }

    /// The document holding token `position`: the last one starting at or
    /// before it (so empty documents, which share their start with the next,
    /// are never chosen). 0 for an index without documents.
    #[inline]
    pub(crate) fn of_position(&self, position: u64) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.offsets.get(mid) <= position { lo = mid + 1 } else { hi = mid }
        }
        lo.saturating_sub(1)
    }
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
    fn heads_hold_the_first_ids_big_endian() {
        let bytes: Vec<u8> = (1..=17).collect();
        assert_eq!(
            u8::head(&bytes),
            Some(u128::from_be_bytes(bytes[..16].try_into().expect("16")))
        );
        assert_eq!(u8::head(&bytes[..15]), None);
        let wide: Vec<[u8; 2]> =
            (0..9u32).map(|i| <[u8; 2]>::from_value(0x0102 * i + 0xF0)).collect();
        let expected = (0..8u32).fold(0u128, |head, i| head << 16 | u128::from(0x0102 * i + 0xF0));
        assert_eq!(<[u8; 2]>::head(&wide), Some(expected));
        assert_eq!(<[u8; 2]>::head(&wide[..7]), None);
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
        // Offsets 0, 0, 5 in one byte each, then ids 7, 9, 300 in two.
        let bytes = [0, 0, 5, 7, 0, 9, 0, 0x2C, 0x01];
        let docs = Documents::new(&bytes, 3, 1, 2, 8);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs.of_position(0), 1);
        assert_eq!(docs.of_position(4), 1);
        assert_eq!(docs.of_position(5), 2);
        assert_eq!(docs.end(2), 8);
        assert_eq!((docs.id(0), docs.id(2), docs.id(3)), (7, 300, u64::MAX));
        assert_eq!(docs.start(3), 8);
        // A short file never reads out of bounds.
        let short = Documents::new(&bytes[..4], 3, 1, 2, 8);
        assert_eq!((short.len(), short.id(0), short.id(2)), (3, u64::MAX, u64::MAX));
    }
}
