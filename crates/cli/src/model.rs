//! `openledger model`: register models trained from datanet versions, show
//! them, change their prices and providers, retire them.
//!
//! Every write is an ordinary signed transaction to the model registry
//! (`contracts/IModels.sol`) at [`MODELS`], sent with the same signer and fee
//! flags as `transfer` ([`SendArgs`]); the node first runs it with
//! `eth_estimateGas`, so a call the registry would refuse (a datanet version
//! that was never published, a stranger retiring someone's model) is
//! reported with the registry's reason and nothing is sent. What the
//! transaction did (the new model's id, the deployment fee paid) is read back
//! from the events in its receipt. Reads use the node's `ol_getModel`.
//!
//! Hashes the chain records (weights, training configuration) are computed
//! here from local files, streaming, so multi-gigabyte weights are never
//! held in memory; a hash may also be given directly.

use crate::{
    arguments::{format_open, parse_address, parse_amount},
    rpc::{NodeClient, RpcArgs, RpcError},
    send::{SendArgs, describe_receipt},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{Result, WrapErr, eyre};
use ol_ledger::models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig};
use ol_node::rpc::model::ModelJson;
use ol_primitives::Amount;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::{fmt::Write as _, io::Read, path::Path, str::FromStr};

#[path = "model_train.rs"]
mod train;

/// The `model` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Register a model owned by the signing account (pays the deployment fee); prints its id.
    Register(Box<RegisterArgs>),
    /// Show a model: owner, provenance, prices, providers, status.
    Show(ShowArgs),
    /// Change a model's prices per 1,000 tokens (owner only).
    SetPrices(Box<PricesArgs>),
    /// Replace the accounts allowed to serve a model (owner only; none empties the list).
    SetProviders(Box<ProvidersArgs>),
    /// Retire a model for good (owner only): it can no longer be served or changed.
    Retire(Box<RetireArgs>),
    /// Train a model (or a LoRA adapter over --base) on a datanet version; optionally register it.
    Train(Box<train::TrainArgs>),
}

/// A datanet version, as users write it: `DATANET:VERSION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrainedOn {
    datanet: u64,
    version: u32,
}

impl FromStr for TrainedOn {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expected = "expected DATANET:VERSION, such as 3:1 (datanet 3, version 1)";
        let (datanet, version) =
            text.split_once(':').ok_or_else(|| format!("no ':' in it; {expected}"))?;
        let datanet = datanet
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("{datanet:?} is not a datanet id; {expected}"))?;
        let version = version
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("{version:?} is not a version number; {expected}"))?;
        if version == 0 {
            return Err(format!("versions are numbered from 1; {expected}"));
        }
        Ok(Self { datanet, version })
    }
}

/// A file whose sha256 the chain records, or that hash itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HashSource {
    /// Hash this file.
    File(String),
    /// This hash.
    Hash(B256),
}

impl HashSource {
    /// The sha256 named: a file that exists is hashed, even if its name
    /// looks like a hash.
    fn resolve(&self, what: &str) -> Result<B256> {
        match self {
            Self::Hash(hash) => Ok(*hash),
            Self::File(path) => {
                sha256_file(Path::new(path)).wrap_err_with(|| format!("cannot hash {what} {path}"))
            }
        }
    }
}

impl FromStr for HashSource {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err("expected a file or a sha256 (64 hex digits)".to_string());
        }
        match parse_sha256(text) {
            Ok(hash) if !Path::new(text).exists() => Ok(Self::Hash(hash)),
            _ => Ok(Self::File(text.to_string())),
        }
    }
}

/// Parses a sha256: 64 hex digits, optionally after `0x`.
fn parse_sha256(text: &str) -> Result<B256, String> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    if digits.len() != 64 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(format!(
            "not a sha256: expected 64 hex digits, optionally after 0x, got {} characters",
            digits.chars().count()
        ));
    }
    B256::from_str(digits).map_err(|error| format!("not a sha256: {error}"))
}

