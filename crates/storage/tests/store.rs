//! The store through its public API: genesis, commits, reads, atomicity,
//! reopening, proofs, schema and corruption handling.

use alloy_consensus::{
    EMPTY_ROOT_HASH, Eip658Value, Header, ReceiptEnvelope, SignableTransaction, TxEip1559,
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use ol_ledger::{Account, StateChanges, StateView};
use ol_primitives::{Receipt, RecoveredTransaction, SealedHeader};
use ol_storage::{
    AccountProof, DATABASE_FILE, HistoricalState, SCHEMA_VERSION, StateSnapshot, StorageError,
    Store, verify_account_proof,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn handles_are_send_and_sync() {
    assert_send_sync::<Store>();
    assert_send_sync::<StateSnapshot>();
    assert_send_sync::<HistoricalState>();
}

fn account(balance: u64) -> Account {
    Account::with_balance(U256::from(balance))
}

fn address(i: u8) -> Address {
    Address::repeat_byte(i)
}

fn genesis_changes() -> StateChanges {
    let mut changes = StateChanges::default();
    changes.accounts.insert(address(1), account(1_000));
    changes.accounts.insert(address(2), account(2_000));
    changes
        .storage
        .entry(ol_primitives::addresses::VESTING)
        .or_default()
        .insert(B256::with_last_byte(1), U256::from(77));
    changes
}

fn genesis_header() -> Header {
    Header { number: 0, gas_limit: 30_000_000, timestamp: 1_000, ..Default::default() }
}

fn transaction(nonce: u64) -> RecoveredTransaction {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(address(2)),
        value: U256::from(10),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = Signature::new(U256::from(1), U256::from(2), false);
    RecoveredTransaction::from_trusted(tx.into_signed(signature).into(), address(1))
}

fn receipt_for(tx: &RecoveredTransaction, cumulative: u64) -> Receipt {
    let inner = alloy_consensus::Receipt {
        status: Eip658Value::Eip658(true),
        cumulative_gas_used: cumulative,
        logs: vec![],
    };
    Receipt {
        envelope: ReceiptEnvelope::Eip1559(inner.with_bloom()),
        transaction_hash: tx.hash,
        from: tx.sender,
        to: Some(address(2)),
        gas_used: 21_000,
        effective_gas_price: 1_500_000_000,
    }
}

/// A sealer that fills number and parent from `head`.
fn next_header(head: &SealedHeader) -> impl FnOnce(B256) -> Header + use<> {
    let number = head.number() + 1;
    let parent_hash = head.hash;
    move |state_root| Header {
        number,
        parent_hash,
        state_root,
        gas_limit: 30_000_000,
        ..Default::default()
    }
}

fn initialized() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    (dir, store)
}

#[test]
fn fresh_store_is_not_initialized() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/data")).unwrap();
    assert!(!store.is_initialized().unwrap());
    assert_eq!(store.head().unwrap_err(), StorageError::NotInitialized);
    assert!(store.snapshot().is_err());
    assert!(store.path().ends_with(DATABASE_FILE));
    assert_eq!(store.header_by_number(0).unwrap(), None);
    assert_eq!(store.transaction(B256::ZERO).unwrap(), None);
}

#[test]
fn genesis_is_written_once_and_checked_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let genesis = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    assert!(store.is_initialized().unwrap());
    assert_eq!(genesis.number(), 0);
    assert_eq!(genesis.header.transactions_root, EMPTY_ROOT_HASH);
    assert_eq!(genesis.header.receipts_root, EMPTY_ROOT_HASH);
    assert_eq!(genesis.header.state_root, store.recompute_state_root().unwrap());
    assert_eq!(store.head().unwrap(), genesis);
    assert_eq!(store.header_by_hash(genesis.hash).unwrap(), Some(genesis.clone()));
    assert_eq!(store.block_receipts(0).unwrap(), Some(vec![]));

    // The vesting account exists (empty) because its storage does.
    let snapshot = store.snapshot().unwrap();
    assert_eq!(
        snapshot.account(&ol_primitives::addresses::VESTING).unwrap(),
        Some(Account::default())
    );
    assert_eq!(
        snapshot.storage(&ol_primitives::addresses::VESTING, &B256::with_last_byte(1)).unwrap(),
        U256::from(77)
    );
    assert_eq!(snapshot.account(&address(1)).unwrap(), Some(account(1_000)));
    assert_eq!(snapshot.account(&address(9)).unwrap(), None);

    // Same genesis again: accepted, same block 0.
    assert_eq!(store.init_genesis(&genesis_changes(), genesis_header()).unwrap(), genesis);
    // Another genesis: refused.
    let mut other = genesis_changes();
    other.accounts.insert(address(3), account(1));
    let err = store.init_genesis(&other, genesis_header()).unwrap_err();
    assert!(
        matches!(err, StorageError::GenesisMismatch { stored, .. } if stored == genesis.hash),
        "{err}"
    );
    let err = store
        .init_genesis(&genesis_changes(), Header { timestamp: 5, ..genesis_header() })
        .unwrap_err();
    assert!(matches!(err, StorageError::GenesisMismatch { .. }), "{err}");
}

