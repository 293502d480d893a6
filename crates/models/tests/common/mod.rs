//! Shared fixtures: a small repetitive English corpus and tiny configurations.

#![allow(dead_code, unreachable_pub)]

use ol_models::Config;

/// Documents of simple, repetitive English sentences (deterministic).
pub fn english_corpus(documents: usize) -> Vec<String> {
    let subjects = ["the cat", "the dog", "a bird", "the farmer", "my friend"];
    let verbs = ["sat on", "looked at", "walked to", "jumped over", "slept near"];
    let objects = ["the mat.", "the old tree.", "the red barn.", "the river.", "the green hill."];
    (0..documents)
        .map(|document| {
            (0..6)
                .map(|sentence| {
                    let n = document * 7 + sentence * 3;
                    format!("{} {} {}", subjects[n % 5], verbs[(n / 5) % 5], objects[(n / 2) % 5])
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Text of another style, for fine-tuning.
pub fn numbers_corpus(documents: usize) -> Vec<String> {
    (0..documents)
        .map(|document| {
            (0..8)
                .map(|i| format!("item {} costs {} coins;", (document + i) % 10, (i * 3) % 10))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The tiny configuration used by the tests, with `steps` and `seed`.
pub fn tiny(steps: usize, seed: u64) -> Config {
    Config::from_toml(&format!(
        r#"
[model]
layers = 2
width = 64
heads = 4
context = 64

[lora]
rank = 4
alpha = 8.0
targets = ["q", "v"]

[training]
steps = {steps}
batch_size = 16
learning_rate = 0.003
seed = {seed}
held_out = 0.1
warmup_steps = {warmup}
weight_decay = 0.01
"#,
        warmup = steps.min(10)
    ))
    .expect("the tiny test configuration is valid")
}
