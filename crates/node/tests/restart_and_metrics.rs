//! A node restarted on its data directory resumes from the last committed
//! block with the same state root, and its Prometheus endpoint reports the
//! chain's progress.

use ol_node::{GenesisSource, NodeConfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(datadir: &std::path::Path, metrics: bool, block_time: Duration) -> NodeConfig {
    NodeConfig {
        datadir: datadir.to_path_buf(),
        genesis: GenesisSource::Dev,
        dev: true,
        http: "127.0.0.1:0".parse().expect("a socket address"),
        ws: None,
        block_time,
        metrics: metrics.then(|| "127.0.0.1:0".parse().expect("a socket address")),
        serving: None,
        peers: Vec::new(),
        seal: true,
    }
}

async fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("metrics server accepts");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request is sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response is read");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_with_the_same_state_root_and_metrics_report_progress() {
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let node = ol_node::launch(config(datadir.path(), true, Duration::from_millis(100)))
        .await
        .expect("the node starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while node.chain.head().number() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "no blocks sealed within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = http_get(node.metrics.expect("metrics are served"), "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("openledger_head_block "), "{metrics}");
    assert!(metrics.contains("openledger_blocks_sealed_total "), "{metrics}");
    let before = node.chain.head();
    node.stop().await;

    // An hour-long block time: nothing is sealed while the test looks.
    let restarted = ol_node::launch(config(datadir.path(), false, Duration::from_secs(3600)))
        .await
        .expect("the node restarts");
    let head = restarted.chain.head();
    assert!(head.number() >= before.number());
    let resumed = restarted.chain.store().header_by_number(before.number()).unwrap().unwrap();
    assert_eq!(resumed.hash, before.hash);
    let root = restarted.chain.store().recompute_state_root().unwrap();
    assert_eq!(root, head.header.state_root);
    restarted.stop().await;
}
