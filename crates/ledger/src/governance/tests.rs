//! Governance through signed transactions and `execute_block`: stake and
//! delegate for votes, propose, vote, queue, execute.

use super::*;
use crate::{
    inference::{self, IInference, INFERENCE, Shares},
    models::{IModels, MODELS, ModelsReader},
    state::{StateChanges, StateView},
    test_chain::{Chain, account},
};
use ol_primitives::addresses::STAKING;
use proptest::prelude::*;

alloy_sol_types::sol! {
    /// The staking calls these tests use to give accounts votes.
    interface IStakingVotes {
        function stake(address validator, uint256 amount) external;
        function delegate(address delegatee) external;
    }
}

const A: u8 = 0; // 300 OPEN staked, self-delegated
const B: u8 = 1; // 200 OPEN staked, and C's 100 delegated to it
const C: u8 = 2; // 100 OPEN staked, delegated to B
const D: u8 = 3; // 40 OPEN staked: below the threshold, below the quorum
const STRANGER: u8 = 4; // nothing staked
const PAYEE: u8 = 5;

const DELAY: u64 = 20;
const PERIOD: u64 = 100;
const TIMELOCK: u64 = 50;
const TREASURY_OPEN: u64 = 1_000;

fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(OPEN)
}

/// Short windows (the test chain's blocks are 10 s apart): threshold 100
/// OPEN, quorum 10 % (64 OPEN of the 640 OPEN of votes).
fn test_params() -> Params {
    Params {
        voting_delay: DELAY,
        voting_period: PERIOD,
        proposal_threshold: open(100),
        quorum_numerator: 10,
        timelock_delay: TIMELOCK,
    }
}

/// The test chain with [`test_params`] written as a genesis would, 1,000
/// OPEN in the treasury (from the reserve), and the stakes above.
fn setup() -> Chain {
    let mut chain = Chain::new();
    let mut changes = StateChanges::default();
    changes.storage.entry(GOVERNANCE).or_default().extend(test_params().storage());
    let reserve = Address::repeat_byte(0xaa);
    let mut from = chain.state.account(&reserve).unwrap().unwrap();
    from.balance -= open(TREASURY_OPEN);
    let mut to = chain.state.account(&TREASURY).unwrap().unwrap_or_default();
    to.balance += open(TREASURY_OPEN);
    changes.accounts.insert(reserve, from);
    changes.accounts.insert(TREASURY, to);
    chain.state.apply(changes);

    for (who, amount) in [(A, 300), (B, 200), (C, 100), (D, 40)] {
        stake(&mut chain, who, amount);
    }
    delegate(&mut chain, A, A);
    delegate(&mut chain, C, B);
    chain
}

fn stake(chain: &mut Chain, who: u8, amount: u64) {
    let call = IStakingVotes::stakeCall { validator: account(who), amount: open(amount) };
    chain.ok(who, STAKING, call.abi_encode());
}

fn delegate(chain: &mut Chain, who: u8, to: u8) {
    chain.ok(who, STAKING, IStakingVotes::delegateCall { delegatee: account(to) }.abi_encode());
}

/// The time of the next block.
fn next_time(chain: &Chain) -> u64 {
    chain.env().timestamp
}

/// Skips blocks so that the next block's time is after `t`.
fn wait_past(chain: &mut Chain, t: u64) {
    chain.number = chain.number.max(t / 10);
}

/// Skips blocks so that the next block's time is `t` or later.
fn wait_until(chain: &mut Chain, t: u64) {
    chain.number = chain.number.max(t.div_ceil(10).saturating_sub(1));
}

fn split_action(owner: u16, provider: u16, stakers: u16, contributors: u16) -> Action {
    let params = IInference::Params {
        platformFee: inference::Params::default().platform_fee,
        ownerBps: owner,
        providerBps: provider,
        stakersBps: stakers,
        contributorsBps: contributors,
    };
    Action { target: INFERENCE, data: IInference::setParamsCall { params }.abi_encode().into() }
}

fn spend_action(to: Address, amount: U256) -> Action {
    Action {
        target: GOVERNANCE,
        data: IGovernance::spendTreasuryCall { to, amount }.abi_encode().into(),
    }
}

