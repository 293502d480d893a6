//! Attribution challenges: anyone may prove a settlement's attribution wrong.
//!
//! Within the challenge window after a settlement ([`ChallengeParams`],
//! governable; default one day of block time) any account may challenge it
//! by submitting the output text and the attribution vector that was
//! settled. The ledger checks both against the hashes the settlement
//! recorded, then **recomputes** the span attribution of the output from the
//! datanet version's recorded index with the protocol's default parameters
//! (through [`ContentSource::attribution`](crate::ContentSource::attribution):
//! a pure function of public data that every node holding the index answers
//! identically — the same contract as contribution facts) and compares. A
//! node without the index builds it from the version's members, which the
//! ledger reads for it on request (not charged: only such a node reads
//! them), so every honest validator gives the same verdict.
//!
//! Why the ledger and not a validator vote: the recomputation is
//! deterministic and cheap next to generation (a suffix-array lookup per
//! output token), so making it part of the state transition gives an answer
//! every node verifies, with no trusted party and no second round.
//!
//! - **Same attribution** — the challenge was frivolous: its bond
//!   ([`ChallengeParams::bond`]) goes to the provider it wrongly accused.
//! - **Different** — the provider is slashed: up to
//!   [`ChallengeParams::provider_slash`] of its self-bond (stake it bonded
//!   to itself in the staking contract; what it has, if less) — or, when
//!   the provider is a registered agent's key, of the operator's bond to
//!   the agent, and the agent is jailed. From the
//!   slash the contributors' part of the fee is credited again, divided by
//!   the **recomputed** attribution (so the contributors the output really
//!   used are paid; what the wrong vector credited is not clawed back from
//!   contributors who had no say in it and may have claimed it already). Of
//!   what remains the challenger receives [`ChallengeParams::challenger_bps`]
//!   and the treasury the rest. A slash smaller than the contributors' part
//!   is divided as far as it goes.
//!
//! A settlement is judged once. A settlement that names a contribution
//! withdrawn since cannot be judged any more (the index's exclusions have
//! changed) and is refused, so no provider is slashed for a withdrawal.
//!
//! Storage (in the inference contract):
//! - `challenge.params` at offsets 0 set flag, 1 packed (window seconds,
//!   challenger bps), 2 bond, 3 provider slash;
//! - `challenge[inference]` at offsets 0 packed (outcome, judged-at block),
//!   1 challenger, 2 slashed amount.

use super::{
    Attributed, IInference, Role, attribution_hash, credit, emit, inference, inference_slot,
    leave_out_cut, split,
};
use crate::{
    agents::{self, AgentsReader, JailReason},
    content::AttributionRequest,
    datanets::{DatanetsReader, Status},
    revert,
    staking::{self, StakingReader},
    state::StateView,
    system::{
        CallError, Frame, gas, move_balance,
        slots::{KeyPart, field, pack, slot, unpack},
    },
    vesting,
};
use alloy_primitives::{Address, B256, U256};
use ol_primitives::addresses::{INFERENCE, TREASURY};
use sha2::{Digest, Sha256};

type Result<T> = std::result::Result<T, CallError>;

/// Gas of recomputing an attribution: a fixed part, plus per output byte
/// and per indexed contribution whose status is read.
pub const RECOMPUTE_BASE_GAS: u64 = 50_000;
/// Gas per byte of output attributed.
pub const RECOMPUTE_BYTE_GAS: u64 = 16;

/// Most bytes of output a challenge may submit.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Governable parameters of attribution challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeParams {
    /// Seconds of block time after a settlement during which it can be
    /// challenged.
    pub window_seconds: u64,
    /// OPEN (wei) a challenger stakes; lost to the provider when the
    /// settlement's attribution is the right one.
    pub bond: U256,
    /// Most OPEN (wei) slashed from the provider's self-bond when it is not.
    pub provider_slash: U256,
    /// The challenger's share of what the slash leaves after the
    /// contributors are paid (basis points).
    pub challenger_bps: u16,
}

