//! A Hardhat project against a real dev node.
//!
//! Installs the project under `tests/interop/hardhat` (Hardhat 2,
//! hardhat-ethers, hardhat-chai-matchers, OpenZeppelin Contracts and the npm
//! `solc`, all pinned by its package-lock.json) through
//! `scripts/install-interop-deps`, starts `openledger node --dev` with a block
//! per transaction, as Hardhat Network mines, and runs `hardhat test
//! --network openledger` with the node's URL in `OPENLEDGER_RPC_URL`. The
//! project compiles with the npm solc's soljson (never downloads a compiler)
//! and signs with the node's dev accounts (`accounts: "remote"`). The suite:
//! an OpenZeppelin ERC-20 (deploy, transfers, events with arguments, custom
//! errors and reason strings decoded, logs by topic, balances at past
//! blocks, an EIP-2612 permit through `eth_signTypedData_v4`) and an
//! OpenZeppelin Governor + TimelockController + ERC20Votes taken through
//! propose, vote, queue and execute with `hardhat_mine`, `evm_mine` and
//! `evm_increaseTime`.
//!
//! `test/system.js` takes Solidity to the system contracts: the repository's
//! `contracts/I*.sol` interfaces compile in the project (through the
//! `contracts/system` link) and every function in them is one the node
//! dispatches; `SystemUser.sol` reads every module's parameters, stakes its
//! own OPEN (the `Staked` log comes from 0x…1005 with the interface's topics,
//! in the receipt, through `eth_getLogs` filters and through an
//! `eth_subscribe` logs subscription over WebSocket), unstakes and withdraws
//! after `evm_increaseTime`; a revert inside a system call reaches the caller
//! as `Error(string)` (re-raised, `revertedWith`); value, a `STATICCALL`
//! write, `DELEGATECALL` and malformed calldata are refused with a reason and
//! change nothing; an outer revert undoes the system call's writes and logs.
//! `Reentrant.sol` tries to take a deposit, matured unbonding and staking
//! rewards twice in one transaction (a nested call into itself, `receive`
//! armed to re-enter): it is paid once and the staking pool's books add up,
//! with the rewards switched on by a system governance proposal (propose,
//! vote, queue, execute) and switched off again by another.
//!
//! `test/known-gaps.js` keeps the differences from Hardhat Network found so
//! far, all closed and run as ordinary tests (automine answers after the
//! seal, `eth_call` block semantics, interface calls to system functions
//! that return nothing, strict argument decoding); a new open gap goes there
//! pending unless `OPENLEDGER_KNOWN_GAPS=1`. The provider is Hardhat's own,
//! unwrapped: nothing waits for receipts on the tests' behalf.
//!
//! Skipped, with the reason printed, only when `npm` is not installed.

use std::{
    io::{BufRead, BufReader, Read},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The whole suite, compile included, takes well under a minute on 2 cores.
const SUITE_DEADLINE: Duration = Duration::from_secs(300);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// Kills the child (node or Hardhat) when the test ends, passed or not.
struct ChildProcess(Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn npm_is_installed() -> bool {
    Command::new("npm")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
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

fn start_node(datadir: &Path) -> (ChildProcess, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openledger"))
        .args(["node", "--dev", "--http.port", &port.to_string(), "--block-time", "0"])
        .arg("--datadir")
        .arg(datadir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the openledger binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let guard = ChildProcess(child);
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

/// Reads a pipe on its own thread, so a full pipe never stalls the child.
fn read_to_end(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Runs `hardhat test` against `url`; returns whether it passed and what it printed.
fn run_hardhat_tests(project: &Path, url: &str) -> (bool, String) {
    let mut child = Command::new(project.join("node_modules/.bin/hardhat"))
        .args(["test", "--network", "openledger"])
        .current_dir(project)
        .env("OPENLEDGER_RPC_URL", url)
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hardhat starts");
    let readers = [
        read_to_end(child.stdout.take().expect("stdout is piped")),
        read_to_end(child.stderr.take().expect("stderr is piped")),
    ];
    let mut hardhat = ChildProcess(child);
    let deadline = Instant::now() + SUITE_DEADLINE;
    let status = loop {
        if let Some(status) = hardhat.0.try_wait().expect("hardhat can be waited on") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(hardhat); // kills it if the deadline passed, so the pipes close
    let [stdout, stderr] = readers.map(|reader| reader.join().unwrap_or_default());
    let printed = format!("{stdout}\n{stderr}");
    match status {
        Some(status) => (status.success(), printed),
        None => {
            (false, format!("hardhat test ran over {SUITE_DEADLINE:?} and was killed\n{printed}"))
        }
    }
}

#[test]
fn hardhat_project_with_openzeppelin_erc20_and_governor() {
    if !npm_is_installed() {
        println!("skipped: npm is not installed (need node >= 18 and npm to install Hardhat)");
        return;
    }
    let root = workspace_root();
    install_dependencies(&root);
    let datadir = tempfile::tempdir().expect("a temporary directory");
    let (_node, url) = start_node(datadir.path());
    let (passed, printed) = run_hardhat_tests(&root.join("tests/interop/hardhat"), &url);
    println!("{printed}");
    assert!(passed, "hardhat test failed against {url}:\n{printed}");
}
