//! Calldata to the governance system contract: what any signed transaction
//! to `0x…1007` (or an `eth_call`) hands the ledger, and what a proposal's
//! action hands it as governance itself.

use crate::system_call::{check_call, decoding_edge_seeds, prepare};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use ol_ledger::{
    Account, MemoryState, StateChanges,
    governance::{Action, GOVERNANCE, IGovernance},
    staking::{IStaking, STAKING},
};
use ol_primitives::addresses::TREASURY;
use std::sync::LazyLock;

const PROPOSER: Address = Address::repeat_byte(0x11);
const VOTER: Address = Address::repeat_byte(0x22);
/// The callers the first input byte picks from: two stakers, and governance
/// itself (as a proposal's action calls it).
const CALLERS: [Address; 3] = [PROPOSER, VOTER, GOVERNANCE];

/// The proposals of the prepared state, by what they are at the fuzzed
/// block time.
const EXECUTABLE: u64 = 1;
const EXECUTED: u64 = 2;
const SUCCEEDED: u64 = 3;
const FAILING: u64 = 4;
const DEFEATED: u64 = 5;
const ACTIVE: u64 = 6;
const PENDING: u64 = 7;
const CANCELED: u64 = 8;

fn open(whole: u64) -> U256 {
    U256::from(whole) * U256::from(10u64).pow(U256::from(18))
}

/// Short periods, so a whole proposal's life fits before the fuzzed block.
fn params() -> IGovernance::Params {
    IGovernance::Params {
        votingDelay: 1,
        votingPeriod: 3,
        proposalThreshold: open(1_000),
        quorumNumerator: 5,
        timelockDelay: 2,
    }
}

/// A state with staked votes and a proposal in every state at the fuzzed
/// block time (20): Queued and executable (its actions set the staking
/// parameters, spend from the treasury, cancel the Pending proposal and set
/// governance's parameters), Executed, Succeeded, Queued with an action
/// that reverts, Defeated, Active (the voter has not voted), Pending (its
/// proposer may cancel it) and Canceled.
static STATE: LazyLock<MemoryState> = LazyLock::new(|| {
    let mut state = MemoryState::default();
    let mut funded = StateChanges::default();
    for (account, balance) in [(PROPOSER, open(5_000)), (VOTER, open(1_000)), (TREASURY, open(100))]
    {
        funded.accounts.insert(account, Account::with_balance(balance));
    }
    state.apply(funded);
    let mut run = |timestamp, caller, contract, input: Vec<u8>| {
        prepare(&mut state, timestamp, caller, contract, &input);
    };
    run(0, GOVERNANCE, GOVERNANCE, set_params_call());
    run(
        1,
        PROPOSER,
        STAKING,
        IStaking::stakeCall { validator: PROPOSER, amount: open(2_000) }.abi_encode(),
    );
    run(
        1,
        VOTER,
        STAKING,
        IStaking::stakeCall { validator: VOTER, amount: open(500) }.abi_encode(),
    );
    // Voting from 3 to 6; queued at 7 with eta 9.
    run(2, PROPOSER, GOVERNANCE, propose_call(executable_actions(), "executable"));
    run(2, PROPOSER, GOVERNANCE, propose_call(vec![governance_action(set_params_call())], "done"));
    run(4, PROPOSER, GOVERNANCE, vote_call(EXECUTABLE, 1));
    run(4, PROPOSER, GOVERNANCE, vote_call(EXECUTED, 1));
    run(4, VOTER, GOVERNANCE, vote_call(EXECUTED, 0));
    run(7, VOTER, GOVERNANCE, IGovernance::queueCall { proposalId: EXECUTABLE }.abi_encode());
    run(7, VOTER, GOVERNANCE, IGovernance::queueCall { proposalId: EXECUTED }.abi_encode());
    run(9, VOTER, GOVERNANCE, IGovernance::executeCall { proposalId: EXECUTED }.abi_encode());
    // Voting from 11 to 14; the failing one queued at 15 with eta 17.
    let staking_action = || Action {
        target: STAKING,
        data: IStaking::setParamsCall {
            params: IStaking::Params {
                unbondingSeconds: 60,
                slashReporterBps: 1_000,
                baseFeeStakersBps: 500,
            },
        }
        .abi_encode()
        .into(),
    };
    run(10, PROPOSER, GOVERNANCE, propose_call(vec![staking_action()], "succeeded"));
    let overspend = spend_call(VOTER, open(1_000_000));
    run(10, PROPOSER, GOVERNANCE, propose_call(vec![governance_action(overspend)], "failing"));
    run(10, PROPOSER, GOVERNANCE, propose_call(vec![staking_action()], "defeated"));
    run(12, PROPOSER, GOVERNANCE, vote_call(SUCCEEDED, 1));
    run(12, VOTER, GOVERNANCE, vote_call(SUCCEEDED, 0));
    run(12, PROPOSER, GOVERNANCE, vote_call(FAILING, 2));
    run(12, VOTER, GOVERNANCE, vote_call(FAILING, 1));
    run(12, VOTER, GOVERNANCE, vote_call(DEFEATED, 0));
    run(15, VOTER, GOVERNANCE, IGovernance::queueCall { proposalId: FAILING }.abi_encode());
    // Voting from 18 to 21.
    run(17, PROPOSER, GOVERNANCE, propose_call(vec![staking_action()], "active"));
    run(19, PROPOSER, GOVERNANCE, vote_call(ACTIVE, 1));
    // Voting from 20 (exclusive) to 23.
    run(19, PROPOSER, GOVERNANCE, propose_call(vec![staking_action()], "pending"));
    run(19, PROPOSER, GOVERNANCE, propose_call(vec![staking_action()], "canceled"));
    run(19, PROPOSER, GOVERNANCE, IGovernance::cancelCall { proposalId: CANCELED }.abi_encode());
    state
});

