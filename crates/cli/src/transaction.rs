//! `openledger tx`: a transaction and its receipt, as readable lines or as
//! the node's raw JSON (`{"transaction": ..., "receipt": ...}`).

use crate::{
    arguments::{format_gwei, format_open, parse_transaction_hash},
    rpc::RpcArgs,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{B256, U256};
use alloy_rpc_types_eth::{Transaction, TransactionReceipt};
use clap::Args;
use eyre::{Result, eyre};
use serde_json::json;
use std::fmt::Write as _;

/// Flags of `openledger tx`.
#[derive(Debug, Args)]
pub(crate) struct TransactionArgs {
    /// The transaction hash.
    #[arg(value_name = "HASH", value_parser = parse_transaction_hash)]
    hash: B256,
    /// Print the node's JSON instead of readable lines.
    #[arg(long = "json")]
    json: bool,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Prints the transaction and its receipt.
pub(crate) async fn run(args: TransactionArgs) -> Result<()> {
    let node = args.rpc.connect()?;
    let hash = args.hash;
    let transaction = node
        .transaction(hash)
        .await?
        .ok_or_else(|| eyre!("no transaction with hash {hash} on the node at {}", node.url()))?;
    let receipt = node.receipt(hash).await?;
    if args.json {
        let both = json!({ "transaction": transaction, "receipt": receipt });
        println!("{}", serde_json::to_string_pretty(&both)?);
        return Ok(());
    }
    let transaction: Transaction = serde_json::from_value(transaction)
        .map_err(|error| eyre!("the node's transaction {hash} could not be read: {error}"))?;
    let receipt: Option<TransactionReceipt> = receipt
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| eyre!("the node's receipt of {hash} could not be read: {error}"))?;
    print!("{}", describe(&transaction, receipt.as_ref()));
    Ok(())
}

/// The transaction and receipt as aligned lines.
fn describe(transaction: &Transaction, receipt: Option<&TransactionReceipt>) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "transaction   {}", transaction.inner.tx_hash());
    let _ = writeln!(text, "type          {}", transaction.inner.tx_type());
    let _ = writeln!(text, "from          {}", transaction.inner.signer());
    match transaction.to() {
        Some(to) => {
            let _ = writeln!(text, "to            {to}");
        }
        None => {
            let _ = writeln!(text, "to            (contract creation)");
        }
    }
    let _ = writeln!(text, "value         {}", format_open(transaction.value()));
    let _ = writeln!(text, "nonce         {}", transaction.nonce());
    let _ = writeln!(text, "gas limit     {}", transaction.gas_limit());
    match transaction.max_priority_fee_per_gas() {
        Some(priority_fee) => {
            let _ = writeln!(text, "max fee       {}", format_gwei(transaction.max_fee_per_gas()));
            let _ = writeln!(text, "priority fee  {}", format_gwei(priority_fee));
        }
        None => {
            let price = transaction.gas_price().unwrap_or_else(|| transaction.max_fee_per_gas());
            let _ = writeln!(text, "gas price     {}", format_gwei(price));
        }
    }
    if !transaction.input().is_empty() {
        let _ = writeln!(text, "input         {}", transaction.input());
    }
    let Some(receipt) = receipt else {
        let _ = writeln!(text, "status        pending (no receipt yet)");
        return text;
    };
    let block =
        receipt.block_number.map_or_else(|| "unknown".to_string(), |number| number.to_string());
    let status = if receipt.status() { "success" } else { "reverted" };
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    let _ = writeln!(text, "block         {block}");
    let _ = writeln!(text, "status        {status}");
    let _ = writeln!(text, "gas used      {}", receipt.gas_used);
    let _ = writeln!(text, "gas price     {}", format_gwei(receipt.effective_gas_price));
    let _ = writeln!(text, "fee paid      {}", format_open(fee));
    if let Some(contract) = receipt.contract_address {
        let _ = writeln!(text, "contract      {contract}");
    }
    let _ = writeln!(text, "logs          {}", receipt.inner.logs().len());
    text
}
