//! The node's store: one redb file, one write transaction per block.

use crate::{
    account_log::PendingAccounts,
    codec::{self, SCHEMA_VERSION},
    commitment::{AccountLeaf, StateTrie, Word, touched_addresses},
    error::{Context, StorageError},
    flat_state::{FlatState, SharedFlatState},
    history,
    overrides::StateOverrides,
    proof::AccountProof,
    trie::Trie,
    tx_index::{self, RecentHashes},
};
use alloy_consensus::{EMPTY_ROOT_HASH, Header};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256, map::AddressMap};
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
/// Block number → its transactions (with senders), one value per block.
const TRANSACTIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("transactions");
/// Block number → its receipts, one value per block.
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// Transaction hash → (block number, index), for every transaction not in a
/// recent block (see `tx_index`).
const TX_LOCATIONS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("tx_locations");
/// Block number → its transaction hashes (32 bytes each, in order), for the
/// recent blocks not yet fully merged into `TX_LOCATIONS`.
const RECENT_TX_HASHES: TableDefinition<u64, &[u8]> = TableDefinition::new("recent_tx_hashes");
/// Address → account, as of the last fold of its key range: the state is
/// this table with the pending account-changes rows laid over it (see
/// `account_log`).
const ACCOUNTS: TableDefinition<&[u8; 20], &[u8]> = TableDefinition::new("accounts");
/// Block number → the accounts it changed, with their new values, for the
/// recent blocks not yet fully folded into `ACCOUNTS`.
const ACCOUNT_CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("account_changes");
/// Address ‖ slot → non-zero word.
const STORAGE: TableDefinition<&[u8; 52], &[u8]> = TableDefinition::new("storage");
/// keccak256(code) → contract code (content-addressed, never rewritten).
const CODE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("code");
/// Block number → the consensus engine's commit certificate of that block
/// (opaque bytes: the signatures that decided it), for block sync.
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");

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

/// The head block, the state after it, the recent transaction hashes and
/// the account changes not yet folded: one immutable version.
#[derive(Debug)]
struct Committed {
    header: SealedHeader,
    state: StateTrie,
    recent: RecentHashes,
    pending_accounts: PendingAccounts,
}

struct Inner {
    path: PathBuf,
    db: Database,
    /// The latest committed version; `None` before genesis.
    head: RwLock<Option<Arc<Committed>>>,
    /// The head state as flat maps, for fast reads at the head.
    flat: Arc<SharedFlatState>,
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

/// A point the store can be rolled back to ([`Store::checkpoint`],
/// [`Store::roll_back`]): a redb ephemeral savepoint with the head it was
/// taken at. It lives in this process only (nothing of it is written, so
/// none survives a restart), and while it is held redb frees no page that
/// later blocks replace: dev chains only, dropped when no longer needed.
pub struct Checkpoint {
    savepoint: redb::Savepoint,
    head: SealedHeader,
}

impl Checkpoint {
    /// The head block at the checkpoint.
    pub fn head(&self) -> &SealedHeader {
        &self.head
    }
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint").field("head", &self.head.number()).finish_non_exhaustive()
    }
}

/// A consistent view of the state at one block: what the ledger executes
/// against. Holding one costs nothing but memory kept alive; later commits
/// do not change what it sees.
#[derive(Debug, Clone)]
pub struct StateSnapshot {
    committed: Arc<Committed>,
    flat: Arc<SharedFlatState>,
    /// Where contract code is read (code never changes once written).
    store: Store,
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
        let head = &self.committed.header.hash;
        Ok(match self.flat.account(head, address) {
            Some(account) => account,
            None => self.committed.state.account(address),
        })
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        let head = &self.committed.header.hash;
        Ok(match self.flat.storage(head, address, slot) {
            Some(word) => word,
            None => self.committed.state.storage(address, slot),
        })
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.store.code(code_hash).map_err(|e| StateError(e.to_string()))
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.store.ancestor_hash(self.header(), number).map_err(|e| StateError(e.to_string()))
    }
}

/// The state as it was right after one committed block, from
/// [`Store::snapshot_at`]; implements [`StateView`]. At the head it reads
/// the head's [`StateSnapshot`]; at an older block, the history the store
/// keeps of every change (one read transaction per read, a few B-tree
/// seeks each). Later commits do not change what it sees.
#[derive(Debug, Clone)]
pub struct HistoricalState {
    header: SealedHeader,
    source: Source,
    /// Laid over every read ([`HistoricalState::with_overrides`]).
    overrides: Option<Arc<StateOverrides>>,
}