impl Default for ChallengeParams {
    /// One day; 10 OPEN bond; 100 OPEN slash; half of the rest to the challenger.
    fn default() -> Self {
        let open = U256::from(10u64).pow(U256::from(18));
        Self {
            window_seconds: 86_400,
            bond: U256::from(10u64) * open,
            provider_slash: U256::from(100u64) * open,
            challenger_bps: 5_000,
        }
    }
}

/// How a challenge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The settlement's attribution was wrong; the provider was slashed.
    Upheld = 1,
    /// The settlement's attribution was right; the bond went to the provider.
    Rejected = 2,
}

/// A judged challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    /// How it ended.
    pub outcome: Outcome,
    /// Who challenged.
    pub challenger: Address,
    /// The block that judged it.
    pub block: u64,
    /// OPEN slashed from the provider (zero when rejected).
    pub slashed: U256,
}

fn params_slot() -> B256 {
    slot("challenge.params", &[])
}

fn challenge_slot(inference: u64) -> B256 {
    slot("challenge", &[KeyPart::U64(inference)])
}

/// The challenge parameters (defaults until governance sets them).
pub fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<ChallengeParams> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(ChallengeParams::default());
    }
    let [window_seconds, challenger_bps, ..] = unpack(frame.load(field(base, 1))?);
    Ok(ChallengeParams {
        window_seconds,
        bond: frame.load(field(base, 2))?,
        provider_slash: frame.load(field(base, 3))?,
        challenger_bps: challenger_bps as u16,
    })
}

/// Sets the challenge parameters (for governance); refuses a zero window,
/// a window over a year or a share over 10,000 bps.
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: ChallengeParams) -> Result<()> {
    if new.window_seconds == 0 || new.window_seconds > 365 * 86_400 {
        revert!("the challenge window must be 1 s to 365 days; {} s given", new.window_seconds);
    }
    if new.challenger_bps > super::BPS_WHOLE {
        revert!("the challenger's share is {} bps; at most 10000", new.challenger_bps);
    }
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(field(base, 1), pack([new.window_seconds, u64::from(new.challenger_bps), 0, 0]))?;
    frame.store(field(base, 2), new.bond)?;
    frame.store(field(base, 3), new.provider_slash)
}

/// The judged challenge of `inference`, if any.
pub fn judged<S: StateView>(frame: &mut Frame<'_, S>, inference: u64) -> Result<Option<Judged>> {
    let base = challenge_slot(inference);
    let [outcome, block, ..] = unpack(frame.load(base)?);
    let outcome = match outcome {
        1 => Outcome::Upheld,
        2 => Outcome::Rejected,
        _ => return Ok(None),
    };
    Ok(Some(Judged {
        outcome,
        challenger: frame.load_address(field(base, 1))?,
        block,
        slashed: frame.load(field(base, 2))?,
    }))
}

/// The attribution vector a provider settles for attribution shares
/// (contribution id, basis points): ascending ids, zero-weight entries left
/// out. Providers and challenges build it the same way.
pub fn settlement_vector(shares: impl IntoIterator<Item = (u64, u16)>) -> Vec<(u64, u16)> {
    let mut vector: Vec<(u64, u16)> = shares.into_iter().filter(|(_, bps)| *bps > 0).collect();
    vector.sort_unstable_by_key(|(id, _)| *id);
    vector
}

