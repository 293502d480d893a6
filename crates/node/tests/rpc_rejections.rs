//! What the node refuses, and that refusing changes nothing.
//!
//! Every test launches its own node in-process ([`ol_node::launch`]) and
//! talks to it as a wallet would: signed transactions built with alloy, sent
//! over real HTTP JSON-RPC (jsonrpsee's client, or raw HTTP for bytes no
//! client would send) and WebSocket. Each refusal is checked for its code,
//! for a message that names the problem, and for leaving the sender's
//! balance and nonces, the head block and the pool exactly as they were.
//! The positive checks pin where fees go, what "pending" counts, that
//! `newHeads` is delivered and that `eth_getProof` verifies against the
//! header's state root.

mod common;

use alloy_consensus::{
    SignableTransaction, Signed, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy,
};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList, eip2930::AccessListItem};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address, hex, uint};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use common::{Node, params};
use jsonrpsee::{
    core::{
        ClientError,
        client::{ClientT, SubscriptionClientT},
    },
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
    types::ErrorObjectOwned,
    ws_client::WsClientBuilder,
};
use ol_ledger::genesis::{Allocation, Genesis, VestingTerms};
use ol_node::{
    GenesisSource, NodeHandle,
    dev::{self, DEV_PRODUCER, DEV_RESERVE},
    pool::MAX_PER_SENDER,
};
use ol_primitives::{Amount, MAX_TX_SIZE, addresses};
use ol_storage::{AccountProof, StorageProof, verify_account_proof};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHAIN_ID: u64 = dev::DEV_CHAIN_ID;
const GWEI: u128 = 1_000_000_000;
/// A recipient no test funds in advance.
const RECIPIENT: Address = address!("0x5555555555555555555555555555555555555555");
/// Codes of refused transactions (see `ol_node::rpc::errors`).
const INVALID_PARAMS: i32 = -32602;
const REJECTED: i32 = -32003;
const SERVER_ERROR: i32 = -32000;
/// secp256k1's group order n.
const CURVE_ORDER: U256 =
    uint!(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141_U256);

// ---------------------------------------------------------------------------
// A node under test
// ---------------------------------------------------------------------------

struct TestNode {
    handle: NodeHandle,
    client: HttpClient,
    _datadir: tempfile::TempDir,
}

/// What a refused transaction must leave untouched.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    balance: U256,
    nonce: u64,
    pending_nonce: u64,
    head: u64,
    pool: usize,
}

async fn start(genesis: GenesisSource, block_time: Duration) -> TestNode {
    let (handle, datadir) = Node::builder().genesis(genesis).block_time(block_time).launch().await;
    // Room for the oversized transaction, which the shared client would refuse to send.
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .max_request_size(32 * 1024 * 1024)
        .build(format!("http://{}", handle.http))
        .expect("an HTTP client for a bound address");
    TestNode { handle, client, _datadir: datadir }
}

/// A dev node sealing one block per transaction.
async fn dev_node() -> TestNode {
    start(GenesisSource::Dev, Duration::ZERO).await
}

impl TestNode {
    async fn try_call<T: DeserializeOwned>(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<T, ErrorObjectOwned> {
        match self.client.request::<T, _>(method, params(args)).await {
            Ok(value) => Ok(value),
            Err(ClientError::Call(error)) => Err(error),
            Err(other) => panic!("{method}: transport failure: {other}"),
        }
    }

    async fn call<T: DeserializeOwned>(&self, method: &str, args: Vec<Value>) -> T {
        let shown = format!("{method}({args:?})");
        self.try_call(method, args).await.unwrap_or_else(|e| panic!("{shown} failed: {e}"))
    }

    async fn call_err(&self, method: &str, args: Vec<Value>) -> ErrorObjectOwned {
        let shown = format!("{method}({args:?})");
        match self.try_call::<Value>(method, args).await {
            Ok(value) => panic!("{shown} should have failed, answered {value}"),
            Err(error) => error,
        }
    }

    async fn send(&self, raw: &[u8]) -> Result<B256, ErrorObjectOwned> {
        self.try_call("eth_sendRawTransaction", vec![json!(Bytes::copy_from_slice(raw))]).await
    }

    async fn balance(&self, address: Address) -> U256 {
        self.call("eth_getBalance", vec![json!(address), json!("latest")]).await
    }

    async fn nonce(&self, address: Address, tag: &str) -> u64 {
        let n: alloy_primitives::U64 =
            self.call("eth_getTransactionCount", vec![json!(address), json!(tag)]).await;
        n.to()
    }

    async fn head(&self) -> u64 {
        let n: alloy_primitives::U64 = self.call("eth_blockNumber", vec![]).await;
        n.to()
    }

    async fn observe(&self, sender: Address) -> Observed {
        Observed {
            balance: self.balance(sender).await,
            nonce: self.nonce(sender, "latest").await,
            pending_nonce: self.nonce(sender, "pending").await,
            head: self.head().await,
            pool: self.handle.chain.pool_len(),
        }
    }

    /// Sends `raw`, expects a refusal with `code` whose message contains every
    /// phrase, and checks that nothing moved.
    async fn assert_refused(&self, raw: &[u8], sender: Address, code: i32, phrases: &[&str]) {
        let before = self.observe(sender).await;
        let error = match self.send(raw).await {
            Ok(hash) => panic!("transaction {hash} was accepted; expected {phrases:?}"),
            Err(error) => error,
        };
        assert_eq!(error.code(), code, "wrong code for {phrases:?}: {error}");
        for phrase in phrases {
            assert!(error.message().contains(phrase), "{phrase:?} not in {:?}", error.message());
        }
        // Long enough for a wrongly accepted transaction to be sealed.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = self.observe(sender).await;
        assert_eq!(before, after, "state moved after a refusal ({phrases:?})");
    }

    async fn wait_receipt(&self, hash: B256) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let receipt: Value = self.call("eth_getTransactionReceipt", vec![json!(hash)]).await;
            if !receipt.is_null() {
                return receipt;
            }
            assert!(Instant::now() < deadline, "no receipt for {hash} after 15 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn block(&self, tag: Value) -> Value {
        self.call("eth_getBlockByNumber", vec![tag, json!(false)]).await
    }

    /// POSTs `body` as is and returns the parsed JSON answer.
    async fn post_raw(&self, body: &str) -> Value {
        post_raw(self.handle.http, body).await
    }
}

/// A plain HTTP/1.1 POST, for bodies no JSON-RPC client would send.
async fn post_raw(address: std::net::SocketAddr, body: &str) -> Value {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("the node listens");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("the request is written");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("the response is read");
    let text = String::from_utf8(response).expect("the response is UTF-8");
    let (head, payload) = text.split_once("\r\n\r\n").expect("an HTTP response has a head");
    // jsonrpsee answers a body that is not JSON with 400 and a JSON-RPC
    // error object; everything else with 200.
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.1 400"),
        "unexpected HTTP status: {head}"
    );
    let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(payload)
    } else {
        payload.to_string()
    };
    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("not JSON ({e}): {payload}"))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

