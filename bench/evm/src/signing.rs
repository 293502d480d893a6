//! Keys and pre-signed EIP-1559 transactions, signed with libsecp256k1 on all
//! cores before any timing starts.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256, keccak256};
use rayon::prelude::*;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

/// Chain id of the benchmark chain.
pub(crate) const CHAIN_ID: u64 = 1337;

/// Fee caps of every transaction: far above a base fee that rises under full
/// blocks, so none ever becomes unpayable during a run.
const MAX_FEE_PER_GAS: u128 = 10_000_000_000;
const MAX_PRIORITY_FEE_PER_GAS: u128 = 1_000_000_000;

/// A signing key and its address.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    secret: SecretKey,
    pub(crate) address: Address,
}

impl Key {
    /// The `index`-th key of a named family: keccak("ol-bench-evm/<family>/<index>").
    pub(crate) fn derived(family: &str, index: u64) -> Self {
        let seed = keccak256(format!("ol-bench-evm/{family}/{index}"));
        // A keccak output is a valid secp256k1 secret with overwhelming
        // probability (it fails only for 0 or ≥ the group order).
        let secret = SecretKey::from_byte_array(seed.0).expect("keccak output is a valid secret");
        let public = PublicKey::from_secret_key(SECP256K1, &secret).serialize_uncompressed();
        let address = Address::from_slice(&keccak256(&public[1..])[12..]);
        Self { secret, address }
    }

    /// `count` derived keys, computed on all cores.
    pub(crate) fn derive_many(family: &str, count: u64) -> Vec<Self> {
        (0..count).into_par_iter().map(|i| Self::derived(family, i)).collect()
    }
}

/// A fresh recipient address per index (nobody holds its key).
pub(crate) fn recipient(family: &str, index: u64) -> Address {
    Address::from_slice(&keccak256(format!("ol-bench-evm/recipient/{family}/{index}"))[12..])
}

/// One transaction to sign.
#[derive(Debug, Clone)]
pub(crate) struct Unsigned<'a> {
    pub(crate) from: &'a Key,
    pub(crate) nonce: u64,
    pub(crate) to: TxKind,
    pub(crate) value: U256,
    pub(crate) input: Bytes,
    pub(crate) gas_limit: u64,
}

/// Signs one EIP-1559 transaction and returns its EIP-2718 bytes.
pub(crate) fn sign(tx: &Unsigned<'_>) -> Vec<u8> {
    let body = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: tx.nonce,
        gas_limit: tx.gas_limit,
        max_fee_per_gas: MAX_FEE_PER_GAS,
        max_priority_fee_per_gas: MAX_PRIORITY_FEE_PER_GAS,
        to: tx.to,
        value: tx.value,
        access_list: Default::default(),
        input: tx.input.clone(),
    };
    let digest = Message::from_digest(body.signature_hash().0);
    let (recovery_id, compact) =
        SECP256K1.sign_ecdsa_recoverable(digest, &tx.from.secret).serialize_compact();
    let signature = Signature::new(
        U256::from_be_slice(&compact[..32]),
        U256::from_be_slice(&compact[32..]),
        i32::from(recovery_id) == 1,
    );
    TxEnvelope::from(body.into_signed(signature)).encoded_2718()
}

/// Signs many transactions on all cores, keeping order.
pub(crate) fn sign_all(txs: &[Unsigned<'_>]) -> Vec<Vec<u8>> {
    txs.par_iter().map(sign).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ol_primitives::RecoveredTransaction;

    #[test]
    fn signed_transactions_recover_to_their_sender() {
        let key = Key::derived("test", 1);
        let raw = sign(&Unsigned {
            from: &key,
            nonce: 3,
            to: TxKind::Call(recipient("test", 1)),
            value: U256::from(7),
            input: Bytes::from_static(&[1, 2, 3]),
            gas_limit: 50_000,
        });
        let tx = RecoveredTransaction::decode(&raw).expect("a valid signed transaction");
        assert_eq!(tx.sender, key.address);
        assert_eq!(tx.nonce(), 3);
    }
}