#[test]
fn genesis_must_be_block_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = store
        .init_genesis(&genesis_changes(), Header { number: 1, ..genesis_header() })
        .unwrap_err();
    assert_eq!(err, StorageError::GenesisNumber(1));
    assert!(!store.is_initialized().unwrap());
}

#[test]
fn commit_writes_blocks_transactions_receipts_and_indexes() {
    let (_dir, store) = initialized();
    let genesis = store.head().unwrap();
    let transactions: Vec<_> = (0..3).map(transaction).collect();
    let receipts: Vec<_> = transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| receipt_for(tx, 21_000 * (i as u64 + 1)))
        .collect();
    let mut changes = StateChanges::default();
    changes.accounts.insert(address(1), Account { nonce: 3, ..account(970) });
    changes.accounts.insert(address(2), account(2_030));
    let expected_root = store.state_root_after(&changes).unwrap();

    let block =
        store.commit_block(&changes, next_header(&genesis), &transactions, &receipts).unwrap();
    assert_eq!(block.number(), 1);
    assert_eq!(block.header.parent_hash, genesis.hash);
    assert_eq!(block.header.state_root, expected_root);
    assert_eq!(store.head().unwrap(), block);
    assert_eq!(store.recompute_state_root().unwrap(), block.header.state_root);

    assert_eq!(store.header_by_number(1).unwrap(), Some(block.clone()));
    assert_eq!(store.header_by_hash(block.hash).unwrap(), Some(block.clone()));
    assert_eq!(store.header_by_number(2).unwrap(), None);
    assert_eq!(store.header_by_hash(B256::repeat_byte(0xee)).unwrap(), None);
    let full = store.block_by_number(1).unwrap().unwrap();
    assert_eq!(full.header, block);
    assert_eq!(full.transactions, transactions);
    assert_eq!(store.block_by_hash(block.hash).unwrap(), Some(full));
    assert_eq!(store.block_by_number(0).unwrap().unwrap().transactions, vec![]);
    assert_eq!(store.block_receipts(1).unwrap(), Some(receipts.clone()));
    assert_eq!(store.block_receipts(2).unwrap(), None);

    let (location, tx) = store.transaction(transactions[2].hash).unwrap().unwrap();
    assert_eq!(tx, transactions[2]);
    assert_eq!((location.block_number, location.block_hash, location.index), (1, block.hash, 2));
    let (location, receipt) = store.receipt(transactions[1].hash).unwrap().unwrap();
    assert_eq!(receipt, receipts[1]);
    assert_eq!(location.index, 1);
    assert_eq!(store.receipt(B256::repeat_byte(0xab)).unwrap(), None);

    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.header(), &block);
    assert_eq!(snapshot.account(&address(1)).unwrap().unwrap().nonce, 3);
}

#[test]
fn a_block_that_does_not_extend_the_head_writes_nothing() {
    let (_dir, store) = initialized();
    let genesis = store.head().unwrap();
    let transactions = vec![transaction(0)];
    let receipts = vec![receipt_for(&transactions[0], 21_000)];
    let mut changes = StateChanges::default();
    changes.accounts.insert(address(1), account(1));
    changes.storage.entry(address(1)).or_default().insert(B256::with_last_byte(4), U256::from(4));

    let wrong_number = |root: B256| Header {
        number: 2,
        parent_hash: genesis.hash,
        state_root: root,
        ..Default::default()
    };
    let wrong_parent = |root: B256| Header {
        number: 1,
        parent_hash: B256::repeat_byte(1),
        state_root: root,
        ..Default::default()
    };
    let wrong_root = |_: B256| Header {
        number: 1,
        parent_hash: genesis.hash,
        state_root: B256::repeat_byte(2),
        ..Default::default()
    };
    for seal in [&wrong_number as &dyn Fn(B256) -> Header, &wrong_parent, &wrong_root] {
        let err = store.commit_block(&changes, seal, &transactions, &receipts).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::NotNextBlock { .. } | StorageError::StateRootMismatch { .. }
            ),
            "{err}"
        );
        assert_eq!(store.head().unwrap(), genesis);
        assert_eq!(store.header_by_number(1).unwrap(), None);
        assert_eq!(store.header_by_number(2).unwrap(), None);
        assert_eq!(store.transaction(transactions[0].hash).unwrap(), None);
        assert_eq!(store.block_by_number(1).unwrap(), None);
        assert_eq!(store.snapshot().unwrap().account(&address(1)).unwrap(), Some(account(1_000)));
        assert_eq!(store.recompute_state_root().unwrap(), genesis.header.state_root);
    }
    let err = store.commit_block(&changes, next_header(&genesis), &transactions, &[]).unwrap_err();
    assert!(
        matches!(err, StorageError::ReceiptCount { transactions: 1, receipts: 0, .. }),
        "{err}"
    );

    // The store is still usable, and reopening finds the same state.
    let block =
        store.commit_block(&changes, next_header(&genesis), &transactions, &receipts).unwrap();
    assert_eq!(store.recompute_state_root().unwrap(), block.header.state_root);
}

