//! BenchToken: OpenZeppelin's `ERC20` compiled with solc (see
//! `contracts/BenchToken.sol` and the README for how `data/BenchToken.json`
//! is regenerated), its ABI, and where it keeps balances.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use serde_json::Value;

alloy_sol_types::sol! {
    /// The part of ERC-20 the benchmark calls.
    interface IERC20 {
        /// Moves `amount` from the caller to `to`.
        function transfer(address to, uint256 amount) external returns (bool);
        /// Emitted by every balance move.
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

/// The solc artifact (`{abi, bytecode, deployedBytecode, compiler}`).
const ARTIFACT: &str = include_str!("../data/BenchToken.json");

/// Storage slot of OpenZeppelin ERC20's `_balances` mapping (its first
/// state variable; OZ 5.x is not upgradeable-namespaced in `ERC20`).
const BALANCES_SLOT: u64 = 0;
/// Storage slot of `_totalSupply` (after `_balances` and `_allowances`).
pub(crate) const TOTAL_SUPPLY_SLOT: u64 = 2;

/// The compiled token.
#[derive(Debug, Clone)]
pub(crate) struct Artifact {
    /// Creation code (constructor arguments go after it).
    pub(crate) creation: Bytes,
    /// The runtime code a deployment must leave at the token's address.
    pub(crate) runtime: Bytes,
    /// The solc version that compiled it.
    pub(crate) compiler: String,
}

impl Artifact {
    /// Reads the committed artifact.
    pub(crate) fn load() -> eyre::Result<Self> {
        let json: Value = serde_json::from_str(ARTIFACT)?;
        let field = |name: &str| -> eyre::Result<&str> {
            json[name]
                .as_str()
                .ok_or_else(|| eyre::eyre!("data/BenchToken.json has no string field {name:?}"))
        };
        let hex = |name: &str| -> eyre::Result<Bytes> {
            let bytes: Bytes = field(name)?
                .parse()
                .map_err(|e| eyre::eyre!("data/BenchToken.json field {name:?} is not hex: {e}"))?;
            eyre::ensure!(!bytes.is_empty(), "data/BenchToken.json field {name:?} is empty");
            Ok(bytes)
        };
        Ok(Self {
            creation: hex("bytecode")?,
            runtime: hex("deployedBytecode")?,
            compiler: field("compiler")?.to_owned(),
        })
    }

    /// Init code of a deployment that mints `supply` to `holder`.
    pub(crate) fn deployment(&self, holder: Address, supply: U256) -> Bytes {
        let mut code = self.creation.to_vec();
        code.extend_from_slice(&(holder, supply).abi_encode_params());
        code.into()
    }
}

/// Calldata of `transfer(to, amount)`.
pub(crate) fn transfer_call(to: Address, amount: U256) -> Bytes {
    IERC20::transferCall { to, amount }.abi_encode().into()
}

/// The storage slot holding `holder`'s balance: keccak(holder . slot).
pub(crate) fn balance_slot(holder: Address) -> B256 {
    keccak256((holder, U256::from(BALANCES_SLOT)).abi_encode())
}

/// The `Transfer` event of a log, if it is one.
pub(crate) fn transfer_event(log: &alloy_primitives::Log) -> Option<IERC20::Transfer> {
    IERC20::Transfer::decode_log(log).ok().map(|decoded| decoded.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_artifact_loads() {
        let artifact = Artifact::load().expect("the committed artifact parses");
        assert!(artifact.compiler.starts_with("0.8."), "{}", artifact.compiler);
        // The creation code carries the runtime code it deploys.
        let runtime = artifact.runtime.as_ref();
        assert!(artifact.creation.windows(runtime.len()).any(|w| w == runtime));
    }

    #[test]
    fn transfer_calldata_has_the_erc20_selector() {
        let input = transfer_call(Address::repeat_byte(1), U256::from(5));
        assert_eq!(&input[..4], &[0xa9, 0x05, 0x9c, 0xbb]);
        assert_eq!(input.len(), 4 + 32 + 32);
    }
}
