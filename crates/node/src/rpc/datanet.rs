//! `ol_` methods that read datanets, contributions and versions.
//!
//! Writes go through ordinary signed transactions to the datanets system
//! contract (`contracts/IDatanets.sol`); these methods serve its records as
//! JSON, at the latest block or any retained one (`block` parameter).
//! `ol_getReputation(account, datanetId?, block?)` serves a contributor's
//! penalty scores: in one datanet, or in every datanet it has a record in.

use super::{
    RpcContext,
    errors::{internal, invalid_params, server_error},
    eth::{Positional, state_at},
};
use alloy_primitives::{Address, B256, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::{
    datanets::{Contribution, Datanet, DatanetsReader, Format, Penalty, Policy, Status, Version},
    system::CallError,
};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// Most contribution ids returned by one call.
pub const MAX_PAGE: u64 = 10_000;

/// A datanet as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatanetJson {
    /// Its id.
    pub id: U64,
    /// Its owner.
    pub owner: Address,
    /// Name.
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// SPDX licence expression (empty when custom terms apply).
    pub licence: String,
    /// sha256 of custom licence terms, or zero.
    pub custom_terms_hash: B256,
    /// `open`, `owner-approval` or `allow-list`.
    pub policy: String,
    /// Largest contribution in bytes (0: the default).
    pub max_submission_bytes: U64,
    /// Accepted formats (`txt`, `md`, `jsonl`, `csv`).
    pub formats: Vec<String>,
    /// JSON field of a .jsonl row's text.
    pub jsonl_field: String,
    /// Column of a .csv row's text.
    pub csv_column: String,
    /// Contributions submitted.
    pub contribution_count: U64,
    /// Contributions ever accepted.
    pub accepted_count: U64,
    /// Versions published.
    pub version_count: U64,
    /// Block it was created in.
    pub created_at_block: U64,
}

/// A contribution as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributionJson {
    /// Its id.
    pub id: U64,
    /// Its datanet.
    pub datanet_id: U64,
    /// Who contributed it.
    pub contributor: Address,
    /// sha256 of the uploaded bytes.
    pub content_hash: B256,
    /// sha256 of the normalised rows.
    pub normalised_hash: B256,
    /// Bytes.
    pub size: U64,
    /// `txt`, `md`, `jsonl` or `csv`.
    pub format: String,
    /// Licence.
    pub licence: String,
    /// `pending`, `accepted`, `rejected` or `withdrawn`.
    pub status: String,
    /// OPEN (wei) still held as deposit.
    pub deposit: U256,
    /// The earlier accepted contribution it nearly duplicates, if any.
    pub near_duplicate_of: Option<U64>,
    /// Position among accepted contributions (from 1), if accepted.
    pub accepted_seq: Option<U64>,
    /// Block it was submitted in.
    pub submitted_at_block: U64,
}

/// A published version as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionJson {
    /// Its datanet.
    pub datanet_id: U64,
    /// Its number (from 1).
    pub version: U64,
    /// Merkle root of its contributions.
    pub root: B256,
    /// The contributions, in acceptance order.
    pub contributions: Vec<U64>,
    /// Block it was published in.
    pub published_at_block: U64,
    /// sha256 identity of its attribution index, once recorded.
    pub index_hash: Option<B256>,
    /// Tokenizer of the recorded index.
    pub tokenizer: Option<String>,
}

/// A contributor's standing in one datanet, as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatanetPenaltyJson {
    /// The datanet.
    pub datanet_id: U64,
    /// The penalty score.
    pub score: U64,
    /// True when the score is at or above the threshold: the contributor's
    /// attribution rewards in this datanet are cut to zero.
    pub rewards_cut: bool,
    /// The threshold in force.
    pub threshold: U64,
    /// Contributions rejected as spam.
    pub spam_rejections: U64,
    /// Contributions proven near-duplicates of another contributor's.
    pub near_duplicates: U64,
    /// Poisoning reports confirmed by governance.
    pub confirmed_poisonings: U64,
}

/// An account's reputation as served by `ol_getReputation`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReputationJson {
    /// The account.
    pub account: Address,
    /// The score at or above which rewards are cut.
    pub threshold: U64,
    /// Its standing per datanet: the one asked for, or every datanet in
    /// which it has a record (none: a clean record).
    pub datanets: Vec<DatanetPenaltyJson>,
}