fn set_params_call() -> Vec<u8> {
    IGovernance::setParamsCall { params: params() }.abi_encode()
}

fn spend_call(to: Address, amount: U256) -> Vec<u8> {
    IGovernance::spendTreasuryCall { to, amount }.abi_encode()
}

fn governance_action(data: Vec<u8>) -> Action {
    Action { target: GOVERNANCE, data: data.into() }
}

fn executable_actions() -> Vec<Action> {
    vec![
        Action {
            target: STAKING,
            data: IStaking::setParamsCall {
                params: IStaking::Params {
                    unbondingSeconds: 3_600,
                    slashReporterBps: 2_500,
                    baseFeeStakersBps: 0,
                },
            }
            .abi_encode()
            .into(),
        },
        governance_action(spend_call(VOTER, open(10))),
        governance_action(IGovernance::cancelCall { proposalId: PENDING }.abi_encode()),
        governance_action(set_params_call()),
    ]
}

fn propose_call(actions: Vec<Action>, description: &str) -> Vec<u8> {
    IGovernance::proposeCall { actions, description: description.into() }.abi_encode()
}

fn vote_call(proposal_id: u64, support: u8) -> Vec<u8> {
    IGovernance::castVoteCall { proposalId: proposal_id, support }.abi_encode()
}

/// Runs `data` as calldata (first byte picks the caller: the proposer, the
/// other voter, or governance itself) and checks the invariants of every
/// system call (`check_call`).
pub fn fuzz_governance_call(data: &[u8]) {
    let Some((selector, input)) = data.split_first() else { return };
    let caller = CALLERS[usize::from(*selector) % CALLERS.len()];
    check_call(&STATE, caller, GOVERNANCE, input);
}

/// Valid calls of every function, and a few malformed ones, as seeds.
pub fn governance_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let proposer = |call: Vec<u8>| [&[0u8][..], &call].concat();
    let voter = |call: Vec<u8>| [&[1u8][..], &call].concat();
    let governance = |call: Vec<u8>| [&[2u8][..], &call].concat();
    let mut seeds = vec![
        ("propose", proposer(propose_call(executable_actions(), "fuzz"))),
        ("cast_vote", voter(vote_call(ACTIVE, 1))),
        (
            "cast_vote_with_reason",
            voter(
                IGovernance::castVoteWithReasonCall {
                    proposalId: ACTIVE,
                    support: 2,
                    reason: "why".into(),
                }
                .abi_encode(),
            ),
        ),
        ("queue", voter(IGovernance::queueCall { proposalId: SUCCEEDED }.abi_encode())),
        ("execute", voter(IGovernance::executeCall { proposalId: EXECUTABLE }.abi_encode())),
        (
            "execute_failing_action_refused",
            voter(IGovernance::executeCall { proposalId: FAILING }.abi_encode()),
        ),
        ("cancel", proposer(IGovernance::cancelCall { proposalId: PENDING }.abi_encode())),
        (
            "cancel_governance",
            governance(IGovernance::cancelCall { proposalId: ACTIVE }.abi_encode()),
        ),
        ("spend_treasury", governance(spend_call(PROPOSER, open(1)))),
        ("set_params", governance(set_params_call())),
        ("params", voter(IGovernance::paramsCall {}.abi_encode())),
        ("state", voter(IGovernance::stateCall { proposalId: DEFEATED }.abi_encode())),
        (
            "get_proposal",
            voter(IGovernance::getProposalCall { proposalId: EXECUTABLE }.abi_encode()),
        ),
        ("proposal_count", voter(IGovernance::proposalCountCall {}.abi_encode())),
        (
            "has_voted",
            voter(IGovernance::hasVotedCall { proposalId: ACTIVE, account: PROPOSER }.abi_encode()),
        ),
        ("quorum", voter(IGovernance::quorumCall { timepoint: 11 }.abi_encode())),
        (
            "get_votes",
            voter(IGovernance::getVotesCall { account: PROPOSER, timepoint: 11 }.abi_encode()),
        ),
        ("clock", voter(IGovernance::clockCall {}.abi_encode())),
        ("clock_mode", voter(IGovernance::CLOCK_MODECall {}.abi_encode())),
        (
            "malformed_action_target",
            proposer(propose_call(
                vec![Action { target: Address::repeat_byte(0x99), data: vec![1, 2, 3, 4].into() }],
                "not a system contract",
            )),
        ),
        (
            "malformed_hash_in_action",
            proposer(propose_call(
                vec![governance_action(B256::repeat_byte(0x42).to_vec())],
                "an unknown selector",
            )),
        ),
    ];
    seeds.extend(decoding_edge_seeds(proposer(propose_call(executable_actions(), "fuzz"))));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system_call::assert_seeds_reach;

    #[test]
    fn seeds_reach_the_prepared_paths() {
        assert_seeds_reach(&STATE, &CALLERS, GOVERNANCE, &governance_seeds());
    }
}
