//! A local validator network of `openledger node --network` processes,
//! made by `openledger testnet init`, for the fault tests.
//!
//! Every consensus connection goes through a TCP relay owned by the test
//! (each node's `p2p.peers` names the relay, not the peer), so a test can
//! cut any set of links and heal them again: a partition without network
//! namespaces, which these machines cannot create. Processes are killed
//! (SIGKILL) when the harness is dropped, even on panic.

use super::{BINARY, Rpc};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `count` consecutive loopback ports free now, below Linux's ephemeral
/// range (32768–60999): a port in that range may be taken meanwhile as the
/// local end of any outgoing connection (a relay's, a peer's), and a node
/// that cannot listen refuses to start.
fn free_range(count: u16) -> u16 {
    for _ in 0..200 {
        let base = 20_000 + (rand::random::<u16>() % (12_000 - count));
        let held: Vec<_> =
            (0..count).map_while(|i| TcpListener::bind(("127.0.0.1", base + i)).ok()).collect();
        if held.len() == count as usize {
            return base;
        }
    }
    panic!("no range of {count} free ports");
}

/// Links the relay currently refuses, as (from, to) node pairs.
type Cuts = Arc<Mutex<HashSet<(usize, usize)>>>;

struct Link {
    from: usize,
    to: usize,
    streams: Mutex<Vec<TcpStream>>,
}

/// The relays between every ordered pair of nodes.
struct Relay {
    cuts: Cuts,
    links: Vec<Arc<Link>>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Starts one relay per (from, to) pair; `listen[to]` is where `to`
    /// really listens. Returns it and, per node, the addresses it dials.
    fn start(listen: &[u16]) -> (Relay, Vec<Vec<String>>) {
        let cuts: Cuts = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut links = Vec::new();
        let mut dials = vec![Vec::new(); listen.len()];
        for (from, dial) in dials.iter_mut().enumerate() {
            for (to, &target) in listen.iter().enumerate() {
                if from == to {
                    continue;
                }
                let listener = TcpListener::bind("127.0.0.1:0").expect("a relay port");
                let port = listener.local_addr().expect("bound").port();
                dial.push(format!("/ip4/127.0.0.1/tcp/{port}"));
                let link = Arc::new(Link { from, to, streams: Mutex::default() });
                links.push(link.clone());
                let (cuts, stop) = (cuts.clone(), stop.clone());
                std::thread::spawn(move || {
                    for inbound in listener.incoming() {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let Ok(inbound) = inbound else { continue };
                        if cuts.lock().unwrap().contains(&(link.from, link.to)) {
                            drop(inbound);
                            continue;
                        }
                        let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        {
                            let mut streams = link.streams.lock().unwrap();
                            streams.push(inbound.try_clone().expect("clone"));
                            streams.push(outbound.try_clone().expect("clone"));
                        }
                        pipe(
                            inbound.try_clone().expect("clone"),
                            outbound.try_clone().expect("clone"),
                        );
                        pipe(outbound, inbound);
                    }
                });
            }
        }
        (Relay { cuts, links, stop }, dials)
    }

