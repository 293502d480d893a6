//! Staking: bonded and unbonding OPEN, the stakers' reward pool, voting power.
//!
//! The rules of the `IStaking` system contract (`contracts/IStaking.sol`) at
//! [`STAKING`], which holds every bonded and unbonding wei and the rewards
//! not yet claimed. An account bonds its spendable OPEN (never vesting-locked
//! OPEN) to a validator, provider or agent address ([`bond`]); unbonding
//! ([`begin_unbonding`]) stops earning and voting at once and matures after
//! the governed `unbonding_seconds` (7 days by default), slashable until
//! withdrawn; at most [`MAX_UNBONDING_ENTRIES`] wait per position.
//!
//! Rewards ([`distribute`]) are spread pro rata over all bonded stake by a
//! reward-per-token accumulator scaled by [`PRECISION`] (1e36): a
//! distribution of `a` wei over `T` bonded wei adds `⌊(a·1e36 + r) / T⌋`
//! and keeps the division's remainder as the new `r`, so the accumulator
//! itself loses nothing. With nothing bonded the amount is queued and joins
//! the next distribution. Each position (staker, validator) earns
//! `bonded × Δaccumulator` (1e-36 wei) while bonded, settled into its
//! `credit` whenever its bond changes. **Rounding**: a position can claim
//! `⌊credit / 1e36⌋` wei (rounded down); the fraction below one wei stays in
//! its credit for its next claim, never lost. What no position can claim
//! yet — the positions' fractions plus the accumulator's remainder, under
//! one wei each — and anything queued is the pool's undistributed dust
//! ([`StakingReader::undistributed`]), so at every moment
//! `Σ claimed + Σ claimable + undistributed = Σ distributed` exactly.
//! Every product stays far below 2^256: the supply is 1e27 < 2^90 wei and
//! the accumulator grows by at most 1e36 per distributed wei.
//!
//! Voting power: an account's units are all the OPEN it has
//! bonded; they count for itself until it delegates them; checkpoints are
//! keyed by block timestamp (ERC-6372 `mode=timestamp`).
//!
//! Slashing ([`slash`]) is called by other modules only, never over ABI.
//!
//! Validators ([`validators`]): an operator (the address stakers bond to)
//! registers its ed25519 consensus key and a moniker; the first
//! registration needs `min_validator_stake` already bonded to it, which
//! makes registering many empty validators (each read at every epoch
//! boundary) cost locked stake. A key belongs to one operator at a time and
//! changes only while its operator is out of the active set, so the set's
//! keys never change within an epoch. At the end of every block whose
//! number is a multiple of `epoch_blocks` ([`end_block`], called by the
//! block executor) the active set is recomputed to apply from the next
//! block: registered, unjailed, stake ≥ `min_validator_stake` and ≥ 1 OPEN,
//! the `max_validators` largest stakes (ties: the lower address); voting
//! power = stake in whole OPEN, rounded down (the supply, 1e9 OPEN, fits a
//! u64; saturating regardless). If nothing qualifies the previous set stays.
//! A double-sign ([`slash_equivocation`]) slashes `double_sign_slash_bps` of
//! each position at the validator (bonded + unbonding, rounded down per
//! position), jails it for `jail_seconds` and is refused a second time for
//! the same (operator, height), and for any height while the validator is
//! still jailed (one double sign, one slash: a tombstone, as Cosmos does).
//! The set is recomputed at the end of the block that jailed it, so the
//! double-signer stops counting from the next block; it may return once
//! block time passes `jailed_until`. A consensus key stays bound to the
//! operator that registered it even after that operator rotates to a new
//! key, so evidence of what the old key signed still reaches it and no one
//! else can take the key up.
//!
//! Double-sign evidence ([`double_sign`]): anyone proves a double sign with
//! an ordinary `reportDoubleSign` transaction: a consensus key and two
//! votes it signed of one kind, height and round for different values
//! (nil and a block differ), with both ed25519 signatures. The ledger
//! rebuilds each vote's sign bytes
//! ([`ol_primitives::consensus::VoteContent::sign_bytes`], under this
//! chain's id, the voter address derived from the key) and verifies both
//! signatures under ZIP-215 (`ed25519-consensus`: the same verdict on
//! every node). The key must be registered (its operator is punished) and
//! the height at most the current block number and at most
//! `evidence_max_age_blocks` (100,800 by default) behind it. Then
//! [`slash_equivocation`] runs with the caller as reporter and, as evidence
//! hash, keccak256 of the two `sign bytes ‖ signature` strings, the lesser
//! first (the same whichever order the votes come in). Any failed check
//! reverts, changing nothing. A validator reporting itself gets no
//! reporter share (all of its slash goes to the treasury). The node builds
//! the calldata with [`report_double_sign_call`].
//!
//! Storage:
//! - `params` + 0 set flag, + 1 packed (unbonding seconds, reporter bps)
//! - `pool` + 0 total bonded, + 1 total unbonding, + 2 reward per token
//!   (×1e36), + 3 accumulator remainder, + 4 queued, + 5 distributed ever,
//!   + 6 claimed ever
//! - `position[staker, validator]` + 0 bonded, + 1 unbonding, + 2 reward
//!   per token at the last settlement, + 3 credit (1e-36 wei), + 4 packed
//!   (unbonding entries, listed flag)
//! - `unbonding[staker, validator, n]` (n < 16, oldest first) → `amount <<
//!   64 | completes at`
//! - `validator[validator]` → stake bonded to it
//! - `stakers` → count, `stakers.at[n]` → every account that ever bonded;
//!   `validators[staker]` → count, `validators.at[staker, n]` → validators
//!   it ever bonded to
//! - `units[account]` → its bonded OPEN; `delegate[account]` → delegatee
//!   (zero: itself)
//! - `votes[account]` → checkpoint count, `votes.at[account, n]` and
//!   `supply` / `supply.at[n]` (the total) → `value << 64 | timestamp`
//! - `stakers.of[validator]` → count, `stakers.of.at[validator, n]` →
//!   every staker that ever bonded to it (the positions a double-sign slashes)
//! - `validator.params` + 0 set flag, + 1 packed (epoch blocks, max
//!   validators, double-sign bps, jail seconds), + 2 min validator stake,
//!   + 3 evidence max age in blocks (zero: the default)
//! - `validator.info[operator]` + 0 consensus key, + 1 packed (jailed until,
//!   registered, active), + 2 moniker (bytes); `validator.key[key]` → its
//!   operator; `registered` → count, `registered.at[n]` → operators in
//!   registration order
//! - `active` → size of the set, `active.at[n]` + 0 operator, + 1 power
//!   (largest stake first); `epoch` → packed (number, first block)
//! - `equivocation[operator, height]` → the evidence hash punished

