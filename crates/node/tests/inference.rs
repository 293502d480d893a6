//! Serving, attribution and settlement end to end in one node: three
//! contributors fill a datanet, a version is published and indexed, a tiny
//! model is trained on it (ol-models) and registered, the node serves it
//! over `/v1`, paid requests (a signed EIP-712 authorisation, and a deposit)
//! are answered with their attribution, the settlements land, every
//! contributor's reward equals its share of the answers' attribution,
//! contributors claim, and the sum of all balances is the supply at every
//! block. Refused payments charge nothing.

mod common;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolEvent};
use common::{Node, address, http_exchange, post_json, transaction};
use ol_ledger::{
    datanets::{DatanetConfig, Format, IDatanets, Policy},
    inference::{self, IInference, INFERENCE, InferenceAuthorization},
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
};
use ol_node::{dev, serving::ServingConfig};
use ol_primitives::addresses::{DATANETS, STAKING, TREASURY};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const TEXTS: [&str; 3] = [
    "The apothecary measured the tincture twice before sealing the amber bottle. ",
    "Tide tables for the northern harbour are printed each winter for the pilots. ",
    "A lighthouse keeper logs the weather every four hours and the ships in sight. ",
];
const OWNER: u32 = 0;
const PROVIDER: u32 = 1;
const CONTRIBUTORS: [u32; 3] = [2, 3, 4];
const PAYER: u32 = 5;

fn number(value: &Value) -> U256 {
    value.as_str().unwrap().parse().unwrap()
}

/// A dev node serving models as PROVIDER.
async fn start() -> Node {
    let provider_key = B256::from_slice(&dev::dev_signer(PROVIDER).to_bytes()[..]);
    let node = Node::builder().serving(ServingConfig::new(provider_key)).start().await;
    assert_eq!(node.handle.provider, Some(address(PROVIDER)));
    node
}

impl Node {
    /// Sends a call from dev account `from` and waits for a successful receipt.
    async fn succeed(&mut self, from: u32, to: Address, input: Vec<u8>) -> Value {
        self.succeed_from(from, transaction(TxKind::Call(to), input, 10_000_000, 4_000_000_000))
            .await
    }

    async fn total_at(&self, who: Address, block: u64) -> U256 {
        let breakdown =
            self.ok("ol_getBalanceBreakdown", vec![json!(who), json!(format!("{block:#x}"))]).await;
        number(&breakdown["total"])
    }

    async fn call_view(&self, input: Vec<u8>) -> Vec<u8> {
        let request = json!({ "to": INFERENCE, "data": Bytes::from(input) });
        let out = self.ok("eth_call", vec![request, json!("latest")]).await;
        alloy_primitives::hex::decode(out.as_str().unwrap()).unwrap()
    }

    /// POSTs JSON to a `/v1` route; returns the status and the JSON body.
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        post_json(self.handle.http, path, body).await
    }

    async fn get_models(&self) -> (u16, Value) {
        http_exchange(
            self.handle.http,
            "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
    }
}

fn sha256(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

/// A signed payment for one inference of `model` served by PROVIDER.
fn payment(model: u64, nonce: u64, max_fee: U256, expiry: u64) -> Value {
    let authorization = InferenceAuthorization {
        modelId: model,
        provider: address(PROVIDER),
        maxFee: max_fee,
        nonce: U256::from(nonce),
        expiry,
    };
    let hash = inference::authorization_signing_hash(dev::DEV_CHAIN_ID, &authorization);
    let signature = dev::dev_signer(PAYER).sign_hash_sync(&hash).unwrap();
    json!({
        "payer": address(PAYER),
        "maxFee": max_fee.to_string(),
        "nonce": nonce,
        "expiry": expiry,
        "signature": Bytes::from(signature.as_bytes().to_vec()),
    })
}

fn open(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18))
}