    /// Cuts every link between a node of `a` and a node of `b`, both ways,
    /// closing the connections that are open.
    fn partition(&self, a: &[usize], b: &[usize]) {
        let mut cuts = self.cuts.lock().unwrap();
        for &x in a {
            for &y in b {
                cuts.insert((x, y));
                cuts.insert((y, x));
            }
        }
        for link in &self.links {
            if cuts.contains(&(link.from, link.to)) {
                for stream in link.streams.lock().unwrap().drain(..) {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
        }
    }

    fn heal(&self) {
        self.cuts.lock().unwrap().clear();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for link in &self.links {
            for stream in link.streams.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// A local network: `testnet init` output plus the running processes.
pub(crate) struct Testnet {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) validators: usize,
    rpc_base: u16,
    children: Vec<Option<Child>>,
    relay: Relay,
}

impl Testnet {
    /// `testnet init` of `validators` validators and `followers` followers,
    /// fast consensus timeouts, epochs of `epoch_blocks`, links through the
    /// relay. Nothing runs yet.
    pub(crate) fn init(validators: usize, followers: usize, epoch_blocks: u64) -> Testnet {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let total = (validators + followers) as u16;
        let (p2p, rpc, metrics) = (free_range(total), free_range(total), free_range(total));
        let net = dir.path().join("net");
        let output = Command::new(BINARY)
            .args(["testnet", "init", "--dir"])
            .arg(&net)
            .args(["--validators", &validators.to_string(), "--followers", &followers.to_string()])
            .args(["--p2p-port", &p2p.to_string(), "--rpc-port", &rpc.to_string()])
            .args(["--metrics-port", &metrics.to_string()])
            .output()
            .expect("the binary runs");
        assert!(
            output.status.success(),
            "testnet init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Short epochs, so a slashed validator leaves the set within the test.
        let genesis_path = net.join("genesis.json");
        let mut genesis: Value =
            serde_json::from_str(&std::fs::read_to_string(&genesis_path).expect("genesis"))
                .expect("genesis is JSON");
        genesis["validatorParams"]["epochBlocks"] = json!(epoch_blocks);
        std::fs::write(&genesis_path, genesis.to_string()).expect("genesis written");
        let listen: Vec<u16> = (0..total).map(|i| p2p + i).collect();
        let (relay, dials) = Relay::start(&listen);
        for (i, dial) in dials.into_iter().enumerate() {
            let path = net.join(format!("node{i}")).join("config.toml");
            let text = std::fs::read_to_string(&path).expect("config.toml");
            let mut config: toml::Table = text.parse().expect("config is TOML");
            config["p2p"]["peers"] = toml::Value::Array(dial.into_iter().map(Into::into).collect());
            let mut consensus = toml::Table::new();
            for (key, ms) in [
                ("block_time_ms", 400),
                ("propose_timeout_ms", 1500),
                ("prevote_timeout_ms", 500),
                ("precommit_timeout_ms", 500),
                ("rebroadcast_timeout_ms", 1500),
            ] {
                consensus.insert(key.into(), toml::Value::Integer(ms));
            }
            config.insert("consensus".into(), toml::Value::Table(consensus));
            std::fs::write(&path, toml::to_string(&config).expect("TOML")).expect("written");
        }
        let children = (0..total).map(|_| None).collect();
        Testnet { dir, validators, rpc_base: rpc, children, relay }
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join("net").join(format!("node{i}"))
    }

    /// Starts node `i` (`fault`: the hidden `--fault` flag) and waits for its RPC.
    pub(crate) fn start(&mut self, i: usize, fault: Option<&str>) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.node_dir(i).join("node.log"))
            .expect("log file");
        let mut command = Command::new(BINARY);
        command.arg("node").arg("--network").arg(self.node_dir(i).join("config.toml"));
        if let Some(fault) = fault {
            command.args(["--fault", fault]);
        }
        let child = command
            .env("RUST_LOG", "info,libp2p=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("the binary starts");
        self.children[i] = Some(child);
        let started = Instant::now();
        while self.rpc(i).call("eth_blockNumber", json!([])).is_err() {
            if let Some(Ok(Some(status))) = self.children[i].as_mut().map(|c| c.try_wait()) {
                panic!("node {i} exited ({status}):\n{}", self.log(i));
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "node {i} never answered:\n{}",
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts every node.
    pub(crate) fn start_all(&mut self) {
        for i in 0..self.children.len() {
            self.start(i, None);
        }
    }

    /// Kills node `i` with SIGKILL and waits for it to be gone.
    pub(crate) fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A JSON-RPC client of node `i`.
    pub(crate) fn rpc(&self, i: usize) -> Rpc {
        Rpc::new(SocketAddr::from(([127, 0, 0, 1], self.rpc_base + i as u16)))
    }

    /// Node `i`'s log so far.
    pub(crate) fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.node_dir(i).join("node.log")).unwrap_or_default()
    }

    /// Node `i`'s head height (`None`: no answer).
    pub(crate) fn height(&self, i: usize) -> Option<u64> {
        let answer = self.rpc(i).call("eth_blockNumber", json!([])).ok()?;
        u64::from_str_radix(answer.as_str()?.trim_start_matches("0x"), 16).ok()
    }

    /// (hash, stateRoot) of block `h` on node `i`.
    pub(crate) fn block(&self, i: usize, h: u64) -> Option<(String, String)> {
        let block =
            self.rpc(i).call("eth_getBlockByNumber", json!([format!("{h:#x}"), false])).ok()?;
        Some((block["hash"].as_str()?.to_string(), block["stateRoot"].as_str()?.to_string()))
    }

    /// Waits until every node of `nodes` is at `height` or above.
    pub(crate) fn wait_height(&self, nodes: &[usize], height: u64, limit: Duration) {
        let started = Instant::now();
        loop {
            let heights: Vec<_> = nodes.iter().map(|&i| self.height(i)).collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= height)) {
                return;
            }
            if started.elapsed() > limit {
                let logs: String = nodes
                    .iter()
                    .map(|&i| format!("\n--- node {i} ---\n{}", tail(&self.log(i), 40)))
                    .collect();
                panic!(
                    "nodes {nodes:?} did not reach height {height} in {limit:?}: {heights:?}{logs}"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asserts that `nodes` hold the same blocks (hash and state root) up to
    /// the lowest head among them; returns that height.
    pub(crate) fn assert_same_chain(&self, nodes: &[usize]) -> u64 {
        let top = nodes.iter().filter_map(|&i| self.height(i)).min().expect("heights");
        for h in 1..=top {
            let blocks: Vec<_> = nodes.iter().map(|&i| self.block(i, h)).collect();
            for (k, block) in blocks.iter().enumerate() {
                assert!(block.is_some(), "node {} has no block {h}", nodes[k]);
                assert_eq!(
                    block, &blocks[0],
                    "node {} differs from node {} at height {h}",
                    nodes[k], nodes[0]
                );
            }
        }
        top
    }

    /// Cuts every consensus link between `a` and `b`.
    pub(crate) fn partition(&self, a: &[usize], b: &[usize]) {
        self.relay.partition(a, b);
    }

    /// Lets every link through again.
    pub(crate) fn heal(&self) {
        self.relay.heal();
    }

    /// The path of a node file.
    pub(crate) fn file(&self, i: usize, name: &str) -> PathBuf {
        self.node_dir(i).join(name)
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
        if std::thread::panicking() {
            // Keep the logs of a failed run where a person can read them.
            let kept =
                std::env::temp_dir().join(format!("openledger-testnet-{}", std::process::id()));
            let _ = copy_logs(self.dir.path(), &kept);
            eprintln!("node logs kept in {}", kept.display());
        }
    }
}

fn copy_logs(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from.join("net"))? {
        let entry = entry?;
        let log = entry.path().join("node.log");
        if log.exists() {
            std::fs::create_dir_all(to)?;
            std::fs::copy(&log, to.join(format!("{}.log", entry.file_name().to_string_lossy())))?;
        }
    }
    Ok(())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
