//! Block commit cost on a 100k-account state: the state root alone, reads
//! through a snapshot, a commit of 10k changed accounts, a commit shaped
//! like a block of 10k transfers (20k touched accounts, 10k transactions
//! and receipts), reads of an older block's state from the history, the
//! from-scratch root for comparison, and reopening.
//!
//! `cargo bench -p ol-storage --bench commit`

#![allow(missing_docs)]

use alloy_consensus::{Eip658Value, Header, ReceiptEnvelope, SignableTransaction, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use criterion::{Criterion, criterion_group, criterion_main};
use ol_ledger::{Account, StateChanges, StateView};
use ol_primitives::{Receipt, RecoveredTransaction, SealedHeader};
use ol_storage::Store;
use std::{cell::Cell, time::Duration};

const STATE_ACCOUNTS: u64 = 100_000;

fn address(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// Deterministic pseudo-random account indexes (xorshift).
fn picks(seed: u64, count: usize, range: u64) -> Vec<u64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % range
        })
        .collect()
}

/// `count` account changes on existing accounts (plus a few new ones).
fn changes(seed: u64, count: usize) -> StateChanges {
    let mut changes = StateChanges::default();
    for (n, i) in picks(seed, count, STATE_ACCOUNTS + 1_000).into_iter().enumerate() {
        changes.accounts.insert(
            address(i),
            Account {
                nonce: seed,
                balance: U256::from(seed * 1_000_000 + n as u64),
                ..Account::default()
            },
        );
    }
    changes
}

fn transfer(seed: u64, n: u64) -> (RecoveredTransaction, Receipt) {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce: seed,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(address(n + 1)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = Signature::new(U256::from(n + 1), U256::from(seed + 1), false);
    let tx = RecoveredTransaction::from_trusted(tx.into_signed(signature).into(), address(n));
    let inner = alloy_consensus::Receipt {
        status: Eip658Value::Eip658(true),
        cumulative_gas_used: 21_000 * (n + 1),
        logs: vec![],
    };
    let receipt = Receipt {
        envelope: ReceiptEnvelope::Eip1559(inner.with_bloom()),
        transaction_hash: tx.hash,
        from: tx.sender,
        to: Some(address(n + 1)),
        gas_used: 21_000,
        effective_gas_price: 1_500_000_000,
    };
    (tx, receipt)
}

/// CPU time of the whole process so far (Linux `/proc/self/stat`, clock
/// ticks of 10 ms: meaningful summed over many iterations).
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 =
        fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10)
}

fn next_header(head: &SealedHeader) -> impl FnOnce(B256) -> Header + use<> {
    let number = head.number() + 1;
    let parent_hash = head.hash;
    move |state_root| Header {
        number,
        parent_hash,
        state_root,
        gas_limit: 1_000_000_000,
        ..Default::default()
    }
}

fn populated_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).expect("open store");
    let mut genesis = StateChanges::default();
    for i in 0..STATE_ACCOUNTS {
        genesis.accounts.insert(address(i), Account::with_balance(U256::from(i + 1)));
    }
    store.init_genesis(&genesis, Header::default()).expect("genesis");
    store
}

fn bench_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(dir.path());
    let seed = Cell::new(1u64);
    let next_seed = || {
        let s = seed.get();
        seed.set(s + 1);
        s
    };

    let mut group = c.benchmark_group("100k accounts");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .warm_up_time(Duration::from_secs(2));

    let prepared: Vec<StateChanges> = (0..4).map(|s| changes(1_000 + s, 10_000)).collect();
    let snapshot = store.snapshot().expect("snapshot");
    let mut k = 0;
    group.bench_function("state root after 10k changed accounts (no write)", |b| {
        b.iter(|| {
            k += 1;
            snapshot.state_root_after(&prepared[k % prepared.len()])
        })
    });

    let readers: Vec<Address> = picks(7, 20_000, STATE_ACCOUNTS).into_iter().map(address).collect();
    group.bench_function("20k account reads from a snapshot", |b| {
        b.iter(|| readers.iter().filter(|a| matches!(snapshot.account(a), Ok(Some(_)))).count())
    });

    group.bench_function("commit_block 10k changed accounts", |b| {
        b.iter_batched(
            || changes(next_seed(), 10_000),
            |changes| {
                let head = store.head().expect("head");
                store.commit_block(&changes, next_header(&head), &[], &[]).expect("commit")
            },
            criterion::BatchSize::PerIteration,
        )
    });

    group.bench_function("commit_block 10k transfers (20k accounts, 10k txs + receipts)", |b| {
        b.iter_batched(
            || {
                let s = next_seed();
                let (txs, receipts): (Vec<_>, Vec<_>) = (0..10_000).map(|n| transfer(s, n)).unzip();
                (changes(s, 20_000), txs, receipts)
            },
            |(changes, txs, receipts)| {
                let head = store.head().expect("head");
                store.commit_block(&changes, next_header(&head), &txs, &receipts).expect("commit")
            },
            criterion::BatchSize::PerIteration,
        )
    });

    // The same block, timed in CPU time of all threads (utime + stime), which
    // other processes' load on this shared machine disturbs less than wall time.
    group.bench_function("commit_block 10k transfers, process CPU time", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let s = next_seed();
                let (txs, receipts): (Vec<_>, Vec<_>) = (0..10_000).map(|n| transfer(s, n)).unzip();
                let changes = changes(s, 20_000);
                let head = store.head().expect("head");
                let before = process_cpu_time();
                let block = store
                    .commit_block(&changes, next_header(&head), &txs, &receipts)
                    .expect("commit");
                total += process_cpu_time().saturating_sub(before);
                drop(block);
            }
            total
        })
    });

    // An archive read: the state some blocks below the head, from the history.
    let head = store.head().expect("head").number();
    let old =
        store.snapshot_at(head.saturating_sub(100)).expect("history").expect("a committed block");
    let sampled: Vec<Address> = picks(11, 1_000, STATE_ACCOUNTS).into_iter().map(address).collect();
    group.bench_function("1k account reads 100 blocks below the head (history)", |b| {
        b.iter(|| sampled.iter().filter(|a| matches!(old.account(a), Ok(Some(_)))).count())
    });

    group.bench_function("recompute_state_root from scratch (reference)", |b| {
        b.iter(|| store.recompute_state_root().expect("recompute"))
    });

    // Opening rebuilds the tries and flat maps from the stored rows and checks
    // the head's state root.
    drop(store);
    group.bench_function("open (rebuild the state in memory)", |b| {
        b.iter(|| Store::open(dir.path()).expect("reopen"))
    });
    group.finish();
}

criterion_group!(benches, bench_commit);
criterion_main!(benches);
