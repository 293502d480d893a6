//! `openledger gov`: propose, vote, queue, execute, cancel and show
//! governance proposals.
//!
//! Writes are ordinary signed transactions to the governance contract
//! (`contracts/IGovernance.sol`) at [`GOVERNANCE`], estimated first so a
//! refusal is reported with the contract's reason and nothing is sent. A
//! proposal's actions are calls to system contracts: raw ones (`--call
//! ADDRESS 0xDATA`, for any function) and helpers that encode the common
//! ones (`--set-inference-split`, `--set-deployment-fee`, `--spend`),
//! executed in that order. Reads: `show` (`ol_getProposal`) and `params`
//! (`ol_governanceParams`).

use crate::{
    arguments::{format_open, parse_address, parse_amount},
    calendar::format_utc,
    rpc::{NodeClient, RpcArgs, RpcError},
    send::{SendArgs, contract_event, describe_receipt},
};
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use clap::{ArgAction, Args, Subcommand, ValueEnum};
use eyre::{Result, bail, eyre};
use ol_ledger::{
    governance::{Action, GOVERNANCE, IGovernance},
    inference::{IInference, INFERENCE},
    models::{IModels, MODELS},
};
use ol_node::rpc::governance::{GovernanceParamsJson, ProposalJson};
use ol_primitives::Amount;
use serde_json::json;

/// The `gov` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum GovCommand {
    /// Propose actions (calls to system contracts) for OPEN stakers to vote on.
    Propose(Box<ProposeArgs>),
    /// Vote on an active proposal with your votes at its snapshot.
    Vote(Box<VoteArgs>),
    /// Queue a succeeded proposal; it may execute after the timelock.
    Queue(Box<IdArgs>),
    /// Execute a queued proposal whose timelock has ended.
    Execute(Box<IdArgs>),
    /// Cancel your own proposal while it is pending.
    Cancel(Box<IdArgs>),
    /// Show a proposal: its state, tallies, quorum, times and actions.
    Show(ShowArgs),
    /// Show the governance parameters.
    Params(ParamsArgs),
}

/// Flags of `propose`.
#[derive(Debug, Args)]
pub(crate) struct ProposeArgs {
    /// What the proposal does and why.
    #[arg(long = "description", value_name = "TEXT")]
    description: String,
    /// A raw action: a system contract and ABI-encoded call data (repeatable).
    #[arg(long = "call", num_args = 2, value_names = ["ADDRESS", "0xDATA"], action = ArgAction::Append)]
    call: Vec<String>,
    /// Set the inference fee split: owner, provider, stakers and contributors
    /// in basis points, summing to 10000 (e.g. 2000,1000,2000,5000).
    #[arg(long = "set-inference-split", value_name = "BPS,BPS,BPS,BPS", value_parser = parse_split)]
    split: Option<[u16; 4]>,
    /// With --set-inference-split: the platform fee per inference in OPEN
    /// [default: the current one].
    #[arg(long = "platform-fee", value_name = "OPEN", value_parser = parse_amount, requires = "split")]
    platform_fee: Option<Amount>,
    /// Set the model deployment fee, in OPEN.
    #[arg(long = "set-deployment-fee", value_name = "OPEN", value_parser = parse_amount)]
    deployment_fee: Option<Amount>,
    /// Pay OPEN from the treasury to an account (repeatable).
    #[arg(long = "spend", num_args = 2, value_names = ["TO", "OPEN"], action = ArgAction::Append)]
    spend: Vec<String>,
    #[command(flatten)]
    send: SendArgs,
}

/// How a vote counts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Support {
    /// Against the proposal.
    Against = 0,
    /// For the proposal.
    For = 1,
    /// Counts toward the quorum only.
    Abstain = 2,
}

/// Flags of `vote`.
#[derive(Debug, Args)]
pub(crate) struct VoteArgs {
    /// The proposal.
    #[arg(value_name = "PROPOSAL")]
    id: u64,
    /// How you vote.
    #[arg(value_name = "SUPPORT", value_enum)]
    support: Support,
    /// Why (kept in the vote's event).
    #[arg(long = "reason", value_name = "TEXT")]
    reason: Option<String>,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `queue`, `execute` and `cancel`.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The proposal.
    #[arg(value_name = "PROPOSAL")]
    id: u64,
    #[command(flatten)]
    send: SendArgs,
}

/// Flags of `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The proposal.
    #[arg(value_name = "PROPOSAL")]
    id: u64,
    /// Print the node's JSON.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Flags of `params`.
