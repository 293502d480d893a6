//! Staking through signed transactions and `execute_block`; slashing and
//! distribution (not callable over ABI) through a frame as the modules that
//! use them run it; a property test over random histories.

use super::*;
use crate::{
    MemoryState,
    datanets::{DATANETS, DatanetConfig, Format, IDatanets, Policy},
    inference::{
        Attributed, IInference, INFERENCE, InferenceAuthorization, Settlement,
        authorization_signing_hash,
    },
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
    state::StateChanges,
    system::{
        CallEnv,
        slots::{KeyPart, slot},
    },
    test_chain::{BASE_FEE, CHAIN, Chain, account, key},
    vesting::{VestingSchedule, schedule_slot},
};
use alloy_primitives::{B256, Log};
use alloy_signer::SignerSync;
use ol_primitives::addresses::{GOVERNANCE, TREASURY, VESTING};

fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18))
}

fn reader(chain: &Chain) -> StakingReader<'_, MemoryState> {
    StakingReader::new(&chain.state)
}

fn stake(validator: u8, amount: U256) -> Vec<u8> {
    IStaking::stakeCall { validator: account(validator), amount }.abi_encode()
}

fn unstake(validator: u8, amount: U256) -> Vec<u8> {
    IStaking::unstakeCall { validator: account(validator), amount }.abi_encode()
}

fn withdraw(validator: u8) -> Vec<u8> {
    IStaking::withdrawUnbondedCall { validator: account(validator) }.abi_encode()
}

fn claim(validator: u8) -> Vec<u8> {
    IStaking::claimRewardsCall { validator: account(validator) }.abi_encode()
}

fn delegate(to: Address) -> Vec<u8> {
    IStaking::delegateCall { delegatee: to }.abi_encode()
}

/// Gas paid for a block of one transaction (no priority fee).
fn gas(out: &crate::BlockOutcome) -> U256 {
    U256::from(out.gas_used) * U256::from(BASE_FEE)
}

fn logs<E: SolEvent>(out: &crate::BlockOutcome) -> Vec<E> {
    out.receipts[0].logs().iter().filter_map(|l| E::decode_log_data(&l.data).ok()).collect()
}

/// Runs `rules` in the next block as another module would (slashing,
/// distributing), keeping its changes only when it succeeds.
fn as_module<T>(
    chain: &mut Chain,
    rules: impl FnOnce(&mut Frame<'_, MemoryState>) -> Result<T>,
) -> (Result<T>, Vec<Log>) {
    let env = chain.env();
    chain.number += 1;
    let call_env =
        CallEnv { spec: &chain.spec, block: &env, caller: Address::ZERO, content: &chain.blobs };
    let mut frame =
        Frame::new(&chain.state, ol_primitives::addresses::AGENTS, call_env, 10_000_000);
    let result = rules(&mut frame);
    let logs = std::mem::take(&mut frame.logs);
    let changes = frame.state.into_changes();
    if result.is_ok() {
        chain.state.apply(changes);
    }
    (result, logs)
}

/// Calls the staking contract as governance (a proposal's action).
fn as_governance(chain: &mut Chain, input: &[u8]) -> crate::system::CallOutcome {
    let env = chain.env();
    let call_env =
        CallEnv { spec: &chain.spec, block: &env, caller: GOVERNANCE, content: &chain.blobs };
    let out = crate::system::call(&chain.state, call_env, STAKING, input, 1_000_000).unwrap();
    chain.state.apply(out.changes.clone());
    out
}

/// STAKING holds exactly the bonded, the unbonding and the unclaimed rewards.
fn assert_pool_covers(chain: &Chain) {
    let mut r = reader(chain);
    let pool = r.reward_pool().unwrap();
    let held =
        r.total_bonded().unwrap() + r.total_unbonding().unwrap() + pool.distributed - pool.claimed;
    assert_eq!(chain.balance(STAKING), held);
}

#[test]
fn stake_bonds_spendable_open_to_self_or_another() {
    let mut chain = Chain::new();
    let supply = chain.total_supply();
    let before = chain.balance(account(1));
    let out = chain.ok(1, STAKING, stake(1, open(100)));
    assert_eq!(chain.balance(account(1)), before - open(100) - gas(&out));
    let staked = logs::<IStaking::Staked>(&out);
    assert_eq!(staked.len(), 1);
    assert_eq!((staked[0].staker, staked[0].validator), (account(1), account(1)));
    // A delegation of stake: account 2 bonds to account 1.
    chain.ok(2, STAKING, stake(1, open(50)));
    chain.ok(2, STAKING, stake(3, open(5)));
    assert_eq!(chain.total_supply(), supply);
    assert_eq!(chain.balance(STAKING), open(155));

    let mut r = reader(&chain);
    assert_eq!(r.bonded(account(1), account(1)).unwrap(), open(100));
    assert_eq!(r.bonded(account(2), account(1)).unwrap(), open(50));
    assert_eq!(r.validator_stake(account(1)).unwrap(), open(150));
    assert_eq!(r.validator_stake(account(3)).unwrap(), open(5));
    assert_eq!(r.total_bonded().unwrap(), open(155));
    // Votes belong to whoever bonded, not to the validator.
    assert_eq!(r.votes(account(1)).unwrap(), open(100));
    assert_eq!(r.votes(account(2)).unwrap(), open(55));
    assert_eq!(r.votes(account(3)).unwrap(), U256::ZERO);
    let positions = r.positions(account(2)).unwrap();
    assert_eq!(positions.len(), 2);
    assert_eq!((positions[0].validator, positions[0].bonded), (account(1), open(50)));
    assert_eq!((positions[1].validator, positions[1].bonded), (account(3), open(5)));
    assert_eq!(r.stakers().unwrap(), vec![account(1), account(2)]);

    // The same through the ABI views.
    let out =
        chain.simulate(7, STAKING, &IStaking::positionsOfCall { staker: account(2) }.abi_encode());
    let listed = IStaking::positionsOfCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].bonded, open(5));
    let out = chain.simulate(7, STAKING, &IStaking::totalBondedCall {}.abi_encode());
    assert_eq!(U256::abi_decode(&out.output).unwrap(), open(155));
    assert_pool_covers(&chain);
}