/// Judges a challenge of `inference_id` by the caller, who submits the
/// `output` text and the `settled` attribution vector. Returns the outcome.
pub fn challenge<S: StateView>(
    frame: &mut Frame<'_, S>,
    inference_id: u64,
    output: &str,
    settled: &[Attributed],
) -> Result<Outcome> {
    let challenger = frame.env.caller;
    let Some(record) = inference(frame, inference_id)? else {
        revert!("inference {inference_id} does not exist")
    };
    if judged(frame, inference_id)?.is_some() {
        revert!("inference {inference_id} has already been challenged");
    }
    let settled_at = frame.load_u64(field(inference_slot(inference_id), 9))?;
    let params = params(frame)?;
    let now = frame.env.block.timestamp;
    if now > settled_at.saturating_add(params.window_seconds) {
        revert!(
            "the challenge window of inference {inference_id} closed at {} (block time is {now})",
            settled_at.saturating_add(params.window_seconds)
        );
    }
    if output.len() > MAX_OUTPUT {
        revert!("the output is {} bytes; at most {MAX_OUTPUT} allowed", output.len());
    }
    frame.gas.charge(gas::HASH_WORD * (output.len() as u64).div_ceil(32))?;
    let output_hash = B256::from(<[u8; 32]>::from(Sha256::digest(output.as_bytes())));
    if output_hash != record.outputHash {
        revert!(
            "the output's sha256 is {output_hash}; inference {inference_id} settled output {}",
            record.outputHash
        );
    }
    frame.gas.charge(gas::HASH_WORD * 2 * settled.len() as u64)?;
    if attribution_hash(settled) != record.attributionHash {
        revert!("the attribution given is not the one inference {inference_id} settled");
    }
    for entry in settled {
        frame.gas.charge(gas::LOAD)?;
        if DatanetsReader::new(&frame.state).status(entry.contributionId)? == Status::Withdrawn {
            revert!(
                "contribution {} was withdrawn after inference {inference_id} settled; \
                 its attribution can no longer be judged",
                entry.contributionId
            );
        }
    }
    let available = vesting::balance_at(&frame.state, &challenger, now)?.spendable;
    if available < params.bond {
        revert!("{challenger} can spend {available} wei; a challenge bond is {} wei", params.bond);
    }

    let recomputed = recompute(frame, &record, output)?;
    let outcome = if attribution_hash(&recomputed) == record.attributionHash {
        move_balance(frame, challenger, record.provider, params.bond)?;
        record_judged(frame, inference_id, Outcome::Rejected, challenger, U256::ZERO)?;
        emit(
            frame,
            IInference::ChallengeRejected {
                inferenceId: inference_id,
                challenger,
                provider: record.provider,
                bond: params.bond,
            },
        )?;
        Outcome::Rejected
    } else {
        let slashed = slash_provider(frame, record.provider, params.provider_slash)?;
        let contributors_part = frame.load(field(inference_slot(inference_id), 10))?;
        let paid = pay_contributors(
            frame,
            inference_id,
            record.modelId,
            record.datanetId,
            &recomputed,
            contributors_part.min(slashed),
        )?;
        let rest = slashed - paid;
        let reward = rest * U256::from(params.challenger_bps) / U256::from(super::BPS_WHOLE);
        move_balance(frame, TREASURY, challenger, reward)?;
        record_judged(frame, inference_id, Outcome::Upheld, challenger, slashed)?;
        emit(
            frame,
            IInference::ChallengeUpheld {
                inferenceId: inference_id,
                challenger,
                provider: record.provider,
                slashed,
                recomputedAttributionHash: attribution_hash(&recomputed),
            },
        )?;
        Outcome::Upheld
    };
    Ok(outcome)
}

/// Recomputes the attribution of `output` from the record's recorded index,
/// through the content source; reverts when this node cannot.
fn recompute<S: StateView>(
    frame: &mut Frame<'_, S>,
    record: &super::Inference,
    output: &str,
) -> Result<Vec<Attributed>> {
    frame.gas.charge(gas::LOAD * 2)?;
    let Some(version) =
        DatanetsReader::new(&frame.state).version(record.datanetId, record.version)?
    else {
        revert!("datanet {} has no version {}", record.datanetId, record.version)
    };
    frame.gas.charge(RECOMPUTE_BASE_GAS + RECOMPUTE_BYTE_GAS * output.len() as u64)?;
    let request = AttributionRequest {
        datanet: record.datanetId,
        version: record.version,
        index_hash: record.indexHash,
        tokenizer: &version.tokenizer,
        output,
    };
    let content = frame.env.content;
    let state = &frame.state;
    let mut reads = 0u64;
    let failure: std::cell::RefCell<Option<CallError>> = std::cell::RefCell::new(None);
    let mut withdrawn = |id: u64| {
        reads += 1;
        match DatanetsReader::new(state).status(id) {
            Ok(status) => status == Status::Withdrawn,
            Err(error) => {
                failure.borrow_mut().get_or_insert(error);
                false
            }
        }
    };
    // Read only by a node that must build the index first, so not charged:
    // the gas of a challenge is the same on every node.
    let mut members = || match DatanetsReader::new(state)
        .version_member_records(record.datanetId, record.version)
    {
        Ok(members) => members,
        Err(error) => {
            failure.borrow_mut().get_or_insert(error);
            None
        }
    };
    let result = content.attribution(&request, &mut withdrawn, &mut members);
    if let Some(error) = failure.into_inner() {
        return Err(error);
    }
    frame.gas.charge(reads.saturating_mul(gas::LOAD))?;
    match result {
        Ok(vector) => {
            Ok(vector.into_iter().map(|(id, bps)| Attributed { contributionId: id, bps }).collect())
        }
        Err(problem) => revert!("the attribution cannot be recomputed: {problem}"),
    }
}

