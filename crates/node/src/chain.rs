//! The chain: storage, the pool and the ledger rules tied together.
//!
//! [`Chain`] accepts transactions into the pool ([`Chain::submit_raw`]) and
//! turns pending ones into committed blocks ([`Chain::seal_block`]); the
//! consensus implementation decides *when* to seal. A validator network
//! splits sealing in two: a proposer builds a block without committing it
//! ([`Chain::build_block`]) and commits it once decided
//! ([`Chain::commit_built`]); every other node re-executes the block and
//! checks its header before committing it ([`Chain::import_block`]), as
//! block sync does. Every committed header is broadcast to subscribers
//! (`eth_subscribe("newHeads")`, metrics).
//!
//! Dev chains get the controls Hardhat Network and anvil have: automine
//! ([`Chain::submit_raw_sealed`] answers once the block is sealed),
//! snapshots ([`Chain::take_snapshot`], [`Chain::revert_to_snapshot`], on
//! the store's checkpoints) and state edits sealed as blocks
//! ([`Chain::seal_dev_edits`]).

use crate::{
    content::{NoBlobs, NodeContent},
    metrics::Metrics,
    pool::{Pool, PoolInsertError},
};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use ol_ledger::{
    BlockOutcome, ChainSpec, ExecutionMode, Genesis, InvalidTransaction, StateChanges, StateView,
    execute_block, execution::BlockError, state::EMPTY_CODE_HASH, validation, vesting,
};
use ol_primitives::{
    Block, BlockEnv, Receipt, RecoveredTransaction, SealedHeader, TransactionDecodeError, block,
    decode_raw_transaction, recover_parallel,
};
use ol_storage::{Checkpoint, StateSnapshot, StorageError, Store};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::{Notify, broadcast};

/// Why a submitted transaction was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Not a well-formed, correctly signed transaction.
    #[error(transparent)]
    Decode(#[from] TransactionDecodeError),
    /// Breaks a ledger rule against the latest state.
    #[error(transparent)]
    Invalid(#[from] InvalidTransaction),
    /// Refused by the pool.
    #[error(transparent)]
    Pool(#[from] crate::pool::PoolError),
    /// A datanet contribution whose bytes the node lacks or cannot parse.
    #[error(transparent)]
    Content(#[from] ol_ledger::ContentProblem),
    /// The node could not read its state.
    #[error(transparent)]
    Storage(#[from] ChainError),
}

impl From<PoolInsertError> for SubmitError {
    fn from(value: PoolInsertError) -> Self {
        match value {
            PoolInsertError::Invalid(e) => Self::Invalid(e),
            PoolInsertError::Pool(e) => Self::Pool(e),
        }
    }
}

/// A failure of the node itself (never the user's fault).
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The ledger could not execute a block.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] ol_ledger::StateError),
    /// A built block whose parent is no longer the head (another block
    /// was committed since it was built).
    #[error(
        "block {number} was built on {parent_hash}, but the head is now block {head_number} ({head_hash}): build it again"
    )]
    NotOnHead {
        /// The built block's number.
        number: u64,
        /// The block it was built on.
        parent_hash: B256,
        /// The head's number.
        head_number: u64,
        /// The head's hash.
        head_hash: B256,
    },
    /// The node's own key could not sign its transaction.
    #[error("the node's key could not sign its transaction: {0}")]
    Sign(#[from] alloy_signer::Error),
}

/// The running chain of one node.
pub struct Chain {
    store: Store,
    spec: ChainSpec,
    genesis: Genesis,
    pool: Mutex<Pool>,
    head: RwLock<SealedHeader>,
    seal_lock: Mutex<()>,
    heads: broadcast::Sender<SealedHeader>,
    pool_changed: Notify,
    metrics: Arc<Metrics>,
    /// Seconds added to the wall clock when stamping blocks (dev tools move time).
    time_offset: RwLock<i64>,
    /// The exact timestamp of the next block, when a dev tool pinned one.
    next_timestamp: Mutex<Option<u64>>,
    /// Contribution bytes: facts for the ledger, forgetting on take-down.
    content: Arc<dyn NodeContent>,
    /// A block is sealed per transaction: submitters wait for it.
    automine: AtomicBool,
    /// Dev snapshots (`evm_snapshot`), oldest first.
    snapshots: Mutex<DevSnapshots>,
    /// Wakes automined submitters when a revert empties the pool.
    reverted: Notify,
    /// Told of every transaction the pool accepts (gossip to peers).
    relay: Option<Arc<dyn crate::gossip::TransactionRelay>>,
}

/// The dev snapshots a chain holds.
#[derive(Debug, Default)]
struct DevSnapshots {
    /// The id of the last snapshot taken (ids start at 1, never reused).
    last_id: u64,
    saved: Vec<DevSnapshot>,
}

/// What `evm_revert` restores: the store's checkpoint and the dev clock.
#[derive(Debug)]
struct DevSnapshot {
    id: u64,
    checkpoint: Checkpoint,
    time_offset: i64,
    next_timestamp: Option<u64>,
}

/// Longest an automined submission waits for its block before answering
/// with the hash alone.
pub const AUTOMINE_WAIT: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("chain_id", &self.spec.chain_id).finish_non_exhaustive()
    }
}

