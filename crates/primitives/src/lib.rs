//! Primitive types shared by every OpenLedger crate.
//!
//! This crate holds the vocabulary of the ledger and nothing of its rules:
//! [`Amount`] (OPEN in wei, 18 decimals, checked arithmetic), [`Bps`] (basis
//! points), the fixed addresses of system accounts ([`addresses`]), signed
//! Ethereum transactions decoded once at the edge ([`transaction`]), and the
//! block and receipt types stored and served by the node ([`block`]).
//! It performs no I/O.

pub mod addresses;
pub mod amount;
pub mod block;
pub mod consensus;
pub mod transaction;

pub use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
pub use amount::{Amount, AmountError, Bps, OPEN_DECIMALS, TOTAL_SUPPLY_OPEN};
pub use block::{Block, BlockEnv, Receipt, SealedHeader, StoredTransaction};
pub use transaction::{
    MAX_TX_SIZE, RecoveredTransaction, SignatureError, TransactionDecodeError,
    decode_raw_transaction, recover_parallel, recover_signer,
};
