//! Nodes talking to their peers (issue 7): a transaction sent to any node
//! reaches the one that seals, gossip between two peers ends, and blobs a
//! node lacks are fetched from peers by hash and verified — wrong bytes,
//! oversize bodies, a silent peer and a peer that is down are refused and
//! store nothing. A contribution sent to a relay is sealed by a peer that
//! fetched its bytes, and a validator importing that block fetches them
//! before it verifies. A serving node on the same chain that lacks a
//! model's weights fetches them by hash from its peer and answers; weights
//! no peer holds are refused at once with the reason.

mod common;

use alloy_consensus::TxEip1559;
use alloy_primitives::{B256, Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolEvent};
use axum::{Router, body::Body, routing::get};
use common::{Node, address, post_json, sign, transaction};
use ol_ledger::datanets::{DatanetConfig, Format, IDatanets, Policy};
use ol_node::{
    blobs::{BlobFetcher, FetchError, PeerFetchError},
    chain::Chain,
    content::IndexedContent,
    dev,
    gossip::PeerUrl,
    indexes::IndexService,
    metrics::Metrics,
};
use ol_primitives::addresses::DATANETS;
use ol_storage::{BlobStore, Store, blob_hash};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

/// An address nothing listens on now (bound, then released).
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("a bound address")
}

/// A transfer of `wei` from dev account `from` at `nonce`, signed.
fn transfer(from: u32, nonce: u64, wei: u64) -> Bytes {
    let tx = transaction(TxKind::Call(address(9)), Vec::new(), 21_000, 4_000_000_000);
    sign(from, TxEip1559 { nonce, value: U256::from(wei), ..tx })
}

/// Waits until `condition` holds, failing the test after 20 s.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The gossip counters of a node: forwarded, already known, failed, dropped.
fn gossip(node: &Node) -> [u64; 4] {
    let metrics = node.handle.chain.metrics();
    [
        metrics.gossip_forwarded.get(),
        metrics.gossip_known.get(),
        metrics.gossip_failed.get(),
        metrics.gossip_dropped.get(),
    ]
}

