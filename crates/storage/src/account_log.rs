//! Account writes, logged per block and folded into the accounts table over
//! the following blocks (see [`crate::spread`]).
//!
//! A block's changed accounts (final values) are stored as one row of the
//! account-changes table; the accounts table catches up one key range per
//! block. The stored state is therefore the accounts table with the
//! pending rows laid over it, oldest first; [`crate::Store`] rebuilds it
//! that way at open and in `recompute_state_root`.

use crate::spread::{self, BlockEntries, Pending};
use alloy_primitives::Address;

/// Key ranges of the accounts table: a change waits at most this many
/// blocks to reach it.
pub(crate) const RANGES: u64 = 16;

/// The blocks whose account changes may not all be folded yet (addresses
/// only: the values folded are the head's).
#[derive(Debug, Clone)]
pub(crate) struct PendingAccounts(Pending<Address>);

impl Default for PendingAccounts {
    fn default() -> Self {
        Self(Pending::new(RANGES))
    }
}

fn block_addresses(
    number: u64,
    addresses: impl IntoIterator<Item = Address>,
) -> BlockEntries<Address> {
    BlockEntries::new(number, RANGES, addresses, |address| spread::range_of(address[0], RANGES))
}

/// The folding work of one commit.
#[derive(Debug)]
pub(crate) struct FoldAdvance {
    /// Accounts to write into the accounts table now, with their values
    /// after this block: sorted, without duplicates.
    pub(crate) fold: Vec<Address>,
    /// The block whose changes row is now fully folded.
    pub(crate) retire: Option<u64>,
    /// The pending set after this commit.
    pub(crate) next: PendingAccounts,
}

impl PendingAccounts {
    /// The pending set of a reopened store: block numbers and the addresses
    /// of their stored rows.
    pub(crate) fn from_blocks(blocks: Vec<(u64, Vec<Address>)>) -> Self {
        Self(Pending::from_blocks(
            RANGES,
            blocks
                .into_iter()
                .map(|(number, addresses)| block_addresses(number, addresses))
                .collect(),
        ))
    }

    /// Commits block `number`, which changed `addresses`.
    pub(crate) fn advance(
        &self,
        number: u64,
        addresses: impl IntoIterator<Item = Address>,
    ) -> FoldAdvance {
        let advance = self.0.advance(block_addresses(number, addresses));
        let mut fold: Vec<Address> =
            advance.merge.into_iter().map(|(_, address)| address).collect();
        fold.sort_unstable();
        fold.dedup();
        FoldAdvance { fold, retire: advance.retire, next: Self(advance.next) }
    }
}
