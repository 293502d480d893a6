//! Signing scheme, signer and verifier.
//!
//! `arc-malachitebft-signing-ed25519` provides `Ed25519` (a `SigningScheme`)
//! and key types, but its `Signature` has no borsh impl, so the spike wraps
//! it in `Sig` and declares its own scheme over the same keys.

use arc_malachitebft_app_channel::app::types::core::{
    SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope,
};
use arc_malachitebft_app_channel::{Signer, Verifier};
use arc_malachitebft_signing::{Error as SigningError, VerificationResult};
use arc_malachitebft_signing_ed25519 as ed;
use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};

use crate::context::{OlContext, Proposal, Vote};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Sig(pub [u8; 64]);

impl Sig {
    fn to_ed(self) -> ed::Signature {
        ed::Signature::from_bytes(self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "public key is not 32 bytes".to_string())?;
        ed::PublicKey::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn encode_public_key(public_key: &ed::PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}

fn proposal_sign_bytes(proposal: &Proposal) -> Vec<u8> {
    let mut bytes = b"openledger/proposal/v1".to_vec();
    proposal.serialize(&mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

fn extension_sign_bytes(scope: &VoteExtensionScope<OlContext>, _extension: &()) -> Vec<u8> {
    let mut bytes = b"openledger/extension/v1".to_vec();
    (scope.height, scope.round, scope.value_id, scope.validator_address)
        .serialize(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

/// Holds the validator's consensus key (in-process signing).
pub struct Ed25519Signer {
    pub key: ed::PrivateKey,
}

#[async_trait]
impl Signer<OlContext> for Ed25519Signer {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<OlContext, Vote>, SigningError> {
        let signature = Sig(self.key.sign(&vote.sign_bytes()).to_bytes());
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<OlContext, Proposal>, SigningError> {
        let signature = Sig(self.key.sign(&proposal_sign_bytes(&proposal)).to_bytes());
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<OlContext>,
        extension: (),
    ) -> Result<SignedMessage<OlContext, ()>, SigningError> {
        let signature = Sig(self.key.sign(&extension_sign_bytes(&scope, &extension)).to_bytes());
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

/// Stateless: public keys come from the validator set.
pub struct Ed25519Verifier;

fn verdict(public_key: &ed::PublicKey, bytes: &[u8], signature: &Sig) -> VerificationResult {
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
        Ok(verdict(public_key, &vote.sign_bytes(), signature))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Sig,
        public_key: &ed::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(public_key, &proposal_sign_bytes(proposal), signature))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<OlContext>,
        extension: &(),
        signature: &Sig,
        public_key: &ed::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(public_key, &extension_sign_bytes(scope, extension), signature))
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
