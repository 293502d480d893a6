//! `openledger transfer`: send OPEN to an address with a transaction signed
//! locally, as any Ethereum wallet would.
//!
//! The steps are those of an ordinary wallet: read the chain id, the pending
//! nonce and the fee market from the node; sign an EIP-1559 (or, with
//! `--legacy`, an EIP-155 legacy) transaction; submit it with
//! `eth_sendRawTransaction`; then poll for its receipt.

use crate::{
    arguments::{format_open, parse_address, parse_amount},
    rpc::{NodeClient, RpcError},
    send::{Call, SendArgs, wait_for_receipt},
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use clap::Args;
use eyre::{Result, bail, eyre};
use ol_primitives::Amount;
use serde_json::json;
use std::time::Duration;

/// The gas of a plain value transfer to an account without code.
const TRANSFER_GAS: u64 = 21_000;

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
    send: SendArgs,
    /// Print the transaction hash as soon as the node accepts it, without
    /// waiting for the receipt.
    #[arg(long = "no-wait")]
    no_wait: bool,
}

/// Sends the transfer and, unless `--no-wait`, reports its receipt.
pub(crate) async fn run(args: TransferArgs) -> Result<()> {
    // Local checks first: a wrong password should not wait on the network.
    let signer = args.send.signer.signer(&args.send.keystore)?;
    let node = args.send.rpc.connect()?;
    let from = signer.address();
    tracing::info!(%from, to = %args.to, amount = %args.amount, "transfer");

    let gas_limit = match args.send.fees.gas_limit {
        Some(gas) => gas,
        None => gas_limit(&node, from, args.to, args.amount.wei()).await?,
    };
    let call = Call { to: args.to, value: args.amount.wei(), input: Bytes::new(), gas_limit };
    let hash = args.send.submit(&node, &signer, call).await?;
    if args.no_wait {
        println!("{hash}");
        return Ok(());
    }
    let receipt = wait_for_receipt(&node, hash, Duration::from_secs(args.send.timeout)).await?;
    report(&receipt)
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
    use crate::send::{Fees, sign};
    use alloy_consensus::{Transaction, TxEnvelope};
    use alloy_eips::eip2718::{Decodable2718, Encodable2718};

    #[test]
    fn signed_transfers_decode_and_recover_the_sender() {
        let signer = crate::account::dev_account(0).unwrap();
        let to = Address::repeat_byte(0x11);
        for fees in [Fees::Legacy { gas_price: 7 }, Fees::Dynamic { max_fee: 9, priority_fee: 1 }] {
            let call =
                Call { to, value: U256::from(5), input: Bytes::new(), gas_limit: TRANSFER_GAS };
            let envelope = sign(&signer, 1337, 4, fees, call).unwrap();
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
