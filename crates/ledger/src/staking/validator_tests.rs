//! Validators through signed transactions and `execute_block`: registration,
//! the active set recomputed at epoch boundaries, genesis validators, and
//! double-sign slashing (not callable over ABI) through a frame as the
//! consensus layer will run it.

use super::*;
use crate::{
    MemoryState,
    execution::{ExecutionMode, execute_block},
    genesis::{Allocation, Genesis, GenesisError, GenesisValidator, VestingTerms},
    system::CallEnv,
    test_chain::{Chain, account},
};
use alloy_primitives::{B256, Log};
use ol_primitives::{
    Amount,
    addresses::{GOVERNANCE, TREASURY},
};

const EPOCH: u64 = 10;

fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18))
}

fn consensus_key(i: u8) -> B256 {
    B256::repeat_byte(0x10 + i)
}

fn stake(validator: u8, amount: U256) -> Vec<u8> {
    IStaking::stakeCall { validator: account(validator), amount }.abi_encode()
}

fn unstake(validator: u8, amount: U256) -> Vec<u8> {
    IStaking::unstakeCall { validator: account(validator), amount }.abi_encode()
}

fn register(key: B256, moniker: &str) -> Vec<u8> {
    IStaking::registerValidatorCall { consensusKey: key, moniker: moniker.into() }.abi_encode()
}

fn test_params() -> ValidatorParams {
    ValidatorParams {
        epoch_blocks: EPOCH,
        min_validator_stake: open(100),
        max_validators: 2,
        double_sign_slash_bps: 500,
        jail_seconds: 1_000,
    }
}