#[derive(Debug, Args)]
pub(crate) struct ParamsArgs {
    /// Print the node's JSON.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Parses "2000,1000,2000,5000": four basis points summing to 10000.
fn parse_split(text: &str) -> Result<[u16; 4], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [owner, provider, stakers, contributors] = parts[..] else {
        return Err(format!(
            "expected four basis points (owner,provider,stakers,contributors), got {}",
            parts.len()
        ));
    };
    let mut bps = [0u16; 4];
    for (slot, part) in bps.iter_mut().zip([owner, provider, stakers, contributors]) {
        *slot = part
            .parse()
            .ok()
            .filter(|value| *value <= 10_000)
            .ok_or_else(|| format!("{part:?} is not a number of basis points (0 to 10000)"))?;
    }
    let sum: u32 = bps.iter().map(|b| u32::from(*b)).sum();
    if sum != 10_000 {
        return Err(format!("the shares sum to {sum} basis points; they must sum to 10000"));
    }
    Ok(bps)
}

fn parse_data(text: &str) -> Result<Bytes> {
    let digits = text.strip_prefix("0x").ok_or_else(|| {
        eyre!("call data {text:?} must be 0x-prefixed hex (a selector and ABI-encoded arguments)")
    })?;
    let bytes = alloy_primitives::hex::decode(digits)
        .map_err(|error| eyre!("call data {text:?} is not hex: {error}"))?;
    if bytes.len() < 4 {
        bail!("call data {text:?} is {} bytes; it needs at least a 4-byte selector", bytes.len());
    }
    Ok(bytes.into())
}

/// The actions the flags describe, in the order the help names them.
async fn actions(args: &ProposeArgs) -> Result<Vec<Action>> {
    let mut actions = Vec::new();
    for pair in args.call.chunks(2) {
        let [target, data] = pair else { bail!("--call needs an ADDRESS and 0xDATA") };
        let target = parse_address(target).map_err(|e| eyre!("--call address {target:?}: {e}"))?;
        if !ol_primitives::addresses::is_callable(&target) {
            bail!("--call target {target} is not a system contract (0x…1002 to 0x…1007)");
        }
        actions.push(Action { target, data: parse_data(data)? });
    }
    if let Some([owner, provider, stakers, contributors]) = args.split {
        let platform_fee = match args.platform_fee {
            Some(fee) => fee.wei(),
            None => current_platform_fee(&args.send.rpc.connect()?).await?,
        };
        let params = IInference::Params {
            platformFee: platform_fee,
            ownerBps: owner,
            providerBps: provider,
            stakersBps: stakers,
            contributorsBps: contributors,
        };
        let data = IInference::setParamsCall { params }.abi_encode().into();
        actions.push(Action { target: INFERENCE, data });
    }
    if let Some(fee) = args.deployment_fee {
        let params = IModels::Params { deploymentFee: fee.wei() };
        actions.push(Action {
            target: MODELS,
            data: IModels::setParamsCall { params }.abi_encode().into(),
        });
    }
    for pair in args.spend.chunks(2) {
        let [to, amount] = pair else { bail!("--spend needs a TO address and an OPEN amount") };
        let to = parse_address(to).map_err(|e| eyre!("--spend address {to:?}: {e}"))?;
        let amount = parse_amount(amount).map_err(|e| eyre!("--spend amount {amount:?}: {e}"))?;
        let data = IGovernance::spendTreasuryCall { to, amount: amount.wei() }.abi_encode().into();
        actions.push(Action { target: GOVERNANCE, data });
    }
    if actions.is_empty() {
        bail!(
            "a proposal needs at least one action: --call, --set-inference-split, \
             --set-deployment-fee or --spend"
        );
    }
    Ok(actions)
}

async fn current_platform_fee(node: &NodeClient) -> Result<U256> {
    let request =
        json!({ "to": INFERENCE, "input": Bytes::from(IInference::paramsCall {}.abi_encode()) });
    let output: Bytes =
        node.call("eth_call", vec![request, json!("latest")]).await.map_err(read)?;
    let params = IInference::paramsCall::abi_decode_returns(&output)
        .map_err(|error| eyre!("the node returned malformed inference parameters: {error}"))?;
    Ok(params.platformFee)
}

