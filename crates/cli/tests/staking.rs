//! End-to-end tests of `openledger stake`, run as a user runs them against
//! a real `openledger node --dev`: stake, unbond, delegate and show; refused
//! requests (more than bonded, nothing to withdraw or claim) fail with the
//! contract's sentence and send nothing; malformed addresses and amounts
//! are usage errors.

mod common;

use common::scenario::{Scenario, field};

/// Development account 1: stakes to itself.
const STAKER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// Development account 2: receives its votes.
const DELEGATE: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

#[test]
fn stake_unbond_delegate_and_show() {
    let scenario = Scenario::start();
    let out = scenario.send(1, &["stake", "add", STAKER, "100"]).success();
    assert!(out.contains("staked         100 OPEN to"), "{out}");
    let nonce = scenario.nonce(STAKER);

    // Refusals: the contract's reason, nothing sent.
    let error = scenario.send(1, &["stake", "remove", STAKER, "500"]).failure();
    assert!(error.contains("cannot unstake"), "{error}");
    let error = scenario.send(1, &["stake", "withdraw", STAKER]).failure();
    assert!(error.contains("nothing unbonding"), "{error}");
    let error = scenario.send(1, &["stake", "claim", STAKER]).failure();
    assert!(error.contains("no rewards to claim"), "{error}");
    let error = scenario.send(1, &["stake", "add", STAKER, "0"]).failure();
    assert!(error.contains("more than zero"), "{error}");
    assert_eq!(scenario.nonce(STAKER), nonce, "nothing was sent");

    // Malformed input never reaches the node.
    let error = scenario.send(1, &["stake", "add", "0x12", "1"]).usage_error();
    assert!(error.contains("VALIDATOR"), "{error}");
    let error = scenario.send(1, &["stake", "add", STAKER, "two"]).usage_error();
    assert!(error.contains("OPEN"), "{error}");
    let error = scenario.run(&["stake", "show"]).failure();
    assert!(error.contains("name the account"), "{error}");

    let out = scenario.send(1, &["stake", "remove", STAKER, "40"]).success();
    assert!(out.contains("unbonding      40 OPEN from"), "{out}");
    assert!(field(&out, "withdrawable").starts_with("from "), "{out}");
    let error = scenario.send(1, &["stake", "withdraw", STAKER]).failure();
    assert!(error.contains("nothing unbonded yet") && error.contains("completes at"), "{error}");
    let out = scenario.send(1, &["stake", "delegate", DELEGATE]).success();
    assert!(out.contains("now count for"), "{out}");

    let out = scenario.run(&["stake", "show", STAKER]).success();
    assert_eq!(field(&out, "bonded"), "60 OPEN", "{out}");
    assert_eq!(field(&out, "votes"), "0 OPEN", "{out}");
    assert_eq!(field(&out, "delegate").to_lowercase(), DELEGATE.to_lowercase(), "{out}");
    assert!(out.contains("  unbonding    40 OPEN withdrawable from"), "{out}");
    let out = scenario.run(&["stake", "show", "--dev-account", "2"]).success();
    assert_eq!(field(&out, "votes"), "60 OPEN", "{out}");
    let json = scenario.run(&["stake", "show", STAKER, "--json"]).success();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["positions"].as_array().unwrap().len(), 1, "{json}");
}
