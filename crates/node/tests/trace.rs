//! `debug_traceTransaction` and `debug_traceCall` with geth's `callTracer`,
//! over real HTTP JSON-RPC: a contract that calls another contract, a
//! system contract and a reverting contract, several transactions in one
//! block (the ones before the traced one are replayed), plain transfers,
//! direct system-contract calls, and hostile parameters.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{Revert, SolError};
use common::{Node, init_code, quantity, sign, transaction};
use jsonrpsee::core::{client::ClientT, params::ArrayParams};
use ol_primitives::addresses::STAKING;
use serde_json::{Value, json, value::RawValue};
use std::time::Duration;

const TOPIC: B256 = B256::repeat_byte(0xab);
const CALL: u8 = 0xf1;
const DELEGATECALL: u8 = 0xf4;
const STATICCALL: u8 = 0xfa;

/// Hand-assembled bytecode.
#[derive(Default)]
struct Code(Vec<u8>);

impl Code {
    /// Writes `data` to memory from offset 0.
    fn memory(mut self, data: &[u8]) -> Self {
        for (i, chunk) in data.chunks(32).enumerate() {
            let mut word = [0u8; 32];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0.push(0x7f);
            self.0.extend(word);
            self.0.push(0x61);
            self.0.extend(u16::try_from(i * 32).expect("short data").to_be_bytes());
            self.0.push(0x52);
        }
        self
    }

    /// Calls `to` with `input` and all the gas it may pass; drops the
    /// success flag.
    fn call(mut self, op: u8, to: Address, value: u8, input: &[u8]) -> Self {
        self = self.memory(input);
        self.0.extend([0x60, 0x00, 0x60, 0x00, 0x61]);
        self.0.extend(u16::try_from(input.len()).expect("short input").to_be_bytes());
        self.0.extend([0x60, 0x00]);
        if op == CALL {
            self.0.extend([0x60, value]);
        }
        self.0.push(0x73);
        self.0.extend(to.0);
        self.0.extend([0x5a, op, 0x50]);
        self
    }

    /// `LOG1(TOPIC)` with the first memory word as data.
    fn log(mut self) -> Self {
        self.0.push(0x7f);
        self.0.extend(TOPIC.0);
        self.0.extend([0x60, 0x20, 0x60, 0x00, 0xa1]);
        self
    }

    /// Returns (`0xf3`) or reverts (`0xfd`) with the first `len` bytes of
    /// memory.
    fn end(mut self, op: u8, len: usize) -> Vec<u8> {
        self.0.extend([0x60, u8::try_from(len).expect("short output"), 0x60, 0x00, op]);
        self.0
    }
}

fn reason() -> Vec<u8> {
    Revert::from("nope").abi_encode()
}

/// `IStaking.stake(validator, amount)`.
fn stake(validator: Address, amount: u64) -> Vec<u8> {
    let mut input = keccak256("stake(address,uint256)")[..4].to_vec();
    input.extend(B256::left_padding_from(validator.as_slice()));
    input.extend(B256::from(U256::from(amount)));
    input
}

fn total_bonded() -> Vec<u8> {
    keccak256("totalBonded()")[..4].to_vec()
}

/// Logs, then returns a word of 0x2a bytes.
fn logger_code() -> Vec<u8> {
    Code::default().log().memory(&[0x2a; 32]).end(0xf3, 32)
}

/// Logs, then reverts with `Error("nope")`.
fn reverter_code() -> Vec<u8> {
    Code::default().log().memory(&reason()).end(0xfd, reason().len())
}

/// Logs; calls the logger with 3 wei (of those it was sent), reads staking, calls the reverter,
/// delegates to the logger; logs again; returns nothing.
fn caller_code(logger: Address, reverter: Address) -> Vec<u8> {
    Code::default()
        .log()
        .call(CALL, logger, 3, &[0x11, 0x22])
        .call(STATICCALL, STAKING, 0, &total_bonded())
        .call(CALL, reverter, 0, &[])
        .call(DELEGATECALL, logger, 0, &[0x33])
        .log()
        .end(0xf3, 0)
}

/// Calls itself (at `address`) until the gas runs out.
fn recursor_code(address: Address) -> Vec<u8> {
    Code::default().call(CALL, address, 0, &[]).end(0xf3, 0)
}

