//! What every system-contract fuzz target shares: the chain and block it
//! calls in, the calls that prepare its state, and the invariants every
//! call must keep.

use alloy_primitives::{Address, U256};
use ol_ledger::{
    ChainSpec, MemoryState, NoContent, StateView,
    system::{self, CallEnv, CallOutcome},
};
use ol_primitives::{BlockEnv, addresses};

const SPEC: ChainSpec =
    ChainSpec { chain_id: 1337, block_gas_limit: 30_000_000, initial_base_fee: 1_000_000_000 };
/// The block time of the fuzzed calls; a prepared state's history lies before it.
pub(crate) const NOW: u64 = 20;
const BLOCK: BlockEnv = block(2, NOW);

const fn block(number: u64, timestamp: u64) -> BlockEnv {
    BlockEnv {
        number,
        timestamp,
        beneficiary: Address::ZERO,
        base_fee: 1_000_000_000,
        gas_limit: 30_000_000,
    }
}

/// The call environment of `caller` in the fuzzed block.
pub(crate) fn env(caller: Address) -> CallEnv<'static> {
    CallEnv { spec: &SPEC, block: &BLOCK, caller, content: &NoContent }
}

/// The call environment of `caller` in `block`.
pub(crate) fn env_in(caller: Address, block: &BlockEnv) -> CallEnv<'_> {
    CallEnv { spec: &SPEC, block, caller, content: &NoContent }
}

/// A block before the fuzzed one, at block time `timestamp`, for preparing
/// a state.
pub(crate) const fn earlier_block(timestamp: u64) -> BlockEnv {
    block(1, timestamp)
}

/// Prepares a fuzzed state: runs `input` against `contract` as `caller` at
/// block time `timestamp` (before [`NOW`]) and applies its changes.
///
/// # Panics
///
/// When the call reverts: the prepared state would not be what the target
/// says it is.
pub(crate) fn prepare(
    state: &mut MemoryState,
    timestamp: u64,
    caller: Address,
    contract: Address,
    input: &[u8],
) {
    let block = earlier_block(timestamp);
    let outcome = system::call(&*state, env_in(caller, &block), contract, input, 10_000_000)
        .expect("a memory state cannot fail");
    assert!(outcome.success, "preparing the fuzzed state: {:?}", outcome.revert_reason);
    state.apply(outcome.changes);
}

/// The gas every fuzzed call is given.
const GAS: u64 = 2_000_000;

/// Runs `input` against `contract` as `caller` over `state` in the fuzzed block.
pub(crate) fn fuzzed_call(
    state: &MemoryState,
    caller: Address,
    contract: Address,
    input: &[u8],
) -> CallOutcome {
    system::call(state, env(caller), contract, input, GAS).expect("a memory state cannot fail")
}

/// Checks that each of `seeds` (a caller byte picking from `callers`, then
/// calldata) does what its name says over `state`: one named `malformed_…`
/// or `…_refused` reverts, every other succeeds. The seeds are meant to
/// reach the contract's deep paths; this proves the prepared state lets
/// them.
#[cfg(test)]
pub(crate) fn assert_seeds_reach(
    state: &MemoryState,
    callers: &[Address],
    contract: Address,
    seeds: &[(&str, Vec<u8>)],
) {
    for (name, seed) in seeds {
        let (selector, input) = seed.split_first().expect("a seed has a caller byte");
        let caller = callers[usize::from(*selector) % callers.len()];
        let outcome = fuzzed_call(state, caller, contract, input);
        let refused = name.starts_with("malformed_") || name.ends_with("_refused");
        assert_eq!(
            outcome.success, !refused,
            "seed {name}: success {}, revert reason {:?}",
            outcome.success, outcome.revert_reason
        );
    }
}

/// Runs `input` against `contract` as `caller` over `state` and checks: no
/// panic; the gas used never exceeds the gas given; a revert carries a
/// reason and changes nothing; a success logs only from system contracts
/// (the called one, another it updates through `Frame::at`, or the targets
/// of governance's nested calls) and creates or destroys no OPEN: the
/// balances of the accounts it touched sum to what they did before.
pub(crate) fn check_call(state: &MemoryState, caller: Address, contract: Address, input: &[u8]) {
    let outcome = fuzzed_call(state, caller, contract, input);
    assert!(outcome.gas_used <= GAS, "used {} of {GAS} gas", outcome.gas_used);
    if outcome.success {
        if let Some(log) = outcome.logs.iter().find(|log| !addresses::is_system(&log.address)) {
            panic!("a log from {}, not a system contract", log.address);
        }
        let before = sum(outcome.changes.accounts.keys().map(|address| {
            state.account(address).expect("a memory state cannot fail").unwrap_or_default().balance
        }));
        let after = sum(outcome.changes.accounts.values().map(|account| account.balance));
        assert_eq!(before, after, "the touched accounts' balances changed in sum");
    } else {
        assert!(outcome.changes.is_empty() && outcome.logs.is_empty(), "a revert changed state");
        assert!(!outcome.revert_reason.unwrap_or_default().is_empty(), "a revert without reason");
    }
}

/// The sum of `balances`; panics on overflow, which a fixed supply rules out.
fn sum(balances: impl Iterator<Item = U256>) -> U256 {
    balances.fold(U256::ZERO, |total, balance| {
        total.checked_add(balance).expect("balances sum within the fixed supply")
    })
}

/// Decoding edge cases made from `valid` (a caller byte, then calldata):
/// malformed ones (no selector, an unknown selector, arguments cut in half)
/// and `valid` with trailing bytes, which decoding ignores (as Solidity
/// does).
pub(crate) fn decoding_edge_seeds(valid: Vec<u8>) -> Vec<(&'static str, Vec<u8>)> {
    let caller = valid[0];
    let mut unknown = valid.clone();
    unknown[1..5].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let truncated = valid[..5 + (valid.len() - 5) / 2].to_vec();
    let mut trailing = valid;
    trailing.extend_from_slice(&[0xff; 5]);
    vec![
        ("malformed_no_selector", vec![caller, 0xab, 0xcd]),
        ("malformed_unknown_selector", unknown),
        ("malformed_truncated", truncated),
        ("trailing_bytes", trailing),
    ]
}