#[derive(Debug, Clone)]
enum Source {
    Head(StateSnapshot),
    Archived(Store),
}

impl HistoricalState {
    /// The header of the block whose state this is.
    pub fn header(&self) -> &SealedHeader {
        &self.header
    }

    /// The head snapshot, when this block was the head as it was taken
    /// (only the head state can be proven, see [`StateSnapshot::account_proof`]).
    /// `None` for a state with overrides: the snapshot does not hold them.
    pub fn as_head(&self) -> Option<&StateSnapshot> {
        match &self.source {
            Source::Head(snapshot) if self.overrides.is_none() => Some(snapshot),
            Source::Head(_) | Source::Archived(_) => None,
        }
    }

    /// This state as one call sees it with `overrides` laid over it
    /// (`eth_call`'s state override set); nothing is written.
    pub fn with_overrides(self, overrides: StateOverrides) -> Self {
        let overrides = (!overrides.is_empty()).then(|| Arc::new(overrides));
        Self { overrides, ..self }
    }

    fn archived_account(
        store: &Store,
        number: u64,
        address: &Address,
    ) -> Result<Option<Account>, StorageError> {
        let txn = store.read()?;
        let Some(bytes) = history::ACCOUNTS.find(&txn, number, address.as_slice())? else {
            return Ok(None);
        };
        codec::decode_account(&bytes).map(Some).map_err(|e| {
            StorageError::corrupt(format_args!("account {address} at block {number}"), e)
        })
    }

    fn archived_storage(
        store: &Store,
        number: u64,
        address: &Address,
        slot: &B256,
    ) -> Result<U256, StorageError> {
        let txn = store.read()?;
        let key = codec::storage_key(address, slot);
        let Some(bytes) = history::STORAGE.find(&txn, number, &key)? else {
            return Ok(U256::ZERO);
        };
        codec::decode_history_word(&bytes).map_err(|e| {
            StorageError::corrupt(
                format_args!("storage of {address} slot {slot} at block {number}"),
                e,
            )
        })
    }
}

impl From<StateSnapshot> for HistoricalState {
    fn from(snapshot: StateSnapshot) -> Self {
        Self { header: snapshot.header().clone(), source: Source::Head(snapshot), overrides: None }
    }
}

impl StateView for HistoricalState {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        let stored = match &self.source {
            Source::Head(snapshot) => snapshot.account(address)?,
            Source::Archived(store) => Self::archived_account(store, self.header.number(), address)
                .map_err(|e| StateError(e.to_string()))?,
        };
        Ok(match &self.overrides {
            Some(overrides) => overrides.account(address, stored),
            None => stored,
        })
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        if let Some(word) = self.overrides.as_ref().and_then(|o| o.storage(address, slot)) {
            return Ok(word);
        }
        match &self.source {
            Source::Head(snapshot) => snapshot.storage(address, slot),
            Source::Archived(store) => {
                Self::archived_storage(store, self.header.number(), address, slot)
                    .map_err(|e| StateError(e.to_string()))
            }
        }
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        if let Some(code) = self.overrides.as_ref().and_then(|o| o.code(code_hash)) {
            return Ok(Some(code.clone()));
        }
        let store = match &self.source {
            Source::Head(snapshot) => &snapshot.store,
            Source::Archived(store) => store,
        };
        store.code(code_hash).map_err(|e| StateError(e.to_string()))
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        let store = match &self.source {
            Source::Head(snapshot) => &snapshot.store,
            Source::Archived(store) => store,
        };
        store.ancestor_hash(&self.header, number).map_err(|e| StateError(e.to_string()))
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
        let (head, flat) = match load_head(&db)? {
            Some((committed, flat)) => (Some(Arc::new(committed)), flat),
            None => (None, FlatState::default()),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                db,
                head: RwLock::new(head),
                flat: Arc::new(SharedFlatState::new(flat)),
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
        let accounts = final_accounts(&StateTrie::empty(), state);
        let slots = sorted_slots(state);
        write_accounts(&txn, &accounts)?;
        write_storage(&txn, &slots)?;
        write_code(&txn, state)?;
        write_history(&txn, 0, &accounts, &slots)?;
        write_header(&txn, &sealed)?;
        txn.commit().context("committing the genesis block")?;
        let mut flat = FlatState::default();
        flat.advance(sealed.hash, accounts, state);
        self.inner.flat.replace(flat);
        self.publish(Committed {
            header: sealed.clone(),
            state: genesis_state,
            recent: RecentHashes::default(),
            pending_accounts: PendingAccounts::default(),
        });
        Ok(sealed)
    }