impl Chain {
    /// Opens the store, writing the genesis block on first start (or checking
    /// that the stored chain has this genesis).
    pub fn open(store: Store, genesis: Genesis, metrics: Arc<Metrics>) -> Result<Self, ChainError> {
        let spec = genesis.chain_spec();
        let header = Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            number: 0,
            gas_limit: genesis.gas_limit,
            gas_used: 0,
            timestamp: genesis.timestamp,
            base_fee_per_gas: Some(genesis.base_fee_per_gas),
            ..cancun_fields()
        };
        store.init_genesis(&genesis.state(), header)?;
        let head = store.head()?;
        metrics.head.set(head.number() as i64);
        let (heads, _) = broadcast::channel(1024);
        Ok(Self {
            store,
            spec,
            genesis,
            pool: Mutex::new(Pool::default()),
            head: RwLock::new(head),
            seal_lock: Mutex::new(()),
            heads,
            pool_changed: Notify::new(),
            metrics,
            time_offset: RwLock::new(0),
            next_timestamp: Mutex::new(None),
            content: Arc::new(NoBlobs),
            automine: AtomicBool::new(false),
            snapshots: Mutex::default(),
            reverted: Notify::new(),
            relay: None,
        })
    }

    /// Uses `content` for the facts of datanet contributions (the default
    /// holds no blobs, so every contribution is refused).
    pub fn with_content(mut self, content: Arc<dyn NodeContent>) -> Self {
        self.content = content;
        self
    }

    /// Tells `relay` of every transaction the pool accepts.
    pub fn with_relay(mut self, relay: Arc<dyn crate::gossip::TransactionRelay>) -> Self {
        self.relay = Some(relay);
        self
    }

    /// The content source the ledger consults.
    pub fn content(&self) -> &dyn NodeContent {
        &*self.content
    }

    /// The chain's parameters.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The genesis this chain started from.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The storage.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The latest committed header.
    pub fn head(&self) -> SealedHeader {
        self.head.read().expect("head lock is never poisoned: writers do not panic").clone()
    }

    /// A consistent view of the latest state.
    pub fn snapshot(&self) -> Result<StateSnapshot, ChainError> {
        Ok(self.store.snapshot()?)
    }

    /// New headers, as they are committed.
    pub fn subscribe_heads(&self) -> broadcast::Receiver<SealedHeader> {
        self.heads.subscribe()
    }

    /// Wakes when the pool receives a transaction.
    pub fn pool_changed(&self) -> &Notify {
        &self.pool_changed
    }

    /// Number of transactions waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.pool().len()
    }

    /// A waiting transaction by hash.
    pub fn pooled(&self, hash: &B256) -> Option<RecoveredTransaction> {
        self.pool().get(hash).cloned()
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().expect("pool lock is never poisoned: pool code does not panic")
    }

    /// The base fee the next block will charge.
    pub fn next_base_fee(&self) -> u64 {
        let head = self.head();
        next_base_fee(&self.spec, &head)
    }

    /// The environment of the block that would be sealed now.
    pub fn next_block_env(&self, beneficiary: Address) -> BlockEnv {
        let head = self.head();
        self.env_on(&head, beneficiary, self.now().max(head.header.timestamp))
    }

    /// The time the next block would be stamped with: a pinned timestamp
    /// ([`Chain::set_next_timestamp`]) if any, else wall-clock seconds plus
    /// the dev time offset.
    pub fn now(&self) -> u64 {
        match *self.pinned_timestamp() {
            Some(pinned) => pinned,
            None => self.clock(),
        }
    }

    /// Wall-clock seconds plus the dev time offset.
    fn clock(&self) -> u64 {
        let offset = *self.time_offset.read().expect("offset lock is never poisoned");
        wall_clock().saturating_add_signed(offset)
    }

    fn pinned_timestamp(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.next_timestamp.lock().expect("timestamp lock is never poisoned: holders do not panic")
    }

    /// Moves the dev clock forward by `seconds`; returns the new offset.
    pub fn increase_time(&self, seconds: u64) -> i64 {
        let mut offset = self.time_offset.write().expect("offset lock is never poisoned");
        *offset = offset.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
        *offset
    }

    /// The dev clock's offset from the wall clock, in seconds.
    pub fn time_offset(&self) -> i64 {
        *self.time_offset.read().expect("offset lock is never poisoned")
    }

    /// Stamps the next sealed block with exactly `timestamp` (dev tools);
    /// the clock then runs on from it. Refused when it is before the head's
    /// timestamp: block times never go back.
    pub fn set_next_timestamp(&self, timestamp: u64) -> Result<(), TimestampBeforeHead> {
        let head = self.head().header.timestamp;
        if timestamp < head {
            return Err(TimestampBeforeHead { timestamp, head });
        }
        *self.pinned_timestamp() = Some(timestamp);
        Ok(())
    }

    /// The timestamp of the block being sealed on `parent`: consumes a
    /// pinned timestamp, moving the clock's offset so time runs on from it.
    fn take_block_timestamp(&self, parent: &SealedHeader) -> u64 {
        let pinned = self.pinned_timestamp().take();
        let timestamp = match pinned {
            Some(pinned) => {
                let offset = (i128::from(pinned) - i128::from(wall_clock()))
                    .clamp(i128::from(i64::MIN), i128::from(i64::MAX));
                let offset = i64::try_from(offset).expect("clamped to the i64 range above");
                *self.time_offset.write().expect("offset lock is never poisoned") = offset;
                pinned
            }
            None => self.clock(),
        };
        timestamp.max(parent.header.timestamp)
    }

    /// The nonce the sender's next transaction should carry, counting pooled ones.
    pub fn pending_nonce(&self, address: &Address) -> Result<u64, ChainError> {
        let state_nonce = self.snapshot()?.account(address)?.map(|a| a.nonce).unwrap_or(0);
        Ok(self.pool().pending_nonce(address, state_nonce))
    }

    /// Signs a call to `to` with `input` from this node's own `signer` (its
    /// next pending nonce, `gas_limit`, a fee cap of twice the next base fee
    /// plus the suggested tip) and pools it: how the node sends its own
    /// transactions (settlements, double-sign evidence). Two calls for one
    /// signer must not run at once, or both take the same nonce.
    pub fn submit_signed_call(
        &self,
        signer: &alloy_signer_local::PrivateKeySigner,
        to: Address,
        input: Bytes,
        gas_limit: u64,
    ) -> Result<B256, SubmitError> {
        use alloy_consensus::{SignableTransaction, TxEip1559};
        use alloy_signer::SignerSync;
        let tip = crate::rpc::eth::SUGGESTED_TIP;
        let tx = TxEip1559 {
            chain_id: self.spec.chain_id,
            nonce: self.pending_nonce(&signer.address())?,
            gas_limit,
            max_fee_per_gas: 2 * u128::from(self.next_base_fee()) + tip,
            max_priority_fee_per_gas: tip,
            to: alloy_primitives::TxKind::Call(to),
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        };
        let signature = signer.sign_hash_sync(&tx.signature_hash()).map_err(ChainError::from)?;
        let envelope = TxEnvelope::from(tx.into_signed(signature));
        self.submit(RecoveredTransaction::from_trusted(envelope, signer.address()))
    }

    /// Decodes, checks and pools a raw signed transaction; returns its hash.
    pub fn submit_raw(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = RecoveredTransaction::decode(raw)?;
        self.submit(tx)
    }

    /// Checks and pools a recovered transaction.
    pub fn submit(&self, tx: RecoveredTransaction) -> Result<B256, SubmitError> {
        self.admit(tx).map(|admitted| admitted.hash)
    }

    /// As [`Chain::submit_raw`], but when the chain automines (a block per
    /// transaction) answers only once the block holding the transaction is
    /// sealed, as Hardhat Network and anvil do, so a receipt is there when
    /// the hash is. A transaction queued behind a nonce gap cannot be sealed
    /// yet: its hash comes back at once. The wait is bounded by
    /// [`AUTOMINE_WAIT`]; past it the hash comes back anyway.
    pub async fn submit_raw_sealed(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = RecoveredTransaction::decode(raw)?;
        self.content.fetch_missing(&tx.envelope).await;
        if !self.automine() {
            return self.submit(tx);
        }
        // Subscribed before the pool sees the transaction: its block's
        // header cannot be missed.
        let heads = self.heads.subscribe();
        let admitted = self.admit(tx)?;
        if admitted.executable {
            self.wait_sealed(admitted.hash, heads).await;
        }
        Ok(admitted.hash)
    }

    /// Waits until `hash` has left the pool (sealed, replaced or dropped)
    /// and the head is the block that took it, or [`AUTOMINE_WAIT`] passed.
    async fn wait_sealed(&self, hash: B256, mut heads: broadcast::Receiver<SealedHeader>) {
        let deadline = tokio::time::Instant::now() + AUTOMINE_WAIT;
        loop {
            // Armed before the pool is looked at: a revert emptying it
            // in between still wakes this waiter.
            let reverted = self.reverted.notified();
            let mut reverted = std::pin::pin!(reverted);
            reverted.as_mut().enable();
            // `seal_block` moves the head before it updates the pool: once
            // the pool lost the transaction, the head and the receipt are
            // in place.
            if !self.pool().contains(&hash) {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(%hash, "the automined transaction was not sealed in time; answering with its hash");
                    return;
                }
                () = &mut reverted => {}
                head = heads.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = head {
                        return;
                    }
                    // A header, or some missed: look at the pool again.
                }
            }
        }
    }

    /// Whether a block is sealed per transaction (see [`Chain::submit_raw_sealed`]).
    pub fn automine(&self) -> bool {
        self.automine.load(Ordering::Acquire)
    }

    /// Tells the chain that its sealer seals a block per transaction (the
    /// dev sealer's `--block-time 0`), so submitters wait for the block.
    pub fn set_automine(&self, automine: bool) {
        self.automine.store(automine, Ordering::Release);
    }

    /// Checks and pools a transaction; says whether it can go into the
    /// next block (false: queued behind a nonce gap).
    fn admit(&self, tx: RecoveredTransaction) -> Result<Admitted, SubmitError> {
        let snapshot = self.snapshot()?;
        let head = snapshot.header().clone();
        let env = BlockEnv {
            number: head.number() + 1,
            timestamp: self.now().max(head.header.timestamp),
            beneficiary: Address::ZERO,
            base_fee: next_base_fee(&self.spec, &head),
            gas_limit: self.spec.block_gas_limit,
        };
        validation::check_static(&self.spec, &env, &tx)?;
        let account = snapshot.account(&tx.sender).map_err(ChainError::from)?.unwrap_or_default();
        // Funds are checked against the balance the next block will see.
        let spendable = vesting::balance_at(&snapshot, &tx.sender, env.timestamp)
            .map_err(ChainError::from)?
            .spendable;
        let cost = validation::max_cost(&tx.envelope);
        if cost > spendable {
            return Err(InvalidTransaction::InsufficientFunds {
                sender: tx.sender,
                spendable,
                cost,
            }
            .into());
        }
        crate::content::check_contribution(&snapshot, &*self.content, &tx)?;
        let (hash, sender, nonce) = (tx.hash, tx.sender, tx.nonce());
        let raw = self.relay.as_ref().map(|_| tx.envelope.encoded_2718());
        let (executable, pool_len) = {
            let mut pool = self.pool();
            pool.add(tx, account.nonce)?;
            // In the gap-free run from the account's nonce: sealable now.
            (pool.pending_nonce(&sender, account.nonce) > nonce, pool.len())
        };
        self.metrics.pool_size.set(pool_len as i64);
        self.pool_changed.notify_one();
        if let (Some(relay), Some(raw)) = (&self.relay, raw) {
            relay.relay(hash, raw.into());
        }
        Ok(Admitted { hash, executable })
    }

    /// Seals one block from the pool's pending transactions (at most
    /// `max_transactions`), commits it and broadcasts its header. Empty
    /// blocks are sealed too (as dev chains do with a block time).
    pub fn seal_block(
        &self,
        beneficiary: Address,
        max_transactions: usize,
    ) -> Result<SealedBlockSummary, ChainError> {
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let mut env = self.next_block_env(beneficiary);
        env.timestamp = self.take_block_timestamp(&self.head());
        let candidates = self.pool().best(env.gas_limit, max_transactions);
        self.seal_locked(&env, candidates, &[])
    }

    /// Seals an empty block carrying `edits` (dev chains'
    /// `hardhat_setBalance` & co.), applied after the block's own
    /// execution: a block, so that the state any tool reads at `latest` is
    /// the one the head's state root commits to, and the chain stays a
    /// sequence of blocks whose roots follow from their parents'. The block
    /// carries its parent's timestamp, leaving the dev clock and a pinned
    /// timestamp for the next transaction's block; being empty, it lowers
    /// the next base fee as any empty block does. Pooled transactions below
    /// an edited nonce leave the pool.
    pub fn seal_dev_edits(
        &self,
        beneficiary: Address,
        edits: &[DevEdit],
    ) -> Result<SealedBlockSummary, ChainError> {
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let head = self.head();
        let env = BlockEnv { timestamp: head.header.timestamp, ..self.next_block_env(beneficiary) };
        self.seal_locked(&env, Vec::new(), edits)
    }

    /// Builds the block that would be sealed now on the head, without
    /// committing it: the pool's best pending transactions (at most
    /// `max_transactions`) executed on the head's state, stamped
    /// `timestamp` (`None`: [`Chain::now`], a pinned dev timestamp read but
    /// not used up), never before the parent's timestamp. The result
    /// carries the header the block will have, its state root from a dry
    /// run of the state trie, so it can be proposed before it is decided.
    /// Nothing is written and the pool is unchanged; [`Chain::commit_built`]
    /// commits it.
    pub fn build_block(
        &self,
        beneficiary: Address,
        max_transactions: usize,
        timestamp: Option<u64>,
    ) -> Result<BuiltBlock, ChainError> {
        let started = Instant::now();
        let snapshot = self.snapshot()?;
        let parent = snapshot.header().clone();
        let timestamp = timestamp.unwrap_or_else(|| self.now()).max(parent.header.timestamp);
        let env = self.env_on(&parent, beneficiary, timestamp);
        let candidates = self.pool().best(env.gas_limit, max_transactions);
        let outcome = self.execute(&snapshot, &env, candidates, ExecutionMode::Build)?;
        let roots = BlockRoots::of(&outcome);
        let state_root = snapshot.state_root_after(&outcome.changes);
        let header =
            SealedHeader::seal(block_header(parent.hash, &env, &outcome, roots, state_root));
        Ok(BuiltBlock { header, outcome, elapsed: started.elapsed() })
    }

    /// Commits a block [`Chain::build_block`] built and broadcasts its
    /// header, as [`Chain::seal_block`] does; the pool forgets the
    /// transactions it holds and those it refused for good. Refused with
    /// [`ChainError::NotOnHead`], nothing written, when the head is no
    /// longer the block it was built on.
    pub fn commit_built(&self, built: BuiltBlock) -> Result<SealedBlockSummary, ChainError> {
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let started = Instant::now();
        let head = self.head();
        let proposed = &built.header;
        if proposed.header.parent_hash != head.hash {
            return Err(ChainError::NotOnHead {
                number: proposed.number(),
                parent_hash: proposed.header.parent_hash,
                head_number: head.number(),
                head_hash: head.hash,
            });
        }
        // The store computes the state root again and refuses the header
        // if it differs from the dry run's.
        let header = self.store.commit_block(
            &built.outcome.changes,
            |_| proposed.header.clone(),
            &built.outcome.included,
            &built.outcome.receipts,
        )?;
        let elapsed = built.elapsed + started.elapsed();
        Ok(self.committed(header, &built.outcome, &[], elapsed, "committed a built block"))
    }

    /// Imports a block another node built (block sync, a decided proposal):
    /// checks that it extends the head, re-executes its transactions on the
    /// head's state in [`ExecutionMode::Verify`] (one invalid transaction
    /// refuses the block), checks every field of its header against the
    /// header this node computes, and only then commits it; the pool
    /// forgets the transactions the block settled and subscribers hear of
    /// the new head, as with [`Chain::seal_block`].
    ///
    /// The block's timestamp may not be before its parent's, nor more than
    /// [`MAX_FUTURE_BLOCK_SECS`] ahead of this node's clock (wall clock plus
    /// the dev time offset). Its beneficiary is taken as it is: who may
    /// propose is consensus' concern. The senders and hashes the block
    /// carries are ignored: each transaction goes through the checks a
    /// submitted one does (type, size, EIP-2 signature) and its sender is
    /// recovered again, on all cores. Blocks of dev edits
    /// ([`Chain::seal_dev_edits`]) do not follow from their transactions,
    /// so they cannot be imported.
    ///
    /// A refused block leaves everything as it was: blocks, state, head,
    /// pool.
    pub fn import_block(&self, block: Block) -> Result<SealedHeader, ImportError> {
        let verified = self.verify_block(block)?;
        self.commit_verified(verified, None)
    }

    /// Checks a block another node built without committing it: every
    /// check [`Chain::import_block`] makes, the state root included (as a
    /// dry run of the state trie), on the head as it is now. A validator
    /// votes for a proposal only once it verified; the result commits with
    /// [`Chain::commit_verified`] once the block is decided, without
    /// executing it again. Nothing is written.
    pub fn verify_block(&self, block: Block) -> Result<VerifiedBlock, ImportError> {
        let Block { header, transactions } = block;
        self.verify_envelopes(header, transactions.into_iter().map(|t| t.envelope).collect())
    }

    /// [`Chain::verify_block`] of a block as it travels: its header (with
    /// the hash it claims) and its transaction envelopes, whose senders are
    /// recovered here.
    pub fn verify_envelopes(
        &self,
        sealed: SealedHeader,
        envelopes: Vec<TxEnvelope>,
    ) -> Result<VerifiedBlock, ImportError> {
        let started = Instant::now();
        let snapshot = self.snapshot()?;
        let parent = snapshot.header().clone();
        let header = sealed.header;
        self.check_place(&parent, &header, sealed.hash)?;
        let number = header.number;
        let env = self.env_on(&parent, header.beneficiary, header.timestamp);
        // What the block's execution environment is made of, before executing it.
        let expected_env = Header {
            gas_limit: env.gas_limit,
            base_fee_per_gas: Some(env.base_fee),
            ..header.clone()
        };
        if let Some(mismatch) = header_mismatch(&header, &expected_env) {
            return Err(mismatch.into_error(number));
        }
        // A body that is not the header's is refused before costing an execution.
        let transactions_root = block::transactions_root(&envelopes);
        if transactions_root != header.transactions_root {
            return Err(ImportError::HeaderMismatch {
                number,
                field: HeaderField::TransactionsRoot,
                block: header.transactions_root.to_string(),
                computed: transactions_root.to_string(),
            });
        }
        let transactions = recover_body(number, envelopes)?;
        let outcome = self
            .execute(&snapshot, &env, transactions, ExecutionMode::Verify)
            .map_err(|error| ImportError::from_execution(number, error))?;
        let roots = BlockRoots::of(&outcome);
        let state_root = snapshot.state_root_after(&outcome.changes);
        let computed = block_header(parent.hash, &env, &outcome, roots, state_root);
        if let Some(mismatch) = header_mismatch(&header, &computed) {
            return Err(mismatch.into_error(number));
        }
        Ok(VerifiedBlock {
            header: SealedHeader { header, hash: sealed.hash },
            outcome,
            elapsed: started.elapsed(),
        })
    }

    /// Commits a block [`Chain::verify_block`] checked, with the consensus
    /// engine's `certificate` for it if any (stored in the same write, for
    /// block sync: [`Chain::certificate`]). Refused with
    /// [`ImportError::ParentNotHead`], nothing written, when the head moved
    /// since it was verified. The pool forgets the transactions it settled
    /// and subscribers hear of the new head.
    pub fn commit_verified(
        &self,
        verified: VerifiedBlock,
        certificate: Option<&[u8]>,
    ) -> Result<SealedHeader, ImportError> {
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let started = Instant::now();
        let VerifiedBlock { header, outcome, elapsed } = verified;
        let head = self.head();
        let number = header.number();
        if header.header.parent_hash != head.hash {
            return Err(ImportError::ParentNotHead {
                number,
                parent_hash: header.header.parent_hash,
                head_hash: head.hash,
            });
        }
        let committed = self
            .store
            .commit_block_certified(
                &outcome.changes,
                |_| header.header,
                &outcome.included,
                &outcome.receipts,
                certificate,
            )
            .map_err(|error| match error {
                StorageError::StateRootMismatch { number, header, computed } => {
                    ImportError::HeaderMismatch {
                        number,
                        field: HeaderField::StateRoot,
                        block: header.to_string(),
                        computed: computed.to_string(),
                    }
                }
                other => ImportError::Chain(other.into()),
            })?;
        let elapsed = elapsed + started.elapsed();
        let summary = self.committed(committed, &outcome, &[], elapsed, "imported block");
        Ok(summary.header)
    }

    /// Commits a block this node built ([`Chain::build_block`]) with the
    /// consensus engine's `certificate` for it, as [`Chain::commit_built`].
    pub fn commit_built_certified(
        &self,
        built: BuiltBlock,
        certificate: &[u8],
    ) -> Result<SealedHeader, ImportError> {
        let verified =
            VerifiedBlock { header: built.header, outcome: built.outcome, elapsed: built.elapsed };
        self.commit_verified(verified, Some(certificate))
    }

    /// The consensus certificate stored with block `number`, if any.
    pub fn certificate(&self, number: u64) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.store.certificate(number)?)
    }

    /// Checks that `header` (claiming hash `hash`) can follow `parent`:
    /// its number, parent hash, own hash and timestamp.
    fn check_place(
        &self,
        parent: &SealedHeader,
        header: &Header,
        hash: B256,
    ) -> Result<(), ImportError> {
        let number = header.number;
        if number != parent.number() + 1 {
            return Err(ImportError::NotNext { number, head: parent.number() });
        }
        if header.parent_hash != parent.hash {
            return Err(ImportError::ParentNotHead {
                number,
                parent_hash: header.parent_hash,
                head_hash: parent.hash,
            });
        }
        let computed = header.hash_slow();
        if computed != hash {
            return Err(ImportError::HashMismatch { number, claimed: hash, computed });
        }
        if header.timestamp < parent.header.timestamp {
            return Err(ImportError::TimestampBeforeParent {
                number,
                timestamp: header.timestamp,
                parent: parent.header.timestamp,
            });
        }
        let now = self.clock();
        if header.timestamp > now.saturating_add(MAX_FUTURE_BLOCK_SECS) {
            return Err(ImportError::TimestampInFuture {
                number,
                timestamp: header.timestamp,
                now,
            });
        }
        Ok(())
    }

    /// The environment of the block after `parent`.
    fn env_on(&self, parent: &SealedHeader, beneficiary: Address, timestamp: u64) -> BlockEnv {
        BlockEnv {
            number: parent.number() + 1,
            timestamp,
            beneficiary,
            base_fee: next_base_fee(&self.spec, parent),
            gas_limit: self.spec.block_gas_limit,
        }
    }

    /// Executes `candidates` in `env`, lays `edits` over the outcome,
    /// commits the block and broadcasts its header. The seal lock is held.
    fn seal_locked(
        &self,
        env: &BlockEnv,
        candidates: Vec<RecoveredTransaction>,
        edits: &[DevEdit],
    ) -> Result<SealedBlockSummary, ChainError> {
        let started = Instant::now();
        let snapshot = self.snapshot()?;
        let parent = snapshot.header().clone();
        let mut outcome = self.execute(&snapshot, env, candidates, ExecutionMode::Build)?;
        for edit in edits {
            edit.apply(&snapshot, &mut outcome.changes)?;
        }
        let roots = BlockRoots::of(&outcome);
        // The state root is computed once, by the commit itself.
        let header = self.store.commit_block(
            &outcome.changes,
            |state_root| block_header(parent.hash, env, &outcome, roots, state_root),
            &outcome.included,
            &outcome.receipts,
        )?;
        let edited: Vec<Address> = edits.iter().map(DevEdit::address).collect();
        Ok(self.committed(header, &outcome, &edited, started.elapsed(), "sealed block"))
    }

    /// Runs the ledger's rules over `transactions` on top of `snapshot`.
    fn execute(
        &self,
        snapshot: &StateSnapshot,
        env: &BlockEnv,
        transactions: Vec<RecoveredTransaction>,
        mode: ExecutionMode,
    ) -> Result<BlockOutcome, BlockError> {
        execute_block(&self.spec, snapshot, env, transactions, mode, &*self.content, &ol_evm::Revm)
    }

    /// What follows every committed block, however it was made: the head
    /// moves, the pool forgets what the block settled, released contribution
    /// bytes are forgotten, metrics and subscribers hear of it. `edited`
    /// are accounts whose nonce a dev edit may have set. The seal lock is held.
    fn committed(
        &self,
        header: SealedHeader,
        outcome: &BlockOutcome,
        edited: &[Address],
        elapsed: Duration,
        what: &'static str,
    ) -> SealedBlockSummary {
        let nonces: HashMap<Address, u64> = outcome
            .included
            .iter()
            .map(|t| t.sender)
            .chain(edited.iter().copied())
            .filter_map(|sender| outcome.changes.accounts.get(&sender).map(|a| (sender, a.nonce)))
            .collect();
        let dropped: Vec<B256> = outcome
            .excluded
            .iter()
            .filter(|(_, reason)| !reason.is_transient())
            .map(|(tx, _)| tx.hash)
            .collect();
        for (tx, reason) in &outcome.excluded {
            if !reason.is_transient() {
                tracing::debug!(hash = %tx.hash, %reason, "dropped transaction from the pool");
            }
        }
        // The head first, then the pool: a submitter that sees its
        // transaction gone from the pool finds the head already moved.
        *self.head.write().expect("head lock is never poisoned") = header.clone();
        let pool_len = {
            let mut pool = self.pool();
            pool.on_block(&nonces, &dropped);
            pool.len()
        };
        crate::content::forget_released(&self.store, &*self.content, &outcome.receipts);
        self.metrics.observe_block(&header, outcome.included.len(), pool_len, elapsed);
        tracing::info!(
            number = header.number(),
            hash = %header.hash,
            transactions = outcome.included.len(),
            gas_used = outcome.gas_used,
            elapsed_ms = elapsed.as_millis() as u64,
            "{what}"
        );
        let _ = self.heads.send(header.clone());
        SealedBlockSummary { header, transactions: outcome.included.len() }
    }

    /// Saves the chain as it is (dev chains' `evm_snapshot`): the head and
    /// everything stored up to it, and the dev clock. Returns the snapshot's
    /// id (1, 2, …). Snapshots live in memory only: none survives a restart.
    pub fn take_snapshot(&self) -> Result<u64, ChainError> {
        // No block is being sealed while the checkpoint is taken.
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let checkpoint = self.store.checkpoint()?;
        let mut snapshots = self.dev_snapshots();
        snapshots.last_id += 1;
        let id = snapshots.last_id;
        snapshots.saved.push(DevSnapshot {
            id,
            checkpoint,
            time_offset: self.time_offset(),
            next_timestamp: *self.pinned_timestamp(),
        });
        Ok(id)
    }

    /// Returns the chain to snapshot `id` (dev chains' `evm_revert`): its
    /// blocks, receipts, state and head, the dev clock as it was, and an
    /// empty pool (as Hardhat Network drops pending transactions). That
    /// snapshot and every later one are used up. False, changing nothing,
    /// for an id not held (never taken, or used up).
    pub fn revert_to_snapshot(&self, id: u64) -> Result<bool, ChainError> {
        let _sealing = self.seal_lock.lock().expect("seal lock is never poisoned");
        let mut snapshots = self.dev_snapshots();
        let Some(at) = snapshots.saved.iter().position(|s| s.id == id) else {
            return Ok(false);
        };
        let snapshot = &snapshots.saved[at];
        let (time_offset, next_timestamp) = (snapshot.time_offset, snapshot.next_timestamp);
        // The pool is held across, so no transaction checked against the
        // abandoned state slips in after it is emptied.
        let mut pool = self.pool();
        let head = self.store.roll_back(&snapshot.checkpoint)?;
        *self.head.write().expect("head lock is never poisoned") = head.clone();
        *pool = Pool::default();
        drop(pool);
        // Used up: this one and the later ones (which redb voided too).
        snapshots.saved.truncate(at);
        drop(snapshots);
        *self.time_offset.write().expect("offset lock is never poisoned") = time_offset;
        *self.pinned_timestamp() = next_timestamp;
        self.metrics.head.set(head.number() as i64);
        self.metrics.pool_size.set(0);
        self.reverted.notify_waiters();
        tracing::info!(id, number = head.number(), hash = %head.hash, "reverted to a dev snapshot");
        Ok(true)
    }

    fn dev_snapshots(&self) -> std::sync::MutexGuard<'_, DevSnapshots> {
        self.snapshots.lock().expect("snapshot lock is never poisoned: holders do not panic")
    }

    /// True when the pool has at least one transaction executable now.
    pub fn has_pending(&self) -> bool {
        !self.pool().best(u64::MAX, 1).is_empty()
    }
}

