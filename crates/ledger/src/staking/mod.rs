//! Staking: bonded and unbonding OPEN, the stakers' reward pool, voting power.
//!
//! (Being written: the public API below is fixed; the agents and governance
//! modules build on it.)

use crate::{
    state::StateView,
    system::{CallError, Frame},
};
use alloy_primitives::{Address, Bytes, U256};
pub use ol_primitives::addresses::STAKING;

type Result<T> = std::result::Result<T, CallError>;

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

/// Runs one ABI-encoded call against the staking contract.
pub fn call<S: StateView>(_frame: &mut Frame<'_, S>, _input: &[u8]) -> Result<Bytes> {
    Err(CallError::Revert("staking is not yet available".into()))
}

/// Moves `amount` wei from `from` (a system account that holds it, e.g. the
/// inference contract) to the staking pool and distributes it pro rata to
/// all bonded stake through the reward-per-share accumulator. With nothing
/// bonded it waits in the pool and joins the next distribution.
pub fn distribute<S: StateView>(
    _frame: &mut Frame<'_, S>,
    _from: Address,
    _amount: U256,
) -> Result<()> {
    todo!()
}

/// Bonds `amount` of `staker`'s spendable OPEN to `validator` (a validator,
/// provider or agent). Refuses more than `staker` can spend.
pub fn bond<S: StateView>(
    _frame: &mut Frame<'_, S>,
    _staker: Address,
    _validator: Address,
    _amount: U256,
) -> Result<()> {
    todo!()
}

/// Starts unbonding `amount` of `staker`'s bond to `validator`; it stops
/// earning and voting at once, stays slashable, and can be withdrawn at the
/// returned block time (unix seconds).
pub fn begin_unbonding<S: StateView>(
    _frame: &mut Frame<'_, S>,
    _staker: Address,
    _validator: Address,
    _amount: U256,
) -> Result<u64> {
    todo!()
}

/// Slashes `amount` of `staker`'s stake at `validator` (bonded first, then
/// unbonding entries), paying the governed reporter share to `reporter` (all
/// to the treasury without one). Reverts, changing nothing, when `amount`
/// is zero or more than that stake holds.
pub fn slash<S: StateView>(
    _frame: &mut Frame<'_, S>,
    _staker: Address,
    _validator: Address,
    _amount: U256,
    _reporter: Option<Address>,
) -> Result<Slashed> {
    todo!()
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
    pub fn bonded(&mut self, _staker: Address, _validator: Address) -> Result<U256> {
        let _ = &mut self.frame;
        todo!()
    }

    /// `staker`'s unbonding (not yet withdrawn) stake at `validator`.
    pub fn unbonding(&mut self, _staker: Address, _validator: Address) -> Result<U256> {
        todo!()
    }

    /// All stake bonded to `validator`.
    pub fn validator_stake(&mut self, _validator: Address) -> Result<U256> {
        todo!()
    }

    /// All bonded stake.
    pub fn total_bonded(&mut self) -> Result<U256> {
        todo!()
    }

    /// Current voting power of `account` (stake delegated to it for votes).
    pub fn votes(&mut self, _account: Address) -> Result<U256> {
        todo!()
    }

    /// Voting power of `account` at `timepoint` (unix seconds of block
    /// time; ERC-6372's timestamp clock): its value after the last block
    /// whose timestamp is at most `timepoint`. Meaningful (final) only for a
    /// timepoint before the current block's timestamp.
    pub fn past_votes(&mut self, _account: Address, _timepoint: u64) -> Result<U256> {
        todo!()
    }

    /// All voting power at `timepoint`, as [`Self::past_votes`].
    pub fn past_total_votes(&mut self, _timepoint: u64) -> Result<U256> {
        todo!()
    }
}