mod bonds;
pub mod double_sign;
mod records;
mod rewards;
pub mod validators;
mod votes;

use crate::{
    revert,
    state::StateView,
    system::{self, CallError, Frame},
};
use IStaking::IStakingCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48, uint};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
pub use ol_primitives::addresses::STAKING;
use records::{Pool, Position as StoredPosition};
use votes::History;

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IStaking.sol"
);

pub use IStaking::{RewardPool, Unbonding};
pub use double_sign::{DoubleSign, EvidenceError, SignedVote, report_double_sign_call};
pub use validators::{ActiveValidator, Epoch, Equivocation, ValidatorInfo, ValidatorParams};

type Result<T> = std::result::Result<T, CallError>;

/// The scale of the reward-per-token accumulator.
pub const PRECISION: U256 = uint!(1_000_000_000_000_000_000_000_000_000_000_000_000_U256);
/// Most unbonding entries waiting per (staker, validator).
pub const MAX_UNBONDING_ENTRIES: u64 = 16;
/// Longest unbonding period governance may set: 365 days.
pub const MAX_UNBONDING_SECONDS: u64 = 365 * 24 * 3600;
/// Basis points of a whole.
pub const BPS_WHOLE: u16 = 10_000;
/// ERC-6372 clock mode.
pub const CLOCK_MODE: &str = "mode=timestamp";