fn propose_call(actions: Vec<Action>, description: &str) -> Vec<u8> {
    IGovernance::proposeCall { actions, description: description.into() }.abi_encode()
}

/// Proposes `actions` as `from`; returns the new id.
fn propose(chain: &mut Chain, from: u8, actions: Vec<Action>) -> u64 {
    chain.ok(from, GOVERNANCE, propose_call(actions, "a test proposal"));
    GovernanceReader::new(&chain.state).proposal_count().unwrap()
}

fn vote(chain: &mut Chain, from: u8, id: u64, support: u8) -> crate::BlockOutcome {
    chain.ok(from, GOVERNANCE, IGovernance::castVoteCall { proposalId: id, support }.abi_encode())
}

fn vote_call(id: u64, support: u8) -> Vec<u8> {
    IGovernance::castVoteCall { proposalId: id, support }.abi_encode()
}

fn queue_call(id: u64) -> Vec<u8> {
    IGovernance::queueCall { proposalId: id }.abi_encode()
}

fn execute_call(id: u64) -> Vec<u8> {
    IGovernance::executeCall { proposalId: id }.abi_encode()
}

fn cancel_call(id: u64) -> Vec<u8> {
    IGovernance::cancelCall { proposalId: id }.abi_encode()
}

/// The proposal as the next block would see it.
fn proposal(chain: &Chain, id: u64) -> Proposal {
    let out = chain.simulate(
        STRANGER,
        GOVERNANCE,
        &IGovernance::getProposalCall { proposalId: id }.abi_encode(),
    );
    assert!(out.success, "getProposal({id}) reverted: {:?}", out.revert_reason);
    IGovernance::getProposalCall::abi_decode_returns(&out.output).unwrap()
}

fn state(chain: &Chain, id: u64) -> ProposalState {
    let out = chain.simulate(
        STRANGER,
        GOVERNANCE,
        &IGovernance::stateCall { proposalId: id }.abi_encode(),
    );
    IGovernance::stateCall::abi_decode_returns(&out.output).unwrap()
}

/// A and B (600 of 640 votes) vote For; voting ends.
fn pass_vote(chain: &mut Chain, id: u64) {
    let t = proposal(chain, id).snapshot;
    wait_past(chain, t);
    vote(chain, A, id, 1);
    vote(chain, B, id, 1);
    let t = proposal(chain, id).deadline;
    wait_past(chain, t);
    assert_eq!(state(chain, id), ProposalState::Succeeded);
}

/// Votes it through, queues it and waits for its eta.
fn pass_and_queue(chain: &mut Chain, id: u64) {
    pass_vote(chain, id);
    chain.ok(STRANGER, GOVERNANCE, queue_call(id));
    let t = proposal(chain, id).eta;
    wait_until(chain, t);
}

fn logs_of<E: SolEvent>(out: &crate::BlockOutcome) -> Vec<E> {
    out.receipts[0].logs().iter().filter_map(|l| E::decode_log_data(&l.data).ok()).collect()
}

