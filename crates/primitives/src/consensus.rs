//! Consensus votes as validators sign them.
//!
//! The validator network (`ol-network`) signs exactly these bytes with each
//! validator's ed25519 consensus key, and the ledger rebuilds them to check
//! double-sign evidence, so the encoding lives here, once. It is fixed-width
//! big-endian, with a domain tag and the chain id so a vote cannot be
//! replayed on another chain or read as another kind of message:
//!
//! ```text
//! "openledger/vote/v1" ‖ chain_id u64 ‖ kind u8 ‖ height u64 ‖ round u32
//!   ‖ 0x00 (nil) | 0x01 ‖ block hash (32) ‖ validator address (20)
//! ```
//!
//! A validator's consensus address is the first 20 bytes of the SHA-256 of
//! its ed25519 public key (Tendermint's rule).

use alloy_primitives::B256;
use sha2::{Digest, Sha256};

/// The domain tag every vote's sign bytes start with.
pub const VOTE_DOMAIN: &[u8] = b"openledger/vote/v1";

/// Which of Tendermint's two votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoteKind {
    /// First round of voting.
    Prevote = 0,
    /// Second round; +2/3 of these commit a block.
    Precommit = 1,
}

impl VoteKind {
    /// From its byte; `None` for any other value.
    pub fn from_u8(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Prevote),
            1 => Some(Self::Precommit),
            _ => None,
        }
    }
}

/// A vote's signed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VoteContent {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The height voted at.
    pub height: u64,
    /// The round voted in.
    pub round: u32,
    /// The block voted for; `None` votes nil.
    pub block: Option<B256>,
    /// The voter's consensus address ([`consensus_address`]).
    pub validator: [u8; 20],
}

impl VoteContent {
    /// The bytes signed for this vote on chain `chain_id`.
    pub fn sign_bytes(&self, chain_id: u64) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(VOTE_DOMAIN.len() + 8 + 1 + 8 + 4 + 33 + 20);
        bytes.extend_from_slice(VOTE_DOMAIN);
        bytes.extend_from_slice(&chain_id.to_be_bytes());
        bytes.push(self.kind as u8);
        bytes.extend_from_slice(&self.height.to_be_bytes());
        bytes.extend_from_slice(&self.round.to_be_bytes());
        match self.block {
            None => bytes.push(0),
            Some(hash) => {
                bytes.push(1);
                bytes.extend_from_slice(hash.as_slice());
            }
        }
        bytes.extend_from_slice(&self.validator);
        bytes
    }
}

/// A validator's consensus address: SHA-256 of its ed25519 public key, first 20 bytes.
pub fn consensus_address(public_key: &[u8; 32]) -> [u8; 20] {
    let digest = Sha256::digest(public_key);
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[..20]);
    address
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_bytes_layout_is_fixed() {
        let vote = VoteContent {
            kind: VoteKind::Precommit,
            height: 7,
            round: 2,
            block: Some(B256::repeat_byte(0xab)),
            validator: [0x11; 20],
        };
        let bytes = vote.sign_bytes(1);
        assert_eq!(bytes.len(), VOTE_DOMAIN.len() + 8 + 1 + 8 + 4 + 33 + 20);
        assert!(bytes.starts_with(VOTE_DOMAIN));
        let nil = VoteContent { block: None, ..vote };
        assert_eq!(nil.sign_bytes(1).len(), bytes.len() - 32);
        assert_ne!(vote.sign_bytes(1), vote.sign_bytes(2), "the chain id is signed");
        assert_ne!(
            vote.sign_bytes(1),
            VoteContent { kind: VoteKind::Prevote, ..vote }.sign_bytes(1)
        );
    }

    #[test]
    fn address_is_sha256_prefix() {
        let address = consensus_address(&[0u8; 32]);
        // sha256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925
        assert_eq!(address[..4], [0x66, 0x68, 0x7a, 0xad]);
    }
}
