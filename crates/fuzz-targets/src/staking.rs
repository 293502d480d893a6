//! Calldata to the staking system contract: what any signed transaction to
//! `0x…1005` (or an `eth_call`) hands the ledger.

use crate::system_call::{check_call, decoding_edge_seeds, earlier_block, env_in, prepare};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use ol_ledger::{
    Account, MemoryState, StateChanges,
    staking::{self, IStaking, STAKING},
    system::Frame,
};
use ol_primitives::addresses::{GOVERNANCE, INFERENCE};
use std::sync::LazyLock;

const STAKER: Address = Address::repeat_byte(0x11);
const OTHER: Address = Address::repeat_byte(0x22);
const VALIDATOR: Address = Address::repeat_byte(0x33);
const STRANGER: Address = Address::repeat_byte(0x44);
/// The callers the first input byte picks from.
const CALLERS: [Address; 4] = [STAKER, OTHER, GOVERNANCE, STRANGER];
/// Seconds of unbonding in the prepared state.
const UNBONDING_SECONDS: u64 = 5;

fn open(whole: u64) -> U256 {
    U256::from(whole) * U256::from(10u64).pow(U256::from(18))
}

/// A state where the staker has bonded to a validator and to itself, the
/// other account has bonded an odd amount to the same validator, a reward
/// was distributed over both (with rounding dust), the staker has one
/// matured and one waiting unbonding entry, and it delegated its votes.
static STATE: LazyLock<MemoryState> = LazyLock::new(|| {
    let mut state = MemoryState::default();
    let mut funded = StateChanges::default();
    for (account, balance) in [(STAKER, open(1_000)), (OTHER, open(100)), (INFERENCE, open(1))] {
        funded.accounts.insert(account, Account::with_balance(balance));
    }
    state.apply(funded);
    prepare(&mut state, 1, GOVERNANCE, STAKING, &set_params_call(UNBONDING_SECONDS));
    prepare(&mut state, 2, STAKER, STAKING, &stake_call(VALIDATOR, open(300)));
    prepare(&mut state, 2, STAKER, STAKING, &stake_call(STAKER, open(100)));
    prepare(&mut state, 2, OTHER, STAKING, &stake_call(VALIDATOR, U256::from(7)));
    // Matures at 8, before the fuzzed block.
    prepare(&mut state, 3, STAKER, STAKING, &unstake_call(open(50)));
    distribute(&mut state, 4, open(1) - U256::from(1));
    // Matures at 23, after the fuzzed block.
    prepare(&mut state, 18, STAKER, STAKING, &unstake_call(open(10)));
    prepare(
        &mut state,
        19,
        STAKER,
        STAKING,
        &IStaking::delegateCall { delegatee: OTHER }.abi_encode(),
    );
    state
});

/// The inference contract pays `amount` into the stakers' pool at block
/// time `timestamp`, as a settlement does.
fn distribute(state: &mut MemoryState, timestamp: u64, amount: U256) {
    let block = earlier_block(timestamp);
    let mut frame = Frame::new(&*state, INFERENCE, env_in(INFERENCE, &block), 10_000_000);
    staking::distribute(&mut frame, INFERENCE, amount).expect("the inference contract holds it");
    let changes = frame.state.into_changes();
    state.apply(changes);
}

fn set_params_call(unbonding_seconds: u64) -> Vec<u8> {
    IStaking::setParamsCall {
        params: IStaking::Params {
            unbondingSeconds: unbonding_seconds,
            slashReporterBps: 5_000,
            baseFeeStakersBps: 1_000,
        },
    }
    .abi_encode()
}

fn stake_call(validator: Address, amount: U256) -> Vec<u8> {
    IStaking::stakeCall { validator, amount }.abi_encode()
}

fn unstake_call(amount: U256) -> Vec<u8> {
    IStaking::unstakeCall { validator: VALIDATOR, amount }.abi_encode()
}

/// Double-sign evidence against a key no validator registered: nil and a
/// block at one height (the signatures are not checked before the key).
fn report_double_sign_call() -> Vec<u8> {
    use ol_primitives::consensus::{VoteContent, VoteKind, consensus_address};
    let key = alloy_primitives::B256::repeat_byte(0x55);
    let vote = VoteContent {
        kind: VoteKind::Precommit,
        height: 1,
        round: 0,
        block: None,
        validator: consensus_address(&key.0),
    };
    let other = VoteContent { block: Some(alloy_primitives::B256::repeat_byte(0x66)), ..vote };
    staking::report_double_sign_call(key, (vote, [1; 64]), (other, [2; 64])).to_vec()
}

