//! Which account signs a transaction: a keystore key (`--from`), a raw
//! private key (`--private-key`) or a development account derived from the
//! well-known test mnemonic (`--dev-account N`).

use crate::{
    arguments::{parse_address, parse_private_key},
    keystore::KeystoreArgs,
};
use alloy_primitives::Address;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use clap::Args;
use eyre::{Context, Result, eyre};

/// The mnemonic of the development accounts (anvil's and hardhat's), the
/// node's own, derived at `m/44'/60'/0'/0/N`.
use ol_node::dev::DEV_MNEMONIC;

/// The signing account; exactly one of the three must be given.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct SignerArgs {
    /// Sign with the keystore key of this address (unlocked with
    /// --password-file or OPENLEDGER_PASSWORD).
    #[arg(long = "from", value_name = "ADDRESS", value_parser = parse_address)]
    from: Option<Address>,
    /// Sign with this private key (hex). Visible to other local users in the
    /// process list: prefer --from on shared machines.
    #[arg(long = "private-key", value_name = "HEX")]
    private_key: Option<String>,
    /// Sign with development account N of the test mnemonic
    /// ("test test ... junk", m/44'/60'/0'/0/N), funded on dev chains.
    #[arg(long = "dev-account", value_name = "N")]
    dev_account: Option<u32>,
}

impl SignerArgs {
    /// The signer the flags name.
    pub(crate) fn signer(&self, keystore: &KeystoreArgs) -> Result<PrivateKeySigner> {
        if let Some(address) = self.from {
            let password = keystore.password()?;
            return keystore.keystore()?.unlock(address, &password);
        }
        if let Some(text) = &self.private_key {
            return parse_private_key(text).wrap_err("--private-key was refused");
        }
        if let Some(index) = self.dev_account {
            return dev_account(index);
        }
        // clap's group guarantees one of the three.
        Err(eyre!("no signing account: pass --from ADDRESS, --private-key HEX or --dev-account N"))
    }
}

/// Development account `index` of [`DEV_MNEMONIC`]; unlike
/// `ol_node::dev::dev_signer` it refuses an out-of-range index typed by a
/// user instead of panicking.
pub(crate) fn dev_account(index: u32) -> Result<PrivateKeySigner> {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .and_then(|builder| builder.build())
        .map_err(|error| eyre!("cannot derive development account {index}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn dev_accounts_match_anvil() {
        let expected = [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        ];
        for (index, address) in expected.iter().enumerate() {
            let signer = dev_account(index as u32).unwrap();
            assert_eq!(signer.address(), Address::from_str(address).unwrap());
        }
    }
}
