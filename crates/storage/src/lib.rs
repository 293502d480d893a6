//! The node's embedded storage: blocks, transactions, receipts and the
//! ledger state in one `redb` file, with the state committed by an
//! Ethereum Merkle-Patricia root.
//!
//! [`Store`] owns the file (`<data dir>/chain.redb`). Each block is committed
//! by [`Store::commit_block`] in one redb write transaction — state changes,
//! header, transactions with their senders, receipts and indexes — so a
//! crash leaves the last committed block, never part of one (DESIGN.md
//! decision 4). The state root is Ethereum's (a secure trie of
//! `TrieAccount`s with per-account storage tries), kept in memory as a
//! persistent trie with cached node hashes, so a commit rehashes only the
//! paths it changed; [`Store::recompute_state_root`] rebuilds it from the
//! stored rows as an independent check. [`StateSnapshot`] is a consistent,
//! thread-movable view of the state at one block and implements
//! [`ol_ledger::StateView`]; [`AccountProof`] is `eth_getProof`'s answer,
//! checked by [`verify_account_proof`].
//!
//! This crate does not execute transactions (that is `ol-ledger`), keep
//! historical states (only the head's state is served), or prune blocks.
//! Record layouts are versioned by [`SCHEMA_VERSION`]; a file of another
//! version is refused with [`StorageError::SchemaMismatch`].

mod codec;
mod commitment;
mod error;
mod proof;
mod store;
mod trie;

pub use codec::SCHEMA_VERSION;
pub use error::{ProofError, StorageError};
pub use proof::{AccountProof, StorageProof, verify_account_proof};
pub use store::{DATABASE_FILE, StateSnapshot, Store, TxLocation};
