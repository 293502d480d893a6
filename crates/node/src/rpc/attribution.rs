//! `ol_` methods of Proof of Attribution: build a datanet version's index,
//! and query it (n-gram count, ∞-gram longest matches, span attribution).
//!
//! Every query names the datanet and version; the tokenizer is the one the
//! chain records for the version's index, else the `tokenizer` option, else
//! `byte`. Contributions withdrawn since the version was published are
//! excluded from attribution.

use super::{
    RpcContext,
    datanet::{datanet_version_params, read_error},
    errors::{internal, invalid_params, server_error},
    eth::{Positional, state_at},
};
use crate::indexes::{BuildStatus, IndexKey, IndexServiceError, version_documents};
use alloy_primitives::{Address, B256, U64};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_attribution::{
    index::Index,
    span::{AttributionParams, attribute},
    tokenizer::Tokenizer,
};
use ol_ledger::datanets::DatanetsReader;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// Longest text a query accepts, in bytes.
pub const MAX_QUERY_TEXT: usize = 64 * 1024;

/// Longest span length a caller may ask for.
pub const MAX_MIN_SPAN: usize = 1024;

/// Options of the index methods.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Options {
    tokenizer: Option<String>,
    rebuild: Option<bool>,
    min_span: Option<usize>,
    max_listed: Option<usize>,
}

/// An n-gram count.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountJson {
    /// Occurrences in the version's index.
    pub count: U64,
    /// The text's tokens.
    pub tokens: Vec<u32>,
}

/// ∞-gram longest matches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LongestMatchesJson {
    /// The text's tokens.
    pub tokens: Vec<u32>,
    /// For each token, the length of the longest suffix ending there that
    /// occurs in the index.
    pub lengths: Vec<u32>,
}

/// One matched span.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanJson {
    /// First token.
    pub start: u64,
    /// One past the last token.
    pub end: u64,
    /// The span's text.
    pub text: String,
    /// Occurrences in live contributions.
    pub occurrences: u64,
    /// Rarity per token (Q16.16 log2).
    pub rarity: u64,
    /// Tokens this span won.
    pub tokens_won: u64,
    /// The contribution credited (the earliest accepted containing it).
    pub credited: U64,
    /// Contributions containing it, in acceptance order.
    pub contributions: Vec<U64>,
    /// More contributions contain it than are listed.
    pub truncated: bool,
}

/// One contribution's share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareJson {
    /// The contribution.
    pub contribution: U64,
    /// Its contributor (who is paid).
    pub contributor: Address,
    /// Raw weight.
    pub weight: u64,
    /// Basis points of the data share (sum 10,000).
    pub bps: u16,
}

/// The attribution of a text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributionJson {
    /// The datanet.
    pub datanet_id: U64,
    /// The version.
    pub version: U64,
    /// The index's tokenizer.
    pub tokenizer: String,
    /// The index's hash.
    pub index_hash: String,
    /// Shortest span counted.
    pub min_span: U64,
    /// Tokens in the text.
    pub text_tokens: U64,
    /// False: no attribution (nothing matched).
    pub matched: bool,
    /// The spans.
    pub spans: Vec<SpanJson>,
    /// The shares, in acceptance order.
    pub shares: Vec<ShareJson>,
}

fn service_error(error: IndexServiceError) -> ErrorObjectOwned {
    match error {
        IndexServiceError::Refused(reason) => server_error(reason),
        IndexServiceError::Chain(error) => read_error(error),
        IndexServiceError::Index(error) => server_error(error.to_string()),
    }
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_buildIndex", |params, ctx, _| build(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_indexStatus", |params, ctx, _| status(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_count", |params, ctx, _| count(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_longestMatches", |params, ctx, _| {
            longest_matches(params, &ctx)
        })
        .expect("registered once");
    module
        .register_blocking_method("ol_attribute", |params, ctx, _| attribute_text(params, &ctx))
        .expect("registered once");
}