/// A dev tool's direct edit of one account (`hardhat_setBalance`,
/// `hardhat_setNonce`, `hardhat_setCode`, `hardhat_setStorageAt`), sealed
/// into a block by [`Chain::seal_dev_edits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevEdit {
    /// Sets the account's balance.
    Balance(Address, U256),
    /// Sets the account's nonce.
    Nonce(Address, u64),
    /// Sets the account's code (empty: none).
    Code(Address, Bytes),
    /// Sets one storage slot (zero clears it).
    Storage(Address, B256, U256),
}

impl DevEdit {
    /// The edited account.
    pub fn address(&self) -> Address {
        match self {
            Self::Balance(address, _)
            | Self::Nonce(address, _)
            | Self::Code(address, _)
            | Self::Storage(address, _, _) => *address,
        }
    }

    /// Lays this edit over `changes`, made on top of `base`. The account
    /// is created (empty) if it does not exist, as a storage word needs one.
    fn apply(&self, base: &StateSnapshot, changes: &mut StateChanges) -> Result<(), ChainError> {
        let address = self.address();
        let mut account = match changes.accounts.get(&address) {
            Some(account) => *account,
            None => base.account(&address)?.unwrap_or_default(),
        };
        match self {
            Self::Balance(_, balance) => account.balance = *balance,
            Self::Nonce(_, nonce) => account.nonce = *nonce,
            Self::Code(_, code) if code.is_empty() => account.code_hash = EMPTY_CODE_HASH,
            Self::Code(_, code) => {
                account.code_hash = keccak256(code);
                changes.code.insert(account.code_hash, code.clone());
            }
            Self::Storage(_, slot, value) => {
                changes.storage.entry(address).or_default().insert(*slot, *value);
            }
        }
        changes.accounts.insert(address, account);
        Ok(())
    }
}

