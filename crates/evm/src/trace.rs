//! geth's `callTracer`: the tree of calls a transaction made.
//!
//! [`Tracing`] is a [`ContractRuntime`] that runs exactly as
//! [`crate::Revm`] does and also records, through a revm [`Inspector`]
//! ([`CallTracer`]), every call frame of the execution: the top one, each
//! nested `CALL`, `STATICCALL`, `DELEGATECALL`, `CALLCODE`, `CREATE`,
//! `CREATE2` and `SELFDESTRUCT`, and the calls into precompiles (the system
//! contracts included, with the logs their rules emitted). Each frame is
//! kept in geth's shape ([`CallFrame`]): the frame's gas and the gas it
//! used, its input, and its output or error as geth's tracer reports them
//! (revert data and its decoded reason on a revert; no output and no
//! created address on a failed creation).
//!
//! The top frame follows geth's convention for a transaction: its gas is
//! the transaction's gas limit and its gas used the receipt's, intrinsic gas
//! and refunds included. [`CallTracerConfig`] applies geth's `onlyTopCall`
//! and `withLog` options to a recorded tree ([`CallFrame::configured`]).
//! Nothing here knows JSON; the node's `debug_` namespace writes it.

use crate::{SPEC, context, contract_error, outcome, system, tx_env};
use alloy_primitives::{Address, Bytes, Log, U256};
use alloy_sol_types::{Panic, Revert, SolError};
use ol_ledger::{
    ChainSpec, ContractCall, ContractError, ContractOutcome, ContractRuntime, StateView,
    content::ContentSource,
};
use ol_primitives::BlockEnv;
use revm::{
    InspectEvm, Inspector, MainBuilder,
    context_interface::{ContextTr, CreateScheme},
    interpreter::{
        CallInputs, CallOutcome, CallScheme, CreateInputs, CreateOutcome, InstructionResult,
        InterpreterResult,
    },
};
use std::sync::Mutex;

/// What kind of frame a [`CallFrame`] is: geth's opcode name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `CALL`, and a transaction to an address.
    Call,
    /// `STATICCALL`.
    StaticCall,
    /// `DELEGATECALL`.
    DelegateCall,
    /// `CALLCODE`.
    CallCode,
    /// `CREATE`, and a creation transaction.
    Create,
    /// `CREATE2`.
    Create2,
    /// `SELFDESTRUCT`: the balance sent to the beneficiary, a frame with no
    /// gas, as geth records it.
    SelfDestruct,
}

impl FrameKind {
    /// geth's name: `"CALL"`, `"STATICCALL"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Call => "CALL",
            Self::StaticCall => "STATICCALL",
            Self::DelegateCall => "DELEGATECALL",
            Self::CallCode => "CALLCODE",
            Self::Create => "CREATE",
            Self::Create2 => "CREATE2",
            Self::SelfDestruct => "SELFDESTRUCT",
        }
    }

    fn is_create(self) -> bool {
        matches!(self, Self::Create | Self::Create2)
    }
}

/// A log as geth's `callTracer` reports it with `withLog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLog {
    /// The log itself.
    pub log: Log,
    /// How many calls of its frame came before it.
    pub position: u64,
}

/// One call frame, geth's `callTracer` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFrame {
    /// The opcode that opened the frame.
    pub kind: FrameKind,
    /// The account whose code made the call (the sender, for the top one).
    pub from: Address,
    /// The callee, or the created contract; `None` for a failed creation.
    pub to: Option<Address>,
    /// OPEN sent along; `None` for a `STATICCALL`, which carries none. A
    /// `DELEGATECALL` shows the value it inherits, as geth does.
    pub value: Option<U256>,
    /// Gas given to the frame.
    pub gas: u64,
    /// Gas the frame used.
    pub gas_used: u64,
    /// Calldata, or init code.
    pub input: Bytes,
    /// Return data on success (the deployed code of a creation), the revert
    /// data on a revert, empty otherwise.
    pub output: Bytes,
    /// geth's error message (`"execution reverted"`, `"out of gas"`, ...).
    pub error: Option<String>,
    /// The decoded `Error(string)` or `Panic(uint256)` of a revert.
    pub revert_reason: Option<String>,
    /// Nested frames, in order.
    pub calls: Vec<CallFrame>,
    /// Logs emitted by this frame's own code.
    pub logs: Vec<CallLog>,
}