fn params_call(p: ValidatorParams) -> Vec<u8> {
    IStaking::setValidatorParamsCall {
        params: IStaking::ValidatorParams {
            epochBlocks: p.epoch_blocks,
            minValidatorStake: p.min_validator_stake,
            maxValidators: p.max_validators,
            doubleSignSlashBps: p.double_sign_slash_bps,
            jailSeconds: p.jail_seconds,
        },
    }
    .abi_encode()
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

/// A chain with the test parameters: epochs of 10 blocks, 100 OPEN to
/// validate, at most 2 validators.
fn chain() -> Chain {
    let mut chain = Chain::new();
    assert!(as_governance(&mut chain, &params_call(test_params())).success);
    chain
}

/// Executes empty blocks through `execute_block` until one that ends an
/// epoch has run (at least one block).
fn to_boundary(chain: &mut Chain) {
    loop {
        let env = chain.env();
        chain.number += 1;
        let out = execute_block(
            &chain.spec,
            &chain.state,
            &env,
            Vec::new(),
            ExecutionMode::Verify,
            &chain.blobs,
            &crate::contracts::NoContracts,
        )
        .unwrap();
        chain.state.apply(out.changes);
        if chain.number.is_multiple_of(EPOCH) {
            return;
        }
    }
}

fn set(chain: &Chain) -> Vec<(Address, u64)> {
    StakingReader::new(&chain.state)
        .active_validators()
        .unwrap()
        .into_iter()
        .map(|v| (v.operator, v.power))
        .collect()
}

fn info(chain: &Chain, i: u8) -> Option<ValidatorInfo> {
    StakingReader::new(&chain.state).validator_info(account(i)).unwrap()
}

fn logs<E: SolEvent>(out: &crate::BlockOutcome) -> Vec<(Log, E)> {
    out.receipts[0]
        .logs()
        .iter()
        .filter_map(|l| E::decode_log_data(&l.data).ok().map(|e| (l.clone(), e)))
        .collect()
}

/// Runs the double-sign rules in the next block as the consensus layer will.
fn report(
    chain: &mut Chain,
    operator: u8,
    height: u64,
    evidence: B256,
    reporter: Option<Address>,
) -> Result<Equivocation> {
    let env = chain.env();
    chain.number += 1;
    let call_env =
        CallEnv { spec: &chain.spec, block: &env, caller: Address::ZERO, content: &chain.blobs };
    let mut frame = Frame::new(&chain.state, STAKING, call_env, u64::MAX);
    frame.gas = crate::system::GasMeter::unlimited();
    let result = slash_equivocation(&mut frame, account(operator), height, evidence, reporter);
    let changes = frame.state.into_changes();
    if result.is_ok() {
        chain.state.apply(changes);
    }
    result
}

/// Account `i` bonds `amount` to itself and registers key `i`.
fn join(chain: &mut Chain, i: u8, amount: u64) {
    chain.ok(i, STAKING, stake(i, open(amount)));
    chain.ok(i, STAKING, register(consensus_key(i), &format!("validator-{i}")));
}

#[test]
fn registration_rules() {
    let mut chain = chain();
    let reason = chain.reverts(1, STAKING, register(consensus_key(1), "one"));
    assert!(reason.contains("needs 100000000000000000000 wei bonded"), "{reason}");
    // Stake bonded by anyone counts.
    chain.ok(2, STAKING, stake(1, open(100)));
    let reason = chain.reverts(1, STAKING, register(B256::ZERO, "one"));
    assert_eq!(reason, "the consensus key must not be zero");
    let reason = chain.reverts(1, STAKING, register(consensus_key(1), ""));
    assert_eq!(reason, "the moniker must not be empty");
    let reason = chain.reverts(1, STAKING, register(consensus_key(1), &"m".repeat(65)));
    assert!(reason.contains("65 bytes; at most 64"), "{reason}");
    let reason = chain.reverts(1, STAKING, register(consensus_key(1), "a\u{7}b"));
    assert!(reason.contains("control characters"), "{reason}");
    let reason = chain.reverts(1, STAKING, register(consensus_key(1), "a\nb"));
    assert_eq!(reason, "the moniker contains control characters");
    assert_eq!(info(&chain, 1), None);

    let out = chain.ok(1, STAKING, register(consensus_key(1), &"m".repeat(64)));
    let registered = logs::<IStaking::ValidatorRegistered>(&out);
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].1.consensusKey, consensus_key(1));
    assert_eq!(registered[0].0.topics()[1], account(1).into_word(), "operator is indexed");
    assert_eq!(
        info(&chain, 1),
        Some(ValidatorInfo {
            consensus_key: consensus_key(1),
            moniker: "m".repeat(64),
            jailed_until: 0,
            active: false,
        })
    );

    // A key belongs to one operator. (Block 10 would end an epoch and
    // write the set, and `reverts` checks that its block wrote nothing: the
    // chain skips that height.)
    chain.ok(2, STAKING, stake(2, open(100)));
    assert_eq!(chain.number, 9);
    chain.number += 1;
    let reason = chain.reverts(2, STAKING, register(consensus_key(1), "two"));
    assert_eq!(
        reason,
        format!(
            "consensus key {} is already registered by validator {}",
            consensus_key(1),
            account(1)
        )
    );
    // Out of the set, the key rotates and the old one is free again.
    let out = chain.ok(1, STAKING, register(consensus_key(7), "one"));
    assert_eq!(logs::<IStaking::ValidatorUpdated>(&out)[0].1.consensusKey, consensus_key(7));
    assert!(logs::<IStaking::ValidatorRegistered>(&out).is_empty());
    chain.ok(2, STAKING, register(consensus_key(1), "two"));

    // In the set, the key is fixed; the moniker may still change.
    to_boundary(&mut chain);
    assert!(info(&chain, 1).unwrap().active);
    let reason = chain.reverts(1, STAKING, register(consensus_key(3), "one"));
    assert!(reason.contains("its consensus key can change only once it is out of the set"));
    chain.ok(1, STAKING, register(consensus_key(7), "renamed"));
    assert_eq!(info(&chain, 1).unwrap().moniker, "renamed");

    // The same through the ABI view.
    let out = chain.simulate(
        5,
        STAKING,
        &IStaking::validatorInfoCall { operator: account(1) }.abi_encode(),
    );
    let view = IStaking::validatorInfoCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(
        (view.consensusKey, view.moniker.as_str(), view.active),
        (consensus_key(7), "renamed", true)
    );
    let out = chain.simulate(
        5,
        STAKING,
        &IStaking::validatorInfoCall { operator: account(6) }.abi_encode(),
    );
    let view = IStaking::validatorInfoCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(view.consensusKey, B256::ZERO, "an unregistered operator reads as zero");
}

