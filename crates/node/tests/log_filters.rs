//! Live log filters over real JSON-RPC: `eth_subscribe("logs")` over
//! WebSocket receives exactly the matching logs of new blocks (a user
//! contract's LOG1 and the staking contract's `Staked`), polling filters
//! (`eth_newFilter`, `eth_newBlockFilter`) report each change once, and
//! malformed filters and ids are refused.

mod common;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolEvent};
use common::{Node, TOPIC, address, store_and_log_init_code, transaction};
use jsonrpsee::{
    core::{
        ClientError,
        client::{ClientT, Subscription, SubscriptionClientT},
        params::ArrayParams,
    },
    ws_client::WsClient,
};
use ol_ledger::staking::{IStaking, STAKING};
use ol_primitives::Amount;
use serde_json::{Value, json};
use std::time::Duration;

const INVALID_PARAMS: i32 = -32602;

fn topic(address: Address) -> B256 {
    address.into_word()
}

impl Node {
    /// Sends a transaction from dev account `from` and waits for its
    /// successful receipt.
    async fn send(&mut self, from: u32, to: TxKind, input: Vec<u8>) -> Value {
        self.succeed_from(from, transaction(to, input, 2_000_000, 10_000_000_000)).await
    }
}

async fn subscribe_logs(ws: &WsClient, filter: Value) -> Result<Subscription<Value>, ClientError> {
    let mut params = ArrayParams::new();
    params.insert("logs").expect("a string serializes");
    params.insert(filter).expect("a JSON value serializes");
    ws.subscribe("eth_subscribe", params, "eth_unsubscribe").await
}

/// The next `count` notifications, then checks that no other arrives.
async fn exactly(subscription: &mut Subscription<Value>, count: usize) -> Vec<Value> {
    let mut logs = Vec::new();
    for _ in 0..count {
        let log = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("a log arrives within 10 s")
            .expect("the subscription stays open")
            .expect("the log is JSON");
        logs.push(log);
    }
    let more = tokio::time::timeout(Duration::from_millis(500), subscription.next()).await;
    assert!(more.is_err(), "an unexpected notification: {more:?}");
    logs
}

