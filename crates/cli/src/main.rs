//! `openledger`: the OpenLedger node and its command-line client.
//!
//! `openledger node` runs a node and `openledger testnet` a local network of
//! validator nodes; the other commands are an ordinary Ethereum JSON-RPC
//! client of one (`balance`, `transfer`, `block`, `tx`), a client of its
//! datanets, attribution and models (`datanet`, `attribute`, `model`) and a
//! manager of the local encrypted keystore (`keys`). Values typed by the
//! user are parsed once, in [`arguments`], into types that cannot be
//! invalid; every failure reaches the user as one sentence on stderr and a
//! non-zero exit status.

mod account;
mod agent;
mod arguments;
mod attribute;
mod balance;
mod block;
mod calendar;
mod datanet;
mod gov;
mod inference;
mod keys;
mod keystore;
mod model;
// The lead's module declares its items `pub` for a future library crate.
#[allow(unreachable_pub)]
mod node_cmd;
mod rpc;
mod send;
mod staking;
mod testnet;
mod transaction;
mod transfer;
mod upload;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// OpenLedger: a blockchain for the economy of AI, paid in OPEN.
#[derive(Debug, Parser)]
#[command(name = "openledger", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node.
    Node(node_cmd::NodeArgs),
    /// Write and run a local validator network (keys, genesis, one config per node).
    #[command(subcommand)]
    Testnet(testnet::TestnetCommand),
    /// Manage the encrypted keys of the local keystore.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print an account's balance in OPEN.
    Balance(balance::BalanceArgs),
    /// Send OPEN to an address.
    Transfer(Box<transfer::TransferArgs>),
    /// Print a block.
    Block(block::BlockArgs),
    /// Print a transaction and its receipt.
    Tx(transaction::TransactionArgs),
    /// Create, contribute to, curate, publish and index datanets.
    #[command(subcommand)]
    Datanet(datanet::DatanetCommand),
    /// Show which contributions of a datanet version a text draws on.
    Attribute(Box<attribute::AttributeArgs>),
    /// Register, show, price and retire models trained from datanet versions.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Pay for inferences (deposits, signed authorisations), see earnings, claim rewards.
    #[command(subcommand)]
    Inference(inference::InferenceCommand),
    /// Register, pause, top up, unjail, deregister, report and show AI agents.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Stake OPEN to validators, unbond, withdraw, claim staking rewards, delegate votes.
    #[command(subcommand)]
    Stake(staking::StakeCommand),
    /// Propose, vote on, queue, execute, cancel and show governance proposals.
    #[command(subcommand)]
    Gov(gov::GovCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    initialize_logging(&cli.command);
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("error: {}", sentence(&report));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> eyre::Result<()> {
    match command {
        Command::Node(args) => node_cmd::run(args).await,
        Command::Testnet(command) => testnet::run(command).await,
        Command::Keys(command) => keys::run(command),
        Command::Balance(args) => balance::run(args).await,
        Command::Transfer(args) => transfer::run(*args).await,
        Command::Block(args) => block::run(args).await,
        Command::Tx(args) => transaction::run(args).await,
        Command::Datanet(command) => datanet::run(command).await,
        Command::Attribute(args) => attribute::run(*args).await,
        Command::Model(command) => model::run(command).await,
        Command::Inference(command) => inference::run(command).await,
        Command::Agent(command) => agent::run(command).await,
        Command::Stake(command) => staking::run(command).await,
        Command::Gov(command) => gov::run(command).await,
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`; by default a node reports its
/// progress and a client only its warnings.
fn initialize_logging(command: &Command) {
    let default = match command {
        Command::Node(_) => "info",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// The error and its causes as one line: "what failed: why".
fn sentence(report: &eyre::Report) -> String {
    report.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn transfer_needs_exactly_one_signer() {
        let base = [
            "openledger",
            "transfer",
            "--to",
            "0x1111111111111111111111111111111111111111",
            "--amount",
            "1",
        ];
        assert!(Cli::try_parse_from(base).is_err());
        let both = [&base[..], &["--dev-account", "0", "--private-key", "00"]].concat();
        assert!(Cli::try_parse_from(both).is_err());
        let one = [&base[..], &["--dev-account", "0"]].concat();
        assert!(Cli::try_parse_from(one).is_ok());
    }

    #[test]
    fn legacy_and_dynamic_fee_flags_exclude_each_other() {
        let base = [
            "openledger",
            "transfer",
            "--to",
            "0x1111111111111111111111111111111111111111",
            "--amount",
            "1",
            "--dev-account",
            "0",
        ];
        let mixed = [&base[..], &["--legacy", "--max-fee-gwei", "2"]].concat();
        assert!(Cli::try_parse_from(mixed).is_err());
        let price_without_legacy = [&base[..], &["--gas-price-gwei", "2"]].concat();
        assert!(Cli::try_parse_from(price_without_legacy).is_err());
        let legacy = [&base[..], &["--legacy", "--gas-price-gwei", "2.5"]].concat();
        assert!(Cli::try_parse_from(legacy).is_ok());
    }
}
