//! Dev-mode accounts and chain control over JSON-RPC, as Hardhat and Anvil
//! serve them: `eth_accounts`, `eth_sendTransaction`, `eth_sign`,
//! `personal_sign`, `eth_signTypedData_v4`, `evm_mine`, `hardhat_mine`,
//! `evm_increaseTime`, `evm_setNextBlockTimestamp`; malformed parameters give
//! `-32602`, and a node without `--dev` refuses them all. With a block per
//! transaction (automine), sending answers once the transaction's block is
//! sealed. `evm_snapshot`/`evm_revert` restore blocks, state and logs;
//! `hardhat_set*`/`anvil_set*` edit the state in a block of their own;
//! `eth_call`/`eth_estimateGas` take geth's state override set.

mod common;

use alloy_consensus::TxEip1559;
use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use common::{
    Node, TOPIC, address, http_client, params, quantity, request, sign, store_and_log_init_code,
    transaction,
};
use ol_node::{
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

fn wei(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("not a quantity: {value}")).parse().unwrap()
}

impl Node {
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

    async fn latest(&self) -> Value {
        self.ok("eth_getBlockByNumber", vec![json!("latest"), json!(false)]).await
    }

    async fn block_number(&self) -> u64 {
        quantity(&self.ok("eth_blockNumber", vec![]).await)
    }

    async fn balance(&self, address: Address) -> U256 {
        wei(&self.ok("eth_getBalance", vec![json!(address), json!("latest")]).await)
    }

    async fn nonce(&self, address: Address) -> u64 {
        quantity(&self.ok("eth_getTransactionCount", vec![json!(address), json!("latest")]).await)
    }

    /// The receipt of `hash`, which must already be there (no polling).
    async fn sealed_receipt(&self, hash: &Value) -> Value {
        let receipt = self.ok("eth_getTransactionReceipt", vec![hash.clone()]).await;
        assert!(!receipt.is_null(), "no receipt right after sending {hash}");
        receipt
    }
}

/// A signed EIP-1559 transaction of dev account `from`.
fn signed(from: u32, nonce: u64, to: TxKind, value: u64, input: Vec<u8>) -> Bytes {
    let tx = TxEip1559 {
        nonce,
        value: U256::from(value),
        ..transaction(to, input, 1_000_000, 100_000_000_000)
    };
    sign(from, tx)
}

/// Deploys [`store_and_log_init_code`] from dev account `from`; returns the contract.
async fn deploy(node: &Node, from: u32) -> Address {
    let nonce = node.nonce(address(from)).await;
    let raw = signed(from, nonce, TxKind::Create, 0, store_and_log_init_code());
    let hash = node.ok("eth_sendRawTransaction", vec![json!(raw)]).await;
    let receipt = node.sealed_receipt(&hash).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    serde_json::from_value(receipt["contractAddress"].clone()).unwrap()
}

/// Stores `word` in the contract (which logs it); returns the receipt.
async fn store_word(node: &Node, from: u32, contract: Address, word: u8) -> Value {
    let nonce = node.nonce(address(from)).await;
    let raw = signed(from, nonce, TxKind::Call(contract), 0, B256::with_last_byte(word).to_vec());
    let hash = node.ok("eth_sendRawTransaction", vec![json!(raw)]).await;
    node.sealed_receipt(&hash).await
}

/// What `evm_revert` must bring back: the head, balances, nonces, code,
/// storage and logs a test looks at.
#[derive(Debug, PartialEq)]
struct Observed {
    head: Value,
    balances: Vec<Value>,
    nonces: Vec<Value>,
    code: Value,
    slot: Value,
    logs: Value,
}

