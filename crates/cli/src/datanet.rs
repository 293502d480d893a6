//! `openledger datanet`: create datanets, contribute to them, curate them,
//! publish versions and build their attribution indexes.
//!
//! Every write is an ordinary signed transaction to the datanets system
//! contract (`contracts/IDatanets.sol`) at [`DATANETS`], sent with the same
//! signer and fee flags as `transfer` ([`SendArgs`]); the node first runs it
//! with `eth_estimateGas`, so a call the contract would refuse is reported
//! with the contract's reason and nothing is sent. What the transaction did
//! (the new datanet's id, a contribution's status) is read back from the
//! events in its receipt. Reads use the node's `ol_` methods.
//!
//! Reputation: `reputation` shows an account's penalty scores per datanet
//! (`ol_getReputation`); `report-duplicate` proves on chain that a
//! contribution nearly duplicates an earlier one of another contributor;
//! `report-poisoning` files a report that governance confirms or dismisses.

use crate::{
    arguments::{format_open, parse_address},
    rpc::{NodeClient, RpcArgs, RpcError},
    send::{SendArgs, describe_receipt},
    upload::{ContentCheck, sha256, upload},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand, ValueEnum};
use eyre::{Result, WrapErr, bail, eyre};
use indicatif::{ProgressBar, ProgressStyle};
use ol_ledger::datanets::{DATANETS, Format, IDatanets, Policy, records::DEFAULT_MAX_SUBMISSION};
use ol_node::rpc::datanet::{ContributionJson, DatanetJson, ReputationJson, VersionJson};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

/// How often `datanet index` asks the node how the build is going.
const INDEX_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Most contributions asked for in one `ol_getContributions` page.
const CONTRIBUTIONS_PAGE: u64 = 1_000;

/// The `datanet` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DatanetCommand {
    /// Create a datanet owned by the signing account; prints its id.
    Create(Box<CreateArgs>),
    /// Show a datanet: owner, licence, policy, formats, counts.
    Show(ShowArgs),
    /// List a datanet's contributions.
    Contributions(ContributionsArgs),
    /// Upload a file and submit it as a contribution (pays a deposit).
    Contribute(Box<ContributeArgs>),
    /// Accept a pending contribution (owner or curator).
    Approve(Box<ContributionArgs>),
    /// Reject a pending contribution (owner or curator).
    Reject(Box<RejectArgs>),
    /// Take down your own contribution: it leaves later versions and attribution.
    Withdraw(Box<ContributionArgs>),
    /// Appoint (or with --remove, dismiss) a curator of a datanet (owner only).
    Curator(Box<MemberArgs>),
    /// Add (or with --remove, drop) an account on a datanet's allow-list (owner only).
    Allow(Box<MemberArgs>),
    /// Hand a datanet to another owner (owner only).
    TransferOwnership(Box<OwnershipArgs>),
    /// Publish the next version from the accepted contributions (owner or curator).
    Publish(Box<PublishArgs>),
    /// Show a published version: its root, members and index.
    Version(VersionArgs),
    /// Build a version's attribution index on the node and record its hash on chain.
    Index(Box<IndexArgs>),
    /// Show an account's penalty scores and whether its rewards are cut, per datanet.
    Reputation(ReputationArgs),
    /// Prove that a contribution nearly duplicates an earlier one of another contributor.
    ReportDuplicate(Box<ReportDuplicateArgs>),
    /// Report that an account poisoned a datanet; governance confirms or dismisses it.
    ReportPoisoning(Box<ReportPoisoningArgs>),
}

/// A contribution's format, as users name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatName {
    /// Plain text (.txt).
    Txt,
    /// Markdown (.md).
    Md,
    /// JSON lines (.jsonl), one row per line; the datanet names the text field.
    Jsonl,
    /// Comma-separated values (.csv) with a header; the datanet names the text column.
    Csv,
}

impl FormatName {
    /// The format a file's extension names.
    fn of_file(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match extension.as_str() {
            "txt" | "text" => Ok(Self::Txt),
            "md" | "markdown" => Ok(Self::Md),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            "csv" => Ok(Self::Csv),
            "" => bail!(
                "cannot tell the format of {} without an extension: pass --format txt, md, jsonl or csv",
                path.display()
            ),
            other => bail!(
                "unknown format .{other} of {}: a contribution is txt, md, jsonl or csv",
                path.display()
            ),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Txt => "txt",
            Self::Md => "md",
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }

    fn format(self) -> Format {
        match self {
            Self::Txt => Format::Text,
            Self::Md => Format::Markdown,
            Self::Jsonl => Format::Jsonl,
            Self::Csv => Format::Csv,
        }
    }
}

/// Who may contribute to a datanet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyName {
    /// Anyone; contributions are accepted at once.
    Open,
    /// Anyone; the owner or a curator approves or rejects each one.
    OwnerApproval,
    /// Only accounts on the allow-list; accepted at once.
    AllowList,
}

