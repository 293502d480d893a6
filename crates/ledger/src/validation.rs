//! Why a transaction is refused.
//!
//! [`check_static`] needs only the chain and the block environment;
//! [`check_against_account`] also needs the sender's account. Messages use
//! the words geth uses ("nonce too low", "insufficient funds for gas *
//! price + value", ...) because Ethereum client libraries map those words to
//! their own error types.

use crate::{
    contracts::MAX_INITCODE_SIZE,
    fees::{self, ChainSpec},
    state::Account,
};
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, U256};
use ol_primitives::{BlockEnv, RecoveredTransaction, addresses};

/// A transaction the ledger refuses. Always the sender's fault; a refused
/// transaction changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTransaction {
    /// A legacy transaction without EIP-155 replay protection.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    MissingChainId,
    /// Signed for another chain.
    #[error("invalid chain id for signer: have {have} want {want}")]
    WrongChainId {
        /// The transaction's chain id.
        have: u64,
        /// This chain's id.
        want: u64,
    },
    /// The nonce was already used.
    #[error("nonce too low: next nonce {expected}, tx nonce {got}")]
    NonceTooLow {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce leaves a gap (in a block: must be exactly the next one).
    #[error("nonce too high: next nonce {expected}, tx nonce {got}")]
    NonceTooHigh {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// Asks for more gas than a block holds.
    #[error(
        "intrinsic gas too high: transaction gas limit {gas_limit} exceeds the block gas limit {block_limit}"
    )]
    GasLimitExceedsBlock {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The block gas limit.
        block_limit: u64,
    },
    /// Does not pay for its own intrinsic gas.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        have: u64,
        /// Its intrinsic gas.
        want: u64,
    },
    /// Max fee per gas below the block's base fee.
    #[error(
        "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {max_fee}, baseFee: {base_fee}"
    )]
    FeeCapTooLow {
        /// The sender.
        sender: Address,
        /// The transaction's max fee per gas.
        max_fee: u128,
        /// The block's base fee.
        base_fee: u64,
    },
    /// Priority fee above the fee cap.
    #[error(
        "max priority fee per gas higher than max fee per gas: address {sender}, maxPriorityFeePerGas: {tip}, maxFeePerGas: {max_fee}"
    )]
    TipAboveFeeCap {
        /// The sender.
        sender: Address,
        /// The tip.
        tip: u128,
        /// The fee cap.
        max_fee: u128,
    },
    /// Not enough spendable OPEN (locked vesting does not count).
    #[error(
        "insufficient funds for gas * price + value: address {sender} has {spendable} wei spendable (locked vesting excluded), the transaction may cost {cost}"
    )]
    InsufficientFunds {
        /// The sender.
        sender: Address,
        /// Spendable balance, in wei.
        spendable: U256,
        /// `gas_limit × max_fee + value`, in wei.
        cost: U256,
    },
    /// Contract creation on a ledger run without an EVM.
    #[error("contract creation is not supported on this chain yet")]
    CreateNotSupported,
    /// Init code over EIP-3860's limit.
    #[error("max initcode size exceeded: code size {size} limit {limit}")]
    InitcodeTooLarge {
        /// The init code's size, in bytes.
        size: usize,
        /// [`crate::contracts::MAX_INITCODE_SIZE`].
        limit: usize,
    },
    /// The EVM refused the transaction (a rule the ledger does not check
    /// itself, such as EIP-3607's sender with code).
    #[error("{0}")]
    RefusedByEvm(String),
    /// OPEN sent to a system account that holds none.
    #[error("system account {0} does not accept OPEN transfers")]
    SystemRecipient(Address),
    /// Sent from a system account (no key exists for it).
    #[error("system account {0} cannot send transactions")]
    SystemSender(Address),
    /// The block has no room left for this transaction.
    #[error("transaction gas limit {gas_limit} exceeds the gas left in the block ({gas_left})")]
    BlockFull {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// Gas still available.
        gas_left: u64,
    },
    /// The sender's nonce cannot grow further.
    #[error("nonce has max value: address {0}")]
    NonceMax(Address),
}