#[test]
fn unstaked_open_is_withdrawn_after_the_unbonding_period() {
    let mut chain = Chain::new();
    chain.ok(1, STAKING, stake(2, open(100)));
    let out = chain.ok(1, STAKING, unstake(2, open(40)));
    let started = logs::<IStaking::UnbondingStarted>(&out);
    let completes_at = started[0].completesAt;
    assert_eq!(completes_at, chain.number * 10 + Params::default().unbonding_seconds);
    let mut r = reader(&chain);
    assert_eq!(r.bonded(account(1), account(2)).unwrap(), open(60));
    assert_eq!(r.unbonding(account(1), account(2)).unwrap(), open(40));
    assert_eq!(r.votes(account(1)).unwrap(), open(60), "unbonding stops voting at once");
    assert_eq!(r.total_bonded().unwrap(), open(60));
    assert_eq!(
        r.positions(account(1)).unwrap()[0].unbonding,
        vec![Unbonding { amount: open(40), completesAt: completes_at }]
    );

    let reason = chain.reverts(1, STAKING, withdraw(2));
    assert!(reason.contains(&format!("completes at {completes_at}")), "{reason}");
    // Jump to the block just before it completes: still refused.
    chain.number = completes_at / 10 - 2;
    assert_eq!(chain.env().timestamp, completes_at - 10);
    chain.reverts(1, STAKING, withdraw(2));
    let before = chain.balance(account(1));
    let out = chain.ok(1, STAKING, withdraw(2));
    assert_eq!(chain.balance(account(1)), before + open(40) - gas(&out));
    assert_eq!(logs::<IStaking::Withdrawn>(&out)[0].amount, open(40));
    let mut r = reader(&chain);
    assert_eq!(r.unbonding(account(1), account(2)).unwrap(), U256::ZERO);
    assert_eq!(r.total_unbonding().unwrap(), U256::ZERO);
    let reason = chain.reverts(1, STAKING, withdraw(2));
    assert!(reason.contains("nothing unbonding"), "{reason}");
    assert_pool_covers(&chain);
}

#[test]
fn withdraw_pays_only_matured_entries() {
    let mut chain = Chain::new();
    chain.ok(1, STAKING, stake(1, open(100)));
    let first = chain.number * 10;
    chain.ok(1, STAKING, unstake(1, open(10)));
    chain.number += 1_000;
    chain.ok(1, STAKING, unstake(1, open(20)));
    let period = Params::default().unbonding_seconds;
    chain.number = (first + 10 + period) / 10 + 5;
    chain.ok(1, STAKING, withdraw(1));
    let mut r = reader(&chain);
    let left = &r.positions(account(1)).unwrap()[0].unbonding;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].amount, open(20));
    assert_eq!(r.unbonding(account(1), account(1)).unwrap(), open(20));
}

/// A datanet with one contribution by account 3 in version 1 and model 1
/// trained on it, served by account 5 (account 6 pays).
fn inference_chain() -> Chain {
    let mut chain = Chain::new();
    let config = DatanetConfig {
        name: "harbour".into(),
        summary: String::new(),
        description: String::new(),
        tags: vec![],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    chain.ok(0, DATANETS, IDatanets::createDatanetCall { config }.abi_encode());
    let hash = chain.blobs.add_distinct(3, 100);
    let contribution = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: 100,
        format: Format::Text,
        licence: String::new(),
    };
    chain.ok(3, DATANETS, contribution.abi_encode());
    chain.ok(0, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode());
    let index = IDatanets::recordIndexCall {
        datanetId: 1,
        version: 1,
        indexHash: B256::repeat_byte(0x11),
        tokenizer: "bytes".into(),
    };
    chain.ok(0, DATANETS, index.abi_encode());
    let model = ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: B256::repeat_byte(0x77),
        kind: Kind::Full,
        inputPricePer1k: open(1) / U256::from(10u64),
        outputPricePer1k: open(1),
        providers: vec![account(5)],
    };
    chain.ok(4, MODELS, IModels::registerModelCall { config: model }.abi_encode());
    chain
}

