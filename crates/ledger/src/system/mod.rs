//! System contracts: native modules that ordinary transactions call.
//!
//! A call to a system contract address ([`ol_primitives::addresses::is_callable`])
//! runs the module's Rust rules on a checkpoint of the state. Like an EVM
//! call it either succeeds (its writes and logs are kept) or reverts (its
//! writes are dropped, the sender still pays for the gas it used) or runs
//! out of gas (everything dropped, the whole gas limit paid). Gas is metered
//! as Ethereum meters storage: [`gas`] lists the prices. Revert data is the
//! Solidity `Error(string)` encoding, so every Ethereum client shows the
//! reason.

pub mod gas;
pub mod slots;

use crate::{
    agents,
    content::ContentSource,
    datanets,
    fees::ChainSpec,
    governance, inference, models, staking,
    state::{Overlay, StateChanges, StateError, StateView},
};
use alloy_primitives::{Address, Bytes, Log, U256};
use alloy_sol_types::{Revert, SolError, SolInterface};
use ol_primitives::{BlockEnv, addresses};

pub use gas::GasMeter;

/// Why a system call did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The rules refused the call; the reason is shown to the caller.
    #[error("execution reverted: {0}")]
    Revert(String),
    /// The call needed more gas than it was given.
    #[error("out of gas")]
    OutOfGas,
    /// The state could not be read: not the caller's fault.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Shorthand for a revert with a formatted reason.
#[macro_export]
#[doc(hidden)]
macro_rules! revert {
    ($($arg:tt)*) => {
        return Err($crate::system::CallError::Revert(format!($($arg)*)))
    };
}

/// Who calls, with what, in which block.
#[derive(Clone, Copy)]
pub struct CallEnv<'a> {
    /// The chain's parameters.
    pub spec: &'a ChainSpec,
    /// The block being built or verified.
    pub block: &'a BlockEnv,
    /// The caller (the transaction's sender).
    pub caller: Address,
    /// Facts about off-chain contribution bytes.
    pub content: &'a dyn ContentSource,
}

impl std::fmt::Debug for CallEnv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallEnv").field("caller", &self.caller).finish_non_exhaustive()
    }
}

/// A running call: the state it writes, its gas and its logs.
pub struct Frame<'a, S: StateView> {
    /// The state, with the call's writes so far.
    pub state: Overlay<&'a S>,
    /// Gas left and used.
    pub gas: GasMeter,
    /// Logs emitted so far.
    pub logs: Vec<Log>,
    /// The contract being run.
    pub address: Address,
    /// Caller, block and content source.
    pub env: CallEnv<'a>,
}

impl<S: StateView> std::fmt::Debug for Frame<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("address", &self.address).field("gas", &self.gas).finish()
    }
}

impl<'a, S: StateView> Frame<'a, S> {
    /// A frame over `state` with `gas` to spend.
    pub fn new(state: &'a S, address: Address, env: CallEnv<'a>, gas: u64) -> Self {
        Self { state: Overlay::new(state), gas: GasMeter::new(gas), logs: Vec::new(), address, env }
    }

    /// Runs `rules` as system contract `address`: its storage reads and
    /// writes and its logs are that contract's. One module updating another
    /// module's records (settlement paying the stakers' pool, agents bonding
    /// stake) goes through this, as an internal call would; gas is shared.
    pub fn at<T>(
        &mut self,
        address: Address,
        rules: impl FnOnce(&mut Self) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let previous = std::mem::replace(&mut self.address, address);
        let result = rules(self);
        self.address = previous;
        result
    }

    /// Emits a log from the running contract.
    pub fn emit(&mut self, data: alloy_primitives::LogData) -> Result<(), CallError> {
        self.gas.charge(gas::log_cost(data.topics().len(), data.data.len()))?;
        self.logs.push(Log { address: self.address, data });
        Ok(())
    }
}

/// The result of a completed (possibly reverted) system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// True when the call succeeded and its changes stand.
    pub success: bool,
    /// Return data, or the revert data (`Error(string)`).
    pub output: Bytes,
    /// Gas used by the call itself (intrinsic gas not included).
    pub gas_used: u64,
    /// Logs, empty unless it succeeded.
    pub logs: Vec<Log>,
    /// State changes, empty unless it succeeded.
    pub changes: StateChanges,
    /// The revert reason, when it reverted.
    pub revert_reason: Option<String>,
}

/// Runs `input` against the system contract `to` over `state` with `gas`
/// to spend. Only a state failure is an `Err`; reverts and out-of-gas are
/// outcomes.
pub fn call<S: StateView>(
    state: &S,
    env: CallEnv<'_>,
    to: Address,
    input: &[u8],
    gas: u64,
) -> Result<CallOutcome, StateError> {
    let mut frame = Frame::new(state, to, env, gas);
    let result = frame.gas.charge(gas::CALL_BASE).and_then(|()| dispatch(&mut frame, to, input));
    match result {
        Ok(output) => Ok(CallOutcome {
            success: true,
            output,
            gas_used: frame.gas.used(),
            logs: frame.logs,
            changes: frame.state.into_changes(),
            revert_reason: None,
        }),
        Err(CallError::Revert(reason)) => Ok(CallOutcome {
            success: false,
            output: Revert::from(reason.clone()).abi_encode().into(),
            gas_used: frame.gas.used(),
            logs: Vec::new(),
            changes: StateChanges::default(),
            revert_reason: Some(reason),
        }),
        Err(CallError::OutOfGas) => Ok(CallOutcome {
            success: false,
            output: Bytes::new(),
            gas_used: gas,
            logs: Vec::new(),
            changes: StateChanges::default(),
            revert_reason: Some("out of gas".into()),
        }),
        Err(CallError::State(error)) => Err(error),
    }
}

