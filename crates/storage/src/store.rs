//! The node's store: one redb file, one write transaction per block.

use crate::{
    codec::{self, SCHEMA_VERSION},
    commitment::{AccountLeaf, StateTrie, Word, touched_addresses},
    error::{Context, StorageError},
    proof::AccountProof,
    trie::Trie,
};
use alloy_consensus::{EMPTY_ROOT_HASH, Header};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use ol_ledger::{Account, StateChanges, StateError, StateView};
use ol_primitives::{Block, Receipt, RecoveredTransaction, SealedHeader};
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};
use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "chain.redb";

/// `schema` → version (u32, big-endian). Its type never changes, so any
/// version can read another's version number.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SCHEMA_KEY: &str = "schema";
/// Block number → header RLP.
const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");
/// Block hash → block number.
const BLOCK_NUMBERS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_numbers");
/// (block number, index) → sender and envelope.
const TRANSACTIONS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("transactions");
/// (block number, index) → receipt.
const RECEIPTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("receipts");
/// Transaction hash → (block number, index).
const TX_LOCATIONS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("tx_locations");
/// Address → account.
const ACCOUNTS: TableDefinition<&[u8; 20], &[u8]> = TableDefinition::new("accounts");
/// Address ‖ slot → non-zero word.
const STORAGE: TableDefinition<&[u8; 52], &[u8]> = TableDefinition::new("storage");

/// Where a transaction was included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// The block's number.
    pub block_number: u64,
    /// The block's hash.
    pub block_hash: B256,
    /// Position in the block, from 0.
    pub index: u64,
}

/// The head block and the state after it: one immutable version.
#[derive(Debug)]
struct Committed {
    header: SealedHeader,
    state: StateTrie,
}

struct Inner {
    path: PathBuf,
    db: Database,
    /// The latest committed version; `None` before genesis.
    head: RwLock<Option<Arc<Committed>>>,
    /// Serialises writers, so the head read at the start of a commit is still
    /// the head when it ends.
    writer: Mutex<()>,
}

/// The node's embedded storage: blocks, transactions, receipts, the state
/// and its Merkle-Patricia commitment, in one redb file.
///
/// Cheap to clone (shared); `Send + Sync`. Writes are serialised; reads run
/// concurrently with them and see whole blocks only.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.current().map(|c| c.header.number());
        f.debug_struct("Store").field("path", &self.inner.path).field("head", &head).finish()
    }
}

/// A consistent view of the state at one block: what the ledger executes
/// against. Holding one costs nothing but memory kept alive; later commits
/// do not change what it sees.
#[derive(Debug, Clone)]
pub struct StateSnapshot {
    committed: Arc<Committed>,
}

impl StateSnapshot {
    /// The header of the block whose state this is.
    pub fn header(&self) -> &SealedHeader {
        &self.committed.header
    }

    /// The state root of this state.
    pub fn state_root(&self) -> B256 {
        self.committed.state.root()
    }

    /// The state root `changes` would give on top of this state, without
    /// writing anything (dry runs).
    pub fn state_root_after(&self, changes: &StateChanges) -> B256 {
        self.committed.state.apply(changes).root()
    }

    /// EIP-1186 proof of `address` and `slots` against this state's root.
    pub fn account_proof(&self, address: Address, slots: &[B256]) -> AccountProof {
        AccountProof::new(address, slots, self.committed.state.proof(&address, slots))
    }
}

