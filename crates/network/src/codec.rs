//! One codec for the network, sync and the WAL, on borsh.
//!
//! Malachite's own types implement borsh when the `borsh` feature of
//! core-types, core-consensus, sync, peer and engine is on, so every codec
//! bound is met by `borsh::to_vec` / `borsh::from_slice` except
//! `ValidatorProof`, which has no borsh impl and is written by hand.
//! No protobuf, no protoc.

use arc_malachitebft_app_channel::app::consensus::LivenessMsg;
use arc_malachitebft_app_channel::app::streaming::StreamMessage;
use arc_malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use arc_malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedExtension,
    ValidatorProof,
};
use arc_malachitebft_app_channel::app::types::sync;
use arc_malachitebft_app_channel::app::types::{ProposedValue, SignedConsensusMsg};
use bytes::Bytes;

use crate::context::{Address, BlockHash, Height, OlContext, ProposalPart};
use crate::signing::Sig;

#[derive(Clone, Copy, Debug, Default)]
/// The borsh codec for consensus, sync and the WAL.
pub struct OlCodec;

macro_rules! borsh_codec {
    ($($t:ty),* $(,)?) => {$(
        impl Codec<$t> for OlCodec {
            type Error = std::io::Error;
            fn decode(&self, bytes: Bytes) -> Result<$t, Self::Error> {
                borsh::from_slice(&bytes)
            }
            fn encode(&self, msg: &$t) -> Result<Bytes, Self::Error> {
                borsh::to_vec(msg).map(Bytes::from)
            }
        }
    )*};
}

borsh_codec!(
    // ConsensusCodec
    ProposalPart,
    SignedConsensusMsg<OlContext>,
    LivenessMsg<OlContext>,
    StreamMessage<ProposalPart>,
    // SyncCodec
    sync::Status<OlContext>,
    sync::Request<OlContext>,
    // WalCodec (SignedConsensusMsg above)
    ProposedValue<OlContext>,
    PolkaCertificate<OlContext>,
);

// `sync::Response` carries `ExtendedCommitCertificate`, which has NO borsh
// impl in 0.8.2 (the sync crate's borsh impl of `RawDecidedValue` requires
// one), so the block-sync response is encoded by hand through mirror tuples.
type WireSig = (Address, Sig, Option<SignedExtension<OlContext>>);
type WireCert = (Height, Round, BlockHash, Vec<WireSig>);
type WireResponse = (Height, Vec<(Vec<u8>, WireCert)>);

fn to_wire(msg: &sync::Response<OlContext>) -> WireResponse {
    let sync::Response::ValueResponse(response) = msg;
    let values = response
        .values
        .iter()
        .map(|v| {
            let c = &v.certificate;
            let sigs = c
                .commit_signatures
                .iter()
                .map(|s| (s.address, s.signature, s.extension.clone()))
                .collect();
            (v.value_bytes.to_vec(), (c.height, c.round, c.value_id, sigs))
        })
        .collect();
    (response.start_height, values)
}

fn from_wire((start_height, values): WireResponse) -> sync::Response<OlContext> {
    let values = values
        .into_iter()
        .map(|(bytes, (height, round, value_id, sigs))| {
            let commit_signatures = sigs
                .into_iter()
                .map(|(address, signature, extension)| {
                    ExtendedCommitSignature::new(address, signature, extension)
                })
                .collect();
            let certificate =
                ExtendedCommitCertificate { height, round, value_id, commit_signatures };
            sync::RawDecidedValue::new(Bytes::from(bytes), certificate)
        })
        .collect();
    sync::Response::ValueResponse(arc_malachitebft_sync::ValueResponse::new(start_height, values))
}

impl Codec<sync::Response<OlContext>> for OlCodec {
    type Error = std::io::Error;
    fn decode(&self, bytes: Bytes) -> Result<sync::Response<OlContext>, Self::Error> {
        borsh::from_slice::<WireResponse>(&bytes).map(from_wire)
    }
    fn encode(&self, msg: &sync::Response<OlContext>) -> Result<Bytes, Self::Error> {
        borsh::to_vec(&to_wire(msg)).map(Bytes::from)
    }
}

impl HasEncodedLen<sync::Response<OlContext>> for OlCodec {
    fn encoded_len(&self, msg: &sync::Response<OlContext>) -> Result<usize, std::io::Error> {
        borsh::object_length(&to_wire(msg))
    }
}

impl Codec<ValidatorProof<OlContext>> for OlCodec {
    type Error = std::io::Error;
    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<OlContext>, Self::Error> {
        let (public_key, peer_id, signature): (Vec<u8>, Vec<u8>, Sig) = borsh::from_slice(&bytes)?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
    fn encode(&self, proof: &ValidatorProof<OlContext>) -> Result<Bytes, Self::Error> {
        borsh::to_vec(&(&proof.public_key, &proof.peer_id, &proof.signature)).map(Bytes::from)
    }
}
