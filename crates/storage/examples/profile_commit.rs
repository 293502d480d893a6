#![allow(missing_docs)]
use alloy_consensus::{Eip658Value, Header, ReceiptEnvelope, SignableTransaction, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use ol_ledger::{Account, StateChanges};
use ol_primitives::{Receipt, RecoveredTransaction, SealedHeader};
use ol_storage::Store;
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


fn main() {
    let dir = tempfile::tempdir_in("/work").unwrap();
    let t = std::time::Instant::now();
    let store = populated_store(dir.path());
    eprintln!("genesis {:?}", t.elapsed());
    for s in 1..8u64 {
        let (txs, receipts): (Vec<_>, Vec<_>) = (0..10_000).map(|n| transfer(s, n)).unzip();
        let changes = changes(s, 20_000);
        let head = store.head().unwrap();
        let t = std::time::Instant::now();
        store.commit_block(&changes, next_header(&head), &txs, &receipts).unwrap();
        eprintln!("TOTAL {:?}", t.elapsed());
    }
    let t = std::time::Instant::now();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    eprintln!("reopen {:?} head {}", t.elapsed(), store.head().unwrap().number());
}
