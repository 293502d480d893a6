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

mod common;

use common::{
    NodeProcess,
    interop::{install_dependencies, venv_python, workspace_root},
};
use std::process::{Command, Stdio};

fn run_suite(block_time: u64) {
    let root = workspace_root();
    install_dependencies(&root);
    let work = tempfile::tempdir().expect("a temporary directory");
    let node = NodeProcess::start(&work.path().join("node"), block_time, work.path());
    let url = format!("http://{}", node.address);
    let output = Command::new(venv_python(&root))
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
