//! The JSON-RPC client: the same `eth_*` calls any Ethereum client makes,
//! plus OpenLedger's `ol_*` extensions.
//!
//! [`NodeClient`] wraps a jsonrpsee HTTP client and turns its errors into
//! [`RpcError`], whose messages say whose fault a failure was: the network
//! (the node cannot be reached), the node (it answered with an error, shown
//! as the node's own message), or the answer (it could not be read).

use crate::arguments::BlockReference;
use alloy_primitives::{Address, B256, Bytes, U64, U128, U256};
use clap::Args;
use jsonrpsee::{
    core::{
        client::{ClientT, Error as ClientError},
        params::ArrayParams,
    },
    http_client::{HttpClient, HttpClientBuilder},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::time::Duration;

/// The JSON-RPC error code for "method not found".
const METHOD_NOT_FOUND: i32 = -32601;

/// geth's JSON-RPC error code for a call that reverted.
pub(crate) const EXECUTION_REVERTED: i32 = 3;

/// How long one request may take before the node counts as unresponsive.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the node's JSON-RPC endpoint is.
#[derive(Debug, Clone, Args)]
pub(crate) struct RpcArgs {
    /// URL of the node's JSON-RPC endpoint.
    #[arg(
        long = "rpc-url",
        env = "OPENLEDGER_RPC_URL",
        default_value = "http://127.0.0.1:8545",
        value_name = "URL"
    )]
    pub(crate) rpc_url: String,
}

impl RpcArgs {
    /// A client for the endpoint.
    pub(crate) fn connect(&self) -> Result<NodeClient, RpcError> {
        NodeClient::new(&self.rpc_url)
    }
}

/// Why a JSON-RPC call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RpcError {
    /// The URL is not a usable HTTP(S) URL.
    #[error("invalid --rpc-url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answered at the URL, or the connection failed.
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable {
        /// The node's URL.
        url: String,
        /// The network's reason.
        reason: String,
    },
    /// The node did not answer in time.
    #[error("the node at {url} did not answer {method} within {seconds} s", seconds = REQUEST_TIMEOUT.as_secs())]
    Timeout {
        /// The node's URL.
        url: String,
        /// The method called.
        method: &'static str,
    },
    /// The node does not implement the method.
    #[error("the node at {url} does not support {method}")]
    MethodNotFound {
        /// The node's URL.
        url: String,
        /// The method called.
        method: &'static str,
    },
    /// The node answered with a JSON-RPC error.
    #[error("the node answered {method} with an error: {message}")]
    Node {
        /// The method called.
        method: &'static str,
        /// The JSON-RPC error code.
        code: i32,
        /// The node's message, with its `data` appended when there is any.
        message: String,
    },
    /// The answer is not what the method returns.
    #[error("the node's answer to {method} could not be read: {reason}")]
    Malformed {
        /// The method called.
        method: &'static str,
        /// What could not be read.
        reason: String,
    },
}

/// A JSON-RPC client of one node.
#[derive(Debug)]
pub(crate) struct NodeClient {
    url: String,
    client: HttpClient,
}

impl NodeClient {
    /// A client of the node at `url` (no connection is made yet).
    pub(crate) fn new(url: &str) -> Result<Self, RpcError> {
        let client = HttpClientBuilder::default()
            .request_timeout(REQUEST_TIMEOUT)
            .build(url)
            .map_err(|error| RpcError::InvalidUrl {
                url: url.to_string(),
                reason: innermost_reason(&error),
            })?;
        Ok(Self { url: url.to_string(), client })
    }