/// Runs a `gov` subcommand.
pub(crate) async fn run(command: GovCommand) -> Result<()> {
    match command {
        GovCommand::Propose(args) => {
            let actions = actions(&args).await?;
            let count = actions.len();
            let call = IGovernance::proposeCall { actions, description: args.description.clone() };
            let receipt = args.send.call(GOVERNANCE, Bytes::from(call.abi_encode())).await?;
            let event: IGovernance::ProposalCreated = contract_event(&receipt, GOVERNANCE)?;
            println!("proposal       {}", event.proposalId);
            println!("actions        {count}");
            println!("voting opens   after {}", format_utc(event.voteStart));
            println!("voting closes  {}", format_utc(event.voteEnd));
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        GovCommand::Vote(args) => {
            let support = args.support as u8;
            let input = match &args.reason {
                Some(reason) => IGovernance::castVoteWithReasonCall {
                    proposalId: args.id,
                    support,
                    reason: reason.clone(),
                }
                .abi_encode(),
                None => IGovernance::castVoteCall { proposalId: args.id, support }.abi_encode(),
            };
            let receipt = args.send.call(GOVERNANCE, Bytes::from(input)).await?;
            let event: IGovernance::VoteCast = contract_event(&receipt, GOVERNANCE)?;
            println!("voted          {:?} on proposal {}", args.support, event.proposalId);
            println!("weight         {}", format_open(event.weight));
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        GovCommand::Queue(args) => {
            let input = IGovernance::queueCall { proposalId: args.id }.abi_encode();
            let receipt = args.send.call(GOVERNANCE, Bytes::from(input)).await?;
            let event: IGovernance::ProposalQueued = contract_event(&receipt, GOVERNANCE)?;
            println!("queued         proposal {}", event.proposalId);
            println!("executable     from {}", format_utc(event.eta));
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        GovCommand::Execute(args) => {
            let input = IGovernance::executeCall { proposalId: args.id }.abi_encode();
            let receipt = args.send.call(GOVERNANCE, Bytes::from(input)).await?;
            let event: IGovernance::ProposalExecuted = contract_event(&receipt, GOVERNANCE)?;
            println!("executed       proposal {}", event.proposalId);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        GovCommand::Cancel(args) => {
            let input = IGovernance::cancelCall { proposalId: args.id }.abi_encode();
            let receipt = args.send.call(GOVERNANCE, Bytes::from(input)).await?;
            let event: IGovernance::ProposalCanceled = contract_event(&receipt, GOVERNANCE)?;
            println!("canceled       proposal {}", event.proposalId);
            print!("{}", describe_receipt(&receipt));
            Ok(())
        }
        GovCommand::Show(args) => {
            let node = args.rpc.connect()?;
            let found: Option<ProposalJson> =
                node.call("ol_getProposal", vec![json!(args.id)]).await.map_err(read)?;
            let proposal = found.ok_or_else(|| eyre!("proposal {} does not exist", args.id))?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&proposal)?);
            } else {
                print!("{}", describe(&proposal));
            }
            Ok(())
        }
        GovCommand::Params(args) => {
            let node = args.rpc.connect()?;
            let params: GovernanceParamsJson =
                node.call("ol_governanceParams", vec![]).await.map_err(read)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&params)?);
                return Ok(());
            }
            println!("voting delay        {} s", params.voting_delay);
            println!("voting period       {} s", params.voting_period);
            println!("proposal threshold  {}", format_open(params.proposal_threshold));
            println!("quorum              {} %", params.quorum_numerator);
            println!("timelock delay      {} s", params.timelock_delay);
            println!("grace period        {} s", params.grace_period);
            Ok(())
        }
    }
}

fn read(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => eyre!(
            "the node at {url} does not support {method}: is it an OpenLedger node with governance?"
        ),
        other => other.into(),
    }
}

/// A proposal as aligned lines.
fn describe(p: &ProposalJson) -> String {
    let mut text = format!(
        "proposal       {}\nstate          {}\nproposer       {}\n",
        p.id, p.state, p.proposer
    );
    text.push_str(&format!("snapshot       {}\n", format_utc(p.snapshot.to())));
    text.push_str(&format!("deadline       {}\n", format_utc(p.deadline.to())));
    if p.eta.to::<u64>() != 0 {
        text.push_str(&format!("eta            {}\n", format_utc(p.eta.to())));
    }
    text.push_str(&format!("for            {}\n", format_open(p.for_votes)));
    text.push_str(&format!("against        {}\n", format_open(p.against_votes)));
    text.push_str(&format!("abstain        {}\n", format_open(p.abstain_votes)));
    text.push_str(&format!("quorum         {}\n", format_open(p.quorum)));
    text.push_str(&format!(
        "description    {}\n",
        p.description.replace('\n', "\n               ")
    ));
    for (i, action) in p.actions.iter().enumerate() {
        text.push_str(&format!("action {i:<7} {} {}\n", action.target, action.data));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_parse_as_four_whole_basis_points() {
        assert_eq!(parse_split("2000,1000,2000,5000"), Ok([2_000, 1_000, 2_000, 5_000]));
        assert_eq!(parse_split(" 0, 0, 0, 10000 "), Ok([0, 0, 0, 10_000]));
        assert!(parse_split("2000,1000,2000").unwrap_err().contains("got 3"));
        assert!(parse_split("2000,1000,2000,4000").unwrap_err().contains("sum to 9000"));
        assert!(parse_split("2000,1000,x,5000").unwrap_err().contains("\"x\""));
        assert!(parse_split("20000,0,0,0").unwrap_err().contains("0 to 10000"));
    }

    #[test]
    fn call_data_needs_hex_and_a_selector() {
        assert_eq!(parse_data("0x01020304").unwrap().len(), 4);
        assert!(parse_data("01020304").unwrap_err().to_string().contains("0x-prefixed"));
        assert!(parse_data("0x0102").unwrap_err().to_string().contains("4-byte selector"));
        assert!(parse_data("0xzz").unwrap_err().to_string().contains("not hex"));
    }
}
