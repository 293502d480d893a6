//! The seam between the ledger and an EVM: user contracts.
//!
//! The ledger knows which transactions need an EVM (a creation, or a call to
//! an account with code) and keeps the fee rules ([`crate::execution`]); a
//! [`ContractRuntime`] runs the code. `ol-evm` implements it with revm; with
//! [`NoContracts`] the ledger refuses creations and no account has code.
//!
//! The runtime runs with fee charging off: before it is called the sender
//! has already bought the whole gas limit, and afterwards the ledger refunds
//! the unused gas and pays the base fee to the treasury and the tip to the
//! producer, exactly as for a system-contract call. The runtime bumps the
//! sender's nonce and moves the value.

use crate::{
    content::ContentSource,
    fees::ChainSpec,
    state::{StateChanges, StateError, StateView},
};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use ol_primitives::BlockEnv;

/// EIP-170: the largest runtime code a creation may deploy, in bytes.
pub const MAX_CODE_SIZE: usize = 0x6000;
/// EIP-3860: the largest init code a creation may carry, in bytes.
pub const MAX_INITCODE_SIZE: usize = 2 * MAX_CODE_SIZE;

/// One transaction (or `eth_call`) for the runtime to execute.
#[derive(Debug, Clone, Copy)]
pub struct ContractCall<'a> {
    /// The sender (`CALLER`/`ORIGIN`).
    pub sender: Address,
    /// A call to an address, or a creation.
    pub kind: TxKind,
    /// OPEN sent along, in wei.
    pub value: U256,
    /// Calldata, or init code for a creation.
    pub input: &'a [u8],
    /// The transaction's gas limit (intrinsic gas included).
    pub gas_limit: u64,
    /// The price per gas the sender pays (`GASPRICE`).
    pub gas_price: u128,
    /// The sender's nonce as the transaction carries it; `None` for a call
    /// that is not a transaction (`eth_call`): no nonce check.
    pub nonce: Option<u64>,
    /// EIP-2930 access list, if any.
    pub access_list: Option<&'a AccessList>,
}

/// What a contract execution did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractOutcome {
    /// False on revert or exceptional halt.
    pub success: bool,
    /// Gas charged, Ethereum's rules: intrinsic included, refunds applied
    /// (EIP-3529 cap); the whole limit on an exceptional halt.
    pub gas_used: u64,
    /// Return data on success, revert data on a revert, empty on a halt.
    pub output: Bytes,
    /// Logs emitted (empty unless `success`).
    pub logs: Vec<Log>,
    /// The new contract's address, for a successful creation.
    pub created: Option<Address>,
    /// Why the execution halted, for a halt (out of gas, bad opcode...).
    pub halt: Option<String>,
    /// Every state change: the sender's nonce, balances moved, storage and
    /// new code. On a revert or halt only the sender's nonce.
    pub changes: StateChanges,
}

/// Why the runtime could not run a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// The EVM refused the transaction itself (the sender's fault).
    #[error("{0}")]
    Refused(String),
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Runs user contracts on top of a state.
pub trait ContractRuntime: Send + Sync {
    /// False for [`NoContracts`]: creations are refused and calls to
    /// accounts with code are plain transfers.
    fn enabled(&self) -> bool {
        true
    }

    /// Executes `call` on top of `state` in block `env`; nothing is written.
    /// `content` answers the system contracts a contract calls (datanets and
    /// challenges read contribution bytes through it).
    fn transact(
        &self,
        spec: &ChainSpec,
        state: &dyn StateView,
        env: &BlockEnv,
        call: &ContractCall<'_>,
        content: &dyn ContentSource,
    ) -> Result<ContractOutcome, ContractError>;
}

/// No EVM: creations are refused, as before user contracts existed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContracts;

impl ContractRuntime for NoContracts {
    fn enabled(&self) -> bool {
        false
    }

    fn transact(
        &self,
        _spec: &ChainSpec,
        _state: &dyn StateView,
        _env: &BlockEnv,
        _call: &ContractCall<'_>,
        _content: &dyn ContentSource,
    ) -> Result<ContractOutcome, ContractError> {
        Err(ContractError::Refused("contract creation is not supported on this chain yet".into()))
    }
}
