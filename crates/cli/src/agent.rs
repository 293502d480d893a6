//! `openledger agent`: register AI agents, run them, and report them.
//!
//! Writes are ordinary signed transactions to the agents contract
//! (`contracts/IAgents.sol`) at [`AGENTS`], signed by the operator and
//! estimated first, so a refusal is reported with the contract's reason and
//! nothing is sent. `register` also signs, locally, the agent key's EIP-712
//! consent to be bound to the operator (the key never leaves the machine);
//! the stake is bonded from the operator's spendable OPEN. `pause`,
//! `resume`, `top-up`, `unjail` and `deregister` act on an agent the signer
//! operates; `report` files a report against any agent for governance to
//! resolve. `show` reads `ol_getAgent` by id or key address.

use crate::{
    arguments::{format_open, parse_address, parse_amount, parse_private_key},
    rpc::{RpcArgs, RpcError},
    send::{SendArgs, contract_event, describe_receipt},
    upload::sha256,
};
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand};
use eyre::{Context, Result, eyre};
use ol_ledger::agents::{self, AGENTS, AgentMetadata, IAgents};
use ol_node::rpc::agent::AgentJson;
use ol_primitives::Amount;
use serde_json::json;
use std::{path::PathBuf, str::FromStr};

/// The `agent` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AgentCommand {
    /// Register an agent operated by the signer, bonding its stake.
    Register(Box<RegisterArgs>),
    /// Pause an agent you operate.
    Pause(Box<IdArgs>),
    /// Resume a paused agent you operate.
    Resume(Box<IdArgs>),
    /// Deregister an agent you operate (final): its whole stake starts unbonding.
    Deregister(Box<IdArgs>),
    /// End a jailing once it has run out and the stake is back to the minimum.
    Unjail(Box<IdArgs>),
    /// Bond more OPEN to an agent you operate.
    TopUp(Box<TopUpArgs>),
    /// File a report asking governance to slash an agent.
    Report(Box<ReportArgs>),
    /// Show an agent, by id or by its key address.
    Show(ShowArgs),
}

/// Flags of `register`.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The agent's own key: a file holding it, or the key itself (hex). It
    /// signs its consent locally; only the signature is sent.
    #[arg(long = "agent-key", value_name = "FILE|HEX")]
    agent_key: String,
    /// The agent's name.
    #[arg(long = "name")]
    name: String,
    /// What it does.
    #[arg(long = "description", default_value = "")]
    description: String,
    /// Where it is reached (an http(s) URL).
    #[arg(long = "endpoint", value_name = "URL", default_value = "")]
    endpoint: String,
    /// The model it uses (its on-chain id).
    #[arg(long = "model", value_name = "ID")]
    model: Option<u64>,
    /// Stake to bond, in OPEN (at least the governed minimum).
    #[arg(long = "stake", value_name = "OPEN", value_parser = parse_amount)]
    stake: Amount,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of the commands that name one agent.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The agent.
    #[arg(value_name = "AGENT")]
    agent: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `top-up`.
#[derive(Debug, Args)]
pub(crate) struct TopUpArgs {
    /// The agent.
    #[arg(value_name = "AGENT")]
    agent: u64,
    /// How much more to bond, in OPEN.
    #[arg(long = "amount", value_name = "OPEN", value_parser = parse_amount)]
    amount: Amount,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `report`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("evidence-source").required(true).multiple(false))]
