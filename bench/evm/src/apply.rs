//! Block application, the same pipeline for every block: raw signed
//! transactions → decode and recover (all cores) → `execute_block` with
//! `ol_evm::Revm` → transactions/receipts roots → `Store::commit_block`
//! (state root + one redb write transaction). The header is built exactly as
//! the node's `Chain::seal_block` builds it; the genesis block is written by
//! `Chain::open`, as the node writes it.
//!
//! After each block, untimed, [`Checker`] proves the block did what it was
//! signed to do, so a run can never silently measure failures.

use crate::{
    token,
    workload::{Block, Intent, Kind, SENDER_OPEN, Workload},
};
use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, U256, address, keccak256};
use ol_ledger::{BlockOutcome, ExecutionMode, Genesis, NoContent, StateView, execute_block};
use ol_node::{
    chain::{BlockRoots, Chain, block_header},
    metrics::Metrics,
};
use ol_primitives::{
    Amount, BlockEnv, Receipt, RecoveredTransaction, decode_raw_transaction, recover_parallel,
};
use ol_storage::{StateSnapshot, Store};
use rayon::prelude::*;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

/// Block producer.
const PRODUCER: Address = address!("0x0000000000000000000000000000000000c0ffee");

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

    pub(crate) fn add(&mut self, other: &Phases) {
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
    pub(crate) kind: Kind,
    pub(crate) transfers: usize,
    pub(crate) gas_used: u64,
    pub(crate) touched_accounts: usize,
    pub(crate) written_slots: usize,
    pub(crate) phases: Phases,
    /// CPU seconds this process used for the timed phases.
    pub(crate) cpu_seconds: Option<f64>,
}

/// A fresh store in a temporary directory, with the workload's genesis
/// written by the node's own `Chain::open`; applies blocks one at a time.
pub(crate) struct Applier {
    store: Store,
    spec: ol_ledger::ChainSpec,
    checker: Checker,
    _dir: tempfile::TempDir,
}

impl Applier {
    pub(crate) fn new(workload: &Workload) -> eyre::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        let genesis: Genesis = workload.genesis.clone();
        let spec = genesis.chain_spec();
        let checker = Checker::new(workload);
        // The node's own genesis write (header shape, state root).
        drop(Chain::open(store.clone(), genesis, Arc::new(Metrics::new()))?);
        Ok(Self { store, spec, checker, _dir: dir })
    }

    /// Accounts and token holders the checker has verified so far.
    pub(crate) fn checked(&self) -> (usize, usize) {
        (self.checker.open.len(), self.checker.tokens.len())
    }

    /// Applies one block, timing each phase, then checks it (untimed).
    pub(crate) fn apply(&mut self, block: &Block) -> eyre::Result<BlockRun> {
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
        let cpu_before = process_cpu_seconds();

        let started = Instant::now();
        let envelopes: Vec<TxEnvelope> =
            block.raw.par_iter().map(|r| decode_raw_transaction(r)).collect::<Result<_, _>>()?;
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
            &ol_evm::Revm,
        )?;
        phases.execute = started.elapsed();
        if let Some((tx, reason)) = outcome.excluded.first() {
            eyre::bail!(
                "block {} ({}): {} of {} transactions were refused, e.g. {}: {reason}",
                env.number,
                block.kind.name(),
                outcome.excluded.len(),
                block.raw.len(),
                tx.hash
            );
        }

        let started = Instant::now();
        let roots = BlockRoots::of(&outcome);
        phases.roots = started.elapsed();

        let started = Instant::now();
        let header = store.commit_block(
            &outcome.changes,
            |state_root| block_header(parent.hash, &env, &outcome, roots, state_root),
            &outcome.included,
            &outcome.receipts,
        )?;
        phases.commit = started.elapsed();
        let cpu_seconds = process_cpu_seconds().zip(cpu_before).map(|(after, b)| after - b);

        // Untimed: the state root alone (dry run on the parent's snapshot),
        // for the breakdown; it must match what the commit computed.
        let started = Instant::now();
        let expected_root = snapshot.state_root_after(&outcome.changes);
        phases.state_root_alone = started.elapsed();
        drop(snapshot);
        eyre::ensure!(
            header.header.state_root == expected_root,
            "block {}: committed state root {} differs from the dry run's {expected_root}",
            env.number,
            header.header.state_root
        );

        self.checker.check(block, &outcome, &store.snapshot()?, env.number)?;
        Ok(BlockRun {
            number: env.number,
            kind: block.kind,
            transfers: outcome.included.len(),
            gas_used: outcome.gas_used,
            touched_accounts: outcome.changes.accounts.len(),
            written_slots: outcome.changes.storage.values().map(HashMap::len).sum(),
            phases,
            cpu_seconds,
        })
    }
}

