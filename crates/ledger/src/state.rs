//! The account model and the overlay that collects a block's changes.
//!
//! Accounts are Ethereum-shaped (nonce, balance, code hash, storage), so the
//! state commits to an Ethereum Merkle-Patricia root and `eth_getProof`
//! works. An account's `balance` is every wei of OPEN it owns, locked or
//! not; what it may spend is `balance` minus its still-locked vesting
//! ([`crate::vesting`]).

use alloy_primitives::{Address, B256, Bytes, U256};
use std::collections::HashMap;

/// keccak256 of empty code: the code hash of every account without code.
pub const EMPTY_CODE_HASH: B256 =
    alloy_primitives::b256!("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// One account's consensus fields (its storage is read separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Number of transactions sent.
    pub nonce: u64,
    /// All OPEN owned, in wei, locked vesting included.
    pub balance: U256,
    /// keccak256 of the account's code.
    pub code_hash: B256,
}

impl Default for Account {
    fn default() -> Self {
        Self { nonce: 0, balance: U256::ZERO, code_hash: EMPTY_CODE_HASH }
    }
}

impl Account {
    /// An account with a balance and nothing else.
    pub fn with_balance(balance: U256) -> Self {
        Self { balance, ..Self::default() }
    }

    /// True for an account that EIP-161 would consider empty.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == EMPTY_CODE_HASH
    }
}

/// A failure of the state's backing store. The ledger cannot proceed and the
/// block is abandoned; it is never the transaction's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state database error: {0}")]
pub struct StateError(pub String);

/// Read access to a state. Storage implements it over a database snapshot;
/// [`Overlay`] implements it over another view plus pending changes.
pub trait StateView {
    /// The account at `address`, `None` if it was never created.
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError>;
    /// The storage word at `slot` of `address` (zero when unset).
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError>;
    /// The code whose keccak256 is `code_hash`, `None` if no account ever
    /// deployed it (the empty code hash may answer `None` or empty bytes).
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError>;
    /// The hash of block `number` of the chain this state belongs to, at or
    /// below the block whose state this is (`BLOCKHASH` reads it for the
    /// block being built on this state); `None` when not known here. The
    /// EVM asks only for the 256 blocks below the one executing.
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        let _ = number;
        Ok(None)
    }
}

impl<T: StateView + ?Sized> StateView for &T {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        (**self).account(address)
    }
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        (**self).storage(address, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        (**self).code(code_hash)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        (**self).block_hash(number)
    }
}

/// The changes a block (or genesis) makes: the new value of every account and
/// storage slot it touched. A zero storage value deletes the slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// New account values.
    pub accounts: HashMap<Address, Account>,
    /// New storage values, per account and slot.
    pub storage: HashMap<Address, HashMap<B256, U256>>,
    /// Code deployed, by its keccak256 (content-addressed: never changes).
    pub code: HashMap<B256, Bytes>,
}

impl StateChanges {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.storage.values().all(HashMap::is_empty)
            && self.code.is_empty()
    }

    /// Accounts in address order, for deterministic writes.
    pub fn sorted_accounts(&self) -> Vec<(Address, Account)> {
        let mut accounts: Vec<_> = self.accounts.iter().map(|(a, acc)| (*a, *acc)).collect();
        accounts.sort_unstable_by_key(|(address, _)| *address);
        accounts
    }

    /// Folds later changes into these ones.
    pub fn extend(&mut self, later: StateChanges) {
        self.accounts.extend(later.accounts);
        for (address, slots) in later.storage {
            self.storage.entry(address).or_default().extend(slots);
        }
        self.code.extend(later.code);
    }
}

/// A view of `base` with pending changes on top: what a block sees while it
/// executes.
#[derive(Debug)]
pub struct Overlay<S> {
    base: S,
    changes: StateChanges,
}

impl<S: StateView> Overlay<S> {
    /// An overlay with no changes yet.
    pub fn new(base: S) -> Self {
        Self { base, changes: StateChanges::default() }
    }

    /// The account, or an empty one when it does not exist.
    pub fn account_or_default(&self, address: &Address) -> Result<Account, StateError> {
        Ok(self.account(address)?.unwrap_or_default())
    }

    /// Sets an account's new value.
    pub fn set_account(&mut self, address: Address, account: Account) {
        self.changes.accounts.insert(address, account);
    }

    /// Sets a storage word.
    pub fn set_storage(&mut self, address: Address, slot: B256, value: U256) {
        self.changes.storage.entry(address).or_default().insert(slot, value);
    }

    /// Folds changes made on top of this overlay (a completed call's) into it.
    pub fn extend(&mut self, later: StateChanges) {
        self.changes.extend(later);
    }

    /// The changes collected so far.
    pub fn changes(&self) -> &StateChanges {
        &self.changes
    }

    /// Takes the changes, leaving the overlay empty.
    pub fn into_changes(self) -> StateChanges {
        self.changes
    }

    /// The underlying view.
    pub fn base(&self) -> &S {
        &self.base
    }
}

impl<S: StateView> StateView for Overlay<S> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        match self.changes.accounts.get(address) {
            Some(account) => Ok(Some(*account)),
            None => self.base.account(address),
        }
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        match self.changes.storage.get(address).and_then(|slots| slots.get(slot)) {
            Some(value) => Ok(*value),
            None => self.base.storage(address, slot),
        }
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        match self.changes.code.get(code_hash) {
            Some(code) => Ok(Some(code.clone())),
            None => self.base.code(code_hash),
        }
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.base.block_hash(number)
    }
}

/// An in-memory state, for genesis construction and tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    /// Every account and storage word.
    pub changes: StateChanges,
}

impl MemoryState {
    /// Applies changes to this state.
    pub fn apply(&mut self, changes: StateChanges) {
        self.changes.extend(changes);
    }
}

impl StateView for MemoryState {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        Ok(self.changes.accounts.get(address).copied())
    }
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        Ok(self.changes.storage.get(address).and_then(|s| s.get(slot)).copied().unwrap_or_default())
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(self.changes.code.get(code_hash).cloned())
    }
}
