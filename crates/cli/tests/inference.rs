//! End-to-end tests of `openledger inference`: deposits, withdrawals,
//! claims, signed authorisations and earnings, run as a user runs them
//! against a real `openledger node --dev`. Hostile input (more than the
//! deposit, a zero amount, nothing to claim, a malformed address or range,
//! an unknown inference, a challenge without its output) fails with one
//! sentence and sends nothing.

mod common;

use common::scenario::{Scenario, field};
use serde_json::Value;

/// Development account 1: a provider.
const PROVIDER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// Development account 5: a client.
const CLIENT: &str = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";

#[test]
fn deposits_claims_authorisations_and_earnings() {
    let scenario = Scenario::start();
    let deposit = ["inference", "deposit", "--provider", PROVIDER, "--amount", "2.5"];
    let out = scenario.send(5, &deposit).success();
    assert!(out.contains("deposited      2.5 OPEN for provider"), "{out}");
    let nonce = scenario.nonce(CLIENT);

    // Refusals: the contract's reason, nothing sent.
    let too_much = ["inference", "withdraw", "--provider", PROVIDER, "--amount", "3"];
    let error = scenario.send(5, &too_much).failure();
    assert!(error.contains("cannot withdraw"), "{error}");
    let error = scenario.send(5, &["inference", "claim"]).failure();
    assert!(error.contains("has no rewards to claim"), "{error}");
    let zero = ["inference", "deposit", "--provider", PROVIDER, "--amount", "0"];
    let error = scenario.send(5, &zero).failure();
    assert!(error.contains("more than zero"), "{error}");
    let huge = ["inference", "deposit", "--provider", PROVIDER, "--amount", "50000"];
    let error = scenario.send(5, &huge).failure();
    assert!(error.contains("can spend"), "{error}");
    assert_eq!(scenario.nonce(CLIENT), nonce, "nothing was sent");
    let error = scenario
        .send(5, &["inference", "deposit", "--provider", PROVIDER, "--amount", "two"])
        .usage_error();
    assert!(error.contains("--amount"), "{error}");
    let error = scenario.run(&["inference", "earnings", "0x12"]).usage_error();
    assert!(error.contains("ADDRESS"), "{error}");
    let error = scenario
        .run(&["inference", "earnings", CLIENT, "--from-block", "9", "--to-block", "1"])
        .failure();
    assert!(error.contains("fromBlock 9 is after toBlock"), "{error}");
    let error = scenario.run(&["inference", "show", "1"]).failure();
    assert!(error.contains("inference 1 does not exist"), "{error}");
    let missing = ["inference", "challenge", "1", "--output", "/nonexistent/answer.txt"];
    let error = scenario.send(5, &missing).failure();
    assert!(error.contains("cannot read /nonexistent/answer.txt"), "{error}");
    let answer = std::env::temp_dir().join(format!("ol-answer-{}.txt", std::process::id()));
    std::fs::write(&answer, "an answer").unwrap();
    let unknown = ["inference", "challenge", "1", "--output", answer.to_str().unwrap()];
    let error = scenario.send(5, &unknown).failure();
    assert!(error.contains("inference 1 does not exist"), "{error}");
    let error = scenario.send(5, &["inference", "challenge", "one", "--output", "x"]).usage_error();
    assert!(error.contains("INFERENCE"), "{error}");
    std::fs::remove_file(answer).unwrap();

    let back = ["inference", "withdraw", "--provider", PROVIDER, "--amount", "2.5"];
    let out = scenario.send(5, &back).success();
    assert!(out.contains("withdrawn      2.5 OPEN"), "{out}");

    let out = scenario.run(&["inference", "earnings", CLIENT]).success();
    assert_eq!(field(&out, "claimable"), "0 OPEN", "{out}");
    let json: Value =
        serde_json::from_str(&scenario.run(&["inference", "earnings", CLIENT, "--json"]).success())
            .unwrap();
    assert_eq!(json["inferences"], serde_json::json!([]));

    // An authorisation is signed locally: nothing is sent.
    let nonce = scenario.nonce(CLIENT);
    let authorize = [
        "inference",
        "authorize",
        "--model",
        "1",
        "--provider",
        PROVIDER,
        "--max-fee",
        "0.5",
        "--nonce",
        "7",
    ];
    let payment: Value = serde_json::from_str(&scenario.send(5, &authorize).success()).unwrap();
    assert_eq!(payment["payer"].as_str().unwrap().to_lowercase(), CLIENT.to_lowercase());
    assert_eq!(payment["maxFee"], "500000000000000000");
    assert_eq!(payment["nonce"], 7);
    assert_eq!(payment["signature"].as_str().unwrap().len(), 2 + 130);
    assert_eq!(scenario.nonce(CLIENT), nonce);
}