impl StateView for StateSnapshot {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        Ok(self.committed.state.account(address))
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        Ok(self.committed.state.storage(address, slot))
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, file `dir/chain.redb`.
    /// Refuses a file of another schema version, and a file whose stored
    /// state does not hash to its head block's state root.
    pub fn open(dir: &Path) -> Result<Store, StorageError> {
        std::fs::create_dir_all(dir)
            .context(format_args!("creating data directory {}", dir.display()))?;
        let path = dir.join(DATABASE_FILE);
        let db = Database::create(&path).context(format_args!("opening {}", path.display()))?;
        prepare_schema(&db, &path)?;
        let head = load_head(&db)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                db,
                head: RwLock::new(head.map(Arc::new)),
                writer: Mutex::new(()),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// True once the genesis block is written.
    pub fn is_initialized(&self) -> Result<bool, StorageError> {
        Ok(self.current().is_some())
    }

    /// Writes block 0: the genesis state and `header` with its state root
    /// filled in (transactions and receipts roots set to the empty root). If
    /// the store is already initialized, checks that this genesis gives the
    /// stored block 0 and returns it ([`StorageError::GenesisMismatch`]
    /// otherwise).
    pub fn init_genesis(
        &self,
        state: &StateChanges,
        header: Header,
    ) -> Result<SealedHeader, StorageError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if header.number != 0 {
            return Err(StorageError::GenesisNumber(header.number));
        }
        let genesis_state = StateTrie::empty().apply(state);
        let header = Header {
            state_root: genesis_state.root(),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            ..header
        };
        let sealed = SealedHeader::seal(header);
        if self.current().is_some() {
            let stored = self.header_by_number(0)?.ok_or_else(|| {
                StorageError::Corrupt("block 0 is missing below a head block".into())
            })?;
            if stored.hash != sealed.hash {
                return Err(StorageError::GenesisMismatch {
                    stored: stored.hash,
                    computed: sealed.hash,
                });
            }
            return Ok(stored);
        }
        let txn = self.inner.db.begin_write().context("starting the genesis write")?;
        write_state(&txn, &StateTrie::empty(), state)?;
        write_header(&txn, &sealed)?;
        txn.commit().context("committing the genesis block")?;
        self.publish(Committed { header: sealed.clone(), state: genesis_state });
        Ok(sealed)
    }

    /// The latest committed header.
    pub fn head(&self) -> Result<SealedHeader, StorageError> {
        Ok(self.committed()?.header.clone())
    }

    /// A consistent view of the state at the head.
    pub fn snapshot(&self) -> Result<StateSnapshot, StorageError> {
        Ok(StateSnapshot { committed: self.committed()? })
    }

    /// The state root `changes` would give on top of the head, without
    /// writing anything.
    pub fn state_root_after(&self, changes: &StateChanges) -> Result<B256, StorageError> {
        Ok(self.snapshot()?.state_root_after(changes))
    }