/// The balances every transaction so far must have left, OPEN and token,
/// compared with the committed state after each block.
struct Checker {
    token: Address,
    holder: Address,
    supply: U256,
    runtime_code: alloy_primitives::Bytes,
    /// Expected OPEN balance of every account a benchmark transaction touched.
    open: HashMap<Address, U256>,
    /// Expected token balance of every holder.
    tokens: HashMap<Address, U256>,
}

impl Checker {
    fn new(workload: &Workload) -> Self {
        // The holder and the senders are the genesis accounts funded with
        // exactly SENDER_OPEN (the reserve holds the rest of the supply).
        let funded = Amount::from_open(SENDER_OPEN).wei();
        let open = workload
            .genesis
            .allocations
            .iter()
            .filter(|a| a.amount.wei() == funded)
            .map(|a| (a.address, funded))
            .collect();
        Self {
            token: workload.token,
            holder: workload.holder,
            supply: workload.supply,
            runtime_code: workload.artifact.runtime.clone(),
            open,
            tokens: HashMap::new(),
        }
    }

    /// Checks that every receipt succeeded with the logs its kind must emit,
    /// updates the expected balances, and compares every balance the block
    /// touched with `state` (the state after the block).
    fn check(
        &mut self,
        block: &Block,
        outcome: &BlockOutcome,
        state: &StateSnapshot,
        number: u64,
    ) -> eyre::Result<()> {
        eyre::ensure!(
            outcome.receipts.len() == block.intents.len(),
            "block {number}: {} receipts for {} transactions",
            outcome.receipts.len(),
            block.intents.len()
        );
        let mut touched = Vec::with_capacity(2 * block.intents.len());
        for (index, (receipt, intent)) in outcome.receipts.iter().zip(&block.intents).enumerate() {
            self.check_receipt(block.kind, receipt, intent).map_err(|error| {
                eyre::eyre!(
                    "block {number} ({}), transaction {index} ({}): {error}",
                    block.kind.name(),
                    receipt.transaction_hash
                )
            })?;
            let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
            let paid = if block.kind == Kind::Open { fee + intent.amount } else { fee };
            let from = self.open.entry(intent.from).or_default();
            *from = from.checked_sub(paid).ok_or_else(|| {
                eyre::eyre!("block {number}: {} paid more OPEN than it had", intent.from)
            })?;
            match block.kind {
                Kind::Open => *self.open.entry(intent.to).or_default() += intent.amount,
                Kind::Erc20 => {
                    let from = self.tokens.entry(intent.from).or_default();
                    *from = from.checked_sub(intent.amount).ok_or_else(|| {
                        eyre::eyre!("block {number}: {} sent more tokens than it had", intent.from)
                    })?;
                    *self.tokens.entry(intent.to).or_default() += intent.amount;
                }
                Kind::Deploy => {
                    self.tokens.insert(self.holder, self.supply);
                }
            }
            touched.extend([intent.from, intent.to]);
        }
        if block.kind == Kind::Deploy {
            self.check_deployment(state)?;
        }
        touched.sort_unstable();
        touched.dedup();
        for address in touched {
            if let Some(expected) = self.open.get(&address) {
                let actual = state.account(&address)?.map(|a| a.balance).unwrap_or_default();
                eyre::ensure!(
                    actual == *expected,
                    "block {number}: {address} holds {actual} wei of OPEN, expected {expected}"
                );
            }
            if let Some(expected) = self.tokens.get(&address) {
                let actual = state.storage(&self.token, &token::balance_slot(address))?;
                eyre::ensure!(
                    actual == *expected,
                    "block {number}: {address} holds {actual} tokens, expected {expected}"
                );
            }
        }
        Ok(())
    }

