//! Fixed addresses of the ledger's system accounts.
//!
//! They live in the `0x…1000` range: above every Ethereum precompile, so a
//! system address can never collide with one, and far from any address a
//! private key can be shown to control.

use alloy_primitives::{Address, address};

/// The protocol treasury: receives every base fee and, later, the protocol's
/// share of inference fees. Spendable only by governance.
pub const TREASURY: Address = address!("0x0000000000000000000000000000000000001000");

/// The vesting registry: its storage holds every account's vesting schedule,
/// so the schedules are covered by the state root and provable with
/// `eth_getProof`. It holds no balance of its own.
pub const VESTING: Address = address!("0x0000000000000000000000000000000000001001");

/// The datanets system contract (`contracts/IDatanets.sol`): datanets,
/// contributions, versions and their attribution indexes. Holds the
/// deposits of pending contributions.
pub const DATANETS: Address = address!("0x0000000000000000000000000000000000001002");

/// The model registry system contract (`contracts/IModels.sol`): models,
/// their provenance, prices and allowed providers.
pub const MODELS: Address = address!("0x0000000000000000000000000000000000001003");

/// The inference settlement system contract (`contracts/IInference.sol`):
/// payment authorisations, deposits, fee splits and reward balances. Holds
/// the deposits and the unclaimed rewards.
pub const INFERENCE: Address = address!("0x0000000000000000000000000000000000001004");

/// The staking system contract (`contracts/IStaking.sol`): bonded and
/// unbonding stake, the stakers' reward pool (the stakers' share of every
/// inference fee, distributed pro rata to stake) and the voting power that
/// governance counts. Holds every staked and unbonding wei and the
/// undistributed rewards.
pub const STAKING: Address = address!("0x0000000000000000000000000000000000001005");

/// The agents system contract (`contracts/IAgents.sol`): registered AI
/// agents, their operators and metadata, jailing, and the slashing evidence
/// against them (their stake is held by [`STAKING`]).
pub const AGENTS: Address = address!("0x0000000000000000000000000000000000001006");

/// The governance system contract (`contracts/IGovernance.sol`): proposals,
/// votes, the timelock and execution. A proposal's actions run as calls from
/// this address, the only caller the modules' `setParams` functions and the
/// treasury accept.
pub const GOVERNANCE: Address = address!("0x0000000000000000000000000000000000001007");

/// The system contracts that ordinary transactions (and contracts) may call.
pub const CALLABLE: [Address; 6] = [DATANETS, MODELS, INFERENCE, STAKING, AGENTS, GOVERNANCE];

/// True for a system contract that ordinary transactions may call.
pub fn is_callable(address: &Address) -> bool {
    CALLABLE.contains(address)
}

/// The code genesis places at every [`CALLABLE`] address: `PUSH1 0 PUSH1 0
/// REVERT`, never run (the native rules answer first, to transactions and
/// to contracts alike). It is there because Solidity checks `EXTCODESIZE`
/// before a call whose function returns nothing, so `IStaking(STAKING)
/// .stake(...)` needs code at the address; and `eth_getCode` shows a
/// contract there, as Moonbeam does for its precompiles.
pub const SYSTEM_CONTRACT_CODE: [u8; 5] = [0x60, 0x00, 0x60, 0x00, 0xfd];

/// True for Cancun's Ethereum precompiles, `0x01` (ecrecover) to `0x0a`
/// (KZG point evaluation): they have no code, yet a call or a transaction
/// to them runs them.
pub fn is_ethereum_precompile(address: &Address) -> bool {
    let bytes = address.as_slice();
    bytes[..19].iter().all(|b| *b == 0) && (1..=0x0a).contains(&bytes[19])
}

/// True for an address reserved for a system account.
pub fn is_system(address: &Address) -> bool {
    let bytes = address.as_slice();
    bytes[..18].iter().all(|b| *b == 0) && bytes[18] == 0x10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_range() {
        assert!(is_system(&TREASURY));
        assert!(is_system(&VESTING));
        assert!(!is_system(&Address::ZERO));
        assert!(is_ethereum_precompile(&address!("0x0000000000000000000000000000000000000001")));
        assert!(is_ethereum_precompile(&address!("0x000000000000000000000000000000000000000a")));
        assert!(!is_ethereum_precompile(&Address::ZERO));
        assert!(!is_ethereum_precompile(&address!("0x000000000000000000000000000000000000000b")));
        assert!(!is_ethereum_precompile(&STAKING));
        assert!(!is_system(&address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")));
    }
}
