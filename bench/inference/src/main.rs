//! OpenLedger inference benchmark, in one run on this machine:
//!
//! * (1) per request of 256 output tokens: generation vs attribution of the
//!   output against the datanet version's index plus settlement (build and
//!   authorise, simulate, sign, apply in a block); target < 10 %;
//! * (2) settlement transactions per second, 64 attributed contributions
//!   each, applied as the chain benchmark applies transfers, vs those
//!   transfers in the same run; target ≥ 1/3;
//! * (3) 100 LoRA adapters over one base served from two threads with an
//!   adapter cache that holds part of them: requests/s, p50/p99 latency,
//!   cache counters, memory per adapter and adapter-switch latency.
//!
//! Everything is made in the run: corpus, model, adapters, index, chain.
//! Prints a table and writes it as JSON to `target/bench-inference.json`.
//!
//! ```text
//! bench/inference/run [--quick]
//! cargo run --release -p ol-bench-inference -- [--quick]
//! ```

// The chain benchmark's own transfer workload and block application, so the
// transfer figure here is measured by the very code that measures it there.
#[path = "../../ledger/src/apply.rs"]
#[allow(dead_code)]
mod apply;
#[path = "../../ledger/src/signing.rs"]
#[allow(dead_code)]
mod signing;

mod corpus;
mod ledger;
mod report;
mod request;
mod serving;
mod throughput;
mod weights;

use clap::Parser;
use ol_attribution::{
    index::{Document, Index, build_index},
    tokenizer::Tokenizer,
};
use std::{path::PathBuf, time::Instant};

/// Benchmarks attribution + settlement per request, settlement throughput
/// and LoRA adapter serving.
#[derive(Debug, Parser)]
#[command(name = "ol-bench-inference")]
struct Arguments {
    /// A smaller run (about a minute).
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON report.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) documents: usize,
    pub(crate) document_bytes: usize,
    pub(crate) contributors: u64,
    pub(crate) payers: u64,
    pub(crate) train_steps: usize,
    pub(crate) lora_steps: usize,
    pub(crate) requests: usize,
    pub(crate) settle_per_block: usize,
    pub(crate) settle_blocks: usize,
    pub(crate) transfers: apply::ApplyConfig,
    pub(crate) adapters: usize,
    pub(crate) resident: usize,
    pub(crate) serving_requests: usize,
    pub(crate) serving_threads: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        Self {
            documents: 4096,
            document_bytes: 320,
            contributors: 1024,
            payers: 64,
            train_steps: if quick { 80 } else { 150 },
            lora_steps: if quick { 20 } else { 40 },
            requests: if quick { 8 } else { 32 },
            settle_per_block: 1_000,
            settle_blocks: if quick { 3 } else { 6 },
            transfers: if quick {
                apply::ApplyConfig { accounts: 20_000, block_transfers: 10_000, blocks: 3 }
            } else {
                apply::ApplyConfig { accounts: 50_000, block_transfers: 10_000, blocks: 6 }
            },
            adapters: 100,
            resident: 30,
            serving_requests: if quick { 60 } else { 300 },
            serving_threads: 2,
        }
    }
}

fn main() -> eyre::Result<()> {
    let arguments = Arguments::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let plan = Plan::new(arguments.quick);
    let started = Instant::now();
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();

    eprintln!("setup: corpus of {} documents, index, model, adapters", plan.documents);
    let setup_started = Instant::now();
    let documents = corpus::documents(1, plan.documents, plan.document_bytes);
    let index_dir = tempfile::tempdir()?;
    let indexed: Vec<Document> = documents
        .iter()
        .enumerate()
        .map(|(i, text)| Document { id: i as u64 + 1, rows: vec![text.clone()] })
        .collect();
    build_index(index_dir.path(), &Tokenizer::byte(), &indexed, &mut |_| {})?;
    let index = Index::open(index_dir.path())?;
    let index_hash = format!("0x{}", index.index_hash()).parse()?;
    // The adapter learns from a slice of the corpus (as an adapter would
    // specialise on part of a datanet).
    let weights = weights::prepare(
        &documents,
        &documents[..plan.documents / 8],
        plan.train_steps,
        plan.lora_steps,
        plan.adapters,
    )?;
    let base = weights.base.clone();
    eprintln!(
        "  model: {} parameters, loss {:.2} → {:.2} in {:.1} s; adapter fine-tuned in {:.1} s",
        weights.base_parameters,
        weights.base_loss.0,
        weights.base_loss.1,
        weights.train_seconds,
        weights.fine_tune_seconds
    );
    let parties = ledger::Parties::new(plan.payers, plan.contributors);
    let weights_hash = alloy_primitives::B256::from(base.hash().0);
    let mut setup = ledger::set_up(parties, &documents, index_hash, weights_hash)?;
    let setup_seconds = setup_started.elapsed().as_secs_f64();
    eprintln!("  setup done in {setup_seconds:.1} s");

    eprintln!("(1) {} requests of {} output tokens", plan.requests, request::OUTPUT_TOKENS);
    let runtime = ol_models::Runtime::new(base.clone(), 0);
    let requests = request::run(&mut setup, &runtime, &index, &documents, plan.requests)?;

    let throughput =
        throughput::run(&mut setup, plan.settle_per_block, plan.settle_blocks, plan.transfers)?;
    let contributor = setup.parties.contributors[0].address();
    eyre::ensure!(
        !setup.ledger.rewards_of(contributor)?.is_zero(),
        "settlements credited nothing to contributor {contributor}"
    );

    eprintln!("(3) {} adapters, cache of {}", plan.adapters, plan.resident);
    let adapter_cost = serving::adapter_cost(&base, &weights.adapters)?;
    let mut served = Vec::new();
    for rotation in [serving::Rotation::Zipf, serving::Rotation::RoundRobin] {
        let run = serving::run(
            &base,
            &weights.adapters,
            adapter_cost.memory_bytes,
            plan.resident,
            &index,
            &documents,
            rotation,
            plan.serving_requests,
            plan.serving_threads,
        )?;
        eprintln!(
            "  {}: {:.1} requests/s, p99 {:.0} ms",
            rotation.name(),
            run.per_second(),
            run.quantile(0.99).as_secs_f64() * 1e3
        );
        served.push(run);
    }

    let report = report::Report {
        quick: arguments.quick,
        threads: rayon::current_num_threads(),
        plan,
        load_average,
        setup_seconds,
        wall: started.elapsed(),
        base_parameters: weights.base_parameters,
        base_bytes: weights.base_bytes,
        requests,
        throughput,
        adapter_cost,
        served,
    };
    println!("{}", report.table());
    let json_path = arguments.json.unwrap_or_else(|| root.join("target/bench-inference.json"));
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("wrote {}", json_path.display());
    Ok(())
}
