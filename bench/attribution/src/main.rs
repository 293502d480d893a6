//! OpenLedger's attribution index (`ol-attribution`) against two real
//! references, in one run, on the same corpus and machine:
//!
//! * **tokengrams** (EleutherAI's Rust suffix-array n-gram index, crates.io
//!   0.3), in-process, tokens widened to `u16` (it supports no narrower);
//! * **infini-gram** (PyPI 2.6.0), its index built in byte mode (`u8`) by its
//!   own `infini_gram.indexing`, queried through `InfiniGramEngine` from
//!   Python with each call timed inside Python.
//!
//! The corpus is ≥100 MB of real English text from registry packages
//! (`corpus.py`); `--quick` takes a seeded ~4.6 MB sample. Tokens are bytes of
//! UTF-8 for every system; documents are separated by `0xFF`, which UTF-8
//! never contains, so an n-gram count is the same number in all three.
//!
//! Each system runs in a child process (this binary's hidden `worker`
//! subcommand, or the Python script), so its build's peak memory is its own.
//! The workload (count queries and 256-byte texts) is drawn once from the
//! corpus with a fixed seed and handed to all three.
//!
//! ```text
//! bench/attribution/run [--quick]     # corpus, venv, release build, then this
//! ```

mod corpus;
mod measure;
mod ours;
mod report;
mod system;
#[cfg(feature = "reference")]
mod tokengrams_side;
mod workload;

use clap::{Parser, Subcommand, ValueEnum};
use eyre::{Context, bail};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};
use system::SystemRun;

/// Benchmarks the attribution index against tokengrams and infini-gram.
#[derive(Debug, Parser)]
#[command(name = "ol-bench-attribution")]
struct Arguments {
    /// The ~4.6 MB corpus sample instead of the full ≥100 MB corpus.
    #[arg(long)]
    quick: bool,
    /// Folder made by `corpus.py` (holding `full/` and `quick/`).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Python of the virtual environment with `infini-gram` installed.
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Systems to run (default: all three).
    #[arg(long, value_delimiter = ',', value_name = "SYSTEM")]
    only: Vec<Which>,
    /// Number of count queries.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Number of 256-byte texts for longest match and attribution.
    #[arg(long, default_value_t = 64)]
    texts: usize,
    /// Where to write the JSON report.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    #[command(subcommand)]
    worker: Option<Worker>,
}

/// A system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Ours,
    Tokengrams,
    InfiniGram,
}