/// Slashes up to `most` of the provider's stake to the treasury and returns
/// what was slashed. A provider that is a registered agent's key loses its
/// operator's bond to the agent (through the agents contract, which also
/// jails it); any other provider its self-bond. Bonded stake goes first,
/// then unbonding stake.
fn slash_provider<S: StateView>(
    frame: &mut Frame<'_, S>,
    provider: Address,
    most: U256,
) -> Result<U256> {
    frame.gas.charge(gas::LOAD * 3)?;
    let agent = match AgentsReader::new(&frame.state).agent_id_of(provider)? {
        Some(id) => AgentsReader::new(&frame.state).agent(id)?.map(|a| (id, a.operator)),
        None => None,
    };
    let staker = agent.map_or(provider, |(_, operator)| operator);
    let mut stake = StakingReader::new(&frame.state);
    let held = stake.bonded(staker, provider)? + stake.unbonding(staker, provider)?;
    let amount = most.min(held);
    match agent {
        Some((id, _)) => {
            agents::slash(frame, id, amount, None, JailReason::AttributionChallenge)?;
        }
        None if !amount.is_zero() => {
            staking::slash(frame, provider, provider, amount, None)?;
        }
        None => {}
    }
    Ok(amount)
}

/// Credits `amount`, moved from the treasury, to the contributors of
/// `attribution` by its weights, leaving out contributors whose rewards in
/// the datanet are cut by their penalty score (to the datanet's owner when
/// no one is left); rounding dust stays in the treasury. Returns what was
/// credited.
fn pay_contributors<S: StateView>(
    frame: &mut Frame<'_, S>,
    inference_id: u64,
    model: u64,
    datanet: u64,
    attribution: &[Attributed],
    amount: U256,
) -> Result<U256> {
    if amount.is_zero() {
        return Ok(U256::ZERO);
    }
    let mut weights = Vec::with_capacity(attribution.len());
    for entry in attribution {
        frame.gas.charge(gas::LOAD * 3)?;
        let Some(contribution) =
            DatanetsReader::new(&frame.state).contribution(entry.contributionId)?
        else {
            revert!("recomputed attribution names unknown contribution {}", entry.contributionId)
        };
        weights.push((contribution.contributor, entry.bps));
    }
    // Divided as a settlement divides its contributors' part.
    leave_out_cut(frame, datanet, &mut weights)?;
    let (credits, role) = if weights.is_empty() {
        frame.gas.charge(gas::LOAD)?;
        let owner = DatanetsReader::new(&frame.state).owner(datanet)?;
        (vec![(owner, amount)], Role::DatanetOwner)
    } else {
        (split::divide(amount, &weights), Role::Contributor)
    };
    let paid = credits.iter().fold(U256::ZERO, |sum, (_, amount)| sum + amount);
    move_balance(frame, TREASURY, INFERENCE, paid)?;
    for (account, share) in credits {
        credit(frame, inference_id, model, account, role, Some(datanet), share)?;
    }
    Ok(paid)
}

fn record_judged<S: StateView>(
    frame: &mut Frame<'_, S>,
    inference: u64,
    outcome: Outcome,
    challenger: Address,
    slashed: U256,
) -> Result<()> {
    let base = challenge_slot(inference);
    frame.store(base, pack([outcome as u64, frame.env.block.number, 0, 0]))?;
    frame.store_address(field(base, 1), challenger)?;
    frame.store(field(base, 2), slashed)
}

#[cfg(test)]
mod tests;
