//! `openledger model train`: train a model (or a LoRA adapter over a base
//! model) from a published datanet version, store its weights in the node's
//! blob store, and optionally register it with its provenance.
//!
//! The version's member contributions are read over JSON-RPC
//! (`ol_getDatanetVersion`, `ol_getContribution`, `ol_getBlob`) and parsed
//! with the datanet's format into text rows, exactly as the node parsed them
//! when they were contributed; each row is one training document. Training
//! runs here, on this machine's CPU (or GPU with the `cuda` feature of
//! `ol-models`), deterministically from the configuration's seed. The
//! weights are written to `--out`, uploaded (`ol_putBlob`, or `PUT /blobs`
//! when large), and with `--register` the model is registered with
//! `trainedOn = D:V`, the configuration file's sha256 and the weights' sha256
//! (kind adapter over `--base` when fine-tuning).
//!
//! Everything that can be checked before training is: the configuration
//! (file, syntax, values), the datanet and version, the base model. A
//! failure there sends nothing.

use super::{event, parse_sha256, send};
use crate::{
    arguments::{format_open, parse_address, parse_amount},
    rpc::{NodeClient, RpcError},
    send::{SendArgs, describe_receipt},
    upload::{JSON_RPC_UPLOAD_LIMIT, sha256},
};
use alloy_primitives::{Address, B256, Bytes};
use clap::Args;
use eyre::{Result, WrapErr, bail, eyre};
use indicatif::{ProgressBar, ProgressStyle};
use ol_attribution::content::{Format, FormatOptions, parse};
use ol_ledger::models::{DatanetVersion, IModels, Kind, ModelConfig};
use ol_node::rpc::datanet::{ContributionJson, DatanetJson, VersionJson};
use ol_primitives::Amount;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Flags of `openledger model train`.
#[derive(Debug, Args)]
// `--version` names the datanet version here, not the program's.
#[command(disable_version_flag = true)]
pub(crate) struct TrainArgs {
    /// The datanet to train on.
    #[arg(long = "datanet", value_name = "DATANET")]
    datanet: u64,
    /// Its published version.
    #[arg(id = "datanet_version", long = "version", value_name = "VERSION")]
    version: u32,
    /// The training configuration (TOML: [model], [lora], [training]).
    #[arg(long = "config", value_name = "FILE")]
    config: PathBuf,
    /// Where to write the weights (safetensors) [default: model-D-V.safetensors,
    /// or adapter-D-V.safetensors with --base].
    #[arg(long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Fine-tune a LoRA adapter over this base model (sha256 of its weights,
    /// fetched from the node's blob store) instead of training from scratch.
    #[arg(long = "base", value_name = "SHA256", value_parser = parse_sha256)]
    base: Option<B256>,
    /// Register the trained model, owned by the signing account.
    #[arg(long = "register", requires = "name")]
    register: bool,
    /// The registered model's name.
    #[arg(long = "name", requires = "register")]
    name: Option<String>,
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

/// The datanet and its published version, or an error naming which is missing.
async fn fetch_version(
    node: &NodeClient,
    datanet: u64,
    number: u32,
) -> Result<(DatanetJson, VersionJson)> {
    let found: Option<DatanetJson> = read(node, "ol_getDatanet", vec![json!(datanet)]).await?;
    let Some(found) = found else { bail!("datanet {datanet} does not exist") };
    let version: Option<VersionJson> =
        read(node, "ol_getDatanetVersion", vec![json!(datanet), json!(number)]).await?;
    let Some(version) = version else {
        bail!("datanet {datanet} has no published version {number}")
    };
    Ok((found, version))
}

/// A blob's bytes, checked against their name.
async fn fetch_blob(node: &NodeClient, hash: B256, what: &str) -> Result<Vec<u8>> {
    let bytes: Option<Bytes> = read(node, "ol_getBlob", vec![json!(hash)]).await?;
    let Some(bytes) = bytes else { bail!("{what} {hash} is not in the node's blob store") };
    if sha256(&bytes) != hash {
        bail!("the node returned bytes for {what} {hash} that hash to {}", sha256(&bytes));
    }
    Ok(bytes.to_vec())
}

/// The text rows of every member contribution of the version, in order.
async fn fetch_texts(
    node: &NodeClient,
    datanet: &DatanetJson,
    version: &VersionJson,
) -> Result<Vec<String>> {
    let options = FormatOptions {
        jsonl_field: datanet.jsonl_field.clone(),
        csv_column: datanet.csv_column.clone(),
    };
    let progress = bar(version.contributions.len() as u64, "fetching contributions");
    let mut texts = Vec::new();
    for id in &version.contributions {
        let contribution: Option<ContributionJson> =
            read(node, "ol_getContribution", vec![json!(id)]).await?;
        let contribution =
            contribution.ok_or_else(|| eyre!("contribution {id} of the version does not exist"))?;
        let bytes =
            fetch_blob(node, contribution.content_hash, &format!("contribution {id}")).await?;
        let format = Format::from_str(&contribution.format)
            .map_err(|error| eyre!("contribution {id} has an unusable format: {error}"))?;
        let rows = parse(&bytes, format, &options)
            .map_err(|error| eyre!("contribution {id} cannot be parsed as {format}: {error}"))?;
        texts.extend(rows);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(texts)
}

fn bar(total: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise}")
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message);
    bar
}

