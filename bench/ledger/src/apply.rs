//! (b) End-to-end block application: raw signed transfers → decode and
//! recover (all cores) → `execute_block` → transactions/receipts roots →
//! `Store::commit_block` (state root + one redb write transaction), block
//! after block, on a state of tens of thousands of funded accounts.
//!
//! The header is built exactly as the node's `Chain::seal_block` builds it;
//! the genesis block is written by `Chain::open`, as the node writes it.

use crate::signing::{self, Fees, Key, Transfer};
use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, U256, address};
use ol_ledger::{
    ExecutionMode, Genesis, NoContent, execute_block,
    genesis::{Allocation, DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT},
};
use ol_node::{
    chain::{BlockRoots, Chain, block_header},
    metrics::Metrics,
};
use ol_primitives::{
    Amount, BlockEnv, RecoveredTransaction, TOTAL_SUPPLY_OPEN, decode_raw_transaction,
    recover_parallel,
};
use ol_storage::Store;
use rayon::prelude::*;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// Holds the supply not given to benchmark senders.
const RESERVE: Address = address!("0x00000000000000000000000000000000000b0b0b");
/// Block producer.
const PRODUCER: Address = address!("0x0000000000000000000000000000000000c0ffee");
/// OPEN per funded sender.
const SENDER_OPEN: u64 = 1_000;

/// Shape of the (b) run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApplyConfig {
    /// Funded accounts in the genesis state (all of them send).
    pub(crate) accounts: u64,
    /// Transfers per block, from distinct senders to fresh recipients.
    pub(crate) block_transfers: u64,
    pub(crate) blocks: u64,
}

/// Wall time of each phase of one block.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Phases {
    pub(crate) decode: Duration,
    pub(crate) recover: Duration,
    pub(crate) execute: Duration,
    /// Transactions and receipts roots of the header.
    pub(crate) roots: Duration,
    /// `Store::commit_block`: state root and redb commit (they overlap).
    pub(crate) commit: Duration,
    /// Not part of the total: the state root alone, as a dry run
    /// (`StateSnapshot::state_root_after`) of the same changes.
    pub(crate) state_root_alone: Duration,
}

impl Phases {
    pub(crate) fn total(&self) -> Duration {
        self.decode + self.recover + self.execute + self.roots + self.commit
    }

    fn add(&mut self, other: &Phases) {
        self.decode += other.decode;
        self.recover += other.recover;
        self.execute += other.execute;
        self.roots += other.roots;
        self.commit += other.commit;
        self.state_root_alone += other.state_root_alone;
    }
}

/// One applied block.
#[derive(Debug, Clone)]
pub(crate) struct BlockRun {
    pub(crate) number: u64,
    pub(crate) transfers: usize,
    pub(crate) touched_accounts: usize,
    pub(crate) phases: Phases,
}

/// What (b) measured.
#[derive(Debug, Clone)]
pub(crate) struct ApplyResult {
    pub(crate) config: ApplyConfig,
    pub(crate) blocks: Vec<BlockRun>,
    pub(crate) state_accounts_after: u64,
    /// CPU seconds this process used applying the blocks.
    pub(crate) cpu_seconds: Option<f64>,
}

impl ApplyResult {
    pub(crate) fn transfers(&self) -> usize {
        self.blocks.iter().map(|b| b.transfers).sum()
    }

    pub(crate) fn phases(&self) -> Phases {
        let mut sum = Phases::default();
        for block in &self.blocks {
            sum.add(&block.phases);
        }
        sum
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.transfers() as f64 / self.phases().total().as_secs_f64()
    }
}

/// The pre-signed blocks and the keys behind them.
pub(crate) struct Workload {
    pub(crate) genesis: Genesis,
    /// Raw EIP-2718 transfers, one list per block.
    pub(crate) blocks: Vec<Vec<Vec<u8>>>,
}

/// Derives the senders and signs every block's transfers (untimed).
pub(crate) fn prepare(config: ApplyConfig) -> eyre::Result<Workload> {
    eyre::ensure!(
        config.block_transfers <= config.accounts,
        "a block's senders must be distinct: {} transfers per block need as many accounts, got {}",
        config.block_transfers,
        config.accounts
    );
    let keys = Key::derive_many("apply-sender", config.accounts);
    let genesis = genesis(&keys)?;
    let fees = Fees { max_fee_per_gas: 10_000_000_000, max_priority_fee_per_gas: 1_000_000_000 };
    let mut blocks = Vec::with_capacity(config.blocks as usize);
    for block in 0..config.blocks {
        let transfers: Vec<Transfer<'_>> = (0..config.block_transfers)
            .map(|i| {
                // Senders rotate through the funded accounts; a sender's
                // nonce is how many times the rotation reached it before.
                let position = block * config.block_transfers + i;
                Transfer {
                    from: &keys[(position % config.accounts) as usize],
                    nonce: position / config.accounts,
                    to: signing::recipient("apply", position),
                    value: U256::from(1_000_000_000u64 + position),
                }
            })
            .collect();
        blocks.push(signing::sign_all(&transfers, fees));
    }
    Ok(Workload { genesis, blocks })
}

