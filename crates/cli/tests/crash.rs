//! The crash test: `openledger node` killed with SIGKILL at random moments
//! while it seals blocks must lose nothing it has confirmed.
//!
//! Each iteration starts the real binary on the same data directory (one
//! block per transaction, or every second on some iterations), streams
//! signed transfers from several dev accounts, remembers every transaction
//! whose receipt the node returned, and kills the process at a random moment
//! (often in the middle of a block commit). Then, with the node down, the
//! database is opened directly and its state root recomputed from the stored
//! rows must equal the head header's; after the restart every remembered
//! receipt must be served unchanged and every block must be whole: all its
//! transactions and receipts retrievable, parent hashes chaining back to
//! genesis (DESIGN.md decision 4: a crash leaves the last committed block,
//! never half of one).
//!
//! `OL_CRASH_ITERATIONS` sets the number of kills (default 8);
//! `OL_CRASH_SEED` replays the random kill moments of an earlier run (the
//! seed is printed).

mod common;

use alloy_consensus::{SignableTransaction, Signed, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use common::{NodeProcess, Rpc, RpcError};
use ol_storage::Store;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// Dev accounts sending at the same time.
const SENDERS: u32 = 4;
/// Transactions each sender sends before waiting for their receipts.
const BURST: u64 = 4;
/// Where the transfers go.
const RECIPIENT: Address = address!("0x00000000000000000000000000000000000c7a54");
/// How long after the node is ready it may be killed, in milliseconds.
const KILL_WINDOW_MS: std::ops::Range<u64> = 30..1_500;
/// Blocks (or transactions) fetched per JSON-RPC batch when checking.
const CHECK_BATCH: usize = 100;

/// A receipt as the node first served it, keyed by transaction hash.
type Confirmed = HashMap<B256, Value>;

#[test]
fn confirmed_blocks_survive_sigkill() {
    let iterations: usize = std::env::var("OL_CRASH_ITERATIONS")
        .ok()
        .map(|v| v.parse().expect("OL_CRASH_ITERATIONS is a number"))
        .unwrap_or(8);
    let seed: u64 = std::env::var("OL_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("OL_CRASH_SEED is a number"))
        .unwrap_or_else(rand::random);
    eprintln!("crash test: {iterations} kills, OL_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let datadir = tempfile::tempdir().expect("a temporary data directory");
    let logs = tempfile::tempdir().expect("a temporary log directory");
    let started = Instant::now();

    let mut confirmed = Confirmed::new();
    let mut last_head: Option<(u64, B256)> = None;
    for iteration in 0..iterations {
        let block_time = if iteration % 3 == 2 { 1 } else { 0 };
        let mut node = NodeProcess::start(datadir.path(), block_time, logs.path());
        let blocks = check_chain(&node.rpc(), &confirmed, last_head)
            .unwrap_or_else(|failure| panic!("after restart {iteration}: {failure}\nseed {seed}"));

        // With a block a second, live long enough to commit a few.
        let window = if block_time == 0 { KILL_WINDOW_MS } else { 500..2_500 };
        let kill_after = Duration::from_millis(rng.random_range(window));
        let streamed = stream_until_killed(&mut node, kill_after);
        let new = streamed.confirmed.len();
        for (hash, receipt) in streamed.confirmed {
            assert!(
                confirmed.insert(hash, receipt).is_none(),
                "transaction {hash} confirmed twice"
            );
        }

        let head = check_store(datadir.path(), &confirmed)
            .unwrap_or_else(|failure| panic!("after kill {iteration}: {failure}\nseed {seed}"));
        eprintln!(
            "kill {iteration}: block time {block_time} s, {blocks} blocks checked, {} sent, {new} \
             confirmed, killed after {kill_after:?} at block {}",
            streamed.sent, head.0
        );
        last_head = Some(head);
    }

    let node = NodeProcess::start(datadir.path(), 0, logs.path());
    let blocks = check_chain(&node.rpc(), &confirmed, last_head)
        .unwrap_or_else(|failure| panic!("after the last restart: {failure}\nseed {seed}"));
    drop(node);
    eprintln!(
        "crash test: {} confirmed transactions and {blocks} blocks survived {iterations} kills in {:?}",
        confirmed.len(),
        started.elapsed()
    );
    assert!(!confirmed.is_empty(), "the test confirmed no transaction at all");
}

// ---------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------

/// What the senders did before the kill.
#[derive(Debug, Default)]
struct Streamed {
    sent: usize,
    confirmed: Vec<(B256, Value)>,
}

/// Streams transfers from [`SENDERS`] accounts until `kill_after`, then
/// kills the node with SIGKILL while they are still sending.
fn stream_until_killed(node: &mut NodeProcess, kill_after: Duration) -> Streamed {
    let stop = Arc::new(AtomicBool::new(false));
    let rpc = node.rpc();
    let senders: Vec<_> = (0..SENDERS)
        .map(|index| {
            let stop = stop.clone();
            thread::spawn(move || stream_transfers(rpc, ol_node::dev::dev_signer(index), &stop))
        })
        .collect();
    thread::sleep(kill_after);
    node.kill();
    stop.store(true, Ordering::SeqCst);
    let mut streamed = Streamed::default();
    for sender in senders {
        let one = sender.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        streamed.sent += one.sent;
        streamed.confirmed.extend(one.confirmed);
    }
    streamed
}

/// One sender: bursts of transfers at the pending nonce, then their
/// receipts, until stopped. The node refusing a transfer is a failure; the
/// node being gone ends the stream.
fn stream_transfers(rpc: Rpc, key: PrivateKeySigner, stop: &AtomicBool) -> Streamed {
    let mut streamed = Streamed::default();
    let mut next_nonce: Option<u64> = None;
    while !stop.load(Ordering::SeqCst) {
        let nonce = match next_nonce {
            Some(nonce) => nonce,
            None => match rpc.call("eth_getTransactionCount", json!([key.address(), "pending"])) {
                Ok(count) => quantity(&count),
                Err(RpcError::Transport(_)) => return streamed,
                Err(error) => panic!("eth_getTransactionCount: {error}"),
            },
        };
        let mut in_flight = Vec::new();
        for offset in 0..BURST {
            let raw = signed_transfer(&key, nonce + offset);
            match rpc.call("eth_sendRawTransaction", json!([raw])) {
                Ok(hash) => {
                    assert_eq!(hash_of(&hash), keccak256(&raw), "the node names another hash");
                    streamed.sent += 1;
                    in_flight.push(keccak256(&raw));
                }
                Err(RpcError::Transport(_)) => return streamed,
                Err(error) => panic!("transfer {} from {}: {error}", nonce + offset, key.address()),
            }
        }
        next_nonce = Some(nonce + BURST);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !in_flight.is_empty() {
            let mut waiting = Vec::new();
            for hash in in_flight {
                match rpc.call("eth_getTransactionReceipt", json!([hash])) {
                    Ok(receipt) if receipt.is_null() => waiting.push(hash),
                    Ok(receipt) => streamed.confirmed.push((hash, receipt)),
                    Err(RpcError::Transport(_)) => return streamed,
                    Err(error) => panic!("eth_getTransactionReceipt({hash}): {error}"),
                }
            }
            in_flight = waiting;
            if stop.load(Ordering::SeqCst) {
                return streamed;
            }
            if Instant::now() > deadline {
                // Still pooled: ask the node for the nonce next time.
                next_nonce = None;
                break;
            }
            if !in_flight.is_empty() {
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
    streamed
}

/// A 1 wei transfer; even nonces EIP-1559, odd ones legacy, so both
/// encodings go through the database.
fn signed_transfer(key: &PrivateKeySigner, nonce: u64) -> Bytes {
    let to = TxKind::Call(RECIPIENT);
    let value = U256::from(1);
    if nonce.is_multiple_of(2) {
        let tx = TxEip1559 {
            chain_id: ol_node::dev::DEV_CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to,
            value,
            access_list: Default::default(),
            input: Bytes::new(),
        };
        sign(key, tx)
    } else {
        let tx = TxLegacy {
            chain_id: Some(ol_node::dev::DEV_CHAIN_ID),
            nonce,
            gas_price: 2_000_000_000,
            gas_limit: 21_000,
            to,
            value,
            input: Bytes::new(),
        };
        sign(key, tx)
    }
}

fn sign<T>(key: &PrivateKeySigner, tx: T) -> Bytes
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    let signature = key.sign_hash_sync(&tx.signature_hash()).expect("a dev key signs");
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718().into()
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

fn quantity(value: &Value) -> u64 {
    let text = value.as_str().unwrap_or_else(|| panic!("{value} is not a quantity"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{value} is not a quantity: {e}"))
}

fn hash_of(value: &Value) -> B256 {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value} is not a hash: {e}"))
}

/// Fails with `message` unless `condition` holds.
fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// Over JSON-RPC, after a restart: every confirmed receipt is served as it
/// was, the head has not gone back, and every block from genesis to the head
/// is whole. Returns the number of blocks checked.
fn check_chain(
    rpc: &Rpc,
    confirmed: &Confirmed,
    last_head: Option<(u64, B256)>,
) -> Result<usize, String> {
    let head = quantity(&rpc.expect("eth_blockNumber", json!([])));
    if let Some((number, hash)) = last_head {
        ensure(head >= number, || format!("the head went back from {number} to {head}"))?;
        let block = rpc.expect("eth_getBlockByNumber", json!([format!("{number:#x}"), false]));
        ensure(hash_of(&block["hash"]) == hash, || {
            format!("block {number} is {} after the restart, {hash} before", block["hash"])
        })?;
    }

    let hashes: Vec<&B256> = confirmed.keys().collect();
    for chunk in hashes.chunks(CHECK_BATCH) {
        let calls: Vec<_> =
            chunk.iter().map(|h| ("eth_getTransactionReceipt", json!([h]))).collect();
        for (hash, served) in chunk.iter().zip(rpc.expect_batch(&calls)) {
            let before = &confirmed[*hash];
            ensure(&served == before, || {
                format!("the receipt of {hash} changed:\nbefore {before}\nafter  {served}")
            })?;
        }
    }

    let mut parent = B256::ZERO;
    let mut sent_by: HashMap<Address, u64> = HashMap::new();
    let numbers: Vec<u64> = (0..=head).collect();
    for chunk in numbers.chunks(CHECK_BATCH) {
        let mut calls = Vec::new();
        for n in chunk {
            let tag = format!("{n:#x}");
            calls.push(("eth_getBlockByNumber", json!([tag, true])));
            calls.push(("eth_getBlockReceipts", json!([tag])));
            calls.push(("eth_getBlockTransactionCountByNumber", json!([tag])));
        }
        let answers = rpc.expect_batch(&calls);
        let mut transactions = Vec::new();
        for (n, answer) in chunk.iter().zip(answers.chunks(3)) {
            let hash = check_block(*n, parent, &answer[0], &answer[1], &answer[2])?;
            for tx in answer[0]["transactions"].as_array().into_iter().flatten() {
                transactions.push((hash_of(&tx["hash"]), hash, *n));
                let from: Address = serde_json::from_value(tx["from"].clone())
                    .map_err(|e| format!("transaction {} has no sender: {e}", tx["hash"]))?;
                *sent_by.entry(from).or_default() += 1;
            }
            parent = hash;
        }
        let calls: Vec<_> =
            transactions.iter().map(|(h, _, _)| ("eth_getTransactionByHash", json!([h]))).collect();
        for ((tx_hash, block_hash, n), tx) in transactions.iter().zip(rpc.expect_batch(&calls)) {
            ensure(!tx.is_null(), || format!("transaction {tx_hash} of block {n} is not found"))?;
            ensure(hash_of(&tx["blockHash"]) == *block_hash, || {
                format!(
                    "transaction {tx_hash} is served in block {}, listed in {n}",
                    tx["blockHash"]
                )
            })?;
        }
    }
    check_accounts(rpc, &sent_by)?;
    Ok(numbers.len())
}

/// The accounts agree with the blocks: each sender's nonce is the number of
/// its transactions, the recipient holds 1 wei per transaction, and the
/// OPEN supply is all there (nothing created or lost by a crash).
fn check_accounts(rpc: &Rpc, sent_by: &HashMap<Address, u64>) -> Result<(), String> {
    let senders: Vec<Address> =
        (0..SENDERS).map(|i| ol_node::dev::dev_signer(i).address()).collect();
    let calls: Vec<_> =
        senders.iter().map(|a| ("eth_getTransactionCount", json!([a, "latest"]))).collect();
    for (address, nonce) in senders.iter().zip(rpc.expect_batch(&calls)) {
        let mined = sent_by.get(address).copied().unwrap_or_default();
        ensure(quantity(&nonce) == mined, || {
            format!("{address} has nonce {nonce} but {mined} transactions in blocks")
        })?;
    }
    ensure(sent_by.keys().all(|a| senders.contains(a)), || {
        format!("unknown senders: {sent_by:?}")
    })?;

    let holders: Vec<Address> = ol_node::dev::dev_accounts(ol_node::dev::DEV_ACCOUNTS)
        .into_iter()
        .map(|(address, _)| address)
        .chain([
            ol_node::dev::DEV_RESERVE,
            ol_node::dev::DEV_PRODUCER,
            ol_primitives::addresses::TREASURY,
            RECIPIENT,
        ])
        .collect();
    let calls: Vec<_> = holders.iter().map(|a| ("ol_getBalanceBreakdown", json!([a]))).collect();
    let mut supply = U256::ZERO;
    for (address, breakdown) in holders.iter().zip(rpc.expect_batch(&calls)) {
        let total: U256 = serde_json::from_value(breakdown["total"].clone())
            .map_err(|e| format!("the balance of {address}: {e}"))?;
        if *address == RECIPIENT {
            let transfers: u64 = sent_by.values().sum();
            ensure(total == U256::from(transfers), || {
                format!("the recipient holds {total} wei after {transfers} transfers of 1 wei")
            })?;
        }
        supply += total;
    }
    let expected = ol_primitives::Amount::total_supply().wei();
    ensure(supply == expected, || format!("the accounts hold {supply} wei of OPEN, not {expected}"))
}

/// One block: its number and parent, its transactions with their receipts
/// in order, its transaction count and gas. Returns its hash.
fn check_block(
    n: u64,
    parent: B256,
    block: &Value,
    receipts: &Value,
    count: &Value,
) -> Result<B256, String> {
    ensure(!block.is_null(), || format!("block {n} is missing below the head"))?;
    ensure(quantity(&block["number"]) == n, || {
        format!("block {n} says it is {}", block["number"])
    })?;
    let hash = hash_of(&block["hash"]);
    ensure(hash_of(&block["parentHash"]) == parent, || {
        format!(
            "block {n}'s parent is {}, block {} is {parent}",
            block["parentHash"],
            n.wrapping_sub(1)
        )
    })?;
    let transactions = block["transactions"].as_array().cloned().unwrap_or_default();
    let receipts = receipts.as_array().cloned().unwrap_or_default();
    ensure(quantity(count) as usize == transactions.len(), || {
        format!("block {n} counts {count} transactions, lists {}", transactions.len())
    })?;
    ensure(receipts.len() == transactions.len(), || {
        format!("block {n} has {} transactions, {} receipts", transactions.len(), receipts.len())
    })?;
    let mut gas = 0;
    for (index, (tx, receipt)) in transactions.iter().zip(&receipts).enumerate() {
        ensure(
            tx["blockHash"] == block["hash"] && quantity(&tx["transactionIndex"]) == index as u64,
            || {
                format!(
                    "transaction {index} of block {n} is placed at {} in {}",
                    tx["transactionIndex"], tx["blockHash"]
                )
            },
        )?;
        ensure(
            receipt["transactionHash"] == tx["hash"] && receipt["blockHash"] == block["hash"],
            || format!("receipt {index} of block {n} is {receipt}, for transaction {}", tx["hash"]),
        )?;
        gas += quantity(&receipt["gasUsed"]);
        ensure(quantity(&receipt["cumulativeGasUsed"]) == gas, || {
            format!(
                "receipt {index} of block {n}: cumulative gas {} after {gas}",
                receipt["cumulativeGasUsed"]
            )
        })?;
    }
    ensure(quantity(&block["gasUsed"]) == gas, || {
        format!("block {n} used {} gas, its receipts {gas}", block["gasUsed"])
    })?;
    Ok(hash)
}

/// With the node down, straight from the database: the state root
/// recomputed from the stored rows is the head's, every block links to its
/// parent and has a receipt per transaction, and every confirmed transaction
/// is where its receipt said. Returns the head's number and hash.
fn check_store(datadir: &Path, confirmed: &Confirmed) -> Result<(u64, B256), String> {
    let store = Store::open(datadir)
        .map_err(|e| format!("the database does not open after SIGKILL: {e}"))?;
    let head = store.head().map_err(|e| format!("no head: {e}"))?;
    let recomputed = store.recompute_state_root().map_err(|e| format!("recomputing: {e}"))?;
    ensure(recomputed == head.header.state_root, || {
        format!(
            "block {}'s header has state root {}, the stored state hashes to {recomputed}",
            head.number(),
            head.header.state_root
        )
    })?;

    let mut parent = B256::ZERO;
    for n in 0..=head.number() {
        let block = store
            .block_by_number(n)
            .map_err(|e| format!("reading block {n}: {e}"))?
            .ok_or_else(|| format!("block {n} is missing below the head {}", head.number()))?;
        ensure(block.header.header.parent_hash == parent, || format!("block {n} does not link"))?;
        let receipts = store
            .block_receipts(n)
            .map_err(|e| format!("reading receipts of block {n}: {e}"))?
            .unwrap_or_default();
        ensure(receipts.len() == block.transactions.len(), || {
            format!(
                "block {n}: {} transactions, {} receipts",
                block.transactions.len(),
                receipts.len()
            )
        })?;
        parent = block.header.hash;
    }
    ensure(parent == head.hash, || "the last block is not the head".to_string())?;

    for (hash, receipt) in confirmed {
        let (location, stored) = store
            .receipt(*hash)
            .map_err(|e| format!("reading the receipt of {hash}: {e}"))?
            .ok_or_else(|| format!("confirmed transaction {hash} is not in the database"))?;
        ensure(
            location.block_number == quantity(&receipt["blockNumber"])
                && location.block_hash == hash_of(&receipt["blockHash"])
                && location.index == quantity(&receipt["transactionIndex"])
                && stored.gas_used == quantity(&receipt["gasUsed"]),
            || format!("transaction {hash} is stored at {location:?}, was confirmed as {receipt}"),
        )?;
    }
    Ok((head.number(), head.hash))
}
