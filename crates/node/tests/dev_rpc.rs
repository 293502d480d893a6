//! Dev-mode accounts and chain control over JSON-RPC, as Hardhat and Anvil
//! serve them: `eth_accounts`, `eth_sendTransaction`, `eth_sign`,
//! `personal_sign`, `eth_signTypedData_v4`, `evm_mine`, `hardhat_mine`,
//! `evm_increaseTime`, `evm_setNextBlockTimestamp`; malformed parameters give
//! `-32602`, and a node without `--dev` refuses them all.

use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, Signature, U256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    types::ErrorObjectOwned,
};
use ol_node::{
    GenesisSource, NodeConfig,
    chain::Chain,
    dev,
    rpc::{RpcConfig, RpcContext},
};
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

const INVALID_PARAMS: i32 = -32602;
const METHOD_NOT_FOUND: i32 = -32601;

struct Node {
    client: HttpClient,
    _handle: ol_node::NodeHandle,
    _datadir: tempfile::TempDir,
}

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        params.insert(value).unwrap();
    }
    params
}

fn client(address: std::net::SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .build(format!("http://{address}"))
        .unwrap()
}

async fn call(
    client: &HttpClient,
    method: &str,
    args: Vec<Value>,
) -> Result<Value, ErrorObjectOwned> {
    match client.request::<Value, _>(method, params(args)).await {
        Ok(value) => Ok(value),
        Err(ClientError::Call(error)) => Err(error),
        Err(error) => panic!("{method}: {error}"),
    }
}