impl CallFrame {
    /// The frame of a transaction that ran no EVM code (a plain transfer,
    /// or a direct call to a system contract), as it succeeded.
    pub fn transaction(
        from: Address,
        to: Address,
        value: U256,
        input: Bytes,
        gas: u64,
        gas_used: u64,
    ) -> Self {
        Self {
            kind: FrameKind::Call,
            from,
            to: Some(to),
            value: Some(value),
            gas,
            gas_used,
            input,
            output: Bytes::new(),
            error: None,
            revert_reason: None,
            calls: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// This frame ended with `output`: returned on success; on failure the
    /// revert data (a revert), or nothing (out of gas).
    pub fn with_result(mut self, success: bool, output: Bytes) -> Self {
        let error = match (success, output.is_empty()) {
            (true, _) => None,
            (false, true) => Some("out of gas".to_string()),
            (false, false) => Some(REVERTED.to_string()),
        };
        self.finish(output, error);
        self
    }

    /// This frame emitted `logs` from its own code (a system contract's
    /// rules, for a direct call), before any nested call.
    pub fn with_logs(mut self, logs: Vec<Log>) -> Self {
        self.logs = logs.into_iter().map(|log| CallLog { log, position: 0 }).collect();
        self
    }

    /// This tree with geth's options applied: with `only_top_call` the
    /// nested frames are dropped; without `with_log` every log is; with it,
    /// the logs of a failed frame and of everything below it are (they were
    /// undone), as geth does.
    pub fn configured(mut self, config: CallTracerConfig) -> Self {
        if config.only_top_call {
            self.calls.clear();
            for log in &mut self.logs {
                log.position = 0;
            }
        }
        self.clear_logs(!config.with_log);
        self
    }

    /// True when the frame failed (its changes and logs were undone).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Drops the logs of failed frames and of everything below them; with
    /// `all`, every log. A loop, not recursion: a tree may nest 1024 deep.
    fn clear_logs(&mut self, all: bool) {
        let mut stack = vec![(self, false)];
        while let Some((frame, parent_failed)) = stack.pop() {
            let failed = parent_failed || frame.failed();
            if all || failed {
                frame.logs.clear();
            }
            stack.extend(frame.calls.iter_mut().map(|call| (call, failed)));
        }
    }

    /// geth's `processOutput`: the output on success; on failure the error,
    /// no created address, and the revert data with its reason on a revert.
    fn finish(&mut self, output: Bytes, error: Option<String>) {
        let Some(error) = error else {
            self.output = output;
            return;
        };
        if self.kind.is_create() {
            self.to = None;
        }
        let reverted = error == REVERTED;
        self.error = Some(error);
        if reverted && !output.is_empty() {
            self.revert_reason = revert_reason(&output);
            self.output = output;
        }
    }
}

/// geth's `callTracer` options (`tracerConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTracerConfig {
    /// Only the top frame, no nested calls.
    pub only_top_call: bool,
    /// Include the logs each frame emitted.
    pub with_log: bool,
}

/// geth's error for a revert.
pub const REVERTED: &str = "execution reverted";

/// The reason of an `Error(string)` or `Panic(uint256)` revert, worded as
/// geth's `abi.UnpackRevert`; `None` for other revert data.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    if let Ok(revert) = Revert::abi_decode(output) {
        return Some(revert.reason);
    }
    let code = Panic::abi_decode(output).ok()?.code;
    let known = u64::try_from(code).ok().and_then(|code| {
        Some(match code {
            0x00 => "generic panic",
            0x01 => "assert(false)",
            0x11 => "arithmetic underflow or overflow",
            0x12 => "division or modulo by zero",
            0x21 => "enum overflow",
            0x22 => "invalid encoded storage byte array accessed",
            0x31 => "out-of-bounds array access; popping on an empty array",
            0x32 => "out-of-bounds access of an array or bytesliceN",
            0x41 => "out of memory",
            0x51 => "uninitialized function",
            _ => return None,
        })
    });
    Some(known.map_or_else(|| format!("unknown panic code: {code:#x}"), str::to_string))
}

