//! Signing scheme, signer and verifier.
//!
//! `arc-malachitebft-signing-ed25519` provides the key types, but its
//! `Signature` has no borsh impl, so signatures are wrapped in [`Sig`] under
//! a scheme of our own over the same keys. Every signed message starts with
//! a domain tag and the chain id: votes use the encoding the ledger checks
//! double-sign evidence with ([`ol_primitives::consensus`]).

use arc_malachitebft_app_channel::app::types::core::{
    SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope,
};
use arc_malachitebft_app_channel::{Signer, Verifier};
use arc_malachitebft_signing::{Error as SigningError, VerificationResult};
use arc_malachitebft_signing_ed25519 as ed;
use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};

use crate::context::{BlockHash, Height, OlContext, Proposal, Vote};
use arc_malachitebft_app_channel::app::types::core::Round;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
/// An ed25519 signature.
pub struct Sig(pub [u8; 64]);

impl Sig {
    fn to_ed(self) -> ed::Signature {
        ed::Signature::from_bytes(self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// The ed25519 signing scheme over [`Sig`].
pub struct OlSigning;

impl SigningScheme for OlSigning {
    type DecodingError = String;
    type Signature = Sig;
    type PublicKey = ed::PublicKey;
    type PrivateKey = ed::PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Sig, String> {
        <[u8; 64]>::try_from(bytes).map(Sig).map_err(|_| "signature is not 64 bytes".into())
    }
    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0.to_vec()
    }
    fn decode_public_key(bytes: &[u8]) -> Result<ed::PublicKey, String> {
        let bytes: [u8; 32] =
            bytes.try_into().map_err(|_| "public key is not 32 bytes".to_string())?;
        ed::PublicKey::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn encode_public_key(public_key: &ed::PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}

fn proposal_sign_bytes(chain_id: u64, proposal: &Proposal) -> Vec<u8> {
    let mut bytes = b"openledger/proposal/v1".to_vec();
    bytes.extend_from_slice(&chain_id.to_be_bytes());
    proposal.serialize(&mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

/// What a proposer signs in the last part of a streamed block: the height,
/// round and hash of the block, so receivers check the stream's origin
/// before spending an execution on it.
pub fn parts_sign_bytes(chain_id: u64, height: Height, round: Round, hash: &BlockHash) -> Vec<u8> {
    let mut bytes = b"openledger/parts/v1".to_vec();
    bytes.extend_from_slice(&chain_id.to_be_bytes());
    (height, round, hash).serialize(&mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

fn extension_sign_bytes(
    chain_id: u64,
    scope: &VoteExtensionScope<OlContext>,
    _extension: &(),
) -> Vec<u8> {
    let mut bytes = b"openledger/extension/v1".to_vec();
    bytes.extend_from_slice(&chain_id.to_be_bytes());
    (scope.height, scope.round, scope.value_id, scope.validator_address)
        .serialize(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

/// Holds the validator's consensus key (in-process signing).
pub struct Ed25519Signer {
    /// The validator's ed25519 key.
    pub key: ed::PrivateKey,
    /// The chain the signatures are for.
    pub chain_id: u64,
}

impl Ed25519Signer {
    /// Signs the parts of a streamed block ([`parts_sign_bytes`]).
    pub fn sign_parts(&self, height: Height, round: Round, hash: &BlockHash) -> Sig {
        Sig(self.key.sign(&parts_sign_bytes(self.chain_id, height, round, hash)).to_bytes())
    }
}

#[async_trait]
impl Signer<OlContext> for Ed25519Signer {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<OlContext, Vote>, SigningError> {
        let signature = Sig(self.key.sign(&vote.sign_bytes(self.chain_id)).to_bytes());
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<OlContext, Proposal>, SigningError> {
        let signature =
            Sig(self.key.sign(&proposal_sign_bytes(self.chain_id, &proposal)).to_bytes());
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<OlContext>,
        extension: (),
    ) -> Result<SignedMessage<OlContext, ()>, SigningError> {
        let signature =
            Sig(self.key.sign(&extension_sign_bytes(self.chain_id, &scope, &extension)).to_bytes());
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<OlContext>, SigningError> {
        let bytes = ValidatorProof::<OlContext>::signing_bytes(&public_key, &peer_id);
        let signature = Sig(self.key.sign(&bytes).to_bytes());
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Checks signatures for one chain; public keys come from the validator set.
pub struct Ed25519Verifier {
    /// The chain the signatures must be for.
    pub chain_id: u64,
}

/// Whether `signature` signs `bytes` under `public_key`.
pub fn verdict(public_key: &ed::PublicKey, bytes: &[u8], signature: &Sig) -> VerificationResult {
    VerificationResult::from_bool(public_key.verify(bytes, &signature.to_ed()).is_ok())
}

#[async_trait]
impl Verifier<OlContext> for Ed25519Verifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Sig,
        public_key: &ed::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(public_key, &vote.sign_bytes(self.chain_id), signature))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Sig,
        public_key: &ed::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(public_key, &proposal_sign_bytes(self.chain_id, proposal), signature))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<OlContext>,
        extension: &(),
        signature: &Sig,
        public_key: &ed::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(public_key, &extension_sign_bytes(self.chain_id, scope, extension), signature))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<OlContext>,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(public_key) = OlSigning::decode_public_key(&proof.public_key) else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(verdict(&public_key, &proof.preimage(), &proof.signature))
    }
}