/// Governable staking parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Seconds from `unstake` until the entry can be withdrawn.
    pub unbonding_seconds: u64,
    /// The reporter's share of a slash, in basis points.
    pub slash_reporter_bps: u16,
    /// The stakers' share of each block's base fees, in basis points (the
    /// rest stays with the treasury).
    pub base_fee_stakers_bps: u16,
}

impl Default for Params {
    /// 7 days of unbonding; half of a slash to its reporter; base fees all
    /// to the treasury.
    fn default() -> Self {
        Self {
            unbonding_seconds: 7 * 24 * 3600,
            slash_reporter_bps: 5_000,
            base_fee_stakers_bps: 0,
        }
    }
}

/// What a slash took, and where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slashed {
    /// Taken from the bonded stake.
    pub from_bonded: U256,
    /// Taken from unbonding entries (newest first).
    pub from_unbonding: U256,
    /// Paid to the reporter.
    pub to_reporter: U256,
    /// Paid to the treasury.
    pub to_treasury: U256,
}

/// One (staker, validator) position, for readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Where the stake is bonded.
    pub validator: Address,
    /// Bonded: earning and voting.
    pub bonded: U256,
    /// Waiting entries, oldest first.
    pub unbonding: Vec<Unbonding>,
    /// What claiming would pay now.
    pub pending_rewards: U256,
}

fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

/// Sets the staking parameters (for governance); refuses an unbonding
/// period of zero or over [`MAX_UNBONDING_SECONDS`] and a reporter share
/// over 10,000 bps.
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    frame.at(STAKING, |frame| {
        if new.unbonding_seconds == 0 || new.unbonding_seconds > MAX_UNBONDING_SECONDS {
            revert!(
                "the unbonding period must be 1 to {MAX_UNBONDING_SECONDS} seconds, not {}",
                new.unbonding_seconds
            );
        }
        if new.slash_reporter_bps > BPS_WHOLE {
            revert!(
                "the slash reporter share must be at most {BPS_WHOLE} bps, not {}",
                new.slash_reporter_bps
            );
        }
        if new.base_fee_stakers_bps > BPS_WHOLE {
            revert!(
                "the stakers' share of base fees must be at most {BPS_WHOLE} bps, not {}",
                new.base_fee_stakers_bps
            );
        }
        records::store_params(frame, new)?;
        emit(
            frame,
            IStaking::ParamsChanged {
                unbondingSeconds: new.unbonding_seconds,
                slashReporterBps: new.slash_reporter_bps,
                baseFeeStakersBps: new.base_fee_stakers_bps,
            },
        )
    })
}

/// Runs one ABI-encoded call against the staking contract.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = system::decode_call("IStaking", input)?;
    frame.at(STAKING, |frame| run(frame, call))
}