/// Builds the datanet, its index and the model; returns the model id.
async fn prepare(node: &mut Node) -> u64 {
    let config = DatanetConfig {
        name: "Coast".into(),
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
    node.succeed(OWNER, DATANETS, IDatanets::createDatanetCall { config }.abi_encode()).await;
    for (text, contributor) in TEXTS.iter().zip(CONTRIBUTORS) {
        let hash = sha256(text.as_bytes());
        let upload = json!({ "sha256": hash, "format": "txt" });
        node.ok("ol_putBlob", vec![json!(Bytes::copy_from_slice(text.as_bytes())), upload]).await;
        let call = IDatanets::contributeCall {
            datanetId: 1,
            contentHash: hash,
            size: text.len() as u64,
            format: Format::Text,
            licence: String::new(),
        };
        node.succeed(contributor, DATANETS, call.abi_encode()).await;
    }
    node.succeed(OWNER, DATANETS, IDatanets::publishVersionCall { datanetId: 1 }.abi_encode())
        .await;
    node.ok("ol_buildIndex", vec![json!(1), json!(1)]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let status = node.ok("ol_indexStatus", vec![json!(1), json!(1)]).await;
        if status["state"] == "ready" {
            break status;
        }
        assert!(Instant::now() < deadline, "index build too slow: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let index_hash: B256 = status["indexHash"].as_str().unwrap().parse().unwrap();
    let record = IDatanets::recordIndexCall {
        datanetId: 1,
        version: 1,
        indexHash: index_hash,
        tokenizer: "byte".into(),
    };
    node.succeed(OWNER, DATANETS, record.abi_encode()).await;

    // A tiny model learns the three texts by heart.
    let config = ol_models::Config::from_toml(
        "[model]\nlayers = 2\nwidth = 64\nheads = 4\ncontext = 64\n\
         [training]\nsteps = 120\nbatch_size = 8\nlearning_rate = 0.003\nseed = 1\nheld_out = 0.1\nwarmup_steps = 10\n",
    )
    .unwrap();
    // Many copies as separate documents, so the held-out split (by
    // document) still leaves every text in the training part.
    let texts: Vec<String> = (0..8).flat_map(|_| TEXTS.iter().map(|t| t.repeat(2))).collect();
    let trained = ol_models::train(&config, &texts, &mut ol_models::Silent).unwrap();
    let losses = &trained.report.losses;
    eprintln!(
        "trained: loss {:.3} -> {:.3}, held-out perplexity {:.2}, {:?}",
        losses[0],
        losses[losses.len() - 1],
        trained.report.held_out_perplexity,
        trained.report.elapsed
    );
    let weights = sha256(&trained.weights);
    let upload = json!({ "sha256": weights });
    node.ok("ol_putBlob", vec![json!(Bytes::from(trained.weights.clone())), upload]).await;
    let model = ModelConfig {
        name: "coast-tiny".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
        trainingConfigHash: B256::repeat_byte(1),
        weightsHash: weights,
        kind: Kind::Full,
        inputPricePer1k: open(1) / U256::from(100u64),
        outputPricePer1k: open(1) / U256::from(10u64),
        providers: vec![address(PROVIDER)],
    };
    node.succeed(OWNER, MODELS, IModels::registerModelCall { config: model }.abi_encode()).await;
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_inferences_settle_by_attribution() {
    let mut node = start().await;
    let model = prepare(&mut node).await;
    let now = node.handle.chain.now();

    let (status, listed) = node.get_models().await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"][0]["id"], "coast-tiny", "{listed}");

    // Refusals charge nothing and generate nothing.
    let payer_before =
        number(&node.ok("eth_getBalance", vec![json!(address(PAYER)), json!("latest")]).await);
    let base = json!({ "model": "coast-tiny", "prompt": "Tide tables for the", "max_tokens": 48,
                       "temperature": 0 });
    let mut unpaid = base.clone();
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("payment"), "{body}");
    unpaid["payment"] = payment(model, 1, open(1), now - 10);
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");
    let mut forged = payment(model, 1, open(1), now + 3600);
    forged["maxFee"] = json!(open(2).to_string());
    unpaid["payment"] = forged;
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("signed by"), "{body}");
    unpaid["payment"] = payment(model, 1, U256::from(1u64), now + 3600);
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 402, "{body}");
    unpaid["payment"] = json!({ "payer": "nobody" });
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 400, "{body}");
    unpaid["model"] = json!("no-such-model");
    let (status, body) = node.post("/v1/completions", &unpaid).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        number(&node.ok("eth_getBalance", vec![json!(address(PAYER)), json!("latest")]).await),
        payer_before
    );

    // Three paid answers: two under signed authorisations, one from a deposit.
    let mut answers = Vec::new();
    for (nonce, prompt) in [(1u64, "Tide tables for the"), (2, "The apothecary measured")] {
        let mut request = base.clone();
        request["prompt"] = json!(prompt);
        request["payment"] = payment(model, nonce, open(1), now + 3600);
        let (status, body) = node.post("/v1/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        answers.push(body);
    }
    let deposit = IInference::depositCall { provider: address(PROVIDER), amount: open(1) };
    node.succeed(PAYER, INFERENCE, deposit.abi_encode()).await;
    let chat = json!({
        "model": "coast-tiny",
        "messages": [{ "role": "user", "content": "A lighthouse keeper logs" }],
        "max_tokens": 40,
        "temperature": 0,
        "payment": { "payer": address(PAYER), "maxFee": open(1).to_string(), "nonce": 3,
                     "expiry": now + 3600 },
    });
    let (status, body) = node.post("/v1/chat/completions", &chat).await;
    assert_eq!(status, 200, "{body}");
    answers.push(body);
    let deposit_paid = answers[2]["attribution"]["settlement"]["fee"].clone();

    // The official openai Python client, paying with authorisations that
    // eth_account signs as a wallet does: a completion, a chat and a stream.
    let summary = openai_python(&node, model).await;
    for name in ["completion", "chat", "stream"] {
        answers.push(summary[name].clone());
    }

    // Each answer names its settlement; each settlement lands and pays
    // contributors exactly their attributed share of the contributors' half.
    let mut expected: std::collections::BTreeMap<Address, U256> = Default::default();
    let mut total_fees = U256::ZERO;
    let mut stakers_part = U256::ZERO;
    let mut matched = 0;
    for answer in &answers {
        let attribution = &answer["attribution"];
        assert_eq!(attribution["datanetId"], "0x1", "{attribution}");
        let settlement = &attribution["settlement"];
        let receipt = node.receipt(&settlement["transactionHash"]).await;
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        let fee: U256 = settlement["fee"].as_str().unwrap().parse().unwrap();
        let usage = &answer["usage"];
        assert_eq!(settlement["outputTokens"], usage["completion_tokens"]);
        total_fees += fee;
        let rest = fee - inference::Params::default().platform_fee;
        let contributors_part = rest * U256::from(5_000u64) / U256::from(10_000u64);
        stakers_part += rest * U256::from(2_000u64) / U256::from(10_000u64);
        if attribution["matched"] == true {
            matched += 1;
        }
        let shares = attribution["shares"].as_array().unwrap();
        let sum: u64 = shares.iter().map(|s| s["bps"].as_u64().unwrap()).sum();
        assert!(shares.is_empty() || sum == 10_000, "{attribution}");
        let mut per_contributor: std::collections::BTreeMap<Address, u64> = Default::default();
        for share in shares {
            let who: Address = share["contributor"].as_str().unwrap().parse().unwrap();
            *per_contributor.entry(who).or_default() += share["bps"].as_u64().unwrap();
        }
        let mut paid = std::collections::BTreeMap::<Address, U256>::new();
        for share in shares {
            let who: Address = share["contributor"].as_str().unwrap().parse().unwrap();
            let bps = share["bps"].as_u64().unwrap();
            *paid.entry(who).or_default() +=
                contributors_part * U256::from(bps) / U256::from(10_000u64);
        }
        for (who, amount) in paid {
            *expected.entry(who).or_default() += amount;
        }
        if shares.is_empty() {
            *expected.entry(address(OWNER)).or_default() += contributors_part;
        }
    }
    assert!(matched >= 2, "the model recites its training text: {answers:?}");
    // The stakers' share is in the staking pool, waiting for stake (none is bonded).
    let pool = node.ok("eth_getBalance", vec![json!(STAKING), json!("latest")]).await;
    assert_eq!(number(&pool), stakers_part);
    let staking = node.ok("ol_stakingInfo", vec![]).await;
    assert_eq!(number(&staking["queued"]), stakers_part, "{staking}");
    assert_eq!(number(&staking["undistributed"]), stakers_part, "{staking}");
    // An answer continuing a contributor's sentence credits that contributor most.
    for (answer, contributor) in [(&answers[0], CONTRIBUTORS[1]), (&answers[1], CONTRIBUTORS[0])] {
        let shares = answer["attribution"]["shares"].as_array().unwrap();
        let top = shares.iter().max_by_key(|s| s["bps"].as_u64().unwrap()).unwrap();
        assert_eq!(top["contributor"], json!(address(contributor)), "{answer}");
    }
    for contributor in CONTRIBUTORS {
        let who = address(contributor);
        let earnings = node.ok("ol_getEarnings", vec![json!(who)]).await;
        let want = expected.get(&who).copied().unwrap_or_default();
        assert_eq!(number(&earnings["claimable"]), want, "{earnings}");
        let from_inferences: U256 =
            earnings["inferences"].as_array().unwrap().iter().map(|c| number(&c["amount"])).sum();
        assert_eq!(from_inferences, want, "{earnings}");
        if !want.is_zero() {
            assert_eq!(number(&earnings["perDatanet"][0]["amount"]), want, "{earnings}");
        }
    }
    let count = node.ok("ol_inferenceCount", vec![]).await;
    assert_eq!(count, json!("0x6"));
    let left = IInference::depositOfCall { payer: address(PAYER), provider: address(PROVIDER) };
    let left = U256::from_be_slice(&node.call_view(left.abi_encode()).await);
    let third: U256 = deposit_paid.as_str().unwrap().parse().unwrap();
    assert_eq!(left, open(1) - third, "the deposit paid the chat answer");

    // A replayed authorisation is refused before generating.
    let mut replay = base.clone();
    replay["payment"] = payment(model, 1, open(1), now + 3600);
    let (status, body) = node.post("/v1/completions", &replay).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("already settled"), "{body}");

    // Anyone may challenge a settlement: the ledger recomputes the answer's
    // attribution from this node's index and finds the provider honest, so
    // the challenger's bond goes to the provider.
    let first = &answers[0];
    let receipt = node.receipt(&first["attribution"]["settlement"]["transactionHash"]).await;
    let settled_log = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|log| log["topics"][0] == json!(IInference::Settled::SIGNATURE_HASH))
        .expect("a settlement logs Settled");
    let inference_id: U256 = settled_log["topics"][1].as_str().unwrap().parse().unwrap();
    let hex_u64 = |v: &Value| u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16);
    let settled = inference::challenge::settlement_vector(
        first["attribution"]["shares"].as_array().unwrap().iter().map(|share| {
            (hex_u64(&share["contribution"]).unwrap(), share["bps"].as_u64().unwrap() as u16)
        }),
    )
    .into_iter()
    .map(|(id, bps)| inference::Attributed { contributionId: id, bps })
    .collect();
    let challenge = IInference::challengeCall {
        inferenceId: inference_id.to(),
        output: first["choices"][0]["text"].as_str().unwrap().into(),
        settled,
    };
    let provider_before =
        number(&node.ok("eth_getBalance", vec![json!(address(PROVIDER)), json!("latest")]).await);
    let receipt = node.succeed(PAYER, INFERENCE, challenge.abi_encode()).await;
    let rejected = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|log| log["topics"][0] == json!(IInference::ChallengeRejected::SIGNATURE_HASH));
    assert!(rejected, "the recomputed attribution agrees with the provider's: {receipt}");
    let provider_after =
        number(&node.ok("eth_getBalance", vec![json!(address(PROVIDER)), json!("latest")]).await);
    assert_eq!(
        provider_after,
        provider_before + inference::challenge::ChallengeParams::default().bond
    );

    // Contributors claim; rewards reach their spendable balance.
    for contributor in CONTRIBUTORS {
        let who = address(contributor);
        let want = expected.get(&who).copied().unwrap_or_default();
        if want.is_zero() {
            continue;
        }
        let before = number(&node.ok("eth_getBalance", vec![json!(who), json!("latest")]).await);
        let receipt =
            node.succeed(contributor, INFERENCE, IInference::claimCall {}.abi_encode()).await;
        let gas = number(&receipt["gasUsed"]) * number(&receipt["effectiveGasPrice"]);
        let after = number(&node.ok("eth_getBalance", vec![json!(who), json!("latest")]).await);
        assert_eq!(after, before + want - gas);
        let earnings = node.ok("ol_getEarnings", vec![json!(who)]).await;
        assert_eq!(number(&earnings["claimable"]), U256::ZERO);
    }
    assert!(total_fees > U256::ZERO);

    // A retired model is no longer served: listed nowhere, refused as unknown.
    node.succeed(OWNER, MODELS, IModels::retireCall { modelId: model }.abi_encode()).await;
    let (_, listed) = node.get_models().await;
    assert_eq!(listed["data"], json!([]), "{listed}");
    let mut retired = base.clone();
    retired["payment"] = payment(model, 50, open(1), now + 3600);
    let (status, body) = node.post("/v1/completions", &retired).await;
    assert_eq!(status, 404, "{body}");

    // The sum of the balances of every account that ever held OPEN here is
    // the fixed supply at every block.
    let mut accounts: Vec<Address> = (0..dev::DEV_ACCOUNTS).map(address).collect();
    accounts.extend([
        dev::DEV_RESERVE,
        dev::DEV_PRODUCER,
        TREASURY,
        DATANETS,
        MODELS,
        INFERENCE,
        STAKING,
        ol_primitives::addresses::VESTING,
    ]);
    let supply = open(1_000_000_000);
    let head: u64 = node.handle.chain.head().number();
    for block in 0..=head {
        let mut sum = U256::ZERO;
        for who in &accounts {
            sum += node.total_at(*who, block).await;
        }
        assert_eq!(sum, supply, "block {block}");
    }
}

/// Runs tests/interop/openai_inference.py against the node; returns its summary.
async fn openai_python(node: &Node, model: u64) -> Value {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let install = tokio::process::Command::new(root.join("scripts/install-interop-deps"))
        .current_dir(&root)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("scripts/install-interop-deps runs");
    assert!(
        install.status.success(),
        "scripts/install-interop-deps failed:\n{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let payer_key = B256::from_slice(&dev::dev_signer(PAYER).to_bytes()[..]);
    let run = tokio::process::Command::new(root.join("tests/interop/.venv/bin/python"))
        .arg(root.join("tests/interop/openai_inference.py"))
        .args(["--base-url", &format!("http://{}/v1", node.handle.http), "--model", "coast-tiny"])
        .args(["--model-id", &model.to_string(), "--chain-id", &dev::DEV_CHAIN_ID.to_string()])
        .args(["--provider", &address(PROVIDER).to_string(), "--payer-key", &payer_key.to_string()])
        .stdin(std::process::Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the client finishes within 300 s")
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "openai_inference.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).expect("a JSON summary")
}