#[test]
fn snapshots_do_not_see_later_blocks() {
    let (_dir, store) = initialized();
    let before = store.snapshot().unwrap();
    let mut changes = StateChanges::default();
    changes.accounts.insert(address(1), account(5));
    let block = store.commit_block(&changes, next_header(before.header()), &[], &[]).unwrap();
    assert_eq!(before.account(&address(1)).unwrap(), Some(account(1_000)));
    assert_eq!(before.header().number(), 0);
    let after = store.snapshot().unwrap();
    assert_eq!(after.account(&address(1)).unwrap(), Some(account(5)));
    assert_eq!(after.state_root(), block.header.state_root);
    // A snapshot moves to another thread.
    let handle = std::thread::spawn(move || after.account(&address(1)).unwrap());
    assert_eq!(handle.join().unwrap(), Some(account(5)));
}

#[test]
fn reopening_returns_the_same_head_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
        let mut head = store.head().unwrap();
        for i in 0..3u8 {
            let mut changes = StateChanges::default();
            changes.accounts.insert(address(10 + i), account(u64::from(i) + 1));
            changes
                .storage
                .entry(address(1))
                .or_default()
                .insert(B256::with_last_byte(i), U256::from(i) + U256::from(1));
            // Delete the vesting word in the last block.
            if i == 2 {
                changes
                    .storage
                    .entry(ol_primitives::addresses::VESTING)
                    .or_default()
                    .insert(B256::with_last_byte(1), U256::ZERO);
            }
            let tx = transaction(u64::from(i));
            let receipt = receipt_for(&tx, 21_000);
            head = store.commit_block(&changes, next_header(&head), &[tx], &[receipt]).unwrap();
        }
        head
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap(), head);
    assert_eq!(store.recompute_state_root().unwrap(), head.header.state_root);
    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.state_root(), head.header.state_root);
    assert_eq!(snapshot.account(&address(12)).unwrap(), Some(account(3)));
    assert_eq!(snapshot.storage(&address(1), &B256::with_last_byte(2)).unwrap(), U256::from(3));
    assert_eq!(
        snapshot.storage(&ol_primitives::addresses::VESTING, &B256::with_last_byte(1)).unwrap(),
        U256::ZERO
    );
    assert_eq!(store.transaction(transaction(1).hash).unwrap().unwrap().0.block_number, 2);
    // And keeps going.
    let block = store.commit_block(&StateChanges::default(), next_header(&head), &[], &[]).unwrap();
    assert_eq!(block.header.state_root, head.header.state_root);
}

#[test]
fn proofs_verify_and_tampering_fails() {
    let (_dir, store) = initialized();
    let root = store.head().unwrap().header.state_root;
    let vesting = ol_primitives::addresses::VESTING;
    let slots = [B256::with_last_byte(1), B256::with_last_byte(2)];

    let proof = store.account_proof(vesting, &slots).unwrap();
    assert_eq!(proof.storage_proof[0].value, U256::from(77));
    assert_eq!(proof.storage_proof[1].value, U256::ZERO);
    verify_account_proof(root, &proof).unwrap();

    let present = store.account_proof(address(1), &[]).unwrap();
    assert_eq!(present.balance, U256::from(1_000));
    verify_account_proof(root, &present).unwrap();

    let absent = store.account_proof(address(0x77), &slots).unwrap();
    assert_eq!(absent.balance, U256::ZERO);
    assert_eq!(absent.storage_hash, EMPTY_ROOT_HASH);
    verify_account_proof(root, &absent).unwrap();

    let mut richer = present.clone();
    richer.balance += U256::from(1);
    assert!(verify_account_proof(root, &richer).is_err());
    let mut forged_slot = proof.clone();
    forged_slot.storage_proof[0].value = U256::from(78);
    assert!(verify_account_proof(root, &forged_slot).is_err());
    let mut hidden_slot = proof.clone();
    hidden_slot.storage_proof[0].value = U256::ZERO;
    assert!(verify_account_proof(root, &hidden_slot).is_err());
    let mut claimed = absent.clone();
    claimed.balance = U256::from(1);
    assert!(verify_account_proof(root, &claimed).is_err());
    let mut tampered = present.clone();
    let last = tampered.account_proof.len() - 1;
    let mut node = tampered.account_proof[last].to_vec();
    let byte = node.len() - 1;
    node[byte] ^= 1;
    tampered.account_proof[last] = node.into();
    assert!(verify_account_proof(root, &tampered).is_err());
    assert!(verify_account_proof(B256::repeat_byte(3), &present).is_err());
}