fn run<S: StateView>(frame: &mut Frame<'_, S>, call: Call) -> Result<Bytes> {
    let caller = frame.env.caller;
    let output = match call {
        Call::stake(c) => {
            bonds::bond(frame, caller, c.validator, c.amount)?;
            Vec::new()
        }
        Call::unstake(c) => IStaking::unstakeCall::abi_encode_returns(&bonds::begin_unbonding(
            frame,
            caller,
            c.validator,
            c.amount,
        )?),
        Call::withdrawUnbonded(c) => bonds::withdraw(frame, caller, c.validator)?.abi_encode(),
        Call::claimRewards(c) => rewards::claim(frame, caller, c.validator)?.abi_encode(),
        Call::delegate(c) => {
            votes::delegate(frame, caller, c.delegatee)?;
            Vec::new()
        }
        Call::setParams(c) => {
            system::only_governance(frame, "IStaking.setParams")?;
            set_params(
                frame,
                Params {
                    unbonding_seconds: c.params.unbondingSeconds,
                    slash_reporter_bps: c.params.slashReporterBps,
                    base_fee_stakers_bps: c.params.baseFeeStakersBps,
                },
            )?;
            Vec::new()
        }
        Call::registerValidator(c) => {
            validators::register(frame, caller, c.consensusKey, &c.moniker)?;
            Vec::new()
        }
        Call::setValidatorParams(c) => {
            system::only_governance(frame, "IStaking.setValidatorParams")?;
            let p = c.params;
            validators::set_params(
                frame,
                ValidatorParams {
                    epoch_blocks: p.epochBlocks,
                    min_validator_stake: p.minValidatorStake,
                    max_validators: p.maxValidators,
                    double_sign_slash_bps: p.doubleSignSlashBps,
                    jail_seconds: p.jailSeconds,
                    evidence_max_age_blocks: p.evidenceMaxAgeBlocks,
                },
            )?;
            Vec::new()
        }
        Call::reportDoubleSign(c) => {
            let evidence = match DoubleSign::from_call(&c) {
                Ok(evidence) => evidence,
                Err(problem) => revert!("{problem}"),
            };
            let outcome = validators::report_double_sign(frame, caller, &evidence)?;
            IStaking::reportDoubleSignCall::abi_encode_returns(&IStaking::reportDoubleSignReturn {
                slashed: outcome.slashed,
                jailedUntil: outcome.jailed_until,
            })
        }
        Call::validatorParams(_) => {
            let p = validators::params(frame)?;
            IStaking::validatorParamsCall::abi_encode_returns(&IStaking::ValidatorParams {
                epochBlocks: p.epoch_blocks,
                minValidatorStake: p.min_validator_stake,
                maxValidators: p.max_validators,
                doubleSignSlashBps: p.double_sign_slash_bps,
                jailSeconds: p.jail_seconds,
                evidenceMaxAgeBlocks: p.evidence_max_age_blocks,
            })
        }
        Call::validatorInfo(c) => {
            let info = validators::info(frame, &c.operator)?.unwrap_or(ValidatorInfo {
                consensus_key: B256::ZERO,
                moniker: String::new(),
                jailed_until: 0,
                active: false,
            });
            IStaking::validatorInfoCall::abi_encode_returns(&IStaking::validatorInfoReturn {
                consensusKey: info.consensus_key,
                moniker: info.moniker,
                jailedUntil: info.jailed_until,
                active: info.active,
            })
        }
        Call::validatorSet(_) => {
            let set = validators::active_set(frame)?;
            IStaking::validatorSetCall::abi_encode_returns(&IStaking::validatorSetReturn {
                operators: set.iter().map(|v| v.operator).collect(),
                keys: set.iter().map(|v| v.consensus_key).collect(),
                powers: set.iter().map(|v| U256::from(v.power)).collect(),
            })
        }
        Call::epoch(_) => {
            let epoch = validators::epoch(frame)?;
            IStaking::epochCall::abi_encode_returns(&IStaking::epochReturn {
                number: epoch.number,
                startBlock: epoch.start_block,
            })
        }
        Call::params(_) => {
            let p = records::params(frame)?;
            IStaking::paramsCall::abi_encode_returns(&IStaking::Params {
                unbondingSeconds: p.unbonding_seconds,
                slashReporterBps: p.slash_reporter_bps,
                baseFeeStakersBps: p.base_fee_stakers_bps,
            })
        }
        Call::bonded(c) => {
            StoredPosition::load(frame, &c.staker, &c.validator)?.bonded.abi_encode()
        }
        Call::unbondingOf(c) => {
            StoredPosition::load(frame, &c.staker, &c.validator)?.unbonding.abi_encode()
        }
        Call::unbondingEntries(c) => IStaking::unbondingEntriesCall::abi_encode_returns(
            &unbonding_entries(frame, c.staker, c.validator)?,
        ),
        Call::pendingRewards(c) => {
            let position = StoredPosition::load(frame, &c.staker, &c.validator)?;
            rewards::pending(frame, &position)?.abi_encode()
        }
        Call::positionsOf(c) => {
            let positions = positions(frame, c.staker)?
                .into_iter()
                .map(|p| IStaking::Position {
                    validator: p.validator,
                    bonded: p.bonded,
                    unbonding: p.unbonding.iter().fold(U256::ZERO, |sum, e| sum + e.amount),
                    pendingRewards: p.pending_rewards,
                })
                .collect::<Vec<_>>();
            IStaking::positionsOfCall::abi_encode_returns(&positions)
        }
        Call::validatorStake(c) => frame.load(records::validator_slot(&c.validator))?.abi_encode(),
        Call::totalBonded(_) => Pool::TotalBonded.load(frame)?.abi_encode(),
        Call::totalUnbonding(_) => Pool::TotalUnbonding.load(frame)?.abi_encode(),
        Call::rewardPool(_) => IStaking::rewardPoolCall::abi_encode_returns(&rewards::pool(frame)?),
        Call::undistributed(_) => rewards::undistributed(frame)?.abi_encode(),
        Call::getVotes(c) => votes::latest(frame, History::Votes(c.account))?.abi_encode(),
        Call::getPastVotes(c) => {
            let timepoint = past_timepoint(frame, c.timepoint)?;
            votes::past(frame, History::Votes(c.account), timepoint)?.abi_encode()
        }
        Call::getPastTotalSupply(c) => {
            let timepoint = past_timepoint(frame, c.timepoint)?;
            votes::past(frame, History::Total, timepoint)?.abi_encode()
        }
        Call::delegates(c) => votes::delegates(frame, c.account)?.abi_encode(),
        Call::clock(_) => IStaking::clockCall::abi_encode_returns(&U48::saturating_from(
            frame.env.block.timestamp,
        )),
        Call::CLOCK_MODE(_) => {
            IStaking::CLOCK_MODECall::abi_encode_returns(&CLOCK_MODE.to_string())
        }
    };
    Ok(output.into())
}

