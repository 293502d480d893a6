//! The consensus `Context` and its associated types.

use std::fmt;

use arc_malachitebft_app_channel::app::types::core::{
    self as mc, LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType, VotingPower,
};
use arc_malachitebft_signing_ed25519 as ed;
use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};

use crate::signing::{OlSigning, Sig};

// ---------------------------------------------------------------- Height
/// Block number. A newtype: `mc::Height` is foreign, and so is `u64`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
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
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn from_public_key(public_key: &ed::PublicKey) -> Self {
        let digest = Sha256::digest(public_key.as_bytes());
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest[..20]);
        Address(bytes)
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
pub struct Value {
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
pub struct Validator {
    pub address: Address,
    pub public_key: ed::PublicKey,
    pub voting_power: VotingPower,
}

impl Validator {
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
pub struct ValidatorSet {
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    pub fn new(validators: impl IntoIterator<Item = Validator>) -> Self {
        let mut validators: Vec<_> = validators.into_iter().filter(|v| v.voting_power > 0).collect();
        validators.sort_by(|a, b| a.address.cmp(&b.address));
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
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: Value,
    pub pol_round: Round,
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
    Init { height: Height, round: Round, pol_round: Round, proposer: Address },
    Data(Vec<u8>),
    Fin { hash: BlockHash, signature: Sig },
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
pub struct Vote {
    pub vote_type: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<BlockHash>,
    pub validator_address: Address,
    pub extension: Option<SignedExtension<OlContext>>,
}

impl Vote {
    /// What a validator signs: everything but the extension (signed separately).
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut bytes = b"openledger/vote/v1".to_vec();
        (self.vote_type, self.height, self.round, self.value, self.validator_address)
            .serialize(&mut bytes)
            .expect("writing to a Vec cannot fail");
        bytes
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
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        assert!(!validator_set.validators.is_empty(), "empty validator set");
        let round = round.as_u32().unwrap_or(0) as u64;
        let index = (height.0.wrapping_add(round) % validator_set.validators.len() as u64) as usize;
        &validator_set.validators[index]
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
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }
}

/// Timeouts per height, handed to consensus in `HeightParams`.
pub fn default_timeouts() -> LinearTimeouts {
    match std::env::var("SPIKE_PROPOSE_MS") { Ok(ms) => LinearTimeouts { propose: std::time::Duration::from_millis(ms.parse().unwrap()), ..LinearTimeouts::default() }, Err(_) => LinearTimeouts::default() }
}
