//! Why a storage operation failed.

use alloy_primitives::{Address, B256};
use std::{fmt::Display, path::PathBuf};

/// A storage failure. Every variant but [`StorageError::Database`] and
/// [`StorageError::Corrupt`] is the caller's doing and left the store as it
/// was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The database engine failed (I/O, locking, a full disk).
    #[error("database error: {0}")]
    Database(String),
    /// Stored bytes do not decode, or the stored state disagrees with itself.
    #[error("corrupt storage: {0}")]
    Corrupt(String),
    /// The file was written with another schema version.
    #[error(
        "{path}: storage schema version {found}, but this build reads version {expected}; \
         use a matching build or a fresh data directory"
    )]
    SchemaMismatch {
        /// The database file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build writes.
        expected: u32,
    },
    /// No genesis block yet.
    #[error("the store holds no blocks yet: write the genesis block first")]
    NotInitialized,
    /// The genesis offered differs from the one stored.
    #[error("genesis mismatch: the store's block 0 is {stored}, but this genesis gives {computed}")]
    GenesisMismatch {
        /// Hash of the stored block 0.
        stored: B256,
        /// Hash of the block 0 this genesis produces.
        computed: B256,
    },
    /// The genesis header does not have number 0.
    #[error("the genesis header must have number 0, not {0}")]
    GenesisNumber(u64),
    /// The block does not extend the head (wrong number or parent hash).
    #[error(
        "block {number} (parent {parent_hash}) does not extend the head: \
         expected number {expected_number} and parent {head_hash}"
    )]
    NotNextBlock {
        /// The block's number.
        number: u64,
        /// The block's parent hash.
        parent_hash: B256,
        /// head + 1.
        expected_number: u64,
        /// The head's hash.
        head_hash: B256,
    },
    /// The sealed header does not carry the state root it was given.
    #[error(
        "block {number}: header state root {header} differs from the computed state root {computed}"
    )]
    StateRootMismatch {
        /// The block's number.
        number: u64,
        /// The root in the header.
        header: B256,
        /// The root computed from the changes.
        computed: B256,
    },
    /// Receipts and transactions do not pair up.
    #[error("block {number}: {transactions} transactions but {receipts} receipts")]
    ReceiptCount {
        /// The block's number.
        number: u64,
        /// Transactions given.
        transactions: usize,
        /// Receipts given.
        receipts: usize,
    },
}

impl StorageError {
    /// A decoding failure of stored bytes, saying which record.
    pub(crate) fn corrupt(what: impl Display, problem: impl Display) -> Self {
        Self::Corrupt(format!("{what}: {problem}"))
    }
}

/// Adds what was being done to a database engine error.
pub(crate) trait Context<T> {
    /// Maps the error to [`StorageError::Database`], prefixed with `what`.
    fn context(self, what: impl Display) -> Result<T, StorageError>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl Display) -> Result<T, StorageError> {
        self.map_err(|e| StorageError::Database(format!("{what}: {e}")))
    }
}

/// Why a proof does not check out against a state root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The account proof does not prove the claimed account.
    #[error("account proof of {address} does not verify: {reason}")]
    Account {
        /// The account.
        address: Address,
        /// What failed.
        reason: String,
    },
    /// A storage proof does not prove the claimed value under the account's
    /// storage root.
    #[error("storage proof of {address} slot {slot} does not verify: {reason}")]
    Storage {
        /// The account.
        address: Address,
        /// The slot.
        slot: B256,
        /// What failed.
        reason: String,
    },
}
