//! The state commitment: the account trie, each account's storage trie, and
//! how a block's [`StateChanges`] move them forward.
//!
//! The account trie is keyed by `keccak256(address)` and commits to
//! `RLP(TrieAccount { nonce, balance, storage_root, code_hash })`; each
//! account's storage trie is keyed by `keccak256(slot)` and commits to
//! `RLP(value)`, a zero value deleting the slot. Storage tries hang off the
//! account leaves, so one [`StateTrie`] value is one complete, immutable
//! version of the state.

use crate::trie::{Change, LeafValue, Trie};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::Encodable;
use alloy_trie::TrieAccount;
use ol_ledger::{Account, StateChanges};
use rayon::prelude::*;
use std::collections::HashMap;

/// Batches of accounts at least this large are prepared in parallel.
const PARALLEL_ACCOUNTS: usize = 256;

/// A storage word, as committed in a storage trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) U256);

impl LeafValue for Word {
    fn encode_value(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
}

/// An account leaf: the account's fields and its storage trie.
#[derive(Debug, Clone)]
pub(crate) struct AccountLeaf {
    pub(crate) account: Account,
    pub(crate) storage: Trie<Word>,
}

impl AccountLeaf {
    /// The account as the trie commits to it.
    pub(crate) fn trie_account(&self) -> TrieAccount {
        TrieAccount::new(
            self.account.nonce,
            self.account.balance,
            self.storage.root_hash(),
            self.account.code_hash,
        )
    }
}

impl LeafValue for AccountLeaf {
    fn encode_value(&self, out: &mut Vec<u8>) {
        self.trie_account().encode(out);
    }
}

/// What a block does to one account: its new fields, if it set them, and
/// its changed storage slots, if any.
struct AccountChange<'a> {
    account: Option<Account>,
    slots: Option<&'a HashMap<B256, U256>>,
}

/// The account leaf after `change`, on top of `current`.
fn resolve_account(
    change: &AccountChange<'_>,
    current: Option<&AccountLeaf>,
) -> Option<AccountLeaf> {
    let account = change.account.or_else(|| current.map(|leaf| leaf.account)).unwrap_or_default();
    let storage = current.map(|leaf| leaf.storage.clone()).unwrap_or_default();
    let storage = match change.slots {
        Some(slots) => {
            let mut words: Vec<Change<Word>> = slots
                .iter()
                .map(|(slot, value)| (keccak256(slot), (!value.is_zero()).then_some(Word(*value))))
                .collect();
            words.sort_unstable_by_key(|(key, _)| *key);
            storage.update(&words)
        }
        None => storage,
    };
    Some(AccountLeaf { account, storage })
}

/// One complete version of the state.
#[derive(Debug, Clone, Default)]
pub(crate) struct StateTrie {
    accounts: Trie<AccountLeaf>,
}

/// The addresses a set of changes touches, in address order: every changed
/// account, and every account with at least one changed storage slot.
pub(crate) fn touched_addresses(changes: &StateChanges) -> Vec<Address> {
    let mut addresses: Vec<Address> = changes
        .accounts
        .keys()
        .copied()
        .chain(changes.storage.iter().filter(|(_, slots)| !slots.is_empty()).map(|(a, _)| *a))
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    addresses
}

impl StateTrie {
    /// The state with no accounts.
    pub(crate) fn empty() -> Self {
        Self::default()
    }

    /// Builds the state from every account leaf, keyed by hashed address
    /// (any order).
    pub(crate) fn from_leaves(mut leaves: Vec<(B256, AccountLeaf)>) -> Self {
        leaves.par_sort_unstable_by_key(|(key, _)| *key);
        Self { accounts: Trie::from_sorted(&leaves) }
    }

    /// The state root.
    pub(crate) fn root(&self) -> B256 {
        self.accounts.root_hash()
    }

    /// The account leaf of `address`.
    pub(crate) fn leaf(&self, address: &Address) -> Option<&AccountLeaf> {
        self.accounts.get(&keccak256(address))
    }

    /// The account at `address`.
    pub(crate) fn account(&self, address: &Address) -> Option<Account> {
        self.leaf(address).map(|leaf| leaf.account)
    }

    /// The storage word at `slot` of `address` (zero when unset).
    pub(crate) fn storage(&self, address: &Address, slot: &B256) -> U256 {
        self.leaf(address)
            .and_then(|leaf| leaf.storage.get(&keccak256(slot)))
            .map(|word| word.0)
            .unwrap_or_default()
    }

    /// The account `address` holds after `changes`: the changed value, else
    /// the current one, else (storage written to a new address) an empty
    /// account. Meaningful for the addresses [`touched_addresses`] returns.
    pub(crate) fn account_after(&self, changes: &StateChanges, address: &Address) -> Account {
        changes.accounts.get(address).copied().or_else(|| self.account(address)).unwrap_or_default()
    }

    /// A new version with `changes` applied. Accounts are never deleted: an
    /// address with storage changes but no account gets an empty account.
    pub(crate) fn apply(&self, changes: &StateChanges) -> Self {
        let touched = touched_addresses(changes);
        let hash = |address: &Address| {
            let change = AccountChange {
                account: changes.accounts.get(address).copied(),
                slots: changes.storage.get(address).filter(|slots| !slots.is_empty()),
            };
            (keccak256(address), change)
        };
        let mut keyed: Vec<(B256, AccountChange<'_>)> = if touched.len() >= PARALLEL_ACCOUNTS {
            touched.par_iter().map(hash).collect()
        } else {
            touched.iter().map(hash).collect()
        };
        keyed.par_sort_unstable_by_key(|(key, _)| *key);
        Self { accounts: self.accounts.update_with(&keyed, &resolve_account) }
    }

