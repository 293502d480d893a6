//! The transaction-hash index: hash → (block number, index), written in
//! spread-out batches (see [`crate::spread`]).
//!
//! A block's hashes are stored as one row of the recent-hashes table and
//! kept in memory until merged into the hash-keyed table; a lookup checks
//! the recent blocks first, then the table.

use crate::spread::{self, BlockEntries, Pending};
use alloy_primitives::B256;

/// Key ranges of the index: a hash waits at most this many blocks.
pub(crate) const RANGES: u64 = 32;

/// A transaction hash and its index in the block.
type Entry = (B256, u64);

/// The hashes of one block, bucketed by range and sorted by hash.
pub(crate) fn block_hashes(
    number: u64,
    hashes: impl IntoIterator<Item = B256>,
) -> BlockEntries<Entry> {
    BlockEntries::new(
        number,
        RANGES,
        hashes.into_iter().enumerate().map(|(index, hash)| (hash, index as u64)),
        |(hash, _)| spread::range_of(hash[0], RANGES),
    )
    .sorted_by_key(|(hash, _)| *hash)
}

/// The blocks whose hashes may not all be in the hash-keyed table yet.
#[derive(Debug, Clone)]
pub(crate) struct RecentHashes(Pending<Entry>);

impl Default for RecentHashes {
    fn default() -> Self {
        Self(Pending::new(RANGES))
    }
}

/// The index work of one commit.
#[derive(Debug)]
pub(crate) struct IndexAdvance {
    /// (hash, block number, index) to insert into the hash-keyed table,
    /// sorted by hash.
    pub(crate) merge: Vec<(B256, u64, u64)>,
    /// The block whose recent row is now fully merged.
    pub(crate) retire: Option<u64>,
    /// The recent set after this commit.
    pub(crate) next: RecentHashes,
}

impl RecentHashes {
    /// The recent set of a reopened store, from its stored rows.
    pub(crate) fn from_blocks(blocks: Vec<BlockEntries<Entry>>) -> Self {
        Self(Pending::from_blocks(RANGES, blocks))
    }

    /// Where transaction `hash` is, if in a recent block.
    pub(crate) fn find(&self, hash: &B256) -> Option<(u64, u64)> {
        let range = spread::range_of(hash[0], RANGES);
        self.0.blocks().rev().find_map(|block| {
            let entries = block.range(range);
            let at = entries.binary_search_by_key(hash, |(h, _)| *h).ok()?;
            Some((block.number(), entries[at].1))
        })
    }

    /// Commits block `number` with `hashes` (in transaction order).
    pub(crate) fn advance(
        &self,
        number: u64,
        hashes: impl IntoIterator<Item = B256>,
    ) -> IndexAdvance {
        let advance = self.0.advance(block_hashes(number, hashes));
        let mut merge: Vec<(B256, u64, u64)> =
            advance.merge.into_iter().map(|(block, (hash, index))| (hash, block, index)).collect();
        merge.sort_unstable_by_key(|(hash, _, _)| *hash);
        IndexAdvance { merge, retire: advance.retire, next: Self(advance.next) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use std::collections::HashMap;

    #[test]
    fn every_hash_is_findable_recent_or_merged() {
        let mut recent = RecentHashes::default();
        let mut merged: HashMap<B256, (u64, u64)> = HashMap::new();
        let mut all = Vec::new();
        for number in 1..120u64 {
            let hashes: Vec<B256> =
                (0..30u64).map(|i| keccak256((number * 1000 + i).to_be_bytes())).collect();
            all.extend(hashes.iter().enumerate().map(|(i, h)| (*h, number, i as u64)));
            let advance = recent.advance(number, hashes);
            for (hash, block, index) in advance.merge {
                assert!(merged.insert(hash, (block, index)).is_none(), "merged twice");
            }
            recent = advance.next;
            for (hash, block, index) in &all {
                let found = recent.find(hash).or_else(|| merged.get(hash).copied());
                assert_eq!(found, Some((*block, *index)));
            }
        }
    }
}
