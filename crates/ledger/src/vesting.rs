//! Locked OPEN: vesting schedules and what an account may spend.
//!
//! A schedule locks `total` wei from `start`: nothing vests before
//! `start + cliff`; from then on it vests linearly over `linear` seconds
//! (all of it at once when `linear` is zero). Time is block time.
//!
//! Schedules are stored in the storage of the [`VESTING`] system account at
//! the slot Solidity would give `mapping(address => uint256)` at slot 0, so
//! the state root covers them and `eth_getProof` proves them. The word packs
//! `total` (96 bits, the supply is below 2^90) | `start` (64) | `cliff` (32) |
//! `linear` (32), most significant first.

use crate::state::{StateError, StateView};
use alloy_primitives::{Address, B256, U256, keccak256};
use ol_primitives::addresses::VESTING;

/// One account's vesting schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VestingSchedule {
    /// Wei locked at `start`.
    pub total: U256,
    /// Block time (seconds) the schedule starts.
    pub start: u64,
    /// Seconds after `start` before anything vests.
    pub cliff: u32,
    /// Seconds of linear vesting after the cliff.
    pub linear: u32,
}

impl VestingSchedule {
    /// Wei vested (spendable) at block time `now`.
    pub fn vested_at(&self, now: u64) -> U256 {
        let unlock_start = self.start.saturating_add(u64::from(self.cliff));
        if now < unlock_start {
            return U256::ZERO;
        }
        let elapsed = now - unlock_start;
        if self.linear == 0 || elapsed >= u64::from(self.linear) {
            return self.total;
        }
        // total < 2^96 and elapsed < 2^32: the product cannot overflow.
        self.total * U256::from(elapsed) / U256::from(self.linear)
    }

    /// Wei still locked at block time `now`.
    pub fn locked_at(&self, now: u64) -> U256 {
        self.total - self.vested_at(now)
    }

    /// The storage word that encodes this schedule.
    pub fn encode(&self) -> U256 {
        (self.total << 128)
            | (U256::from(self.start) << 64)
            | (U256::from(self.cliff) << 32)
            | U256::from(self.linear)
    }

    /// Decodes a storage word; zero means "no schedule".
    pub fn decode(word: U256) -> Option<Self> {
        if word.is_zero() {
            return None;
        }
        let low =
            |shift: usize, bits: usize| (word >> shift) & ((U256::from(1) << bits) - U256::from(1));
        Some(Self {
            total: word >> 128,
            start: low(64, 64).to::<u64>(),
            cliff: low(32, 32).to::<u32>(),
            linear: low(0, 32).to::<u32>(),
        })
    }
}

/// The largest total a schedule can hold (96 bits).
pub fn max_total() -> U256 {
    (U256::from(1) << 96) - U256::from(1)
}

/// The slot of `account`'s schedule in the vesting account's storage:
/// `keccak256(abi.encode(account, uint256(0)))`.
pub fn schedule_slot(account: &Address) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(account.as_slice());
    keccak256(preimage)
}

/// The vesting schedule of `account`, if it has one.
pub fn schedule_of<S: StateView>(
    state: &S,
    account: &Address,
) -> Result<Option<VestingSchedule>, StateError> {
    Ok(VestingSchedule::decode(state.storage(&VESTING, &schedule_slot(account))?))
}

/// Balances of an account at a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BalanceBreakdown {
    /// Everything the account owns.
    pub total: U256,
    /// What it may spend now.
    pub spendable: U256,
    /// Still locked by vesting.
    pub locked: U256,
    /// Vested so far under its schedule (zero without one).
    pub vested: U256,
    /// The schedule, if any.
    pub schedule: Option<VestingSchedule>,
}

/// What `account` owns, may spend and has locked at block time `now`.
pub fn balance_at<S: StateView>(
    state: &S,
    account: &Address,
    now: u64,
) -> Result<BalanceBreakdown, StateError> {
    let total = state.account(account)?.map(|a| a.balance).unwrap_or_default();
    let schedule = schedule_of(state, account)?;
    let (locked, vested) = match &schedule {
        Some(s) => (s.locked_at(now), s.vested_at(now)),
        None => (U256::ZERO, U256::ZERO),
    };
    Ok(BalanceBreakdown {
        total,
        spendable: total.saturating_sub(locked),
        locked,
        vested,
        schedule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cliff_then_linear() {
        let s = VestingSchedule { total: U256::from(1200), start: 100, cliff: 10, linear: 120 };
        assert_eq!(s.vested_at(0), U256::ZERO);
        assert_eq!(s.vested_at(109), U256::ZERO);
        assert_eq!(s.vested_at(110), U256::ZERO);
        assert_eq!(s.vested_at(170), U256::from(600));
        assert_eq!(s.vested_at(230), U256::from(1200));
        assert_eq!(s.vested_at(u64::MAX), U256::from(1200));
        assert_eq!(s.locked_at(170), U256::from(600));
        let instant = VestingSchedule { total: U256::from(5), start: 0, cliff: 10, linear: 0 };
        assert_eq!(instant.vested_at(9), U256::ZERO);
        assert_eq!(instant.vested_at(10), U256::from(5));
    }

    #[test]
    fn slot_matches_solidity_mapping() {
        // keccak256(abi.encode(address(0), uint256(0)))
        assert_eq!(
            schedule_slot(&Address::ZERO),
            alloy_primitives::b256!(
                "0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"
            )
        );
    }

    proptest! {
        #[test]
        fn encoding_roundtrips(total in 1u128..(1u128 << 96), start: u64, cliff: u32, linear: u32) {
            let s = VestingSchedule { total: U256::from(total), start, cliff, linear };
            prop_assert_eq!(VestingSchedule::decode(s.encode()), Some(s));
        }

        #[test]
        fn vesting_is_monotone(total in 0u128..(1u128 << 96), a: u64, b: u64, cliff: u32, linear: u32) {
            let s = VestingSchedule { total: U256::from(total), start: 1_000, cliff, linear };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(s.vested_at(lo) <= s.vested_at(hi));
            prop_assert!(s.vested_at(hi) <= s.total);
        }
    }
}