fn number(value: &Value) -> u64 {
    let text = value.as_str().unwrap_or_else(|| panic!("not a quantity: {value}"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

fn wei(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("not a quantity: {value}")).parse().unwrap()
}

fn account(index: u32) -> Address {
    dev::dev_signer(index).address()
}

impl Node {
    /// A dev node sealing one block per transaction.
    async fn start() -> Self {
        let datadir = tempfile::tempdir().unwrap();
        let handle = ol_node::launch(NodeConfig {
            datadir: datadir.path().to_path_buf(),
            genesis: GenesisSource::Dev,
            dev: true,
            http: "127.0.0.1:0".parse().unwrap(),
            ws: None,
            block_time: Duration::ZERO,
            metrics: None,
            serving: None,
        })
        .await
        .unwrap();
        Self { client: client(handle.http), _handle: handle, _datadir: datadir }
    }

    async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, ErrorObjectOwned> {
        call(&self.client, method, args).await
    }

    async fn ok(&self, method: &str, args: Vec<Value>) -> Value {
        self.call(method, args).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Asserts `-32602` with a message containing `needle`.
    async fn invalid(&self, method: &str, args: Vec<Value>, needle: &str) {
        let error = self.call(method, args).await.expect_err(method);
        assert_eq!(error.code(), INVALID_PARAMS, "{method}: {error}");
        assert!(
            error.message().contains(needle),
            "{method}: {:?} lacks {needle:?}",
            error.message()
        );
    }

    async fn receipt(&self, hash: &Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let receipt = self.ok("eth_getTransactionReceipt", vec![hash.clone()]).await;
            if !receipt.is_null() {
                return receipt;
            }
            assert!(Instant::now() < deadline, "no receipt for {hash}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn latest(&self) -> Value {
        self.ok("eth_getBlockByNumber", vec![json!("latest"), json!(false)]).await
    }
}

#[tokio::test]
async fn accounts_are_hardhats() {
    let node = Node::start().await;
    let accounts = node.ok("eth_accounts", vec![]).await;
    let accounts = accounts.as_array().unwrap();
    assert_eq!(accounts.len(), dev::DEV_ACCOUNTS as usize);
    // Checksummed, in Hardhat's and Anvil's order.
    assert_eq!(accounts[0], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    assert_eq!(accounts[1], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    for (i, address) in accounts.iter().enumerate() {
        assert_eq!(address, &json!(account(i as u32).to_checksum(None)));
    }
    node.invalid("eth_accounts", vec![json!(1)], "too many parameters").await;
}

#[tokio::test]
async fn send_transaction_fills_signs_and_submits() {
    let node = Node::start().await;
    let (from, to) = (account(0), account(7));
    let before = wei(&node.ok("eth_getBalance", vec![json!(to), json!("latest")]).await);
    // Nothing but from, to and value: EIP-1559 fees, estimated gas, pending nonce.
    let hash = node
        .ok("eth_sendTransaction", vec![json!({ "from": from, "to": to, "value": "0x2a" })])
        .await;
    let receipt = node.receipt(&hash).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["from"].as_str().unwrap().parse::<Address>().unwrap(), from);
    let tx = node.ok("eth_getTransactionByHash", vec![hash.clone()]).await;
    assert_eq!(tx["type"], "0x2", "{tx}");
    assert_eq!(number(&tx["gas"]), 21_000);
    assert_eq!(number(&tx["nonce"]), 0);
    assert_eq!(number(&tx["chainId"]), dev::DEV_CHAIN_ID);
    let after = node.ok("eth_getBalance", vec![json!(to), json!("latest")]).await;
    assert_eq!(wei(&after), before + U256::from(42));

    // A gas price makes it legacy; given fields are kept.
    let hash = node
        .ok(
            "eth_sendTransaction",
            vec![json!({ "from": from, "to": to, "gasPrice": "0x77359400", "gas": "0x5208", "data": "0x" })],
        )
        .await;
    assert_eq!(node.receipt(&hash).await["status"], "0x1");
    let tx = node.ok("eth_getTransactionByHash", vec![hash]).await;
    assert_eq!(tx["type"], "0x0", "{tx}");
    assert_eq!(number(&tx["gasPrice"]), 2_000_000_000);
    assert_eq!(number(&tx["nonce"]), 1);

    // EIP-2930 on request, with an explicit nonce and chain id.
    let hash = node
        .ok(
            "eth_sendTransaction",
            vec![json!({ "from": from, "to": to, "type": "0x1", "accessList": [], "nonce": "0x2", "chainId": "0x539" })],
        )
        .await;
    assert_eq!(node.receipt(&hash).await["status"], "0x1");
    assert_eq!(node.ok("eth_getTransactionByHash", vec![hash]).await["type"], "0x1");
}

#[tokio::test]
async fn send_transaction_refuses_bad_requests() {
    let node = Node::start().await;
    let from = account(0);
    let stranger = Address::repeat_byte(0x42);
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": stranger, "to": from })],
        "not a dev account",
    )
    .await;
    node.invalid("eth_sendTransaction", vec![json!({ "to": from })], "missing field `from`").await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "to": from, "gasLimit": "0x1" })],
        "unknown field `gasLimit`",
    )
    .await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "to": from, "value": true })],
        "invalid parameter 0",
    )
    .await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "to": from, "type": "0x3" })],
        "type 3 is not supported",
    )
    .await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "to": from, "gasPrice": "0x1", "maxFeePerGas": "0x2" })],
        "type 2",
    )
    .await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "to": from, "chainId": "0x1" })],
        "chainId",
    )
    .await;
    node.invalid(
        "eth_sendTransaction",
        vec![json!({ "from": from, "data": "0x01", "input": "0x02" })],
        "both input and data",
    )
    .await;
    node.invalid("eth_sendTransaction", vec![json!("0x00")], "invalid parameter 0").await;
    node.invalid("eth_sendTransaction", vec![], "missing parameter 0").await;
    // What the chain refuses is refused as eth_sendRawTransaction refuses it.
    let error = node
        .call("eth_sendTransaction", vec![json!({ "from": from, "to": from, "gas": "0x5208", "value": "0xffffffffffffffffffffffffffffffff" })])
        .await
        .expect_err("more than the balance");
    assert!(error.message().contains("insufficient funds"), "{error}");
}

#[tokio::test]
async fn signatures_match_alloys_signer() {
    let node = Node::start().await;
    let signer = dev::dev_signer(2);
    let expected = |message: &[u8]| {
        json!(alloy_primitives::Bytes::from(signer.sign_message_sync(message).unwrap().as_bytes()))
    };
    let signed =
        node.ok("personal_sign", vec![json!("0x68656c6c6f"), json!(signer.address())]).await;
    assert_eq!(signed, expected(b"hello"));
    // Hardhat signs a message that is not hex as its UTF-8 bytes.
    let signed = node.ok("personal_sign", vec![json!("hello"), json!(signer.address())]).await;
    assert_eq!(signed, expected(b"hello"));
    let signed = node.ok("eth_sign", vec![json!(signer.address()), json!("0xdeadbeef")]).await;
    assert_eq!(signed, expected(&[0xde, 0xad, 0xbe, 0xef]));
    let signature: Signature = signed.as_str().unwrap().parse().unwrap();
    assert_eq!(
        signature.recover_address_from_msg([0xde, 0xad, 0xbe, 0xef]).unwrap(),
        signer.address()
    );

    node.invalid("eth_sign", vec![json!(Address::ZERO), json!("0x01")], "not a dev account").await;
    node.invalid("eth_sign", vec![json!(signer.address()), json!("hello")], "invalid parameter 1")
        .await;
    node.invalid(
        "personal_sign",
        vec![json!("0xzz"), json!(signer.address())],
        "invalid parameter 0",
    )
    .await;
    node.invalid("personal_sign", vec![json!("0x01")], "missing parameter 1").await;
}

