//! `openledger node --chain GENESIS.json`: a bad genesis file is refused with
//! a message naming the entry and nothing is written; the bundled
//! mainnet-like genesis starts a chain whose locked allocations cannot be
//! spent; a data directory refuses a different genesis.

mod common;

use common::{Rpc, free_port};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_openledger");

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs a node that is expected to refuse to start; returns its stderr.
fn refused(datadir: &Path, chain: Option<&Path>) -> String {
    let mut command = Command::new(BINARY);
    command.args(["node", "--dev", "--http.port", &free_port().to_string(), "--datadir"]);
    command.arg(datadir);
    if let Some(chain) = chain {
        command.arg("--chain").arg(chain);
    }
    let output = command.stdin(Stdio::null()).output().expect("the binary runs");
    assert!(!output.status.success(), "the node started but should have refused");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the genesis file is written");
    path
}

#[test]
fn bad_genesis_files_are_refused_naming_the_entry() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let datadir = dir.path().join("data");
    let short = write(
        dir.path(),
        "short.json",
        r#"{"chainId": 9, "allocations": [
            {"name": "a", "address": "0x1111111111111111111111111111111111111111", "amount": "999999999.999"}]}"#,
    );
    let stderr = refused(&datadir, Some(&short));
    assert!(stderr.contains("short by 0.001 OPEN"), "{stderr}");
    assert!(stderr.contains("short.json"), "{stderr}");

    let bad_address = write(
        dir.path(),
        "address.json",
        r#"{"chainId": 9, "allocations": [
            {"name": "ok", "address": "0x1111111111111111111111111111111111111111", "amount": "1"},
            {"name": "team", "address": "0xnothex", "amount": "999999999"}]}"#,
    );
    let stderr = refused(&datadir, Some(&bad_address));
    assert!(stderr.contains("allocation #1 (\"team\")"), "{stderr}");
    assert!(stderr.contains("0xnothex"), "{stderr}");

    let not_json = write(dir.path(), "broken.json", "{ chainId: ");
    let stderr = refused(&datadir, Some(&not_json));
    assert!(stderr.contains("genesis is not valid"), "{stderr}");

    let stderr = refused(&datadir, Some(&dir.path().join("missing.json")));
    assert!(stderr.contains("cannot read genesis file"), "{stderr}");

    // Nothing was written for any refused genesis.
    assert!(!datadir.join("chain.redb").exists(), "a refused genesis created a database");
}

#[test]
fn mainnet_like_genesis_locks_vesting_allocations() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let datadir = dir.path().join("data");
    let genesis = workspace_root().join("genesis/mainnet-like.json");
    let port = free_port();
    let mut child = Command::new(BINARY)
        .args(["node", "--dev", "--block-time", "1", "--http.port", &port.to_string()])
        .arg("--datadir")
        .arg(&datadir)
        .arg("--chain")
        .arg(&genesis)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the node starts");
    let rpc = Rpc::new(([127, 0, 0, 1], port).into());
    let deadline = Instant::now() + Duration::from_secs(30);
    let chain_id = loop {
        if let Ok(id) = rpc.call("eth_chainId", json!([])) {
            break id;
        }
        assert!(Instant::now() < deadline, "the node did not answer within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(chain_id, json!("0x64b"));
    let balance = |address: &str| rpc.expect("eth_getBalance", json!([address, "latest"]));
    // Team: 12-month cliff from 2026-01-01 — nothing spendable yet in 2026.
    let team = "0x7ea0000000000000000000000000000000000003";
    let breakdown = rpc.expect("ol_getBalanceBreakdown", json!([team]));
    let now =
        u64::from_str_radix(breakdown["timestamp"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
    if now < 1_767_225_600 + 31_557_600 {
        assert_eq!(balance(team), json!("0x0"));
        assert_eq!(breakdown["locked"], breakdown["total"]);
    }
    // Liquidity: unlocked, 50,000,000 OPEN.
    assert_eq!(
        balance("0x11c0000000000000000000000000000000000004"),
        json!("0x295be96e64066972000000")
    );
    let _ = child.kill();
    let _ = child.wait();

    // The same data directory refuses the dev genesis.
    let stderr = refused(&datadir, None);
    assert!(stderr.contains("holds another chain"), "{stderr}");
}