    /// The node's URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with positional `params` and decodes the result.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Vec<Value>,
    ) -> Result<T, RpcError> {
        tracing::debug!(method, ?params, url = %self.url, "JSON-RPC request");
        let mut array = ArrayParams::new();
        for param in params {
            array.insert(param).map_err(|error| RpcError::Malformed {
                method,
                reason: format!("cannot encode a parameter: {error}"),
            })?;
        }
        let value: Value = self
            .client
            .request(method, array)
            .await
            .map_err(|error| self.classify(method, error))?;
        tracing::debug!(method, %value, "JSON-RPC response");
        serde_json::from_value(value)
            .map_err(|error| RpcError::Malformed { method, reason: error.to_string() })
    }

    fn classify(&self, method: &'static str, error: ClientError) -> RpcError {
        match error {
            ClientError::Call(object) if object.code() == METHOD_NOT_FOUND => {
                RpcError::MethodNotFound { url: self.url.clone(), method }
            }
            ClientError::Call(object) => {
                let mut message = object.message().to_string();
                // A revert's data is the ABI encoding of the reason the
                // message already spells out ("execution reverted: why").
                let reason_given =
                    object.code() == EXECUTION_REVERTED && message.contains("reverted: ");
                if let Some(data) = object.data().filter(|_| !reason_given) {
                    message = format!("{message} ({})", data.get().trim_matches('"'));
                }
                RpcError::Node { method, code: object.code(), message }
            }
            ClientError::RequestTimeout => RpcError::Timeout { url: self.url.clone(), method },
            ClientError::ParseError(error) => RpcError::Malformed {
                method,
                reason: format!("{error} (is {} a JSON-RPC endpoint?)", self.url),
            },
            ClientError::Transport(error) => RpcError::Unreachable {
                url: self.url.clone(),
                reason: innermost_reason(error.as_ref()),
            },
            other => {
                RpcError::Unreachable { url: self.url.clone(), reason: innermost_reason(&other) }
            }
        }
    }

    /// `eth_chainId`.
    pub(crate) async fn chain_id(&self) -> Result<u64, RpcError> {
        let id: U64 = self.call("eth_chainId", vec![]).await?;
        Ok(id.to())
    }

    /// `eth_getBalance` at `block`, in wei.
    pub(crate) async fn balance(
        &self,
        address: Address,
        block: BlockReference,
    ) -> Result<U256, RpcError> {
        let params = vec![to_json(address), block.to_state_parameter()];
        self.call("eth_getBalance", params).await
    }

    /// `ol_getBalanceBreakdown` at `block`.
    pub(crate) async fn balance_breakdown(
        &self,
        address: Address,
        block: BlockReference,
    ) -> Result<BalanceBreakdown, RpcError> {
        let params = vec![to_json(address), block.to_state_parameter()];
        self.call("ol_getBalanceBreakdown", params).await
    }

    /// `eth_getTransactionCount` at `block`: the next nonce of `address`.
    pub(crate) async fn transaction_count(
        &self,
        address: Address,
        block: BlockReference,
    ) -> Result<u64, RpcError> {
        let params = vec![to_json(address), block.to_state_parameter()];
        let count: U64 = self.call("eth_getTransactionCount", params).await?;
        Ok(count.to())
    }

    /// `eth_getCode` at the latest block.
    pub(crate) async fn code(&self, address: Address) -> Result<Bytes, RpcError> {
        let params = vec![to_json(address), BlockReference::LATEST.to_state_parameter()];
        self.call("eth_getCode", params).await
    }

    /// `eth_getBlockByNumber` / `eth_getBlockByHash` with transaction hashes
    /// only; `None` when the node has no such block.
    pub(crate) async fn block(&self, block: BlockReference) -> Result<Option<Value>, RpcError> {
        let answer: Value = match block {
            BlockReference::Hash(hash) => {
                self.call("eth_getBlockByHash", vec![to_json(hash), Value::Bool(false)]).await?
            }
            other => {
                let number = other.to_state_parameter();
                self.call("eth_getBlockByNumber", vec![number, Value::Bool(false)]).await?
            }
        };
        Ok(Some(answer).filter(|value| !value.is_null()))
    }

    /// `eth_getTransactionByHash`; `None` when the node does not know it.
    pub(crate) async fn transaction(&self, hash: B256) -> Result<Option<Value>, RpcError> {
        let answer: Value = self.call("eth_getTransactionByHash", vec![to_json(hash)]).await?;
        Ok(Some(answer).filter(|value| !value.is_null()))
    }

    /// `eth_getTransactionReceipt`; `None` while the transaction is not in a
    /// block (or unknown).
    pub(crate) async fn receipt(&self, hash: B256) -> Result<Option<Value>, RpcError> {
        let answer: Value = self.call("eth_getTransactionReceipt", vec![to_json(hash)]).await?;
        Ok(Some(answer).filter(|value| !value.is_null()))
    }

    /// `eth_maxPriorityFeePerGas`, in wei.
    pub(crate) async fn max_priority_fee(&self) -> Result<u128, RpcError> {
        let fee: U128 = self.call("eth_maxPriorityFeePerGas", vec![]).await?;
        Ok(fee.to())
    }

    /// The median priority fee paid in the latest block, from
    /// `eth_feeHistory`; `None` when the node reports no rewards.
    pub(crate) async fn median_priority_fee(&self) -> Result<Option<u128>, RpcError> {
        let params = vec![Value::from("0x1"), Value::from("latest"), serde_json::json!([50.0])];
        let history: FeeHistory = self.call("eth_feeHistory", params).await?;
        Ok(history
            .reward
            .and_then(|blocks| blocks.into_iter().next())
            .and_then(|percentiles| percentiles.into_iter().next())
            .map(|fee| fee.to()))
    }

    /// `eth_gasPrice`, in wei.
    pub(crate) async fn gas_price(&self) -> Result<u128, RpcError> {
        let price: U128 = self.call("eth_gasPrice", vec![]).await?;
        Ok(price.to())
    }

    /// `eth_estimateGas` of a call `request` (an Ethereum call object).
    pub(crate) async fn estimate_gas(&self, request: Value) -> Result<u64, RpcError> {
        let gas: U64 = self.call("eth_estimateGas", vec![request]).await?;
        Ok(gas.to())
    }

    /// `eth_sendRawTransaction`: the hash of the accepted transaction.
    pub(crate) async fn send_raw_transaction(&self, encoded: &[u8]) -> Result<B256, RpcError> {
        let raw = Bytes::copy_from_slice(encoded);
        self.call("eth_sendRawTransaction", vec![to_json(raw)]).await
    }
}

