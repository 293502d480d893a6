//! The application side of Malachite: one loop answering every `AppMsg`
//! of 0.8.2 against the node's [`Chain`].
//!
//! * A proposer builds its block with [`Chain::build_block`] and streams it
//!   as proposal parts (`Init`, 64 KiB `Data` chunks, `Fin` signed by the
//!   proposer); the value consensus votes on is the block hash.
//! * A receiver reassembles the stream, checks the `Fin` signature and that
//!   the sender is the round's proposer, then [`Chain::verify_block`]s it
//!   (execution and every header field, no commit) before telling consensus
//!   it is valid: validators only vote for blocks they executed.
//! * `Decided` commits the block it verified (or built) with its commit
//!   certificate, in one storage write; `Finalized` puts any double-sign
//!   evidence on chain and starts the next height with the validator set
//!   staking holds after the block.
//! * Block sync serves stored blocks with their certificates, and verifies
//!   synced ones as proposals are.

use crate::context::{
    Address, BlockHash, Height, OlContext, ProposalPart, Validator, ValidatorSet,
};
use crate::evidence::EvidenceReporter;
use crate::signing::{Ed25519Signer, Sig, parts_sign_bytes, verdict};
use crate::wire::{self, MAX_BLOCK_BYTES, WireBlock};
use arc_malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use arc_malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use arc_malachitebft_app_channel::app::types::core::{
    CommitCertificate, Context as _, ExtendedCommitCertificate, LinearTimeouts, Round, Validity,
    VoteExtensionPolicy,
};
use arc_malachitebft_app_channel::app::types::sync::RawDecidedValue;
use arc_malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use arc_malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use arc_malachitebft_signing_ed25519 as ed;
use bytes::Bytes;
use ol_node::chain::{BuiltBlock, Chain, VerifiedBlock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Size of the `Data` parts a block is streamed in.
const CHUNK: usize = 64 * 1024;
/// Most partial streams buffered at once (one per proposer and round).
const MAX_STREAMS: usize = 64;
/// How far ahead of the head a proposal is kept for later.
const MAX_HEIGHTS_AHEAD: u64 = 4;

/// What the loop needs besides the chain.
pub struct AppConfig {
    /// The chain id every signature is bound to.
    pub chain_id: u64,
    /// The validator's signer; `None` on a node that only follows.
    pub signer: Option<Arc<Ed25519Signer>>,
    /// Consensus timeouts per height.
    pub timeouts: LinearTimeouts,
    /// Shortest time a height takes (the block time); `None`: as fast as
    /// votes arrive.
    pub target_time: Option<Duration>,
    /// Most transactions one block carries.
    pub max_block_transactions: usize,
}

/// A block this node holds for a height not yet decided.
enum Body {
    /// Built here as the proposer.
    Built(Box<BuiltBlock>),
    /// Received and verified on the current head.
    Verified(Box<VerifiedBlock>),
    /// Received and refused (the reason is logged).
    Invalid,
    /// Received and decoded, not yet checked (one for a later height is
    /// checked once the chain gets there).
    Pending(Box<WireBlock>),
}

struct Candidate {
    height: Height,
    round: Round,
    valid_round: Round,
    proposer: Address,
    /// The proposer's signature over the stream; `None` for synced blocks
    /// (their certificate vouches for them) and this node's own.
    signature: Option<Sig>,
    bytes: Bytes,
    body: Body,
}

/// The validator set a height runs with, and who operates each member.
#[derive(Clone)]
struct Members {
    /// The height it is for.
    height: Height,
    set: ValidatorSet,
    operators: HashMap<Address, alloy_primitives::Address>,
}

/// The loop's state.
pub struct App {
    chain: Arc<Chain>,
    config: AppConfig,
    candidates: HashMap<BlockHash, Candidate>,
    streams: BTreeMap<(PeerId, Bytes), Vec<StreamMessage<ProposalPart>>>,
    members: Option<Members>,
    evidence: EvidenceReporter,
    /// When the height in progress started its first round.
    height_started: Option<(Height, std::time::Instant)>,
}

/// Why the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Reading or writing the chain failed.
    #[error("chain: {0}")]
    Chain(String),
    /// Staking holds no usable validator set.
    #[error("no validator set at height {height}: {why}")]
    NoValidators {
        /// The height.
        height: u64,
        /// Why.
        why: String,
    },
    /// Consensus decided a block this node never received.
    #[error("decided block {hash} at height {height}, which this node does not hold")]
    UnknownDecision {
        /// The height.
        height: u64,
        /// The block's hash.
        hash: BlockHash,
    },
    /// A decided block could not be committed.
    #[error("cannot commit decided block {hash} at height {height}: {why}")]
    Commit {
        /// The height.
        height: u64,
        /// The block's hash.
        hash: BlockHash,
        /// Why.
        why: String,
    },
    /// The engine's channels closed.
    #[error("the consensus engine stopped")]
    EngineStopped,
}

