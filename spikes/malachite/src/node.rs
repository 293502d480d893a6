//! Starting the engine and the application loop over every `AppMsg`.

use std::path::PathBuf;
use std::time::Duration;

use arc_malachitebft_app_channel::app::config::{ConsensusConfig, NodeConfig, ValueSyncConfig};
use arc_malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use arc_malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use arc_malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, Round, Validity, VoteExtensionPolicy,
};
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_app_channel::app::types::{
    Keypair, LocallyProposedValue, MisbehaviorEvidence, PeerId, ProposedValue,
};
use arc_malachitebft_app_channel::{
    AppMsg, Channels, ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity, NetworkMsg,
    RequestContext, Signer, SyncContext, WalContext,
};
use arc_malachitebft_signing_ed25519 as ed;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::codec::OlCodec;
use crate::context::{default_timeouts, Address, BlockHash, Height, OlContext, ProposalPart, Value, ValidatorSet};
use crate::signing::{Ed25519Signer, Ed25519Verifier};

/// The node's consensus configuration (would live in the node's config file).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OlConsensusConfig {
    pub moniker: String,
    /// `consensus.p2p.listen_addr` ("/ip4/127.0.0.1/tcp/27000"),
    /// `consensus.p2p.persistent_peers`, gossipsub/discovery knobs.
    pub consensus: ConsensusConfig,
    /// Block sync: `enabled`, `status_update_interval`, `request_timeout`, `batch_size`...
    pub value_sync: ValueSyncConfig,
}

impl NodeConfig for OlConsensusConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// Starts the Malachite actors (network, WAL, consensus, sync, host connector).
/// `key` is the validator's ed25519 consensus key; `None` for a full node.
pub async fn start(
    home: PathBuf,
    config: OlConsensusConfig,
    node_key: ed::PrivateKey,
    validator_key: Option<ed::PrivateKey>,
) -> eyre::Result<(Channels<OlContext>, EngineHandle)> {
    start_with(home, config, node_key, validator_key, None).await
}

/// As [`start`]; with `byzantine`, the validator's network is wrapped in
/// Malachite's Byzantine proxy (feature `byzantine`) — for fault tests only.
pub async fn start_with(
    home: PathBuf,
    config: OlConsensusConfig,
    node_key: ed::PrivateKey,
    validator_key: Option<ed::PrivateKey>,
    byzantine: Option<arc_malachitebft_engine_byzantine::ByzantineConfig>,
) -> eyre::Result<(Channels<OlContext>, EngineHandle)> {
    let byz_key = validator_key.clone();
    // libp2p identity: the node key (may equal the validator key).
    let keypair = Keypair::ed25519_from_bytes(node_key.inner().to_bytes())?;
    let peer_id = keypair.public().to_peer_id();

    let (identity, consensus_ctx) = match validator_key {
        Some(key) => {
            let public_key = key.public_key();
            let address = Address::from_public_key(&public_key);
            let signer = Ed25519Signer { key };
            // ADR-006 validator proof: binds the consensus key to the libp2p peer id.
            let proof = signer
                .sign_validator_proof(public_key.as_bytes().to_vec(), peer_id.to_bytes())
                .await
                .map_err(|e| eyre::eyre!("{e}"))?;
            let proof_bytes = arc_malachitebft_app_channel::app::types::codec::Codec::encode(&OlCodec, &proof)?;
            let identity = NetworkIdentity::new_validator(
                config.moniker.clone(),
                keypair,
                address.to_string(),
                proof_bytes,
            );
            let ctx = ConsensusContext::new_validator(address, Box::new(Ed25519Verifier), Box::new(signer));
            (identity, ctx)
        }
        None => {
            let address = Address::from_public_key(&node_key.public_key());
            let identity = NetworkIdentity::new(config.moniker.clone(), keypair, None);
            (identity, ConsensusContext::new_full_node(address, Box::new(Ed25519Verifier)))
        }
    };

    if let (Some(byz), Some(key)) = (byzantine, byz_key) {
        let address = Address::from_public_key(&key.public_key());
        return arc_malachitebft_app_channel::EngineBuilder::new(OlContext, config.clone())
            .with_default_wal(WalContext::new(home.join("consensus").join("wal"), OlCodec))
            .with_byzantine_network(arc_malachitebft_app_channel::ByzantineContext {
                identity,
                codec: OlCodec,
                config: byz,
                signer: Box::new(Ed25519Signer { key }),
                address,
                conflicting_value_fn: None,
                // Equivocate every vote to a made-up block hash.
                conflicting_vote_value_fn: Some(Box::new(|_| BlockHash([0xee; 32]))),
            })
            .await?
            .with_default_sync(SyncContext::new(OlCodec))
            .with_default_consensus(consensus_ctx)
            .with_default_request(RequestContext::new(100))
            .build()
            .await;
    }

    arc_malachitebft_app_channel::start_engine(
        OlContext,
        config,
        WalContext::new(home.join("consensus").join("wal"), OlCodec),
        NetworkContext::new(identity, OlCodec),
        consensus_ctx,
        SyncContext::new(OlCodec),
        RequestContext::new(100),
    )
    .await
}

