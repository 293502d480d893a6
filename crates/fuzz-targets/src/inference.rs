//! Calldata to the inference settlement system contract: what any signed
//! transaction to `0x…1004` (or an `eth_call`) hands the ledger.

use crate::system_call::{check_call, env};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use ol_ledger::{
    Account, MemoryState, StateChanges,
    inference::{Attributed, IInference, INFERENCE, Settlement},
    system,
};
use std::sync::LazyLock;

const PAYER: Address = Address::repeat_byte(0x11);
const PROVIDER: Address = Address::repeat_byte(0x22);

/// A state where the payer holds 100 OPEN and has deposited 1 OPEN for the
/// provider.
static STATE: LazyLock<MemoryState> = LazyLock::new(|| {
    let mut state = MemoryState::default();
    let mut funded = StateChanges::default();
    let hundred = U256::from(100u64) * U256::from(10u64).pow(U256::from(18));
    funded.accounts.insert(PAYER, Account::with_balance(hundred));
    state.apply(funded);
    let outcome = system::call(&state, env(PAYER), INFERENCE, &deposit_call(), 10_000_000)
        .expect("a memory state cannot fail");
    assert!(outcome.success, "{:?}", outcome.revert_reason);
    state.apply(outcome.changes);
    state
});

fn deposit_call() -> Vec<u8> {
    let amount = U256::from(10u64).pow(U256::from(18));
    IInference::depositCall { provider: PROVIDER, amount }.abi_encode()
}

fn settle_call(signature: Vec<u8>) -> Vec<u8> {
    let settlement = Settlement {
        modelId: 1,
        payer: PAYER,
        promptHash: B256::repeat_byte(1),
        outputHash: B256::repeat_byte(2),
        inputTokens: 10,
        outputTokens: 20,
        fee: U256::from(1_000u64),
        datanetId: 1,
        version: 1,
        indexHash: B256::repeat_byte(3),
        attribution: vec![
            Attributed { contributionId: 1, bps: 6_000 },
            Attributed { contributionId: 2, bps: 4_000 },
        ],
        maxFee: U256::from(10_000u64),
        nonce: U256::from(1),
        expiry: 1_000,
    };
    IInference::settleCall { settlement, signature: signature.into() }.abi_encode()
}

/// Runs `data` as calldata (first byte picks the caller: the payer or the
/// provider) and checks: no panic; the gas used never exceeds the gas
/// given; a revert carries a reason and changes nothing; every log comes
/// from the contract.
pub fn fuzz_inference_call(data: &[u8]) {
    let Some((selector, input)) = data.split_first() else { return };
    let caller = if selector % 2 == 0 { PAYER } else { PROVIDER };
    check_call(&STATE, caller, INFERENCE, input);
}

/// Valid calls of every kind, as seeds.
pub fn inference_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let payer = |call: Vec<u8>| [&[0u8][..], &call].concat();
    let provider = |call: Vec<u8>| [&[1u8][..], &call].concat();
    vec![
        ("deposit", payer(deposit_call())),
        (
            "withdraw",
            payer(
                IInference::withdrawDepositCall { provider: PROVIDER, amount: U256::from(5) }
                    .abi_encode(),
            ),
        ),
        ("claim", provider(IInference::claimCall {}.abi_encode())),
        ("settle_deposit", provider(settle_call(Vec::new()))),
        ("settle_signed", provider(settle_call(vec![0x1b; 65]))),
        (
            "fee_for",
            payer(
                IInference::feeForCall { modelId: 1, inputTokens: 5, outputTokens: 5 }.abi_encode(),
            ),
        ),
        ("params", payer(IInference::paramsCall {}.abi_encode())),
        ("earning_sources", payer(IInference::earningSourcesCall { account: PAYER }.abi_encode())),
    ]
}