/// A timepoint for a past lookup: only a time before this block's is final.
fn past_timepoint<S: StateView>(frame: &Frame<'_, S>, timepoint: U256) -> Result<u64> {
    let now = frame.env.block.timestamp;
    if timepoint >= U256::from(now) {
        revert!("timepoint {timepoint} is not in the past (block time is {now})");
    }
    Ok(timepoint.to::<u64>())
}

fn unbonding_entries<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
) -> Result<Vec<Unbonding>> {
    let count = StoredPosition::load(frame, &staker, &validator)?.entries;
    Ok(records::entries(frame, &staker, &validator, count)?
        .into_iter()
        .map(|e| Unbonding { amount: e.amount, completesAt: e.completes_at })
        .collect())
}

fn positions<S: StateView>(frame: &mut Frame<'_, S>, staker: Address) -> Result<Vec<Position>> {
    let mut out = Vec::new();
    for validator in records::validators_of(frame, &staker)? {
        let stored = StoredPosition::load(frame, &staker, &validator)?;
        out.push(Position {
            validator,
            bonded: stored.bonded,
            unbonding: unbonding_entries(frame, staker, validator)?,
            pending_rewards: rewards::pending(frame, &stored)?,
        });
    }
    Ok(out)
}

/// Moves `amount` wei from `from` (a system account that holds it, e.g. the
/// inference contract) to the staking pool and distributes it pro rata to
/// all bonded stake through the reward-per-share accumulator. With nothing
/// bonded it waits in the pool and joins the next distribution.
pub fn distribute<S: StateView>(
    frame: &mut Frame<'_, S>,
    from: Address,
    amount: U256,
) -> Result<()> {
    if amount.is_zero() {
        return Ok(());
    }
    if from == STAKING {
        revert!("the staking pool cannot distribute to itself");
    }
    system::move_balance(frame, from, STAKING, amount)?;
    frame.at(STAKING, |frame| rewards::add(frame, from, amount))
}

