//! `openledger transfer`: send OPEN to an address with a transaction signed
//! locally, as any Ethereum wallet would.
//!
//! The steps are those of an ordinary wallet: read the chain id, the pending
//! nonce and the fee market from the node; sign an EIP-1559 (or, with
//! `--legacy`, an EIP-155 legacy) transaction; submit it with
//! `eth_sendRawTransaction`; then poll for its receipt.

use crate::{
    account::SignerArgs,
    arguments::{
        BlockReference, BlockTag, format_gwei, format_open, parse_address, parse_amount, parse_gwei,
    },
    keystore::KeystoreArgs,
    rpc::{NodeClient, RpcArgs, RpcError},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{Context, Result, bail, eyre};
use ol_primitives::Amount;
use serde_json::json;
use std::time::{Duration, Instant};

/// The gas of a plain value transfer to an account without code.
const TRANSFER_GAS: u64 = 21_000;

/// How often the node is asked for the receipt while waiting.
const RECEIPT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Flags of `openledger transfer`.
#[derive(Debug, Args)]
pub(crate) struct TransferArgs {
    /// The recipient.
    #[arg(long = "to", value_name = "ADDRESS", value_parser = parse_address)]
    to: Address,
    /// How much OPEN to send, in decimal ("1.5"; up to 18 decimals).
    #[arg(long = "amount", value_name = "OPEN", value_parser = parse_amount, allow_hyphen_values = true)]
    amount: Amount,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    keystore: KeystoreArgs,
    /// Send a legacy (type 0, EIP-155) transaction instead of EIP-1559.
    #[arg(long = "legacy")]
    legacy: bool,
    /// Gas price of a legacy transaction, in gwei [default: eth_gasPrice].
    #[arg(long = "gas-price-gwei", value_name = "GWEI", value_parser = parse_gwei, requires = "legacy", allow_hyphen_values = true)]
    gas_price: Option<u128>,
    /// Most paid per gas, in gwei [default: twice the latest base fee plus the priority fee].
    #[arg(long = "max-fee-gwei", value_name = "GWEI", value_parser = parse_gwei, conflicts_with = "legacy", allow_hyphen_values = true)]
    max_fee: Option<u128>,
    /// Tip per gas to the block producer, in gwei [default: eth_maxPriorityFeePerGas].
    #[arg(long = "priority-fee-gwei", value_name = "GWEI", value_parser = parse_gwei, conflicts_with = "legacy", allow_hyphen_values = true)]
    priority_fee: Option<u128>,
    /// Gas limit [default: 21000 to an account without code, else eth_estimateGas].
    #[arg(long = "gas-limit", value_name = "GAS")]
    gas_limit: Option<u64>,
    /// Print the transaction hash as soon as the node accepts it, without
    /// waiting for the receipt.
    #[arg(long = "no-wait")]
    no_wait: bool,
    /// Seconds to wait for the receipt.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// What the transaction pays for gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fees {
    /// A legacy transaction's single price per gas.
    Legacy { gas_price: u128 },
    /// An EIP-1559 transaction's cap and tip per gas.
    Dynamic { max_fee: u128, priority_fee: u128 },
}

/// Sends the transfer and, unless `--no-wait`, reports its receipt.
pub(crate) async fn run(args: TransferArgs) -> Result<()> {
    // Local checks first: a wrong password should not wait on the network.
    let signer = args.signer.signer(&args.keystore)?;
    let node = args.rpc.connect()?;
    let from = signer.address();
    tracing::info!(%from, to = %args.to, amount = %args.amount, "transfer");

    let chain_id = node.chain_id().await?;
    let nonce = node.transaction_count(from, BlockReference::Tag(BlockTag::Pending)).await?;
    let fees = fees(&node, &args).await?;
    let gas_limit = match args.gas_limit {
        Some(gas) => gas,
        None => gas_limit(&node, from, args.to, args.amount.wei()).await?,
    };
    let transaction = sign(&signer, chain_id, nonce, gas_limit, fees, args.to, args.amount.wei())?;
    let hash = node.send_raw_transaction(&transaction.encoded_2718()).await.map_err(refused)?;
    if hash != *transaction.tx_hash() {
        tracing::warn!(node = %hash, local = %transaction.tx_hash(), "the node reports another transaction hash");
    }
    if args.no_wait {
        println!("{hash}");
        return Ok(());
    }
    let receipt = wait_for_receipt(&node, hash, Duration::from_secs(args.timeout)).await?;
    report(&receipt)
}

/// Fees from the flags, filled in from the node's fee market.
async fn fees(node: &NodeClient, args: &TransferArgs) -> Result<Fees> {
    if args.legacy {
        let gas_price = match args.gas_price {
            Some(price) => price,
            None => node.gas_price().await?,
        };
        return Ok(Fees::Legacy { gas_price });
    }
    let priority_fee = match args.priority_fee {
        Some(fee) => fee,
        None => suggested_priority_fee(node).await?,
    };
    let max_fee = match args.max_fee {
        Some(max_fee) => {
            if args.priority_fee.is_some() && priority_fee > max_fee {
                bail!(
                    "--priority-fee-gwei ({}) is above --max-fee-gwei ({})",
                    format_gwei(priority_fee),
                    format_gwei(max_fee)
                );
            }
            max_fee
        }
        None => {
            let base_fee = latest_base_fee(node).await?;
            // Room for the base fee to double before the transaction is priced out.
            base_fee
                .checked_mul(2)
                .and_then(|doubled| doubled.checked_add(priority_fee))
                .ok_or_else(|| eyre!("the node's base fee is too large to pay"))?
        }
    };
    Ok(Fees::Dynamic { max_fee, priority_fee: priority_fee.min(max_fee) })
}

/// `eth_maxPriorityFeePerGas`, or the latest block's median tip from
/// `eth_feeHistory` where the node lacks that method, or zero.
async fn suggested_priority_fee(node: &NodeClient) -> Result<u128> {
    match node.max_priority_fee().await {
        Ok(fee) => Ok(fee),
        Err(RpcError::MethodNotFound { .. }) => match node.median_priority_fee().await {
            Ok(fee) => Ok(fee.unwrap_or(0)),
            Err(RpcError::MethodNotFound { .. }) => Ok(0),
            Err(error) => Err(error.into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// The base fee per gas of the latest block.
async fn latest_base_fee(node: &NodeClient) -> Result<u128> {
    let block = node
        .block(BlockReference::LATEST)
        .await?
        .ok_or_else(|| eyre!("the node has no latest block"))?;
    let base_fee =
        block.get("baseFeePerGas").and_then(|value| value.as_str()).ok_or_else(|| {
            eyre!("the node's latest block has no base fee (a pre-EIP-1559 chain?): use --legacy")
        })?;
    let digits = base_fee.strip_prefix("0x").unwrap_or(base_fee);
    u128::from_str_radix(digits, 16)
        .map_err(|_| eyre!("the node's latest block has a malformed base fee {base_fee:?}"))
}

/// 21000 for a plain transfer to an account without code; otherwise the
/// recipient runs code, and the node estimates it.
async fn gas_limit(node: &NodeClient, from: Address, to: Address, value: U256) -> Result<u64> {
    if node.code(to).await?.is_empty() {
        return Ok(TRANSFER_GAS);
    }
    let request = json!({ "from": from, "to": to, "value": value });
    node.estimate_gas(request).await.map_err(|error| match error {
        RpcError::Node { message, .. } => {
            eyre!("the node could not estimate the gas of this transfer: {message}")
        }
        other => other.into(),
    })
}

/// The signed transaction.
fn sign(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    fees: Fees,
    to: Address,
    value: U256,
) -> Result<TxEnvelope> {
    let envelope = match fees {
        Fees::Legacy { gas_price } => {
            let transaction = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit,
                to: TxKind::Call(to),
                value,
                input: Bytes::new(),
            };
            let signature = signer
                .sign_hash_sync(&transaction.signature_hash())
                .wrap_err("cannot sign the transaction")?;
            TxEnvelope::from(transaction.into_signed(signature))
        }
        Fees::Dynamic { max_fee, priority_fee } => {
            let transaction = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: priority_fee,
                to: TxKind::Call(to),
                value,
                ..TxEip1559::default()
            };
            let signature = signer
                .sign_hash_sync(&transaction.signature_hash())
                .wrap_err("cannot sign the transaction")?;
            TxEnvelope::from(transaction.into_signed(signature))
        }
    };
    Ok(envelope)
}

/// The node's refusal of a submitted transaction, in its own words.
fn refused(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("the node refused the transaction: {message}"),
        other => other.into(),
    }
}

/// Polls for the receipt of `hash` until it appears or `timeout` passes.
async fn wait_for_receipt(
    node: &NodeClient,
    hash: B256,
    timeout: Duration,
) -> Result<TransactionReceipt> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(receipt) = node.receipt(hash).await? {
            return serde_json::from_value(receipt)
                .map_err(|error| eyre!("the node's receipt of {hash} could not be read: {error}"));
        }
        if Instant::now() >= deadline {
            bail!(
                "transaction {hash} was sent, but no receipt came within {} s; \
                 check later with `openledger tx {hash}`",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(RECEIPT_POLL_INTERVAL).await;
    }
}

/// Prints the receipt; a reverted transaction is an error.
fn report(receipt: &TransactionReceipt) -> Result<()> {
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    let block =
        receipt.block_number.map_or_else(|| "unknown".to_string(), |number| number.to_string());
    let status = if receipt.status() { "success" } else { "reverted" };
    println!("transaction  {}", receipt.transaction_hash);
    println!("block        {block}");
    println!("status       {status}");
    println!("gas used     {}", receipt.gas_used);
    println!("fee paid     {}", format_open(fee));
    if !receipt.status() {
        bail!("the transaction was included in block {block} but reverted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::Transaction;
    use alloy_eips::eip2718::Decodable2718;

    #[test]
    fn signed_transfers_decode_and_recover_the_sender() {
        let signer = crate::account::dev_account(0).unwrap();
        let to = Address::repeat_byte(0x11);
        for fees in [Fees::Legacy { gas_price: 7 }, Fees::Dynamic { max_fee: 9, priority_fee: 1 }] {
            let envelope = sign(&signer, 1337, 4, TRANSFER_GAS, fees, to, U256::from(5)).unwrap();
            let encoded = envelope.encoded_2718();
            let decoded = TxEnvelope::decode_2718(&mut encoded.as_slice()).unwrap();
            assert_eq!(decoded.chain_id(), Some(1337));
            assert_eq!(decoded.nonce(), 4);
            assert_eq!(decoded.to(), Some(to));
            assert_eq!(decoded.value(), U256::from(5));
            let sender = decoded
                .signature()
                .recover_address_from_prehash(&decoded.signature_hash())
                .unwrap();
            assert_eq!(sender, signer.address());
        }
    }
}