// ---------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------

fn signer(index: u32) -> PrivateKeySigner {
    dev::dev_signer(index)
}

fn sign<T>(signer: &PrivateKeySigner, tx: T) -> Vec<u8>
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    let signature = signer.sign_hash_sync(&tx.signature_hash()).expect("a dev key signs");
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

/// `tx` with a signature of our choosing.
fn with_signature<T>(tx: T, signature: Signature) -> Vec<u8>
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

/// A 1 wei EIP-1559 transfer paying up to 2 gwei with a 1 gwei tip.
fn transfer(nonce: u64) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(RECIPIENT),
        value: U256::from(1),
        access_list: AccessList::default(),
        input: Bytes::new(),
    }
}

fn legacy(nonce: u64) -> TxLegacy {
    TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 2 * GWEI,
        gas_limit: 21_000,
        to: TxKind::Call(RECIPIENT),
        value: U256::from(1),
        input: Bytes::new(),
    }
}

fn open(amount: u64) -> U256 {
    Amount::from_open(amount).wei()
}

fn u256(value: &Value) -> U256 {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value} is no quantity: {e}"))
}

fn b256(value: &Value) -> B256 {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value} is no hash: {e}"))
}

fn quantity(value: &Value) -> u64 {
    u256(value).to()
}

// ---------------------------------------------------------------------------
// Refused bytes
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_bytes_are_invalid_params() {
    let node = dev_node().await;
    let sender = signer(0).address();
    let good = sign(&signer(0), transfer(0));

    node.assert_refused(&[], sender, INVALID_PARAMS, &["empty transaction data"]).await;
    node.assert_refused(&hex!("c0ffee"), sender, INVALID_PARAMS, &["rlp", "malformed"]).await;
    node.assert_refused(&hex!("8080"), sender, INVALID_PARAMS, &["rlp", "malformed"]).await;
    node.assert_refused(&good[..good.len() - 5], sender, INVALID_PARAMS, &["rlp", "malformed"])
        .await;
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 1, 2]);
    node.assert_refused(&trailing, sender, INVALID_PARAMS, &["3 trailing bytes"]).await;
    let mut wrong_field = good.clone();
    wrong_field[1] ^= 0x3f; // the list header no longer matches its length
    node.assert_refused(&wrong_field, sender, INVALID_PARAMS, &["rlp"]).await;

    // Not hex at all is refused by the parameter parser, before decoding.
    let error = node.call_err("eth_sendRawTransaction", vec![json!("0xzz")]).await;
    assert_eq!(error.code(), INVALID_PARAMS, "{error}");
    assert!(error.message().contains("signed transaction bytes"), "{error}");

    // The first decode still succeeds afterwards.
    let hash = node.send(&good).await.expect("the untouched transaction is valid");
    node.wait_receipt(hash).await;
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_and_set_code_transactions_are_unsupported_types() {
    let node = dev_node().await;
    let sender = signer(0).address();
    let blob = TxEip4844 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: RECIPIENT,
        value: U256::from(1),
        access_list: AccessList::default(),
        blob_versioned_hashes: vec![B256::with_last_byte(1)],
        max_fee_per_blob_gas: 1,
        input: Bytes::new(),
    };
    let signature = signer(0).sign_hash_sync(&blob.signature_hash()).expect("a dev key signs");
    let signed: Signed<alloy_consensus::TxEip4844Variant> = blob.into_signed(signature).into();
    let blob = TxEnvelope::from(signed).encoded_2718();
    assert_eq!(blob[0], 3);
    node.assert_refused(&blob, sender, INVALID_PARAMS, &["transaction type not supported: type 3"])
        .await;

    let set_code = TxEip7702 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: RECIPIENT,
        ..Default::default()
    };
    let set_code = sign(&signer(0), set_code);
    assert_eq!(set_code[0], 4);
    node.assert_refused(
        &set_code,
        sender,
        INVALID_PARAMS,
        &["transaction type not supported: type 4"],
    )
    .await;
    // An unknown type byte, and a reserved one.
    node.assert_refused(&hex!("05c0"), sender, INVALID_PARAMS, &["type 5"]).await;
    node.assert_refused(&hex!("7fc0"), sender, INVALID_PARAMS, &["type 127"]).await;
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_transaction_is_refused() {
    let node = dev_node().await;
    let sender = signer(0).address();
    let big = TxEip1559 {
        gas_limit: 5_000_000,
        input: Bytes::from(vec![1u8; MAX_TX_SIZE + 1]),
        ..transfer(0)
    };
    let raw = sign(&signer(0), big);
    assert!(raw.len() > 128 * 1024);
    node.assert_refused(&raw, sender, INVALID_PARAMS, &["oversized data", "131072"]).await;

    // Just under the limit is accepted and mined.
    let fits = TxEip1559 {
        gas_limit: 5_000_000,
        input: Bytes::from(vec![1u8; MAX_TX_SIZE - 200]),
        ..transfer(0)
    };
    let raw = sign(&signer(0), fits);
    assert!(raw.len() <= MAX_TX_SIZE);
    let hash = node.send(&raw).await.expect("a transaction under 128 KiB is accepted");
    assert_eq!(node.wait_receipt(hash).await["status"], json!("0x1"));
    node.handle.stop().await;
}

