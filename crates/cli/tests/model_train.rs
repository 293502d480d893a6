//! End-to-end tests of `openledger model train` against a real dev node.
//!
//! A datanet version of repetitive English is published through
//! `openledger datanet`; a tiny model is trained on it, written, stored in the
//! node's blob store and registered with its provenance; a LoRA adapter is
//! then fine-tuned over that base (fetched back from the blob store) and
//! registered as an adapter. Hostile input (a missing configuration, bad
//! values, an unknown datanet or version, a base not in the blob store) fails
//! with one sentence and registers nothing.

mod common;

use common::scenario::{Scenario, field, path};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// A tiny model and a short run, so the test trains in seconds.
fn config(steps: usize) -> String {
    format!(
        r#"
[model]
layers = 1
width = 32
heads = 2
context = 32

[lora]
rank = 2
alpha = 4.0
targets = ["q", "v"]

[training]
steps = {steps}
batch_size = 8
learning_rate = 0.005
seed = 3
held_out = 0.2
"#
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    format!("0x{}", digest.iter().map(|byte| format!("{byte:02x}")).collect::<String>())
}

impl Scenario {
    /// A datanet with one published version of two text contributions: its id.
    fn english_datanet(&self) -> String {
        let created =
            self.send(0, &["datanet", "create", "--name", "Prose", "--licence", "MIT"]).success();
        let datanet = field(&created, "datanet");
        for (index, subject) in ["the cat", "the dog"].iter().enumerate() {
            let text: String = (0..30)
                .map(|line| format!("{subject} sat on the mat number {}.\n", line % 7))
                .collect();
            let file = self.file(&format!("prose{index}.txt"), text.as_bytes());
            let out = self.send(1, &["datanet", "contribute", &datanet, path(&file)]).success();
            assert_eq!(field(&out, "status"), "accepted", "{out}");
        }
        let published = self.send(0, &["datanet", "publish", &datanet]).success();
        assert_eq!(field(&published, "version"), "1", "{published}");
        datanet
    }

    fn model_json(&self, id: &str) -> Value {
        serde_json::from_str(&self.run(&["model", "show", id, "--json"]).success())
            .expect("model show --json prints JSON")
    }
}

#[test]
fn train_store_register_and_fine_tune_from_a_datanet_version() {
    let started = Instant::now();
    let scenario = Scenario::start();
    let datanet = scenario.english_datanet();
    let config_text = config(12);
    let config = scenario.file("tiny.toml", config_text.as_bytes());
    let out = scenario.files.path().join("tiny.safetensors");

    let trained = scenario
        .send(
            0,
            &[
                "model",
                "train",
                "--datanet",
                &datanet,
                "--version",
                "1",
                "--config",
                path(&config),
                "--out",
                path(&out),
                "--register",
                "--name",
                "Tiny",
                "--output-price",
                "0.5",
            ],
        )
        .success();
    let weights = std::fs::read(&out).expect("the weights are written to --out");
    let weights_hash = sha256_hex(&weights);
    assert_eq!(field(&trained, "weights"), weights_hash, "{trained}");
    assert_eq!(field(&trained, "config hash"), sha256_hex(config_text.as_bytes()));
    let perplexity: f64 = field(&trained, "perplexity")
        .split_whitespace()
        .next()
        .and_then(|value| value.parse().ok())
        .expect("a perplexity is printed");
    assert!(perplexity.is_finite() && perplexity > 1.0, "{trained}");
    // Stored in the node's blob store, registered with its provenance.
    let stored = scenario.rpc().expect("ol_getBlob", json!([weights_hash]));
    assert_eq!(stored.as_str().map(str::len), Some(2 + 2 * weights.len()));
    let model = field(&trained, "model");
    let json = scenario.model_json(&model);
    assert_eq!(json["name"], "Tiny");
    assert_eq!(json["kind"], "full");
    assert_eq!(json["weightsHash"], weights_hash);
    assert_eq!(json["trainingConfigHash"], sha256_hex(config_text.as_bytes()));
    assert_eq!(json["trainedOn"][0]["version"], json!("0x1"), "{json}");

    // A LoRA adapter over that base, fetched back from the blob store.
    let adapter_out = scenario.files.path().join("adapter.safetensors");
    let tuned = scenario
        .send(
            0,
            &[
                "model",
                "train",
                "--datanet",
                &datanet,
                "--version",
                "1",
                "--config",
                path(&config),
                "--base",
                &weights_hash,
                "--out",
                path(&adapter_out),
                "--register",
                "--name",
                "TinyLoRA",
            ],
        )
        .success();
    let adapter = std::fs::read(&adapter_out).expect("the adapter is written");
    let json = scenario.model_json(&field(&tuned, "model"));
    assert_eq!(json["kind"], "adapter");
    assert_eq!(json["baseModel"], weights_hash);
    assert_eq!(json["weightsHash"], sha256_hex(&adapter));
    assert!(adapter.len() < weights.len() / 4, "{} vs {}", adapter.len(), weights.len());

    // The same seed and data train the same weights, byte for byte.
    let again = scenario.files.path().join("again.safetensors");
    scenario
        .send(
            0,
            &[
                "model",
                "train",
                "--datanet",
                &datanet,
                "--version",
                "1",
                "--config",
                path(&config),
                "--out",
                path(&again),
            ],
        )
        .success();
    assert_eq!(std::fs::read(&again).unwrap(), weights);
    eprintln!("model train scenario: {:.1?}", started.elapsed());
}

#[test]
fn hostile_input_fails_with_one_sentence_and_registers_nothing() {
    let scenario = Scenario::start();
    let datanet = scenario.english_datanet();
    let owner = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    let nonce = scenario.nonce(owner);
    let good = scenario.file("good.toml", config(2).as_bytes());
    let train = |config: &str, datanet: &str, version: &str, extra: &[&str]| {
        let arguments = [
            &["model", "train", "--datanet", datanet, "--version", version, "--config", config][..],
            extra,
            &["--register", "--name", "Nope"],
        ]
        .concat();
        scenario.send(0, &arguments).failure()
    };

    let missing = scenario.files.path().join("missing.toml");
    let error = train(path(&missing), &datanet, "1", &[]);
    assert!(error.contains("cannot read the training configuration"), "{error}");

    let bad = scenario.file("bad.toml", config(2).replace("layers = 1", "layers = 0").as_bytes());
    let error = train(path(&bad), &datanet, "1", &[]);
    assert!(error.contains("model.layers` = 0"), "{error}");

    let typo = scenario.file("typo.toml", config(2).replace("seed = 3", "sed = 3").as_bytes());
    let error = train(path(&typo), &datanet, "1", &[]);
    assert!(error.contains("unknown field `sed`") && error.contains("line 17"), "{error}");

    let error = train(path(&good), "999", "1", &[]);
    assert!(error.contains("datanet 999 does not exist"), "{error}");

    let error = train(path(&good), &datanet, "7", &[]);
    assert!(error.contains(&format!("datanet {datanet} has no published version 7")), "{error}");

    let absent = format!("0x{}", "ab".repeat(32));
    let error = train(path(&good), &datanet, "1", &["--base", &absent]);
    assert!(error.contains("is not in the node's blob store"), "{error}");

    assert_eq!(scenario.rpc().expect("ol_modelCount", json!([])), json!("0x0"));
    assert_eq!(scenario.nonce(owner), nonce);
}
