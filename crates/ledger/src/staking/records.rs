//! How the staking contract lays out its records in storage (the layout is
//! listed in the module documentation of [`super`]).

use super::{MAX_UNBONDING_ENTRIES, Params, Result};
use crate::{
    state::StateView,
    system::{
        Frame,
        slots::{KeyPart, field, pack, slot, unpack},
    },
};
use alloy_primitives::{Address, B256, U256};

pub(super) fn params_slot() -> B256 {
    slot("params", &[])
}
fn pool_slot() -> B256 {
    slot("pool", &[])
}
fn position_slot(staker: &Address, validator: &Address) -> B256 {
    slot("position", &[KeyPart::Address(staker), KeyPart::Address(validator)])
}
fn unbonding_slot(staker: &Address, validator: &Address, n: u64) -> B256 {
    slot("unbonding", &[KeyPart::Address(staker), KeyPart::Address(validator), KeyPart::U64(n)])
}
pub(super) fn validator_slot(validator: &Address) -> B256 {
    slot("validator", &[KeyPart::Address(validator)])
}
fn stakers_slot() -> B256 {
    slot("stakers", &[])
}
fn staker_at_slot(n: u64) -> B256 {
    slot("stakers.at", &[KeyPart::U64(n)])
}
fn validators_slot(staker: &Address) -> B256 {
    slot("validators", &[KeyPart::Address(staker)])
}
fn validator_at_slot(staker: &Address, n: u64) -> B256 {
    slot("validators.at", &[KeyPart::Address(staker), KeyPart::U64(n)])
}
fn stakers_of_slot(validator: &Address) -> B256 {
    slot("stakers.of", &[KeyPart::Address(validator)])
}
fn staker_of_at_slot(validator: &Address, n: u64) -> B256 {
    slot("stakers.of.at", &[KeyPart::Address(validator), KeyPart::U64(n)])
}

/// The governed parameters (defaults until governance sets them).
pub(super) fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    let [unbonding_seconds, slash_reporter_bps, base_fee_stakers_bps, _] =
        unpack(frame.load(field(base, 1))?);
    Ok(Params {
        unbonding_seconds,
        slash_reporter_bps: slash_reporter_bps as u16,
        base_fee_stakers_bps: base_fee_stakers_bps as u16,
    })
}

pub(super) fn store_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(
        field(base, 1),
        pack([
            new.unbonding_seconds,
            u64::from(new.slash_reporter_bps),
            u64::from(new.base_fee_stakers_bps),
            0,
        ]),
    )
}

/// A field of the pool record.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pool {
    /// All bonded stake.
    TotalBonded = 0,
    /// All unbonding stake.
    TotalUnbonding = 1,
    /// The accumulator: rewards per bonded wei, scaled by [`super::PRECISION`].
    RewardPerToken = 2,
    /// The accumulator's division remainder, in 1e-36 wei.
    Remainder = 3,
    /// Distributed while nothing was bonded.
    Queued = 4,
    /// Everything ever distributed.
    Distributed = 5,
    /// Everything ever claimed.
    Claimed = 6,
}

impl Pool {
    pub(super) fn slot(self) -> B256 {
        field(pool_slot(), self as u64)
    }

    pub(super) fn load<S: StateView>(self, frame: &mut Frame<'_, S>) -> Result<U256> {
        frame.load(self.slot())
    }

    pub(super) fn store<S: StateView>(self, frame: &mut Frame<'_, S>, value: U256) -> Result<()> {
        frame.store(self.slot(), value)
    }
}

/// One (staker, validator) position as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Position {
    /// Bonded: earning and voting.
    pub(super) bonded: U256,
    /// The sum of its unbonding entries.
    pub(super) unbonding: U256,
    /// The accumulator when its rewards were last settled.
    pub(super) reward_per_token_paid: U256,
    /// Settled, unclaimed rewards in 1e-36 wei (whole wei and the fraction).
    pub(super) credit: U256,
    /// Unbonding entries in use (0..=16).
    pub(super) entries: u64,
    /// True once the validator is in the staker's list.
    pub(super) listed: bool,
}

