//! Validators through signed transactions and `execute_block`: registration,
//! the active set recomputed at epoch boundaries, genesis validators,
//! double-sign slashing through a frame (trusted, as other modules call it)
//! and proven by signed votes in a `reportDoubleSign` transaction.

use super::*;
use crate::{
    MemoryState,
    execution::{ExecutionMode, execute_block},
    genesis::{Allocation, Genesis, GenesisError, GenesisValidator, VestingTerms},
    system::CallEnv,
    test_chain::{BASE_FEE, CHAIN, Chain, account},
};
use alloy_primitives::{B256, Log};
use ed25519_consensus::SigningKey;
use ol_primitives::{
    Amount,
    addresses::{GOVERNANCE, TREASURY},
    consensus::{VoteContent, VoteKind, consensus_address},
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
        evidence_max_age_blocks: 50,
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
            evidenceMaxAgeBlocks: p.evidence_max_age_blocks,
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

/// Executes one empty block through `execute_block`.
fn step(chain: &mut Chain) {
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
}

/// Executes empty blocks until one that ends an epoch has run (at least
/// one block).
fn to_boundary(chain: &mut Chain) {
    loop {
        step(chain);
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
    // Out of the set, the key rotates; the old one stays bound to its
    // operator (evidence of what it signed must still reach them).
    let out = chain.ok(1, STAKING, register(consensus_key(7), "one"));
    assert_eq!(logs::<IStaking::ValidatorUpdated>(&out)[0].1.consensusKey, consensus_key(7));
    assert!(logs::<IStaking::ValidatorRegistered>(&out).is_empty());
    let reason = chain.reverts(2, STAKING, register(consensus_key(1), "two"));
    assert!(reason.contains("is already registered by validator"), "{reason}");
    chain.ok(2, STAKING, register(consensus_key(2), "two"));

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
        (
            ValidatorParams { evidence_max_age_blocks: 0, ..test_params() },
            "evidenceMaxAgeBlocks must be 1 to 10000000, not 0",
        ),
        (
            ValidatorParams { evidence_max_age_blocks: 10_000_001, ..test_params() },
            "evidenceMaxAgeBlocks must be 1 to",
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
    assert_eq!(view.evidenceMaxAgeBlocks, 50);
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
              "validatorParams": {{"epochBlocks": 5, "minValidatorStake": "10",
                                  "evidenceMaxAgeBlocks": 77}},
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
    assert_eq!((params.evidence_max_age_blocks, params.jail_seconds), (77, 7 * 24 * 3600));
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

/// The ed25519 consensus key made from `seed`.
fn signer(seed: u8) -> SigningKey {
    SigningKey::from([seed; 32])
}

/// The public key of [`signer`]`(seed)`, as registered.
fn ed_key(seed: u8) -> B256 {
    B256::from(signer(seed).verification_key().to_bytes())
}

/// A precommit at `height`, round 0, by key `seed`'s validator address.
fn precommit(seed: u8, height: u64, block: Option<B256>) -> VoteContent {
    VoteContent {
        kind: VoteKind::Precommit,
        height,
        round: 0,
        block,
        validator: consensus_address(&ed_key(seed).0),
    }
}

/// `vote` signed by key `seed` on chain `chain_id`.
fn signed_on(seed: u8, vote: VoteContent, chain_id: u64) -> (VoteContent, [u8; 64]) {
    (vote, signer(seed).sign(&vote.sign_bytes(chain_id)).to_bytes())
}

/// `vote` signed by key `seed` on the test chain.
fn signed(seed: u8, vote: VoteContent) -> (VoteContent, [u8; 64]) {
    signed_on(seed, vote, CHAIN)
}

fn block(byte: u8) -> Option<B256> {
    Some(B256::repeat_byte(byte))
}

/// Account `i` bonds `amount` to itself and registers the ed25519 key `i`.
fn join_signing(chain: &mut Chain, i: u8, amount: u64) {
    chain.ok(i, STAKING, stake(i, open(amount)));
    chain.ok(i, STAKING, register(ed_key(i), &format!("validator-{i}")));
}

/// The reason `input` from account `from` reverts (checked to change
/// nothing but the sender's nonce and gas), run in a block that ends no
/// epoch (one that did would write the set).
fn refused(chain: &mut Chain, from: u8, input: Vec<u8>) -> String {
    if (chain.number + 1).is_multiple_of(EPOCH) {
        chain.number += 1;
    }
    chain.reverts(from, STAKING, input)
}

#[test]
fn a_proven_double_sign_slashes_jails_and_pays_the_reporter() {
    let mut chain = chain();
    join_signing(&mut chain, 1, 300);
    join_signing(&mut chain, 2, 200);
    chain.ok(3, STAKING, stake(1, open(100)));
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(1), 400), (account(2), 200)]);
    let height = chain.number - 3;
    let a = signed(1, precommit(1, height, block(0xa1)));
    let b = signed(1, precommit(1, height, block(0xb2)));
    let input = report_double_sign_call(ed_key(1), a, b).to_vec();
    let evidence = DoubleSign::from_call(
        &IStaking::reportDoubleSignCall::abi_decode(&input).expect("the helper encodes the call"),
    )
    .unwrap();
    assert_eq!(evidence.verify(CHAIN), Ok(()));
    let swapped = DoubleSign { a: evidence.b, b: evidence.a, ..evidence };
    assert_eq!(evidence.evidence_hash(CHAIN), swapped.evidence_hash(CHAIN), "order-free");

    let reporter = 4;
    let before = chain.balance(account(reporter));
    let treasury = chain.balance(TREASURY);
    let supply = chain.total_supply();
    let view = chain.simulate(reporter, STAKING, &input);
    let returned = IStaking::reportDoubleSignCall::abi_decode_returns(&view.output).unwrap();
    let out = chain.ok(reporter, STAKING, input);
    let now = chain.number * 10;
    // 5% of 300 and of 100.
    assert_eq!((returned.slashed, returned.jailedUntil), (open(20), now + 1_000));
    let jailed = logs::<IStaking::ValidatorJailed>(&out);
    assert_eq!(jailed.len(), 1);
    assert_eq!(jailed[0].1.operator, account(1));
    assert_eq!(jailed[0].1.height, height);
    assert_eq!(jailed[0].1.evidenceHash, evidence.evidence_hash(CHAIN));
    assert_eq!(jailed[0].1.amount, open(20));
    let slashes = logs::<IStaking::Slashed>(&out);
    assert_eq!(slashes.len(), 2);
    assert!(slashes.iter().all(|(_, e)| e.reporter == account(reporter)));
    let mut r = StakingReader::new(&chain.state);
    assert_eq!(r.bonded(account(1), account(1)).unwrap(), open(285));
    assert_eq!(r.bonded(account(3), account(1)).unwrap(), open(95));
    assert_eq!(info(&chain, 1).unwrap().jailed_until, now + 1_000);
    // Half to the reporter, half to the treasury (plus this block's base fee).
    let gas = U256::from(out.receipts[0].gas_used) * U256::from(BASE_FEE);
    assert_eq!(chain.balance(account(reporter)), before + open(10) - gas);
    assert_eq!(chain.balance(TREASURY), treasury + open(10) + gas);
    assert_eq!(chain.total_supply(), supply);

    // The same height again, in the other order or with other votes: refused.
    let reason = refused(&mut chain, 5, report_double_sign_call(ed_key(1), b, a).to_vec());
    assert!(reason.contains(&format!("at height {height} was already punished")), "{reason}");
    let nil = signed(1, precommit(1, height, None));
    let reason = refused(&mut chain, 5, report_double_sign_call(ed_key(1), nil, a).to_vec());
    assert!(reason.contains("already punished"), "{reason}");

    // Another height, while jailed for the first: not punished again (a
    // tombstone, as Cosmos does: one double sign, one slash).
    let prevote =
        |block| VoteContent { kind: VoteKind::Prevote, ..precommit(1, height + 1, block) };
    let (a, b) = (signed(1, prevote(None)), signed(1, prevote(block(0xc3))));
    let reason = refused(&mut chain, 5, report_double_sign_call(ed_key(1), a, b).to_vec());
    assert!(reason.contains("is already jailed until"), "{reason}");
    assert_eq!(StakingReader::new(&chain.state).bonded(account(1), account(1)).unwrap(), open(285));

    // Jailed validators leave at the boundary.
    to_boundary(&mut chain);
    assert_eq!(set(&chain), vec![(account(2), 200)]);
}

#[test]
fn bad_double_sign_evidence_is_refused_changing_nothing() {
    let mut chain = chain();
    join_signing(&mut chain, 1, 300);
    chain.ok(2, STAKING, stake(2, open(100)));
    to_boundary(&mut chain);
    let h = chain.number - 1;
    let key = ed_key(1);
    let a = signed(1, precommit(1, h, block(0xa1)));
    let b = signed(1, precommit(1, h, block(0xb2)));
    let call = |a, b| report_double_sign_call(key, a, b).to_vec();
    let raw = |edit: &dyn Fn(&mut IStaking::reportDoubleSignCall)| {
        let mut call = IStaking::reportDoubleSignCall::abi_decode(&call(a, b)).unwrap();
        edit(&mut call);
        call.abi_encode()
    };
    let mut flipped = a.1;
    flipped[10] ^= 1;
    let with_kind = |seed, kind, vote: VoteContent| signed(seed, VoteContent { kind, ..vote });
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "a tampered signature",
            call((a.0, flipped), b),
            format!("signature A is not a valid signature by consensus key {key} of vote A"),
        ),
        (
            "a signature by another key",
            call(a, signed(2, b.0)),
            format!("signature B is not a valid signature by consensus key {key} of vote B"),
        ),
        (
            "votes signed for another chain",
            call(signed_on(1, a.0, CHAIN + 1), signed_on(1, b.0, CHAIN + 1)),
            format!(
                "signature A is not a valid signature by consensus key {key} of vote A on chain {CHAIN}"
            ),
        ),
        (
            "an unregistered key",
            report_double_sign_call(
                ed_key(9),
                signed(9, precommit(9, h, block(1))),
                signed(9, precommit(9, h, block(2))),
            )
            .to_vec(),
            format!("consensus key {} is not registered to any validator", ed_key(9)),
        ),
        (
            "different heights",
            call(a, signed(1, precommit(1, h - 1, block(0xb2)))),
            format!("the votes are at different heights ({h} and {})", h - 1),
        ),
        (
            "different rounds",
            call(a, signed(1, VoteContent { round: 1, ..b.0 })),
            format!("the votes are in different rounds (0 and 1) of height {h}"),
        ),
        (
            "different kinds",
            call(a, with_kind(1, VoteKind::Prevote, b.0)),
            "the votes are of different kinds (Precommit and Prevote)".into(),
        ),
        ("the same value", call(a, a), "both votes are for the same value".into()),
        (
            "the same value, signed twice",
            call(signed(1, precommit(1, h, None)), signed(1, precommit(1, h, None))),
            "both votes are for the same value".into(),
        ),
        (
            "a nil vote with a hash",
            raw(&|c| c.b.nil = true),
            format!("vote B is nil but carries block hash {}", B256::repeat_byte(0xb2)),
        ),
        (
            "an unknown kind",
            raw(&|c| c.a.kind = 2),
            "vote A has kind 2; a vote is 0 (prevote) or 1 (precommit)".into(),
        ),
        (
            "a 63-byte signature",
            raw(&|c| c.signatureA = c.signatureA[..63].to_vec().into()),
            "signature A is 63 bytes; an ed25519 signature is 64".into(),
        ),
        (
            "a 65-byte signature",
            raw(&|c| c.signatureB = [&c.signatureB[..], &[0u8][..]].concat().into()),
            "signature B is 65 bytes".into(),
        ),
        (
            "a future height",
            call(
                signed(1, precommit(1, h + 1_000, block(0xa1))),
                signed(1, precommit(1, h + 1_000, block(0xb2))),
            ),
            format!("double-sign evidence at height {} is from the future", h + 1_000),
        ),
    ];
    for (what, input, expected) in cases {
        let reason = refused(&mut chain, 5, input);
        assert!(reason.starts_with(&expected), "{what}: {reason}");
    }
    assert_eq!(info(&chain, 1).unwrap().jailed_until, 0);

    // Evidence older than 50 blocks is refused; 50 blocks old is accepted.
    while chain.number < h + 60 || (chain.number + 1).is_multiple_of(EPOCH) {
        step(&mut chain);
    }
    let pair = |height| {
        call(
            signed(1, precommit(1, height, block(0xa1))),
            signed(1, precommit(1, height, block(0xb2))),
        )
    };
    let old = chain.number + 1 - 51;
    let reason = chain.reverts(5, STAKING, pair(old));
    assert_eq!(
        reason,
        format!("double-sign evidence at height {old} is 51 blocks old; at most 50 are accepted")
    );
    let out = chain.ok(5, STAKING, pair(chain.number + 1 - 50));
    assert_eq!(logs::<IStaking::ValidatorJailed>(&out)[0].1.height, chain.number - 50);
    assert!(info(&chain, 1).unwrap().jailed_until > 0);
}

