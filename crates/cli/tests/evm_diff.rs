//! Differential EVM conformance: the dev node against anvil.
//!
//! Installs anvil, the npm solc and web3.py through
//! `scripts/install-interop-deps`, compiles `tests/interop/contracts/Diff*.sol`
//! with `tests/interop/solc_compile.mjs`, starts `openledger node --dev` (a
//! block per transaction) and anvil with the same chain id, gas limit and
//! initial base fee, and runs `tests/interop/evm_diff.py`: the same signed
//! transactions and calls go to both, and receipts (status, gas used, logs,
//! contract addresses), return and revert data, gas estimates and the error
//! codes of refused transactions are compared. Accepted differences, each
//! with its reason, are in `tests/interop/evm_diff_allowlist.json`; any other
//! fails the test.
//!
//! Skipped, with the reason printed, only when `npm` is not installed.

mod common;

use common::{
    NodeProcess, Rpc, free_port,
    interop::{
        ChildProcess, assert_succeeded, run_with_deadline, venv_python, workspace_with_dependencies,
    },
};
use serde_json::json;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The diff takes about 10 s; compiling the contracts a few more.
const RUN_DEADLINE: Duration = Duration::from_secs(240);

/// How long anvil may take to answer its first request.
const ANVIL_STARTUP: Duration = Duration::from_secs(30);

/// The dev genesis' gas limit and initial base fee
/// (`ol_ledger::genesis::DEFAULT_GAS_LIMIT` and `DEFAULT_BASE_FEE`), given to
/// anvil so both chains price blocks alike.
const GAS_LIMIT: &str = "1000000000";
const BASE_FEE: &str = "1000000000";

/// Compiles every `tests/interop/contracts/Diff*.sol` into `out`.
fn compile_contracts(root: &Path, out: &Path) {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("tests/interop/contracts"))
        .expect("tests/interop/contracts is readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("Diff") && name.ends_with(".sol")
        })
        .collect();
    sources.sort();
    assert!(!sources.is_empty(), "no tests/interop/contracts/Diff*.sol to compile");
    let output = Command::new("node")
        .arg(root.join("tests/interop/solc_compile.mjs"))
        .arg(out)
        .args(&sources)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("node runs solc_compile.mjs");
    assert_succeeded(&output, "solc_compile.mjs");
}

/// Starts anvil with the dev chain's id, gas limit and base fee on a free
/// port and waits until it answers; retries on another port if one was taken.
fn start_anvil(root: &Path, log_dir: &Path) -> (ChildProcess, SocketAddr) {
    let binary = root.join("tests/interop/node_modules/.bin/anvil");
    for attempt in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(log_dir.join(format!("anvil-{port}-{attempt}.log")))
            .expect("the anvil log can be created");
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--chain-id", "1337", "--hardfork", "cancun"])
            .args(["--gas-limit", GAS_LIMIT, "--base-fee", BASE_FEE])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a file handle can be duplicated"))
            .stderr(log)
            .spawn()
            .expect("anvil starts");
        let mut anvil = ChildProcess(child);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if Rpc::new(address).call("eth_chainId", json!([])).is_ok() {
                return (anvil, address);
            }
            if anvil.0.try_wait().ok().flatten().is_some() || started.elapsed() > ANVIL_STARTUP {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("anvil did not start on 3 ports (logs in {})", log_dir.display());
}

/// Runs evm_diff.py; returns whether it passed and what it printed.
fn run_diff(root: &Path, node: SocketAddr, anvil: SocketAddr, artifacts: &Path) -> (bool, String) {
    let mut diff = Command::new(venv_python(root));
    diff.arg(root.join("tests/interop/evm_diff.py"))
        .arg(format!("http://{node}"))
        .arg(format!("http://{anvil}"))
        .arg(artifacts)
        .current_dir(root);
    run_with_deadline(&mut diff, "evm_diff.py", RUN_DEADLINE)
}

#[test]
fn node_executes_like_anvil() {
    let Some(root) = workspace_with_dependencies("anvil and solc") else { return };
    let work = tempfile::tempdir().expect("a temporary directory");
    let artifacts = work.path().join("artifacts");
    compile_contracts(&root, &artifacts);
    let datadir = work.path().join("node");
    let node = NodeProcess::start(&datadir, 0, work.path());
    let (_anvil, anvil) = start_anvil(&root, work.path());
    let (passed, printed) = run_diff(&root, node.address, anvil, &artifacts);
    println!("{printed}");
    assert!(
        passed,
        "evm_diff.py found unlisted differences between the node and anvil (printed above)"
    );
}