/// Keeps the fields a subscription notification carries (a receipt's log
/// has the same, but nodes differ on `blockTimestamp`).
fn core(log: &Value) -> Value {
    let fields = [
        "address",
        "topics",
        "data",
        "blockHash",
        "blockNumber",
        "transactionHash",
        "transactionIndex",
        "logIndex",
        "removed",
    ];
    fields
        .iter()
        .map(|f| (f.to_string(), log[*f].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_and_polling_filters_report_matching_logs() {
    let mut node = Node::start().await;
    let ws = node.ws().await;
    let created = node.send(0, TxKind::Create, store_and_log_init_code()).await;
    let contract: Address =
        serde_json::from_value(created["contractAddress"].clone()).expect("an address");

    let mut user_logs =
        subscribe_logs(&ws, json!({"address": contract, "topics": [B256::from(TOPIC)]}))
            .await
            .unwrap();
    // A null wildcard and an OR-list: stakes to validator 1 or 2 only.
    let mut stakes = subscribe_logs(
        &ws,
        json!({
            "address": [STAKING],
            "topics": [IStaking::Staked::SIGNATURE_HASH, null, [topic(address(1)), topic(address(2))]]
        }))
        .await
        .unwrap();
    let log_filter =
        node.ok("eth_newFilter", vec![json!({"fromBlock": "earliest", "address": contract})]).await;
    let block_filter = node.ok("eth_newBlockFilter", vec![]).await;
    assert_eq!(node.ok("eth_getFilterChanges", vec![log_filter.clone()]).await, json!([]));

    let word = |n: u64| B256::from(U256::from(n)).to_vec();
    let stake = |validator: u32| {
        IStaking::stakeCall { validator: address(validator), amount: Amount::from_open(10).wei() }
            .abi_encode()
    };
    let receipts = [
        node.send(0, TxKind::Call(contract), word(0x2a)).await,
        node.send(1, TxKind::Call(STAKING), stake(1)).await,
        node.send(2, TxKind::Call(STAKING), stake(3)).await,
        node.send(0, TxKind::Call(contract), word(0x2b)).await,
    ];
    let receipt_logs = |i: usize| receipts[i]["logs"].as_array().expect("logs").clone();

    let user = exactly(&mut user_logs, 2).await;
    assert_eq!(core(&user[0]), core(&receipt_logs(0)[0]));
    assert_eq!(core(&user[1]), core(&receipt_logs(3)[0]));
    assert_eq!(user[0]["removed"], json!(false));
    assert_eq!(user[1]["data"], json!(Bytes::from(word(0x2b))));

    let staked = exactly(&mut stakes, 1).await;
    let expected = receipt_logs(1)
        .into_iter()
        .find(|l| l["topics"][0] == json!(IStaking::Staked::SIGNATURE_HASH))
        .expect("the stake emitted Staked");
    assert_eq!(core(&staked[0]), core(&expected));
    assert_eq!(staked[0]["topics"][1], json!(topic(address(1))));

    // Polling: each change once, then nothing.
    let changes = node.ok("eth_getFilterChanges", vec![log_filter.clone()]).await;
    let changes = changes.as_array().expect("an array of logs");
    assert_eq!(
        changes.iter().map(core).collect::<Vec<_>>(),
        user.iter().map(core).collect::<Vec<_>>()
    );
    assert_eq!(node.ok("eth_getFilterChanges", vec![log_filter.clone()]).await, json!([]));
    let hashes = node.ok("eth_getFilterChanges", vec![block_filter.clone()]).await;
    let sealed: Vec<Value> = receipts.iter().map(|r| r["blockHash"].clone()).collect();
    assert_eq!(hashes, json!(sealed));
    assert_eq!(node.ok("eth_getFilterChanges", vec![block_filter.clone()]).await, json!([]));
    // eth_getFilterLogs re-reads the filter's whole range.
    let all = node.ok("eth_getFilterLogs", vec![log_filter.clone()]).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");

    // Uninstalling.
    assert_eq!(node.ok("eth_uninstallFilter", vec![log_filter.clone()]).await, json!(true));
    assert_eq!(node.ok("eth_uninstallFilter", vec![log_filter.clone()]).await, json!(false));
    for method in ["eth_getFilterChanges", "eth_getFilterLogs"] {
        let error = node.refused(method, vec![log_filter.clone()]).await;
        assert_eq!((error.code(), error.message()), (-32000, "filter not found"), "{method}");
    }
    let error = node.refused("eth_getFilterLogs", vec![block_filter.clone()]).await;
    assert_eq!(error.message(), "filter not found", "block filters have no logs");

    // Malformed filters and ids.
    let malformed = [
        json!({"address": "0x12"}),
        json!({"topics": "0xab"}),
        json!({"topics": [null, null, null, null, null]}),
        json!({"fromBlock": "yesterday"}),
        json!({"blockHash": B256::ZERO}),
        json!({"adress": contract}),
    ];
    for filter in &malformed {
        let error = node.refused("eth_newFilter", vec![filter.clone()]).await;
        assert_eq!(error.code(), INVALID_PARAMS, "{filter}: {error}");
        match subscribe_logs(&ws, filter.clone()).await {
            Err(ClientError::Call(error)) => assert_eq!(error.code(), INVALID_PARAMS, "{filter}"),
            other => panic!("eth_subscribe(logs, {filter}) should be refused, got {other:?}"),
        }
    }
    for id in [json!("nope"), json!("0x"), json!(7), json!("0x123456789012345678901234567890123")] {
        for method in ["eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter"] {
            let error = node.refused(method, vec![id.clone()]).await;
            assert_eq!(error.code(), INVALID_PARAMS, "{method}({id}): {error}");
        }
    }
    assert_eq!(node.refused("eth_newFilter", vec![]).await.code(), INVALID_PARAMS);
    // A range that ends before it starts is refused with the numbers asked,
    // also when its start is past the head.
    let error =
        node.refused("eth_getLogs", vec![json!({"fromBlock": "0xf4240", "toBlock": "0x1"})]).await;
    assert_eq!(
        (error.code(), error.message()),
        (INVALID_PARAMS, "eth_getLogs: invalid block range: fromBlock 1000000 is after toBlock 1"),
    );
    let beyond =
        node.ok("eth_getLogs", vec![json!({"fromBlock": "0xf4240", "toBlock": "0xf4241"})]).await;
    assert_eq!(beyond, json!([]), "a range past the head has no logs");
    assert_eq!(node.refused("eth_newBlockFilter", vec![json!(1)]).await.code(), INVALID_PARAMS);

    user_logs.unsubscribe().await.expect("eth_unsubscribe succeeds");
    stakes.unsubscribe().await.expect("eth_unsubscribe succeeds");
    node.handle.stop().await;
}

/// A node holds at most 1,000 filters; beyond, a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_of_filters_is_bounded() {
    let node = Node::start().await;
    let mut batch = jsonrpsee::core::params::BatchRequestBuilder::new();
    for _ in 0..ol_node::rpc::filter::MAX_FILTERS {
        batch.insert("eth_newBlockFilter", ArrayParams::new()).expect("no parameters");
    }
    let answers = node.client.batch_request::<Value>(batch).await.expect("a batch");
    let ids: Vec<Value> = answers.into_iter().map(|a| a.expect("installed")).collect();
    let distinct: std::collections::HashSet<_> = ids.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), ids.len(), "ids are distinct");
    let error = node.refused("eth_newFilter", vec![json!({})]).await;
    assert_eq!(error.code(), -32000);
    assert!(error.message().contains("too many filters"), "{error}");
    assert_eq!(node.ok("eth_uninstallFilter", vec![ids[0].clone()]).await, json!(true));
    node.ok("eth_newFilter", vec![json!({})]).await;
    node.handle.stop().await;
}