impl Position {
    pub(super) fn load<S: StateView>(
        frame: &mut Frame<'_, S>,
        staker: &Address,
        validator: &Address,
    ) -> Result<Self> {
        let base = position_slot(staker, validator);
        let [entries, listed, ..] = unpack(frame.load(field(base, 4))?);
        Ok(Self {
            bonded: frame.load(base)?,
            unbonding: frame.load(field(base, 1))?,
            reward_per_token_paid: frame.load(field(base, 2))?,
            credit: frame.load(field(base, 3))?,
            entries,
            listed: listed != 0,
        })
    }

    pub(super) fn store<S: StateView>(
        &self,
        frame: &mut Frame<'_, S>,
        staker: &Address,
        validator: &Address,
    ) -> Result<()> {
        let base = position_slot(staker, validator);
        frame.store(base, self.bonded)?;
        frame.store(field(base, 1), self.unbonding)?;
        frame.store(field(base, 2), self.reward_per_token_paid)?;
        frame.store(field(base, 3), self.credit)?;
        frame.store(field(base, 4), pack([self.entries, u64::from(self.listed), 0, 0]))
    }
}

/// One unbonding entry as stored: `amount << 64 | completes_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) amount: U256,
    pub(super) completes_at: u64,
}

/// The position's unbonding entries, oldest first.
pub(super) fn entries<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: &Address,
    validator: &Address,
    count: u64,
) -> Result<Vec<Entry>> {
    (0..count.min(MAX_UNBONDING_ENTRIES))
        .map(|n| {
            let word = frame.load(unbonding_slot(staker, validator, n))?;
            Ok(Entry { amount: word >> 64, completes_at: unpack(word)[0] })
        })
        .collect()
}

/// Writes `entries` at positions 0.., clearing the slots up to `old_count`.
pub(super) fn store_entries<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: &Address,
    validator: &Address,
    entries: &[Entry],
    old_count: u64,
) -> Result<()> {
    for (n, entry) in entries.iter().enumerate() {
        let word = (entry.amount << 64) | U256::from(entry.completes_at);
        frame.store(unbonding_slot(staker, validator, n as u64), word)?;
    }
    for n in entries.len() as u64..old_count {
        frame.store(unbonding_slot(staker, validator, n), U256::ZERO)?;
    }
    Ok(())
}

/// Puts `validator` in `staker`'s list, `staker` in `validator`'s, and
/// `staker` in the list of all stakers when it is its first validator.
pub(super) fn list<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: &Address,
    validator: &Address,
) -> Result<()> {
    let count = frame.load_u64(validators_slot(staker))?;
    frame.store_address(validator_at_slot(staker, count), *validator)?;
    frame.store(validators_slot(staker), U256::from(count + 1))?;
    let of = frame.load_u64(stakers_of_slot(validator))?;
    frame.store_address(staker_of_at_slot(validator, of), *staker)?;
    frame.store(stakers_of_slot(validator), U256::from(of + 1))?;
    if count == 0 {
        let stakers = frame.load_u64(stakers_slot())?;
        frame.store_address(staker_at_slot(stakers), *staker)?;
        frame.store(stakers_slot(), U256::from(stakers + 1))?;
    }
    Ok(())
}

/// Every validator `staker` ever bonded to, in the order it first did.
pub(super) fn validators_of<S: StateView>(
    frame: &mut Frame<'_, S>,
    staker: &Address,
) -> Result<Vec<Address>> {
    let count = frame.load_u64(validators_slot(staker))?;
    (0..count).map(|n| frame.load_address(validator_at_slot(staker, n))).collect()
}

/// Every account that ever bonded, in the order it first did.
pub(super) fn stakers<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Vec<Address>> {
    let count = frame.load_u64(stakers_slot())?;
    (0..count).map(|n| frame.load_address(staker_at_slot(n))).collect()
}

/// Every staker that ever bonded to `validator`, in the order it first did.
pub(super) fn stakers_of<S: StateView>(
    frame: &mut Frame<'_, S>,
    validator: &Address,
) -> Result<Vec<Address>> {
    let count = frame.load_u64(stakers_of_slot(validator))?;
    (0..count).map(|n| frame.load_address(staker_of_at_slot(validator, n))).collect()
}