/// Returns the parent block's hash, then `TIMESTAMP`, `NUMBER`,
/// `COINBASE` and `BASEFEE`, a word each.
const ENVIRONMENT: [u8; 30] = [
    0x43, 0x60, 0x01, 0x90, 0x03, 0x40, 0x60, 0x00, 0x52, // blockhash(number - 1)
    0x42, 0x60, 0x20, 0x52, 0x43, 0x60, 0x40, 0x52, 0x41, 0x60, 0x60, 0x52, 0x48, 0x60, 0x80, 0x52,
    0x60, 0xa0, 0x60, 0x00, 0xf3,
];

/// A dev node that seals only on `evm_mine`, so that several transactions
/// share a block.
async fn start() -> Node {
    // Far longer than the test: blocks are sealed with evm_mine.
    Node::builder().block_time(Duration::from_secs(3600)).start().await
}

impl Node {
    /// Sends a transaction from dev account 0 to the pool; its hash.
    async fn send(&mut self, to: TxKind, value: u64, input: Vec<u8>, gas_limit: u64) -> Value {
        let tx = TxEip1559 {
            nonce: self.nonces[0],
            value: U256::from(value),
            ..transaction(to, input, gas_limit, 10_000_000_000)
        };
        self.nonces[0] += 1;
        self.send_raw(sign(0, tx)).await
    }

    /// Seals the pool into one block; the receipts of `hashes`, all in it.
    async fn mine(&self, hashes: &[Value]) -> Vec<Value> {
        self.ok("evm_mine", vec![]).await;
        let mut receipts = Vec::new();
        for hash in hashes {
            let receipt = self.ok("eth_getTransactionReceipt", vec![hash.clone()]).await;
            assert!(!receipt.is_null(), "{hash} was sealed");
            receipts.push(receipt);
        }
        let block = &receipts[0]["blockNumber"];
        assert!(receipts.iter().all(|r| &r["blockNumber"] == block), "one block: {receipts:?}");
        receipts
    }

    /// `debug_traceCall` of `request` at the head with the call tracer.
    async fn trace_call(&self, request: Value) -> Value {
        self.ok("debug_traceCall", vec![request, json!("latest"), call_tracer()]).await
    }