/// A transaction the pool accepted.
#[derive(Debug, Clone, Copy)]
struct Admitted {
    hash: B256,
    /// In the sender's gap-free run: the next block can take it.
    executable: bool,
}

/// A pinned block timestamp earlier than the head's.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("timestamp {timestamp} is before the latest block's timestamp {head}")]
pub struct TimestampBeforeHead {
    /// The refused timestamp.
    pub timestamp: u64,
    /// The head's timestamp.
    pub head: u64,
}

/// Seconds since the Unix epoch by the system clock.
fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// What [`Chain::seal_block`] produced.
#[derive(Debug, Clone)]
pub struct SealedBlockSummary {
    /// The committed header.
    pub header: SealedHeader,
    /// How many transactions it holds.
    pub transactions: usize,
}

/// How far ahead of this node's clock an imported block's timestamp may be,
/// in seconds (geth allows the same 15 s): validators' clocks drift a little,
/// but a block stamped far ahead would let its producer move time forward.
pub const MAX_FUTURE_BLOCK_SECS: u64 = 15;

/// A block executed on the head but not committed ([`Chain::build_block`]):
/// what a validator proposes, then commits with [`Chain::commit_built`]
/// once it is decided.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    header: SealedHeader,
    outcome: BlockOutcome,
    /// Time spent building, counted in the block's sealing time.
    elapsed: Duration,
}