    /// The latest committed header.
    pub fn head(&self) -> Result<SealedHeader, StorageError> {
        Ok(self.committed()?.header.clone())
    }

    /// A consistent view of the state at the head.
    pub fn snapshot(&self) -> Result<StateSnapshot, StorageError> {
        Ok(StateSnapshot {
            committed: self.committed()?,
            flat: self.inner.flat.clone(),
            store: self.clone(),
        })
    }

    /// A read-only view of the state as it was right after block `number`
    /// (`None` if no such block is committed). At the head this is the head
    /// snapshot; older blocks read the stored history.
    pub fn snapshot_at(&self, number: u64) -> Result<Option<HistoricalState>, StorageError> {
        let Some(committed) = self.current() else {
            return Ok(None);
        };
        let head = committed.header.number();
        if number > head {
            return Ok(None);
        }
        if number == head {
            let snapshot =
                StateSnapshot { committed, flat: self.inner.flat.clone(), store: self.clone() };
            return Ok(Some(snapshot.into()));
        }
        let header = self.header_by_number(number)?.ok_or_else(|| {
            StorageError::Corrupt(format!("block {number} is missing below the head {head}"))
        })?;
        Ok(Some(HistoricalState {
            header,
            source: Source::Archived(self.clone()),
            overrides: None,
        }))
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
        self.commit_block_certified(changes, seal, transactions, receipts, None)
    }