/// Runs `data` as calldata (first byte picks the caller: the staker, the
/// other staker, governance or a stranger without OPEN) and checks the
/// invariants of every system call (`check_call`).
pub fn fuzz_staking_call(data: &[u8]) {
    let Some((selector, input)) = data.split_first() else { return };
    let caller = CALLERS[usize::from(*selector) % CALLERS.len()];
    check_call(&STATE, caller, STAKING, input);
}

/// Valid calls of every function, and a few malformed ones, as seeds.
pub fn staking_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let staker = |call: Vec<u8>| [&[0u8][..], &call].concat();
    let other = |call: Vec<u8>| [&[1u8][..], &call].concat();
    let governance = |call: Vec<u8>| [&[2u8][..], &call].concat();
    let (s, v) = (STAKER, VALIDATOR);
    let mut seeds = vec![
        ("stake", staker(stake_call(v, open(1)))),
        ("stake_self", other(stake_call(OTHER, open(1)))),
        ("unstake", staker(unstake_call(open(1)))),
        ("withdraw", staker(IStaking::withdrawUnbondedCall { validator: v }.abi_encode())),
        ("claim", staker(IStaking::claimRewardsCall { validator: v }.abi_encode())),
        ("claim_dust_refused", other(IStaking::claimRewardsCall { validator: v }.abi_encode())),
        ("delegate", staker(IStaking::delegateCall { delegatee: s }.abi_encode())),
        ("set_params", governance(set_params_call(3_600))),
        ("params", staker(IStaking::paramsCall {}.abi_encode())),
        ("bonded", staker(IStaking::bondedCall { staker: s, validator: v }.abi_encode())),
        (
            "unbonding_of",
            staker(IStaking::unbondingOfCall { staker: s, validator: v }.abi_encode()),
        ),
        (
            "unbonding_entries",
            staker(IStaking::unbondingEntriesCall { staker: s, validator: v }.abi_encode()),
        ),
        (
            "pending_rewards",
            staker(IStaking::pendingRewardsCall { staker: s, validator: v }.abi_encode()),
        ),
        ("positions_of", staker(IStaking::positionsOfCall { staker: s }.abi_encode())),
        ("validator_stake", staker(IStaking::validatorStakeCall { validator: v }.abi_encode())),
        ("total_bonded", staker(IStaking::totalBondedCall {}.abi_encode())),
        ("total_unbonding", staker(IStaking::totalUnbondingCall {}.abi_encode())),
        ("reward_pool", staker(IStaking::rewardPoolCall {}.abi_encode())),
        ("undistributed", staker(IStaking::undistributedCall {}.abi_encode())),
        ("get_votes", staker(IStaking::getVotesCall { account: OTHER }.abi_encode())),
        (
            "get_past_votes",
            staker(
                IStaking::getPastVotesCall { account: s, timepoint: U256::from(10) }.abi_encode(),
            ),
        ),
        (
            "get_past_total_supply",
            staker(IStaking::getPastTotalSupplyCall { timepoint: U256::from(10) }.abi_encode()),
        ),
        ("delegates", staker(IStaking::delegatesCall { account: s }.abi_encode())),
        ("clock", staker(IStaking::clockCall {}.abi_encode())),
        ("clock_mode", staker(IStaking::CLOCK_MODECall {}.abi_encode())),
        ("validator_params", staker(IStaking::validatorParamsCall {}.abi_encode())),
        ("validator_info", staker(IStaking::validatorInfoCall { operator: v }.abi_encode())),
        ("validator_set", staker(IStaking::validatorSetCall {}.abi_encode())),
        ("epoch", staker(IStaking::epochCall {}.abi_encode())),
        (
            "set_validator_params",
            governance(
                IStaking::setValidatorParamsCall {
                    params: IStaking::ValidatorParams {
                        epochBlocks: 10,
                        minValidatorStake: open(1),
                        maxValidators: 4,
                        doubleSignSlashBps: 500,
                        jailSeconds: 3_600,
                        evidenceMaxAgeBlocks: 1_000,
                    },
                }
                .abi_encode(),
            ),
        ),
        (
            "register_validator_below_min_refused",
            staker(
                IStaking::registerValidatorCall {
                    consensusKey: alloy_primitives::B256::repeat_byte(0x11),
                    moniker: "fuzz".into(),
                }
                .abi_encode(),
            ),
        ),
        ("report_double_sign_unregistered_refused", staker(report_double_sign_call())),
    ];
    seeds.extend(decoding_edge_seeds(staker(stake_call(v, open(1)))));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system_call::assert_seeds_reach;

    #[test]
    fn seeds_reach_the_prepared_paths() {
        assert_seeds_reach(&STATE, &CALLERS, STAKING, &staking_seeds());
    }
}