pub(crate) struct ReportArgs {
    /// The agent reported.
    #[arg(value_name = "AGENT")]
    agent: u64,
    /// A file of evidence (only its sha256 goes on chain).
    #[arg(long = "evidence", value_name = "FILE", group = "evidence-source")]
    evidence: Option<PathBuf>,
    /// The hash of evidence kept elsewhere.
    #[arg(long = "evidence-hash", value_name = "HASH", value_parser = parse_hash, group = "evidence-source")]
    evidence_hash: Option<B256>,
    /// The slash asked for, in OPEN.
    #[arg(long = "amount", value_name = "OPEN", value_parser = parse_amount)]
    amount: Amount,
    /// Why, in a sentence.
    #[arg(long = "reason")]
    reason: String,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The agent's id or its key address.
    #[arg(value_name = "AGENT|ADDRESS", value_parser = parse_agent_ref)]
    agent: AgentRef,
    /// Print the node's JSON.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// An agent named by id or by key address.
#[derive(Debug, Clone, Copy)]
enum AgentRef {
    Id(u64),
    Address(Address),
}

fn parse_agent_ref(text: &str) -> Result<AgentRef, String> {
    if text.starts_with("0x") || text.starts_with("0X") {
        return parse_address(text).map(AgentRef::Address);
    }
    text.parse().map(AgentRef::Id).map_err(|_| {
        format!(
            "{text:?} is neither an agent id (a whole number) nor an address (0x and 40 hex digits)"
        )
    })
}

fn parse_hash(text: &str) -> Result<B256, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 64 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err("not a hash: expected 64 hex digits, optionally after 0x".into());
    }
    B256::from_str(digits).map_err(|error| error.to_string())
}

/// The agent key named by `--agent-key`: a file holding it, or the key.
fn agent_key(text: &str) -> Result<PrivateKeySigner> {
    let path = std::path::Path::new(text);
    if path.is_file() {
        let contents = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read the agent key file {}", path.display()))?;
        return parse_private_key(&contents)
            .wrap_err_with(|| format!("the agent key file {} was refused", path.display()));
    }
    // Never echo the text: it may be a mistyped key.
    parse_private_key(text).wrap_err("--agent-key is neither a readable file nor a hex private key")
}