/// Settles one inference (500 input, 256 output tokens: 0.307 OPEN, of
/// which 20 % of 0.306 OPEN, 0.0612 OPEN, is the stakers'); returns its
/// block.
fn settle(chain: &mut Chain, nonce: u64) -> crate::BlockOutcome {
    let settlement = Settlement {
        modelId: 1,
        payer: account(6),
        promptHash: B256::repeat_byte(0xa1),
        outputHash: B256::repeat_byte(0xb2),
        inputTokens: 500,
        outputTokens: 256,
        fee: U256::from(307_000_000_000_000_000u128),
        datanetId: 1,
        version: 1,
        indexHash: B256::repeat_byte(0x11),
        attribution: vec![Attributed { contributionId: 1, bps: 10_000 }],
        maxFee: open(1),
        nonce: U256::from(nonce),
        expiry: u64::MAX,
    };
    let authorization = InferenceAuthorization {
        modelId: 1,
        provider: account(5),
        maxFee: settlement.maxFee,
        nonce: settlement.nonce,
        expiry: settlement.expiry,
    };
    let hash = authorization_signing_hash(CHAIN, &authorization);
    let signature = key(6).sign_hash_sync(&hash).unwrap().as_bytes().to_vec();
    let call = IInference::settleCall { settlement, signature: signature.into() };
    chain.ok(5, INFERENCE, call.abi_encode())
}

const STAKERS_SHARE: u128 = 61_200_000_000_000_000;

#[test]
fn inference_fees_reward_stakers_pro_rata() {
    let mut chain = inference_chain();
    let supply = chain.total_supply();
    // Settled before anything is bonded: the stakers' share waits.
    let out = settle(&mut chain, 1);
    let share = U256::from(STAKERS_SHARE);
    let credited = logs::<IInference::Credited>(&out);
    assert!(credited.iter().any(|c| c.account == STAKING && c.amount == share));
    let distributed = logs::<IStaking::RewardsDistributed>(&out);
    assert_eq!(distributed[0].queued, share);
    assert_eq!(chain.balance(STAKING), share);
    assert_eq!(reader(&chain).undistributed().unwrap(), share);

    // 1 : 3, to different validators.
    chain.ok(1, STAKING, stake(1, open(100)));
    chain.ok(2, STAKING, stake(7, open(300)));
    settle(&mut chain, 2);
    let mut r = reader(&chain);
    // Both shares (the queued one joined this distribution), split 1 : 3
    // exactly: 0.1224 OPEN × 1e36 / 400 OPEN divides evenly.
    let first = r.pending_rewards(account(1), account(1)).unwrap();
    let second = r.pending_rewards(account(2), account(7)).unwrap();
    assert_eq!(first, share * U256::from(2) / U256::from(4));
    assert_eq!(second, share * U256::from(6) / U256::from(4));
    assert_eq!(r.undistributed().unwrap(), U256::ZERO);
    assert_eq!(chain.balance(STAKING), open(400) + share * U256::from(2));
    assert_pool_covers(&chain);

    // Account 1 claims; the third settlement again goes 1 : 3.
    let before = chain.balance(account(1));
    let out = chain.ok(1, STAKING, claim(1));
    assert_eq!(chain.balance(account(1)), before + first - gas(&out));
    assert_eq!(logs::<IStaking::RewardsClaimed>(&out)[0].amount, first);
    let reason = chain.reverts(1, STAKING, claim(1));
    assert!(reason.contains("no rewards to claim"), "{reason}");
    settle(&mut chain, 3);
    let mut r = reader(&chain);
    assert_eq!(r.pending_rewards(account(1), account(1)).unwrap(), share / U256::from(4));
    assert_eq!(
        r.pending_rewards(account(2), account(7)).unwrap(),
        second + share * U256::from(3) / U256::from(4)
    );
    assert_eq!(chain.total_supply(), supply);
    assert_pool_covers(&chain);

    // Unbonding stops earning: the next share goes to account 2 alone.
    chain.ok(1, STAKING, unstake(1, open(100)));
    settle(&mut chain, 4);
    let mut r = reader(&chain);
    assert_eq!(r.pending_rewards(account(1), account(1)).unwrap(), share / U256::from(4));
    assert_eq!(
        r.pending_rewards(account(2), account(7)).unwrap(),
        second + share * U256::from(7) / U256::from(4)
    );
}

#[test]
fn rounding_leaves_dust_that_later_claims_recover() {
    let mut chain = Chain::new();
    // Three equal stakes; 10 wei cannot be split three ways.
    for who in 1..=3 {
        chain.ok(who, STAKING, stake(1, open(1)));
    }
    let supply = chain.total_supply();
    let (result, _) = as_module(&mut chain, |f| distribute(f, account(0), U256::from(10)));
    result.unwrap();
    let mut r = reader(&chain);
    for who in 1..=3 {
        assert_eq!(r.pending_rewards(account(who), account(1)).unwrap(), U256::from(3));
    }
    assert_eq!(r.undistributed().unwrap(), U256::from(1), "one wei of fractions");
    // Two more wei: each now holds 4 wei of credit.
    let (result, _) = as_module(&mut chain, |f| distribute(f, account(0), U256::from(2)));
    result.unwrap();
    let mut r = reader(&chain);
    for who in 1..=3 {
        assert_eq!(r.pending_rewards(account(who), account(1)).unwrap(), U256::from(4));
    }
    assert_eq!(r.undistributed().unwrap(), U256::ZERO);
    assert_eq!(chain.total_supply(), supply);
    assert_pool_covers(&chain);
}

