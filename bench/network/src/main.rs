//! OpenLedger network throughput and commit latency, in one run on this
//! machine: the same steady stream of pre-signed EIP-1559 transfers, one
//! `eth_sendRawTransaction` each, sent to
//!
//! * a fresh single-node dev chain (`openledger node --dev --block-time 1`),
//! * a fresh network of 4 local validators (`openledger testnet init
//!   --validators 4 --followers 0`, then `openledger node --network` each,
//!   Malachite BFT), with `[consensus] block_time_ms` set to the dev chain's
//!   block time, transfers spread round-robin over the nodes;
//!
//! measured as committed transfers per second and commit latency (submit →
//! first seen in a block), with the ratio network / dev. Checks that every
//! transfer was committed and that every node holds the same blocks (hash
//! and stateRoot). Prints a table and writes it as JSON to
//! `target/bench-network.json`.
//!
//! ```text
//! bench/network/run [--quick]        # builds the node and this, then runs
//! cargo run --release -p ol-bench-network -- [--quick] [--rate N] [--seconds S]
//! ```

mod cluster;
mod load;
mod report;

use clap::Parser;
use cluster::{Cluster, Mode};
use std::{path::PathBuf, time::Instant};

/// Benchmarks committed transfers/s and commit latency: local validator
/// network against the single-node dev chain.
#[derive(Debug, Parser)]
#[command(name = "ol-bench-network")]
struct Arguments {
    /// A shorter run (5 s of load instead of 20 s).
    #[arg(long)]
    quick: bool,
    /// Offered load, transfers per second.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds of load (default 20, or 5 with --quick).
    #[arg(long)]
    seconds: Option<f64>,
    /// Validators of the network.
    #[arg(long, default_value_t = 4)]
    validators: u16,
    /// Block time of both chains, seconds (the dev chain takes whole seconds).
    #[arg(long, default_value_t = 1)]
    block_time: u64,
    /// Run only the network (no dev chain, no ratio).
    #[arg(long)]
    only_network: bool,
    /// The `openledger` binary (release build).
    #[arg(long, value_name = "PATH")]
    node: Option<PathBuf>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

fn main() -> eyre::Result<()> {
    let arguments = Arguments::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let binary = arguments.node.clone().unwrap_or_else(|| root.join("target/release/openledger"));
    eyre::ensure!(
        binary.exists(),
        "openledger not found at {} (run `cargo build --release -p ol-cli`)",
        binary.display()
    );
    let seconds = arguments.seconds.unwrap_or(if arguments.quick { 5.0 } else { 20.0 });
    eyre::ensure!(arguments.rate > 0.0 && seconds > 0.0, "--rate and --seconds must be positive");
    eyre::ensure!(arguments.block_time > 0, "--block-time must be at least 1 s");
    let transfers = (arguments.rate * seconds).round().max(1.0) as u64;
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let started = Instant::now();

    let runtime = tokio::runtime::Runtime::new()?;
    let modes: Vec<(String, Mode)> = [
        (!arguments.only_network).then(|| {
            ("dev chain (1 node)".to_string(), Mode::Dev { block_time_s: arguments.block_time })
        }),
        Some((
            format!("{} validators", arguments.validators),
            Mode::Network {
                validators: arguments.validators,
                block_time_ms: arguments.block_time * 1000,
            },
        )),
    ]
    .into_iter()
    .flatten()
    .collect();

    // Ctrl-C or SIGTERM drops the run's future, and with it the cluster:
    // every child process is killed and the scratch directory removed.
    // Registered before anything starts, so no signal is missed.
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    let mut runs = Vec::new();
    for (name, mode) in modes {
        let run = runtime.block_on(async {
            tokio::select! {
                biased;
                _ = interrupt.recv() => Err(eyre::eyre!("interrupted (SIGINT)")),
                _ = terminate.recv() => Err(eyre::eyre!("terminated (SIGTERM)")),
                run = run_mode(&binary, &name, mode, transfers, arguments.rate) => run,
            }
        })?;
        runs.push(run);
    }

    let report = report::Report {
        quick: arguments.quick,
        seconds,
        block_time_ms: arguments.block_time * 1000,
        runs,
        wall: started.elapsed(),
        load_average,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    println!("{}", report.table());
    let json_path = arguments.json.unwrap_or_else(|| root.join("target/bench-network.json"));
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("wrote {}", json_path.display());
    Ok(())
}

/// Starts one chain, loads it, checks it and stops it.
async fn run_mode(
    binary: &std::path::Path,
    name: &str,
    mode: Mode,
    transfers: u64,
    rate: f64,
) -> eyre::Result<report::ModeRun> {
    eprintln!("{name}: starting");
    let mut cluster = Cluster::start(binary, mode).await?;
    eprintln!(
        "{name}: ready (chain id {}, {} node(s)); signing {transfers} transfers",
        cluster.chain_id,
        cluster.clients.len()
    );
    let signed = load::sign(&cluster.clients[0], cluster.chain_id, transfers).await?;
    eprintln!("{name}: sending {transfers} transfers at {rate} tx/s");
    let result = load::run(&cluster.clients, &cluster.pids(), &signed, rate).await;
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            let exited = cluster.exited().map(|s| format!("{s}\n")).unwrap_or_default();
            eyre::bail!("{name}: {e}\n{exited}{}", cluster.log_tails());
        }
    };
    eprintln!(
        "{name}: {} transfers committed in {:.2} s ({:.0}/s), p50 {} ms, p99 {} ms",
        result.transfers,
        result.committed_after.as_secs_f64(),
        result.committed_per_second(),
        result.latency(0.5).as_millis(),
        result.latency(0.99).as_millis()
    );
    Ok(report::ModeRun {
        name: name.to_string(),
        mode,
        chain_id: cluster.chain_id,
        tuning: cluster.tuning.clone(),
        max_fee_per_gas: signed.max_fee_per_gas,
        max_priority_fee_per_gas: signed.max_priority_fee_per_gas,
        result,
    })
}
