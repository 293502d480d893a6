//! Double-sign evidence: two votes one consensus key signed for different
//! values at the same height, round and kind.
//!
//! Anyone proves a double sign with an ordinary `reportDoubleSign`
//! transaction carrying both votes and both ed25519 signatures; the ledger
//! rebuilds each vote's sign bytes ([`VoteContent::sign_bytes`], the one
//! encoding the validator network signs) under this chain's id and checks
//! the signatures itself, so nothing about the evidence is taken on trust.
//! Verification follows ZIP-215 (`ed25519-consensus`): whether a signature
//! is valid is defined exactly, the same on every node and every version,
//! so no block can split the chain over a borderline signature.
//!
//! The checks that need no state are here ([`DoubleSign::check_conflict`],
//! [`DoubleSign::verify_signatures`]); the node can run them before it
//! submits evidence. The contract adds the ones that read state: the key is
//! registered, and the height is neither in the future nor older than the
//! governed `evidence_max_age_blocks`.

use super::IStaking;
use alloy_primitives::{B256, Bytes, keccak256};
use alloy_sol_types::SolCall;
use ol_primitives::consensus::{VoteContent, VoteKind, consensus_address};

/// Gas of verifying one ed25519 signature (priced as `ecrecover`).
pub const VERIFY_GAS: u64 = 3_000;

/// One vote and its signature, as evidence carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedVote {
    /// What was signed.
    pub vote: VoteContent,
    /// The ed25519 signature of `vote`'s sign bytes.
    pub signature: [u8; 64],
}

/// Which of the two votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The first (`a`, `signatureA`).
    A,
    /// The second (`b`, `signatureB`).
    B,
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::A => "A",
            Self::B => "B",
        })
    }
}

/// Why evidence does not prove a double sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// A vote's kind is neither prevote (0) nor precommit (1).
    #[error("vote {0} has kind {1}; a vote is 0 (prevote) or 1 (precommit)")]
    UnknownKind(Which, u8),
    /// A nil vote with a block hash.
    #[error("vote {0} is nil but carries block hash {1}; a nil vote's blockHash must be zero")]
    NilWithHash(Which, B256),
    /// A signature that is not 64 bytes.
    #[error("signature {0} is {1} bytes; an ed25519 signature is 64")]
    SignatureLength(Which, usize),
    /// One prevote and one precommit.
    #[error("the votes are of different kinds ({0:?} and {1:?}); a double sign is two of one kind")]
    DifferentKinds(VoteKind, VoteKind),
    /// Votes at two heights.
    #[error("the votes are at different heights ({0} and {1})")]
    DifferentHeights(u64, u64),
    /// Votes in two rounds.
    #[error("the votes are in different rounds ({0} and {1}) of height {2}")]
    DifferentRounds(u32, u32, u64),
    /// Both votes are for the same value.
    #[error("both votes are for the same value; a double sign is two different values")]
    SameValue,
    /// A vote names another validator than the key's.
    #[error("vote {0} names validator address {1}, not {2} of the consensus key")]
    WrongValidator(Which, alloy_primitives::Address, alloy_primitives::Address),
    /// The key is not an ed25519 public key.
    #[error("consensus key {0} is not a valid ed25519 public key")]
    InvalidKey(B256),
    /// A signature that does not verify.
    #[error("signature {0} is not a valid signature by consensus key {1} of vote {0} on chain {2}")]
    BadSignature(Which, B256, u64),
}

/// Two signed votes offered as proof that `consensus_key` double-signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoubleSign {
    /// The ed25519 public key both votes are signed with.
    pub consensus_key: B256,
    /// The first vote.
    pub a: SignedVote,
    /// The second vote.
    pub b: SignedVote,
}

impl DoubleSign {
    /// Decodes `reportDoubleSign`'s arguments: each vote's kind must be 0 or
    /// 1, a nil vote's block hash zero and each signature 64 bytes; each
    /// vote's validator address is the key's ([`consensus_address`]).
    pub fn from_call(call: &IStaking::reportDoubleSignCall) -> Result<Self, EvidenceError> {
        let validator = consensus_address(&call.consensusKey.0);
        let signed = |which, vote: &IStaking::Vote, signature: &Bytes| {
            let Some(kind) = VoteKind::from_u8(vote.kind) else {
                return Err(EvidenceError::UnknownKind(which, vote.kind));
            };
            let block = if vote.nil {
                if !vote.blockHash.is_zero() {
                    return Err(EvidenceError::NilWithHash(which, vote.blockHash));
                }
                None
            } else {
                Some(vote.blockHash)
            };
            let signature = <[u8; 64]>::try_from(signature.as_ref())
                .map_err(|_| EvidenceError::SignatureLength(which, signature.len()))?;
            Ok(SignedVote {
                vote: VoteContent {
                    kind,
                    height: vote.height,
                    round: vote.round,
                    block,
                    validator,
                },
                signature,
            })
        };
        Ok(Self {
            consensus_key: call.consensusKey,
            a: signed(Which::A, &call.a, &call.signatureA)?,
            b: signed(Which::B, &call.b, &call.signatureB)?,
        })
    }

