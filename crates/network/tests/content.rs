//! Content a node lacks and another node has, on a four-validator network
//! in one process: contribution bytes uploaded to one node only are
//! fetched by every validator before it votes for the block that carries
//! the contribution, so the network commits it and every node ends up
//! holding the bytes.

mod common;

use alloy_primitives::B256;
use alloy_sol_types::{SolCall, SolEvent};
use common::{NetworkSpec, assert_same_chain, signed_call, wait_until};
use ol_ledger::datanets::{DatanetConfig, Format, IDatanets, Policy};
use ol_node::NodeHandle;
use ol_primitives::addresses::DATANETS;
use sha2::{Digest, Sha256};
use std::{net::SocketAddr, time::Duration};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TEXT: &[u8] = b"The harbour master logs every ship that passes the lamp at night.";

fn datanet_config() -> DatanetConfig {
    DatanetConfig {
        name: "harbour".into(),
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

/// One plain HTTP/1.1 exchange with `address`: the status and the whole
/// answer (head and body).
async fn http(address: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(body).await.expect("writes");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("reads");
    let status = std::str::from_utf8(&answer[..answer.len().min(12)])
        .ok()
        .and_then(|line| line.get(9..12))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn blob_path(hash: B256) -> String {
    format!("/blobs/{}", alloy_primitives::hex::encode_prefixed(hash))
}

/// Whether `node` serves the bytes of `hash`, and they are `bytes`.
async fn holds(node: &NodeHandle, hash: B256, bytes: &[u8]) -> bool {
    let (status, answer) = http(node.http, "GET", &blob_path(hash), &[]).await;
    status == 200 && answer.ends_with(bytes)
}

fn committed(node: &NodeHandle, hash: B256) -> Option<bool> {
    node.chain.store().receipt(hash).ok().flatten().map(|(_, receipt)| receipt.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contribution_bytes_uploaded_to_one_node_reach_every_validator() {
    let root = tempfile::tempdir().expect("temp dir");
    let spec = NetworkSpec::new(root.path(), 4, 0);
    let nodes = spec.start_all().await;
    let limit = Duration::from_secs(120);
    wait_until("every node at height 2", limit, || {
        nodes.iter().all(|n| n.chain.head().number() >= 2)
    })
    .await;

    let create = IDatanets::createDatanetCall { config: datanet_config() }.abi_encode();
    let created = nodes[0]
        .chain
        .submit_raw(&signed_call(0, 0, DATANETS, 0, 3_000_000, create))
        .expect("admitted");
    wait_until("the datanet created everywhere", limit, || {
        nodes.iter().all(|n| committed(n, created) == Some(true))
    })
    .await;

    // The bytes go to node 3 only, and so does the contribution.
    let hash = B256::from(<[u8; 32]>::from(Sha256::digest(TEXT)));
    let (status, answer) = http(nodes[3].http, "PUT", &blob_path(hash), TEXT).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    for node in &nodes[..3] {
        assert!(!holds(node, hash, TEXT).await, "only node 3 holds the bytes so far");
    }
    let contribute = IDatanets::contributeCall {
        datanetId: 1,
        contentHash: hash,
        size: TEXT.len() as u64,
        format: Format::Text,
        licence: String::new(),
    }
    .abi_encode();
    let sent = nodes[3]
        .chain
        .submit_raw(&signed_call(1, 0, DATANETS, 0, 3_000_000, contribute))
        .expect("admitted");
    wait_until("the contribution committed everywhere", limit, || {
        nodes.iter().all(|n| committed(n, sent).is_some())
    })
    .await;
    for (i, node) in nodes.iter().enumerate() {
        let (_, receipt) = node.chain.store().receipt(sent).unwrap().unwrap();
        assert!(receipt.success(), "node {i}: {receipt:?}");
        let submitted = receipt
            .logs()
            .iter()
            .find_map(|log| IDatanets::ContributionSubmitted::decode_log_data(&log.data).ok())
            .expect("a ContributionSubmitted event");
        assert_eq!(submitted.contentHash, hash);
        assert!(holds(node, hash, TEXT).await, "node {i} holds the contribution bytes");
    }

    let height = nodes.iter().map(|n| n.chain.head().number()).min().expect("nodes");
    let handles: Vec<_> = nodes.iter().collect();
    assert_same_chain(&handles, height);
    for node in nodes {
        node.stop().await;
    }
}
