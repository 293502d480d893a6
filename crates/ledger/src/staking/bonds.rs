//! Bonding, unbonding, withdrawing and slashing stake.

use super::{
    IStaking, MAX_UNBONDING_ENTRIES, Result, STAKING, Slashed, emit,
    records::{self, Entry, Pool, Position},
    rewards,
    votes::{self, Change},
};
use crate::{
    revert,
    state::StateView,
    system::{Frame, move_balance},
    vesting,
};
use alloy_primitives::{Address, U256};
use ol_primitives::addresses::TREASURY;

fn add_to_validator<S: StateView>(
    frame: &mut Frame<'_, S>,
    validator: &Address,
    change: Change,
) -> Result<()> {
    let slot = records::validator_slot(validator);
    let stake = frame.load(slot)?;
    frame.store(
        slot,
        match change {
            Change::Gain(amount) => stake + amount,
            Change::Loss(amount) => stake - amount,
        },
    )
}

fn add_to_pool<S: StateView>(frame: &mut Frame<'_, S>, field: Pool, change: Change) -> Result<()> {
    let value = field.load(frame)?;
    field.store(
        frame,
        match change {
            Change::Gain(amount) => value + amount,
            Change::Loss(amount) => value - amount,
        },
    )
}

/// The bond of a position changed by `change`: validator, pool and votes follow.
fn bond_changed<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    change: Change,
) -> Result<()> {
    add_to_validator(frame, &validator, change)?;
    add_to_pool(frame, Pool::TotalBonded, change)?;
    votes::units_changed(frame, staker, change)
}

pub(super) fn bond<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
) -> Result<()> {
    if amount.is_zero() {
        revert!("the amount to stake must be more than zero");
    }
    if validator == Address::ZERO {
        revert!("cannot stake to the zero address");
    }
    let now = frame.env.block.timestamp;
    let balance = vesting::balance_at(&frame.state, &staker, now)?;
    if balance.spendable < amount {
        revert!(
            "{staker} can spend {} wei ({} wei locked by vesting); staking {amount} wei was asked",
            balance.spendable,
            balance.locked
        );
    }
    move_balance(frame, staker, STAKING, amount)?;
    let mut position = Position::load(frame, &staker, &validator)?;
    rewards::settle(frame, &mut position)?;
    position.bonded += amount;
    if !position.listed {
        position.listed = true;
        records::list(frame, &staker, &validator)?;
    }
    position.store(frame, &staker, &validator)?;
    bond_changed(frame, staker, validator, Change::Gain(amount))?;
    emit(frame, IStaking::Staked { staker, validator, amount })
}

pub(super) fn begin_unbonding<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
) -> Result<u64> {
    if amount.is_zero() {
        revert!("the amount to unstake must be more than zero");
    }
    let mut position = Position::load(frame, &staker, &validator)?;
    if amount > position.bonded {
        revert!(
            "{staker} has {} wei bonded to {validator}; cannot unstake {amount} wei",
            position.bonded
        );
    }
    if position.entries >= MAX_UNBONDING_ENTRIES {
        revert!(
            "{staker} already has {MAX_UNBONDING_ENTRIES} unbonding entries at {validator}, the \
             most allowed; withdraw matured ones or wait before unstaking again"
        );
    }
    let completes_at =
        frame.env.block.timestamp.saturating_add(records::params(frame)?.unbonding_seconds);
    rewards::settle(frame, &mut position)?;
    position.bonded -= amount;
    position.unbonding += amount;
    let mut entries = records::entries(frame, &staker, &validator, position.entries)?;
    entries.push(Entry { amount, completes_at });
    records::store_entries(frame, &staker, &validator, &entries, position.entries)?;
    position.entries += 1;
    position.store(frame, &staker, &validator)?;
    bond_changed(frame, staker, validator, Change::Loss(amount))?;
    add_to_pool(frame, Pool::TotalUnbonding, Change::Gain(amount))?;
    emit(
        frame,
        IStaking::UnbondingStarted { staker, validator, amount, completesAt: completes_at },
    )?;
    Ok(completes_at)
}