fn penalty_json(datanet: u64, penalty: Penalty) -> DatanetPenaltyJson {
    DatanetPenaltyJson {
        datanet_id: U64::from(datanet),
        score: U64::from(penalty.score),
        rewards_cut: penalty.cut,
        threshold: U64::from(penalty.threshold),
        spam_rejections: U64::from(penalty.spamRejections),
        near_duplicates: U64::from(penalty.nearDuplicates),
        confirmed_poisonings: U64::from(penalty.confirmedPoisonings),
    }
}

/// Name of a format as users write it.
pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "txt",
        Format::Markdown => "md",
        Format::Jsonl => "jsonl",
        Format::Csv => "csv",
        _ => "unknown",
    }
}

fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::Open => "open",
        Policy::OwnerApproval => "owner-approval",
        Policy::AllowList => "allow-list",
        _ => "unknown",
    }
}

/// Name of a status as users read it.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Accepted => "accepted",
        Status::Rejected => "rejected",
        Status::Withdrawn => "withdrawn",
        _ => "none",
    }
}

fn nonzero(value: u64) -> Option<U64> {
    (value != 0).then(|| U64::from(value))
}

impl From<Datanet> for DatanetJson {
    fn from(d: Datanet) -> Self {
        let c = d.config;
        Self {
            id: U64::from(d.id),
            owner: d.owner,
            name: c.name,
            summary: c.summary,
            description: c.description,
            tags: c.tags,
            licence: c.licence,
            custom_terms_hash: c.customTermsHash,
            policy: policy_name(c.policy).into(),
            max_submission_bytes: U64::from(c.maxSubmissionBytes),
            formats: c.formats.into_iter().map(|f| format_name(f).to_owned()).collect(),
            jsonl_field: c.jsonlField,
            csv_column: c.csvColumn,
            contribution_count: U64::from(d.contributionCount),
            accepted_count: U64::from(d.acceptedCount),
            version_count: U64::from(d.versionCount),
            created_at_block: U64::from(d.createdAtBlock),
        }
    }
}

impl From<Contribution> for ContributionJson {
    fn from(c: Contribution) -> Self {
        Self {
            id: U64::from(c.id),
            datanet_id: U64::from(c.datanetId),
            contributor: c.contributor,
            content_hash: c.contentHash,
            normalised_hash: c.normalisedHash,
            size: U64::from(c.size),
            format: format_name(c.format).into(),
            licence: c.licence,
            status: status_name(c.status).into(),
            deposit: c.deposit,
            near_duplicate_of: nonzero(c.nearDuplicateOf),
            accepted_seq: nonzero(c.acceptedSeq),
            submitted_at_block: U64::from(c.submittedAtBlock),
        }
    }
}

fn version_json(version: Version, members: Vec<u64>) -> VersionJson {
    VersionJson {
        datanet_id: U64::from(version.datanetId),
        version: U64::from(version.number),
        root: version.root,
        contributions: members.into_iter().map(U64::from).collect(),
        published_at_block: U64::from(version.publishedAtBlock),
        index_hash: (version.indexHash != B256::ZERO).then_some(version.indexHash),
        tokenizer: (!version.tokenizer.is_empty()).then_some(version.tokenizer),
    }
}

/// A ledger read failure as a JSON-RPC error.
pub(super) fn read_error(error: CallError) -> ErrorObjectOwned {
    match error {
        CallError::Revert(reason) => server_error(reason),
        other => internal(other),
    }
}

/// Paging options of list methods.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Page {
    offset: Option<U64>,
    limit: Option<U64>,
}

/// A datanet id or version number from JSON (a number or a quantity string).
fn id_param(p: &mut Positional<'_>, what: &str) -> RpcResult<u64> {
    let value: serde_json::Value = p.required(what)?;
    parse_id(&value, what)
}

/// Like [`id_param`], for a parameter that may be absent or null.
fn optional_id_param(p: &mut Positional<'_>, what: &str) -> RpcResult<Option<u64>> {
    let value: Option<serde_json::Value> = p.optional(what)?;
    value.map(|value| parse_id(&value, what)).transpose()
}

fn parse_id(value: &serde_json::Value, what: &str) -> RpcResult<u64> {
    let parsed = match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        invalid_params(format!("{what} must be a non-negative integer, got {value}"))
    })
}