/// The sha256 of a file, read in chunks.
fn sha256_file(path: &Path) -> Result<B256> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(B256::from(<[u8; 32]>::from(hasher.finalize())))
}

/// Flags of `openledger model register`.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The model's name.
    #[arg(long = "name")]
    name: String,
    /// The weights (safetensors): a file to hash, or its sha256.
    #[arg(long = "weights", value_name = "FILE_OR_SHA256")]
    weights: HashSource,
    /// A datanet version it was trained on (repeat for several).
    #[arg(long = "trained-on", value_name = "DATANET:VERSION", required = true)]
    trained_on: Vec<TrainedOn>,
    /// sha256 of the base model's weights [default: none, trained from scratch].
    #[arg(long = "base", value_name = "SHA256", value_parser = parse_sha256)]
    base: Option<B256>,
    /// The weights are a LoRA adapter over --base rather than a complete model.
    #[arg(long = "adapter", requires = "base")]
    adapter: bool,
    /// The training configuration: a file to hash, or its sha256 [default: none].
    #[arg(long = "training-config", value_name = "FILE_OR_SHA256")]
    training_config: Option<HashSource>,
    /// Price per 1,000 input tokens, in OPEN.
    #[arg(long = "input-price", value_name = "OPEN", value_parser = parse_amount, default_value = "0")]
    input_price: Amount,
    /// Price per 1,000 output tokens, in OPEN.
    #[arg(long = "output-price", value_name = "OPEN", value_parser = parse_amount, default_value = "0")]
    output_price: Amount,
    /// An account allowed to serve it (repeat for several).
    #[arg(long = "provider", value_name = "ADDRESS", value_parser = parse_address)]
    providers: Vec<Address>,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger model show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The model.
    #[arg(value_name = "MODEL")]
    model: u64,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `openledger model set-prices`.
