//! `openledger stake`: bond OPEN to validators, unbond, withdraw, claim
//! rewards, delegate votes, and show an account's staking.
//!
//! Writes are ordinary signed transactions to the staking contract
//! (`contracts/IStaking.sol`) at [`STAKING`], estimated first so a refusal
//! is reported with the contract's reason and nothing is sent: `add` bonds
//! spendable OPEN to a validator (the signer itself for a self-bond),
//! `remove` starts unbonding, `withdraw` pays out matured unbonding,
//! `claim` pays the rewards of one position, `delegate` gives the signer's
//! votes to another account. `show` reads `ol_getStaking`.

use crate::{
    arguments::{format_open, parse_address, parse_amount},
    calendar::format_utc,
    rpc::{RpcArgs, RpcError},
    send::{SendArgs, contract_event, describe_receipt},
};
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand};
use eyre::{Result, eyre};
use ol_ledger::staking::{IStaking, STAKING};
use ol_node::rpc::staking::StakingJson;
use ol_primitives::Amount;
use serde_json::json;

/// The `stake` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum StakeCommand {
    /// Bond spendable OPEN to a validator, provider or agent (yourself for a self-bond).
    Add(Box<AmountArgs>),
    /// Start unbonding: the amount stops earning and voting now and can be withdrawn after the unbonding period.
    Remove(Box<AmountArgs>),
    /// Pay out every matured unbonding entry at a validator.
    Withdraw(Box<ValidatorArgs>),
    /// Claim the staking rewards of your position at a validator.
    Claim(Box<ValidatorArgs>),
    /// Give your voting power to another account (yourself to vote it again).
    Delegate(Box<DelegateArgs>),
    /// Show an account's positions, unbonding, rewards and votes.
    Show(ShowArgs),
}

/// Arguments of `add` and `remove`.
#[derive(Debug, Args)]
pub(crate) struct AmountArgs {
    /// The validator, provider or agent address.
    #[arg(value_name = "VALIDATOR", value_parser = parse_address)]
    validator: Address,
    /// How much, in OPEN.
    #[arg(value_name = "OPEN", value_parser = parse_amount)]
    amount: Amount,
    #[command(flatten)]
    send: SendArgs,
}

/// Arguments of `withdraw` and `claim`.
#[derive(Debug, Args)]
pub(crate) struct ValidatorArgs {
    /// The validator, provider or agent address.
    #[arg(value_name = "VALIDATOR", value_parser = parse_address)]
    validator: Address,
    #[command(flatten)]
    send: SendArgs,
}

/// Arguments of `delegate`.
#[derive(Debug, Args)]
pub(crate) struct DelegateArgs {
    /// Who your votes should count for.
    #[arg(value_name = "ACCOUNT", value_parser = parse_address)]
    delegatee: Address,
    #[command(flatten)]
    send: SendArgs,
}

/// Arguments of `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The account [default: the --dev-account's].
    #[arg(value_name = "ACCOUNT", value_parser = parse_address)]
    account: Option<Address>,
    /// Show development account N of the test mnemonic.
    #[arg(long = "dev-account", value_name = "N", conflicts_with = "account")]
    dev_account: Option<u32>,
    /// Print the node's JSON.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Runs a `stake` subcommand.