#[test]
fn votes_follow_delegation_with_a_history_by_block_time() {
    let mut chain = Chain::new();
    chain.ok(1, STAKING, stake(1, open(100)));
    let t1 = chain.number * 10;
    chain.ok(2, STAKING, stake(1, open(50)));
    let t2 = chain.number * 10;
    let out = chain.ok(1, STAKING, delegate(account(3)));
    let t3 = chain.number * 10;
    let changed = logs::<IStaking::DelegateChanged>(&out);
    assert_eq!(
        (changed[0].delegator, changed[0].fromDelegate, changed[0].toDelegate),
        (account(1), account(1), account(3))
    );
    assert_eq!(logs::<IStaking::DelegateVotesChanged>(&out).len(), 2);
    // Stake bonded after delegating counts for the delegate too.
    chain.ok(1, STAKING, stake(2, open(10)));
    let t4 = chain.number * 10;
    chain.ok(1, STAKING, unstake(1, open(30)));
    let t5 = chain.number * 10;

    let mut r = reader(&chain);
    assert_eq!(r.delegates(account(1)).unwrap(), account(3));
    assert_eq!(r.delegates(account(2)).unwrap(), account(2), "never delegated: itself");
    assert_eq!(r.votes(account(1)).unwrap(), U256::ZERO);
    assert_eq!(r.votes(account(3)).unwrap(), open(80));
    assert_eq!(r.votes(account(2)).unwrap(), open(50));
    let at = |r: &mut StakingReader<'_, MemoryState>, who: u8, t: u64| {
        r.past_votes(account(who), t).unwrap()
    };
    assert_eq!(at(&mut r, 1, t1 - 1), U256::ZERO);
    assert_eq!(at(&mut r, 1, t1), open(100));
    assert_eq!(at(&mut r, 1, t2 + 5), open(100));
    assert_eq!(at(&mut r, 1, t3), U256::ZERO);
    assert_eq!(at(&mut r, 3, t3), open(100));
    assert_eq!(at(&mut r, 3, t4), open(110));
    assert_eq!(at(&mut r, 3, t5), open(80));
    assert_eq!(r.past_total_votes(t1).unwrap(), open(100));
    assert_eq!(r.past_total_votes(t2).unwrap(), open(150));
    assert_eq!(r.past_total_votes(t4).unwrap(), open(160));
    assert_eq!(r.past_total_votes(t5).unwrap(), open(130));

    // Through the ABI: only the past is final.
    let input = IStaking::getPastVotesCall { account: account(3), timepoint: U256::from(t4) };
    let out = chain.simulate(7, STAKING, &input.abi_encode());
    assert_eq!(U256::abi_decode(&out.output).unwrap(), open(110));
    let now = chain.env().timestamp;
    let input = IStaking::getPastTotalSupplyCall { timepoint: U256::from(now) };
    let out = chain.simulate(7, STAKING, &input.abi_encode());
    assert!(out.revert_reason.unwrap().contains("not in the past"));
    let out = chain.simulate(7, STAKING, &IStaking::clockCall {}.abi_encode());
    assert_eq!(IStaking::clockCall::abi_decode_returns(&out.output).unwrap().to::<u64>(), now);
    let out = chain.simulate(7, STAKING, &IStaking::CLOCK_MODECall {}.abi_encode());
    assert_eq!(IStaking::CLOCK_MODECall::abi_decode_returns(&out.output).unwrap(), CLOCK_MODE);

    // Back to itself.
    chain.ok(1, STAKING, delegate(account(1)));
    let mut r = reader(&chain);
    assert_eq!(r.votes(account(1)).unwrap(), open(80));
    assert_eq!(r.votes(account(3)).unwrap(), U256::ZERO);
    let reason = chain.reverts(1, STAKING, delegate(Address::ZERO));
    assert!(reason.contains("zero address"), "{reason}");
}

#[test]
fn checkpoints_in_one_block_time_overwrite() {
    let mut chain = Chain::new();
    chain.ok(1, STAKING, stake(1, open(10)));
    // Two changes in one block: its checkpoint is written, then overwritten.
    let env_time = chain.env().timestamp;
    let (result, _) = as_module(&mut chain, |f| {
        bond(f, account(1), account(1), open(1))?;
        bond(f, account(1), account(1), open(2))
    });
    result.unwrap();
    let mut frame = crate::system::read_frame(&chain.state, STAKING);
    assert_eq!(frame.load_u64(slot("votes", &[KeyPart::Address(&account(1))])).unwrap(), 2);
    assert_eq!(reader(&chain).past_votes(account(1), env_time).unwrap(), open(13));
}