#[test]
fn the_set_changes_only_at_epoch_boundaries() {
    let mut chain = chain();
    join(&mut chain, 1, 300);
    join(&mut chain, 2, 200);
    join(&mut chain, 3, 150);
    assert!(set(&chain).is_empty(), "nothing before the first boundary");
    to_boundary(&mut chain);
    // The two largest stakes; power in whole OPEN.
    assert_eq!(set(&chain), vec![(account(1), 300), (account(2), 200)]);
    let epoch = StakingReader::new(&chain.state).epoch().unwrap();
    assert_eq!(epoch, Epoch { number: 1, start_block: chain.number + 1 });
    assert!(!info(&chain, 3).unwrap().active);

    // Account 3 gains delegated stake: it joins at the next boundary, not before.
    chain.ok(4, STAKING, stake(3, open(100)));
    assert_eq!(set(&chain), vec![(account(1), 300), (account(2), 200)]);
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(1), 300), (account(3), 250)]);
    assert!(!info(&chain, 2).unwrap().active);
    assert!(info(&chain, 3).unwrap().active);

    // Unbonding below the minimum leaves at the boundary; a fraction of an
    // OPEN adds no power.
    chain.ok(1, STAKING, unstake(1, open(201)));
    chain.ok(5, STAKING, stake(2, open(1) / U256::from(2)));
    assert_eq!(set(&chain)[0], (account(1), 300));
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(3), 250), (account(2), 200)]);
    let boundary = chain.number;
    // Out of the set, account 1 may rotate its key again.
    assert!(!info(&chain, 1).unwrap().active);
    chain.ok(1, STAKING, register(consensus_key(6), "validator-1"));
    assert_eq!(info(&chain, 1).unwrap().consensus_key, consensus_key(6));

    // The same through the ABI view.
    let out = chain.simulate(5, STAKING, &IStaking::validatorSetCall {}.abi_encode());
    let view = IStaking::validatorSetCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(view.operators, vec![account(3), account(2)]);
    assert_eq!(view.keys, vec![consensus_key(3), consensus_key(2)]);
    assert_eq!(view.powers, vec![U256::from(250), U256::from(200)]);
    let out = chain.simulate(5, STAKING, &IStaking::epochCall {}.abi_encode());
    let view = IStaking::epochCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!((view.number, view.startBlock), (3, boundary + 1));
}

#[test]
fn equal_stakes_are_ordered_by_address_and_the_cap_holds() {
    let mut chain = chain();
    for i in [4, 5, 6] {
        join(&mut chain, i, 120);
    }
    to_boundary(&mut chain);
    let mut expected: Vec<Address> = [4, 5, 6].map(account).to_vec();
    expected.sort();
    expected.truncate(2);
    assert_eq!(set(&chain).into_iter().map(|(a, _)| a).collect::<Vec<_>>(), expected);

    // A larger cap takes all three.
    let wider = ValidatorParams { max_validators: 3, ..test_params() };
    assert!(as_governance(&mut chain, &params_call(wider)).success);
    to_boundary(&mut chain);
    assert_eq!(set(&chain).len(), 3);
}

#[test]
fn a_chain_without_validators_writes_nothing_at_boundaries() {
    let mut chain = chain();
    chain.ok(1, STAKING, stake(1, open(500)));
    let before = chain.state.clone();
    to_boundary(&mut chain);
    assert_eq!(chain.state.changes.storage, before.changes.storage);
    assert_eq!(StakingReader::new(&chain.state).epoch().unwrap(), Epoch::default());
}

#[test]
fn with_no_one_qualifying_the_set_stays() {
    let mut chain = chain();
    join(&mut chain, 1, 100);
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(1), 100)]);
    chain.ok(1, STAKING, unstake(1, open(1)));
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(1), 100)], "an empty set would halt the chain");
    assert_eq!(StakingReader::new(&chain.state).epoch().unwrap().number, 2);
}