    fn check_receipt(&self, kind: Kind, receipt: &Receipt, intent: &Intent) -> eyre::Result<()> {
        eyre::ensure!(receipt.success(), "failed (status 0), gas used {}", receipt.gas_used);
        match kind {
            Kind::Open => {
                eyre::ensure!(receipt.logs().is_empty(), "a plain transfer emitted logs");
                eyre::ensure!(receipt.gas_used == 21_000, "used {} gas", receipt.gas_used);
            }
            Kind::Erc20 | Kind::Deploy => {
                let [log] = receipt.logs() else {
                    eyre::bail!("emitted {} logs, expected one Transfer", receipt.logs().len());
                };
                let event = token::transfer_event(log)
                    .filter(|_| log.address == self.token)
                    .ok_or_else(|| eyre::eyre!("its log is not the token's Transfer event"))?;
                let (from, to) = if kind == Kind::Deploy {
                    (Address::ZERO, self.holder)
                } else {
                    (intent.from, intent.to)
                };
                eyre::ensure!(
                    event.from == from && event.to == to && event.value == intent.amount,
                    "Transfer({}, {}, {}) where ({from}, {to}, {}) was signed",
                    event.from,
                    event.to,
                    event.value,
                    intent.amount
                );
            }
        }
        Ok(())
    }

    /// The token's account holds exactly the compiled runtime code, and the
    /// storage layout the balance checks assume is the real one.
    fn check_deployment(&self, state: &StateSnapshot) -> eyre::Result<()> {
        let account = state
            .account(&self.token)?
            .ok_or_else(|| eyre::eyre!("no account at the token's address {}", self.token))?;
        eyre::ensure!(
            account.code_hash == keccak256(&self.runtime_code),
            "the token's code is not the artifact's deployedBytecode"
        );
        let total = state.storage(&self.token, &U256::from(token::TOTAL_SUPPLY_SLOT).into())?;
        eyre::ensure!(total == self.supply, "totalSupply slot holds {total}, not {}", self.supply);
        Ok(())
    }
}

/// CPU seconds (user + system) this process has used, from `/proc`.
pub(crate) fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks as f64 / 100.0)
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{self, Config};

    fn small() -> Workload {
        let config = Config { senders: 6, block_transfers: 4, blocks_per_kind: 2, with_open: true };
        workload::prepare(config).expect("a small workload signs")
    }

    #[test]
    fn every_block_applies_and_checks() {
        let workload = small();
        let mut applier = Applier::new(&workload).expect("genesis is written");
        for block in &workload.setup {
            applier.apply(block).expect("setup block applies");
        }
        for block in &workload.timed {
            let run = applier.apply(block).expect("timed block applies and checks");
            assert_eq!(run.transfers, 4);
            match run.kind {
                Kind::Open => assert_eq!(run.gas_used, 4 * 21_000),
                // A transfer to a fresh recipient writes a zero slot.
                _ => assert!(run.gas_used > 4 * 45_000, "{}", run.gas_used),
            }
        }
    }

    /// An applier past the setup blocks.
    fn after_setup(workload: &Workload) -> Applier {
        let mut applier = Applier::new(workload).expect("genesis is written");
        for block in &workload.setup {
            applier.apply(block).expect("setup block applies");
        }
        applier
    }

    #[test]
    fn an_open_block_that_moved_other_amounts_fails_the_check() {
        let workload = small();
        let mut applier = after_setup(&workload);
        let mut open = workload.timed[0].clone();
        open.intents[1].amount += U256::from(1);
        let error = applier.apply(&open).expect_err("a transfer of another amount passed");
        assert!(error.to_string().contains("wei of OPEN, expected"), "{error}");
    }

    #[test]
    fn an_erc20_block_that_paid_other_recipients_fails_the_check() {
        let workload = small();
        let mut applier = after_setup(&workload);
        applier.apply(&workload.timed[0]).expect("the OPEN block applies");
        let mut erc20 = workload.timed[1].clone();
        erc20.intents[2].to = Address::repeat_byte(7);
        let error = applier.apply(&erc20).expect_err("a transfer to another recipient passed");
        assert!(error.to_string().contains("was signed"), "{error}");
    }
}