// ---------------------------------------------------------------------------
// Refused signatures and chains
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_refused() {
    let node = dev_node().await;
    let key = signer(0);
    let sender = key.address();
    let tx = transfer(0);
    let good = key.sign_hash_sync(&tx.signature_hash()).expect("a dev key signs");
    let unrecoverable = ["invalid transaction signature", "sender cannot be recovered"];

    let zero_r = with_signature(tx.clone(), Signature::new(U256::ZERO, good.s(), good.v()));
    node.assert_refused(&zero_r, sender, INVALID_PARAMS, &unrecoverable).await;
    let zero_s = with_signature(tx.clone(), Signature::new(good.r(), U256::ZERO, good.v()));
    node.assert_refused(&zero_s, sender, INVALID_PARAMS, &unrecoverable).await;
    // r at or above the group order is no curve point's x coordinate.
    let r_order = with_signature(tx.clone(), Signature::new(CURVE_ORDER, good.s(), good.v()));
    node.assert_refused(&r_order, sender, INVALID_PARAMS, &unrecoverable).await;
    let r_max = with_signature(tx.clone(), Signature::new(U256::MAX, good.s(), good.v()));
    node.assert_refused(&r_max, sender, INVALID_PARAMS, &unrecoverable).await;

    // The mirror image (n - s, flipped parity) recovers the same sender but
    // is the malleable twin EIP-2 forbids.
    let high_s = Signature::new(good.r(), CURVE_ORDER - good.s(), !good.v());
    assert!(high_s.normalize_s().is_some(), "the twin has a high s");
    let malleable = with_signature(tx.clone(), high_s);
    node.assert_refused(&malleable, sender, INVALID_PARAMS, &["malleable", "EIP-2"]).await;

    // A valid signature over other contents recovers someone else, who has nothing.
    let other = transfer(7).signature_hash();
    let stranger = key.sign_hash_sync(&other).expect("a dev key signs");
    let foreign = with_signature(tx.clone(), stranger);
    let recovered = ol_primitives::RecoveredTransaction::decode(&foreign)
        .expect("a valid signature recovers some key")
        .sender;
    assert_ne!(recovered, sender);
    node.assert_refused(&foreign, recovered, REJECTED, &["insufficient funds"]).await;

    let hash = node.send(&with_signature(tx, good)).await.expect("the real signature is valid");
    node.wait_receipt(hash).await;
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_chains_and_unprotected_transactions_are_refused() {
    let node = dev_node().await;
    let key = signer(0);
    let sender = key.address();
    let mainnet = sign(&key, TxEip1559 { chain_id: 1, ..transfer(0) });
    node.assert_refused(&mainnet, sender, REJECTED, &["invalid chain id", "have 1 want 1337"])
        .await;
    let legacy_other = sign(&key, TxLegacy { chain_id: Some(31337), ..legacy(0) });
    node.assert_refused(&legacy_other, sender, REJECTED, &["have 31337 want 1337"]).await;
    let unprotected = sign(&key, TxLegacy { chain_id: None, ..legacy(0) });
    node.assert_refused(&unprotected, sender, REJECTED, &["replay-protected (EIP-155)"]).await;
    node.handle.stop().await;
}

// ---------------------------------------------------------------------------
// Refused by the ledger's and the pool's rules
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_nonces_are_refused() {
    let node = dev_node().await;
    let key = signer(0);
    let sender = key.address();
    let first = sign(&key, transfer(0));
    let hash = node.send(&first).await.expect("nonce 0 is valid");
    node.wait_receipt(hash).await;

    // The very same bytes again, and new contents with the used nonce.
    node.assert_refused(&first, sender, REJECTED, &["nonce too low", "next nonce 1, tx nonce 0"])
        .await;
    let reuse = sign(&key, TxEip1559 { value: U256::from(2), ..transfer(0) });
    node.assert_refused(&reuse, sender, REJECTED, &["nonce too low"]).await;
    let reuse_legacy = sign(&key, legacy(0));
    node.assert_refused(&reuse_legacy, sender, REJECTED, &["nonce too low"]).await;
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_rules_known_replacement_and_bounded_queue() {
    // Blocks only when the test seals one.
    let node = start(GenesisSource::Dev, Duration::from_secs(3600)).await;
    let key = signer(1);
    let sender = key.address();

    let first = sign(&key, transfer(0));
    let first_hash = node.send(&first).await.expect("nonce 0 is valid");
    assert_eq!(node.handle.chain.pool_len(), 1);
    node.assert_refused(&first, sender, REJECTED, &["already known"]).await;

    let cheap = sign(&key, TxEip1559 { value: U256::from(2), ..transfer(0) });
    node.assert_refused(&cheap, sender, REJECTED, &["replacement transaction underpriced"]).await;
    let tip_only =
        TxEip1559 { max_priority_fee_per_gas: 2 * GWEI, value: U256::from(3), ..transfer(0) };
    node.assert_refused(&sign(&key, tip_only), sender, REJECTED, &["replacement"]).await;

    // The furthest nonce the queue holds is accepted; one more is not.
    let last_queued = sign(&key, transfer(MAX_PER_SENDER - 1));
    node.send(&last_queued).await.expect("a gap within the per-sender queue is queued");
    assert_eq!(node.handle.chain.pool_len(), 2);
    let too_far = sign(&key, transfer(MAX_PER_SENDER));
    node.assert_refused(
        &too_far,
        sender,
        REJECTED,
        &["nonce too high", &format!("tx nonce {MAX_PER_SENDER}"), "at most 4096"],
    )
    .await;
    let way_too_far = sign(&key, transfer(u64::MAX - 1));
    node.assert_refused(&way_too_far, sender, REJECTED, &["nonce too high"]).await;

    // A 10% bump on both fees replaces the waiting transaction.
    let bumped = TxEip1559 {
        max_fee_per_gas: 22 * GWEI / 10,
        max_priority_fee_per_gas: 11 * GWEI / 10,
        value: U256::from(4),
        ..transfer(0)
    };
    let bumped_hash = node.send(&sign(&key, bumped)).await.expect("a 10% bump replaces");
    assert_eq!(node.handle.chain.pool_len(), 2);
    assert!(node.handle.chain.pooled(&first_hash).is_none(), "the replaced one left the pool");

    node.handle.chain.seal_block(DEV_PRODUCER, usize::MAX).expect("a block seals");
    let receipt = node.wait_receipt(bumped_hash).await;
    assert_eq!(receipt["status"], json!("0x1"));
    let replaced: Value = node.call("eth_getTransactionReceipt", vec![json!(first_hash)]).await;
    assert!(replaced.is_null(), "a replaced transaction is never mined");
    assert_eq!(node.handle.chain.pool_len(), 1, "the far-nonce transaction still waits");
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fee_and_gas_rules() {
    let node = dev_node().await;
    let key = signer(0);
    let sender = key.address();
    let block_limit = ol_ledger::genesis::DEFAULT_GAS_LIMIT;

    let below_base =
        sign(&key, TxEip1559 { max_fee_per_gas: 1, max_priority_fee_per_gas: 0, ..transfer(0) });
    node.assert_refused(
        &below_base,
        sender,
        REJECTED,
        &["max fee per gas less than block base fee", "maxFeePerGas: 1,"],
    )
    .await;
    let legacy_cheap = sign(&key, TxLegacy { gas_price: 7, ..legacy(0) });
    node.assert_refused(&legacy_cheap, sender, REJECTED, &["less than block base fee"]).await;
    let tip_above = sign(
        &key,
        TxEip1559 { max_fee_per_gas: 5 * GWEI, max_priority_fee_per_gas: 10 * GWEI, ..transfer(0) },
    );
    node.assert_refused(
        &tip_above,
        sender,
        REJECTED,
        &["max priority fee per gas higher than max fee per gas"],
    )
    .await;
    let above_block = sign(&key, TxEip1559 { gas_limit: block_limit + 1, ..transfer(0) });
    node.assert_refused(
        &above_block,
        sender,
        SERVER_ERROR,
        &["exceeds the block gas limit", &block_limit.to_string()],
    )
    .await;
    let too_little_gas = sign(&key, TxEip1559 { gas_limit: 20_999, ..transfer(0) });
    node.assert_refused(
        &too_little_gas,
        sender,
        SERVER_ERROR,
        &["intrinsic gas too low", "want 21000"],
    )
    .await;
    let oversize_initcode = TxEip1559 {
        to: TxKind::Create,
        gas_limit: 1_000_000,
        input: vec![0; 49_153].into(),
        ..transfer(0)
    };
    let create = sign(&key, oversize_initcode);
    node.assert_refused(&create, sender, REJECTED, &["max initcode size exceeded", "49153"]).await;
    let to_system = sign(&key, TxEip1559 { to: TxKind::Call(addresses::VESTING), ..transfer(0) });
    node.assert_refused(&to_system, sender, REJECTED, &["does not accept OPEN transfers"]).await;
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funds_must_cover_value_and_gas() {
    let node = dev_node().await;
    // A key that owns nothing.
    let pauper = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).expect("a valid key");
    let raw = sign(&pauper, transfer(0));
    node.assert_refused(
        &raw,
        pauper.address(),
        REJECTED,
        &["insufficient funds for gas * price + value"],
    )
    .await;
    let free = sign(&pauper, TxEip1559 { value: U256::ZERO, ..transfer(0) });
    node.assert_refused(&free, pauper.address(), REJECTED, &["insufficient funds"]).await;

    // A dev account sending its whole balance cannot also pay for gas.
    let key = signer(0);
    let all = open(dev::DEV_ACCOUNT_OPEN);
    let everything = sign(&key, TxEip1559 { value: all, ..transfer(0) });
    node.assert_refused(&everything, key.address(), REJECTED, &["insufficient funds"]).await;
    let rich_legacy = sign(&key, TxLegacy { value: all, ..legacy(0) });
    node.assert_refused(&rich_legacy, key.address(), REJECTED, &["insufficient funds"]).await;
    node.handle.stop().await;
}

/// A genesis where `holder` owns 1,000 OPEN vesting linearly over 4,000 s
/// from 1,000 s ago (so about a quarter is spendable), dev account 0 owns
/// 1,000 OPEN, and blocks hold at most 100,000 gas.
fn vesting_genesis(holder: Address) -> Genesis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let allocation = |name: &str, address, amount, vesting| Allocation {
        name: name.into(),
        address,
        amount: Amount::from_open(amount),
        vesting,
    };
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        timestamp: now - 1_000,
        gas_limit: 100_000,
        base_fee_per_gas: GWEI as u64,
        allocations: vec![
            allocation(
                "vesting holder",
                holder,
                1_000,
                Some(VestingTerms { cliff_seconds: 0, linear_seconds: 4_000 }),
            ),
            allocation("dev account 0", signer(0).address(), 1_000, None),
            allocation("rest", Address::repeat_byte(0x77), 999_998_000, None),
        ],
        governance: None,
        validator_params: None,
        validators: Vec::new(),
    };
    genesis.validate().expect("the test genesis allocates the whole supply");
    genesis
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_tokens_do_not_pay() {
    let holder = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x24)).expect("a valid key");
    let node = start(GenesisSource::Value(vesting_genesis(holder.address())), Duration::ZERO).await;
    // One block, so that the head's time (which balances are read at) is now.
    let warm = node.send(&sign(&signer(0), transfer(0))).await.expect("dev account 0 can pay");
    node.wait_receipt(warm).await;

    let breakdown: Value = node.call("ol_getBalanceBreakdown", vec![json!(holder.address())]).await;
    let (total, spendable, locked) =
        (u256(&breakdown["total"]), u256(&breakdown["spendable"]), u256(&breakdown["locked"]));
    assert_eq!(total, open(1_000));
    assert_eq!(spendable + locked, total);
    assert!(spendable > open(200) && spendable < open(300), "about a quarter vested: {breakdown}");
    assert_eq!(
        node.balance(holder.address()).await,
        spendable,
        "eth_getBalance is the spendable part"
    );

    // 500 OPEN: less than owned, more than vested.
    let too_much = sign(&holder, TxEip1559 { value: open(500), ..transfer(0) });
    node.assert_refused(
        &too_much,
        holder.address(),
        REJECTED,
        &["insufficient funds", "locked vesting excluded"],
    )
    .await;
    let legacy_too_much = sign(&holder, TxLegacy { value: open(500), ..legacy(0) });
    node.assert_refused(&legacy_too_much, holder.address(), REJECTED, &["locked vesting excluded"])
        .await;

    // The vested part is spendable.
    let hash = node
        .send(&sign(&holder, TxEip1559 { value: open(100), ..transfer(0) }))
        .await
        .expect("vested OPEN can be spent");
    assert_eq!(node.wait_receipt(hash).await["status"], json!("0x1"));
    assert_eq!(node.balance(RECIPIENT).await, open(100) + U256::from(1));

    // This chain's blocks hold 100,000 gas.
    let above_block = sign(&holder, TxEip1559 { gas_limit: 100_001, ..transfer(1) });
    node.assert_refused(
        &above_block,
        holder.address(),
        SERVER_ERROR,
        &["transaction gas limit 100001 exceeds the block gas limit 100000"],
    )
    .await;
    node.handle.stop().await;
}

