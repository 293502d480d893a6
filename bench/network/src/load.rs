//! The load: transfers pre-signed from the dev accounts, sent one
//! `eth_sendRawTransaction` each at a steady offered rate (round-robin over
//! the nodes), and the blocks watched on every node until each holds every
//! transfer.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Signature, TxKind, U64, U256, hex, keccak256};
use jsonrpsee::{core::client::ClientT, http_client::HttpClient, rpc_params};
use rayon::prelude::*;
use secp256k1::{Message, SECP256K1, SecretKey};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// How often each node's head is polled.
const POLL: Duration = Duration::from_millis(50);
/// A run fails when no new transfer is committed for this long.
const STALL: Duration = Duration::from_secs(60);
/// A watcher gives up after this many RPC errors in a row.
const MAX_RPC_ERRORS: u32 = 40;

/// The transfers of one run, signed for one chain.
pub(crate) struct Signed {
    /// EIP-2718 bytes, 0x-hex.
    raw: Vec<String>,
    /// keccak256 of the bytes: the transaction hashes.
    hashes: Vec<B256>,
    pub(crate) max_fee_per_gas: u128,
    pub(crate) max_priority_fee_per_gas: u128,
}

/// Reads the chain's fees and nonces, and signs `count` transfers from the
/// ten dev accounts, round-robin, nonces sequential, each to a fresh
/// recipient.
pub(crate) async fn sign(client: &HttpClient, chain_id: u64, count: u64) -> eyre::Result<Signed> {
    let keys: Vec<(Address, SecretKey)> = ol_node::dev::dev_accounts(10)
        .into_iter()
        .map(|(address, key)| Ok((address, SecretKey::from_byte_array(key.0)?)))
        .collect::<eyre::Result<_>>()?;
    let gas_price: U256 = client.request("eth_gasPrice", rpc_params![]).await?;
    let tip: U256 = client
        .request("eth_maxPriorityFeePerGas", rpc_params![])
        .await
        .unwrap_or(U256::from(1_000_000_000u64));
    let latest: Value =
        client.request("eth_getBlockByNumber", rpc_params!["latest", false]).await?;
    let base_fee = latest
        .get("baseFeePerGas")
        .and_then(|v| serde_json::from_value::<U256>(v.clone()).ok())
        .unwrap_or(gas_price);
    // Ten times whichever is higher: a base fee rising under load never
    // makes a transfer unpayable; the tip is what the chain suggests.
    let max_fee_per_gas = u128::try_from(gas_price.max(base_fee + tip))? * 10;
    let max_priority_fee_per_gas = u128::try_from(tip)?;
    let mut nonces = Vec::with_capacity(keys.len());
    for (address, _) in &keys {
        let nonce: U64 =
            client.request("eth_getTransactionCount", rpc_params![address, "latest"]).await?;
        nonces.push(nonce.to::<u64>());
    }
    let senders = keys.len() as u64;
    let raw: Vec<Vec<u8>> = (0..count)
        .into_par_iter()
        .map(|k| {
            let sender = (k % senders) as usize;
            let tx = TxEip1559 {
                chain_id,
                nonce: nonces[sender] + k / senders,
                gas_limit: 21_000,
                max_fee_per_gas,
                max_priority_fee_per_gas,
                to: TxKind::Call(Address::from_slice(
                    &keccak256(format!("ol-bench/recipient/network/{k}"))[12..],
                )),
                value: U256::from(1u64),
                access_list: Default::default(),
                input: Default::default(),
            };
            let digest = Message::from_digest(tx.signature_hash().0);
            let (recovery_id, compact) =
                SECP256K1.sign_ecdsa_recoverable(digest, &keys[sender].1).serialize_compact();
            let signature = Signature::new(
                U256::from_be_slice(&compact[..32]),
                U256::from_be_slice(&compact[32..]),
                i32::from(recovery_id) == 1,
            );
            TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
        })
        .collect();
    Ok(Signed {
        hashes: raw.iter().map(keccak256).collect(),
        raw: raw.iter().map(hex::encode_prefixed).collect(),
        max_fee_per_gas,
        max_priority_fee_per_gas,
    })
}

