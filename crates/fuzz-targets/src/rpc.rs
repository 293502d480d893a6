//! JSON-RPC requests handled by the node's real RPC module.
//!
//! One [`RpcHarness`] per process: a chain on a temporary store with the dev
//! genesis, a few committed blocks holding transfers (so block, transaction
//! and receipt lookups find something) and one transaction still pooled.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use jsonrpsee::RpcModule;
use ol_node::{
    chain::Chain,
    dev::{DEV_CHAIN_ID, DEV_PRODUCER, dev_genesis, dev_signer},
    metrics::Metrics,
    rpc::{RpcConfig, RpcContext},
};
use ol_storage::Store;
use serde_json::{Value, json};
use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

/// Panics seen anywhere in the process since the harness started. jsonrpsee
/// runs blocking methods on tokio's blocking pool and turns a panic there
/// into an "internal error" answer, so a panic is only visible to a hook.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Transfers committed before fuzzing starts, one block each; the last one
/// of [`SEEDED_TRANSFERS`] stays in the pool.
const COMMITTED_TRANSFERS: u64 = 3;
const SEEDED_TRANSFERS: u64 = COMMITTED_TRANSFERS + 1;

/// The node's RPC module over a chain on a temporary store, and the runtime
/// that drives it.
pub struct RpcHarness {
    runtime: tokio::runtime::Runtime,
    module: RpcModule<RpcContext>,
    /// The chain's data directory. A static is never dropped, so it outlives
    /// the process: a small `ol-fuzz-rpc-*` folder left in the temp dir is
    /// the price of the node being able to write any file there at any time.
    data_dir: tempfile::TempDir,
}

impl std::fmt::Debug for RpcHarness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcHarness")
            .field("data_dir", &self.data_dir.path())
            .finish_non_exhaustive()
    }
}

impl RpcHarness {
    /// The process-wide harness, started on first use.
    pub fn get() -> &'static RpcHarness {
        static HARNESS: OnceLock<RpcHarness> = OnceLock::new();
        HARNESS.get_or_init(Self::start)
    }

    fn start() -> Self {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
        let data_dir = tempfile::Builder::new()
            .prefix("ol-fuzz-rpc-")
            .tempdir()
            .expect("a temporary directory can be created");
        let store = Store::open(data_dir.path()).expect("a fresh store opens");
        let blobs = Arc::new(
            ol_storage::BlobStore::open(data_dir.path().join("blobs"))
                .expect("a fresh blob store opens"),
        );
        let content = Arc::new(ol_node::content::BlobContent::new(blobs.clone()));
        let chain = Chain::open(store, dev_genesis(), Arc::new(Metrics::new()))
            .expect("the dev genesis initialises an empty store")
            .with_content(content);
        for (i, raw) in seeded_transfers().iter().enumerate() {
            chain.submit_raw(raw).expect("seeded transfers are valid");
            if (i as u64) < COMMITTED_TRANSFERS {
                chain.seal_block(DEV_PRODUCER, usize::MAX).expect("sealing a seeded block");
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime can be built");
        let indexes = Arc::new(ol_node::indexes::IndexService::new(
            data_dir.path().join("indexes"),
            blobs.clone(),
        ));
        let context = ol_node::rpc::RpcContext {
            chain: Arc::new(chain),
            config: RpcConfig { dev: true },
            blobs,
            indexes,
            inference: None,
            filters: Default::default(),
        };
        let module = ol_node::rpc::module(context);
        Self { runtime, module, data_dir }
    }

    /// Names of every method the module serves.
    pub fn method_names(&self) -> Vec<&'static str> {
        self.module.method_names().collect()
    }
}

/// Handles `data` as one JSON-RPC request with the node's RPC module and
/// checks that no method panicked and that the answer is a JSON-RPC
/// response. Bytes that are not UTF-8 are dropped, as the HTTP server
/// refuses them before any method runs.
pub fn fuzz_rpc_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let harness = RpcHarness::get();
    let panics = PANICS.load(Ordering::SeqCst);
    let answer = harness.runtime.block_on(harness.module.raw_json_request(text, 1));
    assert_eq!(PANICS.load(Ordering::SeqCst), panics, "a method panicked on request {text:?}");
    // Err: not a JSON-RPC request at all; the server answers -32700/-32600
    // before the module is involved.
    if let Ok((response, _notifications)) = answer {
        let response: Value = serde_json::from_str(response.get())
            .unwrap_or_else(|e| panic!("answer to {text:?} is not JSON: {e}"));
        assert_eq!(response["jsonrpc"], "2.0", "answer to {text:?}: {response}");
        assert!(
            response.get("result").is_some() != response.get("error").is_some(),
            "answer to {text:?} has neither or both of result and error: {response}"
        );
    }
}

/// Signed transfers from dev account 2, nonces 0.. (deterministic bytes).
fn seeded_transfers() -> Vec<Vec<u8>> {
    let signer = dev_signer(2);
    (0..SEEDED_TRANSFERS)
        .map(|nonce| {
            let tx = TxEip1559 {
                chain_id: DEV_CHAIN_ID,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 10_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(Address::repeat_byte(0x42)),
                value: U256::from(nonce + 1),
                access_list: Default::default(),
                input: Default::default(),
            };
            let signature = signer
                .sign_hash_sync(&tx.signature_hash())
                .expect("signing a 32-byte hash with a valid key cannot fail");
            let envelope: TxEnvelope = tx.into_signed(signature).into();
            envelope.encoded_2718()
        })
        .collect()
}

