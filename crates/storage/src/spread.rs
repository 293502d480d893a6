//! Spreading the writes of random keys over blocks.
//!
//! Accounts and transaction hashes are random keys, so writing a block's
//! worth of them straight into a B-tree rewrites about one page per key once
//! the table is large (every page of the accounts table, each block; one
//! page per transaction in the hash index — commits of 10k-transaction
//! blocks slowed from ~35 ms to over 100 ms within 60 blocks). Instead, a
//! block's entries are appended as one row keyed by block number, kept in
//! memory, and merged into the key-ordered table one key range at a time:
//! with `R` ranges, block `c` merges range `c % R` of the last `R` blocks.
//! Each commit then rewrites one `R`th of the table, whose pages absorb many
//! entries per rewrite.
//!
//! The schedule is a pure function of block numbers, so a reopened store
//! knows what is merged: the entries of block `b` in range `r` are merged at
//! the first block `c >= b` with `c % R == r`, and block `b`'s row is deleted
//! at block `b + R - 1`, once its last range has merged. The rows left are
//! those of the last `R - 1` blocks at most.

use std::sync::Arc;

/// The range of a key, from its first byte (keys are uniform hashes or
/// hash-derived addresses). `ranges` divides 256.
pub(crate) fn range_of(first_byte: u8, ranges: u64) -> usize {
    usize::from(first_byte) * ranges as usize / 256
}

/// One block's entries, bucketed by key range.
#[derive(Debug)]
pub(crate) struct BlockEntries<T> {
    number: u64,
    ranges: Vec<Vec<T>>,
}

impl<T> BlockEntries<T> {
    /// Buckets `entries` of block `number` into `ranges` ranges.
    pub(crate) fn new(
        number: u64,
        ranges: u64,
        entries: impl IntoIterator<Item = T>,
        range: impl Fn(&T) -> usize,
    ) -> Self {
        let mut buckets: Vec<Vec<T>> = (0..ranges).map(|_| Vec::new()).collect();
        for entry in entries {
            buckets[range(&entry)].push(entry);
        }
        Self { number, ranges: buckets }
    }

    /// Sorts each range's entries by `key`.
    pub(crate) fn sorted_by_key<K: Ord>(mut self, key: impl Fn(&T) -> K) -> Self {
        for bucket in &mut self.ranges {
            bucket.sort_unstable_by_key(&key);
        }
        self
    }

    /// The block number.
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// The entries of range `range`.
    pub(crate) fn range(&self, range: usize) -> &[T] {
        &self.ranges[range]
    }

    fn is_empty(&self) -> bool {
        self.ranges.iter().all(Vec::is_empty)
    }
}

/// The blocks whose entries may not all be merged yet, oldest first.
/// Immutable; each commit makes the next one.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    ranges: u64,
    blocks: Vec<Arc<BlockEntries<T>>>,
}

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        Self { ranges: self.ranges, blocks: self.blocks.clone() }
    }
}

/// What committing one block does: the entries to merge now (oldest block
/// first), the block whose row to delete, and the pending set afterwards.
#[derive(Debug)]
pub(crate) struct Advance<T> {
    /// (block number, entry) to merge, oldest block first.
    pub(crate) merge: Vec<(u64, T)>,
    /// The block whose row is now fully merged.
    pub(crate) retire: Option<u64>,
    /// The pending set after this block.
    pub(crate) next: Pending<T>,
}

impl<T: Clone> Pending<T> {
    /// Nothing pending, `ranges` ranges.
    pub(crate) fn new(ranges: u64) -> Self {
        Self { ranges, blocks: Vec::new() }
    }

    /// The pending set of a reopened store: the blocks of its stored rows.
    pub(crate) fn from_blocks(ranges: u64, mut blocks: Vec<BlockEntries<T>>) -> Self {
        blocks.sort_unstable_by_key(|block| block.number);
        Self { ranges, blocks: blocks.into_iter().map(Arc::new).collect() }
    }

    /// The pending blocks, oldest first.
    pub(crate) fn blocks(&self) -> impl DoubleEndedIterator<Item = &BlockEntries<T>> {
        self.blocks.iter().map(|block| &**block)
    }

    /// Commits `block`: see [`Advance`].
    pub(crate) fn advance(&self, block: BlockEntries<T>) -> Advance<T> {
        let number = block.number;
        let range = (number % self.ranges) as usize;
        let mut blocks = self.blocks.clone();
        if !block.is_empty() {
            blocks.push(Arc::new(block));
        }
        let oldest = (number + 1).saturating_sub(self.ranges);
        let merge = blocks
            .iter()
            .filter(|b| b.number >= oldest)
            .flat_map(|b| b.ranges[range].iter().map(|entry| (b.number, entry.clone())))
            .collect();
        // Block `number - ranges + 1` has now merged its last range.
        let retire = (number + 1).checked_sub(self.ranges);
        blocks.retain(|b| retire.is_none_or(|retire| b.number > retire));
        Advance { merge, retire, next: Self { ranges: self.ranges, blocks } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_entry_merges_once_within_the_window_and_rows_retire() {
        let ranges = 8;
        let mut pending = Pending::new(ranges);
        let mut merged: HashMap<(u64, u32), u64> = HashMap::new();
        let mut rows: Vec<u64> = Vec::new();
        for number in 1..100u64 {
            let entries: Vec<u32> = if number % 5 == 0 { vec![] } else { (0..40).collect() };
            if !entries.is_empty() {
                rows.push(number);
            }
            let block = BlockEntries::new(number, ranges, entries, |e| (*e as usize * 7) % 8);
            let advance = pending.advance(block);
            for (block, entry) in advance.merge {
                assert!(merged.insert((block, entry), number).is_none(), "merged twice");
                assert!(number >= block && number < block + ranges);
            }
            if let Some(retire) = advance.retire {
                rows.retain(|r| *r != retire);
            }
            pending = advance.next;
            // What is still pending is exactly the stored rows.
            let pending_numbers: Vec<u64> = pending.blocks().map(|b| b.number()).collect();
            assert_eq!(pending_numbers, rows);
            assert!(pending_numbers.len() < ranges as usize);
        }
        // Every entry of every block up to 99 - ranges + 1 is merged.
        for number in (1..=99 - ranges + 1).filter(|n| n % 5 != 0) {
            for entry in 0..40 {
                assert!(merged.contains_key(&(number, entry)), "{number}/{entry}");
            }
        }
    }
}