/// Routes the governed stakers' share of a block's `base_fees` (already
/// credited to the treasury) from the treasury to the stakers' pool. The
/// block's executor calls it once per block; with the default share of 0 it
/// changes nothing.
pub fn route_base_fees<S: StateView>(frame: &mut Frame<'_, S>, base_fees: U256) -> Result<()> {
    let bps = frame.at(STAKING, records::params)?.base_fee_stakers_bps;
    let share = base_fees * U256::from(bps) / U256::from(BPS_WHOLE);
    distribute(frame, ol_primitives::addresses::TREASURY, share)
}

/// Bonds `amount` of `staker`'s spendable OPEN to `validator` (a validator,
/// provider or agent). Refuses more than `staker` can spend.
pub fn bond<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
) -> Result<()> {
    frame.at(STAKING, |frame| bonds::bond(frame, staker, validator, amount))
}

/// Starts unbonding `amount` of `staker`'s bond to `validator`; it stops
/// earning and voting at once, stays slashable, and can be withdrawn at the
/// returned block time (unix seconds).
pub fn begin_unbonding<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
) -> Result<u64> {
    frame.at(STAKING, |frame| bonds::begin_unbonding(frame, staker, validator, amount))
}

/// Slashes `amount` of `staker`'s stake at `validator` (bonded first, then
/// unbonding entries), paying the governed reporter share to `reporter` (all
/// to the treasury without one). Reverts, changing nothing, when `amount`
/// is zero or more than that stake holds.
pub fn slash<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
    reporter: Option<Address>,
) -> Result<Slashed> {
    frame.at(STAKING, |frame| bonds::slash(frame, staker, validator, amount, reporter))
}

/// Sets the validator-set parameters (for governance and genesis); refuses
/// values outside [`ValidatorParams::check`].
pub fn set_validator_params<S: StateView>(
    frame: &mut Frame<'_, S>,
    new: ValidatorParams,
) -> Result<()> {
    frame.at(STAKING, |frame| validators::set_params(frame, new))
}

/// Registers `operator` as a validator with its ed25519 `consensus_key` and
/// `moniker` (or changes them), as `registerValidator` does for its caller.
pub fn register_validator<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: Address,
    consensus_key: B256,
    moniker: &str,
) -> Result<()> {
    frame.at(STAKING, |frame| validators::register(frame, operator, consensus_key, moniker))
}

/// Recomputes the active set now, to apply from `start_block` (genesis does
/// this once; blocks go through [`end_block`]).
pub fn recompute_validator_set<S: StateView>(
    frame: &mut Frame<'_, S>,
    start_block: u64,
) -> Result<()> {
    frame.at(STAKING, |frame| validators::recompute(frame, start_block))
}

/// The end of block `block`: at an epoch boundary (a multiple of
/// `epoch_blocks`), or when the block jailed a validator, the active set is
/// recomputed to apply from the next block. The block executor calls it
/// once per block, after its transactions.
pub fn end_block<S: StateView>(frame: &mut Frame<'_, S>, block: u64) -> Result<()> {
    frame.at(STAKING, |frame| validators::end_block(frame, block))
}

/// Punishes `operator` for signing two different values at consensus
/// `height` (`evidence_hash` names the evidence): slashes the governed
/// `double_sign_slash_bps` of every position bonded to it (bonded and
/// unbonding, each rounded down, the reporter share to `reporter` as in
/// [`slash`]), and jails it for `jail_seconds`; the active set is
/// recomputed at the end of the block, so it stops counting from the next
/// one. Refuses an unregistered operator, a zero evidence hash, an
/// (operator, height) already punished and a validator still jailed (one
/// double sign, one slash), changing nothing. It trusts its caller; the
/// `reportDoubleSign` transaction checks the two ed25519-signed votes
/// itself before it calls this.
pub fn slash_equivocation<S: StateView>(
    frame: &mut Frame<'_, S>,
    operator: Address,
    height: u64,
    evidence_hash: B256,
    reporter: Option<Address>,
) -> Result<Equivocation> {
    frame.at(STAKING, |frame| {
        validators::equivocation(frame, operator, height, evidence_hash, reporter)
    })
}

/// Read-only access to staking, for other modules, RPC and tools.
pub struct StakingReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for StakingReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StakingReader")
    }
}

