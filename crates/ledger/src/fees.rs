//! Gas and fees.
//!
//! Gas is paid in OPEN. Each block has an EIP-1559 base fee that moves with
//! demand exactly as on Ethereum (target = half the gas limit, at most 12.5%
//! per block). Where it goes differs, because OPEN has a fixed supply and is
//! never burned:
//!
//! * `gas_used × base_fee` goes to the protocol [`TREASURY`];
//! * `gas_used × (effective_price − base_fee)` (the priority fee) goes to the
//!   block producer (the header's `beneficiary`).
//!
//! So every fee paid is credited somewhere and the total supply never moves.
//!
//! [`TREASURY`]: ol_primitives::addresses::TREASURY

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::{eip1559::BaseFeeParams, eip2930::AccessList};
use alloy_primitives::TxKind;

/// Gas charged for any transaction.
pub const TX_BASE_GAS: u64 = 21_000;
/// Gas per zero byte of calldata.
pub const ZERO_BYTE_GAS: u64 = 4;
/// Gas per non-zero byte of calldata.
pub const NONZERO_BYTE_GAS: u64 = 16;
/// Gas per address in an EIP-2930 access list.
pub const ACCESS_LIST_ADDRESS_GAS: u64 = 2_400;
/// Gas per storage key in an EIP-2930 access list.
pub const ACCESS_LIST_KEY_GAS: u64 = 1_900;
/// Extra gas charged for a contract creation (EIP-2).
pub const CREATE_GAS: u64 = 32_000;
/// Gas per 32-byte word of init code (EIP-3860).
pub const INITCODE_WORD_GAS: u64 = 2;

/// The chain's fixed parameters, read from the genesis file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Gas limit of every block.
    pub block_gas_limit: u64,
    /// Base fee of the first block after genesis.
    pub initial_base_fee: u64,
}

impl ChainSpec {
    /// The base fee of the block after one with `gas_used` of `gas_limit` at
    /// `base_fee` (EIP-1559, Ethereum's parameters).
    pub fn next_base_fee(&self, gas_used: u64, gas_limit: u64, base_fee: u64) -> u64 {
        BaseFeeParams::ethereum().next_block_base_fee(gas_used, gas_limit, base_fee)
    }
}

/// Gas a transaction costs before it does anything: the base cost, its
/// calldata and its access list.
pub fn intrinsic_gas(tx: &TxEnvelope) -> u64 {
    let gas = intrinsic_gas_of(tx.input(), tx.access_list());
    if is_create(tx) { gas + create_gas(tx.input().len()) } else { gas }
}

/// What a creation adds to the intrinsic gas: the creation itself and
/// EIP-3860's 2 gas per 32-byte word of init code.
pub fn create_gas(initcode_len: usize) -> u64 {
    CREATE_GAS + INITCODE_WORD_GAS * (initcode_len as u64).div_ceil(32)
}

/// Intrinsic gas of a call with this calldata and access list (also what
/// `eth_estimateGas` answers for a plain transfer).
pub fn intrinsic_gas_of(input: &[u8], access_list: Option<&AccessList>) -> u64 {
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = input.len() as u64 - zeros;
    let mut gas = TX_BASE_GAS + zeros * ZERO_BYTE_GAS + nonzeros * NONZERO_BYTE_GAS;
    if let Some(list) = access_list {
        for item in list.iter() {
            gas += ACCESS_LIST_ADDRESS_GAS + item.storage_keys.len() as u64 * ACCESS_LIST_KEY_GAS;
        }
    }
    gas
}

/// The price per gas a transaction pays in a block with `base_fee`:
/// `min(max_fee, base_fee + max_priority_fee)` (legacy: its gas price).
/// The caller has checked that `max_fee >= base_fee`.
pub fn effective_gas_price(tx: &TxEnvelope, base_fee: u64) -> u128 {
    tx.effective_gas_price(Some(base_fee))
}

/// True when the transaction creates a contract.
pub fn is_create(tx: &TxEnvelope) -> bool {
    matches!(tx.kind(), TxKind::Create)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_fee_moves_with_demand() {
        let spec =
            ChainSpec { chain_id: 1, block_gas_limit: 30_000_000, initial_base_fee: 1_000_000_000 };
        assert_eq!(spec.next_base_fee(15_000_000, 30_000_000, 1_000_000_000), 1_000_000_000);
        assert_eq!(spec.next_base_fee(30_000_000, 30_000_000, 1_000_000_000), 1_125_000_000);
        assert_eq!(spec.next_base_fee(0, 30_000_000, 1_000_000_000), 875_000_000);
    }
}