async fn observe(node: &Node, contract: Address) -> Observed {
    let mut balances = Vec::new();
    let mut nonces = Vec::new();
    for i in 0..3 {
        balances.push(node.ok("eth_getBalance", vec![json!(address(i)), json!("latest")]).await);
        nonces.push(
            node.ok("eth_getTransactionCount", vec![json!(address(i)), json!("latest")]).await,
        );
    }
    Observed {
        head: node.latest().await,
        balances,
        nonces,
        code: node.ok("eth_getCode", vec![json!(contract), json!("latest")]).await,
        slot: node.ok("eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")]).await,
        logs: node
            .ok("eth_getLogs", vec![json!({ "fromBlock": "0x0", "toBlock": "latest", "topics": [B256::from(TOPIC)] })])
            .await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_revert_blocks_state_and_logs() {
    let node = Node::start().await;
    let contract = deploy(&node, 0).await;
    store_word(&node, 0, contract, 1).await;
    let first = node.ok("evm_snapshot", vec![]).await;
    assert_eq!(first, "0x1");
    let at_first = observe(&node, contract).await;
    let filter = node.ok("eth_newBlockFilter", vec![]).await;

    // Transfers, a mined block, a new contract and a storage write.
    let to = address(2);
    let transfer = node
        .ok("eth_sendTransaction", vec![json!({ "from": address(1), "to": to, "value": "0x100" })])
        .await;
    node.ok("evm_mine", vec![]).await;
    node.ok("evm_increaseTime", vec![json!(1_000)]).await;
    let second = node.ok("evm_snapshot", vec![]).await;
    assert_eq!(second, "0x2");
    let at_second = observe(&node, contract).await;
    let late = deploy(&node, 1).await;
    let stored = store_word(&node, 0, contract, 2).await;
    let third = node.ok("evm_snapshot", vec![]).await;
    assert_eq!(third, "0x3");
    node.ok("hardhat_mine", vec![json!(5)]).await;
    assert_ne!(observe(&node, contract).await, at_second);
    assert_ne!(node.ok("eth_getCode", vec![json!(late), json!("latest")]).await, "0x");
    let changes = node.ok("eth_getFilterChanges", vec![filter.clone()]).await;
    assert_eq!(changes.as_array().unwrap().len(), 9, "{changes}");

    // Back to the second: the third is used up with it.
    assert_eq!(node.ok("evm_revert", vec![second.clone()]).await, json!(true));
    assert_eq!(observe(&node, contract).await, at_second);
    assert_eq!(node.ok("eth_getCode", vec![json!(late), json!("latest")]).await, "0x");
    assert!(
        node.ok("eth_getTransactionReceipt", vec![stored["transactionHash"].clone()])
            .await
            .is_null()
    );
    assert_eq!(node.ok("evm_revert", vec![second.clone()]).await, json!(false));
    assert_eq!(node.ok("evm_revert", vec![third]).await, json!(false));
    assert_eq!(node.ok("evm_revert", vec![json!("0x63")]).await, json!(false));
    assert_eq!(observe(&node, contract).await, at_second, "a refused revert changed nothing");

    // The chain goes on from there; a filter reports the new blocks.
    node.ok("evm_mine", vec![]).await;
    let changes = node.ok("eth_getFilterChanges", vec![filter.clone()]).await;
    assert_eq!(changes, json!([node.latest().await["hash"]]));

    // Back to the first, through the chain sealed after the second.
    assert_eq!(node.ok("evm_revert", vec![first.clone()]).await, json!(true));
    assert_eq!(observe(&node, contract).await, at_first);
    assert!(node.ok("eth_getTransactionReceipt", vec![transfer]).await.is_null());
    assert_eq!(node.ok("evm_revert", vec![first]).await, json!(false));
    // The time offset is back to none: a new block is stamped near now.
    node.ok("evm_mine", vec![]).await;
    let stamped = quantity(&node.latest().await["timestamp"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(stamped < now + 500, "{stamped} is not near {now}");

    // A pending transaction is dropped by the revert (nonce gap: it waits).
    let snapshot = node.ok("evm_snapshot", vec![]).await;
    assert_eq!(snapshot, "0x4", "ids are never reused");
    let nonce = node.nonce(address(3)).await;
    let gapped = node
        .ok(
            "eth_sendRawTransaction",
            vec![json!(signed(3, nonce + 1, TxKind::Call(to), 1, vec![]))],
        )
        .await;
    assert_eq!(node.ok("evm_revert", vec![snapshot]).await, json!(true));
    let filler = node
        .ok("eth_sendRawTransaction", vec![json!(signed(3, nonce, TxKind::Call(to), 1, vec![]))])
        .await;
    node.sealed_receipt(&filler).await;
    node.ok("evm_mine", vec![]).await;
    assert!(node.ok("eth_getTransactionReceipt", vec![gapped]).await.is_null());
    assert_eq!(node.nonce(address(3)).await, nonce + 1);

    node.invalid("evm_revert", vec![], "missing parameter 0").await;
    node.invalid("evm_revert", vec![json!("one")], "non-negative integer").await;
    node.invalid("evm_snapshot", vec![json!(1)], "too many parameters").await;
}

/// A log subscription reports the blocks sealed after a revert, though
/// they reuse the numbers of blocks it already reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_subscriptions_follow_a_revert() {
    use jsonrpsee::core::client::SubscriptionClientT;
    let node = Node::start().await;
    let contract = deploy(&node, 0).await;
    let ws = node.ws().await;
    let mut logs = ws
        .subscribe::<Value, _>(
            "eth_subscribe",
            params(vec![json!("logs"), json!({ "address": contract })]),
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let mut next_log = async || {
        tokio::time::timeout(Duration::from_secs(10), logs.next())
            .await
            .expect("a log arrives within 10 s")
            .unwrap()
            .unwrap()
    };
    let snapshot = node.ok("evm_snapshot", vec![]).await;
    let first = store_word(&node, 0, contract, 1).await;
    let log = next_log().await;
    assert_eq!(log["blockHash"], first["blockHash"]);
    assert_eq!(node.ok("evm_revert", vec![snapshot]).await, json!(true));
    let again = store_word(&node, 0, contract, 2).await;
    assert_eq!(again["blockNumber"], first["blockNumber"], "the same number, sealed anew");
    let log = next_log().await;
    assert_eq!(log["blockHash"], again["blockHash"]);
    assert_eq!(log["data"], json!(B256::with_last_byte(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_edits_are_sealed_and_read_at_latest() {
    let node = Node::start().await;
    let fresh = Address::repeat_byte(0x5e);
    let head = node.block_number().await;
    let root = node.latest().await["stateRoot"].clone();

    // Balance: Hardhat answers true, anvil null; each edit is one block.
    let balance = "0xde0b6b3a7640000";
    assert_eq!(
        node.ok("hardhat_setBalance", vec![json!(fresh), json!(balance)]).await,
        json!(true)
    );
    assert_eq!(node.balance(fresh).await, balance.parse::<U256>().unwrap());
    assert_eq!(node.block_number().await, head + 1);
    let block = node.latest().await;
    assert_ne!(block["stateRoot"], root);
    assert_eq!(block["transactions"], json!([]));
    assert_eq!(
        node.ok("anvil_setBalance", vec![json!(address(4)), json!("0x7")]).await,
        Value::Null
    );
    assert_eq!(node.balance(address(4)).await, U256::from(7));
    // The proof of the edited account checks out against the head's root.
    let proof = node.ok("eth_getProof", vec![json!(fresh), json!([]), json!("latest")]).await;
    assert_eq!(proof["balance"], balance);

    // Nonce: only up; transactions then take it.
    let sender = address(5);
    assert_eq!(node.ok("hardhat_setNonce", vec![json!(sender), json!("0x10")]).await, json!(true));
    assert_eq!(node.nonce(sender).await, 16);
    node.invalid("anvil_setNonce", vec![json!(sender), json!("0x3")], "can only go up").await;
    let error = node
        .call("eth_sendRawTransaction", vec![json!(signed(5, 0, TxKind::Call(fresh), 1, vec![]))])
        .await
        .expect_err("an old nonce");
    assert!(error.message().contains("nonce too low"), "{error}");
    let hash = node.ok("eth_sendTransaction", vec![json!({ "from": sender, "to": fresh })]).await;
    let tx = node.ok("eth_getTransactionByHash", vec![hash.clone()]).await;
    assert_eq!(quantity(&tx["nonce"]), 16);
    assert_eq!(node.sealed_receipt(&hash).await["status"], "0x1");

    // Code and storage: a contract put in place without a deployment.
    let runtime = Bytes::from(store_and_log_init_code()[13..].to_vec());
    let contract = Address::repeat_byte(0xc0);
    assert_eq!(node.ok("anvil_setCode", vec![json!(contract), json!(runtime)]).await, Value::Null);
    assert_eq!(
        node.ok("eth_getCode", vec![json!(contract), json!("latest")]).await,
        json!(runtime)
    );
    let word = B256::with_last_byte(0x2a);
    assert_eq!(
        node.ok("hardhat_setStorageAt", vec![json!(contract), json!("0x0"), json!(word)]).await,
        json!(true)
    );
    assert_eq!(
        node.ok("eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")]).await,
        json!(word)
    );
    assert_eq!(
        node.ok("eth_call", vec![json!({ "to": contract }), json!("latest")]).await,
        json!(word)
    );
    // The contract runs: a call stores and logs through it.
    let receipt = store_word(&node, 0, contract, 0x2b).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(
        node.ok("eth_getStorageAt", vec![json!(contract), json!("0x0"), json!("latest")]).await,
        json!(B256::with_last_byte(0x2b))
    );
    // Storage on an account that did not exist creates it; zero clears.
    let empty = Address::repeat_byte(0xe1);
    node.ok("anvil_setStorageAt", vec![json!(empty), json!("0x1"), json!(word)]).await;
    assert_eq!(
        node.ok("eth_getStorageAt", vec![json!(empty), json!("0x1"), json!("latest")]).await,
        json!(word)
    );
    node.ok("anvil_setStorageAt", vec![json!(empty), json!("0x1"), json!(B256::ZERO)]).await;
    assert_eq!(
        node.ok("eth_getStorageAt", vec![json!(empty), json!("0x1"), json!("latest")]).await,
        json!(B256::ZERO)
    );
    // `0x` removes code.
    node.ok("hardhat_setCode", vec![json!(contract), json!("0x")]).await;
    assert_eq!(node.ok("eth_getCode", vec![json!(contract), json!("latest")]).await, "0x");

    // An edit keeps a pinned timestamp for the next block.
    let pinned = quantity(&node.latest().await["timestamp"]) + 500;
    node.ok("evm_setNextBlockTimestamp", vec![json!(pinned)]).await;
    node.ok("hardhat_setBalance", vec![json!(fresh), json!("0x1")]).await;
    assert!(quantity(&node.latest().await["timestamp"]) < pinned);
    node.ok("evm_mine", vec![]).await;
    assert_eq!(quantity(&node.latest().await["timestamp"]), pinned);

    // A revert undoes edits like any block.
    let snapshot = node.ok("evm_snapshot", vec![]).await;
    node.ok("hardhat_setBalance", vec![json!(fresh), json!("0x2")]).await;
    assert_eq!(node.balance(fresh).await, U256::from(2));
    assert_eq!(node.ok("evm_revert", vec![snapshot]).await, json!(true));
    assert_eq!(node.balance(fresh).await, U256::from(1));

    // Malformed parameters name what is wrong.
    let before = node.block_number().await;
    node.invalid("hardhat_setBalance", vec![json!("0x12"), json!("0x1")], "parameter 0").await;
    node.invalid("hardhat_setBalance", vec![json!(fresh)], "missing parameter 1").await;
    node.invalid("hardhat_setNonce", vec![json!(fresh), json!("lots")], "non-negative integer")
        .await;
    node.invalid("hardhat_setCode", vec![json!(fresh), json!("0xzz")], "parameter 1").await;
    let huge = Bytes::from(vec![0u8; 24_577]);
    node.invalid("hardhat_setCode", vec![json!(fresh), json!(huge)], "24576-byte limit").await;
    node.invalid(
        "hardhat_setStorageAt",
        vec![json!(fresh), json!("0x0"), json!("0x01")],
        "parameter 2",
    )
    .await;
    assert_eq!(node.block_number().await, before, "a refused edit sealed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_take_state_overrides() {
    let node = Node::start().await;
    let contract = deploy(&node, 0).await;
    store_word(&node, 0, contract, 0x11).await;
    let word = |n: u8| json!(B256::with_last_byte(n));
    let read = |overrides: Value| {
        let node = &node;
        async move {
            node.ok("eth_call", vec![json!({ "to": contract }), json!("latest"), overrides]).await
        }
    };
    assert_eq!(read(Value::Null).await, word(0x11));
    assert_eq!(read(json!({})).await, word(0x11));
    // stateDiff changes the listed slots; state replaces the whole storage.
    let zero = json!(B256::ZERO);
    assert_eq!(
        read(
            json!({ contract.to_string(): { "stateDiff": { zero.as_str().unwrap(): word(0x22) } } })
        )
        .await,
        word(0x22)
    );
    let other_slot = json!(B256::with_last_byte(1));
    assert_eq!(read(json!({ contract.to_string(): { "stateDiff": { other_slot.as_str().unwrap(): word(0x22) } } })).await, word(0x11));
    assert_eq!(read(json!({ contract.to_string(): { "state": { other_slot.as_str().unwrap(): word(0x22) } } })).await, zero);

    // Code at an address that has none, with storage to read.
    let runtime = Bytes::from(store_and_log_init_code()[13..].to_vec());
    let phantom = Address::repeat_byte(0xfa);
    let overrides = json!({ phantom.to_string(): { "code": runtime, "stateDiff": { zero.as_str().unwrap(): word(0x33) } } });
    let call = json!({ "to": phantom });
    assert_eq!(
        node.ok("eth_call", vec![call.clone(), json!("latest"), overrides.clone()]).await,
        word(0x33)
    );
    assert_eq!(node.ok("eth_call", vec![call, json!("latest")]).await, "0x");
    // The estimate runs the overridden code too: a store costs more than a transfer.
    let store = json!({ "from": address(0), "to": phantom, "data": word(0x44) });
    let plain = quantity(&node.ok("eth_estimateGas", vec![store.clone(), json!("latest")]).await);
    let overridden =
        quantity(&node.ok("eth_estimateGas", vec![store, json!("latest"), overrides]).await);
    assert!(plain < 30_000 && overridden > plain + 5_000, "{plain} vs {overridden}");

    // A balance makes a poor sender's value call possible.
    let poor = Address::repeat_byte(0x90);
    let pay = json!({ "from": poor, "to": address(1), "value": "0x3e8" });
    let error = node.call("eth_call", vec![pay.clone(), json!("latest")]).await.unwrap_err();
    assert!(error.message().contains("insufficient funds"), "{error}");
    let rich = json!({ poor.to_string(): { "balance": "0x3e8", "nonce": "0x5" } });
    assert_eq!(node.ok("eth_call", vec![pay.clone(), json!("latest"), rich.clone()]).await, "0x");
    node.ok("eth_estimateGas", vec![pay, json!("latest"), rich]).await;

    // Nothing was written.
    assert_eq!(node.balance(poor).await, U256::ZERO);
    assert_eq!(node.nonce(poor).await, 0);
    assert_eq!(node.ok("eth_getCode", vec![json!(phantom), json!("latest")]).await, "0x");
    assert_eq!(read(Value::Null).await, word(0x11));

    // Malformed sets say where.
    let call = json!({ "to": contract });
    let cases = [
        (
            json!({ contract.to_string(): { "state": {}, "stateDiff": {} } }),
            "has both state and stateDiff",
        ),
        (json!({ "0x12": { "balance": "0x1" } }), "\"0x12\" is not an address"),
        (json!({ contract.to_string(): { "balanse": "0x1" } }), "unknown field `balanse`"),
        (json!({ contract.to_string(): { "nonce": "many" } }), &format!("account {contract}")),
        (
            json!({ contract.to_string(): { "stateDiff": { "0x1": word(1) } } }),
            &format!("account {contract}"),
        ),
        (json!([1]), "expected an object keyed by address"),
    ];
    for (overrides, needle) in cases {
        for method in ["eth_call", "eth_estimateGas"] {
            node.invalid(method, vec![call.clone(), json!("latest"), overrides.clone()], needle)
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automine_answers_after_the_seal() {
    let node = Node::start().await;
    let to = Address::repeat_byte(0x77);
    // Raw transactions: the receipt and the new head are there at once.
    for nonce in 0..20 {
        let raw = signed(0, nonce, TxKind::Call(to), 1, vec![]);
        let hash = node.ok("eth_sendRawTransaction", vec![json!(raw)]).await;
        let receipt = node.sealed_receipt(&hash).await;
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        assert_eq!(quantity(&receipt["blockNumber"]), node.block_number().await);
    }
    // eth_sendTransaction too.
    for _ in 0..10 {
        let hash =
            node.ok("eth_sendTransaction", vec![json!({ "from": address(1), "to": to })]).await;
        assert_eq!(node.sealed_receipt(&hash).await["status"], "0x1");
    }
    assert_eq!(node.balance(to).await, U256::from(20));

    // Several senders at once, each sending in turn.
    let senders = 2..6u32;
    let runs = senders.clone().map(|from| {
        let node = &node;
        async move {
            for round in 0..8 {
                let raw = signed(from, 2 * round, TxKind::Call(to), 1, vec![]);
                let hash = node.ok("eth_sendRawTransaction", vec![json!(raw)]).await;
                node.sealed_receipt(&hash).await;
                let hash = node
                    .ok("eth_sendTransaction", vec![json!({ "from": address(from), "to": to })])
                    .await;
                node.sealed_receipt(&hash).await;
            }
        }
    });
    futures::future::join_all(runs).await;
    for from in senders {
        assert_eq!(node.nonce(address(from)).await, 16);
    }

    // Queued behind a nonce gap: the hash comes back at once, unsealed.
    let started = Instant::now();
    let gapped = node
        .ok("eth_sendRawTransaction", vec![json!(signed(0, 21, TxKind::Call(to), 1, vec![]))])
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(node.ok("eth_getTransactionReceipt", vec![gapped.clone()]).await.is_null());
    // Filling the gap seals both.
    let filler = node
        .ok("eth_sendRawTransaction", vec![json!(signed(0, 20, TxKind::Call(to), 1, vec![]))])
        .await;
    node.sealed_receipt(&filler).await;
    node.receipt(&gapped).await;
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
        assert_eq!(address, &json!(common::address(i as u32).to_checksum(None)));
    }
    node.invalid("eth_accounts", vec![json!(1)], "too many parameters").await;
}

#[tokio::test]
async fn send_transaction_fills_signs_and_submits() {
    let node = Node::start().await;
    let (from, to) = (address(0), address(7));
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
    assert_eq!(quantity(&tx["gas"]), 21_000);
    assert_eq!(quantity(&tx["nonce"]), 0);
    assert_eq!(quantity(&tx["chainId"]), dev::DEV_CHAIN_ID);
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
    assert_eq!(quantity(&tx["gasPrice"]), 2_000_000_000);
    assert_eq!(quantity(&tx["nonce"]), 1);

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
    let from = address(0);
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
    let who = address(4);
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
    assert_eq!(quantity(&genesis["number"]), 0);

    // evm_mine seals an empty block.
    assert_eq!(node.ok("evm_mine", vec![]).await, "0x0");
    let first = node.latest().await;
    assert_eq!(quantity(&first["number"]), 1);
    assert_eq!(first["transactions"], json!([]));
    let t1 = quantity(&first["timestamp"]);

    // evm_increaseTime answers the total offset and moves the next block.
    let offset = node.ok("evm_increaseTime", vec![json!(3600)]).await;
    assert!(offset.as_i64().unwrap() >= 3600, "{offset}");
    let total = node.ok("evm_increaseTime", vec![json!("0xe10")]).await;
    assert_eq!(total.as_i64().unwrap(), offset.as_i64().unwrap() + 3600);
    node.ok("evm_mine", vec![]).await;
    let t2 = quantity(&node.latest().await["timestamp"]);
    assert!(t2 >= t1 + 7200, "{t2} is not 2 h after {t1}");

    // A pinned timestamp is exact; time runs on from it.
    let pinned = t2 + 1_000;
    assert_eq!(node.ok("evm_setNextBlockTimestamp", vec![json!(pinned)]).await, Value::Null);
    node.ok("evm_mine", vec![]).await;
    assert_eq!(quantity(&node.latest().await["timestamp"]), pinned);
    node.ok("evm_mine", vec![json!(format!("{:#x}", pinned + 50))]).await;
    assert_eq!(quantity(&node.latest().await["timestamp"]), pinned + 50);
    node.ok("evm_mine", vec![]).await;
    let t5 = quantity(&node.latest().await["timestamp"]);
    assert!((pinned + 50..pinned + 120).contains(&t5), "{t5} after {pinned}");
    // A transaction's block sees the moved clock too.
    let hash =
        node.ok("eth_sendTransaction", vec![json!({ "from": address(0), "to": address(1) })]).await;
    let receipt = node.receipt(&hash).await;
    let block =
        node.ok("eth_getBlockByNumber", vec![receipt["blockNumber"].clone(), json!(false)]).await;
    assert!(quantity(&block["timestamp"]) >= t5);

    // hardhat_mine: count blocks, interval seconds apart.
    let head = quantity(&node.latest().await["number"]);
    let last = quantity(&node.latest().await["timestamp"]);
    assert_eq!(node.ok("hardhat_mine", vec![json!("0x3"), json!("0xa")]).await, json!(true));
    let top = node.latest().await;
    assert_eq!(quantity(&top["number"]), head + 3);
    let top_time = quantity(&top["timestamp"]);
    let middle = node
        .ok("eth_getBlockByNumber", vec![json!(format!("{:#x}", head + 2)), json!(false)])
        .await;
    assert_eq!(top_time, quantity(&middle["timestamp"]) + 10);
    assert!(top_time >= last + 20);
    node.ok("anvil_mine", vec![]).await;
    assert_eq!(quantity(&node.latest().await["number"]), head + 4);

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
    assert_eq!(quantity(&node.latest().await["number"]), head + 4, "a refused call mined nothing");
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
    let client = http_client(address);
    // As geth without a keystore: no accounts.
    assert_eq!(request(&client, "eth_accounts", vec![]).await.unwrap(), json!([]));
    let from = common::address(0);
    let word = json!(B256::ZERO);
    let calls: [(&str, Vec<Value>); 19] = [
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
        ("hardhat_setBalance", vec![json!(from), json!("0x1")]),
        ("anvil_setBalance", vec![json!(from), json!("0x1")]),
        ("hardhat_setNonce", vec![json!(from), json!("0x9")]),
        ("anvil_setNonce", vec![json!(from), json!("0x9")]),
        ("hardhat_setCode", vec![json!(from), json!("0x00")]),
        ("anvil_setCode", vec![json!(from), json!("0x00")]),
        ("hardhat_setStorageAt", vec![json!(from), json!("0x0"), word.clone()]),
        ("anvil_setStorageAt", vec![json!(from), json!("0x0"), word.clone()]),
    ];
    for (method, args) in calls {
        let error = request(&client, method, args).await.expect_err(method);
        assert_eq!(error.code(), METHOD_NOT_FOUND, "{method}: {error}");
        assert_eq!(
            error.message(),
            format!("{method} is a dev-only method: this node was not started with --dev")
        );
    }
    assert_eq!(
        quantity(&request(&client, "eth_blockNumber", vec![]).await.unwrap()),
        0,
        "nothing was mined"
    );
    handle.stop().unwrap();
}