#[test]
fn slashing_takes_bond_then_newest_unbonding() {
    let mut chain = inference_chain();
    chain.ok(1, STAKING, stake(2, open(100)));
    settle(&mut chain, 1);
    chain.ok(1, STAKING, unstake(2, open(20)));
    chain.ok(1, STAKING, unstake(2, open(30)));
    let earned = reader(&chain).pending_rewards(account(1), account(2)).unwrap();
    assert_eq!(earned, U256::from(STAKERS_SHARE));
    let supply = chain.total_supply();
    let treasury = chain.balance(TREASURY);
    let reporter = account(7);
    let before = chain.balance(reporter);

    // 60 of 50 bonded + 50 unbonding, with a reporter: half each.
    let (result, logs) =
        as_module(&mut chain, |f| slash(f, account(1), account(2), open(60), Some(reporter)));
    let slashed = result.unwrap();
    assert_eq!(
        slashed,
        Slashed {
            from_bonded: open(50),
            from_unbonding: open(10),
            to_reporter: open(30),
            to_treasury: open(30),
        }
    );
    assert!(logs.iter().all(|l| l.address == STAKING));
    let event = logs.iter().find_map(|l| IStaking::Slashed::decode_log_data(&l.data).ok()).unwrap();
    assert_eq!((event.reporter, event.toReporter), (reporter, open(30)));
    assert_eq!(chain.balance(reporter), before + open(30));
    assert_eq!(chain.balance(TREASURY), treasury + open(30));
    let mut r = reader(&chain);
    assert_eq!(r.bonded(account(1), account(2)).unwrap(), U256::ZERO);
    assert_eq!(r.votes(account(1)).unwrap(), U256::ZERO, "slashing lowers votes at once");
    let entries = &r.positions(account(1)).unwrap()[0].unbonding;
    assert_eq!(entries.iter().map(|e| e.amount).collect::<Vec<_>>(), vec![open(20), open(20)]);
    assert_eq!(r.pending_rewards(account(1), account(2)).unwrap(), earned, "rewards are kept");

    // Without a reporter: all to the treasury, the newest entry emptied first.
    let treasury = chain.balance(TREASURY);
    let (result, _) = as_module(&mut chain, |f| slash(f, account(1), account(2), open(25), None));
    assert_eq!(result.unwrap().to_treasury, open(25));
    assert_eq!(chain.balance(TREASURY), treasury + open(25));
    let mut r = reader(&chain);
    let entries = &r.positions(account(1)).unwrap()[0].unbonding;
    assert_eq!(entries.iter().map(|e| e.amount).collect::<Vec<_>>(), vec![open(15)]);
    assert_eq!(r.unbonding(account(1), account(2)).unwrap(), open(15));
    assert_eq!(r.total_unbonding().unwrap(), open(15));

    // More than it holds, or nothing: refused, nothing changes.
    let state = chain.state.clone();
    let (result, _) = as_module(&mut chain, |f| slash(f, account(1), account(2), open(16), None));
    let Err(CallError::Revert(reason)) = result else { panic!("{result:?}") };
    assert!(reason.contains("cannot slash"), "{reason}");
    let (result, _) = as_module(&mut chain, |f| slash(f, account(1), account(2), U256::ZERO, None));
    assert!(matches!(result, Err(CallError::Revert(r)) if r.contains("more than zero")));
    assert_eq!(chain.state.changes, state.changes);
    assert_eq!(chain.total_supply(), supply);
    assert_pool_covers(&chain);
    // A slash is not callable over the ABI at all.
    let reason = chain.reverts(1, STAKING, [&[0x12u8, 0x34, 0x56, 0x78][..], &[0; 64]].concat());
    assert!(reason.contains("no function with selector"), "{reason}");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut chain = Chain::new();
    let reason = chain.reverts(1, STAKING, stake(1, U256::ZERO));
    assert!(reason.contains("more than zero"), "{reason}");
    let reason = chain.reverts(1, STAKING, stake(1, open(1001)));
    assert!(reason.contains("can spend"), "{reason}");
    let reason = chain.reverts(
        1,
        STAKING,
        IStaking::stakeCall { validator: Address::ZERO, amount: open(1) }.abi_encode(),
    );
    assert!(reason.contains("zero address"), "{reason}");

    chain.ok(1, STAKING, stake(2, open(100)));
    let reason = chain.reverts(1, STAKING, unstake(2, open(101)));
    assert!(reason.contains("has 100000000000000000000 wei bonded"), "{reason}");
    let reason = chain.reverts(1, STAKING, unstake(2, U256::ZERO));
    assert!(reason.contains("more than zero"), "{reason}");
    let reason = chain.reverts(1, STAKING, unstake(3, open(1)));
    assert!(reason.contains("has 0 wei bonded"), "{reason}");
    let reason = chain.reverts(1, STAKING, claim(2));
    assert!(reason.contains("no rewards to claim"), "{reason}");
    for _ in 0..MAX_UNBONDING_ENTRIES {
        chain.ok(1, STAKING, unstake(2, open(1)));
    }
    let reason = chain.reverts(1, STAKING, unstake(2, open(1)));
    assert!(reason.contains("16 unbonding entries"), "{reason}");
    let reason = chain.reverts(1, STAKING, withdraw(2));
    assert!(reason.contains("nothing unbonded yet") && reason.contains("completes at"), "{reason}");

    // Malformed calldata.
    let reason = chain.reverts(1, STAKING, vec![0xde, 0xad, 0xbe, 0xef]);
    assert!(reason.contains("IStaking has no function with selector"), "{reason}");
    let mut truncated = stake(2, open(1));
    truncated.truncate(40);
    let reason = chain.reverts(1, STAKING, truncated);
    assert!(reason.contains("malformed arguments"), "{reason}");
    let reason = chain.reverts(1, STAKING, vec![1]);
    assert!(reason.contains("no function selector"), "{reason}");
    // A word that does not fit its type is refused, never truncated into
    // another address (as Solidity's decoder refuses it).
    let mut dirty = stake(2, open(1));
    dirty[4] = 0xff;
    let reason = chain.reverts(1, STAKING, dirty);
    assert!(reason.contains("malformed arguments"), "{reason}");

    // Governance only, and only sane values.
    let params = |seconds, bps| {
        let params = IStaking::Params {
            unbondingSeconds: seconds,
            slashReporterBps: bps,
            baseFeeStakersBps: 0,
        };
        IStaking::setParamsCall { params }.abi_encode()
    };
    let reason = chain.reverts(1, STAKING, params(60, 100));
    assert!(reason.contains("may only be called by governance"), "{reason}");
    let before = chain.state.clone();
    for (seconds, bps, want) in [
        (0, 100, "unbonding period"),
        (MAX_UNBONDING_SECONDS + 1, 100, "unbonding period"),
        (60, 10_001, "at most 10000 bps"),
    ] {
        let out = as_governance(&mut chain, &params(seconds, bps));
        assert!(!out.success);
        assert!(out.revert_reason.unwrap().contains(want));
    }
    assert_eq!(before.changes, chain.state.changes);
    assert_eq!(reader(&chain).params().unwrap(), Params::default());
}