impl BuiltBlock {
    /// The header the block will have, state root included.
    pub fn header(&self) -> &SealedHeader {
        &self.header
    }

    /// The transactions it includes, in order.
    pub fn transactions(&self) -> &[RecoveredTransaction] {
        &self.outcome.included
    }

    /// Their receipts.
    pub fn receipts(&self) -> &[Receipt] {
        &self.outcome.receipts
    }

    /// The state changes it makes.
    pub fn changes(&self) -> &StateChanges {
        &self.outcome.changes
    }

    /// The block as other nodes import it ([`Chain::import_block`]).
    pub fn block(&self) -> Block {
        Block { header: self.header.clone(), transactions: self.outcome.included.clone() }
    }
}

/// A block built elsewhere that [`Chain::verify_block`] checked on the
/// head, not yet committed ([`Chain::commit_verified`]).
#[derive(Debug, Clone)]
pub struct VerifiedBlock {
    header: SealedHeader,
    outcome: BlockOutcome,
    elapsed: Duration,
}

impl VerifiedBlock {
    /// Its header (hash checked).
    pub fn header(&self) -> &SealedHeader {
        &self.header
    }

    /// Its transactions, senders recovered again.
    pub fn transactions(&self) -> &[RecoveredTransaction] {
        &self.outcome.included
    }
}