    async fn trace(&self, hash: &Value, config: Value) -> Value {
        let options = json!({"tracer": "callTracer", "tracerConfig": config});
        self.ok("debug_traceTransaction", vec![hash.clone(), options]).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_tracer_follows_geth() {
    let mut node = start().await;
    let sender = common::address(0);
    let logger = sender.create(0);
    let reverter = sender.create(1);
    let caller = sender.create(2);
    let recursor = sender.create(3);
    let environment = sender.create(4);
    let deploys = vec![
        node.send(TxKind::Create, 0, init_code(&logger_code()), 1_000_000).await,
        node.send(TxKind::Create, 0, init_code(&reverter_code()), 1_000_000).await,
        node.send(TxKind::Create, 0, init_code(&caller_code(logger, reverter)), 1_000_000).await,
        node.send(TxKind::Create, 0, init_code(&recursor_code(recursor)), 1_000_000).await,
        node.send(TxKind::Create, 0, init_code(&ENVIRONMENT), 1_000_000).await,
    ];
    let deployed = node.mine(&deploys).await;
    assert!(deployed.iter().all(|r| r["status"] == json!("0x1")), "{deployed:?}");

    let recipient = Address::repeat_byte(0x42);
    let hashes = vec![
        node.send(TxKind::Call(recipient), 5, Vec::new(), 21_000).await,
        node.send(TxKind::Call(caller), 10, Vec::new(), 1_000_000).await,
        node.send(TxKind::Call(reverter), 0, Vec::new(), 1_000_000).await,
        node.send(TxKind::Call(STAKING), 0, total_bonded(), 100_000).await,
        node.send(TxKind::Call(STAKING), 0, vec![0xde, 0xad, 0xbe, 0xef], 100_000).await,
        node.send(TxKind::Call(environment), 0, Vec::new(), 100_000).await,
        node.send(TxKind::Call(STAKING), 0, stake(Address::repeat_byte(0x77), 1), 1_000_000).await,
    ];
    let receipts = node.mine(&hashes).await;

    // The caller, replayed after the transfer in its block.
    let top = node.trace(&hashes[1], json!({})).await;
    assert_eq!(top["type"], json!("CALL"));
    assert_eq!(top["from"], json!(sender));
    assert_eq!(top["to"], json!(caller));
    assert_eq!(top["value"], json!("0xa"));
    assert_eq!(top["input"], json!("0x"));
    assert_eq!(quantity(&top["gas"]), 1_000_000, "the top frame's gas is the gas limit");
    assert_eq!(top["gasUsed"], receipts[1]["gasUsed"], "and its gas used the receipt's");
    assert!(top.get("output").is_none() && top.get("error").is_none(), "{top}");
    assert!(top.get("logs").is_none(), "no logs without withLog");
    let calls = top["calls"].as_array().expect("nested calls");
    let types: Vec<_> = calls.iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["CALL", "STATICCALL", "CALL", "DELEGATECALL"], "{top}");

    assert_eq!(calls[0]["from"], json!(caller));
    assert_eq!(calls[0]["to"], json!(logger));
    assert_eq!(calls[0]["value"], json!("0x3"));
    assert_eq!(calls[0]["input"], json!("0x1122"));
    assert_eq!(calls[0]["output"], json!(Bytes::from(vec![0x2a; 32])));

    let staking = &calls[1];
    assert_eq!(staking["to"], json!(STAKING), "the system precompile is a frame");
    assert!(staking.get("value").is_none(), "a STATICCALL carries no value: {staking}");
    assert_eq!(staking["input"], json!(Bytes::from(total_bonded())));
    assert_eq!(staking["output"].as_str().map(str::len), Some(2 + 64));
    assert!(quantity(&staking["gasUsed"]) > 0);

    let reverted = &calls[2];
    assert_eq!(reverted["to"], json!(reverter));
    assert_eq!(reverted["error"], json!("execution reverted"));
    assert_eq!(reverted["revertReason"], json!("nope"));
    assert_eq!(reverted["output"], json!(Bytes::from(reason())));

    assert_eq!(calls[3]["from"], json!(caller), "a DELEGATECALL is made by the running code");
    assert_eq!(calls[3]["to"], json!(logger));
    assert_eq!(calls[3]["value"], json!("0xa"), "it shows the value it inherits, as geth");

    let total_gas = quantity(&top["gasUsed"]);
    for call in calls {
        assert!(quantity(&call["gasUsed"]) <= quantity(&call["gas"]), "{call}");
        assert!(quantity(&call["gas"]) < total_gas * 64, "{call}");
    }
    let nested: u64 = calls.iter().map(|c| quantity(&c["gasUsed"])).sum();
    assert!(nested < total_gas);

    // withLog: each frame's own logs, positioned among its calls; the
    // reverted frame's log was undone.
    let logged = node.trace(&hashes[1], json!({"withLog": true})).await;
    let logs = logged["logs"].as_array().expect("the caller's logs");
    assert_eq!(logs.len(), 2, "{logged}");
    assert_eq!(logs[0]["position"], json!("0x0"));
    assert_eq!(logs[1]["position"], json!("0x4"));
    assert_eq!(logs[0]["address"], json!(caller));
    assert_eq!(logs[0]["topics"], json!([TOPIC]));
    assert_eq!(logs[0]["data"], json!(B256::ZERO));
    assert_eq!(logged["calls"][0]["logs"].as_array().map(Vec::len), Some(1));
    assert!(logged["calls"][2].get("logs").is_none(), "{logged}");
    assert_eq!(logged["calls"][3]["logs"][0]["address"], json!(caller));

    // onlyTopCall: the same top frame, nothing nested.
    let only_top = node.trace(&hashes[1], json!({"onlyTopCall": true, "withLog": true})).await;
    assert!(only_top.get("calls").is_none(), "{only_top}");
    assert_eq!(only_top["gasUsed"], top["gasUsed"]);
    assert_eq!(only_top["logs"].as_array().map(Vec::len), Some(2));
    assert_eq!(only_top["logs"][1]["position"], json!("0x0"));

    // A reverting transaction: the error is in the trace, not the answer.
    let failed = node.trace(&hashes[2], json!(null)).await;
    assert_eq!(receipts[2]["status"], json!("0x0"));
    assert_eq!(failed["error"], json!("execution reverted"));
    assert_eq!(failed["revertReason"], json!("nope"));
    assert_eq!(failed["output"], json!(Bytes::from(reason())));
    assert_eq!(failed["gasUsed"], receipts[2]["gasUsed"]);

    // A plain transfer: one frame, exactly geth's.
    let transfer = node.trace(&hashes[0], json!({})).await;
    assert_eq!(
        transfer,
        json!({
            "from": sender, "gas": "0x5208", "gasUsed": "0x5208", "to": recipient,
            "input": "0x", "value": "0x5", "type": "CALL"
        })
    );

    // Direct system-contract calls: the call's return or revert data.
    let read = node.trace(&hashes[3], json!({})).await;
    assert_eq!(receipts[3]["status"], json!("0x1"));
    assert_eq!(read["to"], json!(STAKING));
    assert_eq!(read["gasUsed"], receipts[3]["gasUsed"]);
    assert_eq!(read["output"], staking["output"], "what the contract read too");
    assert!(read.get("error").is_none() && read.get("calls").is_none(), "{read}");
    let refused = node.trace(&hashes[4], json!({})).await;
    assert_eq!(receipts[4]["status"], json!("0x0"));
    assert_eq!(refused["error"], json!("execution reverted"));
    assert!(refused["revertReason"].as_str().is_some_and(|r| !r.is_empty()), "{refused}");
    assert_eq!(refused["gasUsed"], receipts[4]["gasUsed"]);

    // The replay runs in the block's own environment.
    let block = node
        .ok("eth_getBlockByNumber", vec![receipts[5]["blockNumber"].clone(), json!(false)])
        .await;
    let word = |value: &Value| B256::from(U256::from(quantity(value)));
    let mut expected =
        serde_json::from_value::<B256>(block["parentHash"].clone()).unwrap().to_vec();
    expected.extend(word(&block["timestamp"]));
    expected.extend(word(&block["number"]));
    let miner: Address = serde_json::from_value(block["miner"].clone()).unwrap();
    expected.extend(B256::left_padding_from(miner.as_slice()));
    expected.extend(word(&block["baseFeePerGas"]));
    let environment_trace = node.trace(&hashes[5], json!({})).await;
    assert_eq!(environment_trace["output"], json!(Bytes::from(expected)));

    // A system call's logs are the top frame's, with withLog.
    assert_eq!(receipts[6]["status"], json!("0x1"), "{}", receipts[6]);
    let staked = node.trace(&hashes[6], json!({"withLog": true})).await;
    let expected: Vec<Value> = receipts[6]["logs"]
        .as_array()
        .expect("the receipt's logs")
        .iter()
        .map(|log| {
            let (address, topics, data) = (&log["address"], &log["topics"], &log["data"]);
            json!({"address": address, "topics": topics, "data": data, "position": "0x0"})
        })
        .collect();
    assert_eq!(expected.len(), 2, "a checkpoint and Staked");
    assert_eq!(staked["logs"], json!(expected));
    assert_eq!(staked["gasUsed"], receipts[6]["gasUsed"]);
    assert!(node.trace(&hashes[6], json!({})).await.get("logs").is_none());

    // The caller's creation, replayed after the other two in its block.
    let created = node.trace(&deploys[2], json!({})).await;
    assert_eq!(created["type"], json!("CREATE"));
    assert_eq!(created["to"], json!(caller));
    assert_eq!(created["gasUsed"], deployed[2]["gasUsed"]);
    let code = node.ok("eth_getCode", vec![json!(caller), json!("latest")]).await;
    assert_eq!(created["output"], code);

    // debug_traceCall runs as eth_call does, traced the same way.
    let traced = node
        .trace_call(json!({"from": sender, "to": caller, "gas": "0x7a120", "value": "0xa"}))
        .await;
    assert_eq!(traced["gas"], json!("0x7a120"));
    assert_eq!(traced["calls"].as_array().map(Vec::len), Some(4), "{traced}");
    assert_eq!(traced["calls"][2]["revertReason"], json!("nope"));
    let reverts = node.trace_call(json!({"to": reverter})).await;
    assert_eq!(reverts["error"], json!("execution reverted"), "a trace, not an error");
    let to_account = node
        .trace_call(json!({"from": sender, "to": recipient, "value": "0x1", "gas": "0x5208"}))
        .await;
    assert_eq!(to_account["gasUsed"], json!("0x5208"));
    assert!(to_account.get("calls").is_none());
    let system = node.trace_call(json!({"to": STAKING, "data": Bytes::from(total_bonded())})).await;
    let bonded = json!({"to": STAKING, "data": Bytes::from(total_bonded())});
    let now = node.ok("eth_call", vec![bonded, json!("latest")]).await;
    assert_eq!(system["output"], now, "what eth_call answers");
    assert_eq!(now, json!(B256::from(U256::from(1))), "the stake above");

    // Hundreds of nested frames come back whole (read raw: serde_json
    // refuses to build a value nested that deep).
    let mut params = ArrayParams::new();
    for arg in [json!({"to": recursor}), json!("latest"), call_tracer()] {
        params.insert(arg).expect("a JSON value serializes");
    }
    let deep: Box<RawValue> = node.client.request("debug_traceCall", params).await.unwrap();
    let depth = deep.get().matches("\"calls\":[").count();
    assert!(depth > 300, "{depth} nested frames");
    let count = |c: char| deep.get().matches(c).count();
    assert_eq!((count('{'), count('[')), (count('}'), count(']')), "every frame is closed");
    assert!(deep.get().ends_with(r#"],"value":"0x0","type":"CALL"}"#));
    let innermost = deep.get().rsplit("\"calls\":[").next().unwrap();
    assert!(innermost.contains("\"error\":\"out of gas\""), "{innermost}");

    rejects_hostile_parameters(&node, &hashes[1]).await;
    node.handle.stop().await;
}

fn call_tracer() -> Value {
    json!({"tracer": "callTracer"})
}

async fn rejects_hostile_parameters(node: &Node, hash: &Value) {
    let call_tracer = call_tracer();
    let refused = |args: Vec<Value>, method: &'static str| async move {
        node.call(method, args).await.expect_err("refused")
    };
    let trace = "debug_traceTransaction";

    let error = refused(vec![json!("0x1234"), call_tracer.clone()], trace).await;
    assert_eq!(error.code(), -32602, "{error:?}");
    let error = refused(vec![json!(B256::repeat_byte(0x77)), call_tracer.clone()], trace).await;
    assert_eq!((error.code(), error.message()), (-32000, "transaction not found"));
    let error = refused(vec![hash.clone()], trace).await;
    assert_eq!(error.code(), -32602);
    assert!(error.message().contains("only the callTracer is supported"), "{error:?}");
    let error = refused(vec![hash.clone(), json!({"tracer": "prestateTracer"})], trace).await;
    assert_eq!(error.code(), -32602);
    assert!(error.message().contains("only the callTracer is supported"), "{error:?}");
    for config in [json!({"onlyTopCall": "yes"}), json!({"onlyTopcall": true}), json!([1])] {
        let options = json!({"tracer": "callTracer", "tracerConfig": config});
        let error = refused(vec![hash.clone(), options], trace).await;
        assert_eq!(error.code(), -32602, "{config}: {error:?}");
    }
    let error = refused(vec![hash.clone(), json!("callTracer")], trace).await;
    assert_eq!(error.code(), -32602, "{error:?}");
    let error = refused(vec![hash.clone(), call_tracer.clone(), json!(1)], trace).await;
    assert_eq!(error.code(), -32602, "{error:?}");
    let error = refused(vec![], trace).await;
    assert_eq!(error.code(), -32602, "{error:?}");

    let call = "debug_traceCall";
    let error = refused(vec![json!({"to": 5}), json!("latest"), call_tracer.clone()], call).await;
    assert_eq!(error.code(), -32602, "{error:?}");
    let error = refused(vec![json!({}), json!("0xffffff"), call_tracer.clone()], call).await;
    assert_eq!(error.code(), -32602, "a block beyond the head: {error:?}");
    let overrides = json!({"tracer": "callTracer", "stateOverrides": {}});
    let error = refused(vec![json!({}), json!("latest"), overrides], call).await;
    assert_eq!(error.code(), -32602, "{error:?}");
    let error = refused(vec![json!({}), json!("latest")], call).await;
    assert!(error.message().contains("only the callTracer is supported"), "{error:?}");
}
