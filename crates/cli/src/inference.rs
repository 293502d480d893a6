//! `openledger inference`: pay for inferences, see what they earned, claim.
//!
//! Writes are ordinary signed transactions to the inference settlement
//! contract (`contracts/IInference.sol`) at [`INFERENCE`], estimated first so
//! a refusal is reported with the contract's reason and nothing is sent:
//! `deposit` / `withdraw` fund or drain a prepaid deposit for a provider,
//! `claim` moves the signer's reward balance to its spendable OPEN.
//! `authorize` signs (locally, sends nothing) the EIP-712 authorisation a
//! client attaches as `payment` to an OpenAI-compatible request. Reads:
//! `earnings` (`ol_getEarnings`) and `show` (`ol_getInference`).

use crate::{
    arguments::{format_open, parse_address, parse_amount},
    rpc::{NodeClient, RpcArgs, RpcError},
    send::{SendArgs, contract_event, describe_receipt},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{Result, eyre};
use ol_ledger::inference::{IInference, INFERENCE, InferenceAuthorization};
use ol_node::rpc::inference::{EarningsJson, InferenceJson};
use ol_primitives::Amount;
use serde_json::json;

/// The `inference` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum InferenceCommand {
    /// Deposit OPEN that a provider may charge for your inferences.
    Deposit(Box<DepositArgs>),
    /// Take back what is left of a deposit.
    Withdraw(Box<DepositArgs>),
    /// Move your rewards (as contributor, model owner or provider) to your spendable OPEN.
    Claim(Box<ClaimArgs>),
    /// Sign a payment authorisation for one inference (prints the `payment` JSON; sends nothing).
    Authorize(Box<AuthorizeArgs>),
    /// Show what an account earned, per datanet, model and inference.
    Earnings(EarningsArgs),
    /// Show a settled inference.
    Show(ShowArgs),
    /// Challenge a settlement's attribution: the ledger recomputes it from
    /// the recorded index; a wrong one slashes the provider, a right one
    /// costs you the challenge bond.
    Challenge(Box<ChallengeArgs>),
}

