//! One dev node in the test process and a JSON-RPC client to it: what the
//! node's integration tests share. [`Node::start`] launches the usual dev
//! node (a block per transaction); [`Node::builder`] changes the block time,
//! the genesis or the model serving. Transactions are built with
//! [`transaction`], signed with [`sign`] and sent with
//! [`Node::send_raw_and_wait`] or, counting the sender's nonce,
//! [`Node::send_from`]. Each test adds the helpers only it needs in its own
//! `impl Node` block.

#![allow(dead_code)] // Each test uses part of it.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    types::ErrorObjectOwned,
    ws_client::{WsClient, WsClientBuilder},
};
use ol_node::{GenesisSource, NodeConfig, dev, serving::ServingConfig};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

/// The topic the store-and-log contract of [`store_and_log_init_code`] logs under.
pub(crate) const TOPIC: [u8; 32] = [0xab; 32];

/// The address of dev account `index`.
pub(crate) fn address(index: u32) -> Address {
    dev::dev_signer(index).address()
}

/// A JSON-RPC hex quantity as a `u64`.
pub(crate) fn quantity(value: &Value) -> u64 {
    let text = value.as_str().unwrap_or_else(|| panic!("a hex quantity, got {value}"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("a hex quantity")
}

/// JSON-RPC positional parameters.
pub(crate) fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        params.insert(value).expect("a JSON value serializes");
    }
    params
}

/// A JSON-RPC client of the node at `address`.
pub(crate) fn http_client(address: SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .build(format!("http://{address}"))
        .expect("an HTTP client for a bound address")
}

