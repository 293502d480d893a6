//! EIP-1186 account and storage proofs (`eth_getProof`) and their check.

use crate::{commitment::StateProof, error::ProofError};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY, Nibbles, TrieAccount, proof::verify_proof};

/// An account, its storage slots, and the trie nodes that prove them
/// against a state root (the shape of `eth_getProof`'s answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountProof {
    /// The account.
    pub address: Address,
    /// Its balance (zero when absent).
    pub balance: U256,
    /// Its nonce (zero when absent).
    pub nonce: u64,
    /// keccak256 of its code (of empty code when absent).
    pub code_hash: B256,
    /// Root of its storage trie (the empty root when absent).
    pub storage_hash: B256,
    /// Account-trie nodes from the state root down to the account, RLP.
    pub account_proof: Vec<Bytes>,
    /// One proof per requested slot.
    pub storage_proof: Vec<StorageProof>,
}

/// A storage slot, its value and the nodes proving it against the account's
/// storage root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageProof {
    /// The slot.
    pub key: B256,
    /// Its value (zero when unset).
    pub value: U256,
    /// Storage-trie nodes from the storage root down to the slot, RLP.
    pub proof: Vec<Bytes>,
}

impl AccountProof {
    /// Assembles the answer from the trie's proof material.
    pub(crate) fn new(address: Address, slots: &[B256], raw: StateProof) -> Self {
        let account = raw.account.unwrap_or_default();
        Self {
            address,
            balance: account.balance,
            nonce: account.nonce,
            code_hash: account.code_hash,
            storage_hash: account.storage_root,
            account_proof: raw.account_proof,
            storage_proof: slots
                .iter()
                .zip(raw.storage_proofs)
                .map(|(slot, (value, proof))| StorageProof { key: *slot, value, proof })
                .collect(),
        }
    }

    fn trie_account(&self) -> TrieAccount {
        TrieAccount::new(self.nonce, self.balance, self.storage_hash, self.code_hash)
    }

    /// True when the claimed account is indistinguishable from no account.
    fn claims_nothing(&self) -> bool {
        self.nonce == 0
            && self.balance.is_zero()
            && self.code_hash == KECCAK_EMPTY
            && self.storage_hash == EMPTY_ROOT_HASH
    }
}

/// Checks an [`AccountProof`] against `state_root`: the account (or its
/// absence) and every storage slot (a zero value proving the slot unset).
///
/// An account whose fields are all empty is accepted whether the proof shows
/// it absent or present with those empty fields, as `eth_getProof` answers
/// both the same way.
pub fn verify_account_proof(state_root: B256, proof: &AccountProof) -> Result<(), ProofError> {
    let address = proof.address;
    let key = Nibbles::unpack(keccak256(address));
    let present = Some(alloy_rlp::encode(proof.trie_account()));
    let account_check = if proof.claims_nothing() {
        verify_proof(state_root, key, None, &proof.account_proof)
            .or_else(|_| verify_proof(state_root, key, present, &proof.account_proof))
    } else {
        verify_proof(state_root, key, present, &proof.account_proof)
    };
    account_check.map_err(|e| ProofError::Account { address, reason: e.to_string() })?;

    for slot in &proof.storage_proof {
        let expected = (!slot.value.is_zero()).then(|| alloy_rlp::encode(slot.value));
        verify_proof(
            proof.storage_hash,
            Nibbles::unpack(keccak256(slot.key)),
            expected,
            &slot.proof,
        )
        .map_err(|e| ProofError::Storage {
            address,
            slot: slot.key,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}