pub(super) fn withdraw<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
) -> Result<U256> {
    let mut position = Position::load(frame, &staker, &validator)?;
    let entries = records::entries(frame, &staker, &validator, position.entries)?;
    let now = frame.env.block.timestamp;
    let (matured, waiting): (Vec<Entry>, Vec<Entry>) =
        entries.iter().partition(|entry| entry.completes_at <= now);
    if matured.is_empty() {
        match waiting.iter().map(|entry| entry.completes_at).min() {
            None => revert!("{staker} has nothing unbonding at {validator}"),
            Some(next) => revert!(
                "nothing unbonded yet: the next unbonding entry of {staker} at {validator} \
                 completes at {next} (block time is {now})"
            ),
        }
    }
    let amount = matured.iter().fold(U256::ZERO, |sum, entry| sum + entry.amount);
    records::store_entries(frame, &staker, &validator, &waiting, position.entries)?;
    position.entries = waiting.len() as u64;
    position.unbonding -= amount;
    position.store(frame, &staker, &validator)?;
    add_to_pool(frame, Pool::TotalUnbonding, Change::Loss(amount))?;
    move_balance(frame, STAKING, staker, amount)?;
    emit(frame, IStaking::Withdrawn { staker, validator, amount })?;
    Ok(amount)
}

pub(super) fn slash<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    validator: Address,
    amount: U256,
    reporter: Option<Address>,
) -> Result<Slashed> {
    let mut position = Position::load(frame, &staker, &validator)?;
    let held = position.bonded + position.unbonding;
    if amount.is_zero() {
        revert!("the amount to slash must be more than zero");
    }
    if amount > held {
        revert!(
            "cannot slash {amount} wei of {staker} at {validator}: it holds {} wei bonded and {} \
             wei unbonding",
            position.bonded,
            position.unbonding
        );
    }
    rewards::settle(frame, &mut position)?;
    let from_bonded = amount.min(position.bonded);
    let from_unbonding = amount - from_bonded;
    position.bonded -= from_bonded;
    if !from_unbonding.is_zero() {
        let mut entries = records::entries(frame, &staker, &validator, position.entries)?;
        let mut rest = from_unbonding;
        // Newest first: an entry emptied is always the last one.
        while let Some(entry) = entries.last_mut()
            && !rest.is_zero()
        {
            let take = rest.min(entry.amount);
            entry.amount -= take;
            rest -= take;
            if entry.amount.is_zero() {
                entries.pop();
            }
        }
        records::store_entries(frame, &staker, &validator, &entries, position.entries)?;
        position.entries = entries.len() as u64;
        position.unbonding -= from_unbonding;
        add_to_pool(frame, Pool::TotalUnbonding, Change::Loss(from_unbonding))?;
    }
    position.store(frame, &staker, &validator)?;
    if !from_bonded.is_zero() {
        bond_changed(frame, staker, validator, Change::Loss(from_bonded))?;
    }
    let reporter = reporter.filter(|reporter| *reporter != Address::ZERO);
    let bps = U256::from(records::params(frame)?.slash_reporter_bps);
    let to_reporter = match reporter {
        Some(_) => amount * bps / U256::from(super::BPS_WHOLE),
        None => U256::ZERO,
    };
    let to_treasury = amount - to_reporter;
    if let Some(reporter) = reporter {
        move_balance(frame, STAKING, reporter, to_reporter)?;
    }
    move_balance(frame, STAKING, TREASURY, to_treasury)?;
    emit(
        frame,
        IStaking::Slashed {
            staker,
            validator,
            reporter: reporter.unwrap_or_default(),
            fromBonded: from_bonded,
            fromUnbonding: from_unbonding,
            toReporter: to_reporter,
            toTreasury: to_treasury,
        },
    )?;
    Ok(Slashed { from_bonded, from_unbonding, to_reporter, to_treasury })
}
