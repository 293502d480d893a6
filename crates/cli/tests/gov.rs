//! End-to-end tests of `openledger gov`, run as a user runs them against a
//! real `openledger node --dev` started from a genesis file whose
//! governance windows are seconds long (1 s delay, 4 s of voting, 2 s
//! timelock) and that seals a block every second. Dev account 0 stakes,
//! proposes a new inference fee split and a tiny treasury spend, votes,
//! queues and executes; hostile input (no action, a malformed split, a
//! non-system target, bad hex, an unknown proposal, a proposer without
//! votes, voting twice, executing too early) fails with one sentence and
//! sends nothing.

mod common;

use common::{
    Rpc, free_port,
    scenario::{field, openledger},
};
use serde_json::{Value, json};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// Development accounts 0 and 1.
const PROPOSER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const PAYEE: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const INFERENCE: &str = "0x0000000000000000000000000000000000001004";

/// A node killed when dropped.
struct Node {
    child: Child,
    url: String,
    rpc: Rpc,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
        let genesis = json!({
            "chainId": 1337,
            "timestamp": now - 10,
            "allocations": [
                { "name": "dev 0", "address": PROPOSER, "amount": "10000" },
                { "name": "dev 1", "address": PAYEE, "amount": "10000" },
                { "name": "dev 2", "address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "amount": "10000" },
                { "name": "rest", "address": "0x7777777777777777777777777777777777777777", "amount": "999970000" }
            ],
            "governance": { "votingDelay": 1, "votingPeriod": 4, "proposalThreshold": "1",
                            "quorumNumerator": 5, "timelockDelay": 2 }
        });
        let path = dir.path().join("genesis.json");
        std::fs::write(&path, genesis.to_string()).expect("the genesis file is written");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("node.log")).expect("a log file");
        let child = Command::new(common::BINARY)
            .args(["node", "--dev", "--block-time", "1", "--http.port", &port.to_string()])
            .arg("--chain")
            .arg(&path)
            .arg("--datadir")
            .arg(dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a file handle"))
            .stderr(log)
            .spawn()
            .expect("the openledger binary starts");
        let rpc = Rpc::new(([127, 0, 0, 1], port).into());
        let started = Instant::now();
        while rpc.call("eth_blockNumber", json!([])).is_err() {
            assert!(started.elapsed() < common::STARTUP_TIMEOUT, "the node did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url: format!("http://127.0.0.1:{port}"), rpc, _dir: dir }
    }

    fn run(&self, arguments: &[&str]) -> common::scenario::Outcome {
        openledger(&[arguments, &["--rpc-url", &self.url]].concat())
    }

    fn send(&self, account: u32, arguments: &[&str]) -> common::scenario::Outcome {
        let account = account.to_string();
        self.run(&[arguments, &["--dev-account", &account]].concat())
    }

    fn nonce(&self, address: &str) -> u64 {
        let count = self.rpc.expect("eth_getTransactionCount", json!([address, "latest"]));
        u64::from_str_radix(count.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    /// Waits until the head block's time is after `t` (what calls are
    /// estimated against).
    fn wait_for_head_after(&self, t: u64) {
        let started = Instant::now();
        loop {
            let head = self.rpc.expect("eth_getBlockByNumber", json!(["latest", false]));
            let time = head["timestamp"].as_str().unwrap().trim_start_matches("0x");
            if u64::from_str_radix(time, 16).unwrap() > t {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the chain's clock stopped");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn proposal(&self) -> Value {
        let json = self.run(&["gov", "show", "1", "--json"]).success();
        serde_json::from_str(&json).unwrap()
    }
}

fn number(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn a_proposal_is_made_voted_queued_and_executed_from_the_command_line() {
    let node = Node::start();
    let nonce = node.nonce(PROPOSER);
    let error = node.send(0, &["gov", "propose", "--description", "nothing"]).failure();
    assert!(error.contains("needs at least one action"), "{error}");
    let error = node
        .send(0, &["gov", "propose", "--description", "x", "--set-inference-split", "2000,1000"])
        .usage_error();
    assert!(error.contains("--set-inference-split") && error.contains("got 2"), "{error}");
    let error = node
        .send(0, &["gov", "propose", "--description", "x", "--set-inference-split", "1,1,1,1"])
        .usage_error();
    assert!(error.contains("sum to 10000"), "{error}");
    let stranger = ["--call", "0x1111111111111111111111111111111111111111", "0x01020304"];
    let error = node.send(0, &[&["gov", "propose", "--description", "x"][..], &stranger].concat());
    assert!(error.failure().contains("is not a system contract"));
    let bad_hex = ["gov", "propose", "--description", "x", "--call", INFERENCE, "0xzz"];
    assert!(node.send(0, &bad_hex).failure().contains("is not hex"));
    let error = node.send(0, &["gov", "vote", "1", "maybe"]).usage_error();
    assert!(error.contains("maybe"), "{error}");
    let error = node.run(&["gov", "show", "9"]).failure();
    assert!(error.contains("proposal 9 does not exist"), "{error}");
    let split = ["gov", "propose", "--description", "More to owners", "--set-inference-split"];
    let split = [&split[..], &["3000,1000,1000,5000", "--spend", PAYEE, "0.000001"]].concat();
    let error = node.send(0, &split).failure();
    assert!(error.contains("has 0 votes; proposing needs at least"), "{error}");
    assert_eq!(node.nonce(PROPOSER), nonce, "nothing was sent");

    let params = node.run(&["gov", "params"]).success();
    assert_eq!(field(&params, "voting period"), "4 s", "{params}");
    assert_eq!(field(&params, "proposal threshold"), "1 OPEN", "{params}");

    // Stake for votes; they count from the next second.
    node.send(0, &["stake", "add", PROPOSER, "100"]).success();
    let staked =
        number(&node.rpc.expect("eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    node.wait_for_head_after(staked + 1);
    let out = node.send(0, &split).success();
    assert_eq!(field(&out, "proposal"), "1", "{out}");
    assert_eq!(field(&out, "actions"), "2", "{out}");
    let proposal = node.proposal();
    assert_eq!(proposal["state"], "Pending", "{proposal}");
    assert_eq!(proposal["actions"][0]["target"].as_str().unwrap().to_lowercase(), INFERENCE);
    let shown = node.run(&["gov", "show", "1"]).success();
    assert_eq!(field(&shown, "state"), "Pending", "{shown}");
    assert_eq!(field(&shown, "description"), "More to owners", "{shown}");

    node.wait_for_head_after(number(&proposal["snapshot"]));
    let out = node.send(0, &["gov", "vote", "1", "for", "--reason", "owners carry the risk"]);
    assert_eq!(field(&out.success(), "weight"), "100 OPEN");
    let error = node.send(0, &["gov", "vote", "1", "against"]).failure();
    assert!(error.contains("has already voted on proposal 1"), "{error}");
    let error = node.send(1, &["gov", "execute", "1"]).failure();
    assert!(error.contains("is Active; only a Queued proposal can execute"), "{error}");
    let shown = node.run(&["gov", "show", "1"]).success();
    assert_eq!(field(&shown, "for"), "100 OPEN", "{shown}");

    node.wait_for_head_after(number(&proposal["deadline"]));
    let out = node.send(1, &["gov", "queue", "1"]).success();
    assert!(out.contains("queued         proposal 1"), "{out}");
    let eta = number(&node.proposal()["eta"]);
    let head =
        number(&node.rpc.expect("eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    if head < eta {
        let error = node.send(1, &["gov", "execute", "1"]).failure();
        assert!(error.contains("cannot execute before its timelock ends"), "{error}");
    }
    node.wait_for_head_after(eta);
    let payee = node.rpc.expect("eth_getBalance", json!([PAYEE, "latest"]));
    let out = node.send(2, &["gov", "execute", "1"]).success();
    assert!(out.contains("executed       proposal 1"), "{out}");
    assert_eq!(node.proposal()["state"], "Executed");
    let paid = node.rpc.expect("eth_getBalance", json!([PAYEE, "latest"]));
    let (before, after): (u128, u128) = (
        u128::from_str_radix(payee.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        u128::from_str_radix(paid.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
    );
    assert_eq!(after - before, 1_000_000_000_000, "0.000001 OPEN from the treasury");
    let error = node.send(2, &["gov", "execute", "1"]).failure();
    assert!(error.contains("has already been executed"), "{error}");
}
