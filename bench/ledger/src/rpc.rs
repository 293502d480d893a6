//! (c) JSON-RPC ingestion: the same stream of pre-signed transfers sent with
//! batched `eth_sendRawTransaction` to the OpenLedger dev node (a child
//! process, release build) and to anvil, both sealing a block every second;
//! measured as transfers *committed* per second.
//!
//! Both chains start from the same accounts (the standard test mnemonic) and
//! chain id, so the very same signed bytes are valid on both. The ten dev
//! accounts first fund `senders` fresh accounts (untimed), because the node's
//! pool queues at most 4096 transactions per sender; the timed stream then
//! spreads over those senders, round-robin, nonces increasing.

use crate::signing::{self, Fees, Key, Transfer};
use alloy_primitives::{Address, U64, U256, hex};
use jsonrpsee::{
    core::{client::ClientT, params::BatchRequestBuilder},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use ol_node::dev::dev_accounts;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// Shape of the (c) run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RpcConfig {
    pub(crate) transfers: u64,
    /// Accounts funded by the dev accounts that send the stream.
    pub(crate) senders: u64,
    /// Transfers per JSON-RPC batch.
    pub(crate) batch: usize,
    /// Batches in flight at once.
    pub(crate) concurrency: usize,
}

/// The pre-signed transactions, hex-encoded for the wire.
pub(crate) struct Stream {
    /// Dev accounts → senders, `senders / 10` per dev account.
    funding: Vec<String>,
    dev_addresses: Vec<Address>,
    funding_per_dev: u64,
    /// The timed transfers.
    transfers: Vec<String>,
    senders: Vec<Address>,
    /// Each sender's nonce once the whole stream is committed.
    final_nonces: Vec<u64>,
}

/// What one chain did with the stream.
#[derive(Debug, Clone)]
pub(crate) struct ChainRun {
    pub(crate) name: String,
    pub(crate) transfers: usize,
    /// First send → every transfer of the stream accepted by RPC.
    pub(crate) submitted_after: Duration,
    /// First send → the block holding the last transfer observed.
    pub(crate) committed_after: Duration,
    /// Blocks that held stream transfers: (number, transfers, seen after).
    pub(crate) blocks: Vec<(u64, u64, Duration)>,
    /// CPU seconds the server process used during the timed window.
    pub(crate) server_cpu: Option<f64>,
    /// CPU seconds this benchmark (the client) used during the timed window.
    pub(crate) client_cpu: Option<f64>,
    /// From the node's log: time spent sealing the blocks with transfers.
    pub(crate) seal_log: Option<SealLog>,
}

impl ChainRun {
    pub(crate) fn per_second(&self) -> f64 {
        self.transfers as f64 / self.committed_after.as_secs_f64()
    }

    pub(crate) fn largest_block(&self) -> u64 {
        self.blocks.iter().map(|b| b.1).max().unwrap_or(0)
    }
}

/// The node's own account of its sealing ("sealed block … elapsed_ms=").
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SealLog {
    pub(crate) blocks: u64,
    pub(crate) transactions: u64,
    pub(crate) elapsed_ms: u64,
    pub(crate) slowest_ms: u64,
}

/// Derives the senders and signs funding and stream transfers (untimed).
pub(crate) fn prepare(config: RpcConfig) -> eyre::Result<Stream> {
    let dev: Vec<Key> = dev_accounts(10)
        .into_iter()
        .map(|(_, key)| Key::from_bytes(key))
        .collect::<Result<_, _>>()?;
    eyre::ensure!(
        config.senders.is_multiple_of(10),
        "senders must be a multiple of the 10 dev accounts"
    );
    eyre::ensure!(
        config.transfers.div_ceil(config.senders) < ol_node::pool::MAX_PER_SENDER,
        "{} transfers over {} senders exceed the pool's {} per sender",
        config.transfers,
        config.senders,
        ol_node::pool::MAX_PER_SENDER
    );
    let senders = Key::derive_many("rpc-sender", config.senders);
    let funding_per_dev = config.senders / 10;
    // 1 gwei tip, a fee cap far above any base fee these runs reach.
    let fees = Fees { max_fee_per_gas: 100_000_000_000, max_priority_fee_per_gas: 1_000_000_000 };
    let funding: Vec<Transfer<'_>> = senders
        .iter()
        .enumerate()
        .map(|(i, sender)| Transfer {
            from: &dev[i / funding_per_dev as usize],
            nonce: i as u64 % funding_per_dev,
            to: sender.address,
            value: U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64)),
        })
        .collect();
    let transfers: Vec<Transfer<'_>> = (0..config.transfers)
        .map(|k| Transfer {
            from: &senders[(k % config.senders) as usize],
            nonce: k / config.senders,
            to: signing::recipient("rpc", k),
            value: U256::from(1u64),
        })
        .collect();
    // Sender i sends stream positions i, i + senders, …: this many.
    let final_nonces = (0..config.senders)
        .map(|i| (config.transfers + config.senders - 1).saturating_sub(i) / config.senders)
        .collect();
    let encode = |raw: Vec<Vec<u8>>| raw.into_iter().map(hex::encode_prefixed).collect();
    Ok(Stream {
        funding: encode(signing::sign_all(&funding, fees)),
        dev_addresses: dev.iter().map(|k| k.address).collect(),
        funding_per_dev,
        transfers: encode(signing::sign_all(&transfers, fees)),
        senders: senders.iter().map(|k| k.address).collect(),
        final_nonces,
    })
}