impl InvalidTransaction {
    /// True when the transaction could become valid later (a nonce gap being
    /// filled, the base fee falling, a full block) and may wait in the pool.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::NonceTooHigh { .. } | Self::BlockFull { .. })
    }
}

/// Checks that need no account state.
pub fn check_static(
    spec: &ChainSpec,
    env: &BlockEnv,
    tx: &RecoveredTransaction,
) -> Result<(), InvalidTransaction> {
    let envelope = &tx.envelope;
    match envelope.chain_id() {
        None => return Err(InvalidTransaction::MissingChainId),
        Some(id) if id != spec.chain_id => {
            return Err(InvalidTransaction::WrongChainId { have: id, want: spec.chain_id });
        }
        Some(_) => {}
    }
    if addresses::is_system(&tx.sender) {
        return Err(InvalidTransaction::SystemSender(tx.sender));
    }
    if fees::is_create(envelope) && envelope.input().len() > MAX_INITCODE_SIZE {
        return Err(InvalidTransaction::InitcodeTooLarge {
            size: envelope.input().len(),
            limit: MAX_INITCODE_SIZE,
        });
    }
    if let Some(to) = envelope.to()
        && addresses::is_system(&to)
        && to != addresses::TREASURY
        && !envelope.value().is_zero()
    {
        return Err(InvalidTransaction::SystemRecipient(to));
    }
    let gas_limit = envelope.gas_limit();
    if gas_limit > env.gas_limit {
        return Err(InvalidTransaction::GasLimitExceedsBlock {
            gas_limit,
            block_limit: env.gas_limit,
        });
    }
    let intrinsic = fees::intrinsic_gas(envelope);
    if gas_limit < intrinsic {
        return Err(InvalidTransaction::IntrinsicGasTooLow { have: gas_limit, want: intrinsic });
    }
    check_fee_cap(envelope, tx.sender, env.base_fee)
}

/// Fee cap against the base fee, and tip against the fee cap.
pub fn check_fee_cap(
    envelope: &TxEnvelope,
    sender: Address,
    base_fee: u64,
) -> Result<(), InvalidTransaction> {
    let max_fee = envelope.max_fee_per_gas();
    if let Some(tip) = envelope.max_priority_fee_per_gas()
        && tip > max_fee
    {
        return Err(InvalidTransaction::TipAboveFeeCap { sender, tip, max_fee });
    }
    if max_fee < u128::from(base_fee) {
        return Err(InvalidTransaction::FeeCapTooLow { sender, max_fee, base_fee });
    }
    Ok(())
}

/// The most a transaction can cost: `gas_limit × max_fee + value`.
pub fn max_cost(envelope: &TxEnvelope) -> U256 {
    (U256::from(envelope.gas_limit()) * U256::from(envelope.max_fee_per_gas()))
        .saturating_add(envelope.value())
}

/// Nonce and funds against the sender's account; `spendable` excludes
/// locked vesting. `expected_nonce` is the nonce the next transaction must
/// carry (the account nonce in a block; possibly higher in the pool).
pub fn check_against_account(
    tx: &RecoveredTransaction,
    account: &Account,
    spendable: U256,
) -> Result<(), InvalidTransaction> {
    let nonce = tx.nonce();
    if nonce < account.nonce {
        return Err(InvalidTransaction::NonceTooLow { expected: account.nonce, got: nonce });
    }
    if nonce > account.nonce {
        return Err(InvalidTransaction::NonceTooHigh { expected: account.nonce, got: nonce });
    }
    if account.nonce == u64::MAX {
        return Err(InvalidTransaction::NonceMax(tx.sender));
    }
    let cost = max_cost(&tx.envelope);
    if cost > spendable {
        return Err(InvalidTransaction::InsufficientFunds { sender: tx.sender, spendable, cost });
    }
    Ok(())
}