#[test]
fn a_proposal_changes_the_inference_split_through_the_full_path() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let new_split = split_action(3_000, 1_000, 1_000, 5_000);

    let proposed_at = next_time(&chain);
    let out = chain.ok(A, GOVERNANCE, propose_call(vec![new_split.clone()], "Pay owners more"));
    let created: Vec<IGovernance::ProposalCreated> = logs_of(&out);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].proposalId, 1);
    assert_eq!(created[0].voteStart, proposed_at + DELAY);
    assert_eq!(created[0].voteEnd, proposed_at + DELAY + PERIOD);
    let p = proposal(&chain, 1);
    assert_eq!((p.proposer, p.state), (account(A), ProposalState::Pending));
    assert_eq!(p.description, "Pay owners more");
    assert_eq!(p.actions, vec![new_split]);

    wait_past(&mut chain, p.snapshot);
    assert_eq!(state(&chain, 1), ProposalState::Active);
    let out = vote(&mut chain, A, 1, 1);
    let cast: Vec<IGovernance::VoteCast> = logs_of(&out);
    assert_eq!((cast[0].weight, cast[0].support), (open(300), 1));
    // B votes its own stake and the 100 OPEN C delegated to it.
    let reason = IGovernance::castVoteWithReasonCall {
        proposalId: 1,
        support: 1,
        reason: "owners carry the risk".into(),
    };
    let out = chain.ok(B, GOVERNANCE, reason.abi_encode());
    let cast: Vec<IGovernance::VoteCast> = logs_of(&out);
    assert_eq!((cast[0].weight, cast[0].reason.as_str()), (open(300), "owners carry the risk"));
    vote(&mut chain, D, 1, 0);
    let reason = chain.reverts(C, GOVERNANCE, vote_call(1, 2));
    assert!(reason.contains("had no votes at the snapshot"), "{reason}");

    let p = proposal(&chain, 1);
    assert_eq!((p.forVotes, p.againstVotes, p.abstainVotes), (open(600), open(40), U256::ZERO));
    assert_eq!(p.quorum, open(64), "10 % of the 640 OPEN of votes");
    let mut reader = GovernanceReader::new(&chain.state);
    assert!(reader.has_voted(1, account(B)).unwrap());
    assert!(!reader.has_voted(1, account(C)).unwrap());

    wait_past(&mut chain, p.deadline);
    assert_eq!(state(&chain, 1), ProposalState::Succeeded);
    let queued_at = next_time(&chain);
    let out = chain.ok(STRANGER, GOVERNANCE, queue_call(1));
    let queued: Vec<IGovernance::ProposalQueued> = logs_of(&out);
    assert_eq!(queued[0].eta, queued_at + TIMELOCK);
    assert_eq!(state(&chain, 1), ProposalState::Queued);

    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(1));
    assert!(reason.contains("cannot execute before its timelock ends"), "{reason}");
    assert_eq!(inference::InferenceReader::new(&chain.state).params().unwrap().shares.owner, 2_000);

    wait_until(&mut chain, queued_at + TIMELOCK);
    let out = chain.ok(STRANGER, GOVERNANCE, execute_call(1));
    assert_eq!(logs_of::<IGovernance::ProposalExecuted>(&out).len(), 1);
    assert_eq!(logs_of::<IInference::ParamsChanged>(&out).len(), 1);
    assert_eq!(state(&chain, 1), ProposalState::Executed);
    let params = inference::InferenceReader::new(&chain.state).params().unwrap();
    assert_eq!(
        params.shares,
        Shares { owner: 3_000, provider: 1_000, stakers: 1_000, contributors: 5_000 }
    );
    assert_eq!(chain.total_supply(), supply, "nothing created or lost");

    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(1));
    assert!(reason.contains("already been executed"), "{reason}");
}

#[test]
fn the_treasury_pays_only_what_a_proposal_spends() {
    let mut chain = setup();
    let supply = chain.total_supply();
    let id = propose(&mut chain, A, vec![spend_action(account(PAYEE), open(250))]);
    pass_and_queue(&mut chain, id);
    let treasury = chain.balance(TREASURY);
    let payee = chain.balance(account(PAYEE));
    let out = chain.ok(STRANGER, GOVERNANCE, execute_call(id));
    let gas = U256::from(out.gas_used) * U256::from(crate::test_chain::BASE_FEE);
    assert_eq!(chain.balance(account(PAYEE)), payee + open(250));
    // The treasury also received the execution's base fee.
    assert_eq!(chain.balance(TREASURY), treasury - open(250) + gas);
    let spent: Vec<IGovernance::TreasurySpent> = logs_of(&out);
    assert_eq!((spent[0].to, spent[0].amount), (account(PAYEE), open(250)));
    assert_eq!(chain.total_supply(), supply);

    // Spending more than the treasury holds reverts the whole execution.
    let id = propose(&mut chain, A, vec![spend_action(account(PAYEE), open(1_000_000))]);
    pass_and_queue(&mut chain, id);
    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(id));
    assert!(reason.contains("action 0 reverted: the treasury can spend"), "{reason}");
    assert_eq!(state(&chain, id), ProposalState::Queued);
}