/// A child process killed when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Which server to start.
pub(crate) enum Server<'a> {
    /// `openledger node --dev --block-time 1`.
    Node { binary: &'a Path },
    /// `anvil --block-time 1 --gas-limit <node's>`.
    Anvil { binary: &'a Path },
}

/// Starts the server, funds the senders, sends the stream and waits until
/// every transfer is committed.
pub(crate) async fn run_chain(
    server: Server<'_>,
    config: RpcConfig,
    stream: &Stream,
) -> eyre::Result<ChainRun> {
    let scratch = tempfile::tempdir()?;
    let port = free_port()?;
    let log = scratch.path().join("server.log");
    let (name, mut command) = match server {
        Server::Node { binary } => {
            let mut command = Command::new(binary);
            command
                .args(["node", "--dev", "--block-time", "1", "--http.port"])
                .arg(port.to_string())
                .arg("--datadir")
                .arg(scratch.path().join("data"))
                .env("NO_COLOR", "1");
            ("openledger node".to_string(), command)
        }
        Server::Anvil { binary } => {
            let mut command = Command::new(binary);
            command
                .args(["--chain-id", "1337", "--block-time", "1", "--quiet", "--port"])
                .arg(port.to_string())
                // The node's block gas limit (1e9, ~47k transfers): anvil's
                // default 30M would cap it at 1,428 transfers per block.
                .args(["--gas-limit", &ol_ledger::genesis::DEFAULT_GAS_LIMIT.to_string()]);
            (format!("anvil {}", tool_version(binary)), command)
        }
    };
    let log_file = std::fs::File::create(&log)?;
    command.stdout(log_file.try_clone()?).stderr(log_file).stdin(Stdio::null());
    let child = ChildGuard(command.spawn().map_err(|e| eyre::eyre!("starting {name}: {e}"))?);
    let pid = child.0.id();
    let client = HttpClientBuilder::default()
        .max_request_size(64 << 20)
        .max_response_size(64 << 20)
        .request_timeout(Duration::from_secs(120))
        .build(format!("http://127.0.0.1:{port}"))?;
    wait_ready(&client, &name, &log).await?;

    eprintln!("  (c) {name}: funding {} senders", stream.senders.len());
    let errors = send_all(&client, &stream.funding, 500, 1).await?;
    eyre::ensure!(errors.is_empty(), "{name} refused funding transfers: {}", errors.join("; "));
    let expected = vec![stream.funding_per_dev; stream.dev_addresses.len()];
    wait_for_nonces(&client, &stream.dev_addresses, &expected, Duration::from_secs(60)).await?;
    let first_block = block_number(&client).await? + 1;

    eprintln!("  (c) {name}: sending {} transfers", stream.transfers.len());
    let cpu_before = process_cpu_seconds(pid);
    let client_cpu_before = process_cpu_seconds(std::process::id());
    let started = Instant::now();
    let watcher = {
        let client = client.clone();
        let total = stream.transfers.len() as u64;
        tokio::spawn(async move { watch_blocks(&client, first_block, total, started).await })
    };
    let errors = send_all(&client, &stream.transfers, config.batch, config.concurrency).await?;
    let submitted_after = started.elapsed();
    if !errors.is_empty() {
        watcher.abort();
        eyre::bail!(
            "{name} refused {} transfers, e.g. {}",
            errors.len(),
            errors.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    let blocks = watcher.await??;
    let committed_after = blocks.last().map(|b| b.2).unwrap_or_default();
    let server_cpu = process_cpu_seconds(pid).zip(cpu_before).map(|(after, before)| after - before);
    let client_cpu = process_cpu_seconds(std::process::id())
        .zip(client_cpu_before)
        .map(|(after, before)| after - before);
    wait_for_nonces(&client, &stream.senders, &stream.final_nonces, Duration::from_secs(10))
        .await?;
    drop(child);
    let seal_log = matches!(server, Server::Node { .. }).then(|| parse_seal_log(&log, first_block));
    let run = ChainRun {
        name,
        transfers: stream.transfers.len(),
        submitted_after,
        committed_after,
        blocks,
        server_cpu,
        client_cpu,
        seal_log,
    };
    eprintln!(
        "  (c) {}: {} transfers committed in {:.2} s ({:.0}/s; all accepted by RPC after {:.2} s; {} blocks, largest {})",
        run.name,
        run.transfers,
        run.committed_after.as_secs_f64(),
        run.per_second(),
        run.submitted_after.as_secs_f64(),
        run.blocks.len(),
        run.largest_block()
    );
    Ok(run)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tool_version(binary: &Path) -> String {
    Command::new(binary)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(|l| l.trim_start_matches("anvil Version: ").to_string()))
        .unwrap_or_default()
}

async fn wait_ready(client: &HttpClient, name: &str, log: &Path) -> eyre::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.request::<U64, _>("eth_chainId", rpc_params![]).await {
            Ok(id) if id == U64::from(signing::CHAIN_ID) => return Ok(()),
            Ok(id) => eyre::bail!("{name} runs chain {id}, expected {}", signing::CHAIN_ID),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => eyre::bail!(
                "{name} did not answer within 30 s ({e}); its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        }
    }
}

/// Sends `raw` in batches of `batch`, `concurrency` batches in flight;
/// returns the error messages of refused transactions.
async fn send_all(
    client: &HttpClient,
    raw: &[String],
    batch: usize,
    concurrency: usize,
) -> eyre::Result<Vec<String>> {
    let chunks: Arc<Vec<Vec<String>>> =
        Arc::new(raw.chunks(batch).map(<[String]>::to_vec).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, chunks, next) = (client.clone(), chunks.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(index) else { return Ok::<_, eyre::Report>(errors) };
                let mut request = BatchRequestBuilder::new();
                for tx in chunk {
                    request.insert("eth_sendRawTransaction", rpc_params![tx])?;
                }
                let response = client.batch_request::<String>(request).await?;
                for entry in response {
                    if let Err(e) = entry {
                        errors.push(e.message().to_string());
                    }
                }
            }
        }));
    }
    let mut errors = Vec::new();
    for worker in workers {
        errors.extend(worker.await??);
    }
    Ok(errors)
}