const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
const HEADERS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("headers");
const TRANSACTIONS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("transactions");
const RECEIPTS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("receipts");
const ACCOUNTS: redb::TableDefinition<&[u8; 20], &[u8]> = redb::TableDefinition::new("accounts");

/// Writes straight into the database file, as a bad disk or a bad tool
/// would.
fn tamper(dir: &std::path::Path, write: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::create(dir.join(DATABASE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    write(&txn);
    txn.commit().unwrap();
}

#[test]
fn another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(initialized_in(dir.path()));
    tamper(dir.path(), |txn| {
        txn.open_table(META)
            .unwrap()
            .insert("schema", (SCHEMA_VERSION + 1).to_be_bytes().as_slice())
            .unwrap();
    });
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StorageError::SchemaMismatch { found, expected, .. } if found == SCHEMA_VERSION + 1 && expected == SCHEMA_VERSION)
    );
    assert!(err.to_string().contains("schema version"), "{err}");
}

fn initialized_in(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    let transactions = vec![transaction(0)];
    let receipts = vec![receipt_for(&transactions[0], 21_000)];
    store
        .commit_block(
            &StateChanges::default(),
            next_header(&store.head().unwrap()),
            &transactions,
            &receipts,
        )
        .unwrap();
    store
}

#[test]
fn corrupt_records_are_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    drop(initialized_in(dir.path()));
    tamper(dir.path(), |txn| {
        // Block 1's transactions: not even a record list.
        txn.open_table(TRANSACTIONS).unwrap().insert(1, [1u8, 2, 3].as_slice()).unwrap();
        // Block 1's receipts: a well-formed list of one 3-byte record that is no receipt.
        let list = [0u8, 0, 0, 1, 0, 0, 0, 3, 9, 9, 9];
        txn.open_table(RECEIPTS).unwrap().insert(1, list.as_slice()).unwrap();
        txn.open_table(HEADERS).unwrap().insert(0, [0xc1u8, 0xff].as_slice()).unwrap();
    });
    let store = Store::open(dir.path()).unwrap();
    let err = store.transaction(transaction(0).hash).unwrap_err();
    assert!(
        matches!(&err, StorageError::Corrupt(m) if m.contains("block 1's transactions")),
        "{err}"
    );
    let err = store.receipt(transaction(0).hash).unwrap_err();
    assert!(matches!(&err, StorageError::Corrupt(m) if m.contains("receipt 1/0")), "{err}");
    assert!(matches!(store.block_receipts(1), Err(StorageError::Corrupt(_))));
    assert!(matches!(store.block_by_number(1), Err(StorageError::Corrupt(_))));
    assert!(matches!(store.header_by_number(0), Err(StorageError::Corrupt(_))));
    drop(store);

    tamper(dir.path(), |txn| {
        txn.open_table(ACCOUNTS).unwrap().insert(&[1u8; 20], [0u8; 5].as_slice()).unwrap();
    });
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(&err, StorageError::Corrupt(m) if m.contains("account")), "{err}");

    // A well-formed but different balance: the state no longer matches the head's root.
    tamper(dir.path(), |txn| {
        // flags 0, nonce 0, balance 999 (0x03e7): see the codec's account layout.
        let bytes = [0u8, 0, 2, 0x03, 0xe7];
        txn.open_table(ACCOUNTS).unwrap().insert(&[1u8; 20], bytes.as_slice()).unwrap();
    });
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(&err, StorageError::Corrupt(m) if m.contains("state root")), "{err}");
}

/// The whole state, flat, for the reference root.
#[derive(Default, Clone)]
struct Reference {
    accounts: BTreeMap<Address, Account>,
    storage: BTreeMap<Address, BTreeMap<B256, U256>>,
}

impl Reference {
    fn apply(&mut self, changes: &StateChanges) {
        for (address, account) in &changes.accounts {
            self.accounts.insert(*address, *account);
        }
        for (address, slots) in &changes.storage {
            if slots.is_empty() {
                continue;
            }
            self.accounts.entry(*address).or_default();
            let stored = self.storage.entry(*address).or_default();
            for (slot, value) in slots {
                if value.is_zero() {
                    stored.remove(slot);
                } else {
                    stored.insert(*slot, *value);
                }
            }
        }
    }

    fn root(&self) -> B256 {
        state_root_unhashed(self.accounts.iter().map(|(address, account)| {
            let storage_root =
                storage_root_unhashed(self.storage.get(address).cloned().unwrap_or_default());
            (
                *address,
                TrieAccount::new(account.nonce, account.balance, storage_root, account.code_hash),
            )
        }))
    }
}

