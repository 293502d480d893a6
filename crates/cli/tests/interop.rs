//! Real Ethereum client libraries against a real dev node.
//!
//! Installs viem, web3.py, anvil, cast and the npm solc through the project's
//! own script (`scripts/install-interop-deps`), starts `openledger node --dev`
//! as a separate process, and runs `tests/interop/run_interop.py --node URL`:
//! viem and web3.py each read the chain id and balances, sign and send
//! EIP-1559, EIP-2930 and legacy OPEN transfers, wait for the receipts and
//! check balances and fees, and check that refused transactions raise their
//! usual error types; viem, web3.py and Foundry's `cast` each deploy a
//! Solidity contract (`tests/interop/contracts/InteropToken.sol`, compiled
//! offline), call its views, send transactions, read its logs with address,
//! topic and block-range filters (and installed filters, in viem and
//! web3.py), estimate gas, and decode a reason string and custom errors with
//! arguments from reverts; `rpc_diff.py` then sends the same good and bad
//! requests to the node and to anvil and compares shapes and error codes
//! (accepted differences, with reasons, in `tests/interop/rpc_diff_allowlist.json`).

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// Kills the node when the test ends, passed or not.
struct NodeProcess(Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn install_dependencies(root: &Path) {
    let output = Command::new(root.join("scripts/install-interop-deps"))
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("scripts/install-interop-deps runs");
    assert!(
        output.status.success(),
        "scripts/install-interop-deps failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn start_node(datadir: &Path, block_time: u64) -> (NodeProcess, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openledger"))
        .args(["node", "--dev", "--http.port", &port.to_string(), "--block-time"])
        .arg(block_time.to_string())
        .arg("--datadir")
        .arg(datadir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the openledger binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let guard = NodeProcess(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = BufReader::new(stdout).lines();
    loop {
        assert!(Instant::now() < deadline, "the node did not start listening within 60 s");
        match lines.next() {
            Some(Ok(line)) if line.starts_with("Listening on ") => break,
            Some(Ok(_)) => continue,
            _ => panic!("the node exited before listening"),
        }
    }
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (guard, format!("http://127.0.0.1:{port}"))
}

fn run_suite(block_time: u64) {
    let root = workspace_root();
    install_dependencies(&root);
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let (_node, url) = start_node(datadir.path(), block_time);
    let python = root.join("tests/interop/.venv/bin/python");
    let output = Command::new(&python)
        .arg(root.join("tests/interop/run_interop.py"))
        .args(["--node", &url])
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .expect("the interop runner starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "interop checks failed against {url} (block time {block_time}):\n{stdout}"
    );
}

#[test]
fn viem_web3py_and_anvil_diff_with_interval_blocks() {
    run_suite(1);
}

#[test]
fn viem_web3py_and_anvil_diff_with_a_block_per_transaction() {
    run_suite(0);
}
