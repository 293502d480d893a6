//! The consensus `Context` and its associated types.

use std::fmt;

use arc_malachitebft_app_channel::app::types::core::{
    self as mc, LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType, VotingPower,
};
use arc_malachitebft_signing_ed25519 as ed;
use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};

use crate::signing::{OlSigning, Sig};
use alloy_primitives::B256;
use ol_primitives::consensus::{VoteContent, VoteKind};

// ---------------------------------------------------------------- Height
/// Block number. A newtype: `mc::Height` is foreign, and so is `u64`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
/// A block height: the chain's block number.
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    /// Genesis is block 0 and is not decided by consensus; the first decided height is 1.
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0 + n)
    }
    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }
    fn as_u64(&self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------- Address
/// Consensus address of a validator: the first 20 bytes of sha256(ed25519 public key)
/// (Tendermint's rule). Distinct from the validator's EVM operator account.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
/// A validator's consensus address ([`Address::from_public_key`]).
pub struct Address(pub [u8; 20]);

impl Address {
    /// SHA-256 of the ed25519 public key, first 20 bytes (Tendermint's rule).
    pub fn from_public_key(public_key: &ed::PublicKey) -> Self {
        Address(ol_primitives::consensus::consensus_address(public_key.as_bytes()))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl mc::Address for Address {}

// ---------------------------------------------------------------- Value
/// The hash of a block (its header hash): the `ValueId`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
/// A block's hash: the id of the value consensus decides.
pub struct BlockHash(pub [u8; 32]);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// What consensus agrees on. Deliberately only the block hash: the signed
/// `Proposal` message carries the whole `Value` on the consensus topic (and
/// the WAL stores it), so the block body travels once, in proposal parts,
/// and the app keeps it by hash.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
/// What consensus decides: one block, named by its hash (the body
/// travels as proposal parts).
pub struct Value {
    /// The block's hash.
    pub hash: BlockHash,
}

impl mc::Value for Value {
    type Id = BlockHash;
    fn id(&self) -> BlockHash {
        self.hash
    }
}

// ---------------------------------------------------------------- Validators
#[derive(Clone, Debug, PartialEq, Eq)]
/// A member of the validator set.
pub struct Validator {
    /// Its consensus address.
    pub address: Address,
    /// Its ed25519 public key.
    pub public_key: ed::PublicKey,
    /// Its voting power: staking's stake in whole OPEN.
    pub voting_power: VotingPower,
}

impl Validator {
    /// A validator with this key and power.
    pub fn new(public_key: ed::PublicKey, voting_power: VotingPower) -> Self {
        Self { address: Address::from_public_key(&public_key), public_key, voting_power }
    }
}

impl mc::Validator<OlContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }
    fn public_key(&self) -> &ed::PublicKey {
        &self.public_key
    }
    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Sorted by address so that every node indexes it the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
/// The validators of one height, in address order.
pub struct ValidatorSet {
    /// The members, sorted by address, no zero power, no duplicates.
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// The set of `validators`: zero power left out, sorted, deduplicated.
    pub fn new(validators: impl IntoIterator<Item = Validator>) -> Self {
        let mut validators: Vec<_> =
            validators.into_iter().filter(|v| v.voting_power > 0).collect();
        validators.sort_by_key(|v| v.address);
        validators.dedup_by(|a, b| a.address == b.address);
        Self { validators }
    }
}

impl mc::ValidatorSet<OlContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.voting_power).sum()
    }
    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

// ---------------------------------------------------------------- Proposal
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
/// A signed proposal of a value for a (height, round).
pub struct Proposal {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The block proposed.
    pub value: Value,
    /// The round of the polka it re-proposes, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub validator_address: Address,
}

impl mc::Proposal<OlContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &Value {
        &self.value
    }
    fn take_value(self) -> Value {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
}