// ---------------------------------------------------------------------------
// Malformed JSON-RPC
// ---------------------------------------------------------------------------

fn assert_error(response: &Value, code: i64, phrase: &str) {
    let error = &response["error"];
    assert_eq!(error["code"], json!(code), "{response}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(phrase), "{phrase:?} not in {response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc() {
    let node = dev_node().await;
    let account = signer(0).address();

    let broken = node.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId""#).await;
    assert_error(&broken, -32700, "Parse error");
    let not_json = node.post_raw("hello").await;
    assert_error(&not_json, -32700, "Parse error");
    let no_method = node.post_raw(r#"{"jsonrpc":"2.0","id":1}"#).await;
    assert_error(&no_method, -32600, "");

    // No "params" at all is an empty list.
    let bare = node.post_raw(r#"{"jsonrpc":"2.0","id":3,"method":"eth_chainId"}"#).await;
    assert_eq!(bare["result"], json!("0x539"), "{bare}");

    let unknown = node.call_err("eth_mine_some_gold", vec![]).await;
    assert_eq!(unknown.code(), -32601, "{unknown}");
    assert!(unknown.message().contains("Method not found"), "{unknown}");

    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        ("eth_getBalance", vec![json!(123), json!("latest")], "invalid parameter 0 (address)"),
        ("eth_getBalance", vec![json!("0x1234"), json!("latest")], "invalid parameter 0 (address)"),
        ("eth_getBalance", vec![json!(account), json!("newest")], "invalid parameter 1 (block)"),
        ("eth_getBalance", vec![json!(account), json!(-1)], "invalid parameter 1 (block)"),
        ("eth_getBalance", vec![json!(account)], "missing parameter 1 (block)"),
        ("eth_getBalance", vec![json!(account), json!("latest"), json!(1)], "too many parameters"),
        (
            "eth_getTransactionCount",
            vec![json!(account), json!("latest"), json!("x")],
            "too many parameters",
        ),
        ("eth_getBlockByNumber", vec![json!("0x0"), json!("yes")], "invalid parameter 1"),
        (
            "eth_getBlockByNumber",
            vec![json!("earliest"), json!(false), json!(0)],
            "too many parameters",
        ),
        ("eth_getTransactionReceipt", vec![json!("0x12")], "invalid parameter 0"),
        ("eth_sendRawTransaction", vec![json!(42)], "invalid parameter 0"),
        ("eth_sendRawTransaction", vec![], "missing parameter 0"),
        (
            "eth_getProof",
            vec![json!(account), json!("latest"), json!("latest")],
            "invalid parameter 1",
        ),
        ("eth_feeHistory", vec![json!("0x1"), json!("latest"), json!([90, 10])], "percentile"),
    ];
    for (method, args, phrase) in cases {
        let shown = format!("{method}({args:?})");
        let error = node.call_err(method, args).await;
        assert_eq!(error.code(), INVALID_PARAMS, "{shown}: {error}");
        assert!(error.message().contains(phrase), "{shown}: {phrase:?} not in {error}");
    }
    // Parameters by name are not how Ethereum methods are called.
    let named = node
        .post_raw(&format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"eth_getBalance","params":{{"address":"{account}","block":"latest"}}}}"#
        ))
        .await;
    assert_error(&named, -32602, "must be a JSON array");
    // A request of a future block names the head.
    let future = node.call_err("eth_getBalance", vec![json!(account), json!("0x99")]).await;
    assert_eq!(future.code(), INVALID_PARAMS);
    assert!(future.message().contains("block height is 0"), "{future}");

    // A zero-parameter method with parameters.
    let extra = node.call_err("eth_blockNumber", vec![json!(1)]).await;
    assert_eq!(extra.code(), INVALID_PARAMS, "{extra}");
    assert!(extra.message().contains("too many parameters"), "{extra}");

    // Nothing above changed anything.
    assert_eq!(node.head().await, 0);
    assert_eq!(node.handle.chain.pool_len(), 0);
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_answers_each_entry_on_its_own() {
    let node = dev_node().await;
    let key = signer(2);
    let sender = key.address();
    let good = Bytes::from(sign(&key, transfer(0)));
    let wrong_chain = Bytes::from(sign(&key, TxEip1559 { chain_id: 5, ..transfer(1) }));
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_noSuchMethod", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": [1, "latest"]},
        {"jsonrpc": "2.0", "id": 4, "method": "eth_sendRawTransaction", "params": [good]},
        {"jsonrpc": "2.0", "id": 5, "method": "eth_sendRawTransaction", "params": [wrong_chain]},
        {"jsonrpc": "2.0", "id": 6, "method": "eth_sendRawTransaction", "params": ["0xc0"]},
        {"jsonrpc": "2.0", "id": 7, "method": "eth_getBalance", "params": [signer(9).address(), "latest"]},
        {"not": "a request"},
    ]);
    let answer = node.post_raw(&batch.to_string()).await;
    let answers =
        answer.as_array().unwrap_or_else(|| panic!("a batch answer is an array: {answer}"));
    assert_eq!(answers.len(), 8, "one answer per entry: {answer}");
    let by_id = |id: i64| {
        answers
            .iter()
            .find(|a| a["id"] == json!(id))
            .unwrap_or_else(|| panic!("no answer with id {id}: {answer}"))
    };
    assert_eq!(by_id(1)["result"], json!("0x539"));
    assert_error(by_id(2), -32601, "Method not found");
    assert_error(by_id(3), -32602, "invalid parameter 0 (address)");
    let hash = b256(&by_id(4)["result"]);
    assert_error(by_id(5), i64::from(REJECTED), "invalid chain id");
    assert_error(by_id(6), -32602, "rlp");
    assert_eq!(u256(&by_id(7)["result"]), open(dev::DEV_ACCOUNT_OPEN));
    let invalid: Vec<_> = answers.iter().filter(|a| a["id"].is_null()).collect();
    assert_eq!(invalid.len(), 1, "{answer}");
    assert_error(invalid[0], -32600, "");

    // Only the good transaction happened.
    let receipt = node.wait_receipt(hash).await;
    assert_eq!(quantity(&receipt["blockNumber"]), 1);
    assert_eq!(node.nonce(sender, "latest").await, 1);
    assert_eq!(node.nonce(sender, "pending").await, 1);
    assert_eq!(node.head().await, 1);
    assert_eq!(node.balance(RECIPIENT).await, U256::from(1));
    node.handle.stop().await;
}