#[test]
fn a_double_signer_is_slashed_jailed_and_leaves_at_the_boundary() {
    let mut chain = chain();
    join(&mut chain, 1, 300);
    join(&mut chain, 2, 200);
    chain.ok(3, STAKING, stake(1, open(100)));
    chain.ok(3, STAKING, unstake(1, open(40)));
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(1), 360), (account(2), 200)]);
    let supply = chain.total_supply();
    let treasury = chain.balance(TREASURY);
    let reporter = Address::repeat_byte(0x77);

    let evidence = B256::repeat_byte(0xe1);
    let outcome = report(&mut chain, 1, 42, evidence, Some(reporter)).unwrap();
    let now = chain.number * 10;
    // 5% of each position: 300 → 15; account 3's 60 bonded + 40 unbonding → 5.
    assert_eq!(outcome.slashed, open(20));
    assert_eq!(outcome.jailed_until, now + 1_000);
    assert_eq!(outcome.positions.len(), 2);
    assert_eq!(outcome.positions[0].0, account(1));
    assert_eq!(outcome.positions[0].1.from_bonded, open(15));
    assert_eq!(outcome.positions[1].0, account(3));
    assert_eq!(outcome.positions[1].1.from_bonded, open(5));
    let mut r = StakingReader::new(&chain.state);
    assert_eq!(r.bonded(account(1), account(1)).unwrap(), open(285));
    assert_eq!(r.bonded(account(3), account(1)).unwrap(), open(55));
    assert_eq!(r.unbonding(account(3), account(1)).unwrap(), open(40));
    assert_eq!(r.validator_stake(account(1)).unwrap(), open(340));
    // Half to the reporter (the default share), half to the treasury.
    assert_eq!(chain.balance(reporter), open(10));
    assert_eq!(chain.balance(TREASURY), treasury + open(10));
    assert_eq!(chain.total_supply(), supply);
    let pool = r.reward_pool().unwrap();
    assert_eq!(
        chain.balance(STAKING),
        r.total_bonded().unwrap() + r.total_unbonding().unwrap() + pool.distributed - pool.claimed,
        "the staking contract holds exactly what it owes"
    );
    let jailed = info(&chain, 1).unwrap();
    assert_eq!((jailed.jailed_until, jailed.active), (now + 1_000, true));

    // The same offence is punished once; another height is another offence.
    let again = report(&mut chain, 1, 42, B256::repeat_byte(0xe2), None).unwrap_err();
    assert!(again.to_string().contains("at height 42 was already punished"), "{again}");
    assert_eq!(StakingReader::new(&chain.state).validator_stake(account(1)).unwrap(), open(340));
    let unknown = report(&mut chain, 5, 42, evidence, None).unwrap_err();
    assert!(unknown.to_string().contains("is not a registered validator"), "{unknown}");
    let zero = report(&mut chain, 2, 42, B256::ZERO, None).unwrap_err();
    assert!(zero.to_string().contains("evidence hash must not be zero"), "{zero}");

    // Still in the set until the boundary; then out, until the jail ends.
    assert_eq!(set(&chain)[0].0, account(1));
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(2), 200)]);
    assert!(!info(&chain, 1).unwrap().active);
    while chain.number * 10 < now + 1_000 {
        to_boundary(&mut chain);
        if chain.number * 10 < now + 1_000 {
            assert_eq!(set(&chain), vec![(account(2), 200)], "jailed at {}", chain.number);
        }
    }
    assert_eq!(set(&chain), vec![(account(1), 340), (account(2), 200)]);
}