    /// As [`Store::commit_block`], also writing `certificate` (the consensus
    /// engine's proof that the block was decided, opaque to the store) in
    /// the same write transaction, so a block and its certificate are
    /// never found apart.
    pub fn commit_block_certified(
        &self,
        changes: &StateChanges,
        seal: impl FnOnce(B256) -> Header,
        transactions: &[RecoveredTransaction],
        receipts: &[Receipt],
        certificate: Option<&[u8]>,
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
        // Rows are written on their own thread while this one rehashes the
        // trie (on this thread's rayon pool, if it has one).
        let (state, written) = std::thread::scope(|scope| {
            let rows = scope.spawn(|| {
                let accounts = final_accounts(&head.state, changes);
                let slots = sorted_slots(changes);
                let pending = self.write_account_changes(&txn, &head, number, &accounts)?;
                write_storage(&txn, &slots)?;
                write_code(&txn, changes)?;
                write_history(&txn, number, &accounts, &slots)?;
                let recent = write_body(&txn, &head.recent, number, transactions, receipts)?;
                Ok::<_, StorageError>((accounts, pending, recent))
            });
            let state = head.state.apply(changes);
            match rows.join() {
                Ok(written) => (state, written),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        let (accounts, pending_accounts, recent) = written?;
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
        if let Some(certificate) = certificate {
            txn.open_table(CERTIFICATES)
                .context("opening the certificates table")?
                .insert(number, certificate)
                .context(format_args!("writing the certificate of block {number}"))?;
        }
        txn.commit().context(format_args!("committing block {number}"))?;
        // Before publishing: a snapshot of the new head must find the maps
        // already moved to it.
        self.inner.flat.advance(head.header.hash, sealed.hash, accounts, changes);
        let replaced =
            self.publish(Committed { header: sealed.clone(), state, recent, pending_accounts });
        // Freeing the trie nodes this block replaced takes milliseconds: not
        // on the committer's time (snapshots still holding them keep them).
        rayon::spawn(move || drop((head, replaced)));
        Ok(sealed)
    }

    /// The hash of block `number` when it is `header` or below it (`None`
    /// above it): what `BLOCKHASH` reads on the state after `header`.
    fn ancestor_hash(
        &self,
        header: &SealedHeader,
        number: u64,
    ) -> Result<Option<B256>, StorageError> {
        if number > header.number() {
            return Ok(None);
        }
        if number == header.number() {
            return Ok(Some(header.hash));
        }
        Ok(self.header_by_number(number)?.map(|h| h.hash))
    }

    /// Marks the head as a point [`Store::roll_back`] can return to (dev
    /// chains' `evm_snapshot`).
    pub fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let head = self.committed()?.header.clone();
        let txn = self.inner.db.begin_write().context("starting a checkpoint")?;
        // Of the last committed version: this transaction has written nothing.
        let savepoint = txn.ephemeral_savepoint().context("taking a savepoint")?;
        txn.abort().context("closing the checkpoint transaction")?;
        Ok(Checkpoint { savepoint, head })
    }

    /// Rolls the whole store back to `checkpoint`: headers, transactions,
    /// receipts, the transaction index, the state with its history and
    /// code — every table, as redb restores its savepoint in one commit —
    /// then rebuilds the head state from the restored rows (as opening does,
    /// checked against the head's state root). Returns the restored head.
    /// Checkpoints taken after this one can no longer be rolled back to.
    /// Snapshots taken before keep seeing what they saw.
    pub fn roll_back(&self, checkpoint: &Checkpoint) -> Result<SealedHeader, StorageError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let number = checkpoint.head.number();
        let mut txn = self.inner.db.begin_write().context("starting a roll back")?;
        txn.restore_savepoint(&checkpoint.savepoint)
            .context(format_args!("rolling back to block {number}"))?;
        txn.commit().context(format_args!("committing the roll back to block {number}"))?;
        let (committed, flat) = load_head(&self.inner.db)?.ok_or_else(|| {
            StorageError::Corrupt(format!("no head block after rolling back to block {number}"))
        })?;
        if committed.header.hash != checkpoint.head.hash {
            return Err(StorageError::Corrupt(format!(
                "rolled back to block {number} ({}), but the head is now {} ({})",
                checkpoint.head.hash,
                committed.header.number(),
                committed.header.hash
            )));
        }
        let head = committed.header.clone();
        // As a commit: the maps first, so a snapshot of the restored head
        // never reads them stale.
        self.inner.flat.replace(flat);
        let replaced = self.publish(committed);
        rayon::spawn(move || drop(replaced));
        Ok(head)
    }

    /// The header of block `n`.
    pub fn header_by_number(&self, n: u64) -> Result<Option<SealedHeader>, StorageError> {
        let txn = self.read()?;
        read_header(&txn, n)
    }

    /// The commit certificate stored with block `n`, if it was committed
    /// with one ([`Store::commit_block_certified`]).
    pub fn certificate(&self, n: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.read()?;
        let table = match txn.open_table(CERTIFICATES) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(error) => return Err(error).context("opening the certificates table"),
        };
        Ok(table
            .get(n)
            .context(format_args!("reading the certificate of block {n}"))?
            .map(|bytes| bytes.value().to_vec()))
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

    /// The contract code whose keccak256 is `code_hash`, if a committed block
    /// deployed it.
    pub fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StorageError> {
        let txn = self.read()?;
        let table = match txn.open_table(CODE) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(error) => return Err(error).context("opening the code table"),
        };
        let code = table.get(&code_hash.0).context("reading code")?;
        Ok(code.map(|value| Bytes::copy_from_slice(value.value())))
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
        let (accounts, _) = read_state_accounts(&txn)?;
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

    /// Logs block `number`'s account changes and folds one key range of the
    /// pending ones into the accounts table, with their values after this
    /// block. Returns the pending set after this block.
    fn write_account_changes(
        &self,
        txn: &WriteTransaction,
        head: &Committed,
        number: u64,
        accounts: &[(Address, Account)],
    ) -> Result<PendingAccounts, StorageError> {
        let advance = head.pending_accounts.advance(number, accounts.iter().map(|(a, _)| *a));
        let mut table = txn.open_table(ACCOUNT_CHANGES).context("opening the account changes")?;
        if !accounts.is_empty() {
            table
                .insert(number, codec::encode_account_changes(accounts).as_slice())
                .context(format_args!("writing block {number}'s account changes"))?;
        }
        if let Some(retire) = advance.retire {
            table
                .remove(retire)
                .context(format_args!("retiring block {retire}'s account changes"))?;
        }
        let mut folded = Vec::with_capacity(advance.fold.len());
        for address in advance.fold {
            // Changed by this block, else unchanged since the head.
            let account = match accounts.binary_search_by_key(&address, |(a, _)| *a) {
                Ok(at) => Some(accounts[at].1),
                Err(_) => match self.inner.flat.account(&head.header.hash, &address) {
                    Some(account) => account,
                    None => head.state.account(&address),
                },
            };
            let account = account.ok_or_else(|| {
                StorageError::Corrupt(format!("pending account {address} is not in the state"))
            })?;
            folded.push((address, account));
        }
        write_accounts(txn, &folded)?;
        Ok(advance.next)
    }

    fn current(&self) -> Option<Arc<Committed>> {
        self.inner.head.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn committed(&self) -> Result<Arc<Committed>, StorageError> {
        self.current().ok_or(StorageError::NotInitialized)
    }

    /// Makes `committed` the head. Returns the version it replaced.
    fn publish(&self, committed: Committed) -> Option<Arc<Committed>> {
        self.inner.head.write().unwrap_or_else(PoisonError::into_inner).replace(Arc::new(committed))
    }

    fn read(&self) -> Result<ReadTransaction, StorageError> {
        self.inner.db.begin_read().context("starting a read")
    }

    fn indexed_row<T>(
        &self,
        hash: B256,
        table: TableDefinition<u64, &[u8]>,
        what: &str,
        decode: impl Fn(&[u8]) -> codec::DecodeResult<T>,
    ) -> Result<Option<(TxLocation, T)>, StorageError> {
        // The version first, then the read: a hash merged out of the recent
        // set by a later commit is then already in the table this read sees.
        let recent = self.current().and_then(|c| c.recent.find(&hash));
        let txn = self.read()?;
        let (block_number, index) = match recent {
            Some(location) => location,
            None => {
                let locations =
                    txn.open_table(TX_LOCATIONS).context("opening the transaction index")?;
                let Some(location) = locations
                    .get(&hash.0)
                    .context(format_args!("looking up transaction {hash}"))?
                else {
                    return Ok(None);
                };
                codec::decode_location(location.value()).map_err(|e| {
                    StorageError::corrupt(format_args!("location of transaction {hash}"), e)
                })?
            }
        };
        let rows = txn.open_table(table).context(format_args!("opening the {what} table"))?;
        let missing = || {
            StorageError::Corrupt(format!(
                "transaction {hash} is indexed at {block_number}/{index}, which has no {what}"
            ))
        };
        let row = rows
            .get(block_number)
            .context(format_args!("reading block {block_number}'s {what}s"))?
            .ok_or_else(missing)?;
        let records = codec::Records::parse(row.value()).map_err(|e| {
            StorageError::corrupt(format_args!("block {block_number}'s {what}s"), e)
        })?;
        let record =
            usize::try_from(index).ok().and_then(|i| records.get(i)).ok_or_else(missing)?;
        let value = decode(record)
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
    txn.open_table(RECENT_TX_HASHES).context("creating the recent transaction hashes table")?;
    txn.open_table(ACCOUNTS).context("creating the accounts table")?;
    txn.open_table(ACCOUNT_CHANGES).context("creating the account changes table")?;
    txn.open_table(STORAGE).context("creating the storage table")?;
    history::ACCOUNTS.create(&txn)?;
    history::STORAGE.create(&txn)?;
    txn.commit().context(format_args!("preparing {}", path.display()))
}

/// Reads the head header and rebuilds the state tries from the stored
/// accounts and storage, checking them against the head's state root.
fn load_head(db: &Database) -> Result<Option<(Committed, FlatState)>, StorageError> {
    let txn = db.begin_read().context("starting a read")?;
    let headers = txn.open_table(HEADERS).context("opening the headers table")?;
    let Some((number, bytes)) = headers.last().context("reading the head header")? else {
        return Ok(None);
    };
    let number = number.value();
    let header = codec::decode_header(bytes.value())
        .map_err(|e| StorageError::corrupt(format_args!("header {number}"), e))?;
    let storage = read_all_storage(&txn)?;
    let (accounts, pending_accounts) = read_state_accounts(&txn)?;
    let mut storage_tries: BTreeMap<Address, Trie<Word>> = storage
        .iter()
        .map(|(address, slots)| {
            let mut leaves: Vec<(B256, Word)> =
                slots.iter().map(|(slot, value)| (keccak256(slot), Word(*value))).collect();
            leaves.sort_unstable_by_key(|(key, _)| *key);
            (*address, Trie::from_sorted(&leaves))
        })
        .collect();
    let leaves: Vec<(B256, AccountLeaf)> = accounts
        .iter()
        .map(|(address, account)| {
            let storage = storage_tries.remove(address).unwrap_or_default();
            (keccak256(address), AccountLeaf { account: *account, storage })
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
    let recent = read_recent_hashes(&txn)?;
    let flat = FlatState::new(header.hash, accounts, storage);
    Ok(Some((Committed { header, state, recent, pending_accounts }, flat)))
}

fn read_recent_hashes(txn: &ReadTransaction) -> Result<RecentHashes, StorageError> {
    let table =
        txn.open_table(RECENT_TX_HASHES).context("opening the recent transaction hashes")?;
    let mut blocks = Vec::new();
    for row in table.iter().context("reading the recent transaction hashes")? {
        let (number, hashes) = row.context("reading the recent transaction hashes")?;
        let number = number.value();
        let bytes = hashes.value();
        if !bytes.len().is_multiple_of(32) {
            return Err(StorageError::Corrupt(format!(
                "transaction hashes of block {number}: {} bytes, not a multiple of 32",
                bytes.len()
            )));
        }
        blocks.push(tx_index::block_hashes(number, bytes.chunks_exact(32).map(B256::from_slice)));
    }
    Ok(RecentHashes::from_blocks(blocks))
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

/// The stored accounts: the accounts table with the pending changes rows
/// laid over it, oldest first; and the pending set those rows form.
fn read_state_accounts(
    txn: &ReadTransaction,
) -> Result<(Vec<(Address, Account)>, PendingAccounts), StorageError> {
    let mut accounts: AddressMap<Account> = read_all_accounts(txn)?.into_iter().collect();
    let table = txn.open_table(ACCOUNT_CHANGES).context("opening the account changes")?;
    let mut blocks = Vec::new();
    for row in table.iter().context("reading the account changes")? {
        let (number, bytes) = row.context("reading the account changes")?;
        let number = number.value();
        let changes = codec::decode_account_changes(bytes.value()).map_err(|e| {
            StorageError::corrupt(format_args!("account changes of block {number}"), e)
        })?;
        blocks.push((number, changes.iter().map(|(address, _)| *address).collect()));
        accounts.extend(changes);
    }
    Ok((accounts.into_iter().collect(), PendingAccounts::from_blocks(blocks)))
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

/// Every record of block `n` in `table`, in order (none for a block
/// without transactions).
fn read_rows<T>(
    txn: &ReadTransaction,
    table: TableDefinition<u64, &[u8]>,
    n: u64,
    what: &str,
    decode: impl Fn(&[u8]) -> codec::DecodeResult<T>,
) -> Result<Vec<T>, StorageError> {
    let rows = txn.open_table(table).context(format_args!("opening the {what} table"))?;
    let Some(row) = rows.get(n).context(format_args!("reading block {n}'s {what}s"))? else {
        return Ok(Vec::new());
    };
    let records = codec::Records::parse(row.value())
        .map_err(|e| StorageError::corrupt(format_args!("block {n}'s {what}s"), e))?;
    (0..records.len())
        .map(|index| {
            let record = records.get(index).unwrap_or_default();
            decode(record).map_err(|e| StorageError::corrupt(format_args!("{what} {n}/{index}"), e))
        })
        .collect()
}

/// The accounts `changes` touch, with their values after them, sorted by
/// address.
fn final_accounts(state: &StateTrie, changes: &StateChanges) -> Vec<(Address, Account)> {
    touched_addresses(changes)
        .into_iter()
        .map(|address| (address, state.account_after(changes, &address)))
        .collect()
}

/// Writes accounts straight into the accounts table (sorted keys keep the
/// B-tree inserts local).
fn write_accounts(
    txn: &WriteTransaction,
    accounts: &[(Address, Account)],
) -> Result<(), StorageError> {
    let mut table = txn.open_table(ACCOUNTS).context("opening the accounts table")?;
    for (address, account) in accounts {
        table
            .insert(&address.0.0, codec::encode_account(account).as_slice())
            .context(format_args!("writing account {address}"))?;
    }
    Ok(())
}

/// The storage words `changes` set, keyed address ‖ slot, sorted by key.
fn sorted_slots(changes: &StateChanges) -> Vec<([u8; 52], U256)> {
    let mut slots: Vec<([u8; 52], U256)> = changes
        .storage
        .iter()
        .flat_map(|(address, slots)| {
            slots.iter().map(|(slot, value)| (codec::storage_key(address, slot), *value))
        })
        .collect();
    slots.sort_unstable_by_key(|(key, _)| *key);
    slots
}

/// Writes the storage words a block set (a zero deletes).
/// Writes the code a block deployed (content-addressed: rewriting the same
/// hash writes the same bytes).
fn write_code(txn: &WriteTransaction, changes: &StateChanges) -> Result<(), StorageError> {
    if changes.code.is_empty() {
        return Ok(());
    }
    let mut table = txn.open_table(CODE).context("opening the code table")?;
    let mut code: Vec<_> = changes.code.iter().collect();
    code.sort_unstable_by_key(|(hash, _)| **hash);
    for (hash, bytes) in code {
        table.insert(&hash.0, bytes.as_ref()).context("writing code")?;
    }
    Ok(())
}

fn write_storage(txn: &WriteTransaction, slots: &[([u8; 52], U256)]) -> Result<(), StorageError> {
    let mut storage = txn.open_table(STORAGE).context("opening the storage table")?;
    for (key, value) in slots {
        let result = if value.is_zero() {
            storage.remove(key).map(drop)
        } else {
            storage.insert(key, value.to_be_bytes::<32>().as_slice()).map(drop)
        };
        result.context("writing storage")?;
    }
    Ok(())
}

/// Records block `number`'s changed accounts and storage words, with their
/// values after it, in the history (see `history`).
fn write_history(
    txn: &WriteTransaction,
    number: u64,
    accounts: &[(Address, Account)],
    slots: &[([u8; 52], U256)],
) -> Result<(), StorageError> {
    history::ACCOUNTS.write_block(
        txn,
        number,
        accounts.iter().map(|(address, account)| (address.as_slice(), account)),
        codec::put_account,
    )?;
    history::STORAGE.write_block(
        txn,
        number,
        slots.iter().map(|(key, word)| (key.as_slice(), word)),
        codec::put_history_word,
    )
}

/// Writes a block's transactions, receipts and transaction index; returns
/// the recent transaction hashes after this block.
fn write_body(
    txn: &WriteTransaction,
    recent: &RecentHashes,
    number: u64,
    transactions: &[RecoveredTransaction],
    receipts: &[Receipt],
) -> Result<RecentHashes, StorageError> {
    if !transactions.is_empty() {
        let value = codec::encode_records(transactions, codec::encode_transaction);
        txn.open_table(TRANSACTIONS)
            .context("opening the transactions table")?
            .insert(number, value.as_slice())
            .context(format_args!("writing block {number}'s transactions"))?;
        let value = codec::encode_records(receipts, codec::encode_receipt);
        txn.open_table(RECEIPTS)
            .context("opening the receipts table")?
            .insert(number, value.as_slice())
            .context(format_args!("writing block {number}'s receipts"))?;
    }
    let advance = recent.advance(number, transactions.iter().map(|tx| tx.hash));
    {
        let mut table =
            txn.open_table(RECENT_TX_HASHES).context("opening the recent transaction hashes")?;
        if !transactions.is_empty() {
            let hashes: Vec<u8> = transactions.iter().flat_map(|tx| tx.hash.0).collect();
            table
                .insert(number, hashes.as_slice())
                .context(format_args!("writing block {number}'s transaction hashes"))?;
        }
        if let Some(retire) = advance.retire {
            table
                .remove(retire)
                .context(format_args!("retiring block {retire}'s transaction hashes"))?;
        }
    }
    let mut table = txn.open_table(TX_LOCATIONS).context("opening the transaction index")?;
    for (hash, block, index) in &advance.merge {
        table
            .insert(&hash.0, codec::encode_location(*block, *index).as_slice())
            .context(format_args!("indexing transaction {hash}"))?;
    }
    Ok(advance.next)
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
