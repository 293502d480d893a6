//! Signing and submitting a transaction, as any Ethereum wallet does: the
//! flags every sending command shares ([`SendArgs`]: signer, fees, receipt
//! timeout, node) and the steps behind them.
//!
//! The steps: read the chain id, the pending nonce and the fee market from
//! the node; sign an EIP-1559 (or, with `--legacy`, an EIP-155 legacy)
//! transaction; submit it with `eth_sendRawTransaction`; poll for its
//! receipt. A call to a contract is first run by `eth_estimateGas`, so a call
//! that would revert is refused with the contract's reason before anything
//! is signed or sent ([`SendArgs::call`]).

use crate::{
    account::SignerArgs,
    arguments::{BlockReference, BlockTag, format_gwei, format_open, parse_gwei},
    keystore::KeystoreArgs,
    rpc::{EXECUTION_REVERTED, NodeClient, RpcArgs, RpcError},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{Context, Result, bail, eyre};
use serde_json::json;
use std::time::{Duration, Instant};

/// How often the node is asked for the receipt while waiting.
const RECEIPT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Extra gas over the estimate of a contract call, in percent: state can
/// change between the estimate and the block (another contribution lands),
/// and unused gas is not charged.
const GAS_HEADROOM_PERCENT: u64 = 20;

/// Who signs, what is paid for gas, how long to wait, and which node: the
/// flags of every command that sends a transaction.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) signer: SignerArgs,
    #[command(flatten)]
    pub(crate) keystore: KeystoreArgs,
    #[command(flatten)]
    pub(crate) fees: FeeArgs,
    /// Seconds to wait for the receipt.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = 120)]
    pub(crate) timeout: u64,
    #[command(flatten)]
    pub(crate) rpc: RpcArgs,
}

/// What a transaction pays for gas, as the user asked.
#[derive(Debug, Args)]
pub(crate) struct FeeArgs {
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
    /// Gas limit [default: 21000 for a plain transfer, else eth_estimateGas
    /// with some headroom].
    #[arg(long = "gas-limit", value_name = "GAS")]
    pub(crate) gas_limit: Option<u64>,
}

/// What the transaction pays for gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fees {
    /// A legacy transaction's single price per gas.
    Legacy { gas_price: u128 },
    /// An EIP-1559 transaction's cap and tip per gas.
    Dynamic { max_fee: u128, priority_fee: u128 },
}

/// A transaction before signing: where it goes, what it carries.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The recipient (an account or a contract).
    pub(crate) to: Address,
    /// OPEN sent along, in wei.
    pub(crate) value: U256,
    /// Call data (empty for a plain transfer).
    pub(crate) input: Bytes,
    /// Gas limit.
    pub(crate) gas_limit: u64,
}

impl SendArgs {
    /// Estimates, signs and sends a call of `input` to the contract `to`,
    /// then waits for its receipt. A call the contract would refuse fails
    /// with the contract's reason and sends nothing; a reverted receipt is
    /// an error naming the transaction.
    pub(crate) async fn call(&self, to: Address, input: Bytes) -> Result<TransactionReceipt> {
        let signer = self.signer.signer(&self.keystore)?;
        let node = self.rpc.connect()?;
        self.call_with(&node, &signer, to, input).await
    }

    /// Like [`SendArgs::call`] with a signer and client already at hand.
    pub(crate) async fn call_with(
        &self,
        node: &NodeClient,
        signer: &PrivateKeySigner,
        to: Address,
        input: Bytes,
    ) -> Result<TransactionReceipt> {
        let from = signer.address();
        let request = json!({ "from": from, "to": to, "value": U256::ZERO, "input": input });
        let estimate = node.estimate_gas(request).await.map_err(would_revert)?;
        let gas_limit = match self.fees.gas_limit {
            Some(gas) => gas,
            None => estimate.saturating_add(estimate * GAS_HEADROOM_PERCENT / 100),
        };
        let call = Call { to, value: U256::ZERO, input, gas_limit };
        let hash = self.submit(node, signer, call).await?;
        let receipt = wait_for_receipt(node, hash, Duration::from_secs(self.timeout)).await?;
        if !receipt.status() {
            let block = receipt.block_number.map_or("unknown".to_string(), |n| n.to_string());
            bail!("transaction {hash} was included in block {block} but reverted");
        }
        Ok(receipt)
    }

    /// Signs `call` from `signer` with the next pending nonce and the fees
    /// the flags ask for, and submits it: the accepted transaction's hash.
    pub(crate) async fn submit(
        &self,
        node: &NodeClient,
        signer: &PrivateKeySigner,
        call: Call,
    ) -> Result<B256> {
        let chain_id = node.chain_id().await?;
        let nonce = node
            .transaction_count(signer.address(), BlockReference::Tag(BlockTag::Pending))
            .await?;
        let fees = self.fees.resolve(node).await?;
        let transaction = sign(signer, chain_id, nonce, fees, call)?;
        let hash = node.send_raw_transaction(&transaction.encoded_2718()).await.map_err(refused)?;
        if hash != *transaction.tx_hash() {
            tracing::warn!(node = %hash, local = %transaction.tx_hash(), "the node reports another transaction hash");
        }
        Ok(hash)
    }
}

