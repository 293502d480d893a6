//! The chains under test, as child processes of this benchmark: a fresh
//! single-node dev chain, or a fresh network of local validators written by
//! `openledger testnet init`. Every process is killed, and every scratch
//! directory removed, when the [`Cluster`] is dropped: on success, on error
//! and on panic alike.

use alloy_primitives::U64;
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use std::{
    collections::hash_map::RandomState,
    hash::BuildHasher,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How long a chain may take to answer and reach its first heights.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Lines of each node's log shown when something fails.
const LOG_TAIL_LINES: usize = 25;

/// A child process, killed (and reaped) when dropped.
struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which chain to start.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// `openledger node --dev --block-time <s>`.
    Dev { block_time_s: u64 },
    /// `openledger testnet init --validators <n> --followers 0`, then
    /// `openledger node --network nodeI/config.toml` for each, with
    /// `[consensus] block_time_ms` set to `block_time_ms`.
    Network { validators: u16, block_time_ms: u64 },
}

/// The `[consensus]` table of the network nodes as run (after our edit).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tuning {
    /// `key = value` pairs, in file order.
    pub(crate) entries: Vec<(String, String)>,
}

/// A running chain: its processes, their RPC clients, and the scratch
/// directory they write to.
pub(crate) struct Cluster {
    /// Dropped first: processes die before their directory is removed.
    processes: Vec<Process>,
    pub(crate) clients: Vec<HttpClient>,
    pub(crate) chain_id: u64,
    /// Network mode: the consensus tuning every node runs with.
    pub(crate) tuning: Option<Tuning>,
    _scratch: tempfile::TempDir,
}

impl Cluster {
    /// Starts the chain and waits until every node answers and (network)
    /// has committed height 2.
    pub(crate) async fn start(binary: &Path, mode: Mode) -> eyre::Result<Self> {
        let scratch = tempfile::Builder::new().prefix("ol-bench-network-").tempdir()?;
        let mut cluster = Self {
            processes: Vec::new(),
            clients: Vec::new(),
            chain_id: 0,
            tuning: None,
            _scratch: scratch,
        };
        let dir = cluster._scratch.path().to_path_buf();
        let min_height = match mode {
            Mode::Dev { block_time_s } => {
                let port = free_ports(1)?;
                let mut command = Command::new(binary);
                command
                    .args(["node", "--dev", "--block-time", &block_time_s.to_string()])
                    .args(["--http.port", &port.to_string()])
                    .arg("--datadir")
                    .arg(dir.join("data"));
                cluster.spawn("dev", command, &dir.join("dev.log"))?;
                cluster.clients.push(client(port)?);
                1
            }
            Mode::Network { validators, block_time_ms } => {
                let testnet = dir.join("testnet");
                let (p2p, rpc, metrics) =
                    (free_ports(validators)?, free_ports(validators)?, free_ports(validators)?);
                let output = Command::new(binary)
                    .args(["testnet", "init", "--validators", &validators.to_string()])
                    .args(["--followers", "0"])
                    .arg("--dir")
                    .arg(&testnet)
                    .args(["--p2p-port", &p2p.to_string()])
                    .args(["--rpc-port", &rpc.to_string()])
                    .args(["--metrics-port", &metrics.to_string()])
                    .env("NO_COLOR", "1")
                    .output()
                    .map_err(|e| eyre::eyre!("running {} testnet init: {e}", binary.display()))?;
                eyre::ensure!(
                    output.status.success(),
                    "`openledger testnet init` failed ({}):\n{}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                for i in 0..validators {
                    let config = testnet.join(format!("node{i}")).join("config.toml");
                    let tuning = set_block_time(&config, block_time_ms)?;
                    cluster.tuning.get_or_insert(tuning);
                }
                for i in 0..validators {
                    let node = testnet.join(format!("node{i}"));
                    let mut command = Command::new(binary);
                    command.args(["node", "--network"]).arg(node.join("config.toml"));
                    cluster.spawn(&format!("node{i}"), command, &node.join("bench.log"))?;
                    cluster.clients.push(client(rpc + i)?);
                }
                2
            }
        };
        cluster.wait_ready(min_height).await?;
        Ok(cluster)
    }