#[derive(Debug, Args)]
pub(crate) struct PricesArgs {
    /// The model.
    #[arg(value_name = "MODEL")]
    model: u64,
    /// Price per 1,000 input tokens, in OPEN.
    #[arg(long = "input-price", value_name = "OPEN", value_parser = parse_amount)]
    input_price: Amount,
    /// Price per 1,000 output tokens, in OPEN.
    #[arg(long = "output-price", value_name = "OPEN", value_parser = parse_amount)]
    output_price: Amount,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger model set-providers`.
#[derive(Debug, Args)]
pub(crate) struct ProvidersArgs {
    /// The model.
    #[arg(value_name = "MODEL")]
    model: u64,
    /// An account allowed to serve it (repeat for several; none empties the list).
    #[arg(long = "provider", value_name = "ADDRESS", value_parser = parse_address)]
    providers: Vec<Address>,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `openledger model retire`.
#[derive(Debug, Args)]
pub(crate) struct RetireArgs {
    /// The model.
    #[arg(value_name = "MODEL")]
    model: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Runs a `model` subcommand.
pub(crate) async fn run(command: ModelCommand) -> Result<()> {
    match command {
        ModelCommand::Register(args) => register(*args).await,
        ModelCommand::Show(args) => show(args).await,
        ModelCommand::SetPrices(args) => set_prices(*args).await,
        ModelCommand::SetProviders(args) => set_providers(*args).await,
        ModelCommand::Retire(args) => retire(*args).await,
        ModelCommand::Train(args) => train::train(*args).await,
    }
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// A model, or an error saying it does not exist.
async fn fetch_model(node: &NodeClient, id: u64) -> Result<ModelJson> {
    let model: Option<ModelJson> =
        node.call("ol_getModel", vec![json!(id)]).await.map_err(|error| match error {
            RpcError::Node { message, .. } => eyre!("{message}"),
            RpcError::MethodNotFound { url, method } => eyre!(
                "the node at {url} does not support {method}: is it an OpenLedger node with the model registry?"
            ),
            other => other.into(),
        })?;
    model.ok_or_else(|| eyre!("model {id} does not exist"))
}

async fn show(args: ShowArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let model = fetch_model(&node, args.model).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&model)?);
        return Ok(());
    }
    print!("{}", describe_model(&model));
    Ok(())
}

/// A price per 1,000 tokens.
fn per_1k(wei: U256) -> String {
    format!("{} per 1,000 tokens", format_open(wei))
}

/// A model as aligned lines.
fn describe_model(model: &ModelJson) -> String {
    let mut text = String::new();
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(text, "{label:<15} {value}");
    };
    line("model", &model.id);
    line("name", &model.name);
    line("owner", &model.owner);
    line("kind", &model.kind);
    match model.base_model {
        Some(base) => line("base model", &base),
        None => line("base model", &"none (trained from scratch)"),
    }
    let trained_on: Vec<String> = model
        .trained_on
        .iter()
        .map(|t| format!("datanet {} version {}", t.datanet_id, t.version))
        .collect();
    line("trained on", &trained_on.join(", "));
    line("weights", &model.weights_hash);
    if model.training_config_hash == B256::ZERO {
        line("training config", &"none recorded");
    } else {
        line("training config", &model.training_config_hash);
    }
    line("input price", &per_1k(model.input_price_per_1k));
    line("output price", &per_1k(model.output_price_per_1k));
    let providers: Vec<String> = model.providers.iter().map(ToString::to_string).collect();
    line(
        "providers",
        &if providers.is_empty() { "none".to_string() } else { providers.join(", ") },
    );
    line("status", &if model.retired { "retired" } else { "live" });
    line("registered in", &format!("block {}", model.registered_at_block));
    text
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// The first event of type `E` the registry emitted in `receipt`, which the
/// call must emit.
fn event<E: SolEvent>(receipt: &TransactionReceipt) -> Result<E> {
    crate::send::contract_event(receipt, MODELS)
}

/// Sends `call` to the model registry.
async fn send(send: &SendArgs, call: impl SolCall) -> Result<TransactionReceipt> {
    send.call(MODELS, Bytes::from(call.abi_encode())).await
}

async fn register(args: RegisterArgs) -> Result<()> {
    // Local work first: a missing file fails before the node is asked.
    let weights = args.weights.resolve("the weights")?;
    let training_config = match &args.training_config {
        Some(source) => source.resolve("the training configuration")?,
        None => B256::ZERO,
    };
    let config = ModelConfig {
        name: args.name.clone(),
        baseModel: args.base.unwrap_or(B256::ZERO),
        trainedOn: args
            .trained_on
            .iter()
            .map(|t| DatanetVersion { datanetId: t.datanet, version: t.version })
            .collect(),
        trainingConfigHash: training_config,
        weightsHash: weights,
        kind: if args.adapter { Kind::Adapter } else { Kind::Full },
        inputPricePer1k: args.input_price.wei(),
        outputPricePer1k: args.output_price.wei(),
        providers: args.providers.clone(),
    };
    let receipt = send(&args.send, IModels::registerModelCall { config }).await?;
    let registered: IModels::ModelRegistered = event(&receipt)?;
    println!("model          {}", registered.modelId);
    println!("name           {}", args.name);
    println!("owner          {}", registered.owner);
    println!("weights        {}", registered.weightsHash);
    println!("deployment fee {}", format_open(registered.deploymentFee));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn set_prices(args: PricesArgs) -> Result<()> {
    let call = IModels::setPricesCall {
        modelId: args.model,
        inputPricePer1k: args.input_price.wei(),
        outputPricePer1k: args.output_price.wei(),
    };
    let receipt = send(&args.send, call).await?;
    let updated: IModels::PricesUpdated = event(&receipt)?;
    println!("model          {}", updated.modelId);
    println!("input price    {}", per_1k(updated.inputPricePer1k));
    println!("output price   {}", per_1k(updated.outputPricePer1k));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn set_providers(args: ProvidersArgs) -> Result<()> {
    let call = IModels::setProvidersCall { modelId: args.model, providers: args.providers };
    let receipt = send(&args.send, call).await?;
    let updated: IModels::ProvidersUpdated = event(&receipt)?;
    let providers: Vec<String> = updated.providers.iter().map(ToString::to_string).collect();
    println!("model          {}", updated.modelId);
    println!(
        "providers      {}",
        if providers.is_empty() { "none".to_string() } else { providers.join(", ") }
    );
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn retire(args: RetireArgs) -> Result<()> {
    let receipt = send(&args.send, IModels::retireCall { modelId: args.model }).await?;
    let retired: IModels::ModelRetired = event(&receipt)?;
    println!(
        "model {} retired for good: it can no longer be served, settled or changed",
        retired.modelId
    );
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U64;
    use ol_node::rpc::model::TrainedOnJson;

    #[test]
    fn trained_on_reads_datanet_colon_version() {
        assert_eq!("3:1".parse(), Ok(TrainedOn { datanet: 3, version: 1 }));
        assert!("3".parse::<TrainedOn>().unwrap_err().contains("no ':'"));
        assert!("x:1".parse::<TrainedOn>().unwrap_err().contains("not a datanet id"));
        assert!("3:-1".parse::<TrainedOn>().unwrap_err().contains("not a version number"));
        assert!("3:0".parse::<TrainedOn>().unwrap_err().contains("numbered from 1"));
    }

    #[test]
    fn hashes_are_given_or_computed() {
        let hash = format!("0x{}", "ab".repeat(32));
        assert_eq!(hash.parse(), Ok(HashSource::Hash(B256::repeat_byte(0xab))));
        assert_eq!("ab".repeat(32).parse(), Ok(HashSource::Hash(B256::repeat_byte(0xab))));
        assert_eq!("w.safetensors".parse(), Ok(HashSource::File("w.safetensors".into())));
        assert!(parse_sha256("0x12").unwrap_err().contains("got 2 characters"));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weights.safetensors");
        std::fs::write(&file, b"abc").unwrap();
        let source: HashSource = file.to_str().unwrap().parse().unwrap();
        assert_eq!(
            source.resolve("the weights").unwrap(),
            B256::from_str("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                .unwrap()
        );
        let missing = HashSource::File("nope.safetensors".into());
        let error = format!("{:#}", missing.resolve("the weights").unwrap_err());
        assert!(error.contains("cannot hash the weights nope.safetensors"), "{error}");
    }

    #[test]
    fn a_model_reads_as_aligned_lines() {
        let model = ModelJson {
            id: U64::from(4),
            owner: Address::repeat_byte(1),
            name: "Poet".into(),
            kind: "adapter".into(),
            base_model: Some(B256::repeat_byte(2)),
            trained_on: vec![TrainedOnJson { datanet_id: U64::from(1), version: U64::from(2) }],
            training_config_hash: B256::ZERO,
            weights_hash: B256::repeat_byte(3),
            input_price_per_1k: U256::from(1_500_000_000_000_000_000u128),
            output_price_per_1k: U256::ZERO,
            providers: vec![],
            retired: true,
            registered_at_block: U64::from(9),
        };
        let text = describe_model(&model);
        assert!(text.contains("model           4\n"), "{text}");
        assert!(text.contains("trained on      datanet 1 version 2\n"), "{text}");
        assert!(text.contains("training config none recorded\n"), "{text}");
        assert!(text.contains("input price     1.5 OPEN per 1,000 tokens\n"), "{text}");
        assert!(text.contains("output price    0 OPEN per 1,000 tokens\n"), "{text}");
        assert!(text.contains("providers       none\n"), "{text}");
        assert!(text.contains("status          retired\n"), "{text}");
    }
}