/// The version's recorded index (hash, tokenizer), checking it exists.
fn recorded_index(
    ctx: &RpcContext,
    datanet: u64,
    version: u32,
) -> RpcResult<(Option<B256>, Option<String>)> {
    let state = state_at(ctx, None)?;
    let record = DatanetsReader::new(&state).version(datanet, version).map_err(read_error)?;
    let Some(record) = record else {
        return Err(server_error(format!("datanet {datanet} has no published version {version}")));
    };
    let hash = (record.indexHash != B256::ZERO).then_some(record.indexHash);
    let tokenizer = (!record.tokenizer.is_empty()).then_some(record.tokenizer);
    Ok((hash, tokenizer))
}

fn tokenizer_named(name: &str) -> RpcResult<Tokenizer> {
    Tokenizer::by_name(name).map_err(|error| invalid_params(error.to_string()))
}

fn choose_tokenizer(requested: Option<String>, recorded: Option<String>) -> RpcResult<String> {
    match (requested, recorded) {
        (Some(requested), Some(recorded)) if requested != recorded => Err(invalid_params(format!(
            "the version's recorded index uses the {recorded} tokenizer, not {requested}"
        ))),
        (Some(name), _) | (None, Some(name)) => Ok(name),
        (None, None) => Ok("byte".into()),
    }
}

fn build(params: Params<'_>, ctx: &RpcContext) -> RpcResult<BuildStatus> {
    let mut p = Positional::new(params, "ol_buildIndex")?;
    let (datanet, version) = datanet_version_params(&mut p)?;
    let options: Option<Options> = p.optional("options {tokenizer, rebuild}")?;
    p.finish()?;
    let options = options.unwrap_or_default();
    let (_, recorded_tokenizer) = recorded_index(ctx, datanet, version)?;
    let name = choose_tokenizer(options.tokenizer, recorded_tokenizer)?;
    let tokenizer = tokenizer_named(&name)?;
    let state = state_at(ctx, None)?;
    let documents =
        version_documents(&state, &ctx.blobs, datanet, version).map_err(service_error)?;
    let key: IndexKey = (datanet, version, name);
    ctx.indexes
        .start_build(key, tokenizer, documents.documents, options.rebuild.unwrap_or(false))
        .map_err(service_error)
}

fn status(params: Params<'_>, ctx: &RpcContext) -> RpcResult<BuildStatus> {
    let mut p = Positional::new(params, "ol_indexStatus")?;
    let (datanet, version) = datanet_version_params(&mut p)?;
    let options: Option<Options> = p.optional("options {tokenizer}")?;
    p.finish()?;
    let (_, recorded_tokenizer) = recorded_index(ctx, datanet, version)?;
    let name = choose_tokenizer(options.unwrap_or_default().tokenizer, recorded_tokenizer)?;
    Ok(ctx.indexes.status(&(datanet, version, name)))
}

/// What a query needs: the index, its tokenizer and the tokenised text.
struct Query {
    datanet: u64,
    version: u32,
    key: IndexKey,
    index: Arc<Index>,
    tokenizer: Tokenizer,
    tokens: Vec<u32>,
    options: Options,
}

fn query(params: Params<'_>, ctx: &RpcContext, method: &'static str) -> RpcResult<Query> {
    let mut p = Positional::new(params, method)?;
    let (datanet, version) = datanet_version_params(&mut p)?;
    let text: String = p.required("text")?;
    let options: Option<Options> = p.optional("options {tokenizer, minSpan, maxListed}")?;
    p.finish()?;
    open_query(ctx, datanet, version, &text, options.unwrap_or_default())
}

fn open_query(
    ctx: &RpcContext,
    datanet: u64,
    version: u32,
    text: &str,
    options: Options,
) -> RpcResult<Query> {
    if text.len() > MAX_QUERY_TEXT {
        return Err(invalid_params(format!(
            "text is {} bytes; at most {MAX_QUERY_TEXT} allowed",
            text.len()
        )));
    }
    let (recorded_hash, recorded_tokenizer) = recorded_index(ctx, datanet, version)?;
    let name = choose_tokenizer(options.tokenizer.clone(), recorded_tokenizer)?;
    let tokenizer = tokenizer_named(&name)?;
    let key: IndexKey = (datanet, version, name);
    let index = ctx.indexes.checked_index(&key, recorded_hash).map_err(service_error)?;
    let tokens = tokenizer.encode(text);
    Ok(Query { datanet, version, key, index, tokenizer, tokens, options })
}