/// Runs an `agent` subcommand.
pub(crate) async fn run(command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Register(args) => register(*args).await,
        AgentCommand::Pause(args) => {
            let call = IAgents::pauseCall { agentId: args.agent };
            let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
            let event: IAgents::AgentPaused = contract_event(&receipt, AGENTS)?;
            println!("paused         agent {}", event.agentId);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        AgentCommand::Resume(args) => {
            let call = IAgents::resumeCall { agentId: args.agent };
            let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
            let event: IAgents::AgentResumed = contract_event(&receipt, AGENTS)?;
            println!("resumed        agent {}", event.agentId);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        AgentCommand::Deregister(args) => {
            let call = IAgents::deregisterCall { agentId: args.agent };
            let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
            let event: IAgents::AgentDeregistered = contract_event(&receipt, AGENTS)?;
            println!("deregistered   agent {}", event.agentId);
            println!("unbonding      {}", format_open(event.unbonding));
            if event.withdrawableAt != 0 {
                println!(
                    "withdrawable   at {} (unix time), through the staking contract",
                    event.withdrawableAt
                );
            }
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        AgentCommand::Unjail(args) => {
            let call = IAgents::unjailCall { agentId: args.agent };
            let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
            let event: IAgents::AgentUnjailed = contract_event(&receipt, AGENTS)?;
            println!("unjailed       agent {}", event.agentId);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        AgentCommand::TopUp(args) => {
            let call = IAgents::topUpCall { agentId: args.agent, amount: args.amount.wei() };
            let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
            let event: IAgents::ToppedUp = contract_event(&receipt, AGENTS)?;
            println!("topped up      agent {} by {}", event.agentId, format_open(event.amount));
            println!("bonded         {}", format_open(event.bonded));
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        AgentCommand::Report(args) => report(*args).await,
        AgentCommand::Show(args) => show(args).await,
    }
}

async fn register(args: RegisterArgs) -> Result<()> {
    let key = agent_key(&args.agent_key)?;
    let operator = args.send.signer.signer(&args.send.keystore)?;
    let node = args.send.rpc.connect()?;
    let chain_id = node.chain_id().await?;
    let binding = agents::binding_signing_hash(chain_id, operator.address(), key.address());
    let signature = key.sign_hash_sync(&binding)?;
    let call = IAgents::registerAgentCall {
        agent: key.address(),
        metadata: AgentMetadata {
            name: args.name,
            description: args.description,
            endpoint: args.endpoint,
            modelId: args.model.unwrap_or_default(),
        },
        stake: args.stake.wei(),
        agentSignature: signature.as_bytes().to_vec().into(),
    };
    let receipt =
        args.send.call_with(&node, &operator, AGENTS, Bytes::from(call.abi_encode())).await?;
    let event: IAgents::AgentRegistered = contract_event(&receipt, AGENTS)?;
    println!("agent          {}", event.agentId);
    println!("key            {}", event.agent);
    println!("operator       {}", event.operator);
    println!("stake          {}", format_open(event.stake));
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn report(args: ReportArgs) -> Result<()> {
    let evidence_hash = match (&args.evidence, args.evidence_hash) {
        (Some(path), _) => sha256(
            &std::fs::read(path)
                .wrap_err_with(|| format!("cannot read the evidence file {}", path.display()))?,
        ),
        (None, Some(hash)) => hash,
        // clap's group requires one of the two.
        (None, None) => return Err(eyre!("pass --evidence FILE or --evidence-hash HASH")),
    };
    let call = IAgents::fileReportCall {
        agentId: args.agent,
        evidenceHash: evidence_hash,
        amount: args.amount.wei(),
        reason: args.reason,
    };
    let receipt = args.send.call(AGENTS, Bytes::from(call.abi_encode())).await?;
    let event: IAgents::ReportFiled = contract_event(&receipt, AGENTS)?;
    println!("report         {}", event.reportId);
    println!("agent          {}", event.agentId);
    println!("asks           {}", format_open(event.amount));
    println!("evidence       {}", event.evidenceHash);
    print!("{}", describe_receipt(&receipt));
    Ok(())
}

async fn show(args: ShowArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let (param, name) = match args.agent {
        AgentRef::Id(id) => (json!(id), format!("agent {id}")),
        AgentRef::Address(address) => {
            (json!(address), format!("no agent is registered with key {address}"))
        }
    };
    let found: Option<AgentJson> = node.call("ol_getAgent", vec![param]).await.map_err(read)?;
    let agent = found.ok_or_else(|| match args.agent {
        AgentRef::Id(_) => eyre!("{name} does not exist"),
        AgentRef::Address(_) => eyre!("{name}"),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&agent)?);
        return Ok(());
    }
    print!("{}", describe(&agent));
    Ok(())
}

fn read(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => eyre!(
            "the node at {url} does not support {method}: is it an OpenLedger node with agents?"
        ),
        other => other.into(),
    }
}

/// An agent as aligned lines.
fn describe(agent: &AgentJson) -> String {
    let mut text = format!(
        "agent          {}\nname           {}\nstatus         {}\nkey            {}\n\
         operator       {}\nbonded         {}\nunbonding      {}\n",
        agent.id,
        agent.name,
        agent.status,
        agent.agent,
        agent.operator,
        format_open(agent.bonded),
        format_open(agent.unbonding)
    );
    if agent.paused && agent.status != "paused" {
        text.push_str("paused         yes\n");
    }
    if let Some(until) = agent.jailed_until.filter(|_| agent.jailed) {
        text.push_str(&format!("jailed until   {until} (unix time)\n"));
    }
    if !agent.endpoint.is_empty() {
        text.push_str(&format!("endpoint       {}\n", agent.endpoint));
    }
    if let Some(model) = agent.model_id {
        text.push_str(&format!("model          {model}\n"));
    }
    if !agent.description.is_empty() {
        text.push_str(&format!("description    {}\n", agent.description));
    }
    text.push_str(&format!("registered in  block {}\n", agent.registered_at_block));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_named_by_id_or_address() {
        assert!(matches!(parse_agent_ref("7"), Ok(AgentRef::Id(7))));
        assert!(matches!(
            parse_agent_ref("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            Ok(AgentRef::Address(_))
        ));
        assert!(parse_agent_ref("seven").unwrap_err().contains("neither an agent id"));
        assert!(parse_agent_ref("0x1234").is_err());
        assert!(parse_hash(&"ab".repeat(32)).is_ok());
        assert!(parse_hash("0x12").is_err());
    }

    #[test]
    fn agent_keys_come_from_files_or_hex_and_are_never_echoed() {
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        assert!(agent_key(key).is_ok());
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), format!("{key}\n")).unwrap();
        assert_eq!(
            agent_key(file.path().to_str().unwrap()).unwrap().address(),
            agent_key(key).unwrap().address()
        );
        let typo = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690";
        let error = format!("{:#}", agent_key(typo).unwrap_err());
        assert!(!error.contains(typo) && error.contains("neither a readable file"), "{error}");
    }
}