/// What the consensus adapter needs from OpenLedger's `Chain`.
pub trait ChainPort: Send + Sync + 'static {
    /// Last committed height (0 = genesis only).
    fn head(&self) -> u64;
    /// Oldest height whose block + certificate can still be served.
    fn earliest_served(&self) -> u64;
    /// Validator set that signs height `h` (from staking, fixed per epoch).
    fn validator_set(&self, h: u64) -> ValidatorSet;
    /// `Chain::build_block`: execute pending transactions on top of head,
    /// return (hash, encoded block) without committing.
    fn build_block(&self, h: u64, deadline: Duration) -> eyre::Result<(BlockHash, Vec<u8>)>;
    /// Decode + verify (re-execute) without committing; the block's hash.
    fn verify_block(&self, h: u64, encoded: &[u8]) -> eyre::Result<BlockHash>;
    /// `Chain::import_block`: commit a decided block with its certificate.
    fn import_block(&self, encoded: &[u8], certificate: &CommitCertificate<OlContext>) -> eyre::Result<()>;
    /// Committed block + its certificate, for block sync.
    fn decided(&self, h: u64) -> Option<(Vec<u8>, CommitCertificate<OlContext>)>;
    /// Equivocations seen by this node, to be put on chain by a later proposer.
    fn queue_evidence(&self, evidence: MisbehaviorEvidence<OlContext>);
}

fn params(chain: &dyn ChainPort, h: Height) -> HeightParams<OlContext> {
    HeightParams::new(chain.validator_set(h.0), default_timeouts(), None)
        .with_vote_extension_policy(VoteExtensionPolicy::Disabled)
}

/// Blocks seen this height, by hash (proposed by us, streamed to us, or synced).
#[derive(Default)]
pub struct Pending {
    pub blocks: std::collections::BTreeMap<BlockHash, (Height, Round, Vec<u8>)>,
    pub undecided: Vec<ProposedValue<OlContext>>,
}

/// The application loop: one arm per `AppMsg` variant of 0.8.2.
pub async fn run(
    chain: &dyn ChainPort,
    own_address: Option<Address>,
    channels: &mut Channels<OlContext>,
) -> eyre::Result<()> {
    let mut pending = Pending::default();
    let mut streams = std::collections::BTreeMap::new();
    while let Some(msg) = channels.consensus.recv().await {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let start = Height(chain.head() + 1);
                let _ = reply.send((start, params(chain, start)));
            }
            AppMsg::StartedRound { height, round, proposer, role, reply_value } => {
                // After a crash: hand back the values already seen at (height, round).
                let seen = pending.undecided.iter().filter(|v| v.height == height && v.round == round).cloned().collect();
                let _ = reply_value.send(seen);
            }
            AppMsg::GetValue { height, round, timeout, reply } => {
                // Must re-send the same value if one was already built for (height, round).
                let (hash, block) = chain.build_block(height.0, timeout)?;
                pending.blocks.insert(hash, (height, round, block.clone()));
                let _ = reply.send(LocallyProposedValue::new(height, round, Value { hash }));
                let me = own_address.expect("only validators are asked for values");
                for part in stream_block(height, round, me, hash, block) {
                    channels.network.send(NetworkMsg::PublishProposalPart(part)).await?;
                }
            }
            AppMsg::ExtendVote { height, round, value_id, vote_extension_policy, reply } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions { height, round, value_id, extensions, reply } => {
                let _ = reply.send(extensions.into_iter().map(|(address, _)| (address, Ok(()))).collect());
            }
            AppMsg::RestreamProposal { height, round, valid_round, address, value_id } => {
                // Re-publish the parts of a block we hold, with the new round.
                todo!("restream {value_id} at {height}/{round}")
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(chain.earliest_served().max(1)));
            }
            AppMsg::ReceivedProposalPart { from, published_by, part, reply } => {
                // Buffer by (published_by, stream_id); when Init..Fin are all in:
                // (real adapter: check the Fin signature against the round's proposer) verify, store.
                let complete = assemble(chain, &mut streams, published_by, part).map(|(value, block)| {
                    pending.blocks.insert(value.value.hash, (value.height, value.round, block));
                    pending.undecided.push(value.clone());
                    value
                });
                let _ = reply.send(complete);
            }
            AppMsg::Decided { certificate, extensions, reply } => {
                let Some((_, _, block)) = pending.blocks.get(&certificate.value_id) else {
                    todo!("decided a block we never received: fetch it");
                };
                chain.import_block(block, &certificate)?;
                // Keep what already arrived for later heights (parts can run ahead).
                let decided = certificate.height;
                pending.blocks.retain(|_, (h, _, _)| *h > decided);
                pending.undecided.retain(|v| v.height > decided);
                let _ = reply.send(());
            }
            AppMsg::Finalized { certificate, extensions, evidence, reply } => {
                if !evidence.is_empty() {
                    chain.queue_evidence(evidence);
                }
                let next = certificate.height.0 + 1;
                let _ = reply.send(Next::Start(Height(next), params(chain, Height(next))));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let mut values = Vec::new();
                for h in range.start().0..=range.end().0 {
                    let Some((block, certificate)) = chain.decided(h) else { break };
                    values.push(RawDecidedValue::new(Bytes::from(block), to_extended(certificate)));
                }
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue { height, round, proposer, value_bytes, reply } => {
                let outcome = match chain.verify_block(height.0, &value_bytes) {
                    Ok(hash) => {
                        pending.blocks.insert(hash, (height, round, value_bytes.to_vec()));
                        SyncedValueOutcome::Verdict(ProposedValue {
                            height,
                            round,
                            valid_round: Round::Nil,
                            proposer,
                            value: Value { hash },
                            validity: Validity::Valid,
                        })
                    }
                    Err(_) => SyncedValueOutcome::PeerFault,
                };
                let _ = reply.send(outcome);
            }
        }
    }
    Ok(())
}

