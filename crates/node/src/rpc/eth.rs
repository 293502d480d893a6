//! The `eth_`, `net_` and `web3_` namespaces.

use super::{
    RpcContext, convert,
    errors::{self, internal, invalid_params, server_error},
};
use crate::chain::Chain;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{
    EIP1186AccountProofResponse, EIP1186StorageProof, FeeHistory, Filter, Log as RpcLog,
    TransactionRequest,
};
use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionMessage,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::{StateView, fees, vesting};
use ol_primitives::{SealedHeader, TransactionDecodeError};
use ol_storage::HistoricalState;
use serde::de::DeserializeOwned;
use std::sync::Arc;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// Suggested priority fee: 1 gwei, as geth and anvil suggest on dev chains.
pub const SUGGESTED_TIP: u128 = 1_000_000_000;

/// Widest block range `eth_getLogs` scans in one call.
pub const MAX_LOG_RANGE: u64 = 10_000;

/// Most blocks `eth_feeHistory` reports.
pub const MAX_FEE_HISTORY: u64 = 1024;

/// Registers every method of the namespace.
pub fn register(module: &mut RpcModule<RpcContext>) {
    // Methods without parameters refuse any (geth: "too many arguments").
    let nullary: &[(&'static str, Nullary)] = &[
        ("web3_clientVersion", |_| Ok(serde_json::json!(client_version()))),
        ("net_version", |ctx| Ok(serde_json::json!(ctx.chain.spec().chain_id.to_string()))),
        ("net_listening", |_| Ok(serde_json::json!(true))),
        ("net_peerCount", |_| Ok(serde_json::json!("0x0"))),
        ("eth_chainId", |ctx| json(U64::from(ctx.chain.spec().chain_id))),
        ("eth_blockNumber", |ctx| json(U64::from(ctx.chain.head().number()))),
        ("eth_syncing", |_| Ok(serde_json::json!(false))),
        ("eth_gasPrice", |ctx| {
            json(U256::from(u128::from(ctx.chain.next_base_fee()) + SUGGESTED_TIP))
        }),
        ("eth_maxPriorityFeePerGas", |_| json(U256::from(SUGGESTED_TIP))),
    ];
    // They only read memory: served on the calling task, no thread handoff.
    for (name, method) in nullary {
        let (name, method) = (*name, *method);
        module
            .register_method(name, move |params, ctx, _| {
                ctx.chain.metrics().rpc_calls.inc();
                Positional::new(params, name)?.finish()?;
                method(ctx)
            })
            .expect("every method name is registered once");
    }
    // Decoding and recovering a transaction is ~50 µs of CPU and a pool
    // insert: cheaper on the calling task than a handoff to the blocking
    // pool (which cost a fifth of the node's CPU under load). Batches on
    // several connections still use every core. Async: an automining dev
    // node answers once the transaction's block is sealed.
    module
        .register_async_method("eth_sendRawTransaction", |params, ctx, _| async move {
            ctx.chain.metrics().rpc_calls.inc();
            eth_send_raw_transaction(params, &ctx).await
        })
        .expect("eth_sendRawTransaction is registered once");
    let methods: &[(&'static str, Method)] = &[
        ("web3_sha3", web3_sha3),
        ("eth_getBalance", eth_get_balance),
        ("eth_getTransactionCount", eth_get_transaction_count),
        ("eth_getCode", eth_get_code),
        ("eth_getStorageAt", eth_get_storage_at),
        ("eth_getTransactionByHash", eth_get_transaction_by_hash),
        ("eth_getTransactionReceipt", eth_get_transaction_receipt),
        ("eth_getBlockByNumber", eth_get_block_by_number),
        ("eth_getBlockByHash", eth_get_block_by_hash),
        ("eth_getBlockTransactionCountByNumber", eth_get_block_transaction_count_by_number),
        ("eth_getBlockTransactionCountByHash", eth_get_block_transaction_count_by_hash),
        ("eth_getTransactionByBlockNumberAndIndex", eth_get_transaction_by_block_number_and_index),
        ("eth_getBlockReceipts", eth_get_block_receipts),
        ("eth_feeHistory", eth_fee_history),
        ("eth_estimateGas", eth_estimate_gas),
        ("eth_call", eth_call),
        ("eth_getLogs", eth_get_logs),
        ("eth_getProof", eth_get_proof),
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
    module
        .register_subscription("eth_subscribe", "eth_subscription", "eth_unsubscribe", subscribe)
        .expect("eth_subscribe is registered once");
}

pub(super) type Method = fn(Params<'_>, &RpcContext) -> RpcResult<serde_json::Value>;

type Nullary = fn(&RpcContext) -> RpcResult<serde_json::Value>;

fn json<T: serde::Serialize>(value: T) -> RpcResult<serde_json::Value> {
    serde_json::to_value(value).map_err(internal)
}

/// `openledger/v0.1.0/linux-x86_64/rust`.
pub fn client_version() -> String {
    format!(
        "openledger/v{}/{}-{}/rust",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Reads positional parameters one by one, with errors that name the position.
pub(super) struct Positional<'a> {
    params: Params<'a>,
    values: Vec<serde_json::Value>,
    next: usize,
    method: &'static str,
}

impl<'a> Positional<'a> {
    pub(super) fn new(params: Params<'a>, method: &'static str) -> RpcResult<Self> {
        let values: Vec<serde_json::Value> = if params.is_object() {
            return Err(invalid_params(format!("{method}: parameters must be a JSON array")));
        } else if params.as_str().is_none() {
            Vec::new()
        } else {
            params.parse().map_err(|e| invalid_params(format!("{method}: {}", e.message())))?
        };
        Ok(Self { params, values, next: 0, method })
    }

    pub(super) fn required<T: DeserializeOwned>(&mut self, what: &str) -> RpcResult<T> {
        let index = self.next;
        self.next += 1;
        let value = self.values.get(index).cloned().ok_or_else(|| {
            invalid_params(format!("{}: missing parameter {index} ({what})", self.method))
        })?;
        serde_json::from_value(value).map_err(|e| {
            invalid_params(format!("{}: invalid parameter {index} ({what}): {e}", self.method))
        })
    }

    pub(super) fn optional<T: DeserializeOwned>(&mut self, what: &str) -> RpcResult<Option<T>> {
        match self.values.get(self.next) {
            None | Some(serde_json::Value::Null) => {
                self.next += 1;
                Ok(None)
            }
            Some(_) => self.required(what).map(Some),
        }
    }

    pub(super) fn finish(self) -> RpcResult<()> {
        let _ = &self.params;
        if self.values.len() > self.next {
            return Err(invalid_params(format!(
                "{}: too many parameters: expected at most {}, got {}",
                self.method,
                self.next,
                self.values.len()
            )));
        }
        Ok(())
    }
}

/// The state after the block a state-reading call refers to: the head's
/// for `latest` (and no block), any committed block's otherwise, as an
/// archive node serves them.
pub(super) fn state_at(ctx: &RpcContext, block: Option<BlockId>) -> RpcResult<HistoricalState> {
    let id = match block {
        None
        | Some(BlockId::Number(
            BlockNumberOrTag::Latest
            | BlockNumberOrTag::Pending
            | BlockNumberOrTag::Safe
            | BlockNumberOrTag::Finalized,
        )) => return Ok(ctx.chain.snapshot()?.into()),
        Some(id) => id,
    };
    let out_of_range = || {
        invalid_params(format!(
            "BlockOutOfRangeError: block height is {} but requested was {}",
            ctx.chain.head().number(),
            describe(id)
        ))
    };
    let wanted = resolve_block_id(&ctx.chain, id)?.ok_or_else(out_of_range)?;
    ctx.chain.store().snapshot_at(wanted).map_err(internal)?.ok_or_else(out_of_range)
}

fn describe(id: BlockId) -> String {
    match id {
        BlockId::Hash(h) => h.block_hash.to_string(),
        BlockId::Number(BlockNumberOrTag::Number(n)) => n.to_string(),
        BlockId::Number(tag) => tag.to_string(),
    }
}

/// Resolves a block id to a committed block number (`None`: no such block).
fn resolve_block_id(chain: &Chain, id: BlockId) -> RpcResult<Option<u64>> {
    match id {
        BlockId::Number(tag) => Ok(resolve_tag(chain, tag)),
        BlockId::Hash(hash) => {
            Ok(chain.store().header_by_hash(hash.block_hash).map_err(internal)?.map(|h| h.number()))
        }
    }
}

fn resolve_tag(chain: &Chain, tag: BlockNumberOrTag) -> Option<u64> {
    let head = chain.head().number();
    match tag {
        BlockNumberOrTag::Earliest => Some(0),
        // Blocks are final once committed: latest = safe = finalized; the
        // pending block is served as the latest one.
        BlockNumberOrTag::Latest
        | BlockNumberOrTag::Pending
        | BlockNumberOrTag::Safe
        | BlockNumberOrTag::Finalized => Some(head),
        BlockNumberOrTag::Number(n) => (n <= head).then_some(n),
    }
}

fn eth_get_balance(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBalance")?;
    let address: Address = p.required("address")?;
    let block: Option<BlockId> = Some(p.required("block")?);
    p.finish()?;
    let state = state_at(ctx, block)?;
    // What the account could spend at that block's time.
    let now = state.header().header.timestamp;
    let breakdown = vesting::balance_at(&state, &address, now).map_err(internal)?;
    json(breakdown.spendable)
}

fn eth_get_transaction_count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getTransactionCount")?;
    let address: Address = p.required("address")?;
    let block: Option<BlockId> = Some(p.required("block")?);
    p.finish()?;
    if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
        return json(U64::from(ctx.chain.pending_nonce(&address)?));
    }
    let state = state_at(ctx, block)?;
    let nonce = state.account(&address).map_err(internal)?.map(|a| a.nonce).unwrap_or(0);
    json(U64::from(nonce))
}

fn eth_get_code(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getCode")?;
    let address: Address = p.required("address")?;
    let block: Option<BlockId> = Some(p.required("block")?);
    p.finish()?;
    let state = state_at(ctx, block)?;
    let Some(account) = state.account(&address).map_err(internal)? else {
        return json(Bytes::new());
    };
    if account.code_hash == ol_ledger::state::EMPTY_CODE_HASH {
        return json(Bytes::new());
    }
    json(state.code(&account.code_hash).map_err(internal)?.unwrap_or_default())
}

fn eth_get_storage_at(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getStorageAt")?;
    let address: Address = p.required("address")?;
    let slot: U256 = p.required("storage slot")?;
    let block: Option<BlockId> = Some(p.required("block")?);
    p.finish()?;
    let state = state_at(ctx, block)?;
    let value = state.storage(&address, &B256::from(slot)).map_err(internal)?;
    json(B256::from(value))
}

async fn eth_send_raw_transaction(
    params: Params<'static>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_sendRawTransaction")?;
    let raw: Bytes = p.required("signed transaction bytes")?;
    p.finish()?;
    if raw.is_empty() {
        return Err(errors::submit_error(TransactionDecodeError::Empty.into()));
    }
    let hash = ctx.chain.submit_raw_sealed(&raw).await.map_err(errors::submit_error)?;
    json(hash)
}

fn eth_get_transaction_by_hash(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getTransactionByHash")?;
    let hash: B256 = p.required("transaction hash")?;
    p.finish()?;
    if let Some((location, tx)) = ctx.chain.store().transaction(hash).map_err(internal)? {
        let header = ctx
            .chain
            .store()
            .header_by_number(location.block_number)
            .map_err(internal)?
            .ok_or_else(|| {
            internal(format!("block {} of a stored transaction is missing", location.block_number))
        })?;
        return json(convert::transaction(&tx, Some((&location, &header))));
    }
    match ctx.chain.pooled(&hash) {
        Some(tx) => json(convert::transaction(&tx, None)),
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_transaction_receipt(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getTransactionReceipt")?;
    let hash: B256 = p.required("transaction hash")?;
    p.finish()?;
    let Some((location, _)) = ctx.chain.store().receipt(hash).map_err(internal)? else {
        return Ok(serde_json::Value::Null);
    };
    let receipts = block_receipts(ctx, location.block_number)?;
    let header = header_by_number(ctx, location.block_number)?;
    let index = location.index as usize;
    let first_log_index: usize = receipts[..index].iter().map(|r| r.envelope.logs().len()).sum();
    json(convert::receipt(
        &receipts[index],
        &location,
        header.header.timestamp,
        first_log_index as u64,
        created_address(ctx, &receipts[index])?,
    ))
}

/// The address a creation deploys to (`contractAddress`): set for a failed
/// creation too, as geth and anvil do (the status says whether code is there).
fn created_address(
    ctx: &RpcContext,
    receipt: &ol_primitives::Receipt,
) -> RpcResult<Option<Address>> {
    if receipt.to.is_some() {
        return Ok(None);
    }
    let found = ctx.chain.store().transaction(receipt.transaction_hash).map_err(internal)?;
    Ok(found.map(|(_, tx)| tx.sender.create(tx.nonce())))
}

fn block_receipts(ctx: &RpcContext, number: u64) -> RpcResult<Vec<ol_primitives::Receipt>> {
    ctx.chain
        .store()
        .block_receipts(number)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("receipts of block {number} are missing")))
}

pub(super) fn header_by_number(ctx: &RpcContext, number: u64) -> RpcResult<SealedHeader> {
    ctx.chain
        .store()
        .header_by_number(number)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("header of block {number} is missing")))
}

fn eth_get_block_by_number(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBlockByNumber")?;
    let tag: BlockNumberOrTag = p.required("block number or tag")?;
    let full: bool = p.required("full transactions flag")?;
    p.finish()?;
    let Some(number) = resolve_tag(&ctx.chain, tag) else { return Ok(serde_json::Value::Null) };
    match ctx.chain.store().block_by_number(number).map_err(internal)? {
        Some(block) => json(convert::block(&block, full)),
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_block_by_hash(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBlockByHash")?;
    let hash: B256 = p.required("block hash")?;
    let full: bool = p.required("full transactions flag")?;
    p.finish()?;
    match ctx.chain.store().block_by_hash(hash).map_err(internal)? {
        Some(block) => json(convert::block(&block, full)),
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_block_transaction_count_by_number(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBlockTransactionCountByNumber")?;
    let tag: BlockNumberOrTag = p.required("block number or tag")?;
    p.finish()?;
    let Some(number) = resolve_tag(&ctx.chain, tag) else { return Ok(serde_json::Value::Null) };
    match ctx.chain.store().block_by_number(number).map_err(internal)? {
        Some(block) => json(U64::from(block.transactions.len())),
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_block_transaction_count_by_hash(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBlockTransactionCountByHash")?;
    let hash: B256 = p.required("block hash")?;
    p.finish()?;
    match ctx.chain.store().block_by_hash(hash).map_err(internal)? {
        Some(block) => json(U64::from(block.transactions.len())),
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_transaction_by_block_number_and_index(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getTransactionByBlockNumberAndIndex")?;
    let tag: BlockNumberOrTag = p.required("block number or tag")?;
    let index: U64 = p.required("transaction index")?;
    p.finish()?;
    let Some(number) = resolve_tag(&ctx.chain, tag) else { return Ok(serde_json::Value::Null) };
    let Some(block) = ctx.chain.store().block_by_number(number).map_err(internal)? else {
        return Ok(serde_json::Value::Null);
    };
    let index = index.to::<u64>();
    match block.transactions.get(index as usize) {
        Some(tx) => {
            let location = ol_storage::TxLocation {
                block_number: number,
                block_hash: block.header.hash,
                index,
            };
            json(convert::transaction(tx, Some((&location, &block.header))))
        }
        None => Ok(serde_json::Value::Null),
    }
}

fn eth_get_block_receipts(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getBlockReceipts")?;
    let id: BlockId = p.required("block")?;
    p.finish()?;
    let Some(number) = resolve_block_id(&ctx.chain, id)? else {
        return Ok(serde_json::Value::Null);
    };
    let header = header_by_number(ctx, number)?;
    let receipts = block_receipts(ctx, number)?;
    let mut log_index = 0u64;
    let items: Vec<_> = receipts
        .iter()
        .enumerate()
        .map(|(index, receipt)| {
            let location = ol_storage::TxLocation {
                block_number: number,
                block_hash: header.hash,
                index: index as u64,
            };
            let created = created_address(ctx, receipt)?;
            let rpc =
                convert::receipt(receipt, &location, header.header.timestamp, log_index, created);
            log_index += receipt.envelope.logs().len() as u64;
            Ok(rpc)
        })
        .collect::<RpcResult<_>>()?;
    json(items)
}

fn eth_fee_history(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_feeHistory")?;
    let count: U64 = p.required("block count")?;
    let newest: BlockNumberOrTag = p.required("newest block")?;
    let percentiles: Option<Vec<f64>> = p.optional("reward percentiles")?;
    p.finish()?;
    let percentiles = percentiles.unwrap_or_default();
    if percentiles.len() > 100 {
        return Err(invalid_params("eth_feeHistory: at most 100 reward percentiles"));
    }
    let mut previous = 0.0;
    for value in &percentiles {
        if !(0.0..=100.0).contains(value) || *value < previous {
            return Err(invalid_params(format!(
                "eth_feeHistory: invalid reward percentile {value}: percentiles must be increasing and within 0..100"
            )));
        }
        previous = *value;
    }
    let newest = resolve_tag(&ctx.chain, newest).ok_or_else(|| {
        server_error(format!("request beyond head block: newest block {newest} does not exist"))
    })?;
    let count = count.to::<u64>().min(MAX_FEE_HISTORY).min(newest + 1);
    let oldest = newest + 1 - count;
    let mut history = FeeHistory { oldest_block: oldest, ..Default::default() };
    let mut rewards = Vec::new();
    let mut last_header = None;
    for number in oldest..=newest {
        let header = header_by_number(ctx, number)?;
        history
            .base_fee_per_gas
            .push(u128::from(header.header.base_fee_per_gas.unwrap_or_default()));
        history.gas_used_ratio.push(header.header.gas_used as f64 / header.header.gas_limit as f64);
        history.base_fee_per_blob_gas.push(0);
        history.blob_gas_used_ratio.push(0.0);
        if !percentiles.is_empty() {
            rewards.push(block_rewards(ctx, &header, &percentiles)?);
        }
        last_header = Some(header);
    }
    if let Some(last) = last_header {
        let next = crate::chain::next_base_fee(ctx.chain.spec(), &last);
        history.base_fee_per_gas.push(u128::from(next));
        history.base_fee_per_blob_gas.push(0);
    }
    // Always present (empty without percentiles), as anvil serves it.
    history.reward = Some(rewards);
    json(history)
}

/// Effective tips at the given percentiles of the block's gas, as geth does.
fn block_rewards(
    ctx: &RpcContext,
    header: &SealedHeader,
    percentiles: &[f64],
) -> RpcResult<Vec<u128>> {
    let base_fee = u128::from(header.header.base_fee_per_gas.unwrap_or_default());
    let receipts = block_receipts(ctx, header.number())?;
    if receipts.is_empty() {
        return Ok(vec![0; percentiles.len()]);
    }
    let mut tips: Vec<(u128, u64)> = receipts
        .iter()
        .map(|r| (r.effective_gas_price.saturating_sub(base_fee), r.gas_used))
        .collect();
    tips.sort_unstable();
    let total: u64 = tips.iter().map(|(_, gas)| gas).sum();
    let mut out = Vec::with_capacity(percentiles.len());
    let (mut index, mut cumulative) = (0usize, tips[0].1);
    for percentile in percentiles {
        let threshold = (total as f64 * percentile / 100.0) as u64;
        while cumulative < threshold && index + 1 < tips.len() {
            index += 1;
            cumulative += tips[index].1;
        }
        out.push(tips[index].0);
    }
    Ok(out)
}

/// Checks the caller's funds for the value before a call or gas estimate.
pub(super) fn check_call(state: &HistoricalState, request: &TransactionRequest) -> RpcResult<()> {
    let value = request.value.unwrap_or_default();
    if let Some(from) = request.from
        && !value.is_zero()
    {
        let now = state.header().header.timestamp;
        let spendable = vesting::balance_at(state, &from, now).map_err(internal)?.spendable;
        if spendable < value {
            return Err(server_error(format!(
                "insufficient funds for transfer: address {from} have {spendable} want {value}"
            )));
        }
    }
    Ok(())
}

pub(super) fn eth_estimate_gas(
    params: Params<'_>,
    ctx: &RpcContext,
) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_estimateGas")?;
    let request: TransactionRequest = p.required("transaction call object")?;
    let block: Option<BlockId> = p.optional("block")?;
    let overrides: Option<serde_json::Value> = p.optional("state overrides")?;
    p.finish()?;
    let state = with_overrides(state_at(ctx, block)?, overrides, "eth_estimateGas")?;
    check_call(&state, &request)?;
    // An estimate is for a transaction the node will include next: on the
    // head it runs in the pending block, as anvil's does.
    let env = call_env(ctx, &state, true);
    let input = request.input.input().map(|data| &data[..]).unwrap_or_default();
    let mut gas = fees::intrinsic_gas_of(input, request.access_list.as_ref());
    if let Some(outcome) = system_call(ctx, &state, &env, &request)? {
        gas += outcome.gas_used;
    } else if let Some(outcome) = contract_call(ctx, &state, &env, &request)? {
        gas = estimate_contract_gas(ctx, &state, &env, &request, outcome.gas_used, gas)?;
    }
    if let Some(limit) = request.gas
        && limit < gas
    {
        return Err(server_error(format!(
            "gas required exceeds allowance ({limit}): {gas} needed"
        )));
    }
    json(U64::from(gas))
}

fn eth_call(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_call")?;
    let request: TransactionRequest = p.required("transaction call object")?;
    let block: Option<BlockId> = p.optional("block")?;
    let overrides: Option<serde_json::Value> = p.optional("state overrides")?;
    p.finish()?;
    let pending = matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending)));
    let state = with_overrides(state_at(ctx, block)?, overrides, "eth_call")?;
    check_call(&state, &request)?;
    let env = call_env(ctx, &state, pending);
    if let Some(outcome) = system_call(ctx, &state, &env, &request)? {
        return json(outcome.output);
    }
    match contract_call(ctx, &state, &env, &request)? {
        Some(outcome) => json(outcome.output),
        // An account without code returns no data.
        None => json(Bytes::new()),
    }
}

/// The block a call runs in. `pending` on the head: the block the node
/// seals next, at the node's clock (so an estimate pays for what the
/// transaction will really do — a vote checkpoint appended at a new block
/// time costs more than one overwritten at the same time). Otherwise the
/// block `state` ends with, its own number and time, as geth and anvil run
/// `eth_call` at `latest` (`block.number` is the head's).
pub(super) fn call_env(
    ctx: &RpcContext,
    state: &HistoricalState,
    pending: bool,
) -> ol_primitives::BlockEnv {
    let header = state.header();
    let (number, timestamp) = if pending && header.number() == ctx.chain.head().number() {
        (header.number() + 1, ctx.chain.now().max(header.header.timestamp))
    } else {
        (header.number(), header.header.timestamp)
    };
    ol_primitives::BlockEnv {
        number,
        timestamp,
        beneficiary: Address::ZERO,
        base_fee: header.header.base_fee_per_gas.unwrap_or_default(),
        gas_limit: ctx.chain.spec().block_gas_limit,
    }
}

/// `state` with the state override set of `eth_call`/`eth_estimateGas`
/// (geth's: `{address: {balance, nonce, code, state | stateDiff}}`) laid
/// over it for this call only. A malformed set is `-32602`, naming the
/// account and the field.
fn with_overrides(
    state: HistoricalState,
    overrides: Option<serde_json::Value>,
    method: &str,
) -> RpcResult<HistoricalState> {
    use alloy_rpc_types_eth::state::AccountOverride as Requested;
    use ol_storage::{AccountOverride, StateOverrides, StorageOverride};
    let refuse = |why: String| invalid_params(format!("{method}: invalid state override: {why}"));
    let entries = match overrides {
        None | Some(serde_json::Value::Null) => return Ok(state),
        Some(serde_json::Value::Object(entries)) => entries,
        Some(other) => {
            return Err(refuse(format!("expected an object keyed by address, got {other}")));
        }
    };
    let words = |slots: alloy_primitives::map::B256HashMap<B256>| {
        slots.into_iter().map(|(slot, word)| (slot, U256::from_be_bytes(word.0))).collect()
    };
    let mut set = StateOverrides::default();
    for (key, fields) in entries {
        let address: Address =
            key.parse().map_err(|e| refuse(format!("{key:?} is not an address: {e}")))?;
        let requested: Requested = serde_json::from_value(fields)
            .map_err(|e| refuse(format!("account {address}: {e}")))?;
        if requested.move_precompile_to.is_some() {
            return Err(refuse(format!(
                "account {address}: movePrecompileToAddress is not supported"
            )));
        }
        let storage = match (requested.state, requested.state_diff) {
            (Some(_), Some(_)) => {
                return Err(refuse(format!("account {address} has both state and stateDiff")));
            }
            (Some(slots), None) => Some(StorageOverride::Replace(words(slots))),
            (None, Some(slots)) => Some(StorageOverride::Diff(words(slots))),
            (None, None) => None,
        };
        let account = AccountOverride {
            balance: requested.balance,
            nonce: requested.nonce,
            code: requested.code,
            storage,
        };
        set.insert(address, account);
    }
    Ok(state.with_overrides(set))
}

/// Runs a creation or a call to an account with code in revm on top of
/// `state`, as the next block would (no nonce check, gas priced as asked);
/// a revert or halt is geth's error. `None` for an account without code.
fn contract_call(
    ctx: &RpcContext,
    state: &HistoricalState,
    block: &ol_primitives::BlockEnv,
    request: &TransactionRequest,
) -> RpcResult<Option<ol_ledger::ContractOutcome>> {
    let outcome = match run_contract(ctx, state, block, request, None)? {
        Some(outcome) => outcome,
        None => return Ok(None),
    };
    if !outcome.success {
        return Err(contract_failure(&outcome));
    }
    Ok(Some(outcome))
}

/// Runs `request` in revm with `gas_limit` (the request's, else the block's).
fn run_contract(
    ctx: &RpcContext,
    state: &HistoricalState,
    block: &ol_primitives::BlockEnv,
    request: &TransactionRequest,
    gas_limit: Option<u64>,
) -> RpcResult<Option<ol_ledger::ContractOutcome>> {
    let kind = request.to.unwrap_or(alloy_primitives::TxKind::Create);
    if let alloy_primitives::TxKind::Call(to) = kind
        && !ol_primitives::addresses::is_ethereum_precompile(&to)
    {
        let code_hash = state.account(&to).map_err(internal)?.map(|a| a.code_hash);
        if code_hash.is_none_or(|hash| hash == ol_ledger::state::EMPTY_CODE_HASH) {
            return Ok(None);
        }
    }
    let input = request.input.input().map(|data| &data[..]).unwrap_or_default();
    let call = ol_ledger::ContractCall {
        sender: request.from.unwrap_or_default(),
        kind,
        value: request.value.unwrap_or_default(),
        input,
        gas_limit: gas_limit.or(request.gas).unwrap_or(block.gas_limit).min(block.gas_limit),
        gas_price: request.gas_price.or(request.max_fee_per_gas).unwrap_or_default(),
        nonce: None,
        access_list: request.access_list.as_ref(),
    };
    use ol_ledger::ContractRuntime;
    match ol_evm::Revm.transact(ctx.chain.spec(), state, block, &call, ctx.chain.content()) {
        Ok(outcome) => Ok(Some(outcome)),
        Err(ol_ledger::ContractError::Refused(reason)) => Err(server_error(reason)),
        Err(ol_ledger::ContractError::State(error)) => Err(internal(error)),
    }
}

/// geth's error for a failed contract call: code 3 with the revert data, or
/// the halt's reason.
fn contract_failure(outcome: &ol_ledger::ContractOutcome) -> ErrorObjectOwned {
    if let Some(halt) = &outcome.halt {
        return server_error(format!("execution halted: {halt}"));
    }
    let reason = revert_reason(&outcome.output);
    ErrorObjectOwned::owned(
        errors::EXECUTION_REVERTED,
        match reason {
            Some(reason) => format!("execution reverted: {reason}"),
            None => "execution reverted".to_string(),
        },
        Some(outcome.output.clone()),
    )
}

/// The string of an `Error(string)` revert, if that is what `output` is.
fn revert_reason(output: &[u8]) -> Option<String> {
    use alloy_sol_types::SolError;
    alloy_sol_types::Revert::abi_decode(output).ok().map(|revert| revert.reason)
}

/// The least gas limit with which the request succeeds, by bisection
/// between what it used and the block's limit (refunds and the 63/64 rule
/// make the gas used too little as a limit). When a sub-call that fails
/// without failing the transaction (a caught out-of-gas, a failed CREATE)
/// burns whatever it is given, the gas used at the block's limit is far
/// more than needed: then the bisection runs below it, down to `intrinsic`,
/// as anvil's does.
fn estimate_contract_gas(
    ctx: &RpcContext,
    state: &HistoricalState,
    block: &ol_primitives::BlockEnv,
    request: &TransactionRequest,
    used: u64,
    intrinsic: u64,
) -> RpcResult<u64> {
    let succeeds = |limit: u64| -> RpcResult<bool> {
        match run_contract(ctx, state, block, request, Some(limit)) {
            Ok(outcome) => Ok(outcome.is_some_and(|o| o.success)),
            // Below what it used, a limit revm refuses (under the intrinsic
            // gas of a creation) is one the request does not succeed with.
            Err(_) if limit < used => Ok(false),
            Err(error) => Err(error),
        }
    };
    let mut high = request.gas.unwrap_or(ctx.chain.spec().block_gas_limit);
    let mut low = used.saturating_sub(1);
    if succeeds(used)? {
        if used <= intrinsic || !succeeds(used - 1)? {
            return Ok(used);
        }
        (low, high) = (intrinsic.saturating_sub(1), used - 1);
    }
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if succeeds(mid)? {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(high)
}

/// Runs a call to a system contract on top of `state` as the next block
/// would; a revert is geth's error (code 3, the revert data attached).
/// `None` when `to` is not a system contract.
fn system_call(
    ctx: &RpcContext,
    state: &HistoricalState,
    block: &ol_primitives::BlockEnv,
    request: &TransactionRequest,
) -> RpcResult<Option<ol_ledger::system::CallOutcome>> {
    let Some(alloy_primitives::TxKind::Call(to)) = request.to else { return Ok(None) };
    if !ol_primitives::addresses::is_callable(&to) {
        return Ok(None);
    }
    if !request.value.unwrap_or_default().is_zero() {
        return Err(server_error(format!(
            "system contract {to} is not payable: send no value (deposits are taken from the balance)"
        )));
    }
    let env = ol_ledger::system::CallEnv {
        spec: ctx.chain.spec(),
        block,
        caller: request.from.unwrap_or_default(),
        content: ctx.chain.content(),
    };
    let input = request.input.input().map(|data| &data[..]).unwrap_or_default();
    // The call gets what is left of the gas after the intrinsic cost, as
    // inside a transaction.
    let intrinsic = fees::intrinsic_gas_of(input, request.access_list.as_ref());
    let gas = request.gas.unwrap_or(block.gas_limit).saturating_sub(intrinsic);
    let outcome = ol_ledger::system::call(state, env, to, input, gas).map_err(internal)?;
    if !outcome.success {
        let reason = outcome.revert_reason.clone().unwrap_or_default();
        if outcome.output.is_empty() {
            return Err(server_error(reason));
        }
        return Err(ErrorObjectOwned::owned(
            errors::EXECUTION_REVERTED,
            format!("execution reverted: {reason}"),
            Some(outcome.output),
        ));
    }
    Ok(Some(outcome))
}

fn eth_get_logs(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getLogs")?;
    let filter: Filter = p.required("filter object")?;
    p.finish()?;
    json(logs_in_range(ctx, &filter, "eth_getLogs")?)
}

/// The logs matching `filter` in the blocks it names, as `eth_getLogs`
/// returns them (`method` names the caller in errors).
pub(super) fn logs_in_range(
    ctx: &RpcContext,
    filter: &Filter,
    method: &str,
) -> RpcResult<Vec<RpcLog>> {
    let head = ctx.chain.head().number();
    let (from, to) = match filter.block_option {
        alloy_rpc_types_eth::FilterBlockOption::AtBlockHash(hash) => {
            let header = ctx
                .chain
                .store()
                .header_by_hash(hash)
                .map_err(internal)?
                .ok_or_else(|| server_error(format!("unknown block {hash}")))?;
            (header.number(), header.number())
        }
        alloy_rpc_types_eth::FilterBlockOption::Range { from_block, to_block } => {
            // A number past the head stays what was asked (the range is
            // clamped to the head below), so a refusal names it.
            let resolve = |tag: Option<BlockNumberOrTag>| match tag {
                Some(BlockNumberOrTag::Number(number)) => number,
                Some(tag) => resolve_tag(&ctx.chain, tag).unwrap_or(head),
                None => head,
            };
            (resolve(from_block), resolve(to_block))
        }
    };
    if from > to {
        return Err(invalid_params(format!(
            "{method}: invalid block range: fromBlock {from} is after toBlock {to}"
        )));
    }
    let to = to.min(head);
    if from > head {
        return Ok(Vec::new());
    }
    if to - from >= MAX_LOG_RANGE {
        return Err(server_error(format!(
            "query exceeds max block range {MAX_LOG_RANGE}: blocks {from}..={to}"
        )));
    }
    find_logs(ctx, filter, from, to)
}

/// The logs of blocks `from..=to` (already clamped to the head and to
/// [`MAX_LOG_RANGE`]) that match `filter`, skipping blocks whose bloom rules
/// them out.
pub(super) fn find_logs(
    ctx: &RpcContext,
    filter: &Filter,
    from: u64,
    to: u64,
) -> RpcResult<Vec<RpcLog>> {
    let mut logs = Vec::new();
    for number in from..=to {
        let header = header_by_number(ctx, number)?;
        if !filter.matches_bloom(header.header.logs_bloom) {
            continue;
        }
        let receipts = block_receipts(ctx, number)?;
        let mut log_index = 0u64;
        for (index, receipt) in receipts.iter().enumerate() {
            let location = ol_storage::TxLocation {
                block_number: number,
                block_hash: header.hash,
                index: index as u64,
            };
            for log in convert::logs(receipt, &location, header.header.timestamp, log_index) {
                if filter.matches(&log.inner) {
                    logs.push(log);
                }
            }
            log_index += receipt.envelope.logs().len() as u64;
        }
    }
    Ok(logs)
}

fn eth_get_proof(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getProof")?;
    let address: Address = p.required("address")?;
    let keys: Vec<B256> = p.required("storage keys")?;
    let block: Option<BlockId> = Some(p.required("block")?);
    p.finish()?;
    if keys.len() > 1024 {
        return Err(invalid_params("eth_getProof: at most 1024 storage keys"));
    }
    let state = state_at(ctx, block)?;
    // Only the head's trie is kept: older states are read, not proven.
    let Some(snapshot) = state.as_head() else {
        return Err(server_error(format!(
            "historical proofs are not available: block {} is older than the head {}; eth_getProof proves only the latest state",
            state.header().number(),
            ctx.chain.head().number()
        )));
    };
    let proof = snapshot.account_proof(address, &keys);
    json(EIP1186AccountProofResponse {
        address: proof.address,
        balance: proof.balance,
        code_hash: proof.code_hash,
        nonce: proof.nonce,
        storage_hash: proof.storage_hash,
        account_proof: proof.account_proof,
        storage_proof: proof
            .storage_proof
            .into_iter()
            .map(|s| EIP1186StorageProof {
                key: alloy_serde::JsonStorageKey::Hash(s.key),
                value: s.value,
                proof: s.proof,
            })
            .collect(),
    })
}

fn web3_sha3(params: Params<'_>, _ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "web3_sha3")?;
    let data: Bytes = p.required("data")?;
    p.finish()?;
    json(alloy_primitives::keccak256(&data))
}

async fn subscribe(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    ctx: Arc<RpcContext>,
    _: jsonrpsee::Extensions,
) -> jsonrpsee::core::SubscriptionResult {
    let mut p = match Positional::new(params, "eth_subscribe") {
        Ok(p) => p,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let kind: String = match p.required("subscription kind") {
        Ok(kind) => kind,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    match kind.as_str() {
        "newHeads" => {}
        "logs" => {
            return match super::filter::subscription_filter(p) {
                Ok(filter) => super::filter::stream_logs(pending, ctx, filter).await,
                Err(e) => {
                    pending.reject(e).await;
                    Ok(())
                }
            };
        }
        _ => {
            pending
                .reject(invalid_params(format!(
                    "eth_subscribe: unsupported subscription {kind:?}; supported: \"newHeads\", \"logs\""
                )))
                .await;
            return Ok(());
        }
    }
    let mut heads = ctx.chain.subscribe_heads();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            head = heads.recv() => match head {
                Ok(header) => {
                    let message = SubscriptionMessage::new(
                        sink.method_name(),
                        sink.subscription_id(),
                        &convert::header(&header, None),
                    )?;
                    if sink.send(message).await.is_err() {
                        return Ok(());
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}
