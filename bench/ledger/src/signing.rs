//! Keys and pre-signed EIP-1559 transfers, signed with libsecp256k1 on all
//! cores before any timing starts.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Signature, TxKind, U256, keccak256};
use rayon::prelude::*;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

/// Chain id of both the dev node and anvil as started here.
pub(crate) const CHAIN_ID: u64 = 1337;

/// Fee caps of every benchmark transfer: high enough that a base fee rising
/// under full blocks never makes a transfer unpayable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fees {
    pub(crate) max_fee_per_gas: u128,
    pub(crate) max_priority_fee_per_gas: u128,
}

/// A signing key and its address.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    secret: SecretKey,
    pub(crate) address: Address,
}

impl Key {
    /// A key from 32 secret bytes (a dev account's key).
    pub(crate) fn from_bytes(bytes: B256) -> eyre::Result<Self> {
        let secret = SecretKey::from_byte_array(bytes.0)?;
        let public = PublicKey::from_secret_key(SECP256K1, &secret).serialize_uncompressed();
        let address = Address::from_slice(&keccak256(&public[1..])[12..]);
        Ok(Self { secret, address })
    }

    /// The `index`-th key of a named family: keccak("ol-bench/<family>/<index>").
    pub(crate) fn derived(family: &str, index: u64) -> Self {
        let seed = keccak256(format!("ol-bench/{family}/{index}"));
        // A keccak output is a valid secp256k1 secret with overwhelming
        // probability (it fails only for 0 or ≥ the group order).
        Self::from_bytes(seed).expect("keccak output is a valid secret key")
    }

    /// `count` derived keys, computed on all cores.
    pub(crate) fn derive_many(family: &str, count: u64) -> Vec<Self> {
        (0..count).into_par_iter().map(|i| Self::derived(family, i)).collect()
    }
}

/// A fresh recipient address per index (nobody holds its key).
pub(crate) fn recipient(family: &str, index: u64) -> Address {
    Address::from_slice(&keccak256(format!("ol-bench/recipient/{family}/{index}"))[12..])
}

/// One transfer to sign.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transfer<'a> {
    pub(crate) from: &'a Key,
    pub(crate) nonce: u64,
    pub(crate) to: Address,
    pub(crate) value: U256,
}

/// Signs one EIP-1559 transfer and returns its EIP-2718 bytes.
pub(crate) fn sign(transfer: &Transfer<'_>, fees: Fees) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: transfer.nonce,
        gas_limit: 21_000,
        max_fee_per_gas: fees.max_fee_per_gas,
        max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
        to: TxKind::Call(transfer.to),
        value: transfer.value,
        access_list: Default::default(),
        input: Default::default(),
    };
    let digest = Message::from_digest(tx.signature_hash().0);
    let (recovery_id, compact) =
        SECP256K1.sign_ecdsa_recoverable(digest, &transfer.from.secret).serialize_compact();
    let signature = Signature::new(
        U256::from_be_slice(&compact[..32]),
        U256::from_be_slice(&compact[32..]),
        i32::from(recovery_id) == 1,
    );
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

/// Signs many transfers on all cores, keeping order.
pub(crate) fn sign_all(transfers: &[Transfer<'_>], fees: Fees) -> Vec<Vec<u8>> {
    transfers.par_iter().map(|t| sign(t, fees)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ol_primitives::RecoveredTransaction;

    #[test]
    fn signed_transfers_recover_to_their_sender() {
        let key = Key::derived("test", 1);
        let raw = sign(
            &Transfer { from: &key, nonce: 3, to: recipient("test", 1), value: U256::from(7) },
            Fees { max_fee_per_gas: 10, max_priority_fee_per_gas: 1 },
        );
        let tx = RecoveredTransaction::decode(&raw).expect("a valid signed transfer");
        assert_eq!(tx.sender, key.address);
        assert_eq!(tx.nonce(), 3);
    }
}