impl FeeArgs {
    /// Fees from the flags, filled in from the node's fee market.
    pub(crate) async fn resolve(&self, node: &NodeClient) -> Result<Fees> {
        if self.legacy {
            let gas_price = match self.gas_price {
                Some(price) => price,
                None => node.gas_price().await?,
            };
            return Ok(Fees::Legacy { gas_price });
        }
        let priority_fee = match self.priority_fee {
            Some(fee) => fee,
            None => suggested_priority_fee(node).await?,
        };
        let max_fee = match self.max_fee {
            Some(max_fee) => {
                if self.priority_fee.is_some() && priority_fee > max_fee {
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

/// The signed transaction.
pub(crate) fn sign(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    fees: Fees,
    call: Call,
) -> Result<TxEnvelope> {
    let Call { to, value, input, gas_limit } = call;
    let envelope = match fees {
        Fees::Legacy { gas_price } => {
            let transaction = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit,
                to: TxKind::Call(to),
                value,
                input,
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
                input,
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

/// A failed `eth_estimateGas`: the contract's revert reason, in a sentence
/// that says nothing was sent.
fn would_revert(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { code: EXECUTION_REVERTED, message, .. } => {
            let reason = message.strip_prefix("execution reverted: ").unwrap_or(&message);
            eyre!("the transaction would revert ({reason}); nothing was sent")
        }
        RpcError::Node { message, .. } => {
            eyre!("the node refused to estimate the transaction ({message}); nothing was sent")
        }
        other => other.into(),
    }
}

/// The node's refusal of a submitted transaction, in its own words.
pub(crate) fn refused(error: RpcError) -> eyre::Report {
    match error {
        RpcError::Node { message, .. } => eyre!("the node refused the transaction: {message}"),
        other => other.into(),
    }
}

/// Polls for the receipt of `hash` until it appears or `timeout` passes.
pub(crate) async fn wait_for_receipt(
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

/// The receipt's transaction, block, gas and fee as aligned lines.
pub(crate) fn describe_receipt(receipt: &TransactionReceipt) -> String {
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    let block =
        receipt.block_number.map_or_else(|| "unknown".to_string(), |number| number.to_string());
    format!(
        "transaction    {}\nblock          {block}\ngas used       {}\nfee paid       {}\n",
        receipt.transaction_hash,
        receipt.gas_used,
        format_open(fee)
    )
}

/// The events of type `E` that `contract` emitted in `receipt`.
pub(crate) fn contract_events<E: alloy_sol_types::SolEvent>(
    receipt: &TransactionReceipt,
    contract: Address,
) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == contract)
        .filter_map(|log| E::decode_log_data(log.data()).ok())
        .collect()
}

/// The first event of type `E` that `contract` emitted in `receipt`, which
/// the call must have emitted.
pub(crate) fn contract_event<E: alloy_sol_types::SolEvent>(
    receipt: &TransactionReceipt,
    contract: Address,
) -> Result<E> {
    contract_events(receipt, contract).into_iter().next().ok_or_else(|| {
        eyre!(
            "transaction {} succeeded but emitted no {} event",
            receipt.transaction_hash,
            E::SIGNATURE.split('(').next().unwrap_or(E::SIGNATURE)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::Transaction;
    use alloy_eips::eip2718::Decodable2718;

    #[test]
    fn signed_calls_decode_and_recover_the_sender() {
        let signer = crate::account::dev_account(0).unwrap();
        let to = Address::repeat_byte(0x11);
        let input = Bytes::from_static(&[1, 2, 3]);
        for fees in [Fees::Legacy { gas_price: 7 }, Fees::Dynamic { max_fee: 9, priority_fee: 1 }] {
            let call = Call { to, value: U256::from(5), input: input.clone(), gas_limit: 50_000 };
            let envelope = sign(&signer, 1337, 4, fees, call).unwrap();
            let encoded = envelope.encoded_2718();
            let decoded = TxEnvelope::decode_2718(&mut encoded.as_slice()).unwrap();
            assert_eq!(decoded.chain_id(), Some(1337));
            assert_eq!(decoded.nonce(), 4);
            assert_eq!(decoded.to(), Some(to));
            assert_eq!(decoded.value(), U256::from(5));
            assert_eq!(decoded.input(), &input);
            assert_eq!(decoded.gas_limit(), 50_000);
            let sender = decoded
                .signature()
                .recover_address_from_prehash(&decoded.signature_hash())
                .unwrap();
            assert_eq!(sender, signer.address());
        }
    }

    #[test]
    fn revert_reasons_are_shown_without_the_revert_data() {
        let error = RpcError::Node {
            method: "eth_estimateGas",
            code: EXECUTION_REVERTED,
            message: "execution reverted: datanet 9 does not exist".into(),
        };
        assert_eq!(
            would_revert(error).to_string(),
            "the transaction would revert (datanet 9 does not exist); nothing was sent"
        );
    }
}