impl App {
    /// A loop for `chain`.
    pub fn new(chain: Arc<Chain>, config: AppConfig, evidence: EvidenceReporter) -> Self {
        Self {
            chain,
            config,
            candidates: HashMap::new(),
            streams: BTreeMap::new(),
            members: None,
            evidence,
            height_started: None,
        }
    }

    /// Answers the engine until it stops or a decision cannot be committed.
    pub async fn run(mut self, channels: &mut Channels<OlContext>) -> Result<(), AppError> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg, channels).await?;
        }
        Err(AppError::EngineStopped)
    }

    fn head(&self) -> u64 {
        self.chain.head().number()
    }

    /// The validator set staking holds after the head: the set of height head + 1.
    fn members(&mut self) -> Result<Members, AppError> {
        let height = Height(self.head() + 1);
        if let Some(members) = &self.members
            && members.height == height
        {
            return Ok(members.clone());
        }
        let snapshot = self.chain.snapshot().map_err(|e| AppError::Chain(e.to_string()))?;
        let active = ol_ledger::staking::StakingReader::new(&snapshot)
            .active_validators()
            .map_err(|e| AppError::NoValidators { height: height.0, why: e.to_string() })?;
        let mut validators = Vec::new();
        let mut operators = HashMap::new();
        for member in active {
            let Ok(key) = ed::PublicKey::from_bytes(member.consensus_key.0) else {
                tracing::warn!(operator = %member.operator, key = %member.consensus_key, "validator's consensus key is not an ed25519 point; left out");
                continue;
            };
            let validator = Validator::new(key, member.power);
            operators.insert(validator.address, member.operator);
            validators.push(validator);
        }
        let set = ValidatorSet::new(validators);
        if set.validators.is_empty() {
            return Err(AppError::NoValidators {
                height: height.0,
                why: "staking's active set is empty".into(),
            });
        }
        self.chain.metrics().consensus_validators.set(set.validators.len() as i64);
        let members = Members { height, set, operators };
        self.members = Some(members.clone());
        Ok(members)
    }

    fn params(&mut self) -> Result<HeightParams<OlContext>, AppError> {
        let members = self.members()?;
        Ok(HeightParams::new(members.set, self.config.timeouts, self.config.target_time)
            .with_vote_extension_policy(VoteExtensionPolicy::Disabled))
    }

    async fn handle(
        &mut self,
        msg: AppMsg<OlContext>,
        channels: &mut Channels<OlContext>,
    ) -> Result<(), AppError> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let start = Height(self.head() + 1);
                tracing::info!(height = start.0, "consensus ready");
                let _ = reply.send((start, self.params()?));
            }
            AppMsg::StartedRound { height, round, proposer, role, reply_value } => {
                tracing::debug!(height = height.0, round = %round, %proposer, ?role, "round started");
                let metrics = self.chain.metrics();
                metrics.consensus_rounds.inc();
                metrics.consensus_round.set(round.as_i64());
                if self.height_started.is_none_or(|(h, _)| h != height) {
                    self.height_started = Some((height, std::time::Instant::now()));
                }
                self.verify_pending(height).await?;
                let seen = self
                    .candidates
                    .iter()
                    .filter(|(_, c)| c.height == height && c.round == round)
                    .filter_map(|(hash, c)| proposed_value(*hash, c))
                    .collect();
                let _ = reply_value.send(seen);
            }
            AppMsg::GetValue { height, round, timeout: _, reply } => {
                if let Some(value) = self.propose(height, round, channels).await? {
                    let _ = reply.send(value);
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions { extensions, reply, .. } => {
                let _ = reply.send(extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect());
            }
            AppMsg::RestreamProposal { height, round, valid_round, address: _, value_id } => {
                let Some(signer) = self.config.signer.clone() else { return Ok(()) };
                if let Some(candidate) = self.candidates.get(&value_id) {
                    let me = Address::from_public_key(&signer.key.public_key());
                    let parts = stream_block(
                        &signer,
                        height,
                        round,
                        valid_round,
                        me,
                        value_id,
                        &candidate.bytes,
                    );
                    for part in parts {
                        if channels
                            .network
                            .send(NetworkMsg::PublishProposalPart(part))
                            .await
                            .is_err()
                        {
                            return Err(AppError::EngineStopped);
                        }
                    }
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ReceivedProposalPart { from, published_by, part, reply } => {
                let publisher = published_by.unwrap_or(from);
                let value = match self.receive_part(publisher, part) {
                    Some(candidate) => self.admit(candidate).await?,
                    None => None,
                };
                let _ = reply.send(value);
            }
            AppMsg::Decided { certificate, extensions: _, reply } => {
                self.commit(&certificate).await?;
                let _ = reply.send(());
            }
            AppMsg::Finalized { certificate, extensions: _, evidence, reply } => {
                if !evidence.is_empty() {
                    self.evidence.report(&evidence);
                }
                let next = Height(certificate.height.0 + 1);
                let _ = reply.send(Next::Start(next, self.params()?));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let mut values = Vec::new();
                for h in range.start().0..=range.end().0 {
                    let Some(value) = self.decided(h)? else { break };
                    values.push(value);
                }
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue { height, round, proposer, value_bytes, reply } => {
                let outcome = self.synced(height, round, proposer, value_bytes).await?;
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    /// Builds this node's proposal for (height, round) and streams it.
    async fn propose(
        &mut self,
        height: Height,
        round: Round,
        channels: &mut Channels<OlContext>,
    ) -> Result<Option<LocallyProposedValue<OlContext>>, AppError> {
        let Some(signer) = self.config.signer.clone() else { return Ok(None) };
        if height.0 != self.head() + 1 {
            tracing::warn!(height = height.0, head = self.head(), "asked to propose off the head");
            return Ok(None);
        }
        let me = Address::from_public_key(&signer.key.public_key());
        let beneficiary = self.members()?.operators.get(&me).copied().unwrap_or_default();
        let chain = self.chain.clone();
        let max = self.config.max_block_transactions;
        let built =
            match tokio::task::spawn_blocking(move || chain.build_block(beneficiary, max, None))
                .await
            {
                Ok(Ok(built)) => built,
                // No proposal this round: the others time out and move on.
                Ok(Err(error)) => {
                    tracing::error!(height = height.0, %error, "cannot build a block to propose");
                    return Ok(None);
                }
                Err(error) => {
                    tracing::error!(height = height.0, %error, "building a block panicked");
                    return Ok(None);
                }
            };
        let hash = BlockHash(built.header().hash.0);
        let bytes = Bytes::from(wire::encode_block(&built.block()));
        tracing::info!(height = height.0, round = %round, %hash, transactions = built.transactions().len(), "proposing");
        let parts = stream_block(&signer, height, round, Round::Nil, me, hash, &bytes);
        self.candidates.insert(
            hash,
            Candidate {
                height,
                round,
                valid_round: Round::Nil,
                proposer: me,
                signature: None,
                bytes,
                body: Body::Built(Box::new(built)),
            },
        );
        for part in parts {
            if channels.network.send(NetworkMsg::PublishProposalPart(part)).await.is_err() {
                return Err(AppError::EngineStopped);
            }
        }
        Ok(Some(LocallyProposedValue::new(height, round, crate::context::Value { hash })))
    }

    /// Buffers a part; a complete stream comes back as a candidate (not yet verified).
    fn receive_part(
        &mut self,
        publisher: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> Option<(BlockHash, Candidate)> {
        let key = (publisher, part.stream_id.to_bytes());
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            // Forget the oldest stream rather than grow without bound.
            let oldest = self.streams.keys().next().cloned()?;
            self.streams.remove(&oldest);
        }
        let entry = self.streams.entry(key.clone()).or_default();
        if entry.iter().any(|m| m.sequence == part.sequence) {
            return None;
        }
        let size: usize = entry
            .iter()
            .map(|m| match &m.content {
                StreamContent::Data(ProposalPart::Data(d)) => d.len(),
                _ => 0,
            })
            .sum();
        if size > MAX_BLOCK_BYTES {
            tracing::warn!(%publisher, "proposal stream over the block size limit; dropped");
            self.streams.remove(&key);
            return None;
        }
        entry.push(part);
        let fin = entry.iter().find(|m| m.content.is_fin())?.sequence;
        if entry.len() as u64 != fin + 1 {
            return None;
        }
        let mut messages = self.streams.remove(&key)?;
        messages.sort_by_key(|m| m.sequence);
        let mut init = None;
        let mut block = Vec::new();
        let mut fin_part = None;
        for m in messages {
            match m.content {
                StreamContent::Data(ProposalPart::Init { height, round, pol_round, proposer }) => {
                    init = Some((height, round, pol_round, proposer))
                }
                StreamContent::Data(ProposalPart::Data(bytes)) => block.extend(bytes),
                StreamContent::Data(ProposalPart::Fin { hash, signature }) => {
                    fin_part = Some((hash, signature))
                }
                StreamContent::Fin => {}
            }
        }
        let (height, round, valid_round, proposer) = init?;
        let (claimed, signature) = fin_part?;
        if height.0 <= self.head() || height.0 > self.head() + MAX_HEIGHTS_AHEAD {
            return None;
        }
        let bytes = Bytes::from(block);
        let block = match wire::decode_block(&bytes) {
            Ok(block) => block,
            Err(error) => {
                tracing::warn!(height = height.0, %publisher, %error, "undecodable proposal; ignored");
                self.chain.metrics().proposals_dropped.inc();
                return None;
            }
        };
        let hash = BlockHash(block.header.hash.0);
        if hash != claimed {
            tracing::warn!(height = height.0, %publisher, %hash, %claimed, "proposal stream's block is not the one it signs; ignored");
            self.chain.metrics().proposals_dropped.inc();
            return None;
        }
        let candidate = Candidate {
            height,
            round,
            valid_round,
            proposer,
            signature: Some(signature),
            bytes,
            body: Body::Pending(Box::new(block)),
        };
        Some((hash, candidate))
    }

    /// Keeps a received proposal; on the head, checks it at once.
    async fn admit(
        &mut self,
        (hash, mut candidate): (BlockHash, Candidate),
    ) -> Result<Option<ProposedValue<OlContext>>, AppError> {
        if candidate.height.0 == self.head() + 1 && !self.check(hash, &mut candidate).await? {
            return Ok(None);
        }
        let value = proposed_value(hash, &candidate);
        self.candidates.insert(hash, candidate);
        Ok(value)
    }

    /// Checks a pending candidate of height head + 1: that the round's
    /// proposer signed it (false: drop it), then its block. The body becomes
    /// `Verified` or `Invalid`.
    async fn check(
        &mut self,
        hash: BlockHash,
        candidate: &mut Candidate,
    ) -> Result<bool, AppError> {
        let members = self.members()?;
        if let Some(signature) = candidate.signature {
            let expected =
                OlContext.select_proposer(&members.set, candidate.height, candidate.round);
            if expected.address != candidate.proposer {
                tracing::warn!(height = candidate.height.0, round = %candidate.round, claimed = %candidate.proposer, expected = %expected.address, "proposal from a validator that is not the round's proposer; dropped");
                self.chain.metrics().proposals_dropped.inc();
                return Ok(false);
            }
            let bytes =
                parts_sign_bytes(self.config.chain_id, candidate.height, candidate.round, &hash);
            if !verdict(&expected.public_key, &bytes, &signature).is_valid() {
                tracing::warn!(height = candidate.height.0, round = %candidate.round, proposer = %candidate.proposer, "proposal stream's signature does not verify; dropped");
                self.chain.metrics().proposals_dropped.inc();
                return Ok(false);
            }
        }
        let operator = members.operators.get(&candidate.proposer).copied();
        candidate.body = match std::mem::replace(&mut candidate.body, Body::Invalid) {
            Body::Pending(block) => self.verify(candidate.height, *block, operator).await?,
            checked => checked,
        };
        let metrics = self.chain.metrics();
        match candidate.body {
            Body::Verified(_) => metrics.proposals_valid.inc(),
            _ => metrics.proposals_invalid.inc(),
        };
        Ok(true)
    }

    /// Verifies a decoded block on the head (nothing committed);
    /// `operator`, if given, must be its beneficiary.
    async fn verify(
        &self,
        height: Height,
        block: WireBlock,
        operator: Option<alloy_primitives::Address>,
    ) -> Result<Body, AppError> {
        if let Some(operator) = operator
            && block.header.header.beneficiary != operator
        {
            tracing::warn!(height = height.0, beneficiary = %block.header.header.beneficiary, %operator, "block pays another account than its proposer's operator; invalid");
            return Ok(Body::Invalid);
        }
        // Contribution bytes this node lacks are fetched from the peers by
        // hash (and checked) before the block is executed: the ledger's
        // contribution rules read them.
        for envelope in &block.transactions {
            self.chain.content().fetch_missing(envelope).await;
        }
        let chain = self.chain.clone();
        let verified = tokio::task::spawn_blocking(move || {
            chain.verify_envelopes(block.header, block.transactions)
        })
        .await
        .map_err(|e| AppError::Chain(format!("verifying a block panicked: {e}")))?;
        Ok(match verified {
            Ok(verified) => Body::Verified(Box::new(verified)),
            Err(error) => {
                tracing::warn!(height = height.0, %error, "proposed block does not verify; voting against it");
                Body::Invalid
            }
        })
    }

    /// Checks the candidates kept for `height` once it is the head's next.
    async fn verify_pending(&mut self, height: Height) -> Result<(), AppError> {
        if height.0 != self.head() + 1 {
            return Ok(());
        }
        let pending: Vec<BlockHash> = self
            .candidates
            .iter()
            .filter(|(_, c)| c.height == height && matches!(c.body, Body::Pending(_)))
            .map(|(h, _)| *h)
            .collect();
        for hash in pending {
            let Some(mut candidate) = self.candidates.remove(&hash) else { continue };
            if self.check(hash, &mut candidate).await? {
                self.candidates.insert(hash, candidate);
            }
        }
        Ok(())
    }

    /// Commits the decided block with its certificate.
    async fn commit(&mut self, certificate: &CommitCertificate<OlContext>) -> Result<(), AppError> {
        let height = certificate.height;
        let hash = certificate.value_id;
        let encoded = wire::encode_certificate(certificate);
        if height.0 <= self.head() {
            // Already committed (a restart replaying its WAL).
            return Ok(());
        }
        let body = match self.candidates.remove(&hash) {
            Some(Candidate { body: Body::Built(built), .. }) => Body::Built(built),
            Some(Candidate { body: Body::Verified(verified), .. }) => Body::Verified(verified),
            Some(Candidate { body: Body::Pending(block), .. }) => {
                self.verify(height, *block, None).await?
            }
            // Refused before: verified once more (a contribution's bytes may
            // have arrived since), from the bytes as received.
            Some(Candidate { bytes, .. }) => match wire::decode_block(&bytes) {
                Ok(block) => self.verify(height, block, None).await?,
                Err(_) => Body::Invalid,
            },
            None => return Err(AppError::UnknownDecision { height: height.0, hash }),
        };
        let chain = self.chain.clone();
        let committed = tokio::task::spawn_blocking(move || match body {
            Body::Built(built) => {
                chain.commit_built_certified(*built, &encoded).map_err(|e| e.to_string())
            }
            Body::Verified(verified) => {
                chain.commit_verified(*verified, Some(&encoded)).map_err(|e| e.to_string())
            }
            Body::Invalid | Body::Pending(_) => {
                Err("the block does not verify on this node".to_string())
            }
        })
        .await
        .map_err(|e| AppError::Chain(format!("committing a block panicked: {e}")))?;
        match committed {
            Ok(header) => {
                tracing::debug!(height = height.0, hash = %header.hash, round = %certificate.round, signatures = certificate.commit_signatures.len(), "committed decided block");
            }
            Err(why) => return Err(AppError::Commit { height: height.0, hash, why }),
        }
        if let Some((started_height, started)) = self.height_started
            && started_height == height
        {
            self.chain.metrics().consensus_height_seconds.observe(started.elapsed().as_secs_f64());
        }
        self.candidates.retain(|_, c| c.height > height);
        // Parts of later heights may already be arriving: keep those.
        self.streams.retain(|(_, id), _| stream_height(id).is_some_and(|h| h > height.0));
        Ok(())
    }

    /// Block `h` with its certificate, for a syncing peer.
    fn decided(&self, h: u64) -> Result<Option<RawDecidedValue<OlContext>>, AppError> {
        let store = self.chain.store();
        let block = store.block_by_number(h).map_err(|e| AppError::Chain(e.to_string()))?;
        let certificate = self.chain.certificate(h).map_err(|e| AppError::Chain(e.to_string()))?;
        let (Some(block), Some(certificate)) = (block, certificate) else { return Ok(None) };
        let certificate = match wire::decode_certificate(&certificate) {
            Ok(certificate) => certificate,
            Err(error) => return Err(AppError::Chain(format!("stored certificate {h}: {error}"))),
        };
        Ok(Some(RawDecidedValue::new(
            Bytes::from(wire::encode_block(&block)),
            ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                certificate,
                Default::default(),
            ),
        )))
    }

    /// Checks a block block sync delivered for height `height`.
    async fn synced(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        bytes: Bytes,
    ) -> Result<SyncedValueOutcome<OlContext>, AppError> {
        let block = match wire::decode_block(&bytes) {
            Ok(block) => block,
            Err(error) => {
                tracing::warn!(height = height.0, %error, "undecodable synced block");
                return Ok(SyncedValueOutcome::PeerFault);
            }
        };
        let hash = BlockHash(block.header.hash.0);
        let valid = |hash| {
            SyncedValueOutcome::Verdict(ProposedValue {
                height,
                round,
                valid_round: Round::Nil,
                proposer,
                value: crate::context::Value { hash },
                validity: Validity::Valid,
            })
        };
        let head = self.head();
        if height.0 <= head {
            let stored = self
                .chain
                .store()
                .header_by_number(height.0)
                .map_err(|e| AppError::Chain(e.to_string()))?;
            return Ok(match stored {
                Some(stored) if stored.hash.0 == hash.0 => valid(hash),
                _ => SyncedValueOutcome::PeerFault,
            });
        }
        if height.0 != head + 1 {
            return Ok(SyncedValueOutcome::LocalTransientError);
        }
        let body = self.verify(height, block, None).await?;
        if !matches!(body, Body::Verified(_)) {
            return Ok(SyncedValueOutcome::PeerFault);
        }
        let candidate = Candidate {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            signature: None,
            bytes,
            body,
        };
        self.candidates.insert(hash, candidate);
        Ok(valid(hash))
    }
}

/// The height a stream id names ([`stream_block`] puts it first).
fn stream_height(id: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(id.get(..8)?.try_into().ok()?))
}

/// What consensus is told of a candidate; `None` until it is checked.
fn proposed_value(hash: BlockHash, candidate: &Candidate) -> Option<ProposedValue<OlContext>> {
    let validity = match candidate.body {
        Body::Built(_) | Body::Verified(_) => Validity::Valid,
        Body::Invalid => Validity::Invalid,
        Body::Pending(_) => return None,
    };
    Some(ProposedValue {
        height: candidate.height,
        round: candidate.round,
        valid_round: candidate.valid_round,
        proposer: candidate.proposer,
        value: crate::context::Value { hash },
        validity,
    })
}

/// Init, the encoded block in 64 KiB chunks, Fin (hash and the proposer's
/// signature over height, round and hash), then the stream terminator.
pub fn stream_block(
    signer: &Ed25519Signer,
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    hash: BlockHash,
    block: &[u8],
) -> Vec<StreamMessage<ProposalPart>> {
    let mut id = height.0.to_be_bytes().to_vec();
    id.extend_from_slice(&round.as_i64().to_be_bytes());
    let stream_id = StreamId::new(Bytes::from(id));
    let mut parts = vec![ProposalPart::Init { height, round, pol_round, proposer }];
    parts.extend(block.chunks(CHUNK).map(|c| ProposalPart::Data(c.to_vec())));
    parts.push(ProposalPart::Fin { hash, signature: signer.sign_parts(height, round, &hash) });
    let mut messages: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| StreamMessage::new(stream_id.clone(), i as u64, StreamContent::Data(p)))
        .collect();
    messages.push(StreamMessage::new(stream_id, messages.len() as u64, StreamContent::Fin));
    messages
}
