//! Changes laid over a state for one call and never stored: the state
//! override set of `eth_call` and `eth_estimateGas` (geth's third
//! parameter), applied by [`HistoricalState::with_overrides`].
//!
//! [`HistoricalState::with_overrides`]: crate::HistoricalState::with_overrides

use alloy_primitives::{Address, B256, Bytes, U256, keccak256, map::HashMap};
use ol_ledger::{Account, state::EMPTY_CODE_HASH};

/// What a call sees instead of the stored state, per account.
#[derive(Debug, Clone, Default)]
pub struct StateOverrides {
    accounts: HashMap<Address, AccountOverride>,
    /// The overriding code, by its keccak256, for `code(hash)` reads.
    code: HashMap<B256, Bytes>,
}

/// The overridden fields of one account; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountOverride {
    /// The balance, in wei.
    pub balance: Option<U256>,
    /// The nonce.
    pub nonce: Option<u64>,
    /// The code (empty: none).
    pub code: Option<Bytes>,
    /// The storage.
    pub storage: Option<StorageOverride>,
}

/// How an account's storage is overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOverride {
    /// These slots, every other one zero (geth's `state`).
    Replace(HashMap<B256, U256>),
    /// These slots over the stored ones (geth's `stateDiff`).
    Diff(HashMap<B256, U256>),
}

impl StateOverrides {
    /// Overrides `address` with `account` (replacing an earlier override
    /// of it).
    pub fn insert(&mut self, address: Address, account: AccountOverride) {
        if let Some(code) = &account.code
            && !code.is_empty()
        {
            self.code.insert(keccak256(code), code.clone());
        }
        self.accounts.insert(address, account);
    }

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// `address`'s account given its stored value: an overridden account
    /// exists (empty where nothing says otherwise).
    pub(crate) fn account(&self, address: &Address, stored: Option<Account>) -> Option<Account> {
        let Some(fields) = self.accounts.get(address) else {
            return stored;
        };
        let mut account = stored.unwrap_or_default();
        if let Some(balance) = fields.balance {
            account.balance = balance;
        }
        if let Some(nonce) = fields.nonce {
            account.nonce = nonce;
        }
        if let Some(code) = &fields.code {
            account.code_hash = if code.is_empty() { EMPTY_CODE_HASH } else { keccak256(code) };
        }
        Some(account)
    }

    /// The word in `slot` of `address`, or `None` to read the stored one.
    pub(crate) fn storage(&self, address: &Address, slot: &B256) -> Option<U256> {
        match &self.accounts.get(address)?.storage {
            Some(StorageOverride::Replace(slots)) => {
                Some(slots.get(slot).copied().unwrap_or_default())
            }
            Some(StorageOverride::Diff(slots)) => slots.get(slot).copied(),
            None => None,
        }
    }

    /// Overriding code whose keccak256 is `code_hash`.
    pub(crate) fn code(&self, code_hash: &B256) -> Option<&Bytes> {
        self.code.get(code_hash)
    }
}
