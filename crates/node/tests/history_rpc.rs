//! State at older blocks over JSON-RPC, as an archive node serves it.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, TxKind, U64, U256, address};
use common::{Node, sign, transaction};
use ol_node::dev::{self, DEV_RESERVE};
use ol_primitives::addresses;
use serde_json::json;
use std::time::Duration;

const RECIPIENT: Address = address!("0x5555555555555555555555555555555555555555");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_at_older_blocks_is_served() {
    let node = Node::builder().receipt_timeout(Duration::from_secs(15)).start().await;
    let call = |method: &'static str, args| node.call(method, args);
    let key = dev::dev_signer(3);
    let mut blocks = Vec::new();
    for nonce in 0..3u64 {
        let tx = TxEip1559 {
            nonce,
            value: U256::from(1000 + nonce),
            ..transaction(TxKind::Call(RECIPIENT), Vec::new(), 21_000, 2_000_000_000)
        };
        let receipt = node.send_raw_and_wait(sign(3, tx)).await;
        blocks.push(receipt["blockNumber"].as_str().unwrap().to_string());
    }
    println!("blocks {blocks:?}");
    let at_genesis = call("eth_getBalance", vec![json!(RECIPIENT), json!("0x0")]).await.unwrap();
    assert_eq!(at_genesis, json!("0x0"));
    let at_earliest =
        call("eth_getBalance", vec![json!(RECIPIENT), json!("earliest")]).await.unwrap();
    assert_eq!(at_earliest, json!("0x0"));
    let mut expected = 0u64;
    for (i, block) in blocks.iter().enumerate() {
        expected += 1000 + i as u64;
        let b = call("eth_getBalance", vec![json!(RECIPIENT), json!(block)]).await.unwrap();
        assert_eq!(
            serde_json::from_value::<U256>(b).unwrap(),
            U256::from(expected),
            "block {block}"
        );
        let n = call("eth_getTransactionCount", vec![json!(key.address()), json!(block)])
            .await
            .unwrap();
        assert_eq!(serde_json::from_value::<U64>(n).unwrap(), U64::from(i as u64 + 1));
        // By hash too.
        let header = call("eth_getBlockByNumber", vec![json!(block), json!(false)]).await.unwrap();
        let by_hash =
            call("eth_getBalance", vec![json!(RECIPIENT), json!({"blockHash": header["hash"]})])
                .await
                .unwrap();
        assert_eq!(serde_json::from_value::<U256>(by_hash).unwrap(), U256::from(expected));
    }
    let n0 =
        call("eth_getTransactionCount", vec![json!(key.address()), json!("0x0")]).await.unwrap();
    assert_eq!(n0, json!("0x0"));
    // The reserve's vesting slot exists from genesis.
    let slot = ol_ledger::vesting::schedule_slot(&DEV_RESERVE);
    let s0 = call("eth_getStorageAt", vec![json!(addresses::VESTING), json!(slot), json!("0x0")])
        .await
        .unwrap();
    let sl =
        call("eth_getStorageAt", vec![json!(addresses::VESTING), json!(slot), json!("latest")])
            .await
            .unwrap();
    assert_eq!(s0, sl);
    assert_ne!(serde_json::from_value::<B256>(s0).unwrap(), B256::ZERO);
    // Spendable at genesis time vs now for the reserve.
    let r0 = call("eth_getBalance", vec![json!(DEV_RESERVE), json!("0x0")]).await.unwrap();
    let bd0 = call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE), json!("0x0")]).await.unwrap();
    println!("reserve at 0: {r0} breakdown {bd0}");
    assert_eq!(bd0["spendable"], r0);
    let bd_latest =
        call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE), json!("latest")]).await.unwrap();
    let bd_none = call("ol_getBalanceBreakdown", vec![json!(DEV_RESERVE)]).await.unwrap();
    println!("latest {bd_latest}\nnone {bd_none}");
    // Proofs at the head only.
    let ok =
        call("eth_getProof", vec![json!(RECIPIENT), json!([]), json!("latest")]).await.unwrap();
    assert!(ok["accountProof"].is_array());
    let head = call("eth_blockNumber", vec![]).await.unwrap();
    call("eth_getProof", vec![json!(RECIPIENT), json!([]), head.clone()]).await.unwrap();
    let err =
        call("eth_getProof", vec![json!(RECIPIENT), json!([]), json!("0x0")]).await.unwrap_err();
    println!("getProof at 0: {} {}", err.code(), err.message());
    let future = call("eth_getBalance", vec![json!(RECIPIENT), json!("0x99")]).await.unwrap_err();
    println!("future: {} {}", future.code(), future.message());
    let future =
        call("ol_getBalanceBreakdown", vec![json!(RECIPIENT), json!("0x99")]).await.unwrap_err();
    println!("future breakdown: {} {}", future.code(), future.message());
    // eth_call at an old block checks funds there.
    let c = call(
        "eth_call",
        vec![json!({"from": RECIPIENT, "to": RECIPIENT, "value": "0x1"}), json!("0x0")],
    )
    .await
    .unwrap_err();
    println!("eth_call at 0 from unfunded: {}", c.message());
    call(
        "eth_call",
        vec![json!({"from": RECIPIENT, "to": RECIPIENT, "value": "0x1"}), json!("latest")],
    )
    .await
    .unwrap();
    node.handle.stop().await;
}