/// Every sender funded with [`SENDER_OPEN`]; the rest of the supply in [`RESERVE`].
fn genesis(keys: &[Key]) -> eyre::Result<Genesis> {
    let mut allocations: Vec<Allocation> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| Allocation {
            name: format!("bench sender {i}"),
            address: key.address,
            amount: Amount::from_open(SENDER_OPEN),
            vesting: None,
        })
        .collect();
    allocations.push(Allocation {
        name: "reserve".into(),
        address: RESERVE,
        amount: Amount::from_open(TOTAL_SUPPLY_OPEN - SENDER_OPEN * keys.len() as u64),
        vesting: None,
    });
    let genesis = Genesis {
        chain_id: signing::CHAIN_ID,
        timestamp: 1_767_225_600,
        gas_limit: DEFAULT_GAS_LIMIT,
        base_fee_per_gas: DEFAULT_BASE_FEE,
        allocations,
        governance: None,
        validator_params: None,
        validators: Vec::new(),
    };
    genesis.validate()?;
    Ok(genesis)
}

/// A fresh store in a temporary directory, with the workload's genesis
/// written by the node's own `Chain::open`; applies blocks one at a time.
pub(crate) struct Applier {
    store: Store,
    spec: ol_ledger::ChainSpec,
    genesis_accounts: u64,
    new_accounts: u64,
    _dir: tempfile::TempDir,
}

impl Applier {
    pub(crate) fn new(genesis: Genesis) -> eyre::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        let spec = genesis.chain_spec();
        let genesis_accounts = genesis.allocations.len() as u64;
        // The node's own genesis write (header shape, state root).
        let chain = Chain::open(store.clone(), genesis, Arc::new(Metrics::new()))?;
        drop(chain);
        Ok(Self { store, spec, genesis_accounts, new_accounts: 0, _dir: dir })
    }

    /// Accounts in the state now (genesis allocations plus recipients so far).
    pub(crate) fn accounts(&self) -> u64 {
        self.genesis_accounts + self.new_accounts
    }

    /// Applies one block of raw transfers, timing each phase.
    pub(crate) fn apply(&mut self, raw: &[Vec<u8>]) -> eyre::Result<BlockRun> {
        let (store, spec) = (&self.store, &self.spec);
        let parent = store.head()?;
        let env = BlockEnv {
            number: parent.number() + 1,
            timestamp: parent.header.timestamp + 1,
            beneficiary: PRODUCER,
            base_fee: ol_node::chain::next_base_fee(spec, &parent),
            gas_limit: spec.block_gas_limit,
        };
        let mut phases = Phases::default();

        let started = Instant::now();
        let envelopes: Vec<TxEnvelope> =
            raw.par_iter().map(|r| decode_raw_transaction(r)).collect::<Result<_, _>>()?;
        phases.decode = started.elapsed();

        let started = Instant::now();
        let recovered: Vec<RecoveredTransaction> =
            recover_parallel(envelopes).into_iter().collect::<Result<_, _>>()?;
        phases.recover = started.elapsed();

        let started = Instant::now();
        let snapshot = store.snapshot()?;
        let outcome = execute_block(
            spec,
            &snapshot,
            &env,
            recovered,
            ExecutionMode::Build,
            &NoContent,
            &ol_ledger::NoContracts,
        )?;
        phases.execute = started.elapsed();
        if let Some((tx, reason)) = outcome.excluded.first() {
            eyre::bail!(
                "block {}: {} of {} transfers were refused, e.g. {}: {reason}",
                env.number,
                outcome.excluded.len(),
                raw.len(),
                tx.hash
            );
        }

        let started = Instant::now();
        let roots = BlockRoots::of(&outcome);
        phases.roots = started.elapsed();

        // Untimed: the state root on its own, for the breakdown.
        let started = Instant::now();
        let expected_root = snapshot.state_root_after(&outcome.changes);
        phases.state_root_alone = started.elapsed();
        drop(snapshot);

        let started = Instant::now();
        let header = store.commit_block(
            &outcome.changes,
            |state_root| block_header(parent.hash, &env, &outcome, roots, state_root),
            &outcome.included,
            &outcome.receipts,
        )?;
        phases.commit = started.elapsed();
        eyre::ensure!(
            header.header.state_root == expected_root,
            "block {}: committed state root {} differs from the dry run's {expected_root}",
            env.number,
            header.header.state_root
        );

        self.new_accounts += outcome.included.len() as u64;
        let run = BlockRun {
            number: env.number,
            transfers: outcome.included.len(),
            touched_accounts: outcome.changes.accounts.len(),
            phases,
        };
        eprintln!(
            "  (b) block {}: {} transfers, {} accounts touched, {:.0} ms (decode {:.0}, recover {:.0}, execute {:.0}, roots {:.0}, commit {:.0}; state root alone {:.0})",
            run.number,
            run.transfers,
            run.touched_accounts,
            ms(phases.total()),
            ms(phases.decode),
            ms(phases.recover),
            ms(phases.execute),
            ms(phases.roots),
            ms(phases.commit),
            ms(phases.state_root_alone),
        );
        Ok(run)
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