    /// The account-trie proof of `address` and the storage-trie proof of
    /// each slot, with the values they prove.
    pub(crate) fn proof(&self, address: &Address, slots: &[B256]) -> StateProof {
        let key = keccak256(address);
        let leaf = self.accounts.get(&key);
        let storage_proofs = slots
            .iter()
            .map(|slot| {
                let slot_key = keccak256(slot);
                match leaf {
                    Some(leaf) => (
                        leaf.storage.get(&slot_key).map(|w| w.0).unwrap_or_default(),
                        leaf.storage.proof(&slot_key),
                    ),
                    None => (U256::ZERO, Vec::new()),
                }
            })
            .collect();
        StateProof {
            account: leaf.map(AccountLeaf::trie_account),
            account_proof: self.accounts.proof(&key),
            storage_proofs,
        }
    }
}

/// Raw proof material for one account.
#[derive(Debug)]
pub(crate) struct StateProof {
    /// The account as committed, `None` when absent.
    pub(crate) account: Option<TrieAccount>,
    /// Account-trie nodes, root first.
    pub(crate) account_proof: Vec<Bytes>,
    /// For each requested slot: its value and storage-trie nodes.
    pub(crate) storage_proofs: Vec<(U256, Vec<Bytes>)>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    /// The whole state, kept flat, as the reference implementation sees it.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct FlatState {
        pub(crate) accounts: BTreeMap<Address, Account>,
        pub(crate) storage: BTreeMap<Address, BTreeMap<B256, U256>>,
    }

    impl FlatState {
        pub(crate) fn apply(&mut self, changes: &StateChanges) {
            for address in touched_addresses(changes) {
                let account = changes
                    .accounts
                    .get(&address)
                    .copied()
                    .or_else(|| self.accounts.get(&address).copied())
                    .unwrap_or_default();
                self.accounts.insert(address, account);
            }
            for (address, slots) in &changes.storage {
                let stored = self.storage.entry(*address).or_default();
                for (slot, value) in slots {
                    if value.is_zero() {
                        stored.remove(slot);
                    } else {
                        stored.insert(*slot, *value);
                    }
                }
            }
        }

        /// The root computed from scratch with `alloy_trie`'s `HashBuilder`.
        pub(crate) fn reference_root(&self) -> B256 {
            state_root_unhashed(self.accounts.iter().map(|(address, account)| {
                let storage = self.storage.get(address).cloned().unwrap_or_default();
                let storage_root = storage_root_unhashed(storage);
                (
                    *address,
                    TrieAccount::new(
                        account.nonce,
                        account.balance,
                        storage_root,
                        account.code_hash,
                    ),
                )
            }))
        }
    }

    /// A small address space so that blocks revisit accounts and slots.
    pub(crate) fn changes_strategy() -> impl Strategy<Value = StateChanges> {
        let address = (0u8..24).prop_map(Address::repeat_byte);
        let account =
            (0u64..3, 0u64..1_000_000, any::<bool>()).prop_map(|(nonce, balance, code)| Account {
                nonce,
                balance: U256::from(balance),
                code_hash: if code { keccak256([1]) } else { ol_ledger::state::EMPTY_CODE_HASH },
            });
        let slot = (0u8..10).prop_map(B256::with_last_byte);
        let value = prop_oneof![Just(U256::ZERO), (1u64..1000).prop_map(U256::from)];
        (
            proptest::collection::hash_map(address.clone(), account, 0..8),
            proptest::collection::hash_map(
                address,
                proptest::collection::hash_map(slot, value, 0..5),
                0..4,
            ),
        )
            .prop_map(|(accounts, storage)| StateChanges {
                accounts: accounts.into_iter().collect::<HashMap<_, _>>(),
                storage: storage.into_iter().collect(),
                ..Default::default()
            })
    }

    proptest! {
        #[test]
        fn incremental_state_root_matches_reference(blocks in proptest::collection::vec(changes_strategy(), 1..8)) {
            let mut state = StateTrie::empty();
            let mut flat = FlatState::default();
            for changes in &blocks {
                state = state.apply(changes);
                flat.apply(changes);
                prop_assert_eq!(state.root(), flat.reference_root());
                for (address, account) in &flat.accounts {
                    prop_assert_eq!(state.account(address), Some(*account));
                }
            }
        }
    }

    #[test]
    fn storage_without_account_creates_an_empty_account() {
        let vesting = ol_primitives::addresses::VESTING;
        let mut changes = StateChanges::default();
        changes.storage.entry(vesting).or_default().insert(B256::with_last_byte(1), U256::from(5));
        let state = StateTrie::empty().apply(&changes);
        assert_eq!(state.account(&vesting), Some(Account::default()));
        assert_eq!(state.storage(&vesting, &B256::with_last_byte(1)), U256::from(5));
        let mut flat = FlatState::default();
        flat.apply(&changes);
        assert_eq!(state.root(), flat.reference_root());
    }
}