/// geth's error message for how a frame ended; `None` for success.
fn frame_error(result: InstructionResult) -> Option<String> {
    use InstructionResult as R;
    let message = match result {
        R::Stop | R::Return | R::SelfDestruct => return None,
        R::Revert => REVERTED,
        R::OutOfGas
        | R::MemoryOOG
        | R::MemoryLimitOOG
        | R::PrecompileOOG
        | R::InvalidOperandOOG
        | R::ReentrancySentryOOG => "out of gas",
        R::CallTooDeep => "max call depth exceeded",
        R::OutOfFunds => "insufficient balance for transfer",
        R::CallNotAllowedInsideStatic | R::StateChangeDuringStaticCall => "write protection",
        R::InvalidFEOpcode => "invalid opcode: INVALID",
        R::OpcodeNotFound | R::NotActivated => "invalid opcode",
        R::InvalidJump => "invalid jump destination",
        R::StackUnderflow => "stack underflow",
        R::StackOverflow => "stack limit reached 1024",
        R::OutOfOffset => "return data out of bounds",
        R::CreateCollision => "contract address collision",
        R::OverflowPayment => "gas uint64 overflow",
        R::NonceOverflow => "nonce uint64 overflow",
        R::CreateContractSizeLimit => "max code size exceeded",
        R::CreateContractStartingWithEF => "invalid code: must not begin with 0xef",
        R::CreateInitCodeSizeLimit => "max initcode size exceeded",
        R::PrecompileError => "precompiled contract failed",
        other => return Some(format!("{other:?}")),
    };
    Some(message.to_string())
}

/// The revm [`Inspector`] that records the call tree.
#[derive(Debug, Default)]
pub struct CallTracer {
    /// Frames entered and not yet left, outermost first.
    open: Vec<CallFrame>,
    /// The top frame, once it has ended.
    done: Option<CallFrame>,
}

impl CallTracer {
    /// The recorded tree, once the top frame has ended.
    pub fn into_frame(self) -> Option<CallFrame> {
        self.done
    }

    fn enter(&mut self, frame: CallFrame) {
        self.open.push(frame);
    }

    fn leave(&mut self, result: &InterpreterResult, to: Option<Address>) {
        let Some(mut frame) = self.open.pop() else { return };
        if frame.kind.is_create() {
            frame.to = to;
        }
        frame.gas_used = result.gas.total_gas_spent();
        frame.finish(result.output.clone(), frame_error(result.result));
        match self.open.last_mut() {
            Some(parent) => parent.calls.push(frame),
            None => self.done = Some(frame),
        }
    }
}

