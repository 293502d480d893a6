//! Contracts calling the system contracts: views, writes that an outer
//! revert undoes, static calls, refused calls, logs, gas and reentrancy.

use super::*;
use alloy_sol_types::{SolCall, SolEvent};
use ol_ledger::system;
use ol_ledger::{
    inference::{IInference, INFERENCE},
    staking::{IStaking, STAKING},
    system::slots::{KeyPart, slot},
};
use ol_primitives::addresses;

/// How a step calls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Call,
    StaticCall,
    DelegateCall,
}

/// One call a test contract makes, in order; its `1 + success` is stored
/// in the slot of its index, and with `measure` the gas it took (from the
/// first push of its arguments to just after it) in slot `100 + index`.
struct Step {
    op: Op,
    to: Address,
    value: U256,
    data: Vec<u8>,
    measure: bool,
}

fn step(op: Op, to: Address, data: Vec<u8>) -> Step {
    Step { op, to, value: U256::ZERO, data, measure: false }
}

/// Gas of the opcodes around a measured `CALL` (pushes, `GAS` twice, the
/// warm access of a precompile): everything but what the callee used.
const MEASURE_OVERHEAD_CALL: u64 = 6 + 3 + 3 + 3 + 3 + 2 + 100 + 2;

/// A contract that makes `steps`, then returns (or, with `revert`,
/// reverts with) the last call's return data.
fn caller_runtime(steps: &[Step], revert: bool) -> Vec<u8> {
    let mut code = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        for (i, chunk) in step.data.chunks(32).enumerate() {
            let mut word = [0u8; 32];
            word[..chunk.len()].copy_from_slice(chunk);
            code.push(0x7f);
            code.extend(word);
            code.push(0x61);
            code.extend(u16::try_from(i * 32).expect("short data").to_be_bytes());
            code.push(0x52); // mstore
        }
        if step.measure {
            code.push(0x5a); // gas (before)
        }
        code.extend([0x60, 0x00, 0x60, 0x00, 0x61]); // retSize, retOffset, argsSize
        code.extend(u16::try_from(step.data.len()).expect("short data").to_be_bytes());
        code.extend([0x60, 0x00]); // argsOffset
        if step.op == Op::Call {
            code.push(0x7f);
            code.extend(step.value.to_be_bytes::<32>());
        }
        code.push(0x73);
        code.extend(step.to.0);
        code.push(0x5a);
        code.push(match step.op {
            Op::Call => 0xf1,
            Op::StaticCall => 0xfa,
            Op::DelegateCall => 0xf4,
        });
        let index = u8::try_from(index).expect("few steps");
        if step.measure {
            // [before, success] -> gas, then store before - after.
            code.extend([0x5a, 0x90, 0x60, 0x01, 0x01, 0x60, index, 0x55]);
            code.extend([0x90, 0x03, 0x60, 100 + index, 0x55]);
        } else {
            code.extend([0x60, 0x01, 0x01, 0x60, index, 0x55]); // sstore(index, 1 + success)
        }
    }
    code.extend([0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e]); // returndatacopy(0, 0, size)
    code.extend([0x3d, 0x60, 0x00, if revert { 0xfd } else { 0xf3 }]);
    code
}

fn validator() -> Address {
    Address::repeat_byte(0x77)
}

fn stake(amount: U256) -> Vec<u8> {
    IStaking::stakeCall { validator: validator(), amount }.abi_encode()
}

fn total_bonded(chain: &Chain) -> U256 {
    let output = read(chain, STAKING, &IStaking::totalBondedCall {}.abi_encode());
    U256::from_be_slice(&output)
}

/// A system contract's answer to a direct call, as an `eth_call` would get.
fn read(chain: &Chain, to: Address, input: &[u8]) -> Bytes {
    let outcome = direct(chain, to, input, key(3).address());
    assert!(outcome.success, "{:?}", outcome.revert_reason);
    outcome.output
}

fn direct(chain: &Chain, to: Address, input: &[u8], caller: Address) -> system::CallOutcome {
    let env = chain.env();
    let call_env = system::CallEnv { spec: &chain.spec, block: &env, caller, content: &NoContent };
    system::call(&chain.state, call_env, to, input, 1_000_000).expect("memory state")
}

/// Runs `contract` with no transaction (as `eth_call`).
fn simulate(chain: &Chain, contract: Address) -> ContractOutcome {
    let call = ContractCall {
        sender: key(2).address(),
        kind: TxKind::Call(contract),
        value: U256::ZERO,
        input: &[],
        gas_limit: 1_000_000,
        gas_price: 0,
        nonce: None,
        access_list: None,
    };
    Revm.transact(&chain.spec, &chain.state, &chain.env(), &call, &NoContent).unwrap()
}

