//! The `debug_` namespace: `debug_traceTransaction` and `debug_traceCall`
//! with geth's `callTracer`.
//!
//! A committed transaction is traced by replaying its block on the state
//! its parent left: the transactions before it run as the block ran them,
//! then the transaction itself runs with [`ol_evm::trace::Tracing`], which
//! records every call frame revm made (system-contract precompiles
//! included). A transaction that ran no EVM code (a plain transfer, or a
//! direct call to a system contract) is one `CALL` frame. A replay that
//! does not reproduce the stored receipt is a node failure, never a trace.
//! `debug_traceCall` runs a call as `eth_call` does, traced the same way.
//!
//! Only the `callTracer` is served: geth's default struct logger and its
//! other tracers are refused with `-32602`.

use super::{
    RpcContext,
    errors::{internal, invalid_params, server_error},
    eth::{self, Positional},
};
use alloy_consensus::Transaction;
use alloy_eips::BlockId;
use alloy_primitives::{Address, B256, Bytes, TxKind, U64};
use alloy_rpc_types_eth::TransactionRequest;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_evm::trace::{CallFrame, CallLog, CallTracerConfig, Tracing};
use ol_ledger::{
    ContractCall, ContractError, ContractRuntime, Overlay, StateView,
    execution::apply_transaction_with_output,
    fees,
    system::{self, CallEnv},
};
use ol_primitives::{BlockEnv, Receipt, RecoveredTransaction, SealedHeader, addresses};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

type Method = fn(Params<'_>, &RpcContext) -> RpcResult<Box<RawValue>>;

/// The one tracer served.
pub const CALL_TRACER: &str = "callTracer";

/// Registers every method of the namespace.
pub fn register(module: &mut RpcModule<RpcContext>) {
    let methods: &[(&'static str, Method)] = &[
        ("debug_traceTransaction", debug_trace_transaction),
        ("debug_traceCall", debug_trace_call),
    ];
    for (name, method) in methods {
        let method = *method;
        module
            .register_blocking_method(name, move |params, ctx, _| {
                ctx.chain.metrics().rpc_calls.inc();
                method(params, &ctx)
            })
            .expect("every method name is registered once");
    }
}

/// geth's trace options. The struct logger's options (`disableStorage`,
/// `enableMemory`...), `timeout` and `reexec` are accepted and unused, as
/// they mean nothing to the `callTracer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceOptions {
    tracer: Option<String>,
    tracer_config: Option<serde_json::Value>,
    state_overrides: Option<serde_json::Value>,
    block_overrides: Option<serde_json::Value>,
}

/// The `callTracer`'s `tracerConfig`. Unknown keys are refused, so that a
/// misspelt option is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallTracerOptions {
    #[serde(default)]
    only_top_call: bool,
    #[serde(default)]
    with_log: bool,
}

/// The `callTracer` configuration `options` asks for, or why it cannot be
/// served.
fn call_tracer(options: Option<TraceOptions>, method: &str) -> RpcResult<CallTracerConfig> {
    let options = options.unwrap_or_default();
    match options.tracer.as_deref() {
        Some(CALL_TRACER) => {}
        None => {
            return Err(invalid_params(format!(
                "{method}: only the callTracer is supported; pass {{\"tracer\": \"callTracer\"}} \
                 (geth's default struct logger is not served)"
            )));
        }
        Some(other) => {
            return Err(invalid_params(format!(
                "{method}: only the callTracer is supported, not {other:?}"
            )));
        }
    }
    if options.state_overrides.is_some() || options.block_overrides.is_some() {
        return Err(invalid_params(format!(
            "{method}: state and block overrides are not supported"
        )));
    }
    let config: CallTracerOptions = match options.tracer_config {
        None | Some(serde_json::Value::Null) => CallTracerOptions::default(),
        Some(value) => serde_json::from_value(value).map_err(|e| {
            invalid_params(format!("{method}: invalid callTracer tracerConfig: {e}"))
        })?,
    };
    Ok(CallTracerConfig { only_top_call: config.only_top_call, with_log: config.with_log })
}