#[test]
fn vesting_locked_open_cannot_be_staked() {
    let mut chain = Chain::new();
    // Account 7's 1000 OPEN: 900 locked for a long time.
    let schedule = VestingSchedule { total: open(900), start: 0, cliff: 1 << 30, linear: 0 };
    let mut changes = StateChanges::default();
    changes
        .storage
        .entry(VESTING)
        .or_default()
        .insert(schedule_slot(&account(7)), schedule.encode());
    chain.state.apply(changes);
    let reason = chain.reverts(7, STAKING, stake(7, open(101)));
    assert!(reason.contains("locked by vesting"), "{reason}");
    chain.ok(7, STAKING, stake(7, open(99)));
    assert_eq!(reader(&chain).bonded(account(7), account(7)).unwrap(), open(99));
}

#[test]
fn governance_sets_the_parameters() {
    let mut chain = Chain::new();
    let input = IStaking::setParamsCall {
        params: IStaking::Params {
            unbondingSeconds: 60,
            slashReporterBps: 1_000,
            baseFeeStakersBps: 0,
        },
    };
    let out = as_governance(&mut chain, &input.abi_encode());
    assert!(out.success, "{:?}", out.revert_reason);
    assert_eq!(
        reader(&chain).params().unwrap(),
        Params { unbonding_seconds: 60, slash_reporter_bps: 1_000, base_fee_stakers_bps: 0 }
    );
    let out = chain.simulate(1, STAKING, &IStaking::paramsCall {}.abi_encode());
    assert_eq!(IStaking::paramsCall::abi_decode_returns(&out.output).unwrap().unbondingSeconds, 60);
    chain.ok(1, STAKING, stake(1, open(10)));
    let out = chain.ok(1, STAKING, unstake(1, open(10)));
    assert_eq!(logs::<IStaking::UnbondingStarted>(&out)[0].completesAt, chain.number * 10 + 60);
    let (result, _) =
        as_module(&mut chain, |f| slash(f, account(1), account(1), open(10), Some(account(2))));
    assert_eq!(result.unwrap().to_reporter, open(1));
}