fn mail(chain_id: u64) -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                { "name": "name", "type": "string" },
                { "name": "version", "type": "string" },
                { "name": "chainId", "type": "uint256" },
                { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [
                { "name": "name", "type": "string" },
                { "name": "wallet", "type": "address" }
            ],
            "Mail": [
                { "name": "from", "type": "Person" },
                { "name": "to", "type": "Person" },
                { "name": "contents", "type": "string" }
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
        }
    })
}

#[tokio::test]
async fn typed_data_signatures_recover_to_the_account() {
    let node = Node::start().await;
    let who = account(4);
    let typed = mail(dev::DEV_CHAIN_ID);
    let hash =
        serde_json::from_value::<TypedData>(typed.clone()).unwrap().eip712_signing_hash().unwrap();
    // viem sends the typed data as a JSON string, ethers as an object.
    for form in [typed.clone(), json!(typed.to_string())] {
        let signed = node.ok("eth_signTypedData_v4", vec![json!(who), form]).await;
        let signature: Signature = signed.as_str().unwrap().parse().unwrap();
        assert_eq!(signature.recover_address_from_prehash(&hash).unwrap(), who);
        assert_eq!(
            signed,
            json!(alloy_primitives::Bytes::from(
                dev::dev_signer(4).sign_hash_sync(&hash).unwrap().as_bytes()
            ))
        );
    }

    let mut unknown_primary = typed.clone();
    unknown_primary["primaryType"] = json!("Letter");
    node.invalid("eth_signTypedData_v4", vec![json!(who), unknown_primary], "invalid typed data")
        .await;
    let mut bad_value = typed.clone();
    bad_value["message"]["from"]["wallet"] = json!("not an address");
    node.invalid("eth_signTypedData_v4", vec![json!(who), bad_value], "invalid typed data").await;
    node.invalid(
        "eth_signTypedData_v4",
        vec![json!(who), json!({ "primaryType": "Mail" })],
        "invalid parameter 1",
    )
    .await;
    node.invalid(
        "eth_signTypedData_v4",
        vec![json!(who), json!("{not json")],
        "invalid parameter 1",
    )
    .await;
    node.invalid("eth_signTypedData_v4", vec![json!(Address::ZERO), typed], "not a dev account")
        .await;
}