fn debug_trace_transaction(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Box<RawValue>> {
    let mut p = Positional::new(params, "debug_traceTransaction")?;
    let hash: B256 = p.required("transaction hash")?;
    let options: Option<TraceOptions> = p.optional("trace options")?;
    p.finish()?;
    let config = call_tracer(options, "debug_traceTransaction")?;
    let frame = trace_transaction(ctx, hash)?;
    json(frame.configured(config))
}

fn debug_trace_call(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Box<RawValue>> {
    let mut p = Positional::new(params, "debug_traceCall")?;
    let request: TransactionRequest = p.required("transaction call object")?;
    let block: Option<BlockId> = p.optional("block")?;
    let options: Option<TraceOptions> = p.optional("trace options")?;
    p.finish()?;
    let config = call_tracer(options, "debug_traceCall")?;
    let pending = matches!(block, Some(BlockId::Number(alloy_eips::BlockNumberOrTag::Pending)));
    let state = eth::state_at(ctx, block)?;
    eth::check_call(&state, &request)?;
    let env = eth::call_env(ctx, &state, pending);
    let frame = trace_call(ctx, &state, &env, &request)?;
    json(frame.configured(config))
}

/// Replays the block of transaction `hash` up to it and traces it.
fn trace_transaction(ctx: &RpcContext, hash: B256) -> RpcResult<CallFrame> {
    let store = ctx.chain.store();
    let Some((location, _)) = store.transaction(hash).map_err(internal)? else {
        return Err(server_error("transaction not found"));
    };
    let number = location.block_number;
    let block = store
        .block_by_number(number)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("block {number} of a stored transaction is missing")))?;
    let receipts = store
        .block_receipts(number)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("receipts of block {number} are missing")))?;
    let index = usize::try_from(location.index).map_err(internal)?;
    let (Some(tx), Some(receipt)) = (block.transactions.get(index), receipts.get(index)) else {
        return Err(internal(format!("transaction {hash} is not at {index} in block {number}")));
    };
    if tx.hash != hash {
        // The dev chain reverted the block between the two reads.
        return Err(server_error("transaction not found"));
    }
    // A transaction is never in the genesis block, so the parent exists.
    let parent = number
        .checked_sub(1)
        .map(|parent| store.snapshot_at(parent))
        .transpose()
        .map_err(internal)?
        .flatten()
        .ok_or_else(|| {
            server_error(format!("required historical state unavailable for block {number}"))
        })?;
    let env = block_env(&block.header);
    let mut overlay = Overlay::new(&parent);
    let mut gas_used = 0;
    for earlier in &block.transactions[..index] {
        gas_used += replay(ctx, &mut overlay, &env, earlier, gas_used, &ol_evm::Revm)?.0.gas_used;
    }
    trace_replayed(ctx, &mut overlay, &env, tx, gas_used, receipt)
}

/// The environment block `header` ran in.
fn block_env(header: &SealedHeader) -> BlockEnv {
    BlockEnv {
        number: header.number(),
        timestamp: header.header.timestamp,
        beneficiary: header.header.beneficiary,
        base_fee: header.header.base_fee_per_gas.unwrap_or_default(),
        gas_limit: header.header.gas_limit,
    }
}

/// Applies `tx` as the block did, answering its receipt and what it
/// returned; a transaction the block held that is now invalid means the
/// replay went wrong.
fn replay<S: StateView>(
    ctx: &RpcContext,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    tx: &RecoveredTransaction,
    block_gas_used: u64,
    contracts: &dyn ContractRuntime,
) -> RpcResult<(Receipt, Bytes)> {
    let spec = ctx.chain.spec();
    let content = ctx.chain.content();
    match apply_transaction_with_output(spec, overlay, env, tx, block_gas_used, content, contracts)
    {
        Ok(Ok(replayed)) => Ok(replayed),
        Ok(Err(reason)) => Err(internal(format!(
            "replaying block {}: transaction {} is invalid: {reason}",
            env.number, tx.hash
        ))),
        Err(error) => Err(internal(error)),
    }
}