#[test]
fn governance_sets_validator_params_within_bounds() {
    let mut chain = Chain::new();
    assert_eq!(
        StakingReader::new(&chain.state).validator_params().unwrap(),
        ValidatorParams::default()
    );
    let reason = chain.reverts(1, STAKING, params_call(test_params()));
    assert!(reason.contains("IStaking.setValidatorParams may only be called by governance"));
    for (bad, expected) in [
        (ValidatorParams { epoch_blocks: 0, ..test_params() }, "epochBlocks must be 1 to"),
        (ValidatorParams { max_validators: 0, ..test_params() }, "maxValidators must be 1 to"),
        (
            ValidatorParams { double_sign_slash_bps: 10_001, ..test_params() },
            "doubleSignSlashBps must be at most 10000",
        ),
        (
            ValidatorParams { jail_seconds: u64::MAX, ..test_params() },
            "jailSeconds must be at most",
        ),
    ] {
        let out = as_governance(&mut chain, &params_call(bad));
        let reason = out.revert_reason.unwrap();
        assert!(reason.starts_with(expected), "{reason}");
    }
    let out = as_governance(&mut chain, &params_call(test_params()));
    assert!(out.success);
    assert_eq!(StakingReader::new(&chain.state).validator_params().unwrap(), test_params());
    let out = chain.simulate(1, STAKING, &IStaking::validatorParamsCall {}.abi_encode());
    let view = IStaking::validatorParamsCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!((view.epochBlocks, view.maxValidators), (EPOCH, 2));
}

#[test]
fn malformed_validator_calldata_is_refused() {
    let mut chain = chain();
    chain.ok(1, STAKING, stake(1, open(100)));
    let mut input = register(consensus_key(1), "one");
    input.truncate(40);
    let reason = chain.reverts(1, STAKING, input);
    assert!(reason.starts_with("malformed arguments for IStaking"), "{reason}");
    // A moniker that is not UTF-8.
    let mut input = register(consensus_key(1), "abc");
    let at = input.len() - 32;
    input[at] = 0xff;
    let reason = chain.reverts(1, STAKING, input);
    assert!(reason.starts_with("malformed arguments for IStaking"), "{reason}");
    let mut input = params_call(test_params());
    input[4 + 31 + 32 * 2 - 2] = 1; // maxValidators beyond uint16
    let reason = chain.reverts(1, STAKING, input);
    assert!(reason.starts_with("malformed arguments for IStaking"), "{reason}");
}

fn genesis_with(validators: Vec<GenesisValidator>) -> Genesis {
    Genesis {
        chain_id: 7,
        timestamp: 0,
        gas_limit: 30_000_000,
        base_fee_per_gas: 1_000_000_000,
        allocations: vec![
            Allocation {
                name: "a".into(),
                address: account(1),
                amount: Amount::from_open(1_000),
                vesting: None,
            },
            Allocation {
                name: "b".into(),
                address: account(2),
                amount: Amount::from_open(50_000),
                vesting: None,
            },
            Allocation {
                name: "locked".into(),
                address: account(3),
                amount: Amount::from_open(50_000),
                vesting: Some(VestingTerms { cliff_seconds: 10, linear_seconds: 0 }),
            },
            Allocation {
                name: "rest".into(),
                address: Address::repeat_byte(0xaa),
                amount: Amount::from_open(1_000_000_000 - 101_000),
                vesting: None,
            },
        ],
        governance: None,
        validator_params: Some(ValidatorParams { min_validator_stake: open(500), ..test_params() }),
        validators,
    }
}

fn validator(i: u8, stake: u64) -> GenesisValidator {
    GenesisValidator {
        operator: account(i),
        consensus_key: consensus_key(i),
        moniker: format!("v{i}"),
        stake: Amount::from_open(stake),
    }
}

#[test]
fn genesis_validators_are_bonded_and_form_the_first_set() {
    let genesis = genesis_with(vec![validator(1, 600), validator(2, 40_000)]);
    genesis.validate().unwrap();
    let mut state = MemoryState::default();
    state.apply(genesis.state());
    let balance = |who: Address| state.account(&who).unwrap().unwrap_or_default().balance;
    assert_eq!(balance(account(1)), open(400));
    assert_eq!(balance(account(2)), open(10_000));
    assert_eq!(balance(STAKING), open(40_600));
    let total =
        state.changes.accounts.values().fold(U256::ZERO, |sum, account| sum + account.balance);
    assert_eq!(total, Amount::total_supply().wei(), "the supply stays exact");
    let mut r = StakingReader::new(&state);
    assert_eq!(
        r.active_validators().unwrap(),
        vec![
            ActiveValidator {
                operator: account(2),
                consensus_key: consensus_key(2),
                power: 40_000
            },
            ActiveValidator { operator: account(1), consensus_key: consensus_key(1), power: 600 },
        ]
    );
    assert_eq!(r.epoch().unwrap(), Epoch { number: 1, start_block: 1 });
    assert_eq!(r.bonded(account(1), account(1)).unwrap(), open(600));
    assert_eq!(r.votes(account(2)).unwrap(), open(40_000));
    assert_eq!(r.validator_params().unwrap().min_validator_stake, open(500));
    assert!(r.validator_info(account(1)).unwrap().unwrap().active);
    // Without validators nor parameters the staking contract holds nothing.
    let plain = Genesis { validator_params: None, ..genesis_with(Vec::new()) };
    assert!(!plain.state().storage.contains_key(&STAKING));
}