#[test]
fn evidence_checks_without_state() {
    let vote = precommit(1, 7, block(1));
    let (a, b) = (signed(1, vote), signed(1, VoteContent { block: None, ..vote }));
    let evidence = DoubleSign {
        consensus_key: ed_key(1),
        a: SignedVote { vote: a.0, signature: a.1 },
        b: SignedVote { vote: b.0, signature: b.1 },
    };
    assert_eq!(evidence.verify(CHAIN), Ok(()));
    assert_eq!(evidence.height(), 7);
    assert_eq!(
        evidence.verify(CHAIN + 1),
        Err(EvidenceError::BadSignature(double_sign::Which::A, ed_key(1), CHAIN + 1))
    );
    // A vote naming another validator address.
    let other = DoubleSign {
        b: SignedVote { vote: VoteContent { validator: [9; 20], ..b.0 }, ..evidence.b },
        ..evidence
    };
    assert!(matches!(other.check_conflict(), Err(EvidenceError::WrongValidator(..))));
    // The calldata round-trips.
    let call = IStaking::reportDoubleSignCall::abi_decode(&evidence.to_call()).unwrap();
    assert_eq!(DoubleSign::from_call(&call), Ok(evidence));
    assert!(!call.a.nil && call.b.nil && call.b.blockHash.is_zero());
    // A key that is no curve point cannot verify anything (about half of
    // all y coordinates are none).
    let bad = (2u8..0x7f)
        .map(|y| [y; 32])
        .find(|k| ed25519_consensus::VerificationKey::try_from(*k).is_err())
        .expect("a y coordinate with no point");
    let invalid = DoubleSign { consensus_key: B256::from(bad), ..evidence };
    assert_eq!(invalid.verify_signatures(CHAIN), Err(EvidenceError::InvalidKey(B256::from(bad))));
}
