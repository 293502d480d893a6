//! Datanets end to end through JSON-RPC with real signed transactions:
//! uploads, contributions from three contributors, an approval, a spam
//! rejection, a take-down, two versions, an index recorded on chain, and the
//! attribution of a text made of known spans.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use alloy_sol_types::{SolCall, SolEvent};
use common::{Node, sign, transaction};
use ol_attribution::span::{largest_remainder, rarity};
use ol_ledger::{
    datanets::{DatanetConfig, Format, IDatanets, Params, Policy},
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
};
use ol_node::dev;
use ol_primitives::addresses::{DATANETS, TREASURY};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const ALICE: &str = "The apothecary measured the tincture twice before sealing the amber bottle, \
because the physician had warned that a single extra drop would turn a remedy into a poison. \
Every label in the shop carried the date, the dose and the name of the patient.";
const BOB: &str = "Tide tables for the northern harbour are printed each winter; the pilots \
compare them with the old brass gauge on the quay and correct the soundings by hand when the \
river floods after the spring thaw.";
const CAROL_SPAM: &str = "BUY CHEAP TOKENS NOW!!! BUY CHEAP TOKENS NOW!!! click click click";
const DAVE: &str = "A lighthouse keeper logs the weather every four hours: wind, visibility, \
the state of the sea and any ship that passes within sight of the lamp. The log is sent to \
the harbour master at the end of each month.";