// ---------------------------------------------------------------------------
// What accepted transactions do
// ---------------------------------------------------------------------------

/// Sends `raw` from `sender` (value `value` to [`RECIPIENT`]) and checks the
/// receipt's fee and that it went to the treasury and the block producer.
async fn assert_fee_split(node: &TestNode, raw: &[u8], sender: Address, value: U256, gas: u64) {
    let tracked = [sender, RECIPIENT, addresses::TREASURY, DEV_PRODUCER];
    let mut before = Vec::new();
    for address in tracked {
        before.push(node.balance(address).await);
    }
    let hash = node.send(raw).await.expect("a valid transfer is accepted");
    let receipt = node.wait_receipt(hash).await;
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let gas_used = u256(&receipt["gasUsed"]);
    assert_eq!(gas_used, U256::from(gas), "a transfer uses its intrinsic gas: {receipt}");
    let price = u256(&receipt["effectiveGasPrice"]);
    let block = node.block(receipt["blockNumber"].clone()).await;
    assert_eq!(block["transactions"], json!([hash]), "one block per transaction");
    assert_eq!(u256(&block["gasUsed"]), gas_used);
    assert_eq!(block["miner"], json!(DEV_PRODUCER));
    let base_fee = u256(&block["baseFeePerGas"]);
    assert!(price >= base_fee, "price {price} below base fee {base_fee}");

    let mut after = Vec::new();
    for address in tracked {
        after.push(node.balance(address).await);
    }
    let fee = gas_used * price;
    assert_eq!(before[0] - after[0], fee + value, "the sender pays gasUsed × price + value");
    assert_eq!(after[1] - before[1], value, "the recipient receives the value");
    assert_eq!(after[2] - before[2], gas_used * base_fee, "the treasury receives the base fee");
    assert_eq!(
        after[3] - before[3],
        gas_used * (price - base_fee),
        "the producer receives the tip"
    );
    // Nothing is created or burned.
    let spent: U256 = before.iter().copied().fold(U256::ZERO, |a, b| a + b);
    let kept: U256 = after.iter().copied().fold(U256::ZERO, |a, b| a + b);
    assert_eq!(spent, kept);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fees_go_to_the_treasury_and_the_producer() {
    let node = dev_node().await;
    let key = signer(3);
    let sender = key.address();

    // Legacy: pays its gas price; the part above the base fee is the tip.
    let value = open(1);
    let raw = sign(&key, TxLegacy { value, ..legacy(0) });
    assert_fee_split(&node, &raw, sender, value, 21_000).await;

    // EIP-1559: pays base fee + tip, under its cap.
    let raw = sign(
        &key,
        TxEip1559 {
            value,
            max_priority_fee_per_gas: 3 * GWEI,
            max_fee_per_gas: 10 * GWEI,
            ..transfer(1)
        },
    );
    assert_fee_split(&node, &raw, sender, value, 21_000).await;
    let receipt_price = {
        let hash = alloy_primitives::keccak256(&raw);
        let receipt = node.wait_receipt(hash).await;
        let block = node.block(receipt["blockNumber"].clone()).await;
        (u256(&receipt["effectiveGasPrice"]), u256(&block["baseFeePerGas"]))
    };
    assert_eq!(receipt_price.0, receipt_price.1 + U256::from(3 * GWEI), "base fee + full tip");

    // EIP-1559 whose cap binds: the tip is what is left under the cap.
    let base = U256::from(node.handle.chain.next_base_fee());
    let cap = base.to::<u128>() + 1_000;
    let raw = sign(
        &key,
        TxEip1559 { max_fee_per_gas: cap, max_priority_fee_per_gas: cap, ..transfer(2) },
    );
    assert_fee_split(&node, &raw, sender, U256::from(1), 21_000).await;
    let receipt = node.wait_receipt(alloy_primitives::keccak256(&raw)).await;
    assert_eq!(u256(&receipt["effectiveGasPrice"]), U256::from(cap));

    // EIP-2930 with an access list: intrinsic gas includes it.
    let list =
        AccessList(vec![AccessListItem { address: RECIPIENT, storage_keys: vec![B256::ZERO] }]);
    let raw = sign(
        &key,
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 3,
            gas_price: 2 * GWEI,
            gas_limit: 30_000,
            to: TxKind::Call(RECIPIENT),
            value,
            access_list: list,
            input: Bytes::new(),
        },
    );
    assert_fee_split(&node, &raw, sender, value, 21_000 + 2_400 + 1_900).await;
    assert_eq!(node.nonce(sender, "latest").await, 4);
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_nonce_counts_pooled_transactions() {
    let node = start(GenesisSource::Dev, Duration::from_secs(3600)).await;
    let key = signer(4);
    let sender = key.address();
    for nonce in 0..3 {
        node.send(&sign(&key, transfer(nonce))).await.expect("consecutive nonces are pooled");
    }
    // A gap: queued, not pending.
    node.send(&sign(&key, transfer(5))).await.expect("a small gap is queued");
    assert_eq!(node.nonce(sender, "latest").await, 0);
    assert_eq!(node.nonce(sender, "pending").await, 3);
    assert_eq!(node.handle.chain.pool_len(), 4);
    let pending_balance: U256 =
        node.call("eth_getBalance", vec![json!(sender), json!("pending")]).await;
    assert_eq!(pending_balance, open(dev::DEV_ACCOUNT_OPEN), "pooled transactions have not run");

    node.handle.chain.seal_block(DEV_PRODUCER, usize::MAX).expect("a block seals");
    assert_eq!(node.nonce(sender, "latest").await, 3);
    assert_eq!(node.nonce(sender, "pending").await, 3);
    node.send(&sign(&key, transfer(3))).await.expect("the next nonce is pooled");
    node.send(&sign(&key, transfer(4))).await.expect("the gap is filled");
    assert_eq!(node.nonce(sender, "pending").await, 6, "the queued one became pending");
    node.handle.chain.seal_block(DEV_PRODUCER, usize::MAX).expect("a block seals");
    assert_eq!(node.nonce(sender, "latest").await, 6);
    assert_eq!(node.handle.chain.pool_len(), 0);
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_arrive_over_websocket() {
    let node = dev_node().await;
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.handle.http))
        .await
        .expect("the HTTP port accepts WebSocket upgrades");
    let mut heads = ws
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .expect("newHeads is supported");
    let unsupported = ws
        .subscribe::<Value, _>(
            "eth_subscribe",
            rpc_params!["newPendingTransactions"],
            "eth_unsubscribe",
        )
        .await;
    match unsupported {
        Err(ClientError::Call(error)) => {
            assert_eq!(error.code(), INVALID_PARAMS);
            assert!(error.message().contains("unsupported subscription"), "{error}");
        }
        other => panic!("newPendingTransactions should be refused, got {other:?}"),
    }

    let key = signer(5);
    for nonce in 0..2 {
        let hash = node.send(&sign(&key, transfer(nonce))).await.expect("a valid transfer");
        let header = tokio::time::timeout(Duration::from_secs(10), heads.next())
            .await
            .expect("a header arrives within 10 s")
            .expect("the subscription stays open")
            .expect("the header is JSON");
        let number = quantity(&header["number"]);
        assert_eq!(number, nonce + 1);
        let block = node.block(json!(format!("{number:#x}"))).await;
        for field in [
            "hash",
            "parentHash",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "baseFeePerGas",
            "timestamp",
            "miner",
        ] {
            assert_eq!(header[field], block[field], "{field} of block {number}");
        }
        assert_eq!(block["transactions"], json!([hash]));
    }
    heads.unsubscribe().await.expect("eth_unsubscribe succeeds");
    node.handle.stop().await;
}