fn to_extended(
    certificate: CommitCertificate<OlContext>,
) -> ExtendedCommitCertificate<OlContext> {
    ExtendedCommitCertificate::from_commit_certificate_and_extensions(certificate, Default::default())
}

/// Init, the encoded block in 64 KiB chunks, Fin(hash, signature), then the
/// stream terminator. (The Fin signature is left zero in the spike; the real
/// adapter signs (height, round, hash) with the validator key.)
pub fn stream_block(
    height: Height,
    round: Round,
    proposer: Address,
    hash: BlockHash,
    block: Vec<u8>,
) -> Vec<StreamMessage<ProposalPart>> {
    let mut id = height.0.to_be_bytes().to_vec();
    id.extend_from_slice(&round.as_i64().to_be_bytes());
    let stream_id = StreamId::new(Bytes::from(id));
    let mut parts = vec![ProposalPart::Init { height, round, pol_round: Round::Nil, proposer }];
    parts.extend(block.chunks(64 * 1024).map(|c| ProposalPart::Data(c.to_vec())));
    parts.push(ProposalPart::Fin { hash, signature: crate::signing::Sig([0; 64]) });
    let mut messages: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| StreamMessage::new(stream_id.clone(), i as u64, StreamContent::Data(p)))
        .collect();
    messages.push(StreamMessage::new(stream_id, messages.len() as u64, StreamContent::Fin));
    messages
}

/// Reassembles one stream; `Some` once every part up to the terminator is in.
fn assemble(
    chain: &dyn ChainPort,
    buffer: &mut std::collections::BTreeMap<(Option<PeerId>, Bytes), Vec<StreamMessage<ProposalPart>>>,
    publisher: Option<PeerId>,
    part: StreamMessage<ProposalPart>,
) -> Option<(ProposedValue<OlContext>, Vec<u8>)> {
    let key = (publisher, part.stream_id.to_bytes());
    let entry = buffer.entry(key.clone()).or_default();
    entry.push(part);
    let fin = entry.iter().find(|m| m.content.is_fin())?.sequence;
    if entry.len() as u64 != fin + 1 {
        return None;
    }
    let mut messages = buffer.remove(&key)?;
    messages.sort_by_key(|m| m.sequence);
    let mut init = None;
    let mut block = Vec::new();
    let mut fin_hash = None;
    for m in messages {
        match m.content {
            StreamContent::Data(ProposalPart::Init { height, round, pol_round, proposer }) => {
                init = Some((height, round, pol_round, proposer))
            }
            StreamContent::Data(ProposalPart::Data(bytes)) => block.extend(bytes),
            StreamContent::Data(ProposalPart::Fin { hash, .. }) => fin_hash = Some(hash),
            StreamContent::Fin => {}
        }
    }
    let (height, round, valid_round, proposer) = init?;
    let claimed = fin_hash?;
    let validity = match chain.verify_block(height.0, &block) {
        Ok(hash) if hash == claimed => Validity::Valid,
        _ => Validity::Invalid,
    };
    let value = ProposedValue { height, round, valid_round, proposer, value: Value { hash: claimed }, validity };
    Some((value, block))
}
