//! User contracts through the node: a creation sent with
//! `eth_sendRawTransaction`, its receipt, code, storage, `eth_call`,
//! `eth_estimateGas` and `eth_getLogs`, over real HTTP JSON-RPC.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
};
use ol_node::{GenesisSource, NodeConfig, dev};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TOPIC: [u8; 32] = [0xab; 32];

/// Init code deploying a runtime that, with calldata, stores its first word
/// in slot 0 and logs it under [`TOPIC`]; without, returns slot 0.
fn init_code() -> Vec<u8> {
    let mut runtime = vec![
        0x36, 0x15, 0x60, 0x36, 0x57, 0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52,
        0x7f,
    ];
    runtime.extend(TOPIC);
    runtime.extend([0x60, 0x20, 0x60, 0x00, 0xa1, 0x00]);
    runtime.extend([0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    let mut code = vec![0x61, 0x00, runtime.len() as u8];
    code.extend([0x80, 0x61, 0x00, 0x0d, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    code.extend(runtime);
    code
}

async fn call(client: &HttpClient, method: &str, args: Vec<Value>) -> Value {
    let mut params = ArrayParams::new();
    for arg in args {
        params.insert(arg).expect("a JSON value serializes");
    }
    client.request(method, params).await.unwrap_or_else(|e| panic!("{method}: {e}"))
}

async fn send(client: &HttpClient, tx: TxEip1559) -> Value {
    let signature = dev::dev_signer(0).sign_hash_sync(&tx.signature_hash()).expect("signs");
    let raw = Bytes::from(TxEnvelope::from(tx.into_signed(signature)).encoded_2718());
    let hash = call(client, "eth_sendRawTransaction", vec![json!(raw)]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let receipt = call(client, "eth_getTransactionReceipt", vec![hash.clone()]).await;
        if !receipt.is_null() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_call_and_read_a_contract() {
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let handle = ol_node::launch(NodeConfig {
        datadir: datadir.path().to_path_buf(),
        genesis: GenesisSource::Dev,
        dev: true,
        http: "127.0.0.1:0".parse().expect("a literal socket address"),
        ws: None,
        block_time: Duration::ZERO,
        metrics: None,
        serving: None,
    })
    .await
    .expect("the node starts");
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", handle.http))
        .expect("an HTTP client");
    let sender = dev::dev_signer(0).address();
    let tx = |nonce: u64, to: TxKind, input: Vec<u8>| TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };

    let estimate = call(
        &client,
        "eth_estimateGas",
        vec![json!({"from": sender, "data": Bytes::from(init_code())})],
    )
    .await;
    let estimate =
        u64::from_str_radix(estimate.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(estimate > 53_000, "creation costs more than its intrinsic gas: {estimate}");

    let nonce = 0;
    let receipt = send(&client, tx(nonce, TxKind::Create, init_code())).await;
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let contract: Address = serde_json::from_value(receipt["contractAddress"].clone()).unwrap();
    assert_eq!(contract, sender.create(nonce));
    let used =
        u64::from_str_radix(receipt["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
    assert_eq!(used, estimate, "the estimate is what the creation used");

    let code: Bytes = serde_json::from_value(
        call(&client, "eth_getCode", vec![json!(contract), json!("latest")]).await,
    )
    .unwrap();
    assert_eq!(&code[..], &init_code()[13..]);

    let word = B256::from(U256::from(0x2a)).to_vec();
    let stored = send(&client, tx(nonce + 1, TxKind::Call(contract), word.clone())).await;
    assert_eq!(stored["status"], json!("0x1"), "{stored}");
    assert_eq!(stored["contractAddress"], Value::Null);
    let block = stored["blockNumber"].clone();

    let slot =
        call(&client, "eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")])
            .await;
    assert_eq!(slot, json!(B256::from(U256::from(0x2a))));
    let read = call(&client, "eth_call", vec![json!({"to": contract}), json!("latest")]).await;
    assert_eq!(read, json!(Bytes::from(word.clone())));
    let gas = call(
        &client,
        "eth_estimateGas",
        vec![json!({"from": sender, "to": contract, "data": Bytes::from(word.clone())})],
    )
    .await;
    assert!(gas.as_str().is_some());

    let logs = call(
        &client,
        "eth_getLogs",
        vec![json!({"fromBlock": block, "toBlock": block, "address": contract, "topics": [B256::from(TOPIC)]})],
    )
    .await;
    let logs = logs.as_array().expect("an array of logs");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["data"], json!(Bytes::from(word)));
    handle.stop().await;
}

/// Init code deploying a runtime that takes a block number as its first
/// calldata word, stores `BLOCKHASH(number)` in slot 0 and returns it.
fn blockhash_init_code() -> Vec<u8> {
    let runtime = [
        0x60, 0x00, 0x35, 0x40, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00,
        0xf3,
    ];
    let mut code =
        vec![0x60, runtime.len() as u8, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend(runtime);
    code
}

fn quantity(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().expect("a hex quantity").trim_start_matches("0x"), 16)
        .expect("a hex quantity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockhash_reads_the_chain_s_recent_blocks() {
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let handle = ol_node::launch(NodeConfig {
        datadir: datadir.path().to_path_buf(),
        genesis: GenesisSource::Dev,
        dev: true,
        http: "127.0.0.1:0".parse().expect("a literal socket address"),
        ws: None,
        block_time: Duration::ZERO,
        metrics: None,
        serving: None,
    })
    .await
    .expect("the node starts");
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", handle.http))
        .expect("an HTTP client");
    let tx = |nonce: u64, to: TxKind, input: Vec<u8>| TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let deployed = send(&client, tx(0, TxKind::Create, blockhash_init_code())).await;
    assert_eq!(deployed["status"], json!("0x1"), "{deployed}");
    let contract: Address = serde_json::from_value(deployed["contractAddress"].clone()).unwrap();
    let hash_of = |n: u64| {
        let client = client.clone();
        async move {
            let block =
                call(&client, "eth_getBlockByNumber", vec![json!(format!("{n:#x}")), json!(false)])
                    .await;
            serde_json::from_value::<B256>(block["hash"].clone()).expect("a block hash")
        }
    };
    let word = |n: u64| Bytes::from(B256::from(U256::from(n)).to_vec());

    // In a transaction: the parent's hash, as the chain recorded it.
    let parent = quantity(&deployed["blockNumber"]);
    let stored = send(&client, tx(1, TxKind::Call(contract), word(parent).to_vec())).await;
    assert_eq!(stored["status"], json!("0x1"), "{stored}");
    let slot =
        call(&client, "eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")])
            .await;
    assert_eq!(slot, json!(hash_of(parent).await));
    assert_ne!(hash_of(parent).await, B256::ZERO);

    // eth_call at latest runs in the head block: its own hash is not yet
    // known (zero), its parent's is; in the pending block the head's is.
    let head = quantity(&stored["blockNumber"]);
    let at = |n: u64, tag: &'static str| {
        let client = client.clone();
        async move {
            let out = call(
                &client,
                "eth_call",
                vec![json!({"to": contract, "data": word(n)}), json!(tag)],
            )
            .await;
            serde_json::from_value::<B256>(out).expect("a word")
        }
    };
    assert_eq!(at(head, "latest").await, B256::ZERO);
    assert_eq!(at(head - 1, "latest").await, hash_of(head - 1).await);
    assert_eq!(at(head, "pending").await, hash_of(head).await);
    assert_eq!(at(head + 1, "pending").await, B256::ZERO, "the future is zero");
    assert_eq!(at(0, "latest").await, hash_of(0).await, "genesis is within 256 blocks");
    handle.stop().await;
}
