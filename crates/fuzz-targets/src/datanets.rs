//! Calldata to the datanets system contract: what any signed transaction to
//! `0x…1002` (or an `eth_call`) hands the ledger.

use crate::system_call::{check_call, env};
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolCall;
use ol_ledger::{
    MemoryState,
    datanets::{DATANETS, DatanetConfig, Format, IDatanets, Policy},
    system,
};
use std::sync::LazyLock;

const OWNER: Address = Address::repeat_byte(0x11);

/// A state holding one datanet owned by [`OWNER`].
static STATE: LazyLock<MemoryState> = LazyLock::new(|| {
    let state = MemoryState::default();
    let outcome = system::call(&state, env(OWNER), DATANETS, &create_call(), 10_000_000)
        .expect("a memory state cannot fail");
    assert!(outcome.success, "{:?}", outcome.revert_reason);
    let mut state = state;
    state.apply(outcome.changes);
    state
});

fn create_call() -> Vec<u8> {
    IDatanets::createDatanetCall {
        config: DatanetConfig {
            name: "fuzz".into(),
            summary: String::new(),
            description: String::new(),
            tags: vec![],
            licence: "MIT".into(),
            customTermsHash: B256::ZERO,
            policy: Policy::OwnerApproval,
            maxSubmissionBytes: 0,
            formats: vec![Format::Text],
            jsonlField: String::new(),
            csvColumn: String::new(),
        },
    }
    .abi_encode()
}

/// Runs `data` as calldata (first byte picks the caller: the owner or a
/// stranger) and checks: no panic; the gas used never exceeds the gas
/// given; a revert carries a reason and changes nothing; every log comes
/// from the contract.
pub fn fuzz_datanets_call(data: &[u8]) {
    let Some((selector, input)) = data.split_first() else { return };
    let caller = if selector % 2 == 0 { OWNER } else { Address::repeat_byte(0x22) };
    check_call(&STATE, caller, DATANETS, input);
}

/// Valid calls of every kind, as seeds.
pub fn datanets_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let owner = |call: Vec<u8>| [&[0u8][..], &call].concat();
    vec![
        ("create", owner(create_call())),
        ("get", owner(IDatanets::getDatanetCall { datanetId: 1 }.abi_encode())),
        (
            "contribute",
            owner(
                IDatanets::contributeCall {
                    datanetId: 1,
                    contentHash: B256::repeat_byte(7),
                    size: 10,
                    format: Format::Text,
                    licence: String::new(),
                }
                .abi_encode(),
            ),
        ),
        ("publish", owner(IDatanets::publishVersionCall { datanetId: 1 }.abi_encode())),
        (
            "curator",
            owner(
                IDatanets::setCuratorCall { datanetId: 1, account: Address::ZERO, enabled: true }
                    .abi_encode(),
            ),
        ),
        ("deposit", owner(IDatanets::depositForCall { size: 5_000_000 }.abi_encode())),
        (
            "report_duplicate",
            owner(
                IDatanets::reportNearDuplicateCall { contributionId: 2, originalId: 1 }
                    .abi_encode(),
            ),
        ),
        (
            "report_poisoning",
            owner(
                IDatanets::reportPoisoningCall {
                    datanetId: 1,
                    account: OWNER,
                    evidenceHash: B256::repeat_byte(9),
                    reason: "poisoned".into(),
                }
                .abi_encode(),
            ),
        ),
        ("penalty", owner(IDatanets::penaltyOfCall { datanetId: 1, account: OWNER }.abi_encode())),
        ("params", owner(IDatanets::paramsCall {}.abi_encode())),
    ]
}
