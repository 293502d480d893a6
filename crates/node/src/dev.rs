//! The development chain: dev accounts from the standard test mnemonic and
//! the built-in dev genesis.
//!
//! Governance on the dev chain runs in seconds, not weeks
//! ([`dev_governance`]): a proposal made by an account with 1 OPEN of
//! delegated stake opens for votes 1 s later, closes 60 s after that, and
//! once queued executes after a 10 s timelock (quorum 5 %, as on mainnet).
//!
//! The accounts are the ones Hardhat and Anvil use ("test test … junk",
//! BIP-44 path m/44'/60'/0'/0/i), so every tool's default accounts work.

use alloy_primitives::{Address, B256, address};
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use ol_ledger::{
    genesis::{Allocation, DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT, Genesis, VestingTerms},
    governance,
};
use ol_primitives::Amount;

/// The standard test mnemonic.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Chain id of the dev chain.
pub const DEV_CHAIN_ID: u64 = 1337;

/// Number of funded dev accounts.
pub const DEV_ACCOUNTS: u32 = 10;

/// OPEN given to each dev account.
pub const DEV_ACCOUNT_OPEN: u64 = 10_000;

/// Genesis time of the dev chain (2026-01-01T00:00:00Z): fixed, so the dev
/// genesis hash is the same on every machine.
pub const DEV_GENESIS_TIMESTAMP: u64 = 1_767_225_600;

/// Holder of the rest of the dev supply, vesting linearly over 48 months
/// (no key is known for it): shows locked OPEN on the dev chain.
pub const DEV_RESERVE: Address = address!("0x00000000000000000000000000000000000e5e7e");

/// Block producer (beneficiary) of the dev chain; receives priority fees.
pub const DEV_PRODUCER: Address = address!("0x0000000000000000000000000000000000c0ffee");

/// 48 months of 30.4375 days, in seconds.
pub const FORTY_EIGHT_MONTHS: u32 = 126_230_400;

/// The signer of dev account `index`.
pub fn dev_signer(index: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .expect("BIP-44 index below 2^31 is a valid derivation path")
        .build()
        .expect("the standard test mnemonic is a valid BIP-39 phrase")
}

/// The first `count` dev accounts: address and private key.
pub fn dev_accounts(count: u32) -> Vec<(Address, B256)> {
    (0..count)
        .map(|i| {
            let signer = dev_signer(i);
            (signer.address(), B256::from_slice(&signer.credential().to_bytes()))
        })
        .collect()
}

/// Governance parameters of the dev chain: 1 s voting delay, 60 s voting
/// period, 1 OPEN proposal threshold, 5 % quorum, 10 s timelock.
pub fn dev_governance() -> governance::Params {
    governance::Params {
        voting_delay: 1,
        voting_period: 60,
        proposal_threshold: Amount::from_open(1).wei(),
        quorum_numerator: 5,
        timelock_delay: 10,
    }
}

/// The built-in dev genesis: ten funded dev accounts, the rest of the supply
/// vesting in [`DEV_RESERVE`], governance on short windows ([`dev_governance`]).
pub fn dev_genesis() -> Genesis {
    let mut allocations: Vec<Allocation> = dev_accounts(DEV_ACCOUNTS)
        .into_iter()
        .enumerate()
        .map(|(i, (address, _))| Allocation {
            name: format!("dev account {i}"),
            address,
            amount: Amount::from_open(DEV_ACCOUNT_OPEN),
            vesting: None,
        })
        .collect();
    let dev_total = u64::from(DEV_ACCOUNTS) * DEV_ACCOUNT_OPEN;
    allocations.push(Allocation {
        name: "dev reserve (48 months linear)".into(),
        address: DEV_RESERVE,
        amount: Amount::from_open(ol_primitives::TOTAL_SUPPLY_OPEN - dev_total),
        vesting: Some(VestingTerms { cliff_seconds: 0, linear_seconds: FORTY_EIGHT_MONTHS }),
    });
    Genesis {
        chain_id: DEV_CHAIN_ID,
        timestamp: DEV_GENESIS_TIMESTAMP,
        gas_limit: DEFAULT_GAS_LIMIT,
        base_fee_per_gas: DEFAULT_BASE_FEE,
        allocations,
        governance: Some(dev_governance()),
        validator_params: None,
        validators: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_match_hardhat_and_anvil() {
        let accounts = dev_accounts(2);
        assert_eq!(accounts[0].0, address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(
            accounts[0].1,
            alloy_primitives::b256!(
                "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            )
        );
        assert_eq!(accounts[1].0, address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
    }

    #[test]
    fn dev_genesis_is_valid() {
        dev_genesis().validate().unwrap();
    }
}