/// POSTs `body` to `path` of the node at `address` over HTTP/1.1; the
/// status and the JSON body.
pub(crate) async fn post_json(address: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    http_exchange(
        address,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

/// Sends one raw HTTP/1.1 request to `address`; the status and the body as
/// JSON (as a JSON string when it is not JSON), de-chunked.
pub(crate) async fn http_exchange(address: SocketAddr, request: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, mut rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = String::new();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            body.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
    } else {
        body.push_str(rest);
    }
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// Calls `method`; a JSON-RPC error is returned, a transport error panics.
pub(crate) async fn request(
    client: &HttpClient,
    method: &str,
    args: Vec<Value>,
) -> Result<Value, ErrorObjectOwned> {
    match client.request::<Value, _>(method, params(args)).await {
        Ok(value) => Ok(value),
        Err(ClientError::Call(error)) => Err(error),
        Err(error) => panic!("{method}: {error}"),
    }
}

/// An EIP-1559 transaction on the dev chain, with no value, a 1 gwei tip and
/// nonce 0 (set it, or let [`Node::send_from`] do).
pub(crate) fn transaction(
    to: TxKind,
    input: Vec<u8>,
    gas_limit: u64,
    max_fee_per_gas: u128,
) -> TxEip1559 {
    TxEip1559 {
        chain_id: dev::DEV_CHAIN_ID,
        nonce: 0,
        gas_limit,
        max_fee_per_gas,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    }
}

/// `tx` signed by dev account `from`, encoded for `eth_sendRawTransaction`.
pub(crate) fn sign(from: u32, tx: TxEip1559) -> Bytes {
    let signature = dev::dev_signer(from).sign_hash_sync(&tx.signature_hash()).expect("signs");
    Bytes::from(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

/// Init code that deploys `runtime`: `PUSH2 len DUP1 PUSH2 13 PUSH1 0
/// CODECOPY PUSH1 0 RETURN`, then the runtime (from byte 13).
pub(crate) fn init_code(runtime: &[u8]) -> Vec<u8> {
    let len = u16::try_from(runtime.len()).expect("a runtime under 64 KiB");
    let mut code = vec![0x61];
    code.extend(len.to_be_bytes());
    code.extend([0x80, 0x61, 0x00, 0x0d, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    code.extend(runtime);
    code
}

/// Init code of a contract that, with calldata, stores its first word in
/// slot 0 and logs it under [`TOPIC`]; without, returns slot 0.
pub(crate) fn store_and_log_init_code() -> Vec<u8> {
    let mut runtime = vec![
        0x36, 0x15, 0x60, 0x36, 0x57, 0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52,
        0x7f,
    ];
    runtime.extend(TOPIC);
    runtime.extend([0x60, 0x20, 0x60, 0x00, 0xa1, 0x00]);
    runtime.extend([0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    init_code(&runtime)
}

/// How to launch a [`Node`]: the dev genesis, a block per transaction, no
/// model serving, unless changed.
pub(crate) struct Launch {
    genesis: GenesisSource,
    block_time: Duration,
    serving: Option<ServingConfig>,
    receipt_timeout: Duration,
    peers: Vec<ol_node::gossip::PeerUrl>,
    seal: bool,
    http: SocketAddr,
}

impl Launch {
    /// Seals a block every `block_time` (zero: one per transaction).
    pub(crate) fn block_time(mut self, block_time: Duration) -> Self {
        self.block_time = block_time;
        self
    }

    /// Starts from `genesis` instead of the dev genesis.
    pub(crate) fn genesis(mut self, genesis: GenesisSource) -> Self {
        self.genesis = genesis;
        self
    }

    /// Serves registered models over `/v1` as `serving` says.
    pub(crate) fn serving(mut self, serving: ServingConfig) -> Self {
        self.serving = Some(serving);
        self
    }

    /// Forwards transactions to, and fetches blobs from, `peers`.
    pub(crate) fn peers(mut self, peers: Vec<ol_node::gossip::PeerUrl>) -> Self {
        self.peers = peers;
        self
    }

    /// Listens on `http` instead of a free port.
    pub(crate) fn http(mut self, http: SocketAddr) -> Self {
        self.http = http;
        self
    }

    /// Seals no blocks: only pools (and forwards) transactions.
    pub(crate) fn no_seal(mut self) -> Self {
        self.seal = false;
        self
    }

    /// How long [`Node::receipt`] waits before failing the test.
    pub(crate) fn receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// Launches the node on a free port, its data in a temporary directory
    /// (removed when dropped), for a test with a client of its own.
    pub(crate) async fn launch(self) -> (ol_node::NodeHandle, tempfile::TempDir) {
        let datadir = tempfile::tempdir().expect("a temporary directory");
        let handle = ol_node::launch(NodeConfig {
            datadir: datadir.path().to_path_buf(),
            genesis: self.genesis,
            dev: true,
            http: self.http,
            ws: None,
            block_time: self.block_time,
            metrics: None,
            serving: self.serving,
            peers: self.peers,
            seal: self.seal,
        })
        .await
        .expect("the node starts");
        (handle, datadir)
    }

    /// Starts the node with [`Launch::launch`] and a client to it.
    pub(crate) async fn start(self) -> Node {
        let receipt_timeout = self.receipt_timeout;
        let (handle, datadir) = self.launch().await;
        Node { client: http_client(handle.http), nonces: [0; 10], handle, datadir, receipt_timeout }
    }
}

/// A dev node with its data in a temporary directory, and the next nonce of
/// each dev account (as [`Node::send_from`] counts them).
pub(crate) struct Node {
    pub client: HttpClient,
    pub nonces: [u64; 10],
    pub handle: ol_node::NodeHandle,
    pub datadir: tempfile::TempDir,
    receipt_timeout: Duration,
}

impl Node {
    /// How to launch a node, to change before [`Launch::start`].
    pub(crate) fn builder() -> Launch {
        Launch {
            genesis: GenesisSource::Dev,
            block_time: Duration::ZERO,
            serving: None,
            receipt_timeout: Duration::from_secs(30),
            peers: Vec::new(),
            seal: true,
            http: "127.0.0.1:0".parse().expect("a literal socket address"),
        }
    }

    /// Starts a dev node sealing a block per transaction on a free port.
    pub(crate) async fn start() -> Self {
        Self::builder().start().await
    }

    /// A WebSocket client on the node's HTTP port.
    pub(crate) async fn ws(&self) -> WsClient {
        WsClientBuilder::default()
            .build(format!("ws://{}", self.handle.http))
            .await
            .expect("the HTTP port accepts WebSocket upgrades")
    }

    /// Calls `method`; a JSON-RPC error is returned, a transport error panics.
    pub(crate) async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Value, ErrorObjectOwned> {
        request(&self.client, method, args).await
    }

    /// Calls `method`, which must succeed.
    pub(crate) async fn ok(&self, method: &str, args: Vec<Value>) -> Value {
        self.call(method, args).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Calls `method`, which must fail; its error.
    pub(crate) async fn refused(&self, method: &str, args: Vec<Value>) -> ErrorObjectOwned {
        match self.call(method, args.clone()).await {
            Err(error) => error,
            Ok(value) => panic!("{method}({args:?}) should be refused, got {value}"),
        }
    }

    /// Sends a signed transaction to the pool; its hash.
    pub(crate) async fn send_raw(&self, raw: Bytes) -> Value {
        self.ok("eth_sendRawTransaction", vec![json!(raw)]).await
    }

    /// Waits for the receipt of `hash`.
    pub(crate) async fn receipt(&self, hash: &Value) -> Value {
        let deadline = Instant::now() + self.receipt_timeout;
        loop {
            let receipt = self.ok("eth_getTransactionReceipt", vec![hash.clone()]).await;
            if !receipt.is_null() {
                return receipt;
            }
            assert!(Instant::now() < deadline, "no receipt for {hash}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signed transaction and waits for its receipt.
    pub(crate) async fn send_raw_and_wait(&self, raw: Bytes) -> Value {
        let hash = self.send_raw(raw).await;
        self.receipt(&hash).await
    }

    /// Sends `tx` from dev account `from` at its next nonce and waits for
    /// the receipt.
    pub(crate) async fn send_from(&mut self, from: u32, tx: TxEip1559) -> Value {
        let nonce = &mut self.nonces[from as usize];
        let raw = sign(from, TxEip1559 { nonce: *nonce, ..tx });
        *nonce += 1;
        self.send_raw_and_wait(raw).await
    }

    /// As [`Node::send_from`], and the transaction must succeed.
    pub(crate) async fn succeed_from(&mut self, from: u32, tx: TxEip1559) -> Value {
        let receipt = self.send_from(from, tx).await;
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        receipt
    }
}
