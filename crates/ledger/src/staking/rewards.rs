//! The stakers' reward pool: a reward-per-token accumulator over all bonded
//! stake, O(1) per distribution and per position update (the rounding rule
//! is in the module documentation of [`super`]).

use super::{
    IStaking, PRECISION, Result, emit,
    records::{self, Pool, Position},
};
use crate::{revert, state::StateView, system::Frame};
use alloy_primitives::{Address, U256};

/// Spreads `amount` (already held by this contract) and anything queued
/// over all bonded stake; with nothing bonded it is queued.
pub(super) fn add<S: StateView>(
    frame: &mut Frame<'_, S>,
    from: Address,
    amount: U256,
) -> Result<()> {
    let total = Pool::TotalBonded.load(frame)?;
    let distributed = Pool::Distributed.load(frame)?;
    Pool::Distributed.store(frame, distributed + amount)?;
    let queued = Pool::Queued.load(frame)?;
    if total.is_zero() {
        Pool::Queued.store(frame, queued + amount)?;
        return emit(
            frame,
            IStaking::RewardsDistributed {
                from,
                amount,
                totalBonded: total,
                queued: queued + amount,
            },
        );
    }
    Pool::Queued.store(frame, U256::ZERO)?;
    // (amount + queued) ≤ supply < 2^90 and remainder < total ≤ supply, so
    // the scaled numerator stays below 2^211.
    let numerator = (amount + queued) * PRECISION + Pool::Remainder.load(frame)?;
    let per_token = Pool::RewardPerToken.load(frame)?;
    Pool::RewardPerToken.store(frame, per_token + numerator / total)?;
    Pool::Remainder.store(frame, numerator % total)?;
    emit(
        frame,
        IStaking::RewardsDistributed { from, amount, totalBonded: total, queued: U256::ZERO },
    )
}

/// Moves what `position` earned since it was last settled into its credit.
/// Its bond is about to change (or it is claimed), so the accumulator's
/// current value becomes its new starting point.
pub(super) fn settle<S: StateView>(
    frame: &mut Frame<'_, S>,
    position: &mut Position,
) -> Result<()> {
    let per_token = Pool::RewardPerToken.load(frame)?;
    position.credit = credit_at(position, per_token);
    position.reward_per_token_paid = per_token;
    Ok(())
}

/// The position's credit (1e-36 wei) with the accumulator at `per_token`.
fn credit_at(position: &Position, per_token: U256) -> U256 {
    // bonded × Δaccumulator is at most everything distributed while it was
    // bonded, scaled: below 2^211.
    position.credit + position.bonded * (per_token - position.reward_per_token_paid)
}

/// What the position could claim now: its credit in whole wei, rounded down.
pub(super) fn pending<S: StateView>(frame: &mut Frame<'_, S>, position: &Position) -> Result<U256> {
    let per_token = Pool::RewardPerToken.load(frame)?;
    Ok(credit_at(position, per_token) / PRECISION)
}

/// Pays `staker` the whole wei of its credit at `validator`; the fraction
/// stays for its next claim.
pub(super) fn claim<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
) -> Result<U256> {
    let mut position = Position::load(frame, &staker, &validator)?;
    settle(frame, &mut position)?;
    let amount = position.credit / PRECISION;
    if amount.is_zero() {
        revert!("{staker} has no rewards to claim from its stake at {validator}");
    }
    position.credit %= PRECISION;
    position.store(frame, &staker, &validator)?;
    let claimed = Pool::Claimed.load(frame)?;
    Pool::Claimed.store(frame, claimed + amount)?;
    crate::system::move_balance(frame, super::STAKING, staker, amount)?;
    emit(frame, IStaking::RewardsClaimed { staker, validator, amount })?;
    Ok(amount)
}

/// Rewards no position can claim yet: what was distributed and not claimed,
/// less every position's pending rewards (reads every position).
pub(super) fn undistributed<S: StateView>(frame: &mut Frame<'_, S>) -> Result<U256> {
    let mut claimable = U256::ZERO;
    for staker in records::stakers(frame)? {
        for validator in records::validators_of(frame, &staker)? {
            let position = Position::load(frame, &staker, &validator)?;
            claimable += pending(frame, &position)?;
        }
    }
    let held = Pool::Distributed.load(frame)? - Pool::Claimed.load(frame)?;
    Ok(held.saturating_sub(claimable))
}

/// The pool record.
pub(super) fn pool<S: StateView>(frame: &mut Frame<'_, S>) -> Result<IStaking::RewardPool> {
    Ok(IStaking::RewardPool {
        distributed: Pool::Distributed.load(frame)?,
        claimed: Pool::Claimed.load(frame)?,
        queued: Pool::Queued.load(frame)?,
        rewardPerToken: Pool::RewardPerToken.load(frame)?,
        remainder: Pool::Remainder.load(frame)?,
    })
}