fn slot_of(chain: &Chain, contract: Address, index: u64) -> U256 {
    chain.state.storage(&contract, &B256::from(U256::from(index))).unwrap()
}

fn reason(output: &[u8]) -> String {
    Revert::abi_decode(output).expect("Error(string) revert data").reason
}

#[test]
fn a_contract_reads_a_system_view_and_pays_the_native_gas() {
    let mut chain = Chain::new();
    let input = IInference::paramsCall {}.abi_encode();
    let contract = chain.create(&caller_runtime(
        &[Step { measure: true, ..step(Op::Call, INFERENCE, input.clone()) }],
        false,
    ));
    let outcome = simulate(&chain, contract);
    assert!(outcome.success, "{outcome:?}");
    let native = direct(&chain, INFERENCE, &input, contract);
    assert_eq!(outcome.output, native.output, "the view's answer, as a direct call gives it");
    assert!(!outcome.output.is_empty());

    let out = chain.send(1, TxKind::Call(contract), U256::ZERO, vec![], 1_000_000);
    assert!(out.receipts[0].success());
    assert_eq!(slot_of(&chain, contract, 0), U256::from(2), "the call succeeded");
    let used = slot_of(&chain, contract, 100);
    assert_eq!(
        used,
        U256::from(native.gas_used + MEASURE_OVERHEAD_CALL),
        "the precompile charges exactly the native gas"
    );
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn a_contract_stakes_logs_come_from_the_system_address_and_an_outer_revert_undoes_it() {
    let mut chain = Chain::new();
    let amount = U256::from(5_000);
    let steps = [step(Op::Call, STAKING, stake(amount))];
    let reverting = chain.create(&caller_runtime(&steps, true));
    let keeping = chain.create(&caller_runtime(&steps, false));
    let sender = key(1).address();

    // The outer call reverts: the stake, its log and the value all go back.
    let before = chain.account(&sender).balance;
    let out = chain.send(1, TxKind::Call(reverting), amount, vec![], 1_000_000);
    let receipt = &out.receipts[0];
    assert!(!receipt.success());
    assert!(receipt.logs().is_empty());
    let fee = U256::from(receipt.gas_used) * U256::from(2 * BASE_FEE);
    assert_eq!(chain.account(&sender).balance, before - fee);
    assert_eq!(chain.account(&reverting).balance, U256::ZERO);
    assert_eq!(total_bonded(&chain), U256::ZERO);
    assert!(!out.changes.storage.contains_key(&STAKING), "staking's storage untouched");
    assert!(!out.changes.accounts.contains_key(&STAKING));

    // Kept: the contract is the staker.
    let out = chain.send(1, TxKind::Call(keeping), amount, vec![], 1_000_000);
    let receipt = &out.receipts[0];
    assert!(receipt.success());
    assert_eq!(chain.account(&keeping).balance, U256::ZERO, "the value went into the stake");
    assert_eq!(chain.account(&STAKING).balance, amount);
    assert_eq!(total_bonded(&chain), amount);
    let bonded = read(
        &chain,
        STAKING,
        &IStaking::bondedCall { staker: keeping, validator: validator() }.abi_encode(),
    );
    assert_eq!(U256::from_be_slice(&bonded), amount);
    let staked = receipt
        .logs()
        .iter()
        .find(|log| log.topics().first() == Some(&IStaking::Staked::SIGNATURE_HASH))
        .expect("a Staked log");
    assert_eq!(staked.address, STAKING);
    let decoded = IStaking::Staked::decode_log_data(&staked.data).expect("the interface's event");
    assert_eq!((decoded.staker, decoded.validator, decoded.amount), (keeping, validator(), amount));
    assert!(out.logs_bloom.contains_input(alloy_primitives::BloomInput::Raw(STAKING.as_slice())));
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn a_static_call_that_would_write_fails_and_changes_nothing() {
    let mut chain = Chain::new();
    let amount = U256::from(5_000);
    let contract =
        chain.create(&caller_runtime(&[step(Op::StaticCall, STAKING, stake(amount))], false));
    // As an SSTORE in a static frame, it halts and takes the gas it was
    // given (63/64 of what was left): the caller keeps the last 64th.
    let out = chain.send(1, TxKind::Call(contract), amount, vec![], 3_000_000);
    assert!(out.receipts[0].success(), "the outer call goes on");
    assert!(out.receipts[0].gas_used > 2_900_000, "{}", out.receipts[0].gas_used);
    assert_eq!(slot_of(&chain, contract, 0), U256::from(1), "STATICCALL returned 0");
    assert_eq!(chain.account(&contract).balance, amount, "nothing was staked");
    assert_eq!(total_bonded(&chain), U256::ZERO);

    // A static view is fine.
    let view = IStaking::totalBondedCall {}.abi_encode();
    let contract = chain.create(&caller_runtime(&[step(Op::StaticCall, STAKING, view)], false));
    let outcome = simulate(&chain, contract);
    assert!(outcome.success);
    assert_eq!(U256::from_be_slice(&outcome.output), U256::ZERO);
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

#[test]
fn malformed_calldata_value_and_delegatecall_revert_with_a_reason() {
    let mut chain = Chain::new();
    let cases: [(Step, &str); 5] = [
        (step(Op::Call, STAKING, vec![0xde, 0xad, 0xbe, 0xef]), "has no function with selector"),
        (step(Op::Call, STAKING, stake(U256::from(1))[..14].to_vec()), "malformed arguments"),
        (step(Op::Call, addresses::DATANETS, vec![]), "has no function selector"),
        (
            Step { value: U256::from(1), ..step(Op::Call, STAKING, stake(U256::from(1))) },
            "not payable",
        ),
        (step(Op::DelegateCall, STAKING, stake(U256::from(1))), "DELEGATECALL"),
    ];
    for (case, expected) in cases {
        let contract = chain.create(&caller_runtime(&[case], false));
        // Funded, so that the value case fails for being sent, not for lack of it.
        chain.send(1, TxKind::Call(contract), U256::from(10), vec![], 1_000_000);
        let outcome = simulate(&chain, contract);
        assert!(outcome.success, "the caller goes on");
        let reason = reason(&outcome.output);
        assert!(reason.contains(expected), "{reason:?} should say {expected:?}");
        assert_eq!(slot_of(&chain, contract, 0), U256::from(1), "the call failed: {reason}");
        assert_eq!(chain.account(&contract).balance, U256::from(10));
    }
    assert_eq!(total_bonded(&chain), U256::ZERO);
    assert_eq!(chain.total(), Amount::total_supply().wei());
}

/// Gives `account` `amount` of inference rewards to claim, funded from the
/// reserve (the supply is unchanged).
fn credit_rewards(chain: &mut Chain, account: Address, amount: U256) {
    let reserve = Address::repeat_byte(0xaa);
    let mut changes = StateChanges::default();
    let mut from = chain.account(&reserve);
    from.balance -= amount;
    let mut to = chain.account(&INFERENCE);
    to.balance += amount;
    changes.accounts.insert(reserve, from);
    changes.accounts.insert(INFERENCE, to);
    let rewards = slot("rewards", &[KeyPart::Address(&account)]);
    changes.storage.entry(INFERENCE).or_default().insert(rewards, amount);
    chain.state.apply(changes);
}

#[test]
fn claiming_twice_in_one_transaction_pays_once() {
    let mut chain = Chain::new();
    let claim = IInference::claimCall {}.abi_encode();
    let steps = [step(Op::Call, INFERENCE, claim.clone()), step(Op::Call, INFERENCE, claim)];
    let contract = chain.create(&caller_runtime(&steps, false));
    let reverting = chain.create(&caller_runtime(&steps, true));
    let amount = U256::from(1_000_000);
    credit_rewards(&mut chain, contract, amount);
    credit_rewards(&mut chain, reverting, amount);
    let pool = chain.account(&INFERENCE).balance;

    let out = chain.send(1, TxKind::Call(contract), U256::ZERO, vec![], 1_000_000);
    let receipt = &out.receipts[0];
    assert!(receipt.success());
    assert_eq!(slot_of(&chain, contract, 0), U256::from(2), "the first claim pays");
    assert_eq!(slot_of(&chain, contract, 1), U256::from(1), "the second reverts");
    assert_eq!(chain.account(&contract).balance, amount, "paid once");
    assert_eq!(chain.account(&INFERENCE).balance, pool - amount);
    let claimed: Vec<_> = receipt
        .logs()
        .iter()
        .filter(|log| log.topics().first() == Some(&IInference::Claimed::SIGNATURE_HASH))
        .collect();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].address, INFERENCE);
    let rewards = IInference::rewardsOfCall { account: contract }.abi_encode();
    assert_eq!(U256::from_be_slice(&read(&chain, INFERENCE, &rewards)), U256::ZERO);
    let outcome = simulate(&chain, contract);
    assert!(reason(&outcome.output).contains("no rewards to claim"));

    // Claimed then reverted: still claimable, nothing paid.
    let out = chain.send(1, TxKind::Call(reverting), U256::ZERO, vec![], 1_000_000);
    assert!(!out.receipts[0].success());
    assert_eq!(chain.account(&reverting).balance, U256::ZERO);
    assert_eq!(chain.account(&INFERENCE).balance, pool - amount);
    let rewards = IInference::rewardsOfCall { account: reverting }.abi_encode();
    assert_eq!(U256::from_be_slice(&read(&chain, INFERENCE, &rewards)), amount);
    assert_eq!(chain.total(), Amount::total_supply().wei());
}