fn changes_strategy() -> impl Strategy<Value = StateChanges> {
    let address = (0u8..20).prop_map(Address::repeat_byte);
    let account = (0u64..3, 0u64..1_000_000)
        .prop_map(|(nonce, balance)| Account { nonce, ..account(balance) });
    let slot = (0u8..8).prop_map(B256::with_last_byte);
    let value = prop_oneof![Just(U256::ZERO), (1u64..1000).prop_map(U256::from)];
    (
        proptest::collection::hash_map(address.clone(), account, 0..6),
        proptest::collection::hash_map(
            address,
            proptest::collection::hash_map(slot, value, 0..4),
            0..3,
        ),
    )
        .prop_map(|(accounts, storage)| StateChanges {
            accounts: accounts.into_iter().collect(),
            storage: storage.into_iter().collect(),
            ..Default::default()
        })
}

/// Every account and slot the strategy can touch reads as in `reference`.
fn check_reads(snapshot: &impl StateView, reference: &Reference) -> Result<(), TestCaseError> {
    let addresses = (0u8..22).map(Address::repeat_byte).chain([ol_primitives::addresses::VESTING]);
    for address in addresses {
        prop_assert_eq!(
            snapshot.account(&address).unwrap(),
            reference.accounts.get(&address).copied()
        );
        for slot in (0u8..9).map(B256::with_last_byte) {
            let expected = reference
                .storage
                .get(&address)
                .and_then(|s| s.get(&slot))
                .copied()
                .unwrap_or_default();
            prop_assert_eq!(snapshot.storage(&address, &slot).unwrap(), expected);
        }
    }
    Ok(())
}

