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
//! stored rows as an independent check, and opening a store checks the
//! rebuilt trie against the head header. [`StateSnapshot`] is a consistent,
//! `Send + Sync` view of the state at one block and implements
//! [`ol_ledger::StateView`]; [`AccountProof`] is `eth_getProof`'s answer,
//! checked by [`verify_account_proof`].
//!
//! The whole head state lives in memory (the tries plus flat maps for
//! reads, a few hundred bytes per account); redb holds it durably and it is
//! rebuilt at open. The store is an archive: every block also records the
//! values its changes left, so [`Store::snapshot_at`] reads the state after
//! any committed block ([`HistoricalState`], also a `StateView`), though
//! only the head state can be proven. This crate does not execute
//! transactions (that is `ol-ledger`) or prune blocks or history. A dev
//! chain can roll the whole store back to a [`Checkpoint`] (`evm_snapshot`
//! and `evm_revert`), which lives in memory only. A [`HistoricalState`]
//! can carry [`StateOverrides`] for one call (`eth_call`'s override set). Record
//! layouts are versioned by [`SCHEMA_VERSION`]; a file
//! of another version is refused with [`StorageError::SchemaMismatch`], and
//! stored bytes that do not decode give [`StorageError::Corrupt`].
//!
//! Contribution bytes live beside the database in a content-addressed
//! [`BlobStore`] (`<data dir>/blobs/`), named by their SHA-256.

mod account_log;
mod blobs;
mod codec;
mod commitment;
mod error;
mod flat_state;
mod history;
mod overrides;
mod proof;
mod spread;
mod store;
mod trie;
mod tx_index;

pub use blobs::{BlobError, BlobReader, BlobStore, BlobWriter, blob_hash};
pub use codec::SCHEMA_VERSION;
pub use error::{ProofError, StorageError};
pub use overrides::{AccountOverride, StateOverrides, StorageOverride};
pub use proof::{AccountProof, StorageProof, verify_account_proof};
pub use store::{Checkpoint, DATABASE_FILE, HistoricalState, StateSnapshot, Store, TxLocation};