impl<'a, S: StateView> StakingReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, STAKING) }
    }

    /// `staker`'s bonded stake at `validator`.
    pub fn bonded(&mut self, staker: Address, validator: Address) -> Result<U256> {
        Ok(StoredPosition::load(&mut self.frame, &staker, &validator)?.bonded)
    }

    /// `staker`'s unbonding (not yet withdrawn) stake at `validator`.
    pub fn unbonding(&mut self, staker: Address, validator: Address) -> Result<U256> {
        Ok(StoredPosition::load(&mut self.frame, &staker, &validator)?.unbonding)
    }

    /// All stake bonded to `validator`.
    pub fn validator_stake(&mut self, validator: Address) -> Result<U256> {
        self.frame.load(records::validator_slot(&validator))
    }

    /// All bonded stake.
    pub fn total_bonded(&mut self) -> Result<U256> {
        Pool::TotalBonded.load(&mut self.frame)
    }

    /// All unbonding stake.
    pub fn total_unbonding(&mut self) -> Result<U256> {
        Pool::TotalUnbonding.load(&mut self.frame)
    }

    /// Current voting power of `account` (stake delegated to it for votes).
    pub fn votes(&mut self, account: Address) -> Result<U256> {
        votes::latest(&mut self.frame, History::Votes(account))
    }

    /// Voting power of `account` at `timepoint` (unix seconds of block
    /// time; ERC-6372's timestamp clock): its value after the last block
    /// whose timestamp is at most `timepoint`. Meaningful (final) only for a
    /// timepoint before the current block's timestamp.
    pub fn past_votes(&mut self, account: Address, timepoint: u64) -> Result<U256> {
        votes::past(&mut self.frame, History::Votes(account), timepoint)
    }

    /// All voting power at `timepoint`, as [`Self::past_votes`].
    pub fn past_total_votes(&mut self, timepoint: u64) -> Result<U256> {
        votes::past(&mut self.frame, History::Total, timepoint)
    }

    /// Who `account`'s votes count for (itself until it delegates).
    pub fn delegates(&mut self, account: Address) -> Result<Address> {
        votes::delegates(&mut self.frame, account)
    }

    /// What `staker` could claim now from its position at `validator`.
    pub fn pending_rewards(&mut self, staker: Address, validator: Address) -> Result<U256> {
        let position = StoredPosition::load(&mut self.frame, &staker, &validator)?;
        rewards::pending(&mut self.frame, &position)
    }

    /// Every position `staker` ever held, in the order it first bonded.
    pub fn positions(&mut self, staker: Address) -> Result<Vec<Position>> {
        positions(&mut self.frame, staker)
    }

    /// Every account that ever bonded.
    pub fn stakers(&mut self) -> Result<Vec<Address>> {
        records::stakers(&mut self.frame)
    }

    /// The validator-set parameters.
    pub fn validator_params(&mut self) -> Result<ValidatorParams> {
        validators::params(&mut self.frame)
    }

    /// The current epoch's active set, largest stake first: what consensus
    /// uses for every block after the epoch's boundary.
    pub fn active_validators(&mut self) -> Result<Vec<ActiveValidator>> {
        validators::active_set(&mut self.frame)
    }

    /// `operator`'s validator record (`None`: never registered).
    pub fn validator_info(&mut self, operator: Address) -> Result<Option<ValidatorInfo>> {
        validators::info(&mut self.frame, &operator)
    }

    /// The current epoch.
    pub fn epoch(&mut self) -> Result<Epoch> {
        validators::epoch(&mut self.frame)
    }

    /// The staking parameters.
    pub fn params(&mut self) -> Result<Params> {
        records::params(&mut self.frame)
    }

    /// The rewards pool's totals and accumulator.
    pub fn reward_pool(&mut self) -> Result<RewardPool> {
        rewards::pool(&mut self.frame)
    }

    /// Rewards no position can claim yet: queued plus rounding dust.
    pub fn undistributed(&mut self) -> Result<U256> {
        rewards::undistributed(&mut self.frame)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod validator_tests;