#[test]
fn an_action_that_reverts_reverts_the_whole_execution() {
    let mut chain = setup();
    let actions = vec![
        spend_action(account(PAYEE), open(10)),
        split_action(5_000, 5_000, 5_000, 5_000), // not a whole: IInference refuses it
    ];
    let id = propose(&mut chain, A, actions);
    pass_and_queue(&mut chain, id);
    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(id));
    assert!(
        reason.contains("action 1 reverted") && reason.contains("must sum to 10000"),
        "{reason}"
    );
    // The first action's payment did not happen and the proposal stays queued.
    assert_eq!(chain.balance(account(PAYEE)), open(1000));
    assert_eq!(state(&chain, id), ProposalState::Queued);

    // Past the grace period it expires.
    let t = proposal(&chain, id).eta + GRACE_PERIOD;
    wait_past(&mut chain, t);
    assert_eq!(state(&chain, id), ProposalState::Expired);
    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(id));
    assert!(reason.contains("expired"), "{reason}");
}

#[test]
fn proposals_are_canceled_by_their_proposer_while_pending_or_by_governance() {
    let mut chain = setup();
    let first = propose(&mut chain, A, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    let reason = chain.reverts(B, GOVERNANCE, cancel_call(first));
    assert!(reason.contains("only the proposer"), "{reason}");
    let out = chain.ok(A, GOVERNANCE, cancel_call(first));
    assert_eq!(logs_of::<IGovernance::ProposalCanceled>(&out).len(), 1);
    assert_eq!(state(&chain, first), ProposalState::Canceled);
    let t = proposal(&chain, first).snapshot;
    wait_past(&mut chain, t);
    let reason = chain.reverts(A, GOVERNANCE, vote_call(first, 1));
    assert!(reason.contains("is Canceled"), "{reason}");
    let reason = chain.reverts(A, GOVERNANCE, cancel_call(first));
    assert!(reason.contains("only while Pending"), "{reason}");

    // Once Active, only governance may cancel: a second proposal cancels a third.
    let target = propose(&mut chain, A, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    let canceller = propose(
        &mut chain,
        B,
        vec![Action {
            target: GOVERNANCE,
            data: IGovernance::cancelCall { proposalId: target }.abi_encode().into(),
        }],
    );
    let t = proposal(&chain, canceller).snapshot;
    wait_past(&mut chain, t);
    let reason = chain.reverts(A, GOVERNANCE, cancel_call(target));
    assert!(reason.contains("is Active"), "{reason}");
    for id in [target, canceller] {
        vote(&mut chain, A, id, 1);
        vote(&mut chain, B, id, 1);
    }
    let t = proposal(&chain, canceller).deadline;
    wait_past(&mut chain, t);
    for id in [target, canceller] {
        chain.ok(STRANGER, GOVERNANCE, queue_call(id));
    }
    let t = proposal(&chain, canceller).eta;
    wait_until(&mut chain, t);
    let out = chain.ok(STRANGER, GOVERNANCE, execute_call(canceller));
    assert_eq!(logs_of::<IGovernance::ProposalCanceled>(&out).len(), 1);
    assert_eq!(state(&chain, target), ProposalState::Canceled);
    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(target));
    assert!(reason.contains("is Canceled"), "{reason}");
    assert_eq!(inference::InferenceReader::new(&chain.state).params().unwrap().shares.owner, 2_000);
}

#[test]
fn proposals_without_quorum_or_with_more_against_are_defeated() {
    let mut chain = setup();
    // D's 40 OPEN For is below the 64 OPEN quorum.
    let thin = propose(&mut chain, A, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    // A's 300 Against beat D's 40 For.
    let against = propose(&mut chain, B, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    // A tie is not a majority.
    let tie = propose(&mut chain, B, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    let t = proposal(&chain, tie).snapshot;
    wait_past(&mut chain, t);
    vote(&mut chain, D, thin, 1);
    vote(&mut chain, A, against, 0);
    vote(&mut chain, D, against, 1);
    vote(&mut chain, A, tie, 1);
    vote(&mut chain, B, tie, 0);
    let t = proposal(&chain, tie).deadline;
    wait_past(&mut chain, t);
    for id in [thin, against, tie] {
        assert_eq!(state(&chain, id), ProposalState::Defeated, "proposal {id}");
        let reason = chain.reverts(STRANGER, GOVERNANCE, queue_call(id));
        assert!(reason.contains("is Defeated; only a Succeeded proposal"), "{reason}");
    }
    // Abstentions count toward the quorum: with them a thin For passes.
    let abstained = propose(&mut chain, A, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    let t = proposal(&chain, abstained).snapshot;
    wait_past(&mut chain, t);
    vote(&mut chain, D, abstained, 1);
    vote(&mut chain, A, abstained, 2);
    let t = proposal(&chain, abstained).deadline;
    wait_past(&mut chain, t);
    assert_eq!(state(&chain, abstained), ProposalState::Succeeded);
}

#[test]
fn votes_are_refused_outside_the_window_twice_or_without_snapshot_stake() {
    let mut chain = setup();
    let reason =
        chain.reverts(D, GOVERNANCE, propose_call(vec![split_action(1, 1, 1, 9_997)], "x"));
    assert!(reason.contains("proposing needs at least"), "{reason}");
    let reason =
        chain.reverts(STRANGER, GOVERNANCE, propose_call(vec![split_action(1, 1, 1, 9_997)], "x"));
    assert!(reason.contains("has 0 votes"), "{reason}");

    let id = propose(&mut chain, A, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    let reason = chain.reverts(A, GOVERNANCE, vote_call(id, 1));
    assert!(reason.contains("is Pending; voting opens after"), "{reason}");

    let t = proposal(&chain, id).snapshot;

    wait_past(&mut chain, t);
    // Stake acquired after the snapshot does not count.
    stake(&mut chain, D, 500);
    stake(&mut chain, STRANGER, 500);
    let out = vote(&mut chain, D, id, 0);
    assert_eq!(logs_of::<IGovernance::VoteCast>(&out)[0].weight, open(40));
    let reason = chain.reverts(STRANGER, GOVERNANCE, vote_call(id, 0));
    assert!(reason.contains("had no votes at the snapshot"), "{reason}");
    let reason = chain.reverts(D, GOVERNANCE, vote_call(id, 1));
    assert!(reason.contains("has already voted"), "{reason}");
    let reason = chain.reverts(A, GOVERNANCE, vote_call(id, 3));
    assert!(reason.contains("support must be 0 (against), 1 (for) or 2 (abstain)"), "{reason}");
    let reason = chain.reverts(A, GOVERNANCE, vote_call(99, 1));
    assert!(reason.contains("proposal 99 does not exist"), "{reason}");
    assert_eq!(proposal(&chain, id).againstVotes, open(40));

    let t = proposal(&chain, id).deadline;

    wait_past(&mut chain, t);
    let reason = chain.reverts(A, GOVERNANCE, vote_call(id, 1));
    assert!(reason.contains("voting closed at"), "{reason}");
}

#[test]
fn bad_proposals_are_refused() {
    let mut chain = setup();
    let ok = split_action(3_000, 1_000, 1_000, 5_000);
    let cases: Vec<(Vec<Action>, &str, &str)> = vec![
        (vec![], "x", "needs at least one action"),
        (vec![ok.clone(); MAX_ACTIONS + 1], "x", "at most 16 allowed"),
        (vec![ok.clone()], "", "needs a description"),
        (vec![ok.clone()], "bad\u{7}bell", "control characters"),
        (
            vec![Action { target: account(PAYEE), data: ok.data.clone() }],
            "x",
            "is not a callable system contract",
        ),
        (vec![Action { target: TREASURY, data: ok.data.clone() }], "x", "not a callable"),
        (vec![Action { target: INFERENCE, data: vec![1, 2].into() }], "x", "no function selector"),
        (
            vec![Action { target: INFERENCE, data: vec![0; MAX_ACTION_DATA + 1].into() }],
            "x",
            "at most 4096 allowed",
        ),
        (
            vec![Action { target: INFERENCE, data: vec![0; MAX_ACTION_DATA].into() }; 3],
            "x",
            "at most 8192 allowed",
        ),
        (
            vec![Action { target: GOVERNANCE, data: vote_call(1, 1).into() }],
            "x",
            "may call governance only for setParams, spendTreasury or cancel",
        ),
        (
            vec![Action { target: GOVERNANCE, data: execute_call(1).into() }],
            "x",
            "may call governance only",
        ),
    ];
    for (actions, description, want) in cases {
        let reason = chain.reverts(A, GOVERNANCE, propose_call(actions, description));
        assert!(reason.contains(want), "wanted {want:?}, got {reason:?}");
    }
    let long = "x".repeat(MAX_DESCRIPTION + 1);
    let reason = chain.reverts(A, GOVERNANCE, propose_call(vec![ok], &long));
    assert!(reason.contains("the description is 4097 bytes"), "{reason}");
    assert_eq!(GovernanceReader::new(&chain.state).proposal_count().unwrap(), 0);
}

#[test]
fn parameters_change_only_through_proposals() {
    let mut chain = setup();
    let new = Params {
        voting_delay: 30,
        voting_period: 200,
        proposal_threshold: open(1),
        quorum_numerator: 20,
        timelock_delay: 0,
    };
    let governance_params = IGovernance::setParamsCall { params: new.into() }.abi_encode();
    let models_params =
        IModels::setParamsCall { params: IModels::Params { deploymentFee: open(1) } }.abi_encode();
    let inference_params = split_action(3_000, 1_000, 1_000, 5_000).data.to_vec();
    let spend = IGovernance::spendTreasuryCall { to: account(A), amount: open(1) }.abi_encode();
    for (target, call, name) in [
        (GOVERNANCE, &governance_params, "IGovernance.setParams"),
        (GOVERNANCE, &spend, "IGovernance.spendTreasury"),
        (MODELS, &models_params, "IModels.setParams"),
        (INFERENCE, &inference_params, "IInference.setParams"),
    ] {
        let reason = chain.reverts(A, target, call.clone());
        assert!(reason.contains(&format!("{name} may only be called by governance")), "{reason}");
    }

    // Refused values revert the execution.
    let zero_period = Params { voting_period: 0, ..new };
    let id = propose(
        &mut chain,
        A,
        vec![Action {
            target: GOVERNANCE,
            data: IGovernance::setParamsCall { params: zero_period.into() }.abi_encode().into(),
        }],
    );
    pass_and_queue(&mut chain, id);
    let reason = chain.reverts(STRANGER, GOVERNANCE, execute_call(id));
    assert!(reason.contains("votingPeriod must be more than 0"), "{reason}");

    let id = propose(
        &mut chain,
        A,
        vec![
            Action { target: GOVERNANCE, data: governance_params.into() },
            Action { target: MODELS, data: models_params.into() },
        ],
    );
    pass_and_queue(&mut chain, id);
    let out = chain.ok(STRANGER, GOVERNANCE, execute_call(id));
    assert_eq!(logs_of::<IGovernance::ParamsChanged>(&out).len(), 1);
    assert_eq!(GovernanceReader::new(&chain.state).params().unwrap(), new);
    assert_eq!(ModelsReader::new(&chain.state).params().unwrap().deployment_fee, open(1));
    let out = chain.simulate(STRANGER, GOVERNANCE, &IGovernance::paramsCall {}.abi_encode());
    let read = IGovernance::paramsCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(Params::from(read), new);

    // The new parameters apply to the next proposal: D's 40 OPEN clear the 1 OPEN threshold.
    let proposed_at = next_time(&chain);
    let id = propose(&mut chain, D, vec![split_action(3_000, 1_000, 1_000, 5_000)]);
    assert_eq!(proposal(&chain, id).snapshot, proposed_at + 30);
}

#[test]
fn malformed_calls_and_views() {
    let mut chain = setup();
    let reason = chain.reverts(A, GOVERNANCE, vec![0xde, 0xad, 0xbe, 0xef]);
    assert!(reason.contains("IGovernance has no function with selector 0xdeadbeef"), "{reason}");
    let mut truncated = vote_call(1, 1);
    truncated.truncate(20);
    let reason = chain.reverts(A, GOVERNANCE, truncated);
    assert!(reason.contains("malformed arguments for IGovernance"), "{reason}");
    let reason = chain.reverts(A, GOVERNANCE, vec![1]);
    assert!(reason.contains("has no function selector"), "{reason}");
    let reason = chain.reverts(A, GOVERNANCE, execute_call(7));
    assert!(reason.contains("proposal 7 does not exist"), "{reason}");

    let now = next_time(&chain);
    let quorum = IGovernance::quorumCall { timepoint: now - 1 }.abi_encode();
    let out = chain.simulate(A, GOVERNANCE, &quorum);
    assert_eq!(IGovernance::quorumCall::abi_decode_returns(&out.output).unwrap(), open(64));
    let future = IGovernance::quorumCall { timepoint: now }.abi_encode();
    let out = chain.simulate(A, GOVERNANCE, &future);
    assert!(out.revert_reason.unwrap().contains("is not in the past"));
    let votes = IGovernance::getVotesCall { account: account(B), timepoint: now - 1 };
    let out = chain.simulate(A, GOVERNANCE, &votes.abi_encode());
    assert_eq!(IGovernance::getVotesCall::abi_decode_returns(&out.output).unwrap(), open(300));
    let out = chain.simulate(A, GOVERNANCE, &IGovernance::CLOCK_MODECall {}.abi_encode());
    assert_eq!(IGovernance::CLOCK_MODECall::abi_decode_returns(&out.output).unwrap(), CLOCK_MODE);
    let out = chain.simulate(A, GOVERNANCE, &IGovernance::clockCall {}.abi_encode());
    assert_eq!(IGovernance::clockCall::abi_decode_returns(&out.output).unwrap().to::<u64>(), now);
    let reader = GovernanceReader::new(&chain.state).proposal(1, now).unwrap();
    assert!(reader.is_none());
}

/// One proposal of a random governance history and what happens to it.
#[derive(Debug, Clone)]
struct Plan {
    proposer: u8,
    /// OPEN it pays the payee from the treasury (the treasury holds 1,000).
    spend: u64,
    /// How A, B, C and D vote: 0 not at all, else support + 1.
    votes: [u8; 4],
    cancel_while_pending: bool,
    execute_before_eta: bool,
}

fn plan() -> impl Strategy<Value = Plan> {
    // Mostly proposals that can pass: by A or B, with votes For.
    let proposer = prop::sample::select(vec![A, A, B, B, C, D, STRANGER]);
    let choice = || prop::sample::select(vec![0u8, 1, 2, 2, 2, 3]);
    let votes = [choice(), choice(), choice(), choice()];
    (proposer, 1..1_200u64, votes, prop::bool::weighted(0.2), any::<bool>()).prop_map(
        |(proposer, spend, votes, cancel_while_pending, execute_before_eta)| Plan {
            proposer,
            spend,
            votes,
            cancel_while_pending,
            execute_before_eta,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever is proposed, voted, canceled, queued or executed (in time,
    /// too early, too late, twice), the sum of all balances stays the
    /// supply, and the payee receives exactly the spends of the executed
    /// proposals.
    #[test]
    fn no_governance_operation_creates_or_destroys_open(
        plans in prop::collection::vec(plan(), 1..4),
        expire in prop::bool::weighted(0.2),
    ) {
        let mut chain = setup();
        let supply = chain.total_supply();
        let payee = chain.balance(account(PAYEE));
        let mut proposals = Vec::new();
        for plan in plans {
            let actions = vec![
                spend_action(account(PAYEE), open(plan.spend)),
                split_action(3_000, 1_000, 1_000, 5_000),
            ];
            let out = chain.send(plan.proposer, GOVERNANCE, propose_call(actions, "random"));
            if out.receipts[0].success() {
                let id = GovernanceReader::new(&chain.state).proposal_count().unwrap();
                proposals.push((id, plan));
            }
            prop_assert_eq!(chain.total_supply(), supply);
        }
        for (id, plan) in &proposals {
            if plan.cancel_while_pending {
                chain.send(plan.proposer, GOVERNANCE, cancel_call(*id));
            }
        }
        let last = proposals.iter().map(|(id, _)| proposal(&chain, *id)).max_by_key(|p| p.deadline);
        let Some(last) = last else { return Ok(()) };
        wait_past(&mut chain, last.snapshot);
        for (id, plan) in &proposals {
            for (voter, choice) in plan.votes.iter().enumerate() {
                if *choice > 0 {
                    chain.send(voter as u8, GOVERNANCE, vote_call(*id, choice - 1));
                }
            }
        }
        wait_past(&mut chain, last.deadline);
        for (id, plan) in &proposals {
            chain.send(STRANGER, GOVERNANCE, queue_call(*id));
            if plan.execute_before_eta {
                chain.send(STRANGER, GOVERNANCE, execute_call(*id));
            }
            prop_assert_eq!(chain.total_supply(), supply);
        }
        let eta = proposals.iter().map(|(id, _)| proposal(&chain, *id).eta).max().unwrap_or(0);
        let wait = if expire { eta + GRACE_PERIOD } else { eta };
        wait_until(&mut chain, wait);
        let mut paid = U256::ZERO;
        for (id, plan) in &proposals {
            let was = state(&chain, *id);
            let out = chain.send(STRANGER, GOVERNANCE, execute_call(*id));
            if out.receipts[0].success() {
                prop_assert_eq!(was, ProposalState::Queued);
                paid += open(plan.spend);
            }
            let again = chain.send(STRANGER, GOVERNANCE, execute_call(*id));
            prop_assert!(!again.receipts[0].success(), "proposal {} executed twice", id);
            prop_assert_eq!(chain.total_supply(), supply);
        }
        prop_assert_eq!(chain.balance(account(PAYEE)), payee + paid);
    }
}

/// One proposal reaches every kind of governed module: it confirms a
/// poisoning report (datanets), lowers the penalty threshold (datanets
/// parameters), routes a share of base fees to stakers (staking) and
/// shortens the challenge window (inference) — each a call only the
/// governance address may make.
#[test]
fn one_proposal_governs_datanets_staking_and_challenges() {
    use crate::{
        datanets::{DATANETS, DatanetConfig, DatanetsReader, Format, IDatanets, Policy},
        staking::{IStaking, StakingReader},
    };
    let mut chain = setup();
    let config = DatanetConfig {
        name: "harbour".into(),
        summary: String::new(),
        description: String::new(),
        tags: vec![],
        licence: "CC0-1.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    chain.ok(A, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
    let report = IDatanets::reportPoisoningCall {
        datanetId: 1,
        account: account(PAYEE),
        evidenceHash: B256::repeat_byte(0x5e),
        reason: "planted false tide tables".into(),
    };
    chain.ok(STRANGER, DATANETS, report.abi_encode());
    // Each of these is refused from an ordinary account.
    let confirm = IDatanets::resolvePoisoningReportCall { reportId: 1, confirmed: true };
    let reason = chain.reverts(A, DATANETS, confirm.abi_encode());
    assert!(reason.contains("governance"), "{reason}");

    let mut datanet_params =
        IDatanets::Params::from(DatanetsReader::new(&chain.state).params().unwrap());
    datanet_params.penaltyThreshold = 40;
    let staking_params = IStaking::Params {
        unbondingSeconds: 3_600,
        slashReporterBps: 5_000,
        baseFeeStakersBps: 1_000,
    };
    let challenge_params = IInference::ChallengeParams {
        windowSeconds: 600,
        bond: open(1),
        providerSlash: open(50),
        challengerBps: 4_000,
    };
    let actions = vec![
        Action { target: DATANETS, data: confirm.abi_encode().into() },
        Action {
            target: DATANETS,
            data: IDatanets::setParamsCall { params: datanet_params }.abi_encode().into(),
        },
        Action {
            target: STAKING,
            data: IStaking::setParamsCall { params: staking_params }.abi_encode().into(),
        },
        Action {
            target: INFERENCE,
            data: IInference::setChallengeParamsCall { params: challenge_params }
                .abi_encode()
                .into(),
        },
    ];
    let supply = chain.total_supply();
    let id = propose(&mut chain, A, actions);
    pass_and_queue(&mut chain, id);
    chain.ok(STRANGER, GOVERNANCE, execute_call(id));
    assert_eq!(state(&chain, id), ProposalState::Executed);
    assert_eq!(chain.total_supply(), supply);

    let mut datanets = DatanetsReader::new(&chain.state);
    assert_eq!(datanets.penalty_threshold().unwrap(), 40);
    let penalty = datanets.penalty(1, account(PAYEE)).unwrap();
    assert!(penalty.cut, "the confirmed poisoner's rewards are cut: {penalty:?}");
    assert_eq!(StakingReader::new(&chain.state).params().unwrap().base_fee_stakers_bps, 1_000);
    let mut frame = crate::system::read_frame(&chain.state, INFERENCE);
    assert_eq!(inference::challenge::params(&mut frame).unwrap().window_seconds, 600);
}