/// Well-formed requests for every method the node serves, with parameters
/// that hit committed data (blocks 0..=3, their transactions, funded
/// accounts), named, as seeds for the fuzzer.
pub fn rpc_seeds() -> Vec<(String, String)> {
    let hashes: Vec<B256> = seeded_transfers().iter().map(keccak256).collect();
    let committed = hashes[0];
    let pooled = hashes[SEEDED_TRANSFERS as usize - 1];
    let funded = dev_signer(2).address();
    let unsigned = json!({"from": funded, "to": Address::repeat_byte(0x42), "value": "0x1"});
    let seeds: Vec<(&str, &str, Value)> = vec![
        ("web3_clientVersion", "web3_clientVersion", json!([])),
        ("web3_sha3", "web3_sha3", json!(["0x68656c6c6f"])),
        ("net_version", "net_version", json!([])),
        ("eth_chainId", "eth_chainId", json!([])),
        ("eth_blockNumber", "eth_blockNumber", Value::Null),
        ("eth_gasPrice", "eth_gasPrice", json!([])),
        ("eth_getBalance", "eth_getBalance", json!([funded, "latest"])),
        ("eth_getBalance-old", "eth_getBalance", json!([funded, "0x1"])),
        ("eth_getTransactionCount", "eth_getTransactionCount", json!([funded, "pending"])),
        ("eth_getCode", "eth_getCode", json!([funded, "latest"])),
        ("eth_getStorageAt", "eth_getStorageAt", json!([funded, "0x0", "latest"])),
        (
            "eth_sendRawTransaction",
            "eth_sendRawTransaction",
            json!([alloy_primitives::hex::encode_prefixed(transaction_bytes())]),
        ),
        ("eth_getTransactionByHash", "eth_getTransactionByHash", json!([committed])),
        ("eth_getTransactionByHash-pooled", "eth_getTransactionByHash", json!([pooled])),
        ("eth_getTransactionReceipt", "eth_getTransactionReceipt", json!([committed])),
        ("eth_getBlockByNumber", "eth_getBlockByNumber", json!(["0x1", true])),
        ("eth_getBlockByNumber-latest", "eth_getBlockByNumber", json!(["latest", false])),
        ("eth_getBlockByHash", "eth_getBlockByHash", json!([B256::repeat_byte(1), false])),
        (
            "eth_getBlockTransactionCountByNumber",
            "eth_getBlockTransactionCountByNumber",
            json!(["0x2"]),
        ),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x3", "0x0"]),
        ),
        ("eth_getBlockReceipts", "eth_getBlockReceipts", json!(["0x1"])),
        ("eth_feeHistory", "eth_feeHistory", json!(["0x4", "latest", [10.0, 50.0, 90.0]])),
        ("eth_estimateGas", "eth_estimateGas", json!([unsigned])),
        ("eth_call", "eth_call", json!([unsigned, "latest"])),
        ("eth_getLogs", "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "latest"}])),
        ("eth_getProof", "eth_getProof", json!([funded, [B256::ZERO], "latest"])),
        ("ol_getBalanceBreakdown", "ol_getBalanceBreakdown", json!([funded])),
        ("eth_subscribe", "eth_subscribe", json!(["newHeads"])),
        ("eth_subscribe-logs", "eth_subscribe", json!(["logs", {"address": funded}])),
        ("eth_newFilter", "eth_newFilter", json!([{"address": funded, "topics": [null]}])),
        ("eth_newBlockFilter", "eth_newBlockFilter", json!([])),
        ("eth_getFilterChanges", "eth_getFilterChanges", json!(["0x1"])),
        ("eth_getFilterLogs", "eth_getFilterLogs", json!(["0x1"])),
        ("eth_uninstallFilter", "eth_uninstallFilter", json!(["0x1"])),
        ("unknown-method", "eth_doesNotExist", json!([])),
        (
            "debug_traceTransaction",
            "debug_traceTransaction",
            json!([committed, {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]),
        ),
        (
            "debug_traceCall",
            "debug_traceCall",
            json!([unsigned, "latest", {"tracer": "callTracer"}]),
        ),
        (
            "eth_call-override",
            "eth_call",
            json!([unsigned, "latest", {funded.to_string(): {"balance": "0x1", "stateDiff": {B256::ZERO.to_string(): B256::repeat_byte(1)}}}]),
        ),
        ("evm_snapshot", "evm_snapshot", json!([])),
        ("evm_revert", "evm_revert", json!(["0x1"])),
        ("hardhat_setBalance", "hardhat_setBalance", json!([Address::repeat_byte(0x42), "0x1"])),
        (
            "anvil_setStorageAt",
            "anvil_setStorageAt",
            json!([Address::repeat_byte(0x42), "0x0", B256::repeat_byte(1)]),
        ),
    ];
    seeds
        .into_iter()
        .enumerate()
        .map(|(id, (name, method, params))| {
            let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
            if !params.is_null() {
                request["params"] = params;
            }
            (name.to_string(), request.to_string())
        })
        .collect()
}

/// A valid transfer the harness has not seen (dev account 3, nonce 0).
fn transaction_bytes() -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: DEV_CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::repeat_byte(0x43)),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    let signature = dev_signer(3)
        .sign_hash_sync(&tx.signature_hash())
        .expect("signing a 32-byte hash with a valid key cannot fail");
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718()
}