/// Calls system contract `to` with `input` from inside a running call, as
/// `caller` (governance executing a proposal's actions). The inner call
/// spends the frame's gas; its writes and logs join the frame's only when it
/// succeeds, and its revert reverts the frame (with `what` naming the call).
pub fn call_from<S: StateView>(
    frame: &mut Frame<'_, S>,
    caller: Address,
    to: Address,
    input: &[u8],
    what: &str,
) -> Result<Bytes, CallError> {
    if !addresses::is_callable(&to) {
        return Err(CallError::Revert(format!("{what}: {to} is not a callable system contract")));
    }
    let left = frame.gas.left();
    // One monomorphisation for every depth: the inner call sees the frame's
    // state through a trait object.
    let state: &dyn StateView = &frame.state;
    let env = CallEnv { caller, ..frame.env };
    let outcome = call(&state, env, to, input, left)?;
    frame.gas.charge(outcome.gas_used)?;
    if !outcome.success {
        let reason = outcome.revert_reason.unwrap_or_default();
        return Err(if reason == "out of gas" {
            CallError::OutOfGas
        } else {
            CallError::Revert(format!("{what} reverted: {reason}"))
        });
    }
    frame.state.extend(outcome.changes);
    frame.logs.extend(outcome.logs);
    Ok(outcome.output)
}

fn dispatch<S: StateView>(
    frame: &mut Frame<'_, S>,
    to: Address,
    input: &[u8],
) -> Result<Bytes, CallError> {
    if to == addresses::DATANETS {
        return datanets::call(frame, input);
    }
    if to == addresses::MODELS {
        return models::call(frame, input);
    }
    if to == addresses::INFERENCE {
        return inference::call(frame, input);
    }
    if to == addresses::STAKING {
        return staking::call(frame, input);
    }
    if to == addresses::AGENTS {
        return agents::call(frame, input);
    }
    if to == addresses::GOVERNANCE {
        return governance::call(frame, input);
    }
    Err(CallError::Revert(format!("{to} is not a callable system contract")))
}

/// Decodes calldata for the contract whose interface is `C` (named
/// `interface` in messages), or reverts saying what is wrong with it: no
/// selector, an unknown selector, or malformed arguments. Arguments are
/// validated as Solidity's own decoder does: a word that does not fit its
/// type (an address or `uint64` with high bits set, a `bool` other than 0
/// or 1) is refused, never truncated into another value.
pub fn decode_call<C: SolInterface>(interface: &str, input: &[u8]) -> Result<C, CallError> {
    C::abi_decode_validate(input).map_err(|error| {
        CallError::Revert(match input.get(..4) {
            Some(selector) if !C::valid_selector(selector.try_into().unwrap_or([0; 4])) => {
                format!(
                    "{interface} has no function with selector {}",
                    alloy_primitives::hex::encode_prefixed(selector)
                )
            }
            Some(_) => format!("malformed arguments for {interface}: {error}"),
            None => format!("call data of {} bytes has no function selector", input.len()),
        })
    })
}

/// Moves `amount` of OPEN between two accounts inside a call.
pub fn move_balance<S: StateView>(
    frame: &mut Frame<'_, S>,
    from: Address,
    to: Address,
    amount: U256,
) -> Result<(), CallError> {
    if amount.is_zero() || from == to {
        return Ok(());
    }
    let mut source = frame.state.account_or_default(&from)?;
    let Some(left) = source.balance.checked_sub(amount) else {
        return Err(CallError::Revert(format!(
            "{from} holds {} wei, {} needed",
            source.balance, amount
        )));
    };
    source.balance = left;
    frame.state.set_account(from, source);
    let mut target = frame.state.account_or_default(&to)?;
    // Cannot overflow: the sum of all balances is the fixed supply.
    target.balance += amount;
    frame.state.set_account(to, target);
    frame.gas.charge(gas::BALANCE_MOVE)
}

/// Refuses the call unless it comes from governance (a proposal's action):
/// the guard of every `setParams` and of treasury spending.
pub fn only_governance<S: StateView>(frame: &Frame<'_, S>, what: &str) -> Result<(), CallError> {
    if frame.env.caller != addresses::GOVERNANCE {
        return Err(CallError::Revert(format!(
            "{what} may only be called by governance ({}), not by {}",
            addresses::GOVERNANCE,
            frame.env.caller
        )));
    }
    Ok(())
}

/// Refuses user text over `max` bytes or with control characters (other
/// than newline and tab).
pub fn check_text(what: &str, value: &str, max: usize) -> Result<(), CallError> {
    if value.len() > max {
        return Err(CallError::Revert(format!(
            "{what} is {} bytes; at most {max} allowed",
            value.len()
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(CallError::Revert(format!("{what} contains control characters")));
    }
    Ok(())
}

static NO_CONTENT: crate::content::NoContent = crate::content::NoContent;
static READ_SPEC: ChainSpec = ChainSpec { chain_id: 0, block_gas_limit: 0, initial_base_fee: 0 };
static READ_BLOCK: BlockEnv =
    BlockEnv { number: 0, timestamp: 0, beneficiary: Address::ZERO, base_fee: 0, gas_limit: 0 };

/// A frame for reading `address`'s records outside any transaction: no
/// caller, no content, unlimited gas. Readers (RPC, tools) use it.
pub fn read_frame<S: StateView>(state: &S, address: Address) -> Frame<'_, S> {
    let env = CallEnv {
        spec: &READ_SPEC,
        block: &READ_BLOCK,
        caller: Address::ZERO,
        content: &NO_CONTENT,
    };
    let mut frame = Frame::new(state, address, env, u64::MAX);
    frame.gas = GasMeter::unlimited();
    frame
}