/// The answer of `eth_feeHistory`, reduced to what fee estimation reads.
#[derive(Debug, Deserialize)]
struct FeeHistory {
    reward: Option<Vec<Vec<U128>>>,
}

/// The answer of `ol_getBalanceBreakdown`: an account's OPEN by availability,
/// each in wei.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BalanceBreakdown {
    /// Everything the account holds.
    pub(crate) total: U256,
    /// What it may spend or transfer now.
    pub(crate) spendable: U256,
    /// What is locked (staked, bonded or not yet vested).
    pub(crate) locked: U256,
    /// What its vesting schedule has released so far.
    pub(crate) vested: U256,
    /// Its vesting schedule, if it has one.
    pub(crate) vesting: Option<VestingSchedule>,
}

/// A vesting schedule: `total` released linearly over `linear_seconds`,
/// starting `cliff_seconds` after `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VestingSchedule {
    /// The amount the schedule releases, in wei.
    pub(crate) total: U256,
    /// When the schedule starts, in Unix seconds.
    pub(crate) start: U64,
    /// Seconds after `start` before anything is released.
    pub(crate) cliff_seconds: U64,
    /// Seconds over which the amount is released after the cliff.
    pub(crate) linear_seconds: U64,
}

fn to_json<T: Serialize>(value: T) -> Value {
    // Addresses, hashes and byte strings always serialize (as hex strings).
    serde_json::to_value(value).expect("alloy primitive types serialize infallibly")
}

/// The most specific message in an error's source chain ("Connection refused
/// (os error 111)" rather than "client error (Connect)").
fn innermost_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        messages.push(inner.to_string());
        source = inner.source();
    }
    messages.dedup();
    let last = messages.pop().unwrap_or_default();
    match messages.pop() {
        // "tcp connect error: Connection refused" reads better than either alone.
        Some(outer) if outer.len() < 40 && !last.contains(&outer) => format!("{outer}: {last}"),
        _ => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_breakdown_reads_hex_quantities() {
        let answer = serde_json::json!({
            "total": "0xde0b6b3a7640000",
            "spendable": "0x6f05b59d3b20000",
            "locked": "0x6f05b59d3b20000",
            "vested": "0x0",
            "vesting": {
                "total": "0x6f05b59d3b20000",
                "start": "0x65920080",
                "cliffSeconds": "0x1e13380",
                "linearSeconds": "0x5a39a80"
            }
        });
        let breakdown: BalanceBreakdown = serde_json::from_value(answer).unwrap();
        assert_eq!(breakdown.total, U256::from(1_000_000_000_000_000_000u128));
        let vesting = breakdown.vesting.unwrap();
        assert_eq!(vesting.cliff_seconds.to::<u64>(), 31_536_000);
        let without_vesting = serde_json::json!({
            "total": "0x1", "spendable": "0x1", "locked": "0x0", "vested": "0x0", "vesting": null
        });
        let breakdown: BalanceBreakdown = serde_json::from_value(without_vesting).unwrap();
        assert_eq!(breakdown.vesting, None);
    }

    #[test]
    fn urls_that_are_not_http_are_refused() {
        let error = NodeClient::new("localhost-8545").unwrap_err();
        assert!(error.to_string().starts_with("invalid --rpc-url"), "{error}");
    }
}