    /// Commits one block atomically: applies `changes`, computes the new state
    /// root, calls `seal(state_root)` for the header (the caller fills every
    /// other field), then writes the header, the transactions with their
    /// senders, the receipts and the indexes in one write transaction.
    ///
    /// The header must extend the head (number head + 1, parent the head's
    /// hash) and carry the root it was given; otherwise, or on any failure,
    /// nothing is written and the head is unchanged.
    pub fn commit_block(
        &self,
        changes: &StateChanges,
        seal: impl FnOnce(B256) -> Header,
        transactions: &[RecoveredTransaction],
        receipts: &[Receipt],
    ) -> Result<SealedHeader, StorageError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let head = self.committed()?;
        let number = head.header.number() + 1;
        if transactions.len() != receipts.len() {
            return Err(StorageError::ReceiptCount {
                number,
                transactions: transactions.len(),
                receipts: receipts.len(),
            });
        }
        let txn = self
            .inner
            .db
            .begin_write()
            .context(format_args!("starting the write of block {number}"))?;
        // The trie is rehashed on its own thread while this one writes rows.
        let t0 = std::time::Instant::now();
        let (state, written) = std::thread::scope(|scope| {
            let trie = scope.spawn(|| { let t = std::time::Instant::now(); let s = head.state.apply(changes); eprintln!("PROFILE trie {:?}", t.elapsed()); s });
            let t = std::time::Instant::now();
            let written = write_state(&txn, &head.state, changes);
            eprintln!("PROFILE write_state {:?}", t.elapsed());
            let t = std::time::Instant::now();
            let written = written.and_then(|()| write_body(&txn, number, transactions, receipts));
            eprintln!("PROFILE write_body {:?}", t.elapsed());
            match trie.join() {
                Ok(state) => (state, written),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        written?;
        let root = state.root();
        let header = seal(root);
        if header.number != number || header.parent_hash != head.header.hash {
            return Err(StorageError::NotNextBlock {
                number: header.number,
                parent_hash: header.parent_hash,
                expected_number: number,
                head_hash: head.header.hash,
            });
        }
        if header.state_root != root {
            return Err(StorageError::StateRootMismatch {
                number,
                header: header.state_root,
                computed: root,
            });
        }
        let sealed = SealedHeader::seal(header);
        write_header(&txn, &sealed)?;
        eprintln!("PROFILE before commit {:?}", t0.elapsed());
        let t = std::time::Instant::now();
        txn.commit().context(format_args!("committing block {number}"))?;
        eprintln!("PROFILE commit {:?}", t.elapsed());
        self.publish(Committed { header: sealed.clone(), state });
        Ok(sealed)
    }

    /// The header of block `n`.
    pub fn header_by_number(&self, n: u64) -> Result<Option<SealedHeader>, StorageError> {
        let txn = self.read()?;
        read_header(&txn, n)
    }

    /// The header with hash `h`.
    pub fn header_by_hash(&self, h: B256) -> Result<Option<SealedHeader>, StorageError> {
        let txn = self.read()?;
        let Some(number) = block_number(&txn, &h)? else {
            return Ok(None);
        };
        let header = read_header(&txn, number)?.ok_or_else(|| {
            StorageError::Corrupt(format!(
                "block {h} is indexed at number {number}, which has no header"
            ))
        })?;
        if header.hash != h {
            return Err(StorageError::Corrupt(format!(
                "block {h} is indexed at number {number}, whose header hashes to {}",
                header.hash
            )));
        }
        Ok(Some(header))
    }

    /// Block `n` with its transactions.
    pub fn block_by_number(&self, n: u64) -> Result<Option<Block>, StorageError> {
        let txn = self.read()?;
        let Some(header) = read_header(&txn, n)? else {
            return Ok(None);
        };
        let transactions =
            read_rows(&txn, TRANSACTIONS, n, "transaction", codec::decode_transaction)?;
        Ok(Some(Block { header, transactions }))
    }

    /// The block with hash `h`.
    pub fn block_by_hash(&self, h: B256) -> Result<Option<Block>, StorageError> {
        let number = {
            let txn = self.read()?;
            block_number(&txn, &h)?
        };
        match number {
            Some(number) => self.block_by_number(number),
            None => Ok(None),
        }
    }

    /// The receipts of block `n`, in transaction order.
    pub fn block_receipts(&self, n: u64) -> Result<Option<Vec<Receipt>>, StorageError> {
        let txn = self.read()?;
        if read_header(&txn, n)?.is_none() {
            return Ok(None);
        }
        Ok(Some(read_rows(&txn, RECEIPTS, n, "receipt", codec::decode_receipt)?))
    }

    /// The transaction with hash `hash` and where it was included.
    pub fn transaction(
        &self,
        hash: B256,
    ) -> Result<Option<(TxLocation, RecoveredTransaction)>, StorageError> {
        self.indexed_row(hash, TRANSACTIONS, "transaction", codec::decode_transaction)
    }

    /// The receipt of transaction `hash` and where it was included.
    pub fn receipt(&self, hash: B256) -> Result<Option<(TxLocation, Receipt)>, StorageError> {
        self.indexed_row(hash, RECEIPTS, "receipt", codec::decode_receipt)
    }

    /// EIP-1186 proof of `address` and `slots` against the head state root.
    pub fn account_proof(
        &self,
        address: Address,
        slots: &[B256],
    ) -> Result<AccountProof, StorageError> {
        Ok(self.snapshot()?.account_proof(address, slots))
    }

    /// Recomputes the state root from scratch from the stored accounts and
    /// storage, with `alloy_trie`'s `HashBuilder` and none of the in-memory
    /// tries: an independent check of the head header.
    pub fn recompute_state_root(&self) -> Result<B256, StorageError> {
        let txn = self.read()?;
        let storage = read_all_storage(&txn)?;
        let accounts = read_all_accounts(&txn)?;
        let mut storage_roots: BTreeMap<Address, B256> = storage
            .into_iter()
            .map(|(address, slots)| (address, storage_root_unhashed(slots)))
            .collect();
        let entries: Vec<(Address, TrieAccount)> = accounts
            .into_iter()
            .map(|(address, account)| {
                let storage_root = storage_roots.remove(&address).unwrap_or(EMPTY_ROOT_HASH);
                (
                    address,
                    TrieAccount::new(
                        account.nonce,
                        account.balance,
                        storage_root,
                        account.code_hash,
                    ),
                )
            })
            .collect();
        if let Some(address) = storage_roots.keys().next() {
            return Err(StorageError::Corrupt(format!(
                "storage of {address} is stored without its account"
            )));
        }
        Ok(state_root_unhashed(entries))
    }

    fn current(&self) -> Option<Arc<Committed>> {
        self.inner.head.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn committed(&self) -> Result<Arc<Committed>, StorageError> {
        self.current().ok_or(StorageError::NotInitialized)
    }

    fn publish(&self, committed: Committed) {
        *self.inner.head.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(committed));
    }

    fn read(&self) -> Result<ReadTransaction, StorageError> {
        self.inner.db.begin_read().context("starting a read")
    }

    fn indexed_row<T>(
        &self,
        hash: B256,
        table: TableDefinition<(u64, u64), &[u8]>,
        what: &str,
        decode: impl Fn(&[u8]) -> codec::DecodeResult<T>,
    ) -> Result<Option<(TxLocation, T)>, StorageError> {
        let txn = self.read()?;
        let locations = txn.open_table(TX_LOCATIONS).context("opening the transaction index")?;
        let Some(location) =
            locations.get(&hash.0).context(format_args!("looking up transaction {hash}"))?
        else {
            return Ok(None);
        };
        let (block_number, index) = codec::decode_location(location.value()).map_err(|e| {
            StorageError::corrupt(format_args!("location of transaction {hash}"), e)
        })?;
        let rows = txn.open_table(table).context(format_args!("opening the {what} table"))?;
        let row = rows
            .get((block_number, index))
            .context(format_args!("reading {what} {block_number}/{index}"))?
            .ok_or_else(|| {
                StorageError::Corrupt(format!(
                    "transaction {hash} is indexed at {block_number}/{index}, which has no {what}"
                ))
            })?;
        let value = decode(row.value())
            .map_err(|e| StorageError::corrupt(format_args!("{what} {block_number}/{index}"), e))?;
        let header = read_header(&txn, block_number)?.ok_or_else(|| {
            StorageError::Corrupt(format!(
                "transaction {hash} is indexed in block {block_number}, which has no header"
            ))
        })?;
        Ok(Some((TxLocation { block_number, block_hash: header.hash, index }, value)))
    }
}

/// Checks (or, in a new file, writes) the schema version and creates every
/// table, so that readers never meet a missing one.
fn prepare_schema(db: &Database, path: &Path) -> Result<(), StorageError> {
    let txn = db.begin_write().context(format_args!("preparing {}", path.display()))?;
    {
        let mut meta = txn.open_table(META).context("opening the meta table")?;
        let found = match meta.get(SCHEMA_KEY).context("reading the schema version")? {
            Some(bytes) => Some(
                codec::decode_version(bytes.value())
                    .map_err(|e| StorageError::corrupt("schema version", e))?,
            ),
            None => None,
        };
        match found {
            Some(found) if found != SCHEMA_VERSION => {
                return Err(StorageError::SchemaMismatch {
                    path: path.to_owned(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            Some(_) => {}
            None => {
                let existing = txn.list_tables().context("listing tables")?.count();
                // Only the meta table itself may exist in a file without a version.
                if existing > 1 {
                    return Err(StorageError::Corrupt(format!(
                        "{} has tables but no schema version: not an OpenLedger store",
                        path.display()
                    )));
                }
                meta.insert(SCHEMA_KEY, SCHEMA_VERSION.to_be_bytes().as_slice())
                    .context("writing the schema version")?;
            }
        }
    }
    txn.open_table(HEADERS).context("creating the headers table")?;
    txn.open_table(BLOCK_NUMBERS).context("creating the block index")?;
    txn.open_table(TRANSACTIONS).context("creating the transactions table")?;
    txn.open_table(RECEIPTS).context("creating the receipts table")?;
    txn.open_table(TX_LOCATIONS).context("creating the transaction index")?;
    txn.open_table(ACCOUNTS).context("creating the accounts table")?;
    txn.open_table(STORAGE).context("creating the storage table")?;
    txn.commit().context(format_args!("preparing {}", path.display()))
}

/// Reads the head header and rebuilds the state tries from the stored
/// accounts and storage, checking them against the head's state root.
fn load_head(db: &Database) -> Result<Option<Committed>, StorageError> {
    let txn = db.begin_read().context("starting a read")?;
    let headers = txn.open_table(HEADERS).context("opening the headers table")?;
    let Some((number, bytes)) = headers.last().context("reading the head header")? else {
        return Ok(None);
    };
    let number = number.value();
    let header = codec::decode_header(bytes.value())
        .map_err(|e| StorageError::corrupt(format_args!("header {number}"), e))?;
    let mut storage_tries: BTreeMap<Address, Trie<Word>> = read_all_storage(&txn)?
        .into_iter()
        .map(|(address, slots)| {
            let mut leaves: Vec<(B256, Word)> =
                slots.into_iter().map(|(slot, value)| (keccak256(slot), Word(value))).collect();
            leaves.sort_unstable_by_key(|(key, _)| *key);
            (address, Trie::from_sorted(&leaves))
        })
        .collect();
    let leaves: Vec<(B256, AccountLeaf)> = read_all_accounts(&txn)?
        .into_iter()
        .map(|(address, account)| {
            let storage = storage_tries.remove(&address).unwrap_or_default();
            (keccak256(address), AccountLeaf { account, storage })
        })
        .collect();
    if let Some(address) = storage_tries.keys().next() {
        return Err(StorageError::Corrupt(format!(
            "storage of {address} is stored without its account"
        )));
    }
    let state = StateTrie::from_leaves(leaves);
    if state.root() != header.header.state_root {
        return Err(StorageError::Corrupt(format!(
            "the stored state hashes to {}, but head block {number} has state root {}",
            state.root(),
            header.header.state_root
        )));
    }
    Ok(Some(Committed { header, state }))
}

fn read_all_accounts(txn: &ReadTransaction) -> Result<Vec<(Address, Account)>, StorageError> {
    let table = txn.open_table(ACCOUNTS).context("opening the accounts table")?;
    let mut out =
        Vec::with_capacity(usize::try_from(table.len().context("counting accounts")?).unwrap_or(0));
    for row in table.iter().context("reading accounts")? {
        let (key, value) = row.context("reading accounts")?;
        let address = Address::from(*key.value());
        let account = codec::decode_account(value.value())
            .map_err(|e| StorageError::corrupt(format_args!("account {address}"), e))?;
        out.push((address, account));
    }
    Ok(out)
}

fn read_all_storage(
    txn: &ReadTransaction,
) -> Result<BTreeMap<Address, Vec<(B256, U256)>>, StorageError> {
    let table = txn.open_table(STORAGE).context("opening the storage table")?;
    let mut out: BTreeMap<Address, Vec<(B256, U256)>> = BTreeMap::new();
    for row in table.iter().context("reading storage")? {
        let (key, value) = row.context("reading storage")?;
        let (address, slot) = codec::decode_storage_key(key.value())
            .map_err(|e| StorageError::corrupt("storage key", e))?;
        let word = codec::decode_word(value.value()).map_err(|e| {
            StorageError::corrupt(format_args!("storage of {address} slot {slot}"), e)
        })?;
        if word.is_zero() {
            return Err(StorageError::Corrupt(format!(
                "storage of {address} slot {slot} holds a zero word"
            )));
        }
        out.entry(address).or_default().push((slot, word));
    }
    Ok(out)
}

fn read_header(txn: &ReadTransaction, n: u64) -> Result<Option<SealedHeader>, StorageError> {
    let headers = txn.open_table(HEADERS).context("opening the headers table")?;
    let Some(bytes) = headers.get(n).context(format_args!("reading header {n}"))? else {
        return Ok(None);
    };
    let header = codec::decode_header(bytes.value())
        .map_err(|e| StorageError::corrupt(format_args!("header {n}"), e))?;
    if header.number() != n {
        return Err(StorageError::Corrupt(format!(
            "header stored as block {n} has number {}",
            header.number()
        )));
    }
    Ok(Some(header))
}

fn block_number(txn: &ReadTransaction, hash: &B256) -> Result<Option<u64>, StorageError> {
    let index = txn.open_table(BLOCK_NUMBERS).context("opening the block index")?;
    Ok(index.get(&hash.0).context(format_args!("looking up block {hash}"))?.map(|n| n.value()))
}

/// Every row of block `n` in `table`, in index order.
fn read_rows<T>(
    txn: &ReadTransaction,
    table: TableDefinition<(u64, u64), &[u8]>,
    n: u64,
    what: &str,
    decode: impl Fn(&[u8]) -> codec::DecodeResult<T>,
) -> Result<Vec<T>, StorageError> {
    let rows = txn.open_table(table).context(format_args!("opening the {what} table"))?;
    let mut out = Vec::new();
    for row in
        rows.range((n, 0)..=(n, u64::MAX)).context(format_args!("reading block {n}'s {what}s"))?
    {
        let (key, value) = row.context(format_args!("reading block {n}'s {what}s"))?;
        let (_, index) = key.value();
        if index != out.len() as u64 {
            return Err(StorageError::Corrupt(format!(
                "block {n}: {what} {} is missing",
                out.len()
            )));
        }
        out.push(
            decode(value.value())
                .map_err(|e| StorageError::corrupt(format_args!("{what} {n}/{index}"), e))?,
        );
    }
    Ok(out)
}

/// Writes the accounts and storage `changes` leave on top of `state`.
fn write_state(
    txn: &WriteTransaction,
    state: &StateTrie,
    changes: &StateChanges,
) -> Result<(), StorageError> {
    {
        let mut accounts = txn.open_table(ACCOUNTS).context("opening the accounts table")?;
        // Sorted keys keep the B-tree inserts local.
        for address in touched_addresses(changes) {
            let account = state.account_after(changes, &address);
            accounts
                .insert(&address.0.0, codec::encode_account(&account).as_slice())
                .context(format_args!("writing account {address}"))?;
        }
    }
    let mut slots: Vec<([u8; 52], U256)> = changes
        .storage
        .iter()
        .flat_map(|(address, slots)| {
            slots.iter().map(|(slot, value)| (codec::storage_key(address, slot), *value))
        })
        .collect();
    slots.sort_unstable_by_key(|(key, _)| *key);
    let mut storage = txn.open_table(STORAGE).context("opening the storage table")?;
    for (key, value) in slots {
        let result = if value.is_zero() {
            storage.remove(&key).map(drop)
        } else {
            storage.insert(&key, value.to_be_bytes::<32>().as_slice()).map(drop)
        };
        result.context("writing storage")?;
    }
    Ok(())
}

/// Writes a block's transactions, receipts and transaction index.
fn write_body(
    txn: &WriteTransaction,
    number: u64,
    transactions: &[RecoveredTransaction],
    receipts: &[Receipt],
) -> Result<(), StorageError> {
    {
        let mut table = txn.open_table(TRANSACTIONS).context("opening the transactions table")?;
        for (index, transaction) in transactions.iter().enumerate() {
            table
                .insert((number, index as u64), codec::encode_transaction(transaction).as_slice())
                .context(format_args!("writing transaction {number}/{index}"))?;
        }
    }
    {
        let mut table = txn.open_table(RECEIPTS).context("opening the receipts table")?;
        for (index, receipt) in receipts.iter().enumerate() {
            table
                .insert((number, index as u64), codec::encode_receipt(receipt).as_slice())
                .context(format_args!("writing receipt {number}/{index}"))?;
        }
    }
    let mut locations: Vec<(B256, u64)> =
        transactions.iter().enumerate().map(|(index, tx)| (tx.hash, index as u64)).collect();
    locations.sort_unstable_by_key(|(hash, _)| *hash);
    let mut table = txn.open_table(TX_LOCATIONS).context("opening the transaction index")?;
    for (hash, index) in locations {
        table
            .insert(&hash.0, codec::encode_location(number, index).as_slice())
            .context(format_args!("indexing transaction {hash}"))?;
    }
    Ok(())
}

fn write_header(txn: &WriteTransaction, header: &SealedHeader) -> Result<(), StorageError> {
    let number = header.number();
    txn.open_table(HEADERS)
        .context("opening the headers table")?
        .insert(number, codec::encode_header(&header.header).as_slice())
        .context(format_args!("writing header {number}"))?;
    txn.open_table(BLOCK_NUMBERS)
        .context("opening the block index")?
        .insert(&header.hash.0, number)
        .context(format_args!("indexing block {number}"))?;
    Ok(())
}
