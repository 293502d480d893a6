//! One dev node in the test process and a JSON-RPC client to it: what the
//! staking, agents and governance tests share. Each test adds the
//! transaction helpers it needs in its own `impl Node` block.

#![allow(dead_code)] // Each test uses part of it.

use alloy_primitives::Address;
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    types::ErrorObjectOwned,
};
use ol_node::{GenesisSource, NodeConfig, dev};
use serde_json::Value;
use std::time::Duration;

/// The address of dev account `index`.
pub(crate) fn address(index: u32) -> Address {
    dev::dev_signer(index).address()
}

/// A dev node sealing a block per transaction, with its data in a temporary
/// directory, and the next nonce of each dev account.
pub(crate) struct Node {
    pub client: HttpClient,
    pub nonces: [u64; 10],
    pub handle: ol_node::NodeHandle,
    _datadir: tempfile::TempDir,
}

impl Node {
    /// Starts the node on a free port.
    pub(crate) async fn start() -> Self {
        let datadir = tempfile::tempdir().unwrap();
        let handle = ol_node::launch(NodeConfig {
            datadir: datadir.path().to_path_buf(),
            genesis: GenesisSource::Dev,
            dev: true,
            http: "127.0.0.1:0".parse().unwrap(),
            ws: None,
            block_time: Duration::ZERO,
            metrics: None,
            serving: None,
        })
        .await
        .unwrap();
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(60))
            .build(format!("http://{}", handle.http))
            .unwrap();
        Self { client, nonces: [0; 10], handle, _datadir: datadir }
    }

    /// Calls `method`; a JSON-RPC error is returned, a transport error panics.
    pub(crate) async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Value, ErrorObjectOwned> {
        let mut params = ArrayParams::new();
        for arg in args {
            params.insert(arg).unwrap();
        }
        match self.client.request::<Value, _>(method, params).await {
            Ok(value) => Ok(value),
            Err(ClientError::Call(error)) => Err(error),
            Err(error) => panic!("{method}: {error}"),
        }
    }

    /// Calls `method`, which must succeed.
    pub(crate) async fn ok(&self, method: &str, args: Vec<Value>) -> Value {
        self.call(method, args).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }
}
