//! `ol_` methods that read staking (`contracts/IStaking.sol`).
//!
//! `ol_getStaking(account, block?)` answers "what has this account staked,
//! where, what is waiting to unbond and when, what can it claim, and how
//! does it vote"; `ol_stakingInfo(block?)` gives the totals, the governed
//! parameters and the reward pool (with its undistributed dust);
//! `ol_validatorSet(block?)` the active validator set of the epoch the block
//! is in, with the epoch and each member's consensus key, moniker and power.

use super::{
    RpcContext,
    datanet::read_error,
    eth::{Positional, state_at},
};
use alloy_primitives::{Address, B256, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::staking::{StakingReader, Unbonding};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// One unbonding entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbondingJson {
    /// Wei waiting.
    pub amount: U256,
    /// Block time (unix seconds) from which it can be withdrawn.
    pub completes_at: U64,
}

impl From<Unbonding> for UnbondingJson {
    fn from(entry: Unbonding) -> Self {
        Self { amount: entry.amount, completes_at: U64::from(entry.completesAt) }
    }
}

/// One (staker, validator) position.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionJson {
    /// Where the stake is bonded.
    pub validator: Address,
    /// Bonded wei: earning and voting.
    pub bonded: U256,
    /// All its unbonding entries together.
    pub unbonding_total: U256,
    /// The entries, oldest first.
    pub unbonding: Vec<UnbondingJson>,
    /// What `claimRewards(validator)` would pay now.
    pub pending_rewards: U256,
}

/// An account's staking.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakingJson {
    /// The account.
    pub account: Address,
    /// Every validator it ever bonded to, in the order it first did.
    pub positions: Vec<PositionJson>,
    /// All it has bonded.
    pub bonded: U256,
    /// Votes that count for it now (its own unless it delegated, plus those delegated to it).
    pub votes: U256,
    /// Who its own votes count for.
    pub delegate: Address,
    /// Stake bonded to it as a validator.
    pub validator_stake: U256,
}

/// The governed parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakingParamsJson {
    /// Seconds from unstaking until withdrawal.
    pub unbonding_seconds: U64,
    /// The reporter's share of a slash, in basis points.
    pub slash_reporter_bps: U64,
}

/// Staking as a whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakingInfoJson {
    /// All bonded stake (and all votes).
    pub total_bonded: U256,
    /// All unbonding stake.
    pub total_unbonding: U256,
    /// The governed parameters.
    pub params: StakingParamsJson,
    /// Rewards ever distributed to stakers.
    pub distributed: U256,
    /// Rewards ever claimed.
    pub claimed: U256,
    /// Distributed while nothing was bonded; joins the next distribution.
    pub queued: U256,
    /// What no position can claim yet: `queued` plus rounding dust.
    pub undistributed: U256,
    /// Accounts that ever staked.
    pub stakers: U64,
}

/// One member of the active validator set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorJson {
    /// The operator: the address its stake is bonded to.
    pub operator: Address,
    /// Its ed25519 consensus public key.
    pub consensus_key: B256,
    /// Its display name.
    pub moniker: String,
    /// Voting power: whole OPEN bonded to it.
    pub power: U64,
}

/// The active validator set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorSetJson {
    /// How many times the set was chosen (0 before any validator).
    pub epoch: U64,
    /// The first block the set applies to.
    pub start_block: U64,
    /// Blocks per epoch (governed).
    pub epoch_blocks: U64,
    /// The members, largest stake first.
    pub validators: Vec<ValidatorJson>,
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getStaking", |params, ctx, _| get_staking(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_stakingInfo", |params, ctx, _| info(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_validatorSet", |params, ctx, _| validator_set(params, &ctx))
        .expect("registered once");
}

fn validator_set(params: Params<'_>, ctx: &RpcContext) -> RpcResult<ValidatorSetJson> {
    let mut p = Positional::new(params, "ol_validatorSet")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = StakingReader::new(&state);
    let epoch = reader.epoch().map_err(read_error)?;
    let epoch_blocks = reader.validator_params().map_err(read_error)?.epoch_blocks;
    let mut validators = Vec::new();
    for member in reader.active_validators().map_err(read_error)? {
        let moniker = reader
            .validator_info(member.operator)
            .map_err(read_error)?
            .map(|info| info.moniker)
            .unwrap_or_default();
        validators.push(ValidatorJson {
            operator: member.operator,
            consensus_key: member.consensus_key,
            moniker,
            power: U64::from(member.power),
        });
    }
    Ok(ValidatorSetJson {
        epoch: U64::from(epoch.number),
        start_block: U64::from(epoch.start_block),
        epoch_blocks: U64::from(epoch_blocks),
        validators,
    })
}

fn get_staking(params: Params<'_>, ctx: &RpcContext) -> RpcResult<StakingJson> {
    let mut p = Positional::new(params, "ol_getStaking")?;
    let account: Address = p.required("account")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = StakingReader::new(&state);
    let positions = reader.positions(account).map_err(read_error)?;
    let bonded = positions.iter().fold(U256::ZERO, |sum, p| sum + p.bonded);
    let positions = positions
        .into_iter()
        .map(|p| PositionJson {
            validator: p.validator,
            bonded: p.bonded,
            unbonding_total: p.unbonding.iter().fold(U256::ZERO, |sum, e| sum + e.amount),
            unbonding: p.unbonding.into_iter().map(Into::into).collect(),
            pending_rewards: p.pending_rewards,
        })
        .collect();
    Ok(StakingJson {
        account,
        positions,
        bonded,
        votes: reader.votes(account).map_err(read_error)?,
        delegate: reader.delegates(account).map_err(read_error)?,
        validator_stake: reader.validator_stake(account).map_err(read_error)?,
    })
}

fn info(params: Params<'_>, ctx: &RpcContext) -> RpcResult<StakingInfoJson> {
    let mut p = Positional::new(params, "ol_stakingInfo")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = StakingReader::new(&state);
    let params = reader.params().map_err(read_error)?;
    let pool = reader.reward_pool().map_err(read_error)?;
    Ok(StakingInfoJson {
        total_bonded: reader.total_bonded().map_err(read_error)?,
        total_unbonding: reader.total_unbonding().map_err(read_error)?,
        params: StakingParamsJson {
            unbonding_seconds: U64::from(params.unbonding_seconds),
            slash_reporter_bps: U64::from(params.slash_reporter_bps),
        },
        distributed: pool.distributed,
        claimed: pool.claimed,
        queued: pool.queued,
        undistributed: reader.undistributed().map_err(read_error)?,
        stakers: U64::from(reader.stakers().map_err(read_error)?.len()),
    })
}
