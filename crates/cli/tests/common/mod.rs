//! Running `openledger node` as a child process and talking to it.
//!
//! [`NodeProcess`] starts the real binary on a free port and kills it when
//! dropped, so no test leaves a node behind, even when it panics. [`Rpc`] is
//! a small blocking JSON-RPC client over plain HTTP/1.1 (one connection per
//! request): it needs no runtime, fails fast once the node is gone, and
//! sends batches as they are on the wire.

#![allow(dead_code)] // Each test file uses its own part of these helpers.

pub(crate) mod interop;
pub(crate) mod network;
pub(crate) mod scenario;

use serde_json::{Value, json};
use std::{
    fs::File,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The binary under test.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_openledger");

/// How long a node may take to answer its first request.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A port nothing listens on right now (the OS picks it; a race with another
/// process is possible, so starting retries on "address in use").
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the loopback interface is available");
    listener.local_addr().expect("a bound listener has an address").port()
}

/// Why a JSON-RPC call gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RpcError {
    /// The node answered with a JSON-RPC error.
    Call {
        /// The error code.
        code: i64,
        /// The message.
        message: String,
    },
    /// No answer: connection refused or reset, timeout, not JSON.
    Transport(String),
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Call { code, message } => write!(f, "JSON-RPC error {code}: {message}"),
            Self::Transport(reason) => write!(f, "no answer: {reason}"),
        }
    }
}

/// A blocking JSON-RPC client of one node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rpc {
    address: SocketAddr,
}

impl Rpc {
    /// A client of the node listening on `address`.
    pub(crate) fn new(address: SocketAddr) -> Self {
        Self { address }
    }

    /// Calls `method` with positional `params`.
    pub(crate) fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        result_of(self.post(&request)?)
    }

    /// Calls `method` and panics on any failure.
    pub(crate) fn expect(&self, method: &str, params: Value) -> Value {
        let shown = format!("{method}({params})");
        self.call(method, params).unwrap_or_else(|e| panic!("{shown}: {e}"))
    }

    /// Sends the calls as one batch; the results come back in call order.
    pub(crate) fn batch(
        &self,
        calls: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(id, (method, params))| {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            })
            .collect();
        let answer = self.post(&Value::Array(requests))?;
        let answers = answer.as_array().ok_or_else(|| {
            RpcError::Transport(format!("a batch answer is not an array: {answer}"))
        })?;
        let mut results: Vec<Option<Result<Value, RpcError>>> = vec![None; calls.len()];
        for answer in answers {
            let id = answer["id"].as_u64().and_then(|id| usize::try_from(id).ok());
            match id.and_then(|id| results.get_mut(id)) {
                Some(slot) => *slot = Some(result_of(answer.clone())),
                None => {
                    return Err(RpcError::Transport(format!("unexpected batch answer {answer}")));
                }
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(id, r)| r.ok_or_else(|| RpcError::Transport(format!("no answer for call {id}"))))
            .collect()
    }

    /// Like [`Rpc::batch`], panicking on any failure.
    pub(crate) fn expect_batch(&self, calls: &[(&str, Value)]) -> Vec<Value> {
        let results = self.batch(calls).unwrap_or_else(|e| panic!("batch of {}: {e}", calls.len()));
        results
            .into_iter()
            .zip(calls)
            .map(|(r, (method, params))| r.unwrap_or_else(|e| panic!("{method}({params}): {e}")))
            .collect()
    }

    fn post(&self, body: &Value) -> Result<Value, RpcError> {
        let transport = |what: &str, e: std::io::Error| RpcError::Transport(format!("{what}: {e}"));
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(2))
            .map_err(|e| transport("connect", e))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| transport("timeout", e))?;
        let body = body.to_string();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| transport("write", e))?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(|e| transport("read", e))?;
        let text = String::from_utf8(response)
            .map_err(|e| RpcError::Transport(format!("the answer is not UTF-8: {e}")))?;
        let Some((head, payload)) = text.split_once("\r\n\r\n") else {
            return Err(RpcError::Transport(format!("incomplete HTTP answer: {text:?}")));
        };
        let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(payload)?
        } else {
            payload.to_string()
        };
        serde_json::from_str(&payload)
            .map_err(|e| RpcError::Transport(format!("the answer is not JSON ({e}): {payload}")))
    }
}

fn result_of(answer: Value) -> Result<Value, RpcError> {
    if let Some(error) = answer.get("error") {
        return Err(RpcError::Call {
            code: error["code"].as_i64().unwrap_or_default(),
            message: error["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    answer
        .get("result")
        .cloned()
        .ok_or_else(|| RpcError::Transport(format!("an answer without result: {answer}")))
}

fn dechunk(mut body: &str) -> Result<String, RpcError> {
    let broken = || RpcError::Transport("malformed chunked encoding".to_string());
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or_else(broken)?;
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| broken())?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or_else(broken)?);
        body = rest.get(size + 2..).ok_or_else(broken)?;
    }
}

/// A running `openledger node --dev`, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub(crate) struct NodeProcess {
    child: Option<Child>,
    /// Where its JSON-RPC server listens.
    pub(crate) address: SocketAddr,
    /// Its stdout and stderr.
    pub(crate) log: PathBuf,
}

impl NodeProcess {
    /// Starts a dev node on `datadir` sealing every `block_time` seconds (0:
    /// per transaction) and waits until it answers JSON-RPC. Logs go to
    /// `log_dir`. Retries on another port if the chosen one was taken.
    pub(crate) fn start(datadir: &Path, block_time: u64, log_dir: &Path) -> NodeProcess {
        let mut last_failure = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let log = log_dir.join(format!("node-{port}-{attempt}.log"));
            let output = File::create(&log).expect("the log file can be created");
            let child = Command::new(BINARY)
                .args(["node", "--dev", "--datadir"])
                .arg(datadir)
                .args(["--http.port", &port.to_string(), "--block-time", &block_time.to_string()])
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(output.try_clone().expect("a file handle can be duplicated"))
                .stderr(output)
                .spawn()
                .expect("the openledger binary starts");
            let mut node = NodeProcess {
                child: Some(child),
                address: SocketAddr::from(([127, 0, 0, 1], port)),
                log,
            };
            match node.wait_ready() {
                Ok(()) => return node,
                Err(failure) if failure.contains("in use") => last_failure = failure,
                Err(failure) => panic!("the node did not start: {failure}"),
            }
        }
        panic!("the node did not start after 3 ports: {last_failure}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let rpc = self.rpc();
        loop {
            if rpc.call("eth_blockNumber", json!([])).is_ok() {
                return Ok(());
            }
            let child = self.child.as_mut().expect("a started node has a child");
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(format!("it exited ({status}):\n{}", self.log_text()));
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!(
                    "no JSON-RPC answer after {STARTUP_TIMEOUT:?}:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A client of this node.
    pub(crate) fn rpc(&self) -> Rpc {
        Rpc::new(self.address)
    }

    /// What the node printed so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the node with SIGKILL (no chance to clean up) and waits for it
    /// to be gone, so its database is no longer held.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