/// Why a block built elsewhere was refused by [`Chain::import_block`].
/// Nothing of a refused block is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Its number does not follow the head's.
    #[error("block {number} is not the next block: the head is block {head}")]
    NotNext {
        /// The block's number.
        number: u64,
        /// The head's number.
        head: u64,
    },
    /// Its parent is not the head.
    #[error("block {number}'s parent {parent_hash} is not the head {head_hash}")]
    ParentNotHead {
        /// The block's number.
        number: u64,
        /// The parent it names.
        parent_hash: B256,
        /// The head's hash.
        head_hash: B256,
    },
    /// The hash it carries is not its header's.
    #[error("block {number} carries hash {claimed}, but its header hashes to {computed}")]
    HashMismatch {
        /// The block's number.
        number: u64,
        /// The hash the block carries.
        claimed: B256,
        /// keccak256 of its header.
        computed: B256,
    },
    /// Stamped before its parent.
    #[error("block {number}'s timestamp {timestamp} is before its parent's {parent}")]
    TimestampBeforeParent {
        /// The block's number.
        number: u64,
        /// Its timestamp.
        timestamp: u64,
        /// The parent's timestamp.
        parent: u64,
    },
    /// Stamped more than [`MAX_FUTURE_BLOCK_SECS`] ahead of this node's clock.
    #[error(
        "block {number}'s timestamp {timestamp} is more than {MAX_FUTURE_BLOCK_SECS} s ahead of this node's clock ({now})"
    )]
    TimestampInFuture {
        /// The block's number.
        number: u64,
        /// Its timestamp.
        timestamp: u64,
        /// This node's clock.
        now: u64,
    },
    /// A transaction that is not an acceptable signed transaction.
    #[error("block {number}: transaction {index} is refused: {source}")]
    Transaction {
        /// The block's number.
        number: u64,
        /// Its position in the block.
        index: usize,
        /// Why.
        source: TransactionDecodeError,
    },
    /// A transaction the ledger's rules refuse at its place in the block.
    #[error("block {number}: transaction {index} ({hash}) is invalid: {reason}")]
    InvalidTransaction {
        /// The block's number.
        number: u64,
        /// Its position in the block.
        index: usize,
        /// Its hash.
        hash: B256,
        /// Why.
        reason: Box<InvalidTransaction>,
    },
    /// A header field differs from what this node computes.
    #[error("block {number}: header field {field} is {block}, but this node computes {computed}")]
    HeaderMismatch {
        /// The block's number.
        number: u64,
        /// The field.
        field: HeaderField,
        /// Its value in the block.
        block: String,
        /// Its value as this node computes it.
        computed: String,
    },
    /// The node itself failed (storage, state); the block may be fine.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl ImportError {
    /// Names a failed verifying execution of block `number`.
    fn from_execution(number: u64, error: BlockError) -> Self {
        match error {
            BlockError::InvalidTransaction { index, hash, reason } => {
                Self::InvalidTransaction { number, index, hash, reason }
            }
            other => Self::Chain(other.into()),
        }
    }
}