#[test]
fn genesis_validators_are_checked() {
    let refused = |validators: Vec<GenesisValidator>| -> String {
        genesis_with(validators).validate().unwrap_err().to_string()
    };
    assert_eq!(
        refused(vec![validator(1, 600), validator(1, 700)]),
        format!("validator #1: operator {} is already validator #0", account(1))
    );
    let mut same_key = validator(2, 600);
    same_key.consensus_key = consensus_key(1);
    assert!(refused(vec![validator(1, 600), same_key]).contains("is already validator #0's"));
    assert_eq!(
        refused(vec![validator(1, 1_001)]),
        "validator #0: stake 1001 OPEN is more than the 1000 OPEN its operator's allocation \
         (\"a\") can spend at genesis"
    );
    assert!(refused(vec![validator(3, 600)]).contains("than the 0 OPEN"), "vesting-locked");
    assert!(refused(vec![validator(4, 600)]).contains("has no allocation"));
    assert!(refused(vec![validator(1, 499)]).contains("below the 500 OPEN a validator needs"));
    let mut zero = validator(1, 600);
    zero.consensus_key = B256::ZERO;
    assert!(refused(vec![zero]).contains("consensusKey must not be zero"));
    let mut unnamed = validator(1, 600);
    unnamed.moniker = String::new();
    assert!(refused(vec![unnamed]).contains("moniker \"\" must be 1 to 64 bytes"));
    assert!(
        refused(vec![validator(1, 600), validator(2, 600), validator(5, 600)])
            .contains("3 genesis validators, but maxValidators is 2")
    );
}

#[test]
fn genesis_validators_from_json() {
    let json = |key: &str, stake: &str| {
        format!(
            r#"{{"chainId": 7, "allocations": [
                {{"address":"{}","amount":"1000"}},
                {{"address":"0x1111111111111111111111111111111111111111","amount":"999999000"}}],
              "validatorParams": {{"epochBlocks": 5, "minValidatorStake": "10"}},
              "validators": [{{"operator":"{}","consensusKey":"{key}","moniker":"zero",
                               "stake":"{stake}"}}]}}"#,
            account(1),
            account(1)
        )
    };
    let key = format!("{}", consensus_key(1));
    let genesis = Genesis::from_json(&json(&key, "10.5")).unwrap();
    assert_eq!(
        genesis.validators,
        vec![GenesisValidator {
            operator: account(1),
            consensus_key: consensus_key(1),
            moniker: "zero".into(),
            stake: Amount::parse_open("10.5").unwrap(),
        }]
    );
    let params = genesis.validator_params.unwrap();
    assert_eq!((params.epoch_blocks, params.max_validators), (5, 100));
    assert_eq!(params.min_validator_stake, open(10));
    let mut state = MemoryState::default();
    state.apply(genesis.state());
    assert_eq!(StakingReader::new(&state).active_validators().unwrap()[0].power, 10);

    let err = Genesis::from_json(&json("0x1234", "10")).unwrap_err();
    assert_eq!(
        err,
        GenesisError::Validator {
            index: 0,
            problem: "consensusKey \"0x1234\" is not a 0x-prefixed 32-byte hex ed25519 public key"
                .into()
        }
    );
    let err = Genesis::from_json(&json(&key, "ten")).unwrap_err();
    assert!(err.to_string().starts_with("validator #0: stake:"), "{err}");
    let err = Genesis::from_json(&json(&key, "1")).unwrap_err();
    assert!(err.to_string().contains("below the 10 OPEN"), "{err}");
}