#[tokio::test]
async fn time_moves_and_blocks_are_mined() {
    let node = Node::start().await;
    let genesis = node.latest().await;
    assert_eq!(number(&genesis["number"]), 0);

    // evm_mine seals an empty block.
    assert_eq!(node.ok("evm_mine", vec![]).await, "0x0");
    let first = node.latest().await;
    assert_eq!(number(&first["number"]), 1);
    assert_eq!(first["transactions"], json!([]));
    let t1 = number(&first["timestamp"]);

    // evm_increaseTime answers the total offset and moves the next block.
    let offset = node.ok("evm_increaseTime", vec![json!(3600)]).await;
    assert!(offset.as_i64().unwrap() >= 3600, "{offset}");
    let total = node.ok("evm_increaseTime", vec![json!("0xe10")]).await;
    assert_eq!(total.as_i64().unwrap(), offset.as_i64().unwrap() + 3600);
    node.ok("evm_mine", vec![]).await;
    let t2 = number(&node.latest().await["timestamp"]);
    assert!(t2 >= t1 + 7200, "{t2} is not 2 h after {t1}");

    // A pinned timestamp is exact; time runs on from it.
    let pinned = t2 + 1_000;
    assert_eq!(node.ok("evm_setNextBlockTimestamp", vec![json!(pinned)]).await, Value::Null);
    node.ok("evm_mine", vec![]).await;
    assert_eq!(number(&node.latest().await["timestamp"]), pinned);
    node.ok("evm_mine", vec![json!(format!("{:#x}", pinned + 50))]).await;
    assert_eq!(number(&node.latest().await["timestamp"]), pinned + 50);
    node.ok("evm_mine", vec![]).await;
    let t5 = number(&node.latest().await["timestamp"]);
    assert!((pinned + 50..pinned + 120).contains(&t5), "{t5} after {pinned}");
    // A transaction's block sees the moved clock too.
    let hash =
        node.ok("eth_sendTransaction", vec![json!({ "from": account(0), "to": account(1) })]).await;
    let receipt = node.receipt(&hash).await;
    let block =
        node.ok("eth_getBlockByNumber", vec![receipt["blockNumber"].clone(), json!(false)]).await;
    assert!(number(&block["timestamp"]) >= t5);

    // hardhat_mine: count blocks, interval seconds apart.
    let head = number(&node.latest().await["number"]);
    let last = number(&node.latest().await["timestamp"]);
    assert_eq!(node.ok("hardhat_mine", vec![json!("0x3"), json!("0xa")]).await, json!(true));
    let top = node.latest().await;
    assert_eq!(number(&top["number"]), head + 3);
    let top_time = number(&top["timestamp"]);
    let middle = node
        .ok("eth_getBlockByNumber", vec![json!(format!("{:#x}", head + 2)), json!(false)])
        .await;
    assert_eq!(top_time, number(&middle["timestamp"]) + 10);
    assert!(top_time >= last + 20);
    node.ok("anvil_mine", vec![]).await;
    assert_eq!(number(&node.latest().await["number"]), head + 4);

    // Block times never go back; malformed quantities are refused.
    node.invalid(
        "evm_setNextBlockTimestamp",
        vec![json!(t1)],
        "before the latest block's timestamp",
    )
    .await;
    node.invalid("evm_mine", vec![json!(1)], "before the latest block's timestamp").await;
    node.invalid("evm_increaseTime", vec![json!(-5)], "non-negative integer").await;
    node.invalid("evm_increaseTime", vec![json!("ten")], "non-negative integer").await;
    node.invalid("evm_increaseTime", vec![], "missing parameter 0").await;
    node.invalid("hardhat_mine", vec![json!(1_000_000)], "at most 10000 blocks").await;
    assert_eq!(number(&node.latest().await["number"]), head + 4, "a refused call mined nothing");

    let error = node.call("evm_snapshot", vec![]).await.expect_err("not supported");
    assert_eq!(error.code(), METHOD_NOT_FOUND);
    assert!(error.message().contains("not supported yet"), "{error}");
}

/// A node without `--dev` (which `launch` does not start yet): the same RPC
/// module served with `RpcConfig { dev: false }`.
#[tokio::test]
async fn production_node_refuses_dev_methods() {
    let datadir = tempfile::tempdir().unwrap();
    let store = ol_storage::Store::open(datadir.path()).unwrap();
    let chain =
        Chain::open(store, dev::dev_genesis(), Arc::new(ol_node::metrics::Metrics::new())).unwrap();
    let blobs = Arc::new(ol_storage::BlobStore::open(datadir.path().join("blobs")).unwrap());
    let context = RpcContext {
        chain: Arc::new(chain),
        config: RpcConfig { dev: false },
        indexes: Arc::new(ol_node::indexes::IndexService::new(
            datadir.path().join("indexes"),
            blobs.clone(),
        )),
        blobs,
        inference: None,
        filters: Default::default(),
    };
    let (address, handle) =
        ol_node::rpc::serve(context, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = client(address);
    // As geth without a keystore: no accounts.
    assert_eq!(call(&client, "eth_accounts", vec![]).await.unwrap(), json!([]));
    let from = account(0);
    let calls: [(&str, Vec<Value>); 11] = [
        ("eth_sendTransaction", vec![json!({ "from": from, "to": from })]),
        ("eth_sign", vec![json!(from), json!("0x01")]),
        ("personal_sign", vec![json!("0x01"), json!(from)]),
        ("eth_signTypedData_v4", vec![json!(from), mail(1)]),
        ("evm_mine", vec![]),
        ("hardhat_mine", vec![]),
        ("anvil_mine", vec![]),
        ("evm_increaseTime", vec![json!(60)]),
        ("evm_setNextBlockTimestamp", vec![json!(2_000_000_000u64)]),
        ("evm_snapshot", vec![]),
        ("evm_revert", vec![json!("0x1")]),
    ];
    for (method, args) in calls {
        let error = call(&client, method, args).await.expect_err(method);
        assert_eq!(error.code(), METHOD_NOT_FOUND, "{method}: {error}");
        assert_eq!(
            error.message(),
            format!("{method} is a dev-only method: this node was not started with --dev")
        );
    }
    assert_eq!(
        number(&call(&client, "eth_blockNumber", vec![]).await.unwrap()),
        0,
        "nothing was mined"
    );
    handle.stop().unwrap();
}