fn count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<CountJson> {
    let q = query(params, ctx, "ol_count")?;
    if q.tokens.is_empty() {
        return Err(invalid_params("the text has no tokens to count"));
    }
    Ok(CountJson { count: U64::from(q.index.count(&q.tokens)), tokens: q.tokens })
}

fn longest_matches(params: Params<'_>, ctx: &RpcContext) -> RpcResult<LongestMatchesJson> {
    let q = query(params, ctx, "ol_longestMatches")?;
    let lengths = q.index.longest_matches(&q.tokens);
    Ok(LongestMatchesJson { tokens: q.tokens, lengths })
}

fn attribute_text(params: Params<'_>, ctx: &RpcContext) -> RpcResult<AttributionJson> {
    let q = query(params, ctx, "ol_attribute")?;
    attribute_query(ctx, q)
}

/// The attribution of `text` against a published datanet version with its
/// recorded index and the default parameters, as `ol_attribute` gives it.
/// The inference engine attributes every answer with it.
pub fn attribute_output(
    ctx: &RpcContext,
    datanet: u64,
    version: u32,
    text: &str,
) -> RpcResult<AttributionJson> {
    let q = open_query(ctx, datanet, version, text, Options::default())?;
    attribute_query(ctx, q)
}

fn attribute_query(ctx: &RpcContext, q: Query) -> RpcResult<AttributionJson> {
    let defaults = AttributionParams::default();
    let min_span = q.options.min_span.unwrap_or(defaults.min_span);
    if min_span == 0 || min_span > MAX_MIN_SPAN {
        return Err(invalid_params(format!("minSpan must be 1..={MAX_MIN_SPAN}, got {min_span}")));
    }
    let max_listed = q.options.max_listed.unwrap_or(defaults.max_listed).min(256);
    let params = AttributionParams { min_span, max_listed };
    let state = state_at(ctx, None)?;
    let excluded = ctx
        .indexes
        .withdrawn(&q.key, &q.index, &state, state.header().hash)
        .map_err(service_error)?;
    let mut reader = DatanetsReader::new(&state);
    let result = attribute(&q.index, &q.tokens, &params, &excluded);
    let spans = result
        .spans
        .iter()
        .map(|span| SpanJson {
            start: span.start,
            end: span.end,
            text: q.tokenizer.decode(&q.tokens[span.start as usize..span.end as usize]),
            occurrences: span.occurrences,
            rarity: span.rarity,
            tokens_won: span.tokens_won,
            credited: U64::from(span.credited),
            contributions: span.contributions.iter().map(|id| U64::from(*id)).collect(),
            truncated: span.truncated,
        })
        .collect();
    let shares = result
        .shares
        .iter()
        .map(|share| {
            let contributor = reader
                .contribution(share.contribution)
                .map_err(read_error)?
                .map(|c| c.contributor)
                .ok_or_else(|| {
                    internal(format!("indexed contribution {} is missing", share.contribution))
                })?;
            Ok(ShareJson {
                contribution: U64::from(share.contribution),
                contributor,
                weight: share.weight,
                bps: share.bps,
            })
        })
        .collect::<RpcResult<Vec<_>>>()?;
    Ok(AttributionJson {
        datanet_id: U64::from(q.datanet),
        version: U64::from(q.version),
        tokenizer: q.tokenizer.name().to_owned(),
        index_hash: format!("0x{}", q.index.index_hash()),
        min_span: U64::from(min_span),
        text_tokens: U64::from(q.tokens.len()),
        matched: result.matched,
        spans,
        shares,
    })
}