/// Stores raw bytes (no content check) in the node's blob store.
async fn store_blob(node: &NodeClient, bytes: &[u8]) -> Result<B256> {
    let hash = sha256(bytes);
    if bytes.len() > JSON_RPC_UPLOAD_LIMIT && node.url().starts_with("http://") {
        return put_over_http(node.url(), hash, bytes).await;
    }
    let data = serde_json::to_value(Bytes::copy_from_slice(bytes))
        .wrap_err("cannot encode the weights")?;
    let stored: B256 = node
        .call("ol_putBlob", vec![data, json!({ "sha256": hash })])
        .await
        .map_err(|error| match error {
            RpcError::Node { message, .. } => eyre!("the node refused the weights: {message}"),
            other => other.into(),
        })?;
    if stored != hash {
        bail!("the node stored the weights as {stored}, but their SHA-256 is {hash}");
    }
    Ok(hash)
}

async fn put_over_http(rpc_url: &str, hash: B256, bytes: &[u8]) -> Result<B256> {
    use http_body_util::{BodyExt, Full};
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let base: hyper::Uri =
        rpc_url.parse().map_err(|error| eyre!("invalid --rpc-url {rpc_url:?}: {error}"))?;
    let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
        bail!("invalid --rpc-url {rpc_url:?}: expected http://HOST:PORT");
    };
    let url = format!("{scheme}://{authority}/blobs/{hash:x}");
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<hyper::body::Bytes>>();
    let request = hyper::Request::builder()
        .method(hyper::Method::PUT)
        .uri(&url)
        .header("content-type", "application/octet-stream")
        .body(Full::new(hyper::body::Bytes::copy_from_slice(bytes)))
        .map_err(|error| eyre!("cannot form the upload request: {error}"))?;
    let response =
        client.request(request).await.map_err(|error| eyre!("cannot upload to {url}: {error}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| eyre!("cannot read the node's answer: {error}"))?;
    if !status.is_success() {
        bail!(
            "the node refused the weights (HTTP {}): {}",
            status.as_u16(),
            String::from_utf8_lossy(&body.to_bytes())
        );
    }
    Ok(hash)
}

/// Runs `openledger model train`.
pub(crate) async fn train(args: TrainArgs) -> Result<()> {
    // Local checks first: nothing is asked of the node for a bad configuration.
    let config_text = std::fs::read(&args.config).wrap_err_with(|| {
        format!("cannot read the training configuration {}", args.config.display())
    })?;
    let config_hash = sha256(&config_text);
    let config_text = String::from_utf8(config_text).map_err(|_| {
        eyre!("the training configuration {} is not UTF-8 text", args.config.display())
    })?;
    let config = ol_models::Config::from_toml(&config_text)
        .map_err(|error| eyre!("{}: {error}", args.config.display()))?;
    if args.base.is_some() && config.lora.is_none() {
        bail!(
            "{}: --base fine-tunes a LoRA adapter, which needs a [lora] section",
            args.config.display()
        );
    }
    let node = args.send.rpc.connect()?;
    let (datanet, version) = fetch_version(&node, args.datanet, args.version).await?;
    let base = match args.base {
        Some(hash) => {
            let bytes = fetch_blob(&node, hash, "base model").await?;
            let model = ol_models::load_model(&bytes)
                .map_err(|error| eyre!("base model {hash}: {error}"))?;
            if model.config() != &config.model {
                bail!(
                    "{}: [model] does not match the base model {hash} ({:?})",
                    args.config.display(),
                    model.config()
                );
            }
            Some(model)
        }
        None => None,
    };
    let texts = fetch_texts(&node, &datanet, &version).await?;
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!(
        "training on datanet {} version {}: {} contributions, {} rows, {} bytes",
        args.datanet,
        args.version,
        version.contributions.len(),
        texts.len(),
        bytes
    );

    let (weights, report) = run_training(config, base, texts).await?;
    let out = args.out.clone().unwrap_or_else(|| {
        let kind = if args.base.is_some() { "adapter" } else { "model" };
        PathBuf::from(format!("{kind}-{}-{}.safetensors", args.datanet, args.version))
    });
    write_weights(&out, &weights)?;
    let weights_hash = store_blob(&node, &weights).await?;
    println!("steps          {}", report.losses.len());
    println!("final loss     {:.4}", report.final_loss());
    println!("held-out loss  {:.4}", report.held_out_loss);
    println!(
        "perplexity     {:.3} (held out: {} tokens)",
        report.held_out_perplexity, report.held_out_tokens
    );
    println!("training time  {:.1} s", report.elapsed.as_secs_f64());
    println!("weights        {weights_hash}");
    println!("written to     {}", out.display());
    println!("config hash    {config_hash}");
    if args.register {
        register(&args, weights_hash, config_hash).await?;
    }
    Ok(())
}

/// Trains on a blocking thread, with a progress bar showing the loss.
async fn run_training(
    config: ol_models::Config,
    base: Option<ol_models::Model>,
    texts: Vec<String>,
) -> Result<(Vec<u8>, ol_models::TrainingReport)> {
    let progress = bar(config.training.steps as u64, "training");
    progress.set_style(
        ProgressStyle::with_template(
            "training [{bar:30}] {pos}/{len} loss {msg} {elapsed_precise} eta {eta}",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = progress.clone();
    let task = tokio::task::spawn_blocking(move || {
        let mut on_step = |step: usize, _total: usize, loss: f32| {
            shown.set_position(step as u64);
            shown.set_message(format!("{loss:.4}"));
        };
        match &base {
            Some(base) => ol_models::fine_tune_lora(&config, base, &texts, &mut on_step)
                .map(|trained| (trained.weights, trained.report)),
            None => ol_models::train(&config, &texts, &mut on_step)
                .map(|trained| (trained.weights, trained.report)),
        }
    });
    let result = task.await.map_err(|error| eyre!("the training thread failed: {error}"))?;
    progress.finish_and_clear();
    result.map_err(|error| eyre!("training failed: {error}"))
}

fn write_weights(path: &Path, weights: &[u8]) -> Result<()> {
    std::fs::write(path, weights)
        .wrap_err_with(|| format!("cannot write the weights to {}", path.display()))
}

async fn register(args: &TrainArgs, weights: B256, training_config: B256) -> Result<()> {
    let name = args.name.clone().ok_or_else(|| eyre!("--register needs --name"))?;
    let config = ModelConfig {
        name: name.clone(),
        baseModel: args.base.unwrap_or(B256::ZERO),
        trainedOn: vec![DatanetVersion { datanetId: args.datanet, version: args.version }],
        trainingConfigHash: training_config,
        weightsHash: weights,
        kind: if args.base.is_some() { Kind::Adapter } else { Kind::Full },
        inputPricePer1k: args.input_price.wei(),
        outputPricePer1k: args.output_price.wei(),
        providers: args.providers.clone(),
    };
    let receipt = send(&args.send, IModels::registerModelCall { config }).await?;
    let registered: IModels::ModelRegistered = event(&receipt)?;
    println!("model          {}", registered.modelId);
    println!("name           {name}");
    println!("owner          {}", registered.owner);
    println!("deployment fee {}", format_open(registered.deploymentFee));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}
