//! JSON-RPC answers about contract execution that the differential test
//! against anvil (`crates/cli/tests/evm_diff.rs`) found different, checked
//! here without npm: `eth_call` of an Ethereum precompile runs it, a failed
//! creation's receipt still names the address it would have deployed to, and
//! `eth_estimateGas` of a transaction whose caught sub-call burns all the gas
//! it is given is the least limit that succeeds, not nearly the block's.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind};
use common::{Node, init_code, quantity, sign, transaction};
use serde_json::{Value, json};
use std::time::Duration;

/// Sends `input` to `to` from dev account 0 at `nonce` and waits for the receipt.
async fn send(node: &Node, nonce: u64, to: TxKind, input: Vec<u8>, gas: u64) -> Value {
    let tx = TxEip1559 { nonce, ..transaction(to, input, gas, 10_000_000_000) };
    node.send_raw_and_wait(sign(0, tx)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precompiles_failed_creations_and_estimates_answer_as_ethereum_nodes_do() {
    let node = Node::builder().receipt_timeout(Duration::from_secs(15)).start().await;
    let sender = common::address(0);

    // sha256("abc") from the precompile at 0x02.
    let sha256 = Address::with_last_byte(2);
    let digest =
        node.ok("eth_call", vec![json!({"to": sha256, "data": "0x616263"}), json!("latest")]).await;
    assert_eq!(
        digest,
        json!("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        "eth_call of the sha256 precompile"
    );

    // A creation that reverts (PUSH1 0 PUSH1 0 REVERT): status 0, and the
    // receipt names the address, as geth's and anvil's do.
    let failed = send(&node, 0, TxKind::Create, vec![0x60, 0x00, 0x60, 0x00, 0xfd], 100_000).await;
    assert_eq!(failed["status"], json!("0x0"), "{failed}");
    assert_eq!(failed["contractAddress"], json!(sender.create(0)), "{failed}");

    // A callee that always halts (INVALID), and a caller that calls it with
    // all its gas and ignores the failure: the call burns 63/64 of whatever
    // the transaction has, yet a small limit is enough to succeed.
    let invalid = send(&node, 1, TxKind::Create, init_code(&[0xfe]), 100_000).await;
    let callee: Address =
        serde_json::from_value(invalid["contractAddress"].clone()).expect("an address");
    // PUSH1 0 (x5: out size, out offset, in size, in offset, value) PUSH20 callee GAS CALL STOP
    let mut runtime = vec![0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x73];
    runtime.extend(callee.as_slice());
    runtime.extend([0x5a, 0xf1, 0x00]);
    let deployed = send(&node, 2, TxKind::Create, init_code(&runtime), 200_000).await;
    assert_eq!(deployed["status"], json!("0x1"), "{deployed}");
    let caller: Address =
        serde_json::from_value(deployed["contractAddress"].clone()).expect("an address");
    let estimate =
        quantity(&node.ok("eth_estimateGas", vec![json!({"from": sender, "to": caller})]).await);
    assert!(
        (21_000..100_000).contains(&estimate),
        "the least limit that succeeds, not what the call burns at the block's limit: {estimate}"
    );
    let receipt = send(&node, 3, TxKind::Call(caller), Vec::new(), estimate).await;
    assert_eq!(
        receipt["status"],
        json!("0x1"),
        "a transaction with the estimate succeeds: {receipt}"
    );
}