fn proof_from_json(value: &Value) -> AccountProof {
    let bytes_list = |v: &Value| -> Vec<Bytes> {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v} is no byte list: {e}"))
    };
    AccountProof {
        address: serde_json::from_value(value["address"].clone()).expect("an address"),
        balance: u256(&value["balance"]),
        nonce: quantity(&value["nonce"]),
        code_hash: b256(&value["codeHash"]),
        storage_hash: b256(&value["storageHash"]),
        account_proof: bytes_list(&value["accountProof"]),
        storage_proof: value["storageProof"]
            .as_array()
            .expect("storageProof is a list")
            .iter()
            .map(|slot| StorageProof {
                key: b256(&slot["key"]),
                value: u256(&slot["value"]),
                proof: bytes_list(&slot["proof"]),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_proofs_verify_against_the_header() {
    let node = dev_node().await;
    let key = signer(6);
    let hash = node.send(&sign(&key, transfer(0))).await.expect("a valid transfer");
    node.wait_receipt(hash).await;
    let latest = node.block(json!("latest")).await;
    let state_root = b256(&latest["stateRoot"]);

    let sender: Value =
        node.call("eth_getProof", vec![json!(key.address()), json!([]), json!("latest")]).await;
    let proof = proof_from_json(&sender);
    assert_eq!(proof.nonce, 1);
    assert_eq!(proof.balance, node.balance(key.address()).await);
    verify_account_proof(state_root, &proof).expect("the sender's proof verifies");
    let forged = AccountProof { balance: proof.balance + U256::from(1), ..proof.clone() };
    assert!(verify_account_proof(state_root, &forged).is_err(), "a forged balance fails");
    assert!(verify_account_proof(B256::repeat_byte(1), &proof).is_err(), "another root fails");

    // The reserve's vesting schedule, proven from the vesting account's storage.
    let slot = ol_ledger::vesting::schedule_slot(&DEV_RESERVE);
    let vesting: Value = node
        .call("eth_getProof", vec![json!(addresses::VESTING), json!([slot]), json!("latest")])
        .await;
    let proof = proof_from_json(&vesting);
    let schedule = ol_ledger::VestingSchedule::decode(proof.storage_proof[0].value)
        .expect("the reserve has a schedule");
    assert_eq!(schedule.linear, dev::FORTY_EIGHT_MONTHS);
    verify_account_proof(state_root, &proof).expect("the vesting slot's proof verifies");

    // An account that does not exist is proven absent.
    let nobody: Value = node
        .call("eth_getProof", vec![json!(Address::repeat_byte(0x99)), json!([]), json!("latest")])
        .await;
    let proof = proof_from_json(&nobody);
    assert!(proof.balance.is_zero());
    verify_account_proof(state_root, &proof).expect("absence is proven");
    node.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_breakdown_shows_locked_and_vested() {
    let node = dev_node().await;
    // One block, so that the head's time (which balances are read at) is now,
    // months after the dev genesis.
    let hash = node.send(&sign(&signer(7), transfer(0))).await.expect("a valid transfer");
    node.wait_receipt(hash).await;
    let head_time = quantity(&node.block(json!("latest")).await["timestamp"]);
    assert!(head_time > dev::DEV_GENESIS_TIMESTAMP, "this test expects a clock after 2026-01-01");
    let reserve: Value = node.call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE)]).await;
    let total = u256(&reserve["total"]);
    let locked = u256(&reserve["locked"]);
    let vested = u256(&reserve["vested"]);
    let spendable = u256(&reserve["spendable"]);
    let supply = Amount::total_supply().wei();
    assert_eq!(total, supply - open(u64::from(dev::DEV_ACCOUNTS) * dev::DEV_ACCOUNT_OPEN));
    assert_eq!(locked + vested, total, "{reserve}");
    assert_eq!(spendable, vested, "{reserve}");
    assert_eq!(
        node.balance(DEV_RESERVE).await,
        spendable,
        "eth_getBalance shows the spendable part"
    );
    let schedule = &reserve["vesting"];
    assert_eq!(u256(&schedule["total"]), total);
    assert_eq!(quantity(&schedule["start"]), dev::DEV_GENESIS_TIMESTAMP);
    assert_eq!(quantity(&schedule["linearSeconds"]), u64::from(dev::FORTY_EIGHT_MONTHS));
    assert_eq!(quantity(&reserve["timestamp"]), head_time, "read at the head block");
    assert!(!vested.is_zero() && !locked.is_zero(), "part vested, part locked: {reserve}");
    let elapsed = U256::from(head_time - dev::DEV_GENESIS_TIMESTAMP);
    assert_eq!(vested, total * elapsed / U256::from(dev::FORTY_EIGHT_MONTHS), "linear vesting");

    // A plain account has nothing locked and no schedule.
    let account: Value =
        node.call("ol_getBalanceBreakdown", vec![json!(signer(0).address())]).await;
    assert_eq!(u256(&account["locked"]), U256::ZERO);
    assert_eq!(u256(&account["spendable"]), open(dev::DEV_ACCOUNT_OPEN));
    assert!(account["vesting"].is_null());
    let bad = node.call_err("ol_getBalanceBreakdown", vec![json!("0x12")]).await;
    assert_eq!(bad.code(), INVALID_PARAMS);
    node.handle.stop().await;
}