    /// The consensus height of the offence.
    pub fn height(&self) -> u64 {
        self.a.vote.height
    }

    /// The checks on the votes themselves: both name the key's validator
    /// address, are of one kind, height and round, and differ in value (nil
    /// and a block differ).
    pub fn check_conflict(&self) -> Result<(), EvidenceError> {
        let (a, b) = (&self.a.vote, &self.b.vote);
        let expected = consensus_address(&self.consensus_key.0);
        for (which, vote) in [(Which::A, a), (Which::B, b)] {
            if vote.validator != expected {
                return Err(EvidenceError::WrongValidator(
                    which,
                    vote.validator.into(),
                    expected.into(),
                ));
            }
        }
        if a.kind != b.kind {
            return Err(EvidenceError::DifferentKinds(a.kind, b.kind));
        }
        if a.height != b.height {
            return Err(EvidenceError::DifferentHeights(a.height, b.height));
        }
        if a.round != b.round {
            return Err(EvidenceError::DifferentRounds(a.round, b.round, a.height));
        }
        if a.block == b.block {
            return Err(EvidenceError::SameValue);
        }
        Ok(())
    }

    /// Checks both signatures against the votes' sign bytes on chain
    /// `chain_id`, under ZIP-215's rules (deterministic on every node).
    pub fn verify_signatures(&self, chain_id: u64) -> Result<(), EvidenceError> {
        let key = ed25519_consensus::VerificationKey::try_from(self.consensus_key.0)
            .map_err(|_| EvidenceError::InvalidKey(self.consensus_key))?;
        for (which, signed) in [(Which::A, &self.a), (Which::B, &self.b)] {
            let signature = ed25519_consensus::Signature::from(signed.signature);
            key.verify(&signature, &signed.vote.sign_bytes(chain_id))
                .map_err(|_| EvidenceError::BadSignature(which, self.consensus_key, chain_id))?;
        }
        Ok(())
    }

    /// Every check that needs no state: [`Self::check_conflict`] then
    /// [`Self::verify_signatures`].
    pub fn verify(&self, chain_id: u64) -> Result<(), EvidenceError> {
        self.check_conflict()?;
        self.verify_signatures(chain_id)
    }

    /// Names the evidence: keccak256 of the two `sign bytes ‖ signature`
    /// strings, the lesser first, so the order the votes come in does not
    /// matter. (Sign bytes are self-delimiting, so the concatenation is
    /// unambiguous.)
    pub fn evidence_hash(&self, chain_id: u64) -> B256 {
        let piece = |signed: &SignedVote| {
            [signed.vote.sign_bytes(chain_id), signed.signature.to_vec()].concat()
        };
        let (a, b) = (piece(&self.a), piece(&self.b));
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        keccak256([first, second].concat())
    }

    /// The `reportDoubleSign` calldata that puts this evidence on chain.
    /// The votes' validator addresses are not sent: the ledger derives them
    /// from the key.
    pub fn to_call(&self) -> Bytes {
        let vote = |v: &VoteContent| IStaking::Vote {
            kind: v.kind as u8,
            height: v.height,
            round: v.round,
            nil: v.block.is_none(),
            blockHash: v.block.unwrap_or_default(),
        };
        IStaking::reportDoubleSignCall {
            consensusKey: self.consensus_key,
            a: vote(&self.a.vote),
            signatureA: Bytes::copy_from_slice(&self.a.signature),
            b: vote(&self.b.vote),
            signatureB: Bytes::copy_from_slice(&self.b.signature),
        }
        .abi_encode()
        .into()
    }
}

/// The calldata of `IStaking.reportDoubleSign` proving that `consensus_key`
/// signed both `a` and `b` (each a vote and its signature): what the node
/// sends to the staking contract to put double-sign evidence on chain.
pub fn report_double_sign_call(
    consensus_key: B256,
    a: (VoteContent, [u8; 64]),
    b: (VoteContent, [u8; 64]),
) -> Bytes {
    DoubleSign {
        consensus_key,
        a: SignedVote { vote: a.0, signature: a.1 },
        b: SignedVote { vote: b.0, signature: b.1 },
    }
    .to_call()
}
