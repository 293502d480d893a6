//! `ol_` methods that read inference settlements and earnings
//! (`contracts/IInference.sol`).
//!
//! `ol_getEarnings(account, range?)` answers "what has this account earned,
//! from which datanets and models, and from which inferences": totals per
//! datanet and per model come from the contract's storage; the
//! per-inference credits come from its indexed `Credited` logs within the
//! block range (at most [`MAX_LOG_RANGE`] blocks, by default the latest).

use super::{
    RpcContext,
    datanet::read_error,
    errors::invalid_params,
    eth::{MAX_LOG_RANGE, Positional, find_logs, state_at},
};
use alloy_primitives::{Address, B256, U64, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::inference::{IInference, INFERENCE, Inference, InferenceReader, Role};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// A settled inference as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceJson {
    /// Its id.
    pub id: U64,
    /// The model.
    pub model_id: U64,
    /// Who served and settled it.
    pub provider: Address,
    /// Who paid.
    pub payer: Address,
    /// The fee, in wei.
    pub fee: U256,
    /// sha256 of the prompt.
    pub prompt_hash: B256,
    /// sha256 of the output.
    pub output_hash: B256,
    /// Input tokens.
    pub input_tokens: U64,
    /// Output tokens.
    pub output_tokens: U64,
    /// The datanet whose index attributed it.
    pub datanet_id: U64,
    /// Its version.
    pub version: U64,
    /// The index hash used.
    pub index_hash: B256,
    /// keccak256 of the ABI-encoded attribution vector.
    pub attribution_hash: B256,
    /// Block it settled in.
    pub settled_at_block: U64,
}

impl From<Inference> for InferenceJson {
    fn from(i: Inference) -> Self {
        Self {
            id: U64::from(i.id),
            model_id: U64::from(i.modelId),
            provider: i.provider,
            payer: i.payer,
            fee: i.fee,
            prompt_hash: i.promptHash,
            output_hash: i.outputHash,
            input_tokens: U64::from(i.inputTokens),
            output_tokens: U64::from(i.outputTokens),
            datanet_id: U64::from(i.datanetId),
            version: U64::from(i.version),
            index_hash: i.indexHash,
            attribution_hash: i.attributionHash,
            settled_at_block: U64::from(i.settledAtBlock),
        }
    }
}

/// An amount earned from one source.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceEarnings {
    /// The datanet or model id.
    pub id: U64,
    /// Wei credited.
    pub amount: U256,
}

/// One credit from one inference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceCredit {
    /// The inference.
    pub inference_id: U64,
    /// `owner`, `provider`, `stakers`, `contributor` or `datanetOwner`.
    pub role: String,
    /// The datanet, for contributor and datanet-owner credits.
    pub datanet_id: Option<U64>,
    /// Wei credited.
    pub amount: U256,
    /// Where the settlement landed.
    pub block_number: U64,
    /// The settlement transaction.
    pub transaction_hash: B256,
}

/// An account's earnings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarningsJson {
    /// The account.
    pub account: Address,
    /// Unclaimed rewards (wei), claimable with `IInference.claim()`.
    pub claimable: U256,
    /// Credited per datanet (as contributor or datanet owner).
    pub per_datanet: Vec<SourceEarnings>,
    /// Credited per model, in any role.
    pub per_model: Vec<SourceEarnings>,
    /// Credits per inference within `fromBlock..=toBlock`.
    pub inferences: Vec<InferenceCredit>,
    /// The block range the per-inference list covers.
    pub from_block: U64,
    /// End of that range.
    pub to_block: U64,
}

/// The range of `ol_getEarnings`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Range {
    from_block: Option<U64>,
    to_block: Option<U64>,
}

/// The name of a role as served.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Provider => "provider",
        Role::Stakers => "stakers",
        Role::Contributor => "contributor",
        Role::DatanetOwner => "datanetOwner",
        _ => "unknown",
    }
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getInference", |params, ctx, _| get_inference(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_inferenceCount", |params, ctx, _| count(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_getEarnings", |params, ctx, _| earnings(params, &ctx))
        .expect("registered once");
}

fn get_inference(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<InferenceJson>> {
    let mut p = Positional::new(params, "ol_getInference")?;
    let id: U64 = p.required("inference id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let record = InferenceReader::new(&state).inference(id.to()).map_err(read_error)?;
    Ok(record.map(Into::into))
}

fn count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U64> {
    let mut p = Positional::new(params, "ol_inferenceCount")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    Ok(U64::from(InferenceReader::new(&state).inference_count().map_err(read_error)?))
}

fn earnings(params: Params<'_>, ctx: &RpcContext) -> RpcResult<EarningsJson> {
    let mut p = Positional::new(params, "ol_getEarnings")?;
    let account: Address = p.required("account")?;
    let range: Option<Range> = p.optional("block range {fromBlock, toBlock}")?;
    p.finish()?;
    let head = ctx.chain.head().number();
    let range = range.unwrap_or_default();
    let to = range.to_block.map_or(head, |b| b.to::<u64>()).min(head);
    let from = range.from_block.map_or(to.saturating_sub(MAX_LOG_RANGE - 1), |b| b.to());
    if from > to {
        return Err(invalid_params(format!(
            "ol_getEarnings: fromBlock {from} is after toBlock {to} (the head is {head})"
        )));
    }
    if to - from >= MAX_LOG_RANGE {
        return Err(invalid_params(format!(
            "ol_getEarnings: at most {MAX_LOG_RANGE} blocks per call; asked {from}..={to}"
        )));
    }
    let state = state_at(ctx, None)?;
    let totals = InferenceReader::new(&state).earnings(account).map_err(read_error)?;
    let filter = Filter::new()
        .address(INFERENCE)
        .event_signature(IInference::Credited::SIGNATURE_HASH)
        .topic2(account.into_word());
    let mut inferences = Vec::new();
    for log in find_logs(ctx, &filter, from, to)? {
        let Ok(credit) = IInference::Credited::decode_log_data(&log.inner.data) else { continue };
        let has_datanet = matches!(credit.role, Role::Contributor | Role::DatanetOwner);
        inferences.push(InferenceCredit {
            inference_id: U64::from(credit.inferenceId),
            role: role_name(credit.role).into(),
            datanet_id: has_datanet.then(|| U64::from(credit.datanetId)),
            amount: credit.amount,
            block_number: U64::from(log.block_number.unwrap_or_default()),
            transaction_hash: log.transaction_hash.unwrap_or_default(),
        });
    }
    let source = |(id, amount): (u64, U256)| SourceEarnings { id: U64::from(id), amount };
    Ok(EarningsJson {
        account,
        claimable: totals.claimable,
        per_datanet: totals.per_datanet.into_iter().map(source).collect(),
        per_model: totals.per_model.into_iter().map(source).collect(),
        inferences,
        from_block: U64::from(from),
        to_block: U64::from(to),
    })
}