/// Flags of `challenge`.
#[derive(Debug, Args)]
pub(crate) struct ChallengeArgs {
    /// The settled inference.
    #[arg(value_name = "INFERENCE")]
    inference: u64,
    /// A file holding the answer's exact text (its sha256 must be the
    /// settled output hash).
    #[arg(long = "output", value_name = "FILE")]
    output: std::path::PathBuf,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `deposit` and `withdraw`.
#[derive(Debug, Args)]
pub(crate) struct DepositArgs {
    /// The provider the deposit is for.
    #[arg(long = "provider", value_name = "ADDRESS", value_parser = parse_address)]
    provider: Address,
    /// How much, in OPEN.
    #[arg(long = "amount", value_name = "OPEN", value_parser = parse_amount)]
    amount: Amount,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `claim`.
#[derive(Debug, Args)]
pub(crate) struct ClaimArgs {
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `authorize`.
#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    /// The model (its on-chain id).
    #[arg(long = "model", value_name = "ID")]
    model: u64,
    /// The provider that will serve and settle it.
    #[arg(long = "provider", value_name = "ADDRESS", value_parser = parse_address)]
    provider: Address,
    /// The most it may charge, in OPEN.
    #[arg(long = "max-fee", value_name = "OPEN", value_parser = parse_amount)]
    max_fee: Amount,
    /// A number never used before by this payer.
    #[arg(long = "nonce")]
    nonce: u64,
    /// Seconds the authorisation stays valid.
    #[arg(long = "valid-for", value_name = "SECONDS", default_value_t = 3600)]
    valid_for: u64,
    #[command(flatten)]
    signer: crate::account::SignerArgs,
    #[command(flatten)]
    keystore: crate::keystore::KeystoreArgs,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `earnings`.
#[derive(Debug, Args)]
pub(crate) struct EarningsArgs {
    /// The account.
    #[arg(value_name = "ADDRESS", value_parser = parse_address)]
    account: Address,
    /// First block of the per-inference list [default: 10,000 blocks before --to-block].
    #[arg(long = "from-block")]
    from_block: Option<u64>,
    /// Last block of the per-inference list [default: the head].
    #[arg(long = "to-block")]
    to_block: Option<u64>,
    /// Print the node's JSON.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The inference.
    #[arg(value_name = "INFERENCE")]
    inference: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Runs an `inference` subcommand.
pub(crate) async fn run(command: InferenceCommand) -> Result<()> {
    match command {
        InferenceCommand::Deposit(args) => {
            let call =
                IInference::depositCall { provider: args.provider, amount: args.amount.wei() };
            let receipt = args.send.call(INFERENCE, Bytes::from(call.abi_encode())).await?;
            let event: IInference::Deposited = contract_event(&receipt, INFERENCE)?;
            println!(
                "deposited      {} for provider {}",
                format_open(event.amount),
                event.provider
            );
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        InferenceCommand::Withdraw(args) => {
            let call = IInference::withdrawDepositCall {
                provider: args.provider,
                amount: args.amount.wei(),
            };
            let receipt = args.send.call(INFERENCE, Bytes::from(call.abi_encode())).await?;
            let event: IInference::DepositWithdrawn = contract_event(&receipt, INFERENCE)?;
            println!(
                "withdrawn      {} from provider {}",
                format_open(event.amount),
                event.provider
            );
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        InferenceCommand::Claim(args) => {
            let call = IInference::claimCall {};
            let receipt = args.send.call(INFERENCE, Bytes::from(call.abi_encode())).await?;
            let event: IInference::Claimed = contract_event(&receipt, INFERENCE)?;
            println!("claimed        {} to {}", format_open(event.amount), event.account);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        InferenceCommand::Authorize(args) => authorize(*args).await,
        InferenceCommand::Challenge(args) => challenge(*args).await,
        InferenceCommand::Earnings(args) => earnings(args).await,
        InferenceCommand::Show(args) => {
            let node = args.rpc.connect()?;
            let found: Option<InferenceJson> =
                node.call("ol_getInference", vec![json!(args.inference)]).await.map_err(read)?;
            let found =
                found.ok_or_else(|| eyre!("inference {} does not exist", args.inference))?;
            println!("{}", serde_json::to_string_pretty(&found)?);
            Ok(())
        }
    }
}

/// The attribution vector inference `id` settled, read from its settlement
/// transaction's calldata (the chain keeps only its hash).
async fn settled_attribution(node: &NodeClient, id: u64) -> Result<Vec<IInference::Attributed>> {
    let found: Option<InferenceJson> =
        node.call("ol_getInference", vec![json!(id)]).await.map_err(read)?;
    let found = found.ok_or_else(|| eyre!("inference {id} does not exist"))?;
    let filter = json!({
        "address": INFERENCE,
        "fromBlock": found.settled_at_block,
        "toBlock": found.settled_at_block,
        "topics": [IInference::Settled::SIGNATURE_HASH, B256::from(U256::from(id))],
    });
    let logs: Vec<serde_json::Value> =
        node.call("eth_getLogs", vec![filter]).await.map_err(read)?;
    let hash = logs
        .first()
        .and_then(|log| log["transactionHash"].as_str())
        .ok_or_else(|| eyre!("no Settled log of inference {id} in its block"))?
        .to_string();
    let tx: serde_json::Value =
        node.call("eth_getTransactionByHash", vec![json!(hash)]).await.map_err(read)?;
    let input: Bytes = serde_json::from_value(tx["input"].clone())
        .map_err(|error| eyre!("settlement transaction {hash} has no readable input: {error}"))?;
    let call = IInference::settleCall::abi_decode(&input)
        .map_err(|error| eyre!("transaction {hash} is not a settlement: {error}"))?;
    Ok(call.settlement.attribution)
}

async fn challenge(args: ChallengeArgs) -> Result<()> {
    let output = std::fs::read_to_string(&args.output)
        .map_err(|error| eyre!("cannot read {}: {error}", args.output.display()))?;
    let node = args.send.rpc.connect()?;
    let settled = settled_attribution(&node, args.inference).await?;
    let call = IInference::challengeCall { inferenceId: args.inference, output, settled };
    let receipt = args.send.call(INFERENCE, Bytes::from(call.abi_encode())).await?;
    if let Ok(event) = contract_event::<IInference::ChallengeUpheld>(&receipt, INFERENCE) {
        println!(
            "upheld         inference {}: the attribution was wrong; provider {} slashed {}",
            event.inferenceId,
            event.provider,
            format_open(event.slashed)
        );
    } else {
        let event: IInference::ChallengeRejected = contract_event(&receipt, INFERENCE)?;
        println!(
            "rejected       inference {}: the attribution recomputes the same; bond of {} paid to {}",
            event.inferenceId,
            format_open(event.bond),
            event.provider
        );
    }
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

fn read(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => eyre!(
            "the node at {url} does not support {method}: is it an OpenLedger node with inference settlement?"
        ),
        other => other.into(),
    }
}

async fn authorize(args: AuthorizeArgs) -> Result<()> {
    let signer = args.signer.signer(&args.keystore)?;
    let node: NodeClient = args.rpc.connect()?;
    let chain_id = node.chain_id().await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let authorization = InferenceAuthorization {
        modelId: args.model,
        provider: args.provider,
        maxFee: args.max_fee.wei(),
        nonce: U256::from(args.nonce),
        expiry: now.saturating_add(args.valid_for),
    };
    let hash = ol_ledger::inference::authorization_signing_hash(chain_id, &authorization);
    let signature = signer.sign_hash_sync(&hash)?;
    let payment = json!({
        "payer": signer.address(),
        "maxFee": authorization.maxFee.to_string(),
        "nonce": args.nonce,
        "expiry": authorization.expiry,
        "signature": Bytes::from(signature.as_bytes().to_vec()),
    });
    println!("{payment}");
    Ok(())
}

async fn earnings(args: EarningsArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let mut range = serde_json::Map::new();
    if let Some(from) = args.from_block {
        range.insert("fromBlock".into(), json!(format!("{from:#x}")));
    }
    if let Some(to) = args.to_block {
        range.insert("toBlock".into(), json!(format!("{to:#x}")));
    }
    let earnings: EarningsJson =
        node.call("ol_getEarnings", vec![json!(args.account), json!(range)]).await.map_err(read)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&earnings)?);
        return Ok(());
    }
    print!("{}", describe(&earnings));
    Ok(())
}

/// Earnings as aligned lines.
fn describe(earnings: &EarningsJson) -> String {
    let mut text = format!(
        "account        {}\nclaimable      {}\n",
        earnings.account,
        format_open(earnings.claimable)
    );
    for source in &earnings.per_datanet {
        text.push_str(&format!("datanet {:<6} {}\n", source.id, format_open(source.amount)));
    }
    for source in &earnings.per_model {
        text.push_str(&format!("model {:<8} {}\n", source.id, format_open(source.amount)));
    }
    text.push_str(&format!(
        "inferences in blocks {}..={}: {}\n",
        earnings.from_block,
        earnings.to_block,
        earnings.inferences.len()
    ));
    for credit in &earnings.inferences {
        let datanet = credit.datanet_id.map(|d| format!(" datanet {d}")).unwrap_or_default();
        text.push_str(&format!(
            "  inference {:<6} {:<12} {}{datanet} (block {}, tx {})\n",
            credit.inference_id,
            credit.role,
            format_open(credit.amount),
            credit.block_number,
            credit.transaction_hash
        ));
    }
    text
}
