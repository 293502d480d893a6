//! End-to-end tests of `openledger model`: the binary is run as a user runs
//! it, against a real `openledger node --dev` sealing a block per
//! transaction.
//!
//! One scenario builds a datanet with one published version (through
//! `openledger datanet`), registers a model trained on it, shows it, changes
//! its prices and providers and retires it. Hostile input (a version that was
//! never published, a malformed `--trained-on`, a missing weights file, a
//! stranger retiring the model, changes after retirement) must fail with one
//! sentence, a non-zero exit and nothing sent.

mod common;

use common::scenario::{Scenario, field, path};
use serde_json::{Value, json};
use std::{path::Path, time::Instant};

/// Development account 0: the datanet's and the model's owner.
const OWNER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// Development account 1: the contributor, later a provider.
const CONTRIBUTOR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// Development account 5: funded, but owns nothing.
const STRANGER: &str = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";

/// sha256("abc"), the contents of the weights file.
const WEIGHTS_SHA256: &str = "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

impl Scenario {
    /// A datanet with one published version of one contribution: its id.
    fn published_datanet(&self) -> String {
        let created =
            self.send(0, &["datanet", "create", "--name", "Notes", "--licence", "MIT"]).success();
        let datanet = field(&created, "datanet");
        let note = self.file("note.txt", b"A heron stood still in the shallows until dusk.\n");
        let out = self.send(1, &["datanet", "contribute", &datanet, path(&note)]).success();
        assert_eq!(field(&out, "status"), "accepted", "{out}");
        let published = self.send(0, &["datanet", "publish", &datanet]).success();
        assert_eq!(field(&published, "version"), "1", "{published}");
        datanet
    }
}

#[test]
fn a_model_from_registration_to_retirement() {
    let started = Instant::now();
    let scenario = Scenario::start();
    let datanet = scenario.published_datanet();
    let trained_on = format!("{datanet}:1");
    let weights = scenario.file("model.safetensors", b"abc");
    let training = scenario.file("train.yaml", b"epochs: 3\nlr: 0.0001\n");

    // Register: the weights and the training configuration are hashed here.
    let registered = scenario
        .send(
            0,
            &[
                "model",
                "register",
                "--name",
                "Heron-7B",
                "--weights",
                path(&weights),
                "--trained-on",
                &trained_on,
                "--training-config",
                path(&training),
                "--input-price",
                "0.002",
                "--output-price",
                "0.01",
                "--provider",
                CONTRIBUTOR,
            ],
        )
        .success();
    assert_eq!(field(&registered, "model"), "1", "{registered}");
    assert_eq!(field(&registered, "owner"), OWNER, "{registered}");
    assert_eq!(field(&registered, "weights"), WEIGHTS_SHA256, "{registered}");
    assert_eq!(field(&registered, "deployment fee"), "10 OPEN", "{registered}");
    assert_eq!(scenario.rpc().expect("ol_modelCount", json!([])), json!("0x1"));

    // Show it, readable and as JSON.
    let shown = scenario.run(&["model", "show", "1"]).success();
    assert_eq!(field(&shown, "name"), "Heron-7B");
    assert_eq!(field(&shown, "kind"), "full");
    assert_eq!(field(&shown, "base model"), "none (trained from scratch)");
    assert_eq!(field(&shown, "trained on"), format!("datanet {datanet} version 1"));
    assert_eq!(field(&shown, "input price"), "0.002 OPEN per 1,000 tokens");
    assert_eq!(field(&shown, "output price"), "0.01 OPEN per 1,000 tokens");
    assert_eq!(field(&shown, "providers"), CONTRIBUTOR);
    assert_eq!(field(&shown, "status"), "live");
    let json = scenario.run(&["model", "show", "1", "--json"]).success();
    let json: Value = serde_json::from_str(&json).expect("--json prints JSON");
    assert_eq!(json["weightsHash"], WEIGHTS_SHA256);
    assert_eq!(json["trainedOn"][0]["version"], "0x1");
    assert_eq!(json["inputPricePer1k"], format!("{:#x}", 2_000_000_000_000_000u64));
    assert_ne!(json["trainingConfigHash"], format!("0x{}", "0".repeat(64)));
    assert_eq!(json["retired"], false);

    // The owner changes the prices and empties the providers.
    let priced = scenario
        .send(0, &["model", "set-prices", "1", "--input-price", "1.5", "--output-price", "0"])
        .success();
    assert_eq!(field(&priced, "input price"), "1.5 OPEN per 1,000 tokens", "{priced}");
    let emptied = scenario.send(0, &["model", "set-providers", "1"]).success();
    assert_eq!(field(&emptied, "providers"), "none", "{emptied}");
    let shown = scenario.run(&["model", "show", "1"]).success();
    assert_eq!(field(&shown, "input price"), "1.5 OPEN per 1,000 tokens");
    assert_eq!(field(&shown, "output price"), "0 OPEN per 1,000 tokens");
    assert_eq!(field(&shown, "providers"), "none");

    hostile_calls(&scenario, &datanet, &weights);

    // The owner retires it: it stays readable but can no longer change.
    let retired = scenario.send(0, &["model", "retire", "1"]).success();
    assert!(retired.contains("model 1 retired for good"), "{retired}");
    let shown = scenario.run(&["model", "show", "1"]).success();
    assert_eq!(field(&shown, "status"), "retired");
    let nonce = scenario.nonce(OWNER);
    let out = scenario
        .send(0, &["model", "set-prices", "1", "--input-price", "1", "--output-price", "1"])
        .failure();
    assert!(out.contains("model 1 is retired") && out.contains("nothing was sent"), "{out}");
    assert_eq!(scenario.nonce(OWNER), nonce, "a refused command sent a transaction");

    assert!(started.elapsed().as_secs() < 30, "the scenario took {:?}", started.elapsed());
}

