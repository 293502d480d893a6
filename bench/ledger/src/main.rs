//! OpenLedger ledger throughput, in one run on this machine:
//!
//! * (a) the bound: libsecp256k1 sender recovery alone, on all cores;
//! * (b) end-to-end block application of signed OPEN transfers (decode and
//!   recover → `execute_block` → `Store::commit_block`), and its ratio to (a);
//! * (c) the same kind of pre-signed transfers sent with batched
//!   `eth_sendRawTransaction` to the dev node (child process, release build)
//!   and to anvil, both with `--block-time 1`, in transfers committed per
//!   second, and the ratio node / anvil.
//!
//! Everything is signed before timing starts. Prints a table and writes it
//! as JSON to `target/bench-ledger.json`.
//!
//! ```text
//! bench/ledger/run [--quick]        # builds the node and this, then runs
//! cargo run --release -p ol-bench-ledger -- [--quick] [--skip-rpc]
//! ```

mod apply;
mod recovery;
mod report;
mod rpc;
mod signing;

use clap::Parser;
use std::{path::PathBuf, time::Instant};

/// Benchmarks signature recovery, block application and JSON-RPC ingestion
/// (against anvil).
#[derive(Debug, Parser)]
#[command(name = "ol-bench-ledger")]
struct Arguments {
    /// A smaller run (seconds rather than minutes).
    #[arg(long)]
    quick: bool,
    /// Skip (c), the JSON-RPC comparison with anvil.
    #[arg(long)]
    skip_rpc: bool,
    /// Run only (c) (for profiling the node under load).
    #[arg(long, conflicts_with = "skip_rpc")]
    only_rpc: bool,
    /// The `openledger` binary (release build).
    #[arg(long, value_name = "PATH")]
    node: Option<PathBuf>,
    /// The anvil binary (`scripts/install-interop-deps` installs it).
    #[arg(long, value_name = "PATH", env = "ANVIL")]
    anvil: Option<PathBuf>,
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
    let (mut apply_config, rpc_config, rpc_rounds) = if arguments.quick {
        (
            apply::ApplyConfig { accounts: 20_000, block_transfers: 10_000, blocks: 3 },
            rpc::RpcConfig { transfers: 30_000, senders: 50, batch: 500, concurrency: 4 },
            1,
        )
    } else {
        (
            apply::ApplyConfig { accounts: 50_000, block_transfers: 10_000, blocks: 8 },
            rpc::RpcConfig { transfers: 120_000, senders: 200, batch: 500, concurrency: 4 },
            2,
        )
    };

    eprintln!(
        "signing {} transfers for (a) and (b) on {} threads ...",
        apply_config.blocks * apply_config.block_transfers,
        rayon::current_num_threads()
    );
    if arguments.only_rpc {
        apply_config.blocks = 1;
    }
    let workload = apply::prepare(apply_config)?;
    eprintln!("(a) recovery alone and (b) block application, alternating block by block");
    let mut recovery = recovery::RecoveryResult::new();
    let mut applier = apply::Applier::new(workload.genesis)?;
    let mut blocks = Vec::with_capacity(workload.blocks.len());
    let mut apply_cpu = Some(0.0);
    for raw in &workload.blocks {
        recovery.round(raw)?;
        let cpu_before = rpc::process_cpu_seconds(std::process::id());
        blocks.push(applier.apply(raw)?);
        let cpu = rpc::process_cpu_seconds(std::process::id()).zip(cpu_before).map(|(a, b)| a - b);
        apply_cpu = apply_cpu.zip(cpu).map(|(sum, cpu)| sum + cpu);
    }
    let applied = apply::ApplyResult {
        config: apply_config,
        blocks,
        state_accounts_after: applier.accounts(),
        cpu_seconds: apply_cpu,
    };
    drop(applier);

    let rpc = if arguments.skip_rpc {
        None
    } else {
        let node = arguments.node.unwrap_or_else(|| root.join("target/release/openledger"));
        let anvil =
            arguments.anvil.unwrap_or_else(|| root.join("tests/interop/node_modules/.bin/anvil"));
        for (what, path, hint) in [
            ("openledger", &node, "cargo build --release -p ol-cli"),
            ("anvil", &anvil, "scripts/install-interop-deps"),
        ] {
            eyre::ensure!(path.exists(), "{what} not found at {} (run `{hint}`)", path.display());
        }
        eprintln!("(c) JSON-RPC: signing {} transfers", rpc_config.transfers);
        let stream = rpc::prepare(rpc_config)?;
        let runtime = tokio::runtime::Runtime::new()?;
        let mut runs = report::RpcRuns { config: rpc_config, node: Vec::new(), anvil: Vec::new() };
        // Alternating rounds, so both see the machine's load at similar times.
        for round in 1..=rpc_rounds {
            eprintln!("(c) round {round} of {rpc_rounds}");
            let server = rpc::Server::Node { binary: &node };
            runs.node.push(runtime.block_on(rpc::run_chain(server, rpc_config, &stream))?);
            let server = rpc::Server::Anvil { binary: &anvil };
            runs.anvil.push(runtime.block_on(rpc::run_chain(server, rpc_config, &stream))?);
        }
        Some(runs)
    };

    let report = report::Report {
        quick: arguments.quick,
        threads: rayon::current_num_threads(),
        recovery,
        applied,
        rpc,
        wall: started.elapsed(),
        load_average,
    };
    println!("{}", report.table());
    let json_path = arguments.json.unwrap_or_else(|| root.join("target/bench-ledger.json"));
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("wrote {}", json_path.display());
    Ok(())
}