async fn block_number(client: &HttpClient) -> eyre::Result<u64> {
    Ok(client.request::<U64, _>("eth_blockNumber", rpc_params![]).await?.to())
}

/// Polls new blocks from `first` on until they hold `total` transactions;
/// returns each block's count and when it was seen.
async fn watch_blocks(
    client: &HttpClient,
    first: u64,
    total: u64,
    started: Instant,
) -> eyre::Result<Vec<(u64, u64, Duration)>> {
    let mut blocks = Vec::new();
    let mut committed = 0;
    let mut next = first;
    let mut last_progress = Instant::now();
    while committed < total {
        let head = block_number(client).await?;
        if head >= next {
            let mut request = BatchRequestBuilder::new();
            for number in next..=head {
                request.insert(
                    "eth_getBlockTransactionCountByNumber",
                    rpc_params![U64::from(number)],
                )?;
            }
            let seen = started.elapsed();
            let counts = client.batch_request::<U64>(request).await?;
            for (number, count) in (next..=head).zip(counts) {
                let count = count.map_err(|e| eyre::eyre!("block {number}: {}", e.message()))?.to();
                if count > 0 {
                    committed += count;
                    blocks.push((number, count, seen));
                    last_progress = Instant::now();
                }
            }
            next = head + 1;
        }
        eyre::ensure!(
            last_progress.elapsed() < Duration::from_secs(60),
            "stalled: {committed} of {total} transfers committed, nothing new for 60 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok(blocks)
}

async fn wait_for_nonces(
    client: &HttpClient,
    accounts: &[Address],
    expected: &[u64],
    timeout: Duration,
) -> eyre::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut request = BatchRequestBuilder::new();
        for account in accounts {
            request.insert("eth_getTransactionCount", rpc_params![account, "latest"])?;
        }
        let nonces = client.batch_request::<U64>(request).await?;
        let mut behind = 0;
        for (nonce, want) in nonces.into_iter().zip(expected) {
            let nonce =
                nonce.map_err(|e| eyre::eyre!("eth_getTransactionCount: {}", e.message()))?;
            if nonce.to::<u64>() < *want {
                behind += 1;
            }
        }
        if behind == 0 {
            return Ok(());
        }
        eyre::ensure!(
            Instant::now() < deadline,
            "{behind} of {} accounts have not reached their expected nonce after {timeout:?}",
            accounts.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// utime + stime of a process, in seconds (Linux `/proc`, 100 ticks/s).
pub(crate) fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Sums the node's "sealed block" lines for blocks from `first` on that
/// held transactions.
fn parse_seal_log(log: &PathBuf, first: u64) -> SealLog {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let field = |line: &str, name: &str| -> Option<u64> {
        let start = line.find(&format!("{name}="))? + name.len() + 1;
        line[start..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let mut summary = SealLog::default();
    for line in text.lines().filter(|l| l.contains("sealed block")) {
        let (Some(number), Some(transactions), Some(elapsed)) =
            (field(line, "number"), field(line, "transactions"), field(line, "elapsed_ms"))
        else {
            continue;
        };
        if number < first || transactions == 0 {
            continue;
        }
        summary.blocks += 1;
        summary.transactions += transactions;
        summary.elapsed_ms += elapsed;
        summary.slowest_ms = summary.slowest_ms.max(elapsed);
    }
    summary
}