/// How a block is streamed: `Init`, then the encoded block in chunks, then
/// `Fin` with the proposer's signature over (height, round, block hash) so a
/// receiver can tell the stream really came from the round's proposer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    /// Opens the stream.
    Init {
        /// The height.
        height: Height,
        /// The round.
        round: Round,
        /// The polka round re-proposed, or nil.
        pol_round: Round,
        /// The proposer.
        proposer: Address,
    },
    /// A chunk of the encoded block.
    Data(Vec<u8>),
    /// Closes the stream.
    Fin {
        /// The block's hash.
        hash: BlockHash,
        /// The proposer's signature ([`crate::signing::parts_sign_bytes`]).
        signature: Sig,
    },
}

impl mc::ProposalPart<OlContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, Self::Init { .. })
    }
    fn is_last(&self) -> bool {
        matches!(self, Self::Fin { .. })
    }
}

// ---------------------------------------------------------------- Vote
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
/// A prevote or precommit.
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockHash>,
    /// The voter.
    pub validator_address: Address,
    /// Vote extension (unused: the policy is disabled).
    pub extension: Option<SignedExtension<OlContext>>,
}

impl Vote {
    /// What a validator signs: everything but the extension (signed separately).
    /// A vote without extension.
    fn new(
        vote_type: VoteType,
        height: Height,
        round: Round,
        value: NilOrVal<BlockHash>,
        validator_address: Address,
    ) -> Self {
        Self { vote_type, height, round, value, validator_address, extension: None }
    }

    /// The vote's signed content, as the ledger rebuilds it for evidence.
    pub fn content(&self) -> VoteContent {
        VoteContent {
            kind: match self.vote_type {
                VoteType::Prevote => VoteKind::Prevote,
                VoteType::Precommit => VoteKind::Precommit,
            },
            height: self.height.0,
            // Votes are only cast in rounds 0.., never in the nil round.
            round: self.round.as_u32().unwrap_or(u32::MAX),
            block: match self.value {
                NilOrVal::Nil => None,
                NilOrVal::Val(hash) => Some(B256::from(hash.0)),
            },
            validator: self.validator_address.0,
        }
    }

    /// The bytes signed for this vote on chain `chain_id`
    /// ([`VoteContent::sign_bytes`]).
    pub fn sign_bytes(&self, chain_id: u64) -> Vec<u8> {
        self.content().sign_bytes(chain_id)
    }
}

impl mc::Vote<OlContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<BlockHash> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<BlockHash> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.vote_type
    }
    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
    fn extension(&self) -> Option<&SignedExtension<OlContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<OlContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<OlContext>) -> Self {
        Self { extension: Some(extension), ..self }
    }
}

// ---------------------------------------------------------------- Context
#[derive(Clone, Copy, Debug, Default)]
/// OpenLedger's Malachite context.
pub struct OlContext;

impl mc::Context for OlContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = Value;
    type Vote = Vote;
    /// No vote extensions (policy `Disabled` in `HeightParams`).
    type Extension = ();
    type SigningScheme = OlSigning;

    /// Round-robin over the address-sorted set. Deterministic and simple; a
    /// stake-weighted rotation (Tendermint's proposer priority) can replace it.
    /// Round 0's proposer is drawn by stake: slot `sha256(height) mod total
    /// power` of the validators (in address order) laid end to end, each
    /// owning as many slots as its power, so each proposes in proportion to
    /// its stake. Later rounds step through the set from there in address
    /// order, so every validator gets a turn within `n` rounds even when the
    /// drawn one is down. A pure function of the set, height and round.
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let validators = &validator_set.validators;
        assert!(!validators.is_empty(), "empty validator set");
        let total: u128 = validators.iter().map(|v| v.voting_power as u128).sum();
        let digest = Sha256::digest(height.0.to_be_bytes());
        let draw = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
        let mut slot = draw % total.max(1);
        let mut first = 0;
        for (index, validator) in validators.iter().enumerate() {
            let power = validator.voting_power as u128;
            if slot < power {
                first = index;
                break;
            }
            slot -= power;
        }
        let round = round.as_u32().unwrap_or(0) as usize;
        &validators[(first + round % validators.len()) % validators.len()]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: Value,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal { height, round, value, pol_round, validator_address: address }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Prevote, height, round, value_id, address)
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Precommit, height, round, value_id, address)
    }
}
