//! Blocks, headers and receipts as the node stores and serves them.
//!
//! Headers are Ethereum headers ([`alloy_consensus::Header`]) so that hashes,
//! roots and JSON-RPC shapes are exactly what Ethereum tools expect.

use crate::transaction::RecoveredTransaction;
use alloy_consensus::{Header, ReceiptEnvelope, TxEnvelope};
use alloy_primitives::{Address, B256, Bloom};

/// A header with its hash computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    /// The Ethereum header.
    pub header: Header,
    /// keccak256 of the header's RLP.
    pub hash: B256,
}

impl SealedHeader {
    /// Seals a header by hashing it.
    pub fn seal(header: Header) -> Self {
        let hash = header.hash_slow();
        Self { header, hash }
    }

    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }
}

/// A transaction as stored in a block: the signed envelope and the sender
/// recovered when it was accepted.
pub type StoredTransaction = RecoveredTransaction;

/// A committed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The sealed header.
    pub header: SealedHeader,
    /// The transactions, in execution order.
    pub transactions: Vec<StoredTransaction>,
}

/// What a transaction did: the consensus receipt plus the fields JSON-RPC
/// serves that the consensus encoding leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The consensus receipt (status, cumulative gas, logs, bloom), typed as
    /// its transaction.
    pub envelope: ReceiptEnvelope,
    /// Hash of the transaction.
    pub transaction_hash: B256,
    /// The sender.
    pub from: Address,
    /// The recipient, `None` for a contract creation.
    pub to: Option<Address>,
    /// Gas used by this transaction alone.
    pub gas_used: u64,
    /// Price per gas actually paid (base fee + effective tip).
    pub effective_gas_price: u128,
}

impl Receipt {
    /// True when the transaction succeeded.
    pub fn success(&self) -> bool {
        self.envelope.status()
    }

    /// The logs the transaction emitted.
    pub fn logs(&self) -> &[alloy_primitives::Log] {
        self.envelope.logs()
    }

    /// The receipt's logs bloom.
    pub fn bloom(&self) -> Bloom {
        self.envelope.logs_bloom().to_owned()
    }
}

/// The environment a block executes in, fixed before its first transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEnv {
    /// Block number.
    pub number: u64,
    /// Seconds since the Unix epoch, as the producer stamped it.
    pub timestamp: u64,
    /// The producer, paid the priority fees.
    pub beneficiary: Address,
    /// EIP-1559 base fee per gas, in wei.
    pub base_fee: u64,
    /// Gas available to the whole block.
    pub gas_limit: u64,
}

/// The transactions root of a list of signed envelopes.
pub fn transactions_root(transactions: &[TxEnvelope]) -> B256 {
    alloy_consensus::proofs::calculate_transaction_root(transactions)
}

/// The receipts root of a block's receipts.
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let envelopes: Vec<&ReceiptEnvelope> = receipts.iter().map(|r| &r.envelope).collect();
    alloy_consensus::proofs::calculate_receipt_root(&envelopes)
}
