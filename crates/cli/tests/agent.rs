//! End-to-end tests of `openledger agent`, run as a user runs them against a
//! real `openledger node --dev`: an operator registers an agent with the
//! agent's key in a file, shows it, pauses, resumes, tops it up, a stranger
//! reports it, and the operator deregisters it. Hostile input (a malformed
//! stake or key, too small a stake, a stranger pausing, an unknown agent, a
//! report without evidence) fails with one sentence and sends nothing.

mod common;

use common::scenario::{Scenario, field, path};
use serde_json::Value;

/// Development account 1: the operator.
const OPERATOR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// Development account 2: a stranger.
const STRANGER: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
/// The agent's own key (it needs no OPEN).
const AGENT_KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

fn args(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}

#[test]
fn operators_run_agents_and_anyone_reports_them() {
    let scenario = Scenario::start();
    let key_file = scenario.file("agent.key", format!("{AGENT_KEY}\n").as_bytes());
    let register = |stake: &str| {
        [
            "agent",
            "register",
            "--agent-key",
            path(&key_file),
            "--name",
            "harbour pilot",
            "--endpoint",
            "https://pilot.example/v1",
            "--stake",
            stake,
        ]
        .map(str::to_owned)
    };

    // Refusals before anything is registered: nothing is sent.
    let nonce = scenario.nonce(OPERATOR);
    let error = scenario.send(1, &args(&register("99"))).failure();
    assert!(error.contains("below the minimum stake"), "{error}");
    let error = scenario.send(1, &args(&register("lots"))).usage_error();
    assert!(error.contains("--stake"), "{error}");
    let bad_key = ["agent", "register", "--agent-key", "0x12", "--name", "a", "--stake", "100"];
    let error = scenario.send(1, &bad_key).failure();
    assert!(
        error.contains("--agent-key is neither a readable file nor a hex private key"),
        "{error}"
    );
    assert!(!error.contains("0x12 "), "the key text is not echoed: {error}");
    let long_name = "n".repeat(65);
    let too_long =
        ["agent", "register", "--agent-key", AGENT_KEY, "--name", &long_name, "--stake", "100"];
    let error = scenario.send(1, &too_long).failure();
    assert!(error.contains("name is 65 bytes"), "{error}");
    assert_eq!(scenario.nonce(OPERATOR), nonce, "nothing was sent");
    let error = scenario.run(&["agent", "show", "1"]).failure();
    assert!(error.contains("agent 1 does not exist"), "{error}");
    let error = scenario.run(&["agent", "show", "seven"]).usage_error();
    assert!(error.contains("neither an agent id"), "{error}");

    // Registered; shown by id and by key address.
    let out = scenario.send(1, &args(&register("150"))).success();
    assert_eq!(field(&out, "agent"), "1", "{out}");
    assert_eq!(field(&out, "stake"), "150 OPEN", "{out}");
    let key_address = field(&out, "key");
    let out = scenario.run(&["agent", "show", "1"]).success();
    assert_eq!(field(&out, "status"), "active", "{out}");
    assert_eq!(field(&out, "bonded"), "150 OPEN", "{out}");
    assert_eq!(field(&out, "endpoint"), "https://pilot.example/v1", "{out}");
    let json: Value =
        serde_json::from_str(&scenario.run(&["agent", "show", &key_address, "--json"]).success())
            .unwrap();
    assert_eq!(json["name"], "harbour pilot");
    assert_eq!(json["operator"].as_str().unwrap().to_lowercase(), OPERATOR.to_lowercase());
    let error = scenario.send(1, &args(&register("150"))).failure();
    assert!(error.contains("already registered as agent 1"), "{error}");

    // Only the operator pauses; pause, resume, top up.
    let stranger_nonce = scenario.nonce(STRANGER);
    let error = scenario.send(2, &["agent", "pause", "1"]).failure();
    assert!(error.contains("only the operator of agent 1"), "{error}");
    assert_eq!(scenario.nonce(STRANGER), stranger_nonce);
    let out = scenario.send(1, &["agent", "pause", "1"]).success();
    assert!(out.contains("paused         agent 1"), "{out}");
    let out = scenario.run(&["agent", "show", "1"]).success();
    assert_eq!(field(&out, "status"), "paused", "{out}");
    scenario.send(1, &["agent", "resume", "1"]).success();
    let out = scenario.send(1, &["agent", "top-up", "1", "--amount", "25"]).success();
    assert_eq!(field(&out, "bonded"), "175 OPEN", "{out}");
    let error = scenario.send(1, &["agent", "unjail", "1"]).failure();
    assert!(error.contains("not jailed"), "{error}");

    // Anyone reports, with evidence.
    let error = scenario
        .send(2, &["agent", "report", "1", "--amount", "10", "--reason", "copied answers"])
        .usage_error();
    assert!(error.contains("--evidence"), "{error}");
    let evidence = scenario.file("evidence.txt", b"two answers to request 42");
    let report = [
        "agent",
        "report",
        "1",
        "--evidence",
        path(&evidence),
        "--amount",
        "10",
        "--reason",
        "copied answers",
    ];
    let out = scenario.send(2, &report).success();
    assert_eq!(field(&out, "report"), "1", "{out}");

    // Deregistered: the stake unbonds.
    let out = scenario.send(1, &["agent", "deregister", "1"]).success();
    assert_eq!(field(&out, "unbonding"), "175 OPEN", "{out}");
    let out = scenario.run(&["agent", "show", "1"]).success();
    assert_eq!(field(&out, "status"), "deregistered", "{out}");
    let error = scenario.send(1, &["agent", "pause", "1"]).failure();
    assert!(error.contains("agent 1 is deregistered"), "{error}");
}
