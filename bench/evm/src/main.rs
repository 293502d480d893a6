//! OpenLedger EVM throughput, in one run on this machine: ERC-20 transfers
//! through revm against plain OPEN transfers, through the same block
//! pipeline (decode and recover on all cores → `execute_block` with
//! `ol_evm::Revm` → tx/receipt roots → `Store::commit_block`), blocks of the
//! two kinds alternating so both see the same load. Reports transfers per
//! second of each, end to end and for `execute_block` alone, gas per
//! transfer, and the ratio ERC-20 / OPEN.
//!
//! The token is OpenZeppelin's `ERC20`, compiled with solc and committed as
//! `data/BenchToken.json`. Setup (untimed): a genesis of funded senders, the
//! token's deployment and its distribution to every sender, all as real
//! transactions through the same pipeline. Everything is signed before timing
//! starts, and every block is checked afterwards (receipts, events,
//! balances). Prints a table and writes it as JSON to
//! `target/bench-evm.json`.
//!
//! ```text
//! bench/evm/run [--quick]        # builds this (release) and runs it
//! cargo run --release -p ol-bench-evm -- [--quick] [--blocks N]
//! ```

mod apply;
mod report;
mod signing;
mod token;
mod workload;

use clap::Parser;
use std::{path::PathBuf, time::Instant};
use workload::Config;

/// Benchmarks ERC-20 transfers through revm against plain OPEN transfers.
#[derive(Debug, Parser)]
#[command(name = "ol-bench-evm")]
struct Arguments {
    /// A smaller run (about 20 seconds).
    #[arg(long)]
    quick: bool,
    /// Timed blocks of each kind (default 3 quick, 10 full).
    #[arg(long, value_name = "N")]
    blocks: Option<u64>,
    /// Time only ERC-20 blocks, print no table (for profiling that path).
    #[arg(long)]
    only_erc20: bool,
    /// Where to write the JSON report.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

fn main() -> eyre::Result<()> {
    let arguments = Arguments::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let started = Instant::now();
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let mut config = if arguments.quick {
        Config { senders: 10_000, block_transfers: 10_000, blocks_per_kind: 3, with_open: true }
    } else {
        Config { senders: 20_000, block_transfers: 10_000, blocks_per_kind: 10, with_open: true }
    };
    config.with_open = !arguments.only_erc20;
    if let Some(blocks) = arguments.blocks {
        eyre::ensure!(blocks > 0, "--blocks must be at least 1");
        config.blocks_per_kind = blocks;
    }

    eprintln!(
        "signing {} setup and {} timed transactions on {} threads ...",
        1 + config.senders,
        (1 + u64::from(config.with_open)) * config.blocks_per_kind * config.block_transfers,
        rayon::current_num_threads()
    );
    let workload = workload::prepare(config)?;
    let mut applier = apply::Applier::new(&workload)?;
    eprintln!("setup (untimed): deploy the token at {}, distribute it", workload.token);
    let mut setup = Vec::with_capacity(workload.setup.len());
    for block in &workload.setup {
        let run = applier.apply(block)?;
        log_block("setup", &run);
        setup.push(run);
    }
    eprintln!(
        "timed: {}",
        if config.with_open { "OPEN and ERC-20 blocks, alternating" } else { "ERC-20 blocks" }
    );
    let mut timed = Vec::with_capacity(workload.timed.len());
    for block in &workload.timed {
        let run = applier.apply(block)?;
        log_block("timed", &run);
        timed.push(run);
    }
    if !config.with_open {
        eprintln!("--only-erc20: no OPEN blocks to compare with, so no table");
        return Ok(());
    }

    let report = report::Report {
        quick: arguments.quick,
        threads: rayon::current_num_threads(),
        config,
        compiler: workload.artifact.compiler.clone(),
        runtime_code_bytes: workload.artifact.runtime.len(),
        setup,
        timed,
        checked: applier.checked(),
        wall: started.elapsed(),
        load_average,
    };
    println!("{}", report.table());
    let json_path = arguments.json.unwrap_or_else(|| root.join("target/bench-evm.json"));
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("wrote {}", json_path.display());
    Ok(())
}

fn log_block(stage: &str, run: &apply::BlockRun) {
    let p = &run.phases;
    eprintln!(
        "  {stage} block {} ({}): {} txs, {} gas, {:.0} ms (decode {:.0}, recover {:.0}, execute {:.0}, roots {:.0}, commit {:.0}; state root alone {:.0})",
        run.number,
        run.kind.name(),
        run.transfers,
        report::count(run.gas_used),
        apply::ms(p.total()),
        apply::ms(p.decode),
        apply::ms(p.recover),
        apply::ms(p.execute),
        apply::ms(p.roots),
        apply::ms(p.commit),
        apply::ms(p.state_root_alone),
    );
}
