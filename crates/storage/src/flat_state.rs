//! The head state as flat hash maps, so that reads at the head skip the
//! trie walk and the keccak of the key.
//!
//! Executing a block of 10k transfers reads ~20k accounts; through the trie
//! each read costs a keccak and a five-level pointer walk (~0.7 µs), through
//! a map a hash probe. The maps describe exactly one block (`head`); a
//! snapshot of any other block falls back to its trie. They are updated
//! after a block's write transaction commits and before the new version is
//! published, so a snapshot of the new head never sees them stale.

use alloy_primitives::{
    Address, B256, U256,
    map::{AddressMap, B256Map},
};
use ol_ledger::{Account, StateChanges};
use std::sync::{PoisonError, RwLock};

/// Every account and non-zero storage word at block `head`.
#[derive(Debug, Default)]
pub(crate) struct FlatState {
    head: B256,
    accounts: AddressMap<Account>,
    storage: AddressMap<B256Map<U256>>,
}

impl FlatState {
    /// The state of block `head` from all its accounts and storage.
    pub(crate) fn new(
        head: B256,
        accounts: impl IntoIterator<Item = (Address, Account)>,
        storage: impl IntoIterator<Item = (Address, Vec<(B256, U256)>)>,
    ) -> Self {
        Self {
            head,
            accounts: accounts.into_iter().collect(),
            storage: storage
                .into_iter()
                .map(|(a, slots)| (a, slots.into_iter().collect()))
                .collect(),
        }
    }

    /// Moves to block `head`: `accounts` are the final values of the
    /// accounts `changes` touched.
    pub(crate) fn advance(
        &mut self,
        head: B256,
        accounts: impl IntoIterator<Item = (Address, Account)>,
        changes: &StateChanges,
    ) {
        self.accounts.extend(accounts);
        for (address, slots) in &changes.storage {
            if slots.is_empty() {
                continue;
            }
            let stored = self.storage.entry(*address).or_default();
            for (slot, value) in slots {
                if value.is_zero() {
                    stored.remove(slot);
                } else {
                    stored.insert(*slot, *value);
                }
            }
        }
        self.head = head;
    }
}

/// The shared flat state, readable when it describes the block asked for.
#[derive(Debug, Default)]
pub(crate) struct SharedFlatState(RwLock<FlatState>);

impl SharedFlatState {
    /// Shares `state`.
    pub(crate) fn new(state: FlatState) -> Self {
        Self(RwLock::new(state))
    }

    /// The account at `address` in block `head`; `None` when the maps hold
    /// another block.
    pub(crate) fn account(&self, head: &B256, address: &Address) -> Option<Option<Account>> {
        let state = self.0.read().unwrap_or_else(PoisonError::into_inner);
        (state.head == *head).then(|| state.accounts.get(address).copied())
    }

    /// The word at `slot` of `address` in block `head`; `None` when the maps
    /// hold another block.
    pub(crate) fn storage(&self, head: &B256, address: &Address, slot: &B256) -> Option<U256> {
        let state = self.0.read().unwrap_or_else(PoisonError::into_inner);
        (state.head == *head).then(|| {
            state
                .storage
                .get(address)
                .and_then(|slots| slots.get(slot))
                .copied()
                .unwrap_or_default()
        })
    }

    /// Replaces the state (a new genesis).
    pub(crate) fn replace(&self, state: FlatState) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// Moves from block `parent` to its child `head`; see
    /// [`FlatState::advance`]. If the maps do not hold `parent` (a commit
    /// whose update was lost), they are left describing no block, and reads
    /// fall back to the tries.
    pub(crate) fn advance(
        &self,
        parent: B256,
        head: B256,
        accounts: impl IntoIterator<Item = (Address, Account)>,
        changes: &StateChanges,
    ) {
        let mut state = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if state.head == parent {
            state.advance(head, accounts, changes);
        } else {
            state.head = B256::ZERO;
        }
    }
}