/// Refused calls fail with the reason and send nothing.
fn hostile_calls(scenario: &Scenario, datanet: &str, weights: &Path) {
    let nonce = scenario.nonce(OWNER);
    let register = |trained_on: &str| {
        scenario.send(
            0,
            &[
                "model",
                "register",
                "--name",
                "Ghost",
                "--weights",
                path(weights),
                "--trained-on",
                trained_on,
            ],
        )
    };

    // A version that was never published: the registry's reason.
    let out = register(&format!("{datanet}:9")).failure();
    assert!(out.contains(&format!("datanet {datanet} has no published version 9")), "{out}");
    assert!(out.contains("nothing was sent"), "{out}");

    // Malformed --trained-on: refused by the parser.
    let out = register(&format!("{datanet}-1")).usage_error();
    assert!(out.contains("--trained-on") && out.contains("DATANET:VERSION"), "{out}");
    let out = register(&format!("{datanet}:0")).usage_error();
    assert!(out.contains("numbered from 1"), "{out}");

    // A weights file that is not there.
    let missing = scenario.files.path().join("missing.safetensors");
    let out = scenario
        .send(
            0,
            &[
                "model",
                "register",
                "--name",
                "Ghost",
                "--weights",
                path(&missing),
                "--trained-on",
                &format!("{datanet}:1"),
            ],
        )
        .failure();
    assert!(
        out.contains("cannot hash the weights") && out.contains("missing.safetensors"),
        "{out}"
    );

    // An adapter needs a base model.
    let out = scenario
        .send(0, &["model", "register", "--name", "x", "--weights", path(weights), "--adapter"])
        .usage_error();
    assert!(out.contains("--base"), "{out}");
    assert_eq!(scenario.nonce(OWNER), nonce, "a refused command sent a transaction");

    // A stranger may not retire or reprice the model.
    let out = scenario.send(5, &["model", "retire", "1"]).failure();
    assert!(out.contains("only the owner of model 1"), "{out}");
    assert!(out.contains("nothing was sent"), "{out}");
    let out = scenario
        .send(5, &["model", "set-prices", "1", "--input-price", "0", "--output-price", "0"])
        .failure();
    assert!(out.contains("only the owner of model 1"), "{out}");
    assert_eq!(scenario.nonce(STRANGER), 0, "the stranger's refused calls were sent");

    // A model that does not exist.
    let out = scenario.run(&["model", "show", "99"]).failure();
    assert!(out.contains("model 99 does not exist"), "{out}");
}