/// A block as one node first reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockId {
    pub(crate) hash: B256,
    pub(crate) state_root: B256,
}

/// What the watchers saw, shared between them.
#[derive(Default)]
struct Observations {
    /// Benchmark transfer → when any node first showed it in a block.
    first_seen: HashMap<B256, Instant>,
    /// Per node: benchmark transfers seen in its blocks.
    seen_per_node: Vec<usize>,
    /// Per node: every block it reported, by number.
    blocks_per_node: Vec<BTreeMap<u64, BlockId>>,
    /// Block number → benchmark transfers in it, and when first seen.
    blocks: BTreeMap<u64, (usize, Instant)>,
    /// RPC failures that ended a watcher.
    errors: Vec<String>,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub(crate) struct RunResult {
    pub(crate) transfers: usize,
    pub(crate) nodes: usize,
    /// Offered rate asked for, and as achieved (first → last send).
    pub(crate) target_rate: f64,
    pub(crate) offered_rate: f64,
    /// First send → last transfer first seen committed.
    pub(crate) committed_after: Duration,
    /// Commit latency of every transfer, sorted.
    pub(crate) latencies: Vec<Duration>,
    /// Blocks from the first to the last holding a benchmark transfer.
    pub(crate) first_block: u64,
    pub(crate) last_block: u64,
    /// Of those, blocks holding at least one benchmark transfer.
    pub(crate) nonempty_blocks: usize,
    /// The last block, identical on every node.
    pub(crate) final_block: BlockId,
    /// Blocks compared across every node (those all of them reported).
    pub(crate) blocks_compared: usize,
    /// Every node's transfers seen (each equals `transfers`).
    pub(crate) seen_per_node: Vec<usize>,
    /// CPU seconds all chain processes used from first send to last commit.
    pub(crate) server_cpu: Option<f64>,
}

impl RunResult {
    pub(crate) fn committed_per_second(&self) -> f64 {
        self.transfers as f64 / self.committed_after.as_secs_f64()
    }

    pub(crate) fn blocks(&self) -> u64 {
        self.last_block - self.first_block + 1
    }

    pub(crate) fn per_block(&self) -> f64 {
        self.transfers as f64 / self.blocks() as f64
    }

