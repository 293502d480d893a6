//! User contracts through the node: a creation sent with
//! `eth_sendRawTransaction`, its receipt, code, storage, `eth_call`,
//! `eth_estimateGas` and `eth_getLogs`, over real HTTP JSON-RPC.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use common::{Node, TOPIC, init_code, quantity, sign, store_and_log_init_code, transaction};
use serde_json::{Value, json};
use std::time::Duration;

/// A dev node that fails a test whose receipt takes over 15 s.
async fn start() -> Node {
    Node::builder().receipt_timeout(Duration::from_secs(15)).start().await
}

/// A transaction from dev account 0 at `nonce`.
fn tx(nonce: u64, to: TxKind, input: Vec<u8>) -> TxEip1559 {
    TxEip1559 { nonce, ..transaction(to, input, 300_000, 10_000_000_000) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_call_and_read_a_contract() {
    let node = start().await;
    let sender = common::address(0);

    let estimate = node
        .ok(
            "eth_estimateGas",
            vec![json!({"from": sender, "data": Bytes::from(store_and_log_init_code())})],
        )
        .await;
    let estimate = quantity(&estimate);
    assert!(estimate > 53_000, "creation costs more than its intrinsic gas: {estimate}");

    let nonce = 0;
    let receipt =
        node.send_raw_and_wait(sign(0, tx(nonce, TxKind::Create, store_and_log_init_code()))).await;
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let contract: Address = serde_json::from_value(receipt["contractAddress"].clone()).unwrap();
    assert_eq!(contract, sender.create(nonce));
    let used = quantity(&receipt["gasUsed"]);
    assert_eq!(used, estimate, "the estimate is what the creation used");

    let code: Bytes = serde_json::from_value(
        node.ok("eth_getCode", vec![json!(contract), json!("latest")]).await,
    )
    .unwrap();
    assert_eq!(&code[..], &store_and_log_init_code()[13..]);

    let word = B256::from(U256::from(0x2a)).to_vec();
    let stored =
        node.send_raw_and_wait(sign(0, tx(nonce + 1, TxKind::Call(contract), word.clone()))).await;
    assert_eq!(stored["status"], json!("0x1"), "{stored}");
    assert_eq!(stored["contractAddress"], Value::Null);
    let block = stored["blockNumber"].clone();

    let slot =
        node.ok("eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")]).await;
    assert_eq!(slot, json!(B256::from(U256::from(0x2a))));
    let read = node.ok("eth_call", vec![json!({"to": contract}), json!("latest")]).await;
    assert_eq!(read, json!(Bytes::from(word.clone())));
    let gas = node
        .ok(
            "eth_estimateGas",
            vec![json!({"from": sender, "to": contract, "data": Bytes::from(word.clone())})],
        )
        .await;
    assert!(gas.as_str().is_some());

    let logs = node.ok(
        "eth_getLogs",
        vec![json!({"fromBlock": block, "toBlock": block, "address": contract, "topics": [B256::from(TOPIC)]})],
    )
    .await;
    let logs = logs.as_array().expect("an array of logs");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["data"], json!(Bytes::from(word)));
    node.handle.stop().await;
}

/// Init code deploying a runtime that takes a block number as its first
/// calldata word, stores `BLOCKHASH(number)` in slot 0 and returns it.
fn blockhash_init_code() -> Vec<u8> {
    init_code(&[
        0x60, 0x00, 0x35, 0x40, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00,
        0xf3,
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockhash_reads_the_chain_s_recent_blocks() {
    let node = start().await;
    let deployed =
        node.send_raw_and_wait(sign(0, tx(0, TxKind::Create, blockhash_init_code()))).await;
    assert_eq!(deployed["status"], json!("0x1"), "{deployed}");
    let contract: Address = serde_json::from_value(deployed["contractAddress"].clone()).unwrap();
    let rpc = &node;
    let hash_of = |n: u64| async move {
        let block =
            rpc.ok("eth_getBlockByNumber", vec![json!(format!("{n:#x}")), json!(false)]).await;
        serde_json::from_value::<B256>(block["hash"].clone()).expect("a block hash")
    };
    let word = |n: u64| Bytes::from(B256::from(U256::from(n)).to_vec());

    // In a transaction: the parent's hash, as the chain recorded it.
    let parent = quantity(&deployed["blockNumber"]);
    let stored =
        node.send_raw_and_wait(sign(0, tx(1, TxKind::Call(contract), word(parent).to_vec()))).await;
    assert_eq!(stored["status"], json!("0x1"), "{stored}");
    let slot =
        node.ok("eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")]).await;
    assert_eq!(slot, json!(hash_of(parent).await));
    assert_ne!(hash_of(parent).await, B256::ZERO);

    // eth_call at latest runs in the head block: its own hash is not yet
    // known (zero), its parent's is; in the pending block the head's is.
    let head = quantity(&stored["blockNumber"]);
    let at = |n: u64, tag: &'static str| async move {
        let out =
            rpc.ok("eth_call", vec![json!({"to": contract, "data": word(n)}), json!(tag)]).await;
        serde_json::from_value::<B256>(out).expect("a word")
    };
    assert_eq!(at(head, "latest").await, B256::ZERO);
    assert_eq!(at(head - 1, "latest").await, hash_of(head - 1).await);
    assert_eq!(at(head, "pending").await, hash_of(head).await);
    assert_eq!(at(head + 1, "pending").await, B256::ZERO, "the future is zero");
    assert_eq!(at(0, "latest").await, hash_of(0).await, "genesis is within 256 blocks");
    node.handle.stop().await;
}