impl<CTX: ContextTr> Inspector<CTX> for CallTracer {
    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        // geth: a DELEGATECALL is made by the running contract (revm's
        // caller is the one it inherits), to the code's address; a
        // CALLCODE to the code's address too.
        let (kind, from, to, value) = match inputs.scheme {
            CallScheme::Call => {
                (FrameKind::Call, inputs.caller, inputs.target_address, Some(inputs.call_value()))
            }
            CallScheme::StaticCall => {
                (FrameKind::StaticCall, inputs.caller, inputs.target_address, None)
            }
            CallScheme::DelegateCall => (
                FrameKind::DelegateCall,
                inputs.target_address,
                inputs.bytecode_address,
                Some(inputs.call_value()),
            ),
            CallScheme::CallCode => (
                FrameKind::CallCode,
                inputs.caller,
                inputs.bytecode_address,
                Some(inputs.call_value()),
            ),
        };
        self.enter(CallFrame {
            kind,
            from,
            to: Some(to),
            value,
            gas: inputs.gas_limit,
            gas_used: 0,
            // Read now: a nested call's input lives in the caller's memory.
            input: inputs.input.bytes(context),
            output: Bytes::new(),
            error: None,
            revert_reason: None,
            calls: Vec::new(),
            logs: Vec::new(),
        });
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.leave(&outcome.result, None);
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        let kind = match inputs.scheme() {
            CreateScheme::Create2 { .. } => FrameKind::Create2,
            CreateScheme::Create | CreateScheme::Custom { .. } => FrameKind::Create,
        };
        self.enter(CallFrame {
            kind,
            from: inputs.caller(),
            to: None,
            value: Some(inputs.value()),
            gas: inputs.gas_limit(),
            gas_used: 0,
            input: inputs.init_code().clone(),
            output: Bytes::new(),
            error: None,
            revert_reason: None,
            calls: Vec::new(),
            logs: Vec::new(),
        });
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        self.leave(&outcome.result, outcome.address);
    }

    fn selfdestruct(&mut self, contract: Address, target: Address, value: U256) {
        if let Some(frame) = self.open.last_mut() {
            frame.calls.push(CallFrame {
                kind: FrameKind::SelfDestruct,
                from: contract,
                to: Some(target),
                value: Some(value),
                gas: 0,
                gas_used: 0,
                input: Bytes::new(),
                output: Bytes::new(),
                error: None,
                revert_reason: None,
                calls: Vec::new(),
                logs: Vec::new(),
            });
        }
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        if let Some(frame) = self.open.last_mut() {
            let position = frame.calls.len() as u64;
            frame.logs.push(CallLog { log, position });
        }
    }
}

/// A [`ContractRuntime`] that runs as [`crate::Revm`] and records the call tree
/// of the last execution ([`Tracing::take`]).
#[derive(Debug, Default)]
pub struct Tracing {
    trace: Mutex<Option<CallFrame>>,
}