pub(crate) async fn run(command: StakeCommand) -> Result<()> {
    match command {
        StakeCommand::Add(args) => {
            let call = IStaking::stakeCall { validator: args.validator, amount: args.amount.wei() };
            let receipt = args.send.call(STAKING, Bytes::from(call.abi_encode())).await?;
            let event: IStaking::Staked = contract_event(&receipt, STAKING)?;
            println!("staked         {} to {}", format_open(event.amount), event.validator);
            print!("{}", describe_receipt(&receipt));
        }
        StakeCommand::Remove(args) => {
            let call =
                IStaking::unstakeCall { validator: args.validator, amount: args.amount.wei() };
            let receipt = args.send.call(STAKING, Bytes::from(call.abi_encode())).await?;
            let event: IStaking::UnbondingStarted = contract_event(&receipt, STAKING)?;
            println!("unbonding      {} from {}", format_open(event.amount), event.validator);
            println!(
                "withdrawable   from {} ({})",
                format_utc(event.completesAt),
                event.completesAt
            );
            print!("{}", describe_receipt(&receipt));
        }
        StakeCommand::Withdraw(args) => {
            let call = IStaking::withdrawUnbondedCall { validator: args.validator };
            let receipt = args.send.call(STAKING, Bytes::from(call.abi_encode())).await?;
            let event: IStaking::Withdrawn = contract_event(&receipt, STAKING)?;
            println!("withdrawn      {} from {}", format_open(event.amount), event.validator);
            print!("{}", describe_receipt(&receipt));
        }
        StakeCommand::Claim(args) => {
            let call = IStaking::claimRewardsCall { validator: args.validator };
            let receipt = args.send.call(STAKING, Bytes::from(call.abi_encode())).await?;
            let event: IStaking::RewardsClaimed = contract_event(&receipt, STAKING)?;
            println!("claimed        {} from {}", format_open(event.amount), event.validator);
            print!("{}", describe_receipt(&receipt));
        }
        StakeCommand::Delegate(args) => {
            let call = IStaking::delegateCall { delegatee: args.delegatee };
            let receipt = args.send.call(STAKING, Bytes::from(call.abi_encode())).await?;
            let event: IStaking::DelegateChanged = contract_event(&receipt, STAKING)?;
            println!("votes of       {} now count for {}", event.delegator, event.toDelegate);
            print!("{}", describe_receipt(&receipt));
        }
        StakeCommand::Show(args) => show(args).await?,
    }
    Ok(())
}

async fn show(args: ShowArgs) -> Result<()> {
    let account = match (args.account, args.dev_account) {
        (Some(account), _) => account,
        (None, Some(index)) => crate::account::dev_account(index)?.address(),
        (None, None) => {
            return Err(eyre!("name the account to show: an ADDRESS or --dev-account N"));
        }
    };
    let node = args.rpc.connect()?;
    let staking: StakingJson =
        node.call("ol_getStaking", vec![json!(account)]).await.map_err(read)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&staking)?);
    } else {
        print!("{}", describe(&staking));
    }
    Ok(())
}

fn read(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("{message}"),
        RpcError::MethodNotFound { url, method } => eyre!(
            "the node at {url} does not support {method}: is it an OpenLedger node with staking?"
        ),
        other => other.into(),
    }
}

/// An account's staking as aligned lines.
fn describe(staking: &StakingJson) -> String {
    let mut text = format!(
        "account        {}\nbonded         {}\nvotes          {}\ndelegate       {}\nvalidator of   {}\n",
        staking.account,
        format_open(staking.bonded),
        format_open(staking.votes),
        staking.delegate,
        format_open(staking.validator_stake),
    );
    for position in &staking.positions {
        text.push_str(&format!(
            "position       {}: bonded {}, unbonding {}, rewards {}\n",
            position.validator,
            format_open(position.bonded),
            format_open(position.unbonding_total),
            format_open(position.pending_rewards),
        ));
        for entry in &position.unbonding {
            let at = entry.completes_at.to::<u64>();
            text.push_str(&format!(
                "  unbonding    {} withdrawable from {} ({at})\n",
                format_open(entry.amount),
                format_utc(at),
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U64, U256};
    use ol_node::rpc::staking::{PositionJson, UnbondingJson};

    #[test]
    fn staking_reads_as_aligned_lines() {
        let open = |n: u64| Amount::from_open(n).wei();
        let validator = Address::repeat_byte(2);
        let staking = StakingJson {
            account: Address::repeat_byte(1),
            positions: vec![PositionJson {
                validator,
                bonded: open(40),
                unbonding_total: open(10),
                unbonding: vec![UnbondingJson { amount: open(10), completes_at: U64::from(0) }],
                pending_rewards: U256::ZERO,
            }],
            bonded: open(40),
            votes: open(40),
            delegate: Address::repeat_byte(1),
            validator_stake: U256::ZERO,
        };
        let text = describe(&staking);
        assert!(text.contains("bonded         40 OPEN\n"), "{text}");
        assert!(text.contains(&format!("position       {validator}: bonded 40 OPEN")), "{text}");
        assert!(text.contains("  unbonding    10 OPEN withdrawable from 1970-01-01"), "{text}");
    }
}
