//! Voting power: delegation and checkpoints keyed by block timestamp
//! (ERC-5805 with ERC-6372's timestamp clock).
//!
//! An account's voting units are all the OPEN it has bonded. They count for
//! its delegate: itself until it delegates. Each delegate's votes and the
//! total have a history of checkpoints `(timestamp, value)`, one per block
//! that changed them (a later change in a block with the same timestamp
//! overwrites that block's checkpoint), so a past value is a binary search.

use super::{IStaking, Result, emit};
use crate::{
    revert,
    state::StateView,
    system::{
        Frame,
        slots::{KeyPart, slot, unpack},
    },
};
use alloy_primitives::{Address, B256, U256};

fn units_slot(account: &Address) -> B256 {
    slot("units", &[KeyPart::Address(account)])
}
fn delegate_slot(account: &Address) -> B256 {
    slot("delegate", &[KeyPart::Address(account)])
}

/// A history of checkpoints: one delegate's votes, or the total.
#[derive(Debug, Clone, Copy)]
pub(super) enum History {
    /// Votes that count for this account.
    Votes(Address),
    /// All votes.
    Total,
}

impl History {
    fn count_slot(&self) -> B256 {
        match self {
            Self::Votes(account) => slot("votes", &[KeyPart::Address(account)]),
            Self::Total => slot("supply", &[]),
        }
    }

    fn at_slot(&self, n: u64) -> B256 {
        match self {
            Self::Votes(account) => slot("votes.at", &[KeyPart::Address(account), KeyPart::U64(n)]),
            Self::Total => slot("supply.at", &[KeyPart::U64(n)]),
        }
    }
}

/// A checkpoint as stored: `value << 64 | timestamp` (values are below the
/// supply, 2^90).
fn checkpoint<S: StateView>(
    frame: &mut Frame<'_, S>,
    history: History,
    n: u64,
) -> Result<(u64, U256)> {
    let word = frame.load(history.at_slot(n))?;
    Ok((unpack(word)[0], word >> 64))
}

/// The latest value of `history` (zero before its first checkpoint).
pub(super) fn latest<S: StateView>(frame: &mut Frame<'_, S>, history: History) -> Result<U256> {
    match frame.load_u64(history.count_slot())? {
        0 => Ok(U256::ZERO),
        count => Ok(checkpoint(frame, history, count - 1)?.1),
    }
}

/// The value of `history` after the last block with timestamp ≤ `timepoint`.
pub(super) fn past<S: StateView>(
    frame: &mut Frame<'_, S>,
    history: History,
    timepoint: u64,
) -> Result<U256> {
    // The first checkpoint whose key is after `timepoint`; the answer is the
    // one before it. O(log n) metered reads.
    let (mut low, mut high) = (0, frame.load_u64(history.count_slot())?);
    while low < high {
        let middle = low + (high - low) / 2;
        if checkpoint(frame, history, middle)?.0 > timepoint {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    match low {
        0 => Ok(U256::ZERO),
        n => Ok(checkpoint(frame, history, n - 1)?.1),
    }
}

/// Writes `value` as `history`'s value at this block's timestamp.
fn write<S: StateView>(frame: &mut Frame<'_, S>, history: History, value: U256) -> Result<()> {
    let now = frame.env.block.timestamp;
    let count = frame.load_u64(history.count_slot())?;
    let word = (value << 64) | U256::from(now);
    // Block timestamps never decrease, so a last key at or after `now` is
    // this block's own checkpoint.
    if count > 0 && checkpoint(frame, history, count - 1)?.0 >= now {
        return frame.store(history.at_slot(count - 1), word);
    }
    frame.store(history.at_slot(count), word)?;
    frame.store(history.count_slot(), U256::from(count + 1))
}

/// Who `account`'s votes count for.
pub(super) fn delegates<S: StateView>(
    frame: &mut Frame<'_, S>,
    account: Address,
) -> Result<Address> {
    let delegate = frame.load_address(delegate_slot(&account))?;
    Ok(if delegate == Address::ZERO { account } else { delegate })
}

/// A change of voting units.
#[derive(Debug, Clone, Copy)]
pub(super) enum Change {
    Gain(U256),
    Loss(U256),
}

impl Change {
    fn apply(self, value: U256) -> U256 {
        match self {
            // Votes are bonded OPEN: below the supply, never below zero.
            Self::Gain(amount) => value + amount,
            Self::Loss(amount) => value - amount,
        }
    }
}

/// `staker`'s bonded OPEN changed: its units, its delegate's votes and the
/// total follow.
pub(super) fn units_changed<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: Address,
    change: Change,
) -> Result<()> {
    let units = frame.load(units_slot(&staker))?;
    frame.store(units_slot(&staker), change.apply(units))?;
    let delegate = delegates(frame, staker)?;
    move_votes(frame, delegate, change)?;
    let total = latest(frame, History::Total)?;
    write(frame, History::Total, change.apply(total))
}

fn move_votes<S: StateView>(
    frame: &mut Frame<'_, S>,
    delegate: Address,
    change: Change,
) -> Result<()> {
    let previous = latest(frame, History::Votes(delegate))?;
    let new = change.apply(previous);
    write(frame, History::Votes(delegate), new)?;
    emit(frame, IStaking::DelegateVotesChanged { delegate, previousVotes: previous, newVotes: new })
}

/// `delegator` gives its voting units to `delegatee` (itself to vote them again).
pub(super) fn delegate<S: StateView>(
    frame: &mut Frame<'_, S>,
    delegator: Address,
    delegatee: Address,
) -> Result<()> {
    if delegatee == Address::ZERO {
        revert!(
            "cannot delegate votes to the zero address; delegate to {delegator} to vote yourself"
        );
    }
    let previous = delegates(frame, delegator)?;
    let stored = if delegatee == delegator { Address::ZERO } else { delegatee };
    frame.store_address(delegate_slot(&delegator), stored)?;
    emit(
        frame,
        IStaking::DelegateChanged { delegator, fromDelegate: previous, toDelegate: delegatee },
    )?;
    let units = frame.load(units_slot(&delegator))?;
    if previous != delegatee && !units.is_zero() {
        move_votes(frame, previous, Change::Loss(units))?;
        move_votes(frame, delegatee, Change::Gain(units))?;
    }
    Ok(())
}