/// A field of a block header, by its Ethereum JSON-RPC name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderField {
    /// `parentHash`.
    ParentHash,
    /// `sha3Uncles`.
    OmmersHash,
    /// `miner`.
    Beneficiary,
    /// `stateRoot`.
    StateRoot,
    /// `transactionsRoot`.
    TransactionsRoot,
    /// `receiptsRoot`.
    ReceiptsRoot,
    /// `logsBloom`.
    LogsBloom,
    /// `difficulty`.
    Difficulty,
    /// `number`.
    Number,
    /// `gasLimit`.
    GasLimit,
    /// `gasUsed`.
    GasUsed,
    /// `timestamp`.
    Timestamp,
    /// `extraData`.
    ExtraData,
    /// `mixHash`.
    MixHash,
    /// `nonce`.
    Nonce,
    /// `baseFeePerGas`.
    BaseFeePerGas,
    /// `withdrawalsRoot`.
    WithdrawalsRoot,
    /// `blobGasUsed`.
    BlobGasUsed,
    /// `excessBlobGas`.
    ExcessBlobGas,
    /// `parentBeaconBlockRoot`.
    ParentBeaconBlockRoot,
    /// `requestsHash`.
    RequestsHash,
    /// `blockAccessListHash` (EIP-7928).
    BlockAccessListHash,
    /// `slotNumber`.
    SlotNumber,
}

impl std::fmt::Display for HeaderField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ParentHash => "parentHash",
            Self::OmmersHash => "sha3Uncles",
            Self::Beneficiary => "miner",
            Self::StateRoot => "stateRoot",
            Self::TransactionsRoot => "transactionsRoot",
            Self::ReceiptsRoot => "receiptsRoot",
            Self::LogsBloom => "logsBloom",
            Self::Difficulty => "difficulty",
            Self::Number => "number",
            Self::GasLimit => "gasLimit",
            Self::GasUsed => "gasUsed",
            Self::Timestamp => "timestamp",
            Self::ExtraData => "extraData",
            Self::MixHash => "mixHash",
            Self::Nonce => "nonce",
            Self::BaseFeePerGas => "baseFeePerGas",
            Self::WithdrawalsRoot => "withdrawalsRoot",
            Self::BlobGasUsed => "blobGasUsed",
            Self::ExcessBlobGas => "excessBlobGas",
            Self::ParentBeaconBlockRoot => "parentBeaconBlockRoot",
            Self::RequestsHash => "requestsHash",
            Self::BlockAccessListHash => "blockAccessListHash",
            Self::SlotNumber => "slotNumber",
        })
    }
}

/// One header field that differs: its value in the block and as computed.
#[derive(Debug)]
struct FieldMismatch {
    field: HeaderField,
    block: String,
    computed: String,
}

impl FieldMismatch {
    fn into_error(self, number: u64) -> ImportError {
        ImportError::HeaderMismatch {
            number,
            field: self.field,
            block: self.block,
            computed: self.computed,
        }
    }
}