/// A datanet id, version number pair (the version must fit 32 bits).
pub(super) fn datanet_version_params(p: &mut Positional<'_>) -> RpcResult<(u64, u32)> {
    let datanet = id_param(p, "datanet id")?;
    let version = id_param(p, "version")?;
    let version = u32::try_from(version)
        .map_err(|_| invalid_params(format!("version {version} is out of range")))?;
    Ok((datanet, version))
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getDatanet", |params, ctx, _| get_datanet(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_getContribution", |params, ctx, _| {
            get_contribution(params, &ctx)
        })
        .expect("registered once");
    module
        .register_blocking_method("ol_getContributions", |params, ctx, _| {
            get_contributions(params, &ctx)
        })
        .expect("registered once");
    module
        .register_blocking_method("ol_getDatanetVersion", |params, ctx, _| {
            get_version(params, &ctx)
        })
        .expect("registered once");
    module
        .register_blocking_method("ol_datanetCount", |params, ctx, _| datanet_count(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_depositFor", |params, ctx, _| deposit_for(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_getReputation", |params, ctx, _| get_reputation(params, &ctx))
        .expect("registered once");
}

fn get_datanet(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<DatanetJson>> {
    let mut p = Positional::new(params, "ol_getDatanet")?;
    let id = id_param(&mut p, "datanet id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let datanet = DatanetsReader::new(&state).datanet(id).map_err(read_error)?;
    Ok(datanet.map(Into::into))
}

fn get_contribution(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<ContributionJson>> {
    let mut p = Positional::new(params, "ol_getContribution")?;
    let id = id_param(&mut p, "contribution id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let contribution = DatanetsReader::new(&state).contribution(id).map_err(read_error)?;
    Ok(contribution.map(Into::into))
}

fn get_contributions(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Vec<ContributionJson>> {
    let mut p = Positional::new(params, "ol_getContributions")?;
    let id = id_param(&mut p, "datanet id")?;
    let page: Option<Page> = p.optional("paging options {offset, limit}")?;
    let block = p.optional("block")?;
    p.finish()?;
    let page = page.unwrap_or_default();
    let limit = page.limit.map_or(MAX_PAGE, |l| l.to::<u64>());
    if limit > MAX_PAGE {
        return Err(invalid_params(format!("limit {limit} is over {MAX_PAGE}")));
    }
    let state = state_at(ctx, block)?;
    let mut reader = DatanetsReader::new(&state);
    if reader.datanet(id).map_err(read_error)?.is_none() {
        return Err(server_error(format!("datanet {id} does not exist")));
    }
    let offset = page.offset.map_or(0, |o| o.to::<u64>());
    let ids = reader.datanet_contributions(id, offset, limit).map_err(read_error)?;
    ids.into_iter()
        .map(|id| {
            reader
                .contribution(id)
                .map_err(read_error)?
                .map(Into::into)
                .ok_or_else(|| internal(format!("contribution {id} is listed but missing")))
        })
        .collect()
}

fn get_version(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<VersionJson>> {
    let mut p = Positional::new(params, "ol_getDatanetVersion")?;
    let (datanet, number) = datanet_version_params(&mut p)?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = DatanetsReader::new(&state);
    let Some(version) = reader.version(datanet, number).map_err(read_error)? else {
        return Ok(None);
    };
    let members = reader.version_members(datanet, number).map_err(read_error)?;
    Ok(Some(version_json(version, members)))
}

fn datanet_count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U64> {
    let mut p = Positional::new(params, "ol_datanetCount")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    Ok(U64::from(DatanetsReader::new(&state).datanet_count().map_err(read_error)?))
}

fn deposit_for(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U256> {
    let mut p = Positional::new(params, "ol_depositFor")?;
    let size = id_param(&mut p, "size in bytes")?;
    p.finish()?;
    let state = state_at(ctx, None)?;
    let params = DatanetsReader::new(&state).params().map_err(read_error)?;
    Ok(params.deposit_for(size))
}

fn get_reputation(params: Params<'_>, ctx: &RpcContext) -> RpcResult<ReputationJson> {
    let mut p = Positional::new(params, "ol_getReputation")?;
    let account: Address = p.required("account")?;
    let datanet = optional_id_param(&mut p, "datanet id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let mut reader = DatanetsReader::new(&state);
    let threshold = reader.penalty_threshold().map_err(read_error)?;
    let ids = match datanet {
        Some(id) => {
            if reader.owner(id).map_err(read_error)? == Address::ZERO {
                return Err(server_error(format!("datanet {id} does not exist")));
            }
            vec![id]
        }
        None => reader.penalized_datanets(account).map_err(read_error)?,
    };
    let datanets = ids
        .into_iter()
        .map(|id| Ok(penalty_json(id, reader.penalty(id, account).map_err(read_error)?)))
        .collect::<RpcResult<_>>()?;
    Ok(ReputationJson { account, threshold: U64::from(threshold), datanets })
}