fn hash_of(value: &Value) -> B256 {
    serde_json::from_value(value.clone()).expect("a transaction hash")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_sent_to_a_relay_is_sealed_by_its_peer() {
    let sealer = Node::start().await;
    let relay = Node::builder().peers(vec![sealer.handle.http.into()]).no_seal().start().await;

    let hash = relay.send_raw(transfer(0, 0, 7)).await;
    let receipt = sealer.receipt(&hash).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["blockNumber"], "0x1");

    // The relay sealed nothing: its chain is still at genesis, the
    // transaction waits in its pool.
    assert_eq!(relay.handle.chain.head().number(), 0);
    assert!(relay.handle.chain.pooled(&hash_of(&hash)).is_some());
    assert!(relay.ok("eth_getTransactionReceipt", vec![hash.clone()]).await.is_null());
    eventually("the relay counted its forward", || gossip(&relay)[0] == 1).await;
    assert_eq!(gossip(&relay), [1, 0, 0, 0]);
    // The sealer has no peers: it forwards nothing.
    assert_eq!(gossip(&sealer), [0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_between_two_peers_ends() {
    let a_address = free_address();
    let b = Node::builder().peers(vec![a_address.into()]).no_seal().start().await;
    let a =
        Node::builder().http(a_address).peers(vec![b.handle.http.into()]).no_seal().start().await;

    let raw = transfer(0, 0, 1);
    let hash = hash_of(&b.send_raw(raw.clone()).await);
    // B forwards to A; A forwards back to B, which already holds it.
    eventually("A pooled the transaction", || a.handle.chain.pooled(&hash).is_some()).await;
    eventually("B heard it back", || gossip(&b)[0] == 1 && gossip(&a)[1] == 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gossip(&b), [1, 0, 0, 0], "B forwarded once, to A");
    assert_eq!(gossip(&a), [0, 1, 0, 0], "A's forward found B already holding it");
    assert_eq!(a.handle.chain.pool_len(), 1);
    assert_eq!(b.handle.chain.pool_len(), 1);

    // Sent again, it is refused and goes nowhere.
    let error = b.refused("eth_sendRawTransaction", vec![json!(raw)]).await;
    assert!(error.message().contains("already known"), "{error:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gossip(&b), [1, 0, 0, 0]);
    assert_eq!(gossip(&a), [0, 1, 0, 0]);
}

/// A burst of transactions goes to the peer in JSON-RPC batches, in order:
/// every one arrives, each sender's nonces in sequence (all executable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_forwarded_in_batches_and_arrives_whole() {
    let a = Node::builder().no_seal().start().await;
    let b = Node::builder().peers(vec![a.handle.http.into()]).no_seal().start().await;
    let mut hashes = Vec::new();
    for nonce in 0..20 {
        for from in 0..10 {
            let raw = transfer(from, nonce, 1);
            hashes.push(b.handle.chain.submit_raw(&raw).expect("admitted"));
        }
    }
    eventually("A pooled the whole burst", || a.handle.chain.pool_len() == hashes.len()).await;
    for hash in &hashes {
        assert!(a.handle.chain.pooled(hash).is_some());
    }
    assert_eq!(gossip(&b), [200, 0, 0, 0]);
    // All of them sealable: no sender's nonces arrived out of order for good.
    let pending = a.handle.chain.pending_nonce(&dev::dev_signer(0).address()).unwrap();
    assert_eq!(pending, 20);
}

/// A peer whose blob route answers every name with `body`.
async fn hostile_peer(body: fn() -> Body) -> PeerUrl {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    let app = Router::new().route("/blobs/{hash}", get(move || async move { body() }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    address.into()
}

/// A fresh blob store (limit `max` bytes) in a temporary directory.
fn store(max: u64) -> (Arc<BlobStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let blobs = BlobStore::open(dir.path()).expect("a fresh store").with_max_blob_bytes(max);
    (Arc::new(blobs), dir)
}

/// Nothing stored and no temporary file left behind.
fn stores_nothing(blobs: &BlobStore, hash: &B256) {
    assert!(!blobs.contains(hash).unwrap(), "{hash} must not be stored");
    let temporary = std::fs::read_dir(blobs.dir().join("tmp")).unwrap().count();
    assert_eq!(temporary, 0, "no temporary file is left");
}

async fn put_blob(node: &Node, bytes: &[u8]) -> B256 {
    let hash = blob_hash(bytes);
    let options = json!({ "sha256": hash });
    let stored = node.ok("ol_putBlob", vec![json!(Bytes::copy_from_slice(bytes)), options]).await;
    assert_eq!(stored, json!(hash));
    hash
}

const TEXT: &[u8] = b"The harbour master logs every ship that passes the lamp at night.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_is_fetched_from_the_peer_that_serves_the_right_bytes() {
    let honest = Node::start().await;
    let hash = put_blob(&honest, TEXT).await;
    let liar = hostile_peer(|| Body::from("not the bytes you asked for")).await;
    let (blobs, _dir) = store(BlobStore::MAX_BLOB_BYTES);
    let metrics = Arc::new(Metrics::new());
    let fetcher = BlobFetcher::new(
        vec![liar.clone(), honest.handle.http.into()],
        blobs.clone(),
        metrics.clone(),
    );

    assert_eq!(fetcher.fetch(hash).await.unwrap(), TEXT.len() as u64);
    assert_eq!(blobs.get(&hash).unwrap().as_deref(), Some(TEXT));
    assert_eq!((metrics.blobs_fetched.get(), metrics.blob_fetch_failed.get()), (1, 1));
    // Stored now: asked again, no peer is asked.
    assert_eq!(fetcher.fetch(hash).await.unwrap(), TEXT.len() as u64);
    assert_eq!((metrics.blobs_fetched.get(), metrics.blob_fetch_failed.get()), (1, 1));

    // Only the liar: refused, nothing stored.
    let (blobs, _dir) = store(BlobStore::MAX_BLOB_BYTES);
    let fetcher = BlobFetcher::new(vec![liar.clone()], blobs.clone(), metrics.clone());
    let error = fetcher.fetch(hash).await.unwrap_err();
    let FetchError::Exhausted { failures, .. } = &error else { panic!("{error}") };
    assert!(
        matches!(failures[..], [(_, PeerFetchError::Blob(ol_storage::BlobError::HashMismatch { expected, .. }))] if expected == hash),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains(&liar.to_string()) && message.contains("hash mismatch"), "{message}");
    stores_nothing(&blobs, &hash);

    // A peer lacking the blob answers 404.
    let missing = blob_hash(b"stored nowhere");
    let fetcher = BlobFetcher::new(vec![honest.handle.http.into()], blobs.clone(), metrics);
    let error = fetcher.fetch(missing).await.unwrap_err();
    assert!(error.to_string().contains("answered HTTP 404"), "{error}");
    stores_nothing(&blobs, &missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_blobs_are_refused() {
    let honest = Node::start().await;
    let hash = put_blob(&honest, TEXT).await;
    let (blobs, _dir) = store(16);
    let metrics = Arc::new(Metrics::new());
    // The honest peer declares the length: refused before reading.
    let fetcher = BlobFetcher::new(vec![honest.handle.http.into()], blobs.clone(), metrics.clone());
    let error = fetcher.fetch(hash).await.unwrap_err();
    assert!(error.to_string().contains("larger than the limit of 16 bytes"), "{error}");
    stores_nothing(&blobs, &hash);

    // A stream of unknown length is cut off at the limit.
    let endless = hostile_peer(|| {
        let chunks = (0..1_000).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024]));
        Body::from_stream(futures::stream::iter(chunks))
    })
    .await;
    let fetcher = BlobFetcher::new(vec![endless], blobs.clone(), metrics);
    let error = fetcher.fetch(hash).await.unwrap_err();
    let FetchError::Exhausted { failures, .. } = &error else { panic!("{error}") };
    assert!(
        matches!(
            failures[..],
            [(_, PeerFetchError::Blob(ol_storage::BlobError::TooLarge { limit: 16 }))]
        ),
        "{error}"
    );
    stores_nothing(&blobs, &hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_down_or_silent_gives_a_clear_error() {
    let (blobs, _dir) = store(BlobStore::MAX_BLOB_BYTES);
    let metrics = Arc::new(Metrics::new());
    let hash = blob_hash(TEXT);

    let down: PeerUrl = free_address().into();
    let fetcher = BlobFetcher::new(vec![down.clone()], blobs.clone(), metrics.clone());
    let message = fetcher.fetch(hash).await.unwrap_err().to_string();
    assert!(message.contains("could not be fetched from any peer"), "{message}");
    assert!(message.contains(&format!("{down} unreachable")), "{message}");
    stores_nothing(&blobs, &hash);

    // A peer that never answers is given up after the timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent: PeerUrl = listener.local_addr().unwrap().into();
    let fetcher = BlobFetcher::new(vec![silent], blobs.clone(), metrics.clone())
        .with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = fetcher.fetch(hash).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error.to_string().contains("no complete answer within 300ms"), "{error}");
    stores_nothing(&blobs, &hash);
    drop(listener);

    let fetcher = BlobFetcher::new(Vec::new(), blobs.clone(), metrics);
    assert!(matches!(fetcher.fetch(hash).await, Err(FetchError::NoPeers(_))));
}

fn datanet_config() -> DatanetConfig {
    DatanetConfig {
        name: "Harbour notes".into(),
        summary: "Logs from the coast".into(),
        description: String::new(),
        tags: Vec::new(),
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    }
}

fn datanets_call(from: u32, nonce: u64, input: Vec<u8>) -> Bytes {
    let tx = transaction(TxKind::Call(DATANETS), input, 3_000_000, 4_000_000_000);
    sign(from, TxEip1559 { nonce, ..tx })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contribution_sent_to_a_relay_is_sealed_with_bytes_fetched_from_it() {
    // A seals and fetches from B; B relays to A.
    let a_address = free_address();
    let b = Node::builder().peers(vec![a_address.into()]).no_seal().start().await;
    let a = Node::builder().http(a_address).peers(vec![b.handle.http.into()]).start().await;

    let create = IDatanets::createDatanetCall { config: datanet_config() }.abi_encode();
    let receipt = a.send_raw_and_wait(datanets_call(0, 0, create)).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");

    // The contributor uploads to B and sends the contribution to B only.
    let hash = put_blob(&b, TEXT).await;
    assert_eq!(a.ok("ol_hasBlob", vec![json!(hash)]).await, json!(false));
    let contribute = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: TEXT.len() as u64,
        format: Format::Text,
        licence: String::new(),
    }
    .abi_encode();
    let sent = b.send_raw(datanets_call(1, 0, contribute)).await;
    let receipt = a.receipt(&sent).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let submitted = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|log| {
            let topics: Vec<B256> = serde_json::from_value(log["topics"].clone()).ok()?;
            let data: Bytes = serde_json::from_value(log["data"].clone()).ok()?;
            IDatanets::ContributionSubmitted::decode_raw_log(topics, &data).ok()
        })
        .expect("a ContributionSubmitted event");
    assert_eq!(submitted.contentHash, hash);
    assert_eq!(a.ok("ol_hasBlob", vec![json!(hash)]).await, json!(true));
    assert_eq!(a.handle.chain.metrics().blobs_fetched.get(), 1);

    // A validator that lacks the bytes fetches them before verifying A's
    // blocks, and imports them with the same hashes.
    let validator_dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(BlobStore::open(validator_dir.path().join("blobs")).unwrap());
    let indexes = Arc::new(IndexService::new(validator_dir.path().join("indexes"), blobs.clone()));
    let fetcher =
        BlobFetcher::new(vec![a.handle.http.into()], blobs.clone(), Arc::new(Metrics::new()));
    let content = IndexedContent::new(blobs.clone(), indexes).with_fetcher(Arc::new(fetcher));
    let store = Store::open(validator_dir.path()).unwrap();
    let validator = Chain::open(store, dev::dev_genesis(), Arc::new(Metrics::new()))
        .unwrap()
        .with_content(Arc::new(content));
    let head = a.handle.chain.head();
    for number in 1..=head.number() {
        let block = a.handle.chain.store().block_by_number(number).unwrap().unwrap();
        for tx in &block.transactions {
            validator.content().fetch_missing(&tx.envelope).await;
        }
        let imported =
            validator.import_block(block).unwrap_or_else(|e| panic!("block {number}: {e}"));
        assert_eq!(
            imported.hash,
            a.handle.chain.store().block_by_number(number).unwrap().unwrap().header.hash
        );
    }
    assert_eq!(validator.head().hash, head.hash);
    assert!(blobs.contains(&hash).unwrap());
}

const PROVIDER: u32 = 1;
const PAYER: u32 = 5;

/// A paid completion request for `model` (id `id`), served by PROVIDER.
fn paid_completion(model: &str, id: u64, nonce: u64, now: u64) -> Value {
    use alloy_signer::SignerSync;
    use ol_ledger::inference::{self, InferenceAuthorization};
    let max_fee = U256::from(10u64).pow(U256::from(18));
    let authorization = InferenceAuthorization {
        modelId: id,
        provider: address(PROVIDER),
        maxFee: max_fee,
        nonce: U256::from(nonce),
        expiry: now + 3600,
    };
    let hash = inference::authorization_signing_hash(dev::DEV_CHAIN_ID, &authorization);
    let signature = dev::dev_signer(PAYER).sign_hash_sync(&hash).unwrap();
    json!({
        "model": model,
        "prompt": "The harbour master",
        "max_tokens": 8,
        "temperature": 0,
        "payment": {
            "payer": address(PAYER),
            "maxFee": max_fee.to_string(),
            "nonce": nonce,
            "expiry": now + 3600,
            "signature": Bytes::from(signature.as_bytes().to_vec()),
        },
    })
}

/// Waits until the `(datanet, version)` index of `node` is built; its hash.
async fn index_ready(node: &Node, datanet: u64, version: u32) -> B256 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = node.ok("ol_indexStatus", vec![json!(datanet), json!(version)]).await;
        if status["state"] == "ready" {
            return status["indexHash"].as_str().unwrap().parse().unwrap();
        }
        assert!(Instant::now() < deadline, "index build too slow: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_node_fetches_missing_weights_from_its_peer() {
    use ol_ledger::models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig};
    let mut a = Node::start().await;
    let call = |to, input| transaction(TxKind::Call(to), input, 10_000_000, 4_000_000_000);

    // A: a datanet of one contribution, published and indexed.
    let create = IDatanets::createDatanetCall { config: datanet_config() }.abi_encode();
    a.succeed_from(0, call(DATANETS, create)).await;
    let text = put_blob(&a, TEXT).await;
    let contribute = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: text,
        size: TEXT.len() as u64,
        format: Format::Text,
        licence: String::new(),
    };
    a.succeed_from(2, call(DATANETS, contribute.abi_encode())).await;
    let publish = IDatanets::publishVersionCall { datanetId: 1 };
    a.succeed_from(0, call(DATANETS, publish.abi_encode())).await;
    a.ok("ol_buildIndex", vec![json!(1), json!(1)]).await;
    let index = index_ready(&a, 1, 1).await;
    let record = IDatanets::recordIndexCall {
        datanetId: 1,
        version: 1,
        indexHash: index,
        tokenizer: "byte".into(),
    };
    a.succeed_from(0, call(DATANETS, record.abi_encode())).await;

    // A tiny model (a few steps: only its loading matters), its weights
    // uploaded to A only; a second model whose weights nobody holds.
    let config = ol_models::Config::from_toml(
        "[model]\nlayers = 1\nwidth = 32\nheads = 2\ncontext = 32\n\
         [training]\nsteps = 3\nbatch_size = 4\nlearning_rate = 0.003\nseed = 1\nheld_out = 0.1\nwarmup_steps = 1\n",
    )
    .unwrap();
    let texts: Vec<String> = (0..10).map(|_| String::from_utf8(TEXT.to_vec()).unwrap()).collect();
    let weights = ol_models::train(&config, &texts, &mut ol_models::Silent).unwrap().weights;
    let weights_hash = put_blob(&a, &weights).await;
    let nowhere = blob_hash(b"weights no node holds");
    for (name, hash) in [("harbour-tiny", weights_hash), ("harbour-lost", nowhere)] {
        let model = ModelConfig {
            name: name.into(),
            baseModel: B256::ZERO,
            trainedOn: vec![DatanetVersion { datanetId: 1, version: 1 }],
            trainingConfigHash: B256::repeat_byte(1),
            weightsHash: hash,
            kind: Kind::Full,
            inputPricePer1k: U256::from(1_000u64),
            outputPricePer1k: U256::from(1_000u64),
            providers: vec![address(PROVIDER)],
        };
        let register = IModels::registerModelCall { config: model };
        a.succeed_from(0, call(MODELS, register.abi_encode())).await;
    }

    // B serves as PROVIDER, seals nothing, has A as its peer, and follows
    // A's chain by importing its blocks (with the contribution bytes, so it
    // can build the same index), but not the weights.
    let provider_key = B256::from_slice(&dev::dev_signer(PROVIDER).to_bytes()[..]);
    let b = Node::builder()
        .peers(vec![a.handle.http.into()])
        .no_seal()
        .serving(ol_node::serving::ServingConfig::new(provider_key))
        .start()
        .await;
    for number in 1..=a.handle.chain.head().number() {
        let block = a.handle.chain.store().block_by_number(number).unwrap().unwrap();
        for tx in &block.transactions {
            b.handle.chain.content().fetch_missing(&tx.envelope).await;
        }
        b.handle.chain.import_block(block).unwrap_or_else(|e| panic!("block {number}: {e}"));
    }
    assert_eq!(b.handle.chain.head().hash, a.handle.chain.head().hash);
    b.ok("ol_buildIndex", vec![json!(1), json!(1)]).await;
    assert_eq!(index_ready(&b, 1, 1).await, index);

    let b_blobs = BlobStore::open(b.datadir.path().join("blobs")).unwrap();
    assert!(!b_blobs.contains(&weights_hash).unwrap(), "B starts without the weights");
    assert_eq!(b.ok("ol_hasBlob", vec![json!(weights_hash)]).await, json!(false));
    let fetched_before = b.handle.chain.metrics().blobs_fetched.get();

    let now = b.handle.chain.now();
    let (status, body) =
        post_json(b.handle.http, "/v1/completions", &paid_completion("harbour-tiny", 1, 1, now))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["attribution"]["settlement"]["modelId"], "1", "{body}");
    assert_eq!(b_blobs.get(&weights_hash).unwrap().as_deref(), Some(&weights[..]));
    assert_eq!(b.handle.chain.metrics().blobs_fetched.get(), fetched_before + 1);
    // B's settlement reaches A through gossip and is sealed there.
    let receipt = a.receipt(&body["attribution"]["settlement"]["transactionHash"]).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");

    // Weights no peer holds: refused at once with the reason, nothing stored.
    let started = Instant::now();
    let (status, body) =
        post_json(b.handle.http, "/v1/completions", &paid_completion("harbour-lost", 2, 2, now))
            .await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(status, 503, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the weights {nowhere} are not in this node's blob store"))
            && message.contains("could not be fetched from any peer")
            && message.contains("answered HTTP 404"),
        "{message}"
    );
    stores_nothing(&b_blobs, &nowhere);
}
