//! (2) Settlement throughput: blocks of signed settlement transactions, each
//! crediting 64 attributed contributions of 64 distinct contributors,
//! applied exactly as the chain benchmark applies its OPEN transfers, block
//! for block alternating with transfer blocks of that benchmark's own
//! workload (`bench/ledger/src/apply.rs`) in the same run.

use crate::{
    apply::{self, ApplyConfig, Phases},
    ledger::{self, Served, Setup},
};
use ol_ledger::inference::{Attributed, INFERENCE};
use rayon::prelude::*;

/// Attributed contributions per settlement.
pub(crate) const ATTRIBUTED: usize = 64;

/// What (2) measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThroughputResult {
    pub(crate) settlements: usize,
    pub(crate) settle_blocks: usize,
    pub(crate) settle_phases: Phases,
    pub(crate) settle_gas: u64,
    pub(crate) transfers: usize,
    pub(crate) transfer_blocks: usize,
    pub(crate) transfer_phases: Phases,
    pub(crate) transfer_accounts: u64,
}

impl ThroughputResult {
    pub(crate) fn settle_per_second(&self) -> f64 {
        self.settlements as f64 / self.settle_phases.total().as_secs_f64()
    }
    pub(crate) fn transfer_per_second(&self) -> f64 {
        self.transfers as f64 / self.transfer_phases.total().as_secs_f64()
    }
}

fn add(sum: &mut Phases, block: &Phases) {
    sum.decode += block.decode;
    sum.recover += block.recover;
    sum.execute += block.execute;
    sum.roots += block.roots;
    sum.commit += block.commit;
}

/// The 64 contributions settlement `k` credits: ids `(k × 37 + j × 65) mod
/// documents + 1`, distinct (65 is odd, `documents` a power of two) and, with
/// document `i` contributed by `i mod contributors`, of distinct contributors.
fn attribution(k: usize, documents: usize) -> Vec<Attributed> {
    let mut ids: Vec<u64> =
        (0..ATTRIBUTED).map(|j| ((k * 37 + j * 65) % documents) as u64 + 1).collect();
    ids.sort_unstable();
    let base = (10_000 / ATTRIBUTED) as u16;
    let extra = 10_000 % ATTRIBUTED;
    ids.into_iter()
        .enumerate()
        .map(|(j, id)| Attributed { contributionId: id, bps: base + u16::from(j < extra) })
        .collect()
}

/// Signs `count` settlements starting at settlement number `first`.
fn sign_block(
    setup: &mut Setup,
    first: usize,
    count: usize,
    gas_limit: u64,
) -> eyre::Result<Vec<Vec<u8>>> {
    let provider = setup.parties.provider.address();
    let nonces: Vec<u64> = (0..count).map(|_| setup.ledger.take_nonce(provider)).collect();
    let (parties, documents, index_hash) = (&setup.parties, setup.documents, setup.index_hash);
    (0..count)
        .into_par_iter()
        .map(|i| {
            let k = first + i;
            let prompt = format!("prompt {k}");
            let output = format!("output {k}");
            let served = Served {
                prompt: prompt.as_bytes(),
                output: output.as_bytes(),
                input_tokens: 32,
                output_tokens: crate::request::OUTPUT_TOKENS as u32,
                attribution: attribution(k, documents),
            };
            let payer = &parties.payers[k % parties.payers.len()];
            let input = ledger::settle_input(index_hash, payer, provider, k as u64, served)?;
            ledger::sign_call(&parties.provider, nonces[i], INFERENCE, input, gas_limit)
        })
        .collect()
}

/// Applies `blocks` settlement blocks of up to `per_block` settlements
/// (fewer when the block gas limit says so), each after one transfer block.
pub(crate) fn run(
    setup: &mut Setup,
    per_block: usize,
    blocks: usize,
    transfers: ApplyConfig,
) -> eyre::Result<ThroughputResult> {
    eyre::ensure!(
        setup.documents.is_power_of_two() && setup.documents >= ATTRIBUTED,
        "the datanet needs a power-of-two number of contributions, at least {ATTRIBUTED}"
    );
    // The first settlement writes every slot fresh: the dearest case.
    let probe = {
        let provider = setup.parties.provider.address();
        let served = Served {
            prompt: b"probe",
            output: b"probe",
            input_tokens: 32,
            output_tokens: crate::request::OUTPUT_TOKENS as u32,
            attribution: attribution(0, setup.documents),
        };
        let payer = &setup.parties.payers[0];
        ledger::settle_input(setup.index_hash, payer, provider, 0, served)?
    };
    let gas_limit = setup.ledger.simulate(setup.parties.provider.address(), &probe)?;
    let per_block = per_block.min((setup.ledger.block_gas_limit() / gas_limit) as usize);
    eprintln!(
        "(2) signing {blocks} blocks of {per_block} settlements (gas limit {gas_limit} each) and {} blocks of {} transfers",
        transfers.blocks, transfers.block_transfers
    );
    let mut settle_blocks = Vec::with_capacity(blocks);
    for b in 0..blocks {
        settle_blocks.push(sign_block(setup, b * per_block, per_block, gas_limit)?);
    }
    let workload = apply::prepare(transfers)?;
    let mut applier = apply::Applier::new(workload.genesis)?;

    let mut result = ThroughputResult::default();
    let rounds = settle_blocks.len().max(workload.blocks.len());
    for round in 0..rounds {
        if let Some(raw) = workload.blocks.get(round) {
            let run = applier.apply(raw)?;
            result.transfers += run.transfers;
            result.transfer_blocks += 1;
            add(&mut result.transfer_phases, &run.phases);
        }
        if let Some(raw) = settle_blocks.get(round) {
            let applied = setup.ledger.apply(raw)?;
            let p = applied.phases;
            eprintln!(
                "  (2) settlement block: {} settlements, {} gas, {:.0} ms (decode {:.0}, recover {:.0}, execute {:.0}, roots {:.0}, commit {:.0})",
                applied.transactions,
                applied.gas_used,
                apply::ms(p.total()),
                apply::ms(p.decode),
                apply::ms(p.recover),
                apply::ms(p.execute),
                apply::ms(p.roots),
                apply::ms(p.commit)
            );
            result.settlements += applied.transactions;
            result.settle_blocks += 1;
            result.settle_gas += applied.gas_used;
            add(&mut result.settle_phases, &p);
        }
    }
    result.transfer_accounts = applier.accounts();
    Ok(result)
}