    fn spawn(&mut self, name: &str, mut command: Command, log: &Path) -> eyre::Result<()> {
        let file = std::fs::File::create(log)?;
        command
            .stdout(file.try_clone()?)
            .stderr(file)
            .stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
        let child = command.spawn().map_err(|e| eyre::eyre!("starting {name}: {e}"))?;
        self.processes.push(Process { name: name.to_string(), child, log: log.to_path_buf() });
        Ok(())
    }

    /// Waits until every node answers `eth_blockNumber` with at least
    /// `min_height`, and agrees on the chain id.
    async fn wait_ready(&mut self, min_height: u64) -> eyre::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        for i in 0..self.clients.len() {
            let client = self.clients[i].clone();
            loop {
                if let Some(exited) = self.exited() {
                    eyre::bail!("{exited}\n{}", self.log_tails());
                }
                match client.request::<U64, _>("eth_blockNumber", rpc_params![]).await {
                    Ok(height) if height.to::<u64>() >= min_height => break,
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    Ok(height) => eyre::bail!(
                        "{} is at height {height} after {READY_TIMEOUT:?}, expected ≥ {min_height}\n{}",
                        self.processes[i].name,
                        self.log_tails()
                    ),
                    Err(e) => eyre::bail!(
                        "{} did not answer eth_blockNumber within {READY_TIMEOUT:?} ({e})\n{}",
                        self.processes[i].name,
                        self.log_tails()
                    ),
                }
            }
        }
        let mut ids = Vec::new();
        for client in &self.clients {
            ids.push(client.request::<U64, _>("eth_chainId", rpc_params![]).await?.to::<u64>());
        }
        eyre::ensure!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "nodes disagree on the chain id: {ids:?}"
        );
        self.chain_id = ids[0];
        Ok(())
    }

    /// A sentence naming the first process that has exited, if any.
    pub(crate) fn exited(&mut self) -> Option<String> {
        self.processes.iter_mut().find_map(|p| match p.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited ({status})", p.name)),
            _ => None,
        })
    }

    /// The last lines of every process's log, for error reports.
    pub(crate) fn log_tails(&self) -> String {
        let mut out = String::new();
        for p in &self.processes {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            out.push_str(&format!("--- {} (last {} lines of its log) ---\n", p.name, tail.len()));
            for line in tail {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// The processes' PIDs, to read their CPU time.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|p| p.child.id()).collect()
    }
}

fn client(port: u16) -> eyre::Result<HttpClient> {
    Ok(HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(format!("http://127.0.0.1:{port}"))?)
}

/// The first of `count` consecutive TCP ports on 127.0.0.1 that are free
/// now, below Linux's ephemeral range (so outgoing connections do not take
/// them meanwhile). Racy by nature, as any such choice.
fn free_ports(count: u16) -> eyre::Result<u16> {
    let random = RandomState::new();
    for attempt in 0u64..200 {
        let base = 20_000 + (random.hash_one(attempt) % 12_000) as u16;
        if (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return Ok(base);
        }
    }
    eyre::bail!("found no {count} consecutive free ports in 20000..32000")
}

/// Sets `[consensus] block_time_ms` in a node's `config.toml` (creating the
/// table if absent) and returns the table as it now stands.
fn set_block_time(config: &Path, block_time_ms: u64) -> eyre::Result<Tuning> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| eyre::eyre!("reading {}: {e}", config.display()))?;
    let mut table: toml::Table =
        text.parse().map_err(|e| eyre::eyre!("parsing {}: {e}", config.display()))?;
    let consensus = table
        .entry("consensus")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| eyre::eyre!("{}: `consensus` is not a table", config.display()))?;
    let block_time = i64::try_from(block_time_ms)?;
    consensus.insert("block_time_ms".into(), toml::Value::Integer(block_time));
    let tuning =
        Tuning { entries: consensus.iter().map(|(k, v)| (k.clone(), v.to_string())).collect() };
    std::fs::write(config, toml::to_string(&table)?)?;
    Ok(tuning)
}