fn check_proof(
    store: &Store,
    root: B256,
    reference: &Reference,
    address: Address,
) -> Result<(), TestCaseError> {
    let slots: Vec<B256> = (0u8..9).map(B256::with_last_byte).collect();
    let proof: AccountProof = store.account_proof(address, &slots).unwrap();
    prop_assert!(verify_account_proof(root, &proof).is_ok(), "proof of {address}");
    let expected = reference.accounts.get(&address).copied().unwrap_or_default();
    prop_assert_eq!(proof.balance, expected.balance);
    prop_assert_eq!(proof.nonce, expected.nonce);
    for slot in &proof.storage_proof {
        let stored = reference
            .storage
            .get(&address)
            .and_then(|s| s.get(&slot.key))
            .copied()
            .unwrap_or_default();
        prop_assert_eq!(slot.value, stored);
    }
    let mut lie = proof.clone();
    lie.balance += U256::from(1);
    prop_assert!(verify_account_proof(root, &lie).is_err());
    if let Some(index) = proof.storage_proof.iter().position(|s| !s.value.is_zero()) {
        let mut lie = proof;
        lie.storage_proof[index].value += U256::from(1);
        prop_assert!(verify_account_proof(root, &lie).is_err());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn committed_roots_match_the_reference(blocks in proptest::collection::vec(changes_strategy(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut reference = Reference::default();
        reference.apply(&genesis_changes());
        let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
        prop_assert_eq!(head.header.state_root, reference.root());
        for changes in &blocks {
            let before = store.snapshot().unwrap();
            let reference_before = reference.clone();
            head = store.commit_block(changes, next_header(&head), &[], &[]).unwrap();
            reference.apply(changes);
            prop_assert_eq!(head.header.state_root, reference.root());
            prop_assert_eq!(store.recompute_state_root().unwrap(), head.header.state_root);
            // The head snapshot reads the flat maps, the older one its trie.
            check_reads(&store.snapshot().unwrap(), &reference)?;
            check_reads(&before, &reference_before)?;
        }
        for i in 0u8..22 {
            check_proof(&store, head.header.state_root, &reference, Address::repeat_byte(i))?;
        }
        check_proof(&store, head.header.state_root, &reference, ol_primitives::addresses::VESTING)?;
        drop(store);
        let reopened = Store::open(dir.path()).unwrap();
        prop_assert_eq!(reopened.head().unwrap(), head);
        check_reads(&reopened.snapshot().unwrap(), &reference)?;
    }
}

#[test]
fn transactions_stay_findable_while_the_index_merges() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    let mut all: Vec<(B256, u64, u64)> = Vec::new();
    for number in 1..=80u64 {
        // Some empty blocks too.
        let count = if number % 7 == 0 { 0 } else { 4 };
        let transactions: Vec<_> = (0..count).map(|i| transaction(number * 10 + i)).collect();
        let receipts: Vec<_> = transactions.iter().map(|tx| receipt_for(tx, 21_000)).collect();
        head = store
            .commit_block(&StateChanges::default(), next_header(&head), &transactions, &receipts)
            .unwrap();
        all.extend(transactions.iter().enumerate().map(|(i, tx)| (tx.hash, number, i as u64)));
        if number == 45 {
            drop(store);
            store = Store::open(dir.path()).unwrap();
        }
        if number % 9 == 0 || number == 80 {
            for (hash, block, index) in &all {
                let (location, tx) = store.transaction(*hash).unwrap().expect("indexed");
                assert_eq!((location.block_number, location.index), (*block, *index));
                assert_eq!(tx.hash, *hash);
                assert_eq!(store.receipt(*hash).unwrap().unwrap().1.transaction_hash, *hash);
            }
        }
    }
    assert_eq!(store.transaction(B256::repeat_byte(0x42)).unwrap(), None);
}

#[test]
fn account_changes_fold_into_the_table_across_reopens() {
    // Hash-derived addresses spread over every key range of the accounts table.
    let addresses: Vec<Address> = (0u64..40)
        .map(|i| Address::from_slice(&alloy_primitives::keccak256(i.to_be_bytes())[12..]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut reference = Reference::default();
    reference.apply(&genesis_changes());
    let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    for number in 1..=70u64 {
        let mut changes = StateChanges::default();
        if number % 11 != 0 {
            for k in 0..5u64 {
                let address = addresses[((number * 7 + k * 3) % 40) as usize];
                changes
                    .accounts
                    .insert(address, Account { nonce: number, ..account(number * 1_000 + k) });
            }
        }
        if number % 5 == 0 {
            let slot = B256::with_last_byte((number % 3) as u8);
            let value = if number % 10 == 0 { U256::ZERO } else { U256::from(number) };
            changes
                .storage
                .entry(addresses[(number % 40) as usize])
                .or_default()
                .insert(slot, value);
        }
        head = store.commit_block(&changes, next_header(&head), &[], &[]).unwrap();
        reference.apply(&changes);
        assert_eq!(head.header.state_root, reference.root(), "block {number}");
        assert_eq!(store.recompute_state_root().unwrap(), head.header.state_root, "block {number}");
        if number % 13 == 0 {
            drop(store);
            store = Store::open(dir.path()).unwrap();
            assert_eq!(store.head().unwrap(), head);
        }
        let snapshot = store.snapshot().unwrap();
        for address in &addresses {
            assert_eq!(
                snapshot.account(address).unwrap(),
                reference.accounts.get(address).copied()
            );
        }
    }
}

/// Every committed block's state, through `snapshot_at`, reads as the
/// reference did after that block; and no block beyond the head has one.
fn check_history(store: &Store, states: &[Reference]) -> Result<(), TestCaseError> {
    for (number, reference) in states.iter().enumerate() {
        let number = number as u64;
        let state = store.snapshot_at(number).unwrap().expect("a committed block");
        prop_assert_eq!(state.header(), &store.header_by_number(number).unwrap().unwrap());
        check_reads(&state, reference)?;
    }
    prop_assert!(store.snapshot_at(states.len() as u64).unwrap().is_none());
    prop_assert!(store.snapshot_at(u64::MAX).unwrap().is_none());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_block_state_is_kept(blocks in proptest::collection::vec(changes_strategy(), 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        prop_assert!(store.snapshot_at(0).unwrap().is_none());
        let mut reference = Reference::default();
        reference.apply(&genesis_changes());
        let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
        let mut states = vec![reference.clone()];
        for changes in &blocks {
            head = store.commit_block(changes, next_header(&head), &[], &[]).unwrap();
            reference.apply(changes);
            states.push(reference.clone());
        }
        check_history(&store, &states)?;
        // The head's view is the head snapshot, and can be proven.
        prop_assert!(store.snapshot_at(head.number()).unwrap().unwrap().as_head().is_some());
        drop(store);
        let reopened = Store::open(dir.path()).unwrap();
        check_history(&reopened, &states)?;
    }
}

#[test]
fn history_survives_merges_and_reopens_over_many_blocks() {
    // Past 2 × 256 blocks: runs merge at levels 1 and 2 (spans of 16 and
    // 256 blocks); some accounts change often, others once.
    let addresses: Vec<Address> = (0u64..40)
        .map(|i| Address::from_slice(&alloy_primitives::keccak256(i.to_be_bytes())[12..]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut reference = Reference::default();
    reference.apply(&genesis_changes());
    let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    let mut states = vec![reference.clone()];
    for number in 1..=530u64 {
        let mut changes = StateChanges::default();
        if number % 11 != 0 {
            for k in 0..3u64 {
                let address = addresses[((number * 7 + k * k * 13) % 37) as usize];
                changes
                    .accounts
                    .insert(address, Account { nonce: number, ..account(number * 1_000 + k) });
            }
        }
        if number == 300 {
            changes.accounts.insert(addresses[39], account(39));
        }
        if number % 3 == 0 {
            let slot = B256::with_last_byte((number % 5) as u8);
            let value = if number % 9 == 0 { U256::ZERO } else { U256::from(number) };
            changes
                .storage
                .entry(Address::repeat_byte((number % 4) as u8))
                .or_default()
                .insert(slot, value);
        }
        head = store.commit_block(&changes, next_header(&head), &[], &[]).unwrap();
        reference.apply(&changes);
        states.push(reference.clone());
        if number == 260 {
            drop(store);
            store = Store::open(dir.path()).unwrap();
        }
    }
    let check = |store: &Store| {
        for (number, expected) in states.iter().enumerate() {
            let state = store.snapshot_at(number as u64).unwrap().unwrap();
            for address in &addresses {
                assert_eq!(
                    state.account(address).unwrap(),
                    expected.accounts.get(address).copied(),
                    "account {address} at block {number}"
                );
            }
            check_reads(&state, expected).unwrap();
        }
    };
    check(&store);
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.head().unwrap(), head);
    check(&reopened);
    assert!(reopened.snapshot_at(531).unwrap().is_none());
}

/// The state of `store`'s head, read back for every address and slot the
/// test touched, with the head and the root recomputed from the rows.
fn check_state(store: &Store, reference: &Reference, head: &SealedHeader) {
    assert_eq!(&store.head().unwrap(), head);
    assert_eq!(head.header.state_root, reference.root());
    assert_eq!(store.recompute_state_root().unwrap(), head.header.state_root);
    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.header(), head);
    for i in 0..=40u8 {
        let address = address(i);
        assert_eq!(
            snapshot.account(&address).unwrap(),
            reference.accounts.get(&address).copied(),
            "{address}"
        );
        for slot in 0..3u8 {
            let slot = B256::with_last_byte(slot);
            let expected = reference
                .storage
                .get(&address)
                .and_then(|slots| slots.get(&slot))
                .copied()
                .unwrap_or_default();
            assert_eq!(snapshot.storage(&address, &slot).unwrap(), expected);
        }
    }
}

/// Block `number`'s changes: a few accounts, a storage word, sometimes code.
fn varied_changes(number: u64) -> StateChanges {
    let mut changes = StateChanges::default();
    for k in 0..3u64 {
        let i = ((number * 5 + k * 7) % 40 + 1) as u8;
        changes.accounts.insert(address(i), Account { nonce: number, ..account(number * 10 + k) });
    }
    let value = if number.is_multiple_of(4) { U256::ZERO } else { U256::from(number) };
    changes
        .storage
        .entry(address((number % 40 + 1) as u8))
        .or_default()
        .insert(B256::with_last_byte((number % 3) as u8), value);
    if number.is_multiple_of(6) {
        let code = Bytes::from(vec![0x60, number as u8, 0x00]);
        let hash = alloy_primitives::keccak256(&code);
        changes.code.insert(hash, code);
        let owner = address(39);
        changes.accounts.insert(owner, Account { code_hash: hash, ..account(number) });
    }
    changes
}

#[test]
fn roll_back_restores_blocks_state_history_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut reference = Reference::default();
    reference.apply(&genesis_changes());
    let mut head = store.init_genesis(&genesis_changes(), genesis_header()).unwrap();
    let commit = |store: &Store, head: &mut SealedHeader, reference: &mut Reference| {
        let number = head.number() + 1;
        let changes = varied_changes(number);
        let transactions: Vec<_> = (0..2).map(|i| transaction(number * 10 + i)).collect();
        let receipts: Vec<_> = transactions.iter().map(|tx| receipt_for(tx, 21_000)).collect();
        *head = store.commit_block(&changes, next_header(head), &transactions, &receipts).unwrap();
        reference.apply(&changes);
        transactions
    };
    for _ in 0..5 {
        commit(&store, &mut head, &mut reference);
    }
    let kept = commit(&store, &mut head, &mut reference);

    // Two nested checkpoints, with many blocks after each (past the
    // recent-hashes and account-log windows, so the index merges and the
    // accounts fold while they are held).
    let outer = store.checkpoint().unwrap();
    assert_eq!(outer.head(), &head);
    let (outer_head, outer_state) = (head.clone(), reference.clone());
    let mut dropped = Vec::new();
    for _ in 0..70 {
        dropped.extend(commit(&store, &mut head, &mut reference));
    }
    let inner = store.checkpoint().unwrap();
    let (inner_head, inner_state) = (head.clone(), reference.clone());
    for _ in 0..70 {
        dropped.extend(commit(&store, &mut head, &mut reference));
    }
    let top = head.number();

    assert_eq!(store.roll_back(&inner).unwrap(), inner_head);
    check_state(&store, &inner_state, &inner_head);
    assert_eq!(store.header_by_number(inner_head.number() + 1).unwrap(), None);

    assert_eq!(store.roll_back(&outer).unwrap(), outer_head);
    check_state(&store, &outer_state, &outer_head);
    for number in outer_head.number() + 1..=top {
        assert_eq!(store.header_by_number(number).unwrap(), None, "block {number}");
        assert_eq!(store.block_receipts(number).unwrap(), None, "block {number}");
        assert!(store.snapshot_at(number).unwrap().is_none(), "block {number}");
    }
    for tx in &dropped {
        assert_eq!(store.transaction(tx.hash).unwrap(), None);
        assert_eq!(store.receipt(tx.hash).unwrap(), None);
    }
    for tx in &kept {
        let (location, _) = store.transaction(tx.hash).unwrap().expect("still indexed");
        assert_eq!(location.block_number, outer_head.number());
    }
    // Code deployed after the checkpoint is gone with it.
    let late_code = varied_changes(outer_head.number().next_multiple_of(6) + 6);
    for hash in late_code.code.keys() {
        assert_eq!(store.code(hash).unwrap(), None);
    }
    // The history below the checkpoint reads as before.
    let old = store.snapshot_at(3).unwrap().unwrap();
    let mut at_three = Reference::default();
    at_three.apply(&genesis_changes());
    for number in 1..=3 {
        at_three.apply(&varied_changes(number));
    }
    for (address, account) in &at_three.accounts {
        assert_eq!(old.account(address).unwrap(), Some(*account));
    }

    // The inner checkpoint was taken after the one restored: void now.
    assert!(store.roll_back(&inner).is_err());
    check_state(&store, &outer_state, &outer_head);

    // The chain goes on from the restored head, and reopens there.
    let mut reference = outer_state;
    let mut head = outer_head;
    for _ in 0..3 {
        commit(&store, &mut head, &mut reference);
    }
    check_state(&store, &reference, &head);
    drop((outer, inner, old));
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check_state(&store, &reference, &head);
}

#[test]
fn overrides_lay_over_reads_without_writing() {
    use ol_storage::{AccountOverride, StateOverrides, StorageOverride};
    let (_dir, store) = initialized();
    let vesting = ol_primitives::addresses::VESTING;
    let (one, two) = (B256::with_last_byte(1), B256::with_last_byte(2));
    let code = Bytes::from_static(&[0x60, 0x00]);
    let mut overrides = StateOverrides::default();
    overrides.insert(
        address(1),
        AccountOverride {
            balance: Some(U256::from(5)),
            code: Some(code.clone()),
            ..Default::default()
        },
    );
    overrides.insert(
        vesting,
        AccountOverride {
            nonce: Some(9),
            storage: Some(StorageOverride::Diff([(two, U256::from(3))].into_iter().collect())),
            ..Default::default()
        },
    );
    overrides.insert(
        address(7),
        AccountOverride {
            storage: Some(StorageOverride::Replace([(two, U256::from(4))].into_iter().collect())),
            ..Default::default()
        },
    );
    let head = store.snapshot_at(0).unwrap().unwrap();
    let seen = head.clone().with_overrides(overrides);
    assert!(seen.as_head().is_none(), "an overridden state is not the provable head");
    let hash = alloy_primitives::keccak256(&code);
    assert_eq!(
        seen.account(&address(1)).unwrap(),
        Some(Account { nonce: 0, balance: U256::from(5), code_hash: hash })
    );
    assert_eq!(seen.code(&hash).unwrap(), Some(code));
    // Untouched fields and accounts read as stored.
    assert_eq!(seen.account(&address(2)).unwrap(), Some(account(2_000)));
    assert_eq!(seen.account(&vesting).unwrap().unwrap().nonce, 9);
    // A diff keeps the other slots; a replacement zeroes them.
    assert_eq!(seen.storage(&vesting, &one).unwrap(), U256::from(77));
    assert_eq!(seen.storage(&vesting, &two).unwrap(), U256::from(3));
    assert_eq!(seen.storage(&address(7), &two).unwrap(), U256::from(4));
    assert_eq!(seen.storage(&address(7), &one).unwrap(), U256::ZERO);
    assert_eq!(seen.account(&address(7)).unwrap(), Some(Account::default()));
    // Nothing was written.
    assert_eq!(head.account(&address(1)).unwrap(), Some(account(1_000)));
    assert_eq!(store.snapshot().unwrap().account(&address(7)).unwrap(), None);
    assert_eq!(store.code(&hash).unwrap(), None);
    assert_eq!(store.recompute_state_root().unwrap(), store.head().unwrap().header.state_root);
}

#[test]
fn checkpoints_are_not_kept_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = initialized_in(dir.path());
    let genesis = store.head().unwrap();
    let checkpoint = store.checkpoint().unwrap();
    let block = store.commit_block(&genesis_changes(), next_header(&genesis), &[], &[]).unwrap();
    // The store closes with the checkpoint still held; nothing of it was
    // written, so the reopened store is at the later block.
    drop(store);
    drop(checkpoint);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap(), block);
    assert_eq!(store.recompute_state_root().unwrap(), block.header.state_root);
}