/// Traces `tx` on top of `overlay` (the transactions before it applied)
/// and checks the replay against the stored receipt.
fn trace_replayed<S: StateView>(
    ctx: &RpcContext,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    tx: &RecoveredTransaction,
    block_gas_used: u64,
    stored: &Receipt,
) -> RpcResult<CallFrame> {
    let envelope = &tx.envelope;
    let tracing = Tracing::new();
    let (replayed, output) = replay(ctx, overlay, env, tx, block_gas_used, &tracing)?;
    if replayed.gas_used != stored.gas_used || replayed.success() != stored.success() {
        return Err(internal(format!(
            "replaying transaction {} used {} gas (success {}) where its receipt says {} ({})",
            tx.hash,
            replayed.gas_used,
            replayed.success(),
            stored.gas_used,
            stored.success()
        )));
    }
    if let Some(mut frame) = tracing.take() {
        frame.gas_used = stored.gas_used;
        return Ok(frame);
    }
    let TxKind::Call(to) = envelope.kind() else {
        return Err(internal(format!("creation {} ran no EVM code", tx.hash)));
    };
    let frame = CallFrame::transaction(
        tx.sender,
        to,
        envelope.value(),
        envelope.input().clone(),
        envelope.gas_limit(),
        stored.gas_used,
    );
    if addresses::is_callable(&to) {
        // A direct system-contract call: its output came back from the
        // replay; the receipt holds its logs (none when it failed).
        let logs = stored.envelope.logs().to_vec();
        return Ok(frame.with_result(replayed.success(), output).with_logs(logs));
    }
    Ok(frame)
}

/// Traces `request` on top of `state` as `eth_call` runs it.
fn trace_call<S: StateView>(
    ctx: &RpcContext,
    state: &S,
    block: &BlockEnv,
    request: &TransactionRequest,
) -> RpcResult<CallFrame> {
    let kind = request.to.unwrap_or(TxKind::Create);
    let from = request.from.unwrap_or_default();
    let value = request.value.unwrap_or_default();
    let input = request.input.input().cloned().unwrap_or_default();
    let gas_limit = request.gas.unwrap_or(block.gas_limit).min(block.gas_limit);
    if let TxKind::Call(to) = kind {
        let intrinsic = fees::intrinsic_gas_of(&input, request.access_list.as_ref());
        if addresses::is_callable(&to) {
            if !value.is_zero() {
                return Err(server_error(format!(
                    "system contract {to} is not payable: send no value (deposits are taken from \
                     the balance)"
                )));
            }
            let Some(gas) = gas_limit.checked_sub(intrinsic) else {
                return Err(intrinsic_too_low(gas_limit, intrinsic));
            };
            let env = CallEnv {
                spec: ctx.chain.spec(),
                block,
                caller: from,
                content: ctx.chain.content(),
            };
            let outcome = system::call(state, env, to, &input, gas).map_err(internal)?;
            return Ok(CallFrame::transaction(
                from,
                to,
                value,
                input,
                gas_limit,
                intrinsic + outcome.gas_used,
            )
            .with_result(outcome.success, outcome.output)
            .with_logs(outcome.logs));
        }
        let code_hash = state.account(&to).map_err(internal)?.map(|a| a.code_hash);
        if code_hash.is_none_or(|hash| hash == ol_ledger::state::EMPTY_CODE_HASH) {
            if gas_limit < intrinsic {
                return Err(intrinsic_too_low(gas_limit, intrinsic));
            }
            return Ok(CallFrame::transaction(from, to, value, input, gas_limit, intrinsic));
        }
    }
    let call = ContractCall {
        sender: from,
        kind,
        value,
        input: &input,
        gas_limit,
        gas_price: request.gas_price.or(request.max_fee_per_gas).unwrap_or_default(),
        nonce: None,
        access_list: request.access_list.as_ref(),
    };
    let tracing = Tracing::new();
    match tracing.transact(ctx.chain.spec(), state, block, &call, ctx.chain.content()) {
        Ok(_) => tracing.take().ok_or_else(|| internal("the EVM ran but recorded no call frame")),
        Err(ContractError::Refused(reason)) => Err(server_error(reason)),
        Err(ContractError::State(error)) => Err(internal(error)),
    }
}