/// The first field where `block` differs from `computed`: the execution's
/// inputs first, then what executing gives, then the fixed fields. Every
/// field is named (no `..`), so a field a new alloy version adds cannot be
/// left unchecked.
fn header_mismatch(block: &Header, computed: &Header) -> Option<FieldMismatch> {
    let Header {
        parent_hash,
        ommers_hash,
        beneficiary,
        state_root,
        transactions_root,
        receipts_root,
        logs_bloom,
        difficulty,
        number,
        gas_limit,
        gas_used,
        timestamp,
        extra_data,
        mix_hash,
        nonce,
        base_fee_per_gas,
        withdrawals_root,
        blob_gas_used,
        excess_blob_gas,
        parent_beacon_block_root,
        requests_hash,
        block_access_list_hash,
        slot_number,
    } = computed;
    [
        differs(HeaderField::ParentHash, &block.parent_hash, parent_hash),
        differs(HeaderField::Number, &block.number, number),
        differs(HeaderField::Timestamp, &block.timestamp, timestamp),
        differs(HeaderField::Beneficiary, &block.beneficiary, beneficiary),
        differs(HeaderField::GasLimit, &block.gas_limit, gas_limit),
        differs_option(HeaderField::BaseFeePerGas, &block.base_fee_per_gas, base_fee_per_gas),
        differs(HeaderField::TransactionsRoot, &block.transactions_root, transactions_root),
        differs(HeaderField::ReceiptsRoot, &block.receipts_root, receipts_root),
        differs(HeaderField::LogsBloom, &block.logs_bloom, logs_bloom),
        differs(HeaderField::GasUsed, &block.gas_used, gas_used),
        differs(HeaderField::StateRoot, &block.state_root, state_root),
        differs(HeaderField::OmmersHash, &block.ommers_hash, ommers_hash),
        differs(HeaderField::Difficulty, &block.difficulty, difficulty),
        differs(HeaderField::ExtraData, &block.extra_data, extra_data),
        differs(HeaderField::MixHash, &block.mix_hash, mix_hash),
        differs(HeaderField::Nonce, &block.nonce, nonce),
        differs_option(HeaderField::WithdrawalsRoot, &block.withdrawals_root, withdrawals_root),
        differs_option(HeaderField::BlobGasUsed, &block.blob_gas_used, blob_gas_used),
        differs_option(HeaderField::ExcessBlobGas, &block.excess_blob_gas, excess_blob_gas),
        differs_option(
            HeaderField::ParentBeaconBlockRoot,
            &block.parent_beacon_block_root,
            parent_beacon_block_root,
        ),
        differs_option(HeaderField::RequestsHash, &block.requests_hash, requests_hash),
        differs_option(
            HeaderField::BlockAccessListHash,
            &block.block_access_list_hash,
            block_access_list_hash,
        ),
        differs_option(HeaderField::SlotNumber, &block.slot_number, slot_number),
    ]
    .into_iter()
    .flatten()
    .next()
}

fn differs<T: PartialEq + std::fmt::Display>(
    field: HeaderField,
    block: &T,
    computed: &T,
) -> Option<FieldMismatch> {
    (block != computed).then(|| FieldMismatch {
        field,
        block: block.to_string(),
        computed: computed.to_string(),
    })
}

fn differs_option<T: PartialEq + std::fmt::Display>(
    field: HeaderField,
    block: &Option<T>,
    computed: &Option<T>,
) -> Option<FieldMismatch> {
    let shown = |value: &Option<T>| value.as_ref().map_or("absent".to_string(), T::to_string);
    (block != computed).then(|| FieldMismatch {
        field,
        block: shown(block),
        computed: shown(computed),
    })
}

/// The transactions of block `number` as a submitted transaction is
/// checked (accepted type, size, EIP-2 signature), senders recovered on all
/// cores; the first refused one refuses the block.
fn recover_body(
    number: u64,
    envelopes: Vec<TxEnvelope>,
) -> Result<Vec<RecoveredTransaction>, ImportError> {
    let refused = |index: usize| move |source| ImportError::Transaction { number, index, source };
    let envelopes = envelopes
        .iter()
        .enumerate()
        .map(|(index, envelope)| {
            decode_raw_transaction(&envelope.encoded_2718()).map_err(refused(index))
        })
        .collect::<Result<Vec<_>, _>>()?;
    recover_parallel(envelopes)
        .into_iter()
        .enumerate()
        .map(|(index, recovered)| recovered.map_err(refused(index)))
        .collect()
}

/// The transactions and receipts roots of an executed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRoots {
    /// Root of the transactions trie.
    pub transactions: B256,
    /// Root of the receipts trie.
    pub receipts: B256,
}

impl BlockRoots {
    /// Computes both roots of an executed block.
    pub fn of(outcome: &BlockOutcome) -> Self {
        let envelopes: Vec<_> = outcome.included.iter().map(|t| t.envelope.clone()).collect();
        Self {
            transactions: block::transactions_root(&envelopes),
            receipts: block::receipts_root(&outcome.receipts),
        }
    }
}

/// The header of the block `outcome` produced on top of `parent_hash`, once
/// its state root is known.
pub fn block_header(
    parent_hash: B256,
    env: &BlockEnv,
    outcome: &BlockOutcome,
    roots: BlockRoots,
    state_root: B256,
) -> Header {
    Header {
        parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: env.beneficiary,
        state_root,
        transactions_root: roots.transactions,
        receipts_root: roots.receipts,
        logs_bloom: outcome.logs_bloom,
        number: env.number,
        gas_limit: env.gas_limit,
        gas_used: outcome.gas_used,
        timestamp: env.timestamp,
        base_fee_per_gas: Some(env.base_fee),
        extra_data: Bytes::new(),
        ..cancun_fields()
    }
}

/// The header fields of Ethereum's later forks, set to their "nothing
/// here" values (no withdrawals, blobs, beacon root or requests), so headers
/// have the shape current Ethereum tools expect.
fn cancun_fields() -> Header {
    Header {
        withdrawals_root: Some(alloy_trie::EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}

/// The base fee of the block after `parent`: the genesis base fee for block
/// 1, EIP-1559's rule after that.
pub fn next_base_fee(spec: &ChainSpec, parent: &SealedHeader) -> u64 {
    let parent_fee = parent.header.base_fee_per_gas.unwrap_or(spec.initial_base_fee);
    if parent.number() == 0 {
        return parent_fee;
    }
    spec.next_base_fee(parent.header.gas_used, parent.header.gas_limit, parent_fee)
}