fn sha256(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

/// A dev node that fails a test whose receipt takes over 20 s.
async fn start() -> Node {
    Node::builder().receipt_timeout(Duration::from_secs(20)).start().await
}

/// A call to `to`, before its nonce is set.
fn call_to(to: Address, input: Vec<u8>) -> TxEip1559 {
    transaction(TxKind::Call(to), input, 3_000_000, 4_000_000_000)
}

impl Node {
    /// A signed call to the datanets contract at `from`'s next nonce, not sent.
    fn raw(&self, from: usize, input: Vec<u8>) -> Bytes {
        sign(from as u32, TxEip1559 { nonce: self.nonces[from], ..call_to(DATANETS, input) })
    }

    /// Sends a transaction and waits for its receipt.
    async fn send(&mut self, from: usize, input: Vec<u8>) -> Value {
        self.send_to(from, DATANETS, input).await
    }

    async fn send_to(&mut self, from: usize, to: Address, input: Vec<u8>) -> Value {
        self.send_from(from as u32, call_to(to, input)).await
    }

    async fn succeed(&mut self, from: usize, input: Vec<u8>) -> Value {
        let receipt = self.send(from, input).await;
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        receipt
    }

    /// The revert reason `eth_estimateGas` gives for a call.
    async fn revert_reason(&self, from: usize, input: Vec<u8>) -> String {
        let request = json!({
            "from": dev::dev_signer(from as u32).address(),
            "to": DATANETS,
            "data": Bytes::from(input),
        });
        let error = self.call("eth_estimateGas", vec![request]).await.unwrap_err();
        assert_eq!(error.code(), 3, "{error:?}");
        error.message().to_owned()
    }

    async fn put_blob(&self, bytes: &[u8], format: &str) -> B256 {
        let hash = sha256(bytes);
        let options = json!({ "sha256": hash, "format": format });
        let stored =
            self.ok("ol_putBlob", vec![json!(Bytes::copy_from_slice(bytes)), options]).await;
        assert_eq!(stored, json!(hash));
        hash
    }

    async fn balance(&self, who: Address) -> U256 {
        let value = self.ok("eth_getBalance", vec![json!(who), json!("latest")]).await;
        value.as_str().unwrap().parse().unwrap()
    }

    async fn wait_for_index(&self, datanet: u64, version: u32) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.ok("ol_indexStatus", vec![json!(datanet), json!(version)]).await;
            match status["state"].as_str().unwrap() {
                "ready" => return status,
                "building" => {}
                other => panic!("index {other}: {status}"),
            }
            assert!(Instant::now() < deadline, "index build too slow");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn contribute(datanet: u64, hash: B256, size: usize, format: Format) -> Vec<u8> {
    IDatanets::contributeCall {
        datanetId: datanet,
        contentHash: hash,
        size: size as u64,
        format,
        licence: String::new(),
    }
    .abi_encode()
}

fn event<E: SolEvent>(receipt: &Value) -> E {
    let logs = receipt["logs"].as_array().unwrap();
    for log in logs {
        let topics: Vec<B256> = log["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().parse().unwrap())
            .collect();
        if topics.first() == Some(&E::SIGNATURE_HASH) {
            let data = hex::decode(log["data"].as_str().unwrap()).unwrap();
            return E::decode_raw_log(topics, &data).unwrap();
        }
    }
    panic!("no {} log in {receipt}", E::SIGNATURE)
}

/// The shares a text's spans justify under the documented formula.
fn expected_bps(attribution: &Value, num_tokens: u64) -> Vec<(u64, u16)> {
    let mut weights: std::collections::BTreeMap<u64, u64> = Default::default();
    for span in attribution["spans"].as_array().unwrap() {
        let occurrences = span["occurrences"].as_u64().unwrap();
        assert_eq!(span["rarity"].as_u64().unwrap(), rarity(num_tokens, occurrences));
        let credited: u64 =
            span["credited"].as_str().unwrap().parse::<alloy_primitives::U64>().unwrap().to();
        *weights.entry(credited).or_default() +=
            span["tokensWon"].as_u64().unwrap() * span["rarity"].as_u64().unwrap();
    }
    let ids: Vec<u64> = weights.keys().copied().collect();
    let bps = largest_remainder(&weights.values().copied().collect::<Vec<_>>());
    ids.into_iter().zip(bps).collect()
}

fn shares(attribution: &Value) -> Vec<(u64, u16)> {
    attribution["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id: alloy_primitives::U64 = s["contribution"].as_str().unwrap().parse().unwrap();
            (id.to::<u64>(), s["bps"].as_u64().unwrap() as u16)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datanet_lifecycle_index_and_attribution() {
    let mut node = start().await;
    let owner = 0;
    let config = DatanetConfig {
        name: "Harbour notes".into(),
        summary: "Logs and notes from the coast".into(),
        description: "# Harbour\nPlain-text notes.".into(),
        tags: vec!["maritime".into()],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::OwnerApproval,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text, Format::Jsonl],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    let receipt = node.succeed(owner, IDatanets::createDatanetCall { config }.abi_encode()).await;
    let datanet = event::<IDatanets::DatanetCreated>(&receipt).datanetId;
    assert_eq!(datanet, 1);
    let shown = node.ok("ol_getDatanet", vec![json!(1)]).await;
    assert_eq!(shown["name"], "Harbour notes");
    assert_eq!(shown["policy"], "owner-approval");

    // Hostile uploads and contributions are refused and store nothing.
    let bad_utf8 = [b'o', b'k', 0xff, 0xfe];
    let error = node
        .call(
            "ol_putBlob",
            vec![json!(Bytes::copy_from_slice(&bad_utf8)), json!({ "format": "txt" })],
        )
        .await
        .unwrap_err();
    assert!(error.message().contains("UTF-8"), "{error:?}");
    assert_eq!(node.ok("ol_hasBlob", vec![json!(sha256(&bad_utf8))]).await, json!(false));
    let missing = sha256(b"never uploaded");
    let raw = node.raw(1, contribute(datanet, missing, 14, Format::Text));
    let error = node.call("eth_sendRawTransaction", vec![json!(raw)]).await.unwrap_err();
    assert_eq!(error.code(), -32003);
    assert!(error.message().contains("not in the blob store"), "{error:?}");
    let wrong_hash = json!({ "sha256": sha256(b"something else") });
    let error = node
        .call("ol_putBlob", vec![json!(Bytes::from_static(b"hello")), wrong_hash])
        .await
        .unwrap_err();
    assert!(
        error.message().contains("does not match") || error.message().contains("mismatch"),
        "{error:?}"
    );

    // Three contributors and a fourth with JSON lines.
    let alice = node.put_blob(ALICE.as_bytes(), "txt").await;
    let bob = node.put_blob(BOB.as_bytes(), "txt").await;
    let carol = node.put_blob(CAROL_SPAM.as_bytes(), "txt").await;
    let dave_jsonl = format!("{}\n", json!({ "text": DAVE, "source": "logbook" }));
    let dave = node.put_blob(dave_jsonl.as_bytes(), "jsonl").await;
    let carol_before = node.balance(dev::dev_signer(3).address()).await;
    let r1 = node.succeed(1, contribute(datanet, alice, ALICE.len(), Format::Text)).await;
    node.succeed(2, contribute(datanet, bob, BOB.len(), Format::Text)).await;
    let r3 = node.succeed(3, contribute(datanet, carol, CAROL_SPAM.len(), Format::Text)).await;
    node.succeed(4, contribute(datanet, dave, dave_jsonl.len(), Format::Jsonl)).await;
    assert_eq!(event::<IDatanets::ContributionSubmitted>(&r1).contributionId, 1);
    let deposit = Params::default().deposit_for(CAROL_SPAM.len() as u64);
    assert_eq!(event::<IDatanets::ContributionSubmitted>(&r3).deposit, deposit);
    let pending = node.ok("ol_getContribution", vec![json!(1)]).await;
    assert_eq!(pending["status"], "pending");

    // An exact duplicate (after normalisation) of a pending one may wait,
    // but not of an accepted one; only the owner decides.
    let reason =
        node.revert_reason(5, IDatanets::approveCall { contributionId: 1 }.abi_encode()).await;
    assert!(reason.contains("only the owner or a curator of datanet 1"), "{reason}");
    for id in [1, 2, 4] {
        node.succeed(owner, IDatanets::approveCall { contributionId: id }.abi_encode()).await;
    }
    let treasury_before = node.balance(TREASURY).await;
    let reject = node
        .succeed(owner, IDatanets::rejectCall { contributionId: 3, spam: true }.abi_encode())
        .await;
    let gas_fee =
        U256::from_str_radix(receipt_gas_fee(&reject).trim_start_matches("0x"), 16).unwrap();
    assert_eq!(
        node.balance(TREASURY).await,
        treasury_before + deposit + base_fee_part(&reject, gas_fee)
    );
    assert!(
        node.balance(dev::dev_signer(3).address()).await < carol_before - deposit + U256::from(1)
    );
    assert_eq!(
        node.ok("ol_hasBlob", vec![json!(carol)]).await,
        json!(false),
        "spam bytes forgotten"
    );
    let copy = format!("{ALICE}\r\n");
    let copy_hash = node.put_blob(copy.as_bytes(), "txt").await;
    let reason =
        node.revert_reason(6, contribute(datanet, copy_hash, copy.len(), Format::Text)).await;
    assert!(reason.contains("duplicates accepted contribution 1"), "{reason}");

    // Version 1, then Bob takes his contribution down, then version 2.
    let published =
        node.succeed(owner, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode()).await;
    assert_eq!(event::<IDatanets::VersionPublished>(&published).contributionCount, 3);
    node.succeed(2, IDatanets::withdrawCall { contributionId: 2 }.abi_encode()).await;
    assert_eq!(
        node.ok("ol_hasBlob", vec![json!(bob)]).await,
        json!(false),
        "take-down forgets bytes"
    );
    node.succeed(owner, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode()).await;
    let v1 = node.ok("ol_getDatanetVersion", vec![json!(1), json!(1)]).await;
    let v2 = node.ok("ol_getDatanetVersion", vec![json!(1), json!(2)]).await;
    assert_eq!(v1["contributions"], json!(["0x1", "0x2", "0x4"]));
    assert_eq!(v2["contributions"], json!(["0x1", "0x4"]));
    assert_ne!(v1["root"], v2["root"]);

    // Index version 2 and record its hash on chain.
    let status = node.ok("ol_buildIndex", vec![json!(1), json!(2)]).await;
    assert!(matches!(status["state"].as_str(), Some("building" | "ready")), "{status}");
    let ready = node.wait_for_index(1, 2).await;
    let index_hash: B256 = ready["indexHash"].as_str().unwrap().parse().unwrap();
    let num_tokens = ready["tokens"].as_u64().unwrap();
    let record = IDatanets::recordIndexCall {
        datanetId: 1,
        version: 2,
        indexHash: index_hash,
        tokenizer: "byte".into(),
    };
    node.succeed(owner, record.abi_encode()).await;
    let v2 = node.ok("ol_getDatanetVersion", vec![json!(1), json!(2)]).await;
    assert_eq!(v2["indexHash"], json!(index_hash));

    // A model trained on version 2 is registered and readable.
    let model = ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 2 }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: B256::repeat_byte(0x77),
        kind: Kind::Full,
        inputPricePer1k: U256::from(1_000u64),
        outputPricePer1k: U256::from(2_000u64),
        providers: vec![dev::dev_signer(9).address()],
    };
    let receipt =
        node.send_to(6, MODELS, IModels::registerModelCall { config: model }.abi_encode()).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let shown = node.ok("ol_getModel", vec![json!("0x1")]).await;
    assert_eq!(shown["name"], "harbour-lm");
    assert_eq!(shown["trainedOn"], json!([{ "datanetId": "0x1", "version": "0x2" }]));
    assert_eq!(shown["providers"], json!([dev::dev_signer(9).address()]));
    let is_provider = IModels::isProviderCall { modelId: 1, account: dev::dev_signer(9).address() };
    let answer = node
        .ok(
            "eth_call",
            vec![json!({ "to": MODELS, "data": Bytes::from(is_provider.abi_encode()) })],
        )
        .await;
    assert_eq!(answer, json!(format!("0x{}", "0".repeat(63) + "1")));
    let stale = ModelConfig {
        name: "stale".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 3 }],
        trainingConfigHash: B256::ZERO,
        weightsHash: B256::repeat_byte(1),
        kind: Kind::Full,
        inputPricePer1k: U256::ZERO,
        outputPricePer1k: U256::ZERO,
        providers: vec![],
    };
    let request = json!({ "from": dev::dev_signer(6).address(), "to": MODELS,
        "data": Bytes::from(IModels::registerModelCall { config: stale }.abi_encode()) });
    let error = node.call("eth_estimateGas", vec![request]).await.unwrap_err();
    assert!(error.message().contains("datanet 1 has no published version 3"), "{error:?}");

    // A text made of a sentence of Alice's and one of Dave's, with novel glue.
    let text = "Reply: the physician had warned that a single extra drop would turn a remedy \
into a poison, so we wrote that the log is sent to the harbour master at the end of each month.";
    let attribution = node.ok("ol_attribute", vec![json!(1), json!(2), json!(text)]).await;
    assert_eq!(attribution["matched"], json!(true));
    let got = shares(&attribution);
    assert_eq!(got.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![1, 4]);
    assert_eq!(got, expected_bps(&attribution, num_tokens));
    assert_eq!(got.iter().map(|(_, bps)| u32::from(*bps)).sum::<u32>(), 10_000);
    let contributors: Vec<String> = attribution["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["contributor"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(
        contributors,
        vec![
            dev::dev_signer(1).address().to_string().to_lowercase(),
            dev::dev_signer(4).address().to_string().to_lowercase()
        ]
    );
    let longest = attribution["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert!(longest > 60, "whole clauses match: {attribution}");

    // Nothing in common: an explicit "no attribution".
    let none = node.ok("ol_attribute", vec![json!(1), json!(2), json!("zzz qqq xxx")]).await;
    assert_eq!(none["matched"], json!(false));
    assert_eq!(none["shares"], json!([]));

    // Version 1 still holds Bob's text, but the take-down excludes it.
    node.ok("ol_buildIndex", vec![json!(1), json!(1)]).await;
    node.wait_for_index(1, 1).await;
    let bobs = "the pilots compare them with the old brass gauge on the quay";
    let attribution = node.ok("ol_attribute", vec![json!(1), json!(1), json!(bobs)]).await;
    assert_eq!(attribution["matched"], json!(false), "{attribution}");

    // Counts and longest matches.
    let count = node.ok("ol_count", vec![json!(1), json!(2), json!("harbour master")]).await;
    assert_eq!(count["count"], json!("0x1"));
    let matches = node.ok("ol_longestMatches", vec![json!(1), json!(2), json!("the lamp!")]).await;
    let lengths: Vec<u64> =
        matches["lengths"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(lengths, vec![1, 2, 3, 4, 5, 6, 7, 8, 0], "no \"!\" in version 2");

    // Calls the contract refuses before running: value, too little gas.
    let from = dev::dev_signer(5).address();
    let payable = json!({ "from": from, "to": DATANETS, "value": "0x1",
        "data": Bytes::from(IDatanets::datanetCountCall {}.abi_encode()) });
    let error = node.call("eth_estimateGas", vec![payable]).await.unwrap_err();
    assert!(error.message().contains("not payable"), "{error:?}");
    let starved = json!({ "from": from, "to": DATANETS, "gas": "0x61a8",
        "data": Bytes::from(IDatanets::datanetCountCall {}.abi_encode()) });
    let error = node.call("eth_call", vec![starved]).await.unwrap_err();
    assert!(error.message().contains("out of gas"), "{error:?}");
    let count =
        json!({ "to": DATANETS, "data": Bytes::from(IDatanets::datanetCountCall {}.abi_encode()) });
    let answer = node.ok("eth_call", vec![count]).await;
    assert_eq!(answer, json!(format!("0x{}", "0".repeat(63) + "1")));

    // Hostile queries.
    for (args, needle) in [
        (vec![json!(1), json!(9), json!("x")], "no published version 9"),
        (vec![json!(7), json!(1), json!("x")], "no published version"),
        (vec![json!(1), json!(-1), json!("x")], "non-negative integer"),
        (vec![json!(1), json!(2), json!("x"), json!({ "minSpan": 0 })], "minSpan"),
        (
            vec![json!(1), json!(2), json!("x"), json!({ "tokenizer": "gpt2" })],
            "recorded index uses the byte tokenizer",
        ),
        (vec![json!(1), json!(2), json!("x".repeat(70_000))], "at most"),
        (vec![json!(1), json!(2), json!("x"), json!({ "bogus": 1 })], "unknown field"),
    ] {
        let error = node.call("ol_attribute", args).await.unwrap_err();
        assert!(error.message().contains(needle), "{needle}: {error:?}");
    }
}

fn receipt_gas_fee(receipt: &Value) -> String {
    let used =
        u128::from_str_radix(receipt["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
    let price = u128::from_str_radix(
        receipt["effectiveGasPrice"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    format!("0x{:x}", used * price)
}

/// The part of a receipt's fee that is base fee (what the treasury receives).
fn base_fee_part(receipt: &Value, total: U256) -> U256 {
    let used =
        U256::from_str_radix(receipt["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
    let price = U256::from_str_radix(
        receipt["effectiveGasPrice"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert_eq!(used * price, total);
    used * (price - U256::from(1_000_000_000u64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reputation_is_served_over_rpc() {
    let mut node = start().await;
    let config = DatanetConfig {
        name: "Apothecary".into(),
        summary: String::new(),
        description: String::new(),
        tags: vec![],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    node.succeed(0, IDatanets::createDatanetCall { config }.abi_encode()).await;
    let original = node.put_blob(ALICE.as_bytes(), "txt").await;
    // The same text with its last word changed: a near-duplicate by the real MinHash.
    let copied = ALICE.replace("the patient.", "the customer.");
    let copy = node.put_blob(copied.as_bytes(), "txt").await;
    node.succeed(1, contribute(1, original, ALICE.len(), Format::Text)).await;
    let receipt = node.succeed(2, contribute(1, copy, copied.len(), Format::Text)).await;
    assert_eq!(event::<IDatanets::ContributionSubmitted>(&receipt).nearDuplicateOf, 1);
    let copier = dev::dev_signer(2).address();
    let clean = node.ok("ol_getReputation", vec![json!(copier)]).await;
    assert_eq!(clean, json!({ "account": copier, "threshold": "0x32", "datanets": [] }));
    let before = node.ok("eth_blockNumber", vec![]).await;

    // Anyone proves the near-duplicate, once.
    let report = IDatanets::reportNearDuplicateCall { contributionId: 2, originalId: 1 };
    let receipt = node.succeed(5, report.abi_encode()).await;
    let proven = event::<IDatanets::NearDuplicateProven>(&receipt);
    assert!(proven.agreeingSlots >= 48, "{}", proven.agreeingSlots);
    assert_eq!(event::<IDatanets::PenaltyRaised>(&receipt).newScore, 5);
    let reason = node.revert_reason(5, report.abi_encode()).await;
    assert!(reason.contains("already proven a near-duplicate of 1"), "{reason}");

    let standing = json!({
        "datanetId": "0x1",
        "score": "0x5",
        "rewardsCut": false,
        "threshold": "0x32",
        "spamRejections": "0x0",
        "nearDuplicates": "0x1",
        "confirmedPoisonings": "0x0",
    });
    let all = node.ok("ol_getReputation", vec![json!(copier)]).await;
    assert_eq!(all["datanets"], json!([standing]));
    let one = node.ok("ol_getReputation", vec![json!(copier), json!("0x1")]).await;
    assert_eq!(one["datanets"], json!([standing]));
    let author = dev::dev_signer(1).address();
    let untouched = node.ok("ol_getReputation", vec![json!(author), json!(1)]).await;
    assert_eq!(untouched["datanets"][0]["score"], "0x0");
    assert_eq!(untouched["datanets"][0]["rewardsCut"], false);
    let earlier = node.ok("ol_getReputation", vec![json!(copier), Value::Null, before]).await;
    assert_eq!(earlier["datanets"], json!([]), "as of the block before the report");

    for (args, needle) in [
        (vec![], "missing parameter 0 (account)"),
        (vec![json!("0x12")], "invalid parameter 0 (account)"),
        (vec![json!(copier), json!(-1)], "non-negative integer"),
        (vec![json!(copier), json!(9)], "datanet 9 does not exist"),
        (vec![json!(copier), json!(1), json!("latest"), json!(4)], "too many parameters"),
    ] {
        let error = node.call("ol_getReputation", args).await.unwrap_err();
        assert!(error.message().contains(needle), "{needle}: {error:?}");
    }
}