#[test]
fn a_governed_share_of_base_fees_goes_to_stakers() {
    let mut chain = Chain::new();
    chain.ok(1, STAKING, stake(1, open(10)));
    // The default share is 0: a block's base fees all stay with the treasury.
    let treasury = chain.balance(TREASURY);
    let pool = chain.balance(STAKING);
    let out = chain.ok(2, STAKING, stake(2, open(10)));
    let base_fees = U256::from(out.gas_used) * U256::from(BASE_FEE);
    assert_eq!(chain.balance(TREASURY), treasury + base_fees);
    assert_eq!(chain.balance(STAKING), pool + open(10));

    let input = IStaking::setParamsCall {
        params: IStaking::Params {
            unbondingSeconds: 60,
            slashReporterBps: 1_000,
            baseFeeStakersBps: 2_500,
        },
    };
    assert!(as_governance(&mut chain, &input.abi_encode()).success);
    let supply = chain.total_supply();
    let treasury = chain.balance(TREASURY);
    let pool = chain.balance(STAKING);
    let out = chain.ok(3, STAKING, stake(3, open(10)));
    let base_fees = U256::from(out.gas_used) * U256::from(BASE_FEE);
    let share = base_fees / U256::from(4u64);
    assert_eq!(chain.balance(TREASURY), treasury + base_fees - share);
    assert_eq!(chain.balance(STAKING), pool + open(10) + share);
    assert_eq!(chain.total_supply(), supply);
    // Shared at the end of the block, by the three equal stakes then bonded.
    let pending = reader(&chain).pending_rewards(account(1), account(1)).unwrap();
    assert!(pending + U256::from(1u64) >= share / U256::from(3u64), "{pending} of {share}");
    assert!(pending <= share / U256::from(3u64), "{pending} of {share}");

    let too_much = IStaking::setParamsCall {
        params: IStaking::Params {
            unbondingSeconds: 60,
            slashReporterBps: 1_000,
            baseFeeStakersBps: 10_001,
        },
    };
    let out = as_governance(&mut chain, &too_much.abi_encode());
    assert!(out.revert_reason.unwrap().contains("share of base fees"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const STAKERS: u8 = 4;
    const VALIDATORS: u8 = 2;

    #[derive(Debug, Clone)]
    enum Op {
        Stake {
            staker: u8,
            validator: u8,
            amount: u64,
        },
        /// `share` per mille of the bond (over 1000: more than it holds).
        Unstake {
            staker: u8,
            validator: u8,
            share: u64,
        },
        Withdraw {
            staker: u8,
            validator: u8,
        },
        Claim {
            staker: u8,
            validator: u8,
        },
        Distribute {
            amount: u64,
        },
        /// `share` per mille of bonded and unbonding stake.
        Slash {
            staker: u8,
            validator: u8,
            share: u64,
            reporter: bool,
        },
        Delegate {
            staker: u8,
            to: u8,
        },
        Wait {
            seconds: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let who = 0..STAKERS;
        let validator = 0..VALIDATORS;
        let share = 1u64..1_100;
        // Amounts from 1 wei to 18 OPEN, half of them tiny so rounding shows.
        let amount = prop_oneof![1u64..1_000, 1u64..u64::MAX];
        prop_oneof![
            3 => (who.clone(), validator.clone(), amount.clone())
                .prop_map(|(staker, validator, amount)| Op::Stake { staker, validator, amount }),
            3 => (who.clone(), validator.clone(), share.clone())
                .prop_map(|(staker, validator, share)| Op::Unstake { staker, validator, share }),
            2 => (who.clone(), validator.clone())
                .prop_map(|(staker, validator)| Op::Withdraw { staker, validator }),
            2 => (who.clone(), validator.clone())
                .prop_map(|(staker, validator)| Op::Claim { staker, validator }),
            2 => amount.prop_map(|amount| Op::Distribute { amount }),
            1 => (who.clone(), validator, share, any::<bool>()).prop_map(
                |(staker, validator, share, reporter)| Op::Slash {
                    staker,
                    validator,
                    share,
                    reporter
                }
            ),
            1 => (who.clone(), who).prop_map(|(staker, to)| Op::Delegate { staker, to }),
            1 => (1u64..30).prop_map(|seconds| Op::Wait { seconds }),
        ]
    }

    struct World {
        state: MemoryState,
        spec: crate::ChainSpec,
        time: u64,
        distributed: U256,
        claimed: U256,
    }

    fn address(i: u8) -> Address {
        Address::with_last_byte(0x40 + i)
    }

    const FUNDER: Address = Address::repeat_byte(0x77);

    impl World {
        fn new() -> Self {
            let mut changes = StateChanges::default();
            for i in 0..STAKERS {
                changes.accounts.insert(address(i), crate::Account::with_balance(open(1_000)));
            }
            changes.accounts.insert(FUNDER, crate::Account::with_balance(open(1_000_000)));
            let mut state = MemoryState::default();
            state.apply(changes);
            let spec = crate::ChainSpec { chain_id: 1, block_gas_limit: 0, initial_base_fee: 0 };
            let mut world =
                Self { state, spec, time: 1, distributed: U256::ZERO, claimed: U256::ZERO };
            world.run(|f| {
                set_params(
                    f,
                    Params {
                        unbonding_seconds: 20,
                        slash_reporter_bps: 2_500,
                        base_fee_stakers_bps: 0,
                    },
                )
            });
            world
        }

        /// Runs `rules` as `caller` in a block of its own; keeps its changes
        /// only if it succeeds.
        fn run<T>(
            &mut self,
            rules: impl FnOnce(&mut Frame<'_, MemoryState>) -> Result<T>,
        ) -> Option<T> {
            self.time += 1;
            let block = ol_primitives::BlockEnv {
                number: self.time,
                timestamp: self.time,
                beneficiary: Address::ZERO,
                base_fee: 0,
                gas_limit: 0,
            };
            let env = CallEnv {
                spec: &self.spec,
                block: &block,
                caller: Address::ZERO,
                content: &crate::NoContent,
            };
            let mut frame = Frame::new(&self.state, STAKING, env, u64::MAX);
            let result = rules(&mut frame);
            let changes = frame.state.into_changes();
            match result {
                Ok(value) => {
                    self.state.apply(changes);
                    Some(value)
                }
                Err(CallError::Revert(_)) => None,
                Err(error) => panic!("{error}"),
            }
        }

        /// An ABI call by `caller`; true when it succeeded.
        fn send(&mut self, caller: Address, input: Vec<u8>) -> Option<crate::system::CallOutcome> {
            self.time += 1;
            let block = ol_primitives::BlockEnv {
                number: self.time,
                timestamp: self.time,
                beneficiary: Address::ZERO,
                base_fee: 0,
                gas_limit: 0,
            };
            let env =
                CallEnv { spec: &self.spec, block: &block, caller, content: &crate::NoContent };
            let out = crate::system::call(&self.state, env, STAKING, &input, 10_000_000).unwrap();
            if !out.success {
                assert!(out.changes.is_empty());
                return None;
            }
            self.state.apply(out.changes.clone());
            Some(out)
        }

        fn apply(&mut self, op: &Op) {
            match *op {
                Op::Stake { staker, validator, amount } => {
                    let call = IStaking::stakeCall {
                        validator: address(validator),
                        amount: U256::from(amount),
                    };
                    self.send(address(staker), call.abi_encode());
                }
                Op::Unstake { staker, validator, share } => {
                    let (staker, validator) = (address(staker), address(validator));
                    let bonded = StakingReader::new(&self.state).bonded(staker, validator).unwrap();
                    let amount = (bonded * U256::from(share) / U256::from(1_000)).max(U256::ONE);
                    let call = IStaking::unstakeCall { validator, amount };
                    self.send(staker, call.abi_encode());
                }
                Op::Withdraw { staker, validator } => {
                    let call = IStaking::withdrawUnbondedCall { validator: address(validator) };
                    self.send(address(staker), call.abi_encode());
                }
                Op::Claim { staker, validator } => {
                    let call = IStaking::claimRewardsCall { validator: address(validator) };
                    if let Some(out) = self.send(address(staker), call.abi_encode()) {
                        self.claimed += U256::abi_decode(&out.output).unwrap();
                    }
                }
                Op::Distribute { amount } => {
                    let amount = U256::from(amount);
                    if self.run(|f| distribute(f, FUNDER, amount)).is_some() {
                        self.distributed += amount;
                    }
                }
                Op::Slash { staker, validator, share, reporter } => {
                    let (staker, validator) = (address(staker), address(validator));
                    let mut r = StakingReader::new(&self.state);
                    let held = r.bonded(staker, validator).unwrap()
                        + r.unbonding(staker, validator).unwrap();
                    let amount = (held * U256::from(share) / U256::from(1_000)).max(U256::ONE);
                    let reporter = reporter.then_some(FUNDER);
                    self.run(|f| slash(f, staker, validator, amount, reporter));
                }
                Op::Delegate { staker, to } => {
                    self.send(
                        address(staker),
                        IStaking::delegateCall { delegatee: address(to) }.abi_encode(),
                    );
                }
                Op::Wait { seconds } => self.time += seconds,
            }
        }

        fn check(&self, supply: U256) {
            let balances =
                self.state.changes.accounts.values().fold(U256::ZERO, |sum, a| sum + a.balance);
            assert_eq!(balances, supply, "OPEN was created or destroyed");

            let mut r = StakingReader::new(&self.state);
            let pool = r.reward_pool().unwrap();
            assert_eq!(pool.distributed, self.distributed);
            assert_eq!(pool.claimed, self.claimed);
            let mut claimable = U256::ZERO;
            let mut bonded = U256::ZERO;
            let mut unbonding = U256::ZERO;
            let mut positions = 0u64;
            let mut frame = crate::system::read_frame(&self.state, STAKING);
            let mut scaled = pool.remainder;
            for staker in r.stakers().unwrap() {
                for position in r.positions(staker).unwrap() {
                    positions += 1;
                    claimable += position.pending_rewards;
                    bonded += position.bonded;
                    unbonding += position.unbonding.iter().fold(U256::ZERO, |s, e| s + e.amount);
                    let stored =
                        records::Position::load(&mut frame, &staker, &position.validator).unwrap();
                    scaled += stored.credit
                        + stored.bonded * (pool.rewardPerToken - stored.reward_per_token_paid);
                }
            }
            let undistributed = r.undistributed().unwrap();
            // Exact to the wei: claimed + claimable + dust = distributed.
            assert_eq!(self.claimed + claimable + undistributed, self.distributed);
            // The dust is only fractions: under one wei per position, plus one.
            assert!(undistributed - pool.queued <= U256::from(positions));
            // And exact to 1e-36 wei in the accumulator's own terms.
            assert_eq!(scaled, (pool.distributed - pool.queued - pool.claimed) * PRECISION);
            assert_eq!(bonded, r.total_bonded().unwrap());
            assert_eq!(unbonding, r.total_unbonding().unwrap());
            // The pool covers everything owed.
            let held = self.state.account(&STAKING).unwrap().unwrap_or_default().balance;
            assert_eq!(held, bonded + unbonding + self.distributed - self.claimed);
            assert!(held >= bonded + unbonding + claimable);
            // Votes: every unit counts exactly once.
            let votes = (0..STAKERS).fold(U256::ZERO, |s, i| s + r.votes(address(i)).unwrap());
            assert_eq!(votes, bonded);
            let total = votes::latest(&mut frame, History::Total).unwrap();
            assert_eq!(total, bonded);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn staking_never_creates_or_loses_open(ops in prop::collection::vec(op(), 1..80)) {
            let mut world = World::new();
            let supply = world.state.changes.accounts.values().fold(U256::ZERO, |s, a| s + a.balance);
            for op in &ops {
                world.apply(op);
                world.check(supply);
            }
        }
    }
}
