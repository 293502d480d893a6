//! Where a system contract keeps its data: named, typed storage words.
//!
//! A record lives at `keccak256(name ‖ 0x00 ‖ key parts)` plus a field
//! offset; every name has one fixed layout of key parts (u64 big-endian,
//! addresses, 32-byte words), so two keys never share a slot. Variable-length
//! values (strings, bytes) keep their length in the slot and their bytes in
//! 32-byte chunks at `keccak256(slot ‖ chunk index)`, as Solidity does.
//! Every read and write is metered ([`super::gas`]).

use super::{CallError, Frame, gas};
use crate::state::StateView;
use alloy_primitives::{Address, B256, Keccak256, U256, keccak256};

/// One part of a storage key.
#[derive(Debug, Clone, Copy)]
pub enum KeyPart<'a> {
    /// A number, as 8 big-endian bytes.
    U64(u64),
    /// An address, as 20 bytes.
    Address(&'a Address),
    /// A 32-byte word.
    Word(&'a B256),
}

/// The base slot of record `name` under `parts`.
pub fn slot(name: &str, parts: &[KeyPart<'_>]) -> B256 {
    // Hashed incrementally: no buffer is allocated for the preimage (slots
    // are computed several times per storage access of every system call).
    let mut hasher = Keccak256::new();
    hasher.update(name.as_bytes());
    hasher.update([0u8]);
    for part in parts {
        match part {
            KeyPart::U64(value) => hasher.update(value.to_be_bytes()),
            KeyPart::Address(address) => hasher.update(address.as_slice()),
            KeyPart::Word(word) => hasher.update(word.as_slice()),
        }
    }
    hasher.finalize()
}

/// `base + offset`, the slot of a record's field.
pub fn field(base: B256, offset: u64) -> B256 {
    B256::from(U256::from_be_bytes(base.0).wrapping_add(U256::from(offset)))
}

fn chunk_slot(base: B256, index: u64) -> B256 {
    let mut preimage = [0u8; 40];
    preimage[..32].copy_from_slice(base.as_slice());
    preimage[32..].copy_from_slice(&index.to_be_bytes());
    keccak256(preimage)
}

impl<S: StateView> Frame<'_, S> {
    /// Reads a word of the running contract's storage.
    pub fn load(&mut self, slot: B256) -> Result<U256, CallError> {
        self.gas.charge(gas::LOAD)?;
        Ok(self.state.storage(&self.address, &slot)?)
    }

    /// Writes a word of the running contract's storage.
    pub fn store(&mut self, slot: B256, value: U256) -> Result<(), CallError> {
        let current = self.state.storage(&self.address, &slot)?;
        if current == value {
            return self.gas.charge(gas::LOAD);
        }
        let cost = if current.is_zero() { gas::STORE_NEW } else { gas::STORE_UPDATE };
        self.gas.charge(cost)?;
        self.state.set_storage(self.address, slot, value);
        Ok(())
    }

    /// Adds `amount` to a word (a balance-like counter) with one read of the
    /// state; gas as a load followed by a store. Returns the new value.
    pub fn add_to(&mut self, slot: B256, amount: U256) -> Result<U256, CallError> {
        self.gas.charge(gas::LOAD)?;
        let current = self.state.storage(&self.address, &slot)?;
        if amount.is_zero() {
            self.gas.charge(gas::LOAD)?;
            return Ok(current);
        }
        let cost = if current.is_zero() { gas::STORE_NEW } else { gas::STORE_UPDATE };
        self.gas.charge(cost)?;
        // Cannot overflow: every such counter is bounded by the OPEN supply.
        let value = current.saturating_add(amount);
        self.state.set_storage(self.address, slot, value);
        Ok(value)
    }

    /// Reads a u64 kept in the low bits of a word.
    pub fn load_u64(&mut self, slot: B256) -> Result<u64, CallError> {
        Ok(self.load(slot)?.saturating_to())
    }

    /// Reads a 32-byte word.
    pub fn load_word(&mut self, slot: B256) -> Result<B256, CallError> {
        Ok(B256::from(self.load(slot)?.to_be_bytes::<32>()))
    }

    /// Writes a 32-byte word.
    pub fn store_word(&mut self, slot: B256, word: B256) -> Result<(), CallError> {
        self.store(slot, U256::from_be_bytes(word.0))
    }

    /// Reads an address kept in the low 20 bytes of a word.
    pub fn load_address(&mut self, slot: B256) -> Result<Address, CallError> {
        Ok(Address::from_word(self.load_word(slot)?))
    }

    /// Writes an address.
    pub fn store_address(&mut self, slot: B256, address: Address) -> Result<(), CallError> {
        self.store_word(slot, address.into_word())
    }

    /// Reads variable-length bytes.
    pub fn load_bytes(&mut self, slot: B256) -> Result<Vec<u8>, CallError> {
        let len = self.load_u64(slot)? as usize;
        let mut bytes = Vec::with_capacity(len);
        for index in 0..len.div_ceil(32) {
            let word = self.load_word(chunk_slot(slot, index as u64))?;
            let take = (len - bytes.len()).min(32);
            bytes.extend_from_slice(&word[..take]);
        }
        Ok(bytes)
    }

    /// Writes variable-length bytes (clearing chunks a longer old value used).
    pub fn store_bytes(&mut self, slot: B256, bytes: &[u8]) -> Result<(), CallError> {
        let old_len = self.load_u64(slot)? as usize;
        self.gas.charge(gas::HASH_WORD * bytes.len().div_ceil(32) as u64)?;
        for (index, chunk) in bytes.chunks(32).enumerate() {
            let mut word = B256::ZERO;
            word[..chunk.len()].copy_from_slice(chunk);
            self.store_word(chunk_slot(slot, index as u64), word)?;
        }
        for index in bytes.len().div_ceil(32)..old_len.div_ceil(32) {
            self.store(chunk_slot(slot, index as u64), U256::ZERO)?;
        }
        self.store(slot, U256::from(bytes.len()))
    }

    /// Reads a UTF-8 string (bytes written by [`Frame::store_bytes`]).
    pub fn load_string(&mut self, slot: B256) -> Result<String, CallError> {
        let bytes = self.load_bytes(slot)?;
        String::from_utf8(bytes)
            .map_err(|_| CallError::State(crate::StateError(format!("slot {slot} is not UTF-8"))))
    }
}

/// Packs up to four u64 fields into one word (field 0 in the low bits).
pub fn pack(fields: [u64; 4]) -> U256 {
    fields
        .iter()
        .enumerate()
        .fold(U256::ZERO, |word, (i, value)| word | (U256::from(*value) << (64 * i)))
}

/// The four u64 fields of a word made by [`pack`].
pub fn unpack(word: U256) -> [u64; 4] {
    let limbs = word.as_limbs();
    [limbs[0], limbs[1], limbs[2], limbs[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_name_and_parts() {
        let a = Address::repeat_byte(1);
        assert_ne!(slot("x", &[KeyPart::U64(1)]), slot("y", &[KeyPart::U64(1)]));
        assert_ne!(slot("x", &[KeyPart::U64(1)]), slot("x", &[KeyPart::U64(2)]));
        assert_ne!(
            slot("x", &[KeyPart::U64(1), KeyPart::Address(&a)]),
            slot("x", &[KeyPart::Address(&a), KeyPart::U64(1)])
        );
    }

    #[test]
    fn pack_round_trips() {
        let fields = [1, u64::MAX, 0, 42];
        assert_eq!(unpack(pack(fields)), fields);
    }
}
