//! What every system-contract fuzz target shares: the chain and block it
//! calls in, and the invariants every call must keep.

use alloy_primitives::Address;
use ol_ledger::{
    ChainSpec, MemoryState, NoContent,
    system::{self, CallEnv},
};
use ol_primitives::BlockEnv;

const SPEC: ChainSpec =
    ChainSpec { chain_id: 1337, block_gas_limit: 30_000_000, initial_base_fee: 1_000_000_000 };
const BLOCK: BlockEnv = BlockEnv {
    number: 2,
    timestamp: 20,
    beneficiary: Address::ZERO,
    base_fee: 1_000_000_000,
    gas_limit: 30_000_000,
};

/// The call environment of `caller` in the fuzzed block.
pub(crate) fn env(caller: Address) -> CallEnv<'static> {
    CallEnv { spec: &SPEC, block: &BLOCK, caller, content: &NoContent }
}

/// Runs `input` against `contract` as `caller` over `state` and checks: no
/// panic; the gas used never exceeds the gas given; a revert carries a
/// reason and changes nothing; every log comes from the contract.
pub(crate) fn check_call(state: &MemoryState, caller: Address, contract: Address, input: &[u8]) {
    let gas = 2_000_000;
    let outcome =
        system::call(state, env(caller), contract, input, gas).expect("a memory state cannot fail");
    assert!(outcome.gas_used <= gas, "used {} of {gas} gas", outcome.gas_used);
    if outcome.success {
        assert!(outcome.logs.iter().all(|log| log.address == contract));
    } else {
        assert!(outcome.changes.is_empty() && outcome.logs.is_empty(), "a revert changed state");
        assert!(!outcome.revert_reason.unwrap_or_default().is_empty(), "a revert without reason");
    }
}