impl PolicyName {
    fn policy(self) -> Policy {
        match self {
            Self::Open => Policy::Open,
            Self::OwnerApproval => Policy::OwnerApproval,
            Self::AllowList => Policy::AllowList,
        }
    }
}

/// How an index splits text into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TokenizerName {
    /// One token per byte of UTF-8.
    Byte,
    /// GPT-2's byte-level BPE.
    Gpt2,
}

impl TokenizerName {
    fn name(self) -> &'static str {
        match self {
            Self::Byte => "byte",
            Self::Gpt2 => "gpt2",
        }
    }
}

/// Flags of `openledger datanet create`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("terms").required(true).args(["licence", "custom_terms"]))]
pub(crate) struct CreateArgs {
    /// The datanet's name.
    #[arg(long = "name")]
    name: String,
    /// A one-line summary.
    #[arg(long = "summary", default_value = "")]
    summary: String,
    /// A Markdown file describing the datanet.
    #[arg(long = "description-file", value_name = "FILE", conflicts_with = "description")]
    description_file: Option<PathBuf>,
    /// A Markdown description, inline.
    #[arg(long = "description", default_value = "")]
    description: String,
    /// A tag (repeat for several).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// The licence of the contributions, an SPDX expression ("CC-BY-4.0").
    #[arg(long = "licence", visible_alias = "license", value_name = "SPDX")]
    licence: Option<String>,
    /// A file of custom licence terms; the chain keeps its SHA-256.
    #[arg(long = "custom-terms", value_name = "FILE")]
    custom_terms: Option<PathBuf>,
    /// Who may contribute.
    #[arg(long = "policy", value_enum, default_value_t = PolicyName::Open)]
    policy: PolicyName,
    /// Largest contribution in bytes [default: the chain's, 5 MB].
    #[arg(long = "max-size", value_name = "BYTES")]
    max_size: Option<u64>,
    /// An accepted format (repeat for several) [default: txt and md].
    #[arg(long = "format", value_enum, value_name = "FORMAT")]
    formats: Vec<FormatName>,
    /// The JSON field holding a .jsonl row's text [default: text].
    #[arg(long = "jsonl-field", value_name = "FIELD")]
    jsonl_field: Option<String>,
    /// The column holding a .csv row's text [default: text].
    #[arg(long = "csv-column", value_name = "COLUMN")]
    csv_column: Option<String>,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `openledger datanet contributions`.
#[derive(Debug, Args)]
pub(crate) struct ContributionsArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// Print the node's JSON instead of a table.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `openledger datanet contribute`.
#[derive(Debug, Args)]
pub(crate) struct ContributeArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The file to contribute.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Its format [default: from the file's extension].
    #[arg(long = "format", value_enum, value_name = "FORMAT")]
    format: Option<FormatName>,
    /// Its licence, an SPDX expression [default: the datanet's].
    #[arg(long = "licence", visible_alias = "license", value_name = "SPDX", default_value = "")]
    licence: String,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of the commands on one contribution (`approve`, `withdraw`).
#[derive(Debug, Args)]
pub(crate) struct ContributionArgs {
    /// The contribution.
    #[arg(value_name = "CONTRIBUTION")]
    contribution: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet reject`.
#[derive(Debug, Args)]
pub(crate) struct RejectArgs {
    /// The contribution.
    #[arg(value_name = "CONTRIBUTION")]
    contribution: u64,
    /// Reject it as spam: its deposit goes to the treasury instead of back.
    #[arg(long = "spam")]
    spam: bool,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of the commands naming an account of a datanet (`curator`,
/// `allow`).
#[derive(Debug, Args)]
pub(crate) struct MemberArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The account.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    account: Address,
    /// Remove the account instead of adding it.
    #[arg(long = "remove")]
    remove: bool,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet transfer-ownership`.
#[derive(Debug, Args)]
pub(crate) struct OwnershipArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The new owner.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    new_owner: Address,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet version`.
#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The version number (from 1).
    #[arg(value_name = "VERSION")]
    number: u32,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `openledger datanet index`. A signer is needed only to record
/// the index hash on chain.
#[derive(Debug, Args)]
#[command(mut_group("SignerArgs", |group| group.required(false)))]
pub(crate) struct IndexArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The version number (from 1).
    #[arg(value_name = "VERSION")]
    number: u32,
    /// The tokenizer [default: the one the chain records for the version, else byte].
    #[arg(long = "tokenizer", value_enum)]
    tokenizer: Option<TokenizerName>,
    /// Build the index again even if the node has it.
    #[arg(long = "rebuild")]
    rebuild: bool,
    /// Only build the index; do not record its hash on chain (needs no signer).
    #[arg(long = "no-record")]
    no_record: bool,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet reputation`.
#[derive(Debug, Args)]
pub(crate) struct ReputationArgs {
    /// The account.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    account: Address,
    /// Only this datanet [default: every datanet the account has a record in].
    #[arg(long = "datanet", value_name = "DATANET")]
    datanet: Option<u64>,
    /// Print the node's JSON instead of a table.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `openledger datanet report-duplicate`.
#[derive(Debug, Args)]
pub(crate) struct ReportDuplicateArgs {
    /// The accepted contribution that copies.
    #[arg(value_name = "CONTRIBUTION")]
    contribution: u64,
    /// The earlier accepted contribution, of another contributor, it nearly duplicates.
    #[arg(value_name = "ORIGINAL")]
    original: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger datanet report-poisoning`.
#[derive(Debug, Args)]
pub(crate) struct ReportPoisoningArgs {
    /// The datanet.
    #[arg(value_name = "DATANET")]
    datanet: u64,
    /// The account reported.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    account: Address,
    /// The hash of the evidence, kept off-chain: 0x and 64 hex digits.
    #[arg(long = "evidence", value_name = "HASH", value_parser = parse_evidence)]
    evidence: B256,
    /// What the account did, in at most 280 bytes.
    #[arg(long = "reason", value_name = "TEXT")]
    reason: String,
    #[command(flatten)]
    send: SendArgs,
}

/// Longest reason of a poisoning report, in bytes (as the contract checks).
const MAX_REASON: usize = 280;

/// Parses the hash of a report's evidence: `0x` and 64 hex digits, not zero.
fn parse_evidence(text: &str) -> Result<B256, String> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    let valid = digits
        .is_some_and(|digits| digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()));
    if !valid {
        return Err("not a hash: expected 0x followed by 64 hex digits".to_string());
    }
    let hash: B256 = text.parse().map_err(|error| format!("not a hash: {error}"))?;
    if hash == B256::ZERO {
        return Err("the evidence hash cannot be zero".to_string());
    }
    Ok(hash)
}

/// Runs a `datanet` subcommand.
pub(crate) async fn run(command: DatanetCommand) -> Result<()> {
    match command {
        DatanetCommand::Create(args) => create(*args).await,
        DatanetCommand::Show(args) => show(args).await,
        DatanetCommand::Contributions(args) => contributions(args).await,
        DatanetCommand::Contribute(args) => contribute(*args).await,
        DatanetCommand::Approve(args) => approve(*args).await,
        DatanetCommand::Reject(args) => reject(*args).await,
        DatanetCommand::Withdraw(args) => withdraw(*args).await,
        DatanetCommand::Curator(args) => curator(*args).await,
        DatanetCommand::Allow(args) => allow(*args).await,
        DatanetCommand::TransferOwnership(args) => transfer_ownership(*args).await,
        DatanetCommand::Publish(args) => publish(*args).await,
        DatanetCommand::Version(args) => version(args).await,
        DatanetCommand::Index(args) => index(*args).await,
        DatanetCommand::Reputation(args) => reputation(args).await,
        DatanetCommand::ReportDuplicate(args) => report_duplicate(*args).await,
        DatanetCommand::ReportPoisoning(args) => report_poisoning(*args).await,
    }
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// Calls an `ol_` read; the node's refusal becomes its own sentence.
async fn read<T: DeserializeOwned>(
    node: &NodeClient,
    method: &'static str,
    params: Vec<Value>,
) -> Result<T> {
    node.call(method, params).await.map_err(|error| match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => {
            eyre!("the node at {url} does not support {method}: is it an OpenLedger node?")
        }
        other => other.into(),
    })
}

/// A datanet, or an error saying it does not exist.
async fn fetch_datanet(node: &NodeClient, id: u64) -> Result<DatanetJson> {
    let datanet: Option<DatanetJson> = read(node, "ol_getDatanet", vec![json!(id)]).await?;
    datanet.ok_or_else(|| eyre!("datanet {id} does not exist"))
}

/// A published version, or an error saying it does not exist.
async fn fetch_version(node: &NodeClient, datanet: u64, number: u32) -> Result<VersionJson> {
    let params = vec![json!(datanet), json!(number)];
    let version: Option<VersionJson> = read(node, "ol_getDatanetVersion", params).await?;
    match version {
        Some(version) => Ok(version),
        None => {
            fetch_datanet(node, datanet).await?;
            bail!("datanet {datanet} has no published version {number}")
        }
    }
}

/// All contributions of a datanet, page by page.
async fn fetch_contributions(node: &NodeClient, datanet: u64) -> Result<Vec<ContributionJson>> {
    let mut all = Vec::new();
    loop {
        let page = json!({ "offset": all.len() as u64, "limit": CONTRIBUTIONS_PAGE });
        let batch: Vec<ContributionJson> =
            read(node, "ol_getContributions", vec![json!(datanet), page]).await?;
        let last = (batch.len() as u64) < CONTRIBUTIONS_PAGE;
        all.extend(batch);
        if last {
            return Ok(all);
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn show(args: ShowArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let datanet = fetch_datanet(&node, args.datanet).await?;
    if args.json {
        return print_json(&datanet);
    }
    print!("{}", describe_datanet(&datanet));
    Ok(())
}

/// A datanet as aligned lines.
fn describe_datanet(datanet: &DatanetJson) -> String {
    let mut text = String::new();
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(text, "{label:<14} {value}");
    };
    line("datanet", &datanet.id);
    line("name", &datanet.name);
    if !datanet.summary.is_empty() {
        line("summary", &datanet.summary);
    }
    line("owner", &datanet.owner);
    if datanet.custom_terms_hash == B256::ZERO {
        line("licence", &datanet.licence);
    } else {
        line("licence", &format!("custom terms, sha256 {}", datanet.custom_terms_hash));
    }
    line("policy", &datanet.policy);
    line("formats", &datanet.formats.join(", "));
    if datanet.formats.iter().any(|format| format == "jsonl") {
        line("jsonl field", &or_text(&datanet.jsonl_field));
    }
    if datanet.formats.iter().any(|format| format == "csv") {
        line("csv column", &or_text(&datanet.csv_column));
    }
    let max = datanet.max_submission_bytes.to::<u64>();
    let max = if max == 0 {
        format!("{DEFAULT_MAX_SUBMISSION} bytes (the chain's default)")
    } else {
        format!("{max} bytes")
    };
    line("max size", &max);
    if !datanet.tags.is_empty() {
        line("tags", &datanet.tags.join(", "));
    }
    line(
        "contributions",
        &format!("{} submitted, {} accepted", datanet.contribution_count, datanet.accepted_count),
    );
    line("versions", &datanet.version_count);
    line("created in", &format!("block {}", datanet.created_at_block));
    if !datanet.description.is_empty() {
        let _ = writeln!(text, "description");
        for description_line in datanet.description.lines() {
            let _ = writeln!(text, "  {description_line}");
        }
    }
    text
}

/// A field or column name, where empty means `text`.
fn or_text(name: &str) -> String {
    if name.is_empty() { "text".to_string() } else { name.to_string() }
}

async fn contributions(args: ContributionsArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let contributions = fetch_contributions(&node, args.datanet).await?;
    if args.json {
        return print_json(&contributions);
    }
    if contributions.is_empty() {
        println!("datanet {} has no contributions yet", args.datanet);
        return Ok(());
    }
    print!("{}", contributions_table(&contributions));
    Ok(())
}

/// Contributions as a table, one per line.
fn contributions_table(contributions: &[ContributionJson]) -> String {
    let header = ["id", "contributor", "status", "size", "format", "near-duplicate-of"];
    let rows: Vec<[String; 6]> = contributions
        .iter()
        .map(|c| {
            [
                c.id.to_string(),
                c.contributor.to_string(),
                c.status.clone(),
                c.size.to_string(),
                c.format.clone(),
                c.near_duplicate_of.map_or_else(|| "-".to_string(), |id| id.to_string()),
            ]
        })
        .collect();
    table(&header, &rows)
}

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header = header.map(str::to_string);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> =
            row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    }
    text
}

async fn version(args: VersionArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let version = fetch_version(&node, args.datanet, args.number).await?;
    if args.json {
        return print_json(&version);
    }
    print!("{}", describe_version(&version));
    Ok(())
}

/// A version as aligned lines.
fn describe_version(version: &VersionJson) -> String {
    let members: Vec<String> = version.contributions.iter().map(ToString::to_string).collect();
    let index = match (&version.index_hash, &version.tokenizer) {
        (Some(hash), Some(tokenizer)) => format!("{hash} ({tokenizer} tokenizer)"),
        (Some(hash), None) => hash.to_string(),
        _ => format!(
            "none recorded (build one with `openledger datanet index {} {}`)",
            version.datanet_id, version.version
        ),
    };
    format!(
        "datanet        {}\nversion        {}\nroot           {}\ncontributions  {} ({})\npublished in   block {}\nindex          {index}\n",
        version.datanet_id,
        version.version,
        version.root,
        members.len(),
        if members.is_empty() { "none".to_string() } else { members.join(", ") },
        version.published_at_block,
    )
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// The events of type `E` the datanets contract emitted in `receipt`.
fn events<E: SolEvent>(receipt: &TransactionReceipt) -> Vec<E> {
    crate::send::contract_events(receipt, DATANETS)
}

/// The first event of type `E` in `receipt`, which the call must emit.
fn event<E: SolEvent>(receipt: &TransactionReceipt) -> Result<E> {
    crate::send::contract_event(receipt, DATANETS)
}

/// Sends `call` to the datanets contract.
async fn send(send: &SendArgs, call: impl SolCall) -> Result<TransactionReceipt> {
    send.call(DATANETS, Bytes::from(call.abi_encode())).await
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).wrap_err_with(|| format!("cannot read {what} {}", path.display()))
}

async fn create(args: CreateArgs) -> Result<()> {
    let description = match &args.description_file {
        Some(path) => String::from_utf8(read_file(path, "the description file")?)
            .map_err(|_| eyre!("the description file {} is not UTF-8 text", path.display()))?,
        None => args.description.clone(),
    };
    let custom_terms_hash = match &args.custom_terms {
        Some(path) => sha256(&read_file(path, "the custom terms file")?),
        None => B256::ZERO,
    };
    let formats = if args.formats.is_empty() {
        vec![Format::Text, Format::Markdown]
    } else {
        args.formats.iter().map(|format| format.format()).collect()
    };
    let config = IDatanets::DatanetConfig {
        name: args.name.clone(),
        summary: args.summary.clone(),
        description,
        tags: args.tags.clone(),
        licence: args.licence.clone().unwrap_or_default(),
        customTermsHash: custom_terms_hash,
        policy: args.policy.policy(),
        maxSubmissionBytes: args.max_size.unwrap_or(0),
        formats,
        jsonlField: args.jsonl_field.clone().unwrap_or_default(),
        csvColumn: args.csv_column.clone().unwrap_or_default(),
    };
    let receipt = send(&args.send, IDatanets::createDatanetCall { config }).await?;
    let created: IDatanets::DatanetCreated = event(&receipt)?;
    println!("datanet        {}", created.datanetId);
    println!("name           {}", created.name);
    println!("owner          {}", created.owner);
    if custom_terms_hash != B256::ZERO {
        println!("terms          sha256 {custom_terms_hash} (the chain keeps only the hash)");
    }
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn contribute(args: ContributeArgs) -> Result<()> {
    // Local checks first: nothing is uploaded or sent for a bad file.
    let format = match args.format {
        Some(format) => format,
        None => FormatName::of_file(&args.file)?,
    };
    let bytes = read_file(&args.file, "the contribution")?;
    if bytes.is_empty() {
        bail!("{} is empty; nothing was sent", args.file.display());
    }
    let signer = args.send.signer.signer(&args.send.keystore)?;
    let node = args.send.rpc.connect()?;
    let datanet = fetch_datanet(&node, args.datanet).await?;
    check_fits(&datanet, &args.file, format, bytes.len() as u64)?;

    let check = ContentCheck {
        format: format.name(),
        jsonl_field: or_text(&datanet.jsonl_field),
        csv_column: or_text(&datanet.csv_column),
    };
    let hash = upload(&node, &bytes, &check)
        .await
        .wrap_err_with(|| format!("{} was not uploaded", args.file.display()))?;
    let size = bytes.len() as u64;
    let deposit: U256 = read(&node, "ol_depositFor", vec![json!(size)]).await?;
    println!("uploaded       {hash} ({size} bytes, {})", format.name());
    println!("deposit        {}", format_open(deposit));

    let call = IDatanets::contributeCall {
        datanetId: args.datanet,
        contentHash: hash,
        size,
        format: format.format(),
        licence: args.licence.clone(),
    };
    let input = Bytes::from(call.abi_encode());
    let receipt = args.send.call_with(&node, &signer, DATANETS, input).await?;
    let submitted: IDatanets::ContributionSubmitted = event(&receipt)?;
    let id = submitted.contributionId;
    let accepted = events::<IDatanets::ContributionAccepted>(&receipt)
        .iter()
        .any(|accepted| accepted.contributionId == id);
    println!("contribution   {id}");
    println!("datanet        {}", submitted.datanetId);
    println!("status         {}", if accepted { "accepted" } else { "pending" });
    match submitted.nearDuplicateOf {
        0 => println!("near-duplicate no"),
        earlier => println!(
            "near-duplicate of contribution {earlier} (spans that one already covers earn nothing)"
        ),
    }
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

/// Refuses, before anything is uploaded, a file the datanet cannot take.
fn check_fits(datanet: &DatanetJson, file: &Path, format: FormatName, size: u64) -> Result<()> {
    let id = datanet.id;
    if !datanet.formats.iter().any(|accepted| accepted == format.name()) {
        bail!(
            "datanet {id} does not accept {} contributions (it accepts {}); nothing was sent",
            format.name(),
            datanet.formats.join(", ")
        );
    }
    let max = match datanet.max_submission_bytes.to::<u64>() {
        0 => DEFAULT_MAX_SUBMISSION,
        max => max,
    };
    if size > max {
        bail!(
            "{} is {size} bytes, over datanet {id}'s limit of {max} bytes; nothing was sent",
            file.display()
        );
    }
    Ok(())
}

async fn approve(args: ContributionArgs) -> Result<()> {
    let call = IDatanets::approveCall { contributionId: args.contribution };
    let receipt = send(&args.send, call).await?;
    let accepted: IDatanets::ContributionAccepted = event(&receipt)?;
    println!(
        "contribution {} accepted into datanet {} (accepted #{}); its deposit is refunded",
        accepted.contributionId, accepted.datanetId, accepted.acceptedSeq
    );
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn reject(args: RejectArgs) -> Result<()> {
    let call = IDatanets::rejectCall { contributionId: args.contribution, spam: args.spam };
    let receipt = send(&args.send, call).await?;
    let rejected: IDatanets::ContributionRejected = event(&receipt)?;
    let deposit = if rejected.spam {
        "rejected as spam; its deposit goes to the treasury"
    } else {
        "rejected; its deposit is refunded"
    };
    println!(
        "contribution {} of datanet {} {deposit}",
        rejected.contributionId, rejected.datanetId
    );
    print!("{}", describe_penalties(&receipt));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn withdraw(args: ContributionArgs) -> Result<()> {
    let call = IDatanets::withdrawCall { contributionId: args.contribution };
    let receipt = send(&args.send, call).await?;
    let withdrawn: IDatanets::ContributionWithdrawn = event(&receipt)?;
    println!(
        "contribution {} withdrawn from datanet {}: it is left out of later versions and of attribution",
        withdrawn.contributionId, withdrawn.datanetId
    );
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn curator(args: MemberArgs) -> Result<()> {
    let call = IDatanets::setCuratorCall {
        datanetId: args.datanet,
        account: args.account,
        enabled: !args.remove,
    };
    let receipt = send(&args.send, call).await?;
    let set: IDatanets::CuratorSet = event(&receipt)?;
    let now = if set.enabled { "is now" } else { "is no longer" };
    println!("{} {now} a curator of datanet {}", set.account, set.datanetId);
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn allow(args: MemberArgs) -> Result<()> {
    let call = IDatanets::setAllowedCall {
        datanetId: args.datanet,
        account: args.account,
        allowed: !args.remove,
    };
    let receipt = send(&args.send, call).await?;
    let set: IDatanets::AllowListSet = event(&receipt)?;
    let now = if set.allowed { "is now" } else { "is no longer" };
    println!("{} {now} on the allow-list of datanet {}", set.account, set.datanetId);
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn transfer_ownership(args: OwnershipArgs) -> Result<()> {
    let call =
        IDatanets::transferOwnershipCall { datanetId: args.datanet, newOwner: args.new_owner };
    let receipt = send(&args.send, call).await?;
    let moved: IDatanets::OwnershipTransferred = event(&receipt)?;
    println!(
        "datanet {} now belongs to {} (was {})",
        moved.datanetId, moved.newOwner, moved.previousOwner
    );
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn publish(args: PublishArgs) -> Result<()> {
    let receipt =
        send(&args.send, IDatanets::publishVersionCall { datanetId: args.datanet }).await?;
    let published: IDatanets::VersionPublished = event(&receipt)?;
    println!("datanet        {}", published.datanetId);
    println!("version        {}", published.version);
    println!("root           {}", published.root);
    println!("contributions  {}", published.contributionCount);
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

// ---------------------------------------------------------------------------
// Reputation
// ---------------------------------------------------------------------------

async fn reputation(args: ReputationArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let mut params = vec![json!(args.account)];
    if let Some(datanet) = args.datanet {
        params.push(json!(datanet));
    }
    let reputation: ReputationJson = read(&node, "ol_getReputation", params).await?;
    if args.json {
        return print_json(&reputation);
    }
    print!("{}", describe_reputation(&reputation));
    Ok(())
}

/// A reputation as aligned lines and a table.
fn describe_reputation(reputation: &ReputationJson) -> String {
    let mut text = format!(
        "account        {}\nthreshold      {} (rewards in a datanet are cut at or above it)\n",
        reputation.account, reputation.threshold
    );
    if reputation.datanets.is_empty() {
        text.push_str("penalties      none in any datanet\n");
        return text;
    }
    let header = ["datanet", "score", "rewards", "spam", "near-duplicates", "poisonings"];
    let rows: Vec<[String; 6]> = reputation
        .datanets
        .iter()
        .map(|d| {
            [
                d.datanet_id.to_string(),
                d.score.to_string(),
                if d.rewards_cut { "cut" } else { "earning" }.to_string(),
                d.spam_rejections.to_string(),
                d.near_duplicates.to_string(),
                d.confirmed_poisonings.to_string(),
            ]
        })
        .collect();
    text.push_str(&table(&header, &rows));
    text
}

/// The penalty lines of a receipt's `PenaltyRaised` events.
fn describe_penalties(receipt: &TransactionReceipt) -> String {
    let mut text = String::new();
    for raised in events::<IDatanets::PenaltyRaised>(receipt) {
        let _ = writeln!(
            text,
            "penalty        +{} to {} in datanet {} (score now {})",
            raised.amount, raised.account, raised.datanetId, raised.newScore
        );
    }
    text
}

async fn report_duplicate(args: ReportDuplicateArgs) -> Result<()> {
    if args.contribution == args.original {
        bail!(
            "contribution {} cannot nearly duplicate itself; nothing was sent",
            args.contribution
        );
    }
    let call = IDatanets::reportNearDuplicateCall {
        contributionId: args.contribution,
        originalId: args.original,
    };
    let receipt = send(&args.send, call).await?;
    let proven: IDatanets::NearDuplicateProven = event(&receipt)?;
    println!(
        "contribution {} of datanet {} is proven a near-duplicate of contribution {} \
         ({} of 64 MinHash slots agree)",
        proven.contributionId, proven.datanetId, proven.originalId, proven.agreeingSlots
    );
    print!("{}", describe_penalties(&receipt));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn report_poisoning(args: ReportPoisoningArgs) -> Result<()> {
    if args.reason.trim().is_empty() {
        bail!("a poisoning report needs a reason (--reason); nothing was sent");
    }
    if args.reason.len() > MAX_REASON {
        bail!(
            "the reason is {} bytes; at most {MAX_REASON} allowed; nothing was sent",
            args.reason.len()
        );
    }
    let call = IDatanets::reportPoisoningCall {
        datanetId: args.datanet,
        account: args.account,
        evidenceHash: args.evidence,
        reason: args.reason.clone(),
    };
    let receipt = send(&args.send, call).await?;
    let filed: IDatanets::PoisoningReported = event(&receipt)?;
    println!("report         {}", filed.reportId);
    println!("datanet        {}", filed.datanetId);
    println!("account        {}", filed.account);
    println!("evidence       {}", filed.evidenceHash);
    println!("status         open (governance confirms or dismisses it)");
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

// ---------------------------------------------------------------------------
// Attribution index
// ---------------------------------------------------------------------------

/// Where a node's index build stands (`ol_buildIndex`, `ol_indexStatus`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexStatus {
    /// `building`, `ready`, `failed` or `absent`.
    state: String,
    phase: Option<String>,
    done: u64,
    total: u64,
    index_hash: Option<B256>,
    tokens: Option<u64>,
    documents: Option<u64>,
    error: Option<String>,
}

async fn index(args: IndexArgs) -> Result<()> {
    // A signer problem should surface before a long build, not after it.
    let signer = if args.no_record {
        None
    } else {
        let signer =
            args.send.signer.signer(&args.send.keystore).wrap_err(
                "recording the index hash on chain needs a signer (or pass --no-record)",
            )?;
        Some(signer)
    };
    let node = args.send.rpc.connect()?;
    let recorded = fetch_version(&node, args.datanet, args.number).await?;
    let tokenizer = match (args.tokenizer, &recorded.tokenizer) {
        (Some(requested), _) => requested.name().to_string(),
        (None, Some(recorded)) => recorded.clone(),
        (None, None) => TokenizerName::Byte.name().to_string(),
    };
    let options = json!({ "tokenizer": tokenizer, "rebuild": args.rebuild });
    let place = vec![json!(args.datanet), json!(args.number)];
    let params = [place.clone(), vec![options]].concat();
    let mut status: IndexStatus = read(&node, "ol_buildIndex", params).await?;
    let progress = progress_bar();
    let status_params = [place, vec![json!({ "tokenizer": tokenizer })]].concat();
    while status.state == "building" {
        progress.set_message(status.phase.clone().unwrap_or_default());
        progress.set_length(status.total);
        progress.set_position(status.done);
        tokio::time::sleep(INDEX_POLL_INTERVAL).await;
        status = read(&node, "ol_indexStatus", status_params.clone()).await?;
    }
    progress.finish_and_clear();
    let hash = match (status.state.as_str(), status.index_hash) {
        ("ready", Some(hash)) => hash,
        ("failed", _) => bail!(
            "the node could not build the index of datanet {} version {}: {}",
            args.datanet,
            args.number,
            status.error.unwrap_or_else(|| "no reason given".to_string())
        ),
        (state, _) => bail!(
            "the node reports the index of datanet {} version {} as {state}, not ready",
            args.datanet,
            args.number
        ),
    };
    println!("datanet        {}", args.datanet);
    println!("version        {}", args.number);
    println!("tokenizer      {tokenizer}");
    println!("index hash     {hash}");
    println!("tokens         {}", status.tokens.unwrap_or_default());
    println!("documents      {}", status.documents.unwrap_or_default());
    match recorded.index_hash {
        Some(on_chain) if on_chain == hash => println!("on chain       already recorded"),
        Some(on_chain) => bail!(
            "the chain records index {on_chain} for datanet {} version {}, but this node built {hash}",
            args.datanet,
            args.number
        ),
        None => match signer {
            None => println!("on chain       not recorded (--no-record)"),
            Some(signer) => {
                let call = IDatanets::recordIndexCall {
                    datanetId: args.datanet,
                    version: args.number,
                    indexHash: hash,
                    tokenizer: tokenizer.clone(),
                };
                let input = Bytes::from(call.abi_encode());
                let receipt = args.send.call_with(&node, &signer, DATANETS, input).await?;
                event::<IDatanets::IndexRecorded>(&receipt)?;
                println!("on chain       recorded");
                print!("{}", describe_receipt(&receipt));
            }
        },
    }
    Ok(())
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:<13} [{bar:32}] {pos}/{len} ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U64;

    fn datanet(formats: &[&str], max: u64) -> DatanetJson {
        DatanetJson {
            id: U64::from(7),
            owner: Address::repeat_byte(1),
            name: "Poems".into(),
            summary: String::new(),
            description: "# Poems\nShort ones.".into(),
            tags: vec!["poetry".into()],
            licence: "CC-BY-4.0".into(),
            custom_terms_hash: B256::ZERO,
            policy: "owner-approval".into(),
            max_submission_bytes: U64::from(max),
            formats: formats.iter().map(ToString::to_string).collect(),
            jsonl_field: String::new(),
            csv_column: String::new(),
            contribution_count: U64::from(3),
            accepted_count: U64::from(1),
            version_count: U64::from(0),
            created_at_block: U64::from(2),
        }
    }

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(FormatName::of_file(Path::new("a/b.TXT")).unwrap(), FormatName::Txt);
        assert_eq!(FormatName::of_file(Path::new("notes.md")).unwrap(), FormatName::Md);
        assert_eq!(FormatName::of_file(Path::new("rows.ndjson")).unwrap(), FormatName::Jsonl);
        let pdf = FormatName::of_file(Path::new("paper.pdf")).unwrap_err().to_string();
        assert!(pdf.contains("unknown format .pdf"), "{pdf}");
        let bare = FormatName::of_file(Path::new("README")).unwrap_err().to_string();
        assert!(bare.contains("--format"), "{bare}");
    }

    #[test]
    fn files_the_datanet_cannot_take_are_refused_locally() {
        let file = Path::new("poem.txt");
        assert!(check_fits(&datanet(&["txt"], 0), file, FormatName::Txt, 5_000_000).is_ok());
        let big = check_fits(&datanet(&["txt"], 0), file, FormatName::Txt, 5_000_001).unwrap_err();
        assert!(big.to_string().contains("over datanet 7's limit of 5000000 bytes"), "{big}");
        let small = check_fits(&datanet(&["txt"], 10), file, FormatName::Txt, 11).unwrap_err();
        assert!(small.to_string().contains("limit of 10 bytes"), "{small}");
        let format = check_fits(&datanet(&["txt", "md"], 0), file, FormatName::Csv, 1).unwrap_err();
        assert!(
            format.to_string().contains("does not accept csv contributions (it accepts txt, md)")
        );
    }

    #[test]
    fn a_datanet_reads_as_aligned_lines() {
        let text = describe_datanet(&datanet(&["txt", "jsonl"], 0));
        assert!(text.contains("name           Poems\n"), "{text}");
        assert!(text.contains("max size       5000000 bytes (the chain's default)\n"), "{text}");
        assert!(text.contains("jsonl field    text\n"), "{text}");
        assert!(text.contains("contributions  3 submitted, 1 accepted\n"), "{text}");
        assert!(text.contains("description\n  # Poems\n  Short ones.\n"), "{text}");
    }

    #[test]
    fn evidence_is_a_nonzero_hash() {
        let hash = format!("0x{}", "ab".repeat(32));
        assert_eq!(parse_evidence(&hash).unwrap(), B256::repeat_byte(0xab));
        for bad in ["", "0x12", "ab".repeat(32).as_str(), &format!("0x{}", "zz".repeat(32))] {
            assert!(parse_evidence(bad).unwrap_err().contains("0x followed by 64 hex"), "{bad}");
        }
        let zero = parse_evidence(&format!("0x{}", "0".repeat(64))).unwrap_err();
        assert!(zero.contains("cannot be zero"), "{zero}");
    }

    #[test]
    fn a_reputation_reads_as_a_table() {
        use ol_node::rpc::datanet::DatanetPenaltyJson;
        let clean = ReputationJson {
            account: Address::repeat_byte(1),
            threshold: U64::from(50),
            datanets: vec![],
        };
        assert!(describe_reputation(&clean).contains("penalties      none in any datanet\n"));
        let penalty = |id: u64, score: u64, cut: bool| DatanetPenaltyJson {
            datanet_id: U64::from(id),
            score: U64::from(score),
            rewards_cut: cut,
            threshold: U64::from(50),
            spam_rejections: U64::from(1),
            near_duplicates: U64::from(0),
            confirmed_poisonings: U64::from(u64::from(cut)),
        };
        let marked = ReputationJson {
            datanets: vec![penalty(1, 10, false), penalty(12, 60, true)],
            ..clean
        };
        let text = describe_reputation(&marked);
        assert!(text.contains("threshold      50 (rewards"), "{text}");
        assert!(text.contains("datanet  score  rewards  spam"), "{text}");
        assert!(text.contains("\n1        10     earning  1     0                0\n"), "{text}");
        assert!(text.contains("\n12       60     cut      1     0                1\n"), "{text}");
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = [["1".to_string(), "alice".to_string()], ["12".to_string(), "bob".to_string()]];
        assert_eq!(table(&["id", "who"], &rows), "id  who\n1   alice\n12  bob\n");
    }
}