#[derive(Debug, Subcommand)]
enum Worker {
    /// Runs one in-process system (build then queries) and writes its JSON.
    #[command(hide = true)]
    Worker {
        #[arg(value_enum)]
        system: Which,
        #[arg(long)]
        documents: PathBuf,
        #[arg(long)]
        index: PathBuf,
        #[arg(long)]
        workload: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> eyre::Result<()> {
    let arguments = Arguments::parse();
    if let Some(Worker::Worker { system, documents, index, workload, out }) = &arguments.worker {
        return run_worker(*system, documents, index, workload, out);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..").canonicalize()?;
    let size = if arguments.quick { "quick" } else { "full" };
    let corpus_dir = arguments.corpus.clone().unwrap_or_else(|| here.join(".cache/corpus"));
    let documents_path = corpus_dir.join(size).join("documents.jsonl");
    eyre::ensure!(
        documents_path.exists(),
        "{} is missing: run bench/attribution/corpus.py (bench/attribution/run does)",
        documents_path.display()
    );
    let work = here.join(".cache/run").join(size);
    std::fs::create_dir_all(&work)?;
    let started = Instant::now();
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();

    eprintln!("loading {}", documents_path.display());
    let documents = corpus::load(&documents_path)?;
    let corpus = corpus::Summary::of(&documents);
    eprintln!("{} documents, {} tokens (bytes)", corpus.documents, corpus.bytes);
    let workload = workload::Workload::draw(&documents, arguments.queries, arguments.texts);
    drop(documents);
    let workload_path = work.join("workload.json");
    std::fs::write(&workload_path, serde_json::to_vec(&workload)?)?;

    let wanted = |which| arguments.only.is_empty() || arguments.only.contains(&which);
    let mut runs = report::Runs::default();
    if wanted(Which::Ours) {
        runs.ours = Some(spawn_worker(Which::Ours, &documents_path, &work, &workload_path)?);
    }
    if wanted(Which::Tokengrams) {
        if cfg!(feature = "reference") {
            runs.tokengrams =
                Some(spawn_worker(Which::Tokengrams, &documents_path, &work, &workload_path)?);
        } else {
            eprintln!("tokengrams: skipped (built without the `reference` feature)");
        }
    }
    if wanted(Which::InfiniGram) {
        let python = arguments.python.clone().unwrap_or_else(|| here.join(".venv/bin/python"));
        runs.infini_gram =
            Some(run_infini_gram(&python, &here, &corpus_dir.join(size), &work, &workload_path)?);
    }

    let report = report::Report {
        quick: arguments.quick,
        corpus,
        workload: &workload,
        runs,
        wall: started.elapsed(),
        load_average,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    println!("{}", report.table());
    let json_path = arguments.json.unwrap_or_else(|| root.join("target/bench-attribution.json"));
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("wrote {}", json_path.display());
    Ok(())
}

fn system_name(which: Which) -> &'static str {
    match which {
        Which::Ours => "ours",
        Which::Tokengrams => "tokengrams",
        Which::InfiniGram => "infini-gram",
    }
}

/// Runs this binary's `worker` for one system and reads its report.
fn spawn_worker(
    which: Which,
    documents: &Path,
    work: &Path,
    workload: &Path,
) -> eyre::Result<SystemRun> {
    let name = system_name(which);
    eprintln!("{name}: build and queries (child process)");
    let index = work.join(format!("index-{name}"));
    let out = work.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&out);
    let status = Command::new(std::env::current_exe()?)
        .arg("worker")
        .arg(name)
        .arg("--documents")
        .arg(documents)
        .arg("--index")
        .arg(&index)
        .arg("--workload")
        .arg(workload)
        .arg("--out")
        .arg(&out)
        .status()
        .wrap_err_with(|| format!("starting the {name} worker"))?;
    if !status.success() {
        bail!("the {name} worker failed ({status})");
    }
    system::read(&out)
}

/// Runs `infini_gram_bench.py` with the virtual environment's Python.
fn run_infini_gram(
    python: &Path,
    here: &Path,
    corpus: &Path,
    work: &Path,
    workload: &Path,
) -> eyre::Result<SystemRun> {
    eyre::ensure!(
        python.exists(),
        "{} not found: bench/attribution/run makes the virtual environment with infini-gram",
        python.display()
    );
    eprintln!("infini-gram: build and queries (Python child process)");
    let out = work.join("infini-gram.json");
    let _ = std::fs::remove_file(&out);
    let status = Command::new(python)
        .arg(here.join("infini_gram_bench.py"))
        .arg("--corpus")
        .arg(corpus)
        .arg("--index")
        .arg(work.join("index-infini-gram"))
        .arg("--workload")
        .arg(workload)
        .arg("--out")
        .arg(&out)
        .status()
        .wrap_err("starting infini_gram_bench.py")?;
    if !status.success() {
        bail!("infini_gram_bench.py failed ({status})");
    }
    system::read(&out)
}

fn run_worker(
    which: Which,
    documents: &Path,
    index: &Path,
    workload: &Path,
    out: &Path,
) -> eyre::Result<()> {
    let workload: workload::Workload = serde_json::from_slice(&std::fs::read(workload)?)?;
    let run = match which {
        Which::Ours => ours::run(documents, index, &workload)?,
        #[cfg(feature = "reference")]
        Which::Tokengrams => tokengrams_side::run(documents, &workload)?,
        #[cfg(not(feature = "reference"))]
        Which::Tokengrams => bail!("built without the `reference` feature"),
        Which::InfiniGram => bail!("infini-gram runs from Python, not as a worker"),
    };
    std::fs::write(out, serde_json::to_vec(&run)?)?;
    Ok(())
}