fn intrinsic_too_low(gas: u64, intrinsic: u64) -> ErrorObjectOwned {
    server_error(format!("intrinsic gas too low: have {gas}, want {intrinsic}"))
}

/// `frame` as geth's `callTracer` JSON, fields in geth's order.
///
/// Written by hand, with an explicit stack instead of serde: a trace nests
/// one frame per call depth (up to 1024), and serde's recursive serializers
/// (and `serde_json::Value`'s) would overflow the thread's stack on such a
/// tree and abort the node. Only the leaves go through serde.
fn json(frame: CallFrame) -> RpcResult<Box<RawValue>> {
    let mut out = String::new();
    open_frame(&mut out, &frame)?;
    let mut stack = vec![(&frame, 0usize)];
    while let Some((current, next)) = stack.last_mut() {
        let current: &CallFrame = current;
        if let Some(call) = current.calls.get(*next) {
            out.push_str(if *next == 0 { ",\"calls\":[" } else { "," });
            *next += 1;
            open_frame(&mut out, call)?;
            stack.push((call, 0));
            continue;
        }
        if !current.calls.is_empty() {
            out.push(']');
        }
        close_frame(&mut out, current)?;
        stack.pop();
    }
    RawValue::from_string(out).map_err(internal)
}

/// `{` and the fields before `calls`.
fn open_frame(out: &mut String, frame: &CallFrame) -> RpcResult<()> {
    out.push('{');
    field(out, "from", &frame.from, false)?;
    field(out, "gas", &U64::from(frame.gas), true)?;
    field(out, "gasUsed", &U64::from(frame.gas_used), true)?;
    if let Some(to) = &frame.to {
        field(out, "to", to, true)?;
    }
    field(out, "input", &frame.input, true)?;
    if !frame.output.is_empty() {
        field(out, "output", &frame.output, true)?;
    }
    if let Some(error) = &frame.error {
        field(out, "error", error, true)?;
    }
    // geth leaves an empty reason out.
    if let Some(reason) = frame.revert_reason.as_ref().filter(|reason| !reason.is_empty()) {
        field(out, "revertReason", reason, true)?;
    }
    Ok(())
}

/// The fields after `calls`, and `}`.
fn close_frame(out: &mut String, frame: &CallFrame) -> RpcResult<()> {
    if !frame.logs.is_empty() {
        let logs: Vec<GethCallLog<'_>> = frame.logs.iter().map(GethCallLog::from).collect();
        field(out, "logs", &logs, true)?;
    }
    if let Some(value) = &frame.value {
        field(out, "value", value, true)?;
    }
    field(out, "type", frame.kind.name(), true)?;
    out.push('}');
    Ok(())
}

fn field<T: Serialize + ?Sized>(
    out: &mut String,
    name: &str,
    value: &T,
    comma: bool,
) -> RpcResult<()> {
    if comma {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    out.push_str(&serde_json::to_string(value).map_err(internal)?);
    Ok(())
}

/// One log as geth's `callTracer` writes it with `withLog`.
#[derive(Debug, Serialize)]
struct GethCallLog<'a> {
    address: Address,
    topics: &'a [B256],
    data: &'a Bytes,
    position: U64,
}

impl<'a> From<&'a CallLog> for GethCallLog<'a> {
    fn from(log: &'a CallLog) -> Self {
        Self {
            address: log.log.address,
            topics: log.log.data.topics(),
            data: &log.log.data.data,
            position: U64::from(log.position),
        }
    }
}