impl Tracing {
    /// A runtime with nothing recorded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The call tree of the last execution, in geth's top-frame convention
    /// (gas = the gas limit, gas used = what the transaction was charged);
    /// `None` if nothing ran or the EVM refused the transaction.
    pub fn take(&self) -> Option<CallFrame> {
        self.trace.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

impl ContractRuntime for Tracing {
    fn transact(
        &self,
        spec: &ChainSpec,
        state: &dyn StateView,
        env: &BlockEnv,
        call: &ContractCall<'_>,
        content: &dyn ContentSource,
    ) -> Result<ContractOutcome, ContractError> {
        let mut tracer = CallTracer::default();
        let precompiles = system::SystemPrecompiles::new(SPEC, spec, *env, content);
        let mut evm = context(spec, state, env, call)
            .build_mainnet_with_inspector(&mut tracer)
            .with_precompiles(precompiles);
        let result = evm.inspect_tx(tx_env(spec, call));
        drop(evm);
        let mut recorded = self.trace.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A refused transaction leaves no trace (and no earlier one behind).
        *recorded = None;
        let result = result.map_err(contract_error)?;
        let outcome = outcome(result.result, &result.state);
        *recorded = tracer.into_frame().map(|mut top| {
            top.gas = call.gas_limit;
            top.gas_used = outcome.gas_used.min(call.gas_limit);
            top
        });
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, TxKind, keccak256};
    use alloy_sol_types::SolCall;
    use ol_ledger::{Account, MemoryState, NoContent, staking::IStaking};
    use ol_primitives::addresses::STAKING;

    const TOPIC: B256 = B256::repeat_byte(0xab);
    const CALL: u8 = 0xf1;
    const CALLCODE: u8 = 0xf2;
    const DELEGATECALL: u8 = 0xf4;
    const STATICCALL: u8 = 0xfa;

    fn sender() -> Address {
        Address::repeat_byte(0x01)
    }
    fn caller() -> Address {
        Address::repeat_byte(0xc0)
    }
    fn logger() -> Address {
        Address::repeat_byte(0x10)
    }
    fn reverter() -> Address {
        Address::repeat_byte(0x2e)
    }
    fn looper() -> Address {
        Address::repeat_byte(0x1f)
    }
    fn recursor() -> Address {
        Address::repeat_byte(0x3c)
    }
    fn destructor() -> Address {
        Address::repeat_byte(0xde)
    }
    fn borrower() -> Address {
        Address::repeat_byte(0xb0)
    }

    /// Hand-assembled bytecode.
    #[derive(Default)]
    struct Code(Vec<u8>);

    impl Code {
        /// Writes `data` to memory from offset 0.
        fn memory(mut self, data: &[u8]) -> Self {
            for (i, chunk) in data.chunks(32).enumerate() {
                let mut word = [0u8; 32];
                word[..chunk.len()].copy_from_slice(chunk);
                self.0.push(0x7f);
                self.0.extend(word);
                self.0.push(0x61);
                self.0.extend(u16::try_from(i * 32).unwrap().to_be_bytes());
                self.0.push(0x52);
            }
            self
        }

        /// Calls `to` with `input` and all the gas it may pass; drops the
        /// success flag.
        fn call(mut self, op: u8, to: Address, value: u8, input: &[u8]) -> Self {
            self = self.memory(input);
            self.0.extend([0x60, 0x00, 0x60, 0x00, 0x61]);
            self.0.extend(u16::try_from(input.len()).unwrap().to_be_bytes());
            self.0.extend([0x60, 0x00]);
            if op == CALL || op == CALLCODE {
                self.0.extend([0x60, value]);
            }
            self.0.push(0x73);
            self.0.extend(to.0);
            self.0.extend([0x5a, op, 0x50]);
            self
        }

        /// `LOG1(TOPIC)` with the first memory word as data.
        fn log(mut self) -> Self {
            self.0.push(0x7f);
            self.0.extend(TOPIC.0);
            self.0.extend([0x60, 0x20, 0x60, 0x00, 0xa1]);
            self
        }

        /// Returns (`0xf3`) or reverts (`0xfd`) with the first `len` bytes of
        /// memory.
        fn end(mut self, op: u8, len: u8) -> Vec<u8> {
            self.0.extend([0x60, len, 0x60, 0x00, op]);
            self.0
        }
    }

    fn staking_read() -> Vec<u8> {
        IStaking::totalBondedCall {}.abi_encode()
    }

    fn reason() -> Vec<u8> {
        Revert::from("nope").abi_encode()
    }

    /// The caller: logs, calls the logger, reads staking, calls the
    /// reverter (which fails), delegates to the logger, logs, returns.
    fn caller_code() -> Vec<u8> {
        Code::default()
            .log()
            .call(CALL, logger(), 3, &[0x11, 0x22])
            .call(STATICCALL, STAKING, 0, &staking_read())
            .call(CALL, reverter(), 0, &[])
            .call(DELEGATECALL, logger(), 0, &[0x33])
            .log()
            .end(0xf3, 0)
    }

    fn state() -> MemoryState {
        let mut state = MemoryState::default();
        let logger_code = Code::default().log().memory(&[0x2a; 32]).end(0xf3, 32);
        let reverter_code = Code::default().log().memory(&reason()).end(0xfd, reason().len() as u8);
        let looper_code = vec![0x5b, 0x60, 0x00, 0x56];
        let contracts = [
            (caller(), caller_code(), 100u64),
            (logger(), logger_code, 0),
            (reverter(), reverter_code, 0),
            (looper(), looper_code, 0),
            (recursor(), Code::default().call(CALL, recursor(), 0, &[]).end(0xf3, 0), 0),
            (destructor(), [&[0x73][..], &logger().0[..], &[0xff]].concat(), 77),
            (borrower(), Code::default().call(CALLCODE, logger(), 2, &[]).end(0xf3, 0), 5),
        ];
        for (address, code, balance) in contracts {
            let code_hash = keccak256(&code);
            state.changes.code.insert(code_hash, code.into());
            state
                .changes
                .accounts
                .insert(address, Account { nonce: 1, balance: U256::from(balance), code_hash });
        }
        state.changes.accounts.insert(
            sender(),
            Account { balance: U256::from(10u128.pow(20)), ..Account::default() },
        );
        state
    }

    fn spec() -> ChainSpec {
        ChainSpec { chain_id: 1337, block_gas_limit: 30_000_000, initial_base_fee: 1 }
    }

    fn env() -> BlockEnv {
        BlockEnv {
            number: 1,
            timestamp: 10,
            beneficiary: Address::ZERO,
            base_fee: 0,
            gas_limit: 30_000_000,
        }
    }

    fn trace(kind: TxKind, input: &[u8], gas_limit: u64) -> (ContractOutcome, CallFrame) {
        let state = state();
        let call = ContractCall {
            sender: sender(),
            kind,
            value: U256::ZERO,
            input,
            gas_limit,
            gas_price: 0,
            nonce: None,
            access_list: None,
        };
        let tracing = Tracing::new();
        let outcome = tracing.transact(&spec(), &state, &env(), &call, &NoContent).unwrap();
        let frame = tracing.take().expect("a trace was recorded");
        assert!(tracing.take().is_none(), "take empties the runtime");
        (outcome, frame)
    }

    #[test]
    fn records_nested_calls_precompiles_and_reverts() {
        let (outcome, top) = trace(TxKind::Call(caller()), &[], 1_000_000);
        assert!(outcome.success, "{outcome:?}");
        assert_eq!(top.kind, FrameKind::Call);
        assert_eq!((top.from, top.to, top.value), (sender(), Some(caller()), Some(U256::ZERO)));
        assert_eq!(top.gas, 1_000_000, "the top frame's gas is the gas limit");
        assert_eq!(top.gas_used, outcome.gas_used, "and its gas used what was charged");
        assert_eq!(top.error, None);

        let kinds: Vec<_> = top.calls.iter().map(|c| c.kind).collect();
        use FrameKind::*;
        assert_eq!(kinds, [Call, StaticCall, Call, DelegateCall]);
        let [logged, staking, reverted, delegated] = &top.calls[..] else { unreachable!() };

        assert_eq!((logged.from, logged.to), (caller(), Some(logger())));
        assert_eq!(logged.value, Some(U256::from(3)));
        assert_eq!(logged.input, Bytes::from(vec![0x11, 0x22]));
        assert_eq!(logged.output, Bytes::from(vec![0x2a; 32]));
        assert_eq!(logged.logs.len(), 1);
        assert_eq!(logged.logs[0].log.address, logger());

        assert_eq!((staking.from, staking.to, staking.value), (caller(), Some(STAKING), None));
        assert_eq!(staking.input, Bytes::from(staking_read()));
        assert_eq!(staking.output, Bytes::from(vec![0; 32]), "nothing bonded");
        assert!(staking.gas_used > 0 && staking.gas_used < staking.gas, "{staking:?}");

        assert_eq!(reverted.error.as_deref(), Some(REVERTED));
        assert_eq!(reverted.revert_reason.as_deref(), Some("nope"));
        assert_eq!(reverted.output, Bytes::from(reason()));
        assert_eq!(reverted.logs.len(), 1, "recorded before the options are applied");

        // A DELEGATECALL is made by the running contract, to the code's
        // address, and shows the value it inherits.
        assert_eq!((delegated.from, delegated.to), (caller(), Some(logger())));
        assert_eq!(delegated.value, Some(U256::ZERO));
        assert_eq!(delegated.logs[0].log.address, caller(), "logs as the delegating contract");

        for call in &top.calls {
            assert!(call.gas_used <= call.gas, "{call:?}");
            assert!(call.gas < top.gas);
        }
        let nested: u64 = top.calls.iter().map(|c| c.gas_used).sum();
        assert!(nested < top.gas_used);
        let positions: Vec<_> = top.logs.iter().map(|l| l.position).collect();
        assert_eq!(positions, [0, 4], "the second log follows the four calls");
    }

    #[test]
    fn tracing_changes_nothing_about_the_execution() {
        let state = state();
        let call = ContractCall {
            sender: sender(),
            kind: TxKind::Call(caller()),
            value: U256::ZERO,
            input: &[],
            gas_limit: 1_000_000,
            gas_price: 0,
            nonce: None,
            access_list: None,
        };
        let plain = crate::Revm.transact(&spec(), &state, &env(), &call, &NoContent).unwrap();
        let traced = Tracing::new().transact(&spec(), &state, &env(), &call, &NoContent).unwrap();
        assert_eq!(plain, traced);
    }

    #[test]
    fn a_refused_transaction_leaves_no_trace() {
        let state = state();
        let tracing = Tracing::new();
        let mut call = ContractCall {
            sender: sender(),
            kind: TxKind::Call(caller()),
            value: U256::ZERO,
            input: &[],
            gas_limit: 1_000_000,
            gas_price: 0,
            nonce: None,
            access_list: None,
        };
        tracing.transact(&spec(), &state, &env(), &call, &NoContent).unwrap();
        call.nonce = Some(7);
        let refused = tracing.transact(&spec(), &state, &env(), &call, &NoContent);
        assert!(matches!(refused, Err(ContractError::Refused(_))), "{refused:?}");
        assert_eq!(tracing.take(), None, "not the earlier execution's trace");
    }

    #[test]
    fn options_drop_logs_of_failed_frames_and_nested_calls() {
        let (_, top) = trace(TxKind::Call(caller()), &[], 1_000_000);
        let plain = top.clone().configured(CallTracerConfig::default());
        assert_eq!(plain.calls.len(), 4);
        assert!(plain.logs.is_empty() && plain.calls.iter().all(|c| c.logs.is_empty()));

        let logged =
            top.clone().configured(CallTracerConfig { with_log: true, ..Default::default() });
        assert_eq!(logged.logs.len(), 2);
        assert_eq!(logged.calls[0].logs.len(), 1);
        assert!(logged.calls[2].logs.is_empty(), "the reverted frame's log was undone");

        let only_top = top.configured(CallTracerConfig { only_top_call: true, with_log: true });
        assert!(only_top.calls.is_empty());
        let positions: Vec<_> = only_top.logs.iter().map(|l| l.position).collect();
        assert_eq!(positions, [0, 0]);
    }

    #[test]
    fn a_reverting_top_frame_keeps_its_logs_out() {
        let (outcome, top) = trace(TxKind::Call(reverter()), &[], 100_000);
        assert!(!outcome.success);
        assert_eq!(top.error.as_deref(), Some(REVERTED));
        assert_eq!(top.revert_reason.as_deref(), Some("nope"));
        assert_eq!(top.gas_used, outcome.gas_used);
        let top = top.configured(CallTracerConfig { with_log: true, only_top_call: false });
        assert!(top.logs.is_empty());
    }

    #[test]
    fn out_of_gas_uses_the_whole_frame() {
        let (outcome, top) = trace(TxKind::Call(looper()), &[], 50_000);
        assert!(!outcome.success);
        assert_eq!(top.error.as_deref(), Some("out of gas"));
        assert_eq!((top.gas, top.gas_used), (50_000, 50_000));
        assert!(top.output.is_empty());
    }

    #[test]
    fn deep_recursion_keeps_every_frame_in_place() {
        let (outcome, top) = trace(TxKind::Call(recursor()), &[], 10_000_000);
        assert!(outcome.success, "the innermost failure is swallowed: {outcome:?}");
        let mut depth = 0;
        let mut frame = &top;
        while let Some(inner) = frame.calls.first() {
            assert_eq!(frame.calls.len(), 1);
            assert!(inner.gas < frame.gas && inner.gas_used <= inner.gas, "{depth}");
            assert_eq!((inner.from, inner.to), (recursor(), Some(recursor())));
            frame = inner;
            depth += 1;
        }
        assert!(depth > 300, "{depth} nested frames");
        assert_eq!(frame.error.as_deref(), Some("out of gas"), "the innermost ran dry");
        let top = top.configured(CallTracerConfig { only_top_call: true, with_log: true });
        assert!(top.calls.is_empty());
    }

    #[test]
    fn callcode_runs_the_code_of_its_target_as_itself() {
        let (outcome, top) = trace(TxKind::Call(borrower()), &[], 100_000);
        assert!(outcome.success, "{outcome:?}");
        let [borrowed] = &top.calls[..] else { panic!("one frame: {top:?}") };
        assert_eq!(borrowed.kind.name(), "CALLCODE");
        assert_eq!((borrowed.from, borrowed.to), (borrower(), Some(logger())));
        assert_eq!(borrowed.value, Some(U256::from(2)));
        assert_eq!(borrowed.logs[0].log.address, borrower());
    }

    #[test]
    fn selfdestruct_is_a_frame_without_gas() {
        let (outcome, top) = trace(TxKind::Call(destructor()), &[], 100_000);
        assert!(outcome.success, "{outcome:?}");
        let [destructed] = &top.calls[..] else { panic!("one frame: {top:?}") };
        assert_eq!(destructed.kind.name(), "SELFDESTRUCT");
        assert_eq!((destructed.from, destructed.to), (destructor(), Some(logger())));
        assert_eq!(destructed.value, Some(U256::from(77)), "the balance it sent");
        assert_eq!((destructed.gas, destructed.gas_used), (0, 0));
    }

    #[test]
    fn creations_name_the_new_contract_unless_they_fail() {
        let runtime = Code::default().end(0xf3, 0);
        let mut init = vec![0x60, runtime.len() as u8, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39];
        init.extend([0x60, 0x00, 0xf3]);
        init.extend(&runtime);
        let (outcome, top) = trace(TxKind::Create, &init, 200_000);
        assert!(outcome.success, "{outcome:?}");
        assert_eq!(top.kind, FrameKind::Create);
        assert_eq!(top.to, Some(sender().create(0)));
        assert_eq!(top.output, Bytes::from(runtime));
        assert_eq!(top.input, Bytes::from(init));

        let failing = Code::default().memory(&reason()).end(0xfd, reason().len() as u8);
        let (outcome, top) = trace(TxKind::Create, &failing, 200_000);
        assert!(!outcome.success);
        assert_eq!(top.to, None, "geth names no address for a failed creation");
        assert_eq!(top.revert_reason.as_deref(), Some("nope"));
    }

    #[test]
    fn revert_reasons_are_worded_as_geth() {
        assert_eq!(revert_reason(&reason()).as_deref(), Some("nope"));
        let panic = |code: u64| Panic { code: U256::from(code) }.abi_encode();
        assert_eq!(
            revert_reason(&panic(0x11)).as_deref(),
            Some("arithmetic underflow or overflow")
        );
        assert_eq!(revert_reason(&panic(0x99)).as_deref(), Some("unknown panic code: 0x99"));
        assert_eq!(revert_reason(&[0xde, 0xad, 0xbe, 0xef, 0x00]), None);
        assert_eq!(revert_reason(&[]), None);
    }

    #[test]
    fn a_transaction_without_code_is_one_frame() {
        let frame =
            CallFrame::transaction(sender(), STAKING, U256::ZERO, Bytes::new(), 50_000, 30_000);
        let failed = frame.clone().with_result(false, Bytes::from(reason()));
        assert_eq!(failed.error.as_deref(), Some(REVERTED));
        assert_eq!(failed.revert_reason.as_deref(), Some("nope"));
        let out_of_gas = frame.clone().with_result(false, Bytes::new());
        assert_eq!(out_of_gas.error.as_deref(), Some("out of gas"));
        let ok = frame.with_result(true, Bytes::from(vec![1]));
        assert_eq!((ok.error, ok.output), (None, Bytes::from(vec![1])));
    }
}