    /// The `q`-quantile (0..=1) of the commit latencies, nearest rank.
    pub(crate) fn latency(&self, q: f64) -> Duration {
        let rank = ((q * self.latencies.len() as f64).ceil() as usize).max(1);
        self.latencies[rank.min(self.latencies.len()) - 1]
    }
}

/// Sends every signed transfer at `rate` per second, round-robin over
/// `clients`, and watches every node until each has committed all of them.
pub(crate) async fn run(
    clients: &[HttpClient],
    pids: &[u32],
    signed: &Signed,
    rate: f64,
) -> eyre::Result<RunResult> {
    let total = signed.hashes.len();
    let ours: Arc<HashSet<B256>> = Arc::new(signed.hashes.iter().copied().collect());
    let observations = Arc::new(Mutex::new(Observations {
        seen_per_node: vec![0; clients.len()],
        blocks_per_node: vec![BTreeMap::new(); clients.len()],
        ..Default::default()
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let mut watchers = Vec::new();
    for (node, client) in clients.iter().enumerate() {
        let head: U64 = client.request("eth_blockNumber", rpc_params![]).await?;
        let (client, ours, observations, stop) =
            (client.clone(), ours.clone(), observations.clone(), stop.clone());
        watchers.push(tokio::spawn(async move {
            if let Err(e) =
                watch(&client, node, head.to::<u64>() + 1, &ours, &observations, &stop).await
            {
                lock(&observations).errors.push(format!("node {node}: {e}"));
            }
        }));
    }
    let result = drive(clients, pids, signed, rate, &observations).await;
    stop.store(true, Ordering::Relaxed);
    for watcher in watchers {
        let _ = watcher.await;
    }
    let (started, last_sent, submitted, cpu) = result?;
    let observations = lock(&observations);

    let mut latencies = Vec::with_capacity(total);
    let mut last_commit = started;
    for (hash, sent) in signed.hashes.iter().zip(&submitted) {
        let seen = observations.first_seen[hash];
        latencies.push(seen.saturating_duration_since(*sent));
        last_commit = last_commit.max(seen);
    }
    latencies.sort_unstable();
    let first_block =
        *observations.blocks.keys().next().expect("every transfer was seen in a block");
    let last_block = *observations.blocks.keys().next_back().expect("as above");

    // Every node reported the same block at every height any two reported.
    let reference = &observations.blocks_per_node[0];
    let mut blocks_compared = 0;
    for (number, block) in reference {
        let others: Vec<(usize, &BlockId)> = observations.blocks_per_node[1..]
            .iter()
            .enumerate()
            .filter_map(|(i, b)| Some((i + 1, b.get(number)?)))
            .collect();
        for (other, id) in &others {
            eyre::ensure!(
                *id == block,
                "node {other} and node 0 disagree at height {number}: block {} (stateRoot {}) vs {} (stateRoot {})",
                id.hash,
                id.state_root,
                block.hash,
                block.state_root
            );
        }
        if others.len() + 1 == clients.len() {
            blocks_compared += 1;
        }
    }
    let final_block = *reference.get(&last_block).ok_or_else(|| {
        eyre::eyre!("node 0 did not report block {last_block}, the last with a benchmark transfer")
    })?;
    for (node, blocks) in observations.blocks_per_node.iter().enumerate() {
        eyre::ensure!(
            blocks.get(&last_block) == Some(&final_block),
            "node {node} did not report block {last_block} as node 0 did"
        );
    }

    Ok(RunResult {
        transfers: total,
        nodes: clients.len(),
        target_rate: rate,
        offered_rate: (total.saturating_sub(1)) as f64
            / last_sent.duration_since(started).as_secs_f64().max(1e-9),
        committed_after: last_commit.duration_since(started),
        latencies,
        first_block,
        last_block,
        nonempty_blocks: observations.blocks.len(),
        final_block,
        blocks_compared,
        seen_per_node: observations.seen_per_node.clone(),
        server_cpu: cpu,
    })
}

/// Sends at the offered rate, then waits until every node has every
/// transfer. Returns the first and last send, every transfer's send time,
/// and the chain processes' CPU seconds over the run.
async fn drive(
    clients: &[HttpClient],
    pids: &[u32],
    signed: &Signed,
    rate: f64,
    observations: &Mutex<Observations>,
) -> eyre::Result<(Instant, Instant, Vec<Instant>, Option<f64>)> {
    let total = signed.raw.len();
    let cpu_before = cpu_seconds(pids);
    let mut sends = tokio::task::JoinSet::new();
    let started = Instant::now();
    for (k, raw) in signed.raw.iter().enumerate() {
        let due = started + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, raw) = (clients[k % clients.len()].clone(), raw.clone());
        sends.spawn(async move {
            let sent = Instant::now();
            let result =
                client.request::<B256, _>("eth_sendRawTransaction", rpc_params![raw]).await;
            (k, sent, result.map_err(|e| e.to_string()))
        });
    }
    let mut submitted = vec![started; total];
    let mut refused = Vec::new();
    while let Some(joined) = sends.join_next().await {
        let (k, sent, result) = joined?;
        submitted[k] = sent;
        match result {
            Ok(hash) if hash == signed.hashes[k] => {}
            Ok(hash) => refused.push(format!(
                "transfer {k}: node returned hash {hash}, expected {}",
                signed.hashes[k]
            )),
            Err(e) => refused.push(format!("transfer {k}: {e}")),
        }
    }
    let last_sent = submitted.iter().copied().max().unwrap_or(started);
    eyre::ensure!(
        refused.is_empty(),
        "{} of {total} transfers were refused, e.g.:\n  {}",
        refused.len(),
        refused.iter().take(5).cloned().collect::<Vec<_>>().join("\n  ")
    );

    let mut progress = (0, Instant::now());
    loop {
        {
            let o = lock(observations);
            if !o.errors.is_empty() {
                eyre::bail!("watching blocks failed: {}", o.errors.join("; "));
            }
            if o.seen_per_node.iter().all(|&seen| seen == total) {
                break;
            }
            let committed = o.first_seen.len();
            if committed > progress.0 {
                progress = (committed, Instant::now());
            }
            eyre::ensure!(
                progress.1.elapsed() < STALL,
                "stalled: {committed} of {total} transfers committed (per node: {:?}), nothing new for {STALL:?}",
                o.seen_per_node
            );
        }
        tokio::time::sleep(POLL).await;
    }
    let cpu = cpu_seconds(pids).zip(cpu_before).map(|(after, before)| after - before);
    Ok((started, last_sent, submitted, cpu))
}

/// Polls one node's head every [`POLL`] and records each new block.
async fn watch(
    client: &HttpClient,
    node: usize,
    mut next: u64,
    ours: &HashSet<B256>,
    observations: &Mutex<Observations>,
    stop: &AtomicBool,
) -> eyre::Result<()> {
    let mut errors = 0;
    while !stop.load(Ordering::Relaxed) {
        let head = match client.request::<U64, _>("eth_blockNumber", rpc_params![]).await {
            Ok(head) => head.to::<u64>(),
            Err(e) => {
                errors += 1;
                eyre::ensure!(
                    errors < MAX_RPC_ERRORS,
                    "eth_blockNumber failed {errors} times: {e}"
                );
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        while next <= head {
            let block = match client
                .request::<Value, _>("eth_getBlockByNumber", rpc_params![U64::from(next), false])
                .await
            {
                Ok(block) => block,
                Err(e) => {
                    errors += 1;
                    eyre::ensure!(
                        errors < MAX_RPC_ERRORS,
                        "eth_getBlockByNumber({next}) failed {errors} times: {e}"
                    );
                    break;
                }
            };
            let seen = Instant::now();
            errors = 0;
            let field = |name: &str| -> eyre::Result<B256> {
                serde_json::from_value(block.get(name).cloned().unwrap_or(Value::Null))
                    .map_err(|e| eyre::eyre!("block {next}: field {name}: {e}"))
            };
            let id = BlockId { hash: field("hash")?, state_root: field("stateRoot")? };
            let hashes: Vec<B256> =
                serde_json::from_value(block.get("transactions").cloned().unwrap_or(Value::Null))
                    .map_err(|e| eyre::eyre!("block {next}: transactions: {e}"))?;
            let mine: Vec<B256> = hashes.into_iter().filter(|h| ours.contains(h)).collect();
            let mut o = lock(observations);
            o.blocks_per_node[node].insert(next, id);
            o.seen_per_node[node] += mine.len();
            if !mine.is_empty() {
                let entry = o.blocks.entry(next).or_insert((mine.len(), seen));
                entry.1 = entry.1.min(seen);
            }
            for hash in mine {
                let first = o.first_seen.entry(hash).or_insert(seen);
                *first = (*first).min(seen);
            }
            next += 1;
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

fn lock(observations: &Mutex<Observations>) -> std::sync::MutexGuard<'_, Observations> {
    // A watcher that panicked holding the lock left whole entries behind:
    // the counts it wrote are still consistent enough to report.
    observations.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// utime + stime of the processes, in seconds (Linux `/proc`, 100 ticks/s).
fn cpu_seconds(pids: &[u32]) -> Option<f64> {
    let mut sum = 0.0;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        sum += ticks as f64 / 100.0;
    }
    Some(sum)
}
