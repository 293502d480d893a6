//! Training, determinism, weights round trips, LoRA and generation on a tiny model.

mod common;

use std::sync::OnceLock;
use std::time::Instant;

use ol_models::{
    FinishReason, GenerationParams, Silent, TrainedModel, fine_tune_lora, load_adapter, load_model,
    tokenizer, train,
};

/// The 150-step model, trained once for every test of this file.
fn trained() -> &'static TrainedModel {
    static MODEL: OnceLock<TrainedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let started = Instant::now();
        let mut steps = 0;
        let trained = train(&common::tiny(150, 1), &common::english_corpus(40), &mut |step: usize, total: usize, _loss: f32| {
            assert!(step <= total);
            steps = step;
        })
        .expect("tiny model trains");
        assert_eq!(steps, 150);
        eprintln!(
            "tiny model: {} parameters, 150 steps in {:.1?}, loss {:.3} -> {:.3}, held-out perplexity {:.2}",
            trained.model.parameter_count(),
            started.elapsed(),
            trained.report.initial_loss(),
            trained.report.final_loss(),
            trained.report.held_out_perplexity
        );
        trained
    })
}

#[test]
fn loss_drops_clearly_on_repetitive_english() {
    let report = &trained().report;
    assert_eq!(report.losses.len(), 150);
    // A uniform guess over 257 tokens costs ln(257) ≈ 5.55 nats.
    assert!(report.initial_loss() > 4.5, "{}", report.initial_loss());
    assert!(report.final_loss() < 2.0, "final loss {}", report.final_loss());
    assert!(report.held_out_perplexity < 8.0, "held-out perplexity {}", report.held_out_perplexity);
    assert_eq!(report.held_out_documents, 4);
    assert_eq!(report.train_documents, 36);
}

#[test]
fn same_seed_gives_identical_weights_other_seed_differs() {
    let texts = common::english_corpus(10);
    let first = train(&common::tiny(5, 9), &texts, &mut Silent).unwrap();
    let second = train(&common::tiny(5, 9), &texts, &mut Silent).unwrap();
    let other = train(&common::tiny(5, 10), &texts, &mut Silent).unwrap();
    assert_eq!(first.weights, second.weights);
    assert_eq!(first.model.hash(), second.model.hash());
    assert_eq!(first.report.losses, second.report.losses);
    assert_ne!(first.weights, other.weights);
}

#[test]
fn weights_round_trip_gives_identical_logits() {
    let trained = trained();
    let loaded = load_model(&trained.weights).unwrap();
    assert_eq!(loaded.hash(), trained.model.hash());
    assert_eq!(loaded.to_bytes().unwrap(), trained.weights);
    let tokens = tokenizer::encode("the cat sat on");
    assert_eq!(loaded.logits(None, &tokens).unwrap(), trained.model.logits(None, &tokens).unwrap());
}

#[test]
fn greedy_generation_is_deterministic_and_stops_at_max_tokens() {
    let model = &trained().model;
    let params = GenerationParams { max_tokens: 40, ..Default::default() };
    let prompt = tokenizer::encode("the dog ");
    let mut streamed = Vec::new();
    let first = model.generate(None, &prompt, &params, |token| streamed.push(token)).unwrap();
    let second = model.generate(None, &prompt, &params, |_| {}).unwrap();
    assert_eq!(first, second);
    assert_eq!(streamed, first.tokens);
    assert!(first.tokens.len() <= 40);
    if first.finish == FinishReason::MaxTokens {
        assert_eq!(first.tokens.len(), 40);
    }
    // The model has learnt the corpus's words.
    let text = first.text();
    eprintln!("greedy: {text:?}");
    assert!(
        ["the", "sat", "at", "on", "to", "near", "over"].iter().any(|w| text.contains(w)),
        "{text:?}"
    );

    let short = GenerationParams { max_tokens: 3, ..Default::default() };
    let three = model.generate(None, &prompt, &short, |_| {}).unwrap();
    assert!(three.tokens.len() <= 3);
    assert_eq!(three.tokens[..], first.tokens[..three.tokens.len()]);
}

#[test]
fn sampling_is_seeded_and_long_generation_slides_the_context() {
    let model = &trained().model;
    let params = GenerationParams {
        max_tokens: 256,
        temperature: 0.8,
        top_p: 0.9,
        seed: 3,
        stop: Vec::new(),
    };
    let started = Instant::now();
    let mut count = 0usize;
    let first =
        model.generate(None, &tokenizer::encode("a bird"), &params, |_| count += 1).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "sampled {} tokens in {:.1?} ({:.0} tokens/s), finish {:?}: {:?}",
        count,
        elapsed,
        count as f64 / elapsed.as_secs_f64(),
        first.finish,
        first.text()
    );
    let again = model.generate(None, &tokenizer::encode("a bird"), &params, |_| {}).unwrap();
    assert_eq!(first, again);
    // Greedy past the 64-token context: the cache is rebuilt, generation goes on.
    let greedy =
        GenerationParams { max_tokens: 200, stop: vec!["zzz".into()], ..Default::default() };
    let long = model.generate(None, &tokenizer::encode("the cat"), &greedy, |_| {}).unwrap();
    assert!(long.finish != FinishReason::Stop);
}

#[test]
fn stop_string_ends_generation_without_being_emitted() {
    let model = &trained().model;
    let free = model
        .generate(
            None,
            &tokenizer::encode("the farmer"),
            &GenerationParams { max_tokens: 60, ..Default::default() },
            |_| {},
        )
        .unwrap();
    let text = free.text();
    // Stop on a piece of what greedy decoding is known to produce.
    let Some(stop) = text.get(10..13).filter(|s| !s.is_empty()) else { return };
    let params =
        GenerationParams { max_tokens: 60, stop: vec![stop.to_string()], ..Default::default() };
    let mut streamed = Vec::new();
    let stopped = model
        .generate(None, &tokenizer::encode("the farmer"), &params, |t| streamed.push(t))
        .unwrap();
    assert_eq!(stopped.finish, FinishReason::Stop);
    assert_eq!(stopped.text(), text[..text.find(stop).unwrap()]);
    assert_eq!(streamed, stopped.tokens);
}

#[test]
fn lora_fine_tune_changes_only_adapter_tensors_and_lowers_loss() {
    let base = &trained().model;
    let base_bytes = base.to_bytes().unwrap();
    let texts = common::numbers_corpus(20);
    let mut config = common::tiny(60, 5);
    config.training.learning_rate = 0.01;
    let tuned = fine_tune_lora(&config, base, &texts, &mut Silent).unwrap();
    // The base is untouched; the adapter holds only LoRA tensors, over this base.
    assert_eq!(base.to_bytes().unwrap(), base_bytes);
    assert_eq!(tuned.adapter.base_hash(), base.hash());
    let names = tuned.adapter.tensor_names();
    assert_eq!(names.len(), 2 * 2 * 2);
    assert!(names.iter().all(|n| n.ends_with(".lora_a") || n.ends_with(".lora_b")), "{names:?}");
    let report = &tuned.report;
    eprintln!(
        "LoRA: {} bytes, loss {:.3} -> {:.3}, held-out perplexity {:.2}",
        tuned.adapter.memory_bytes(),
        report.initial_loss(),
        report.final_loss(),
        report.held_out_perplexity
    );
    assert!(report.final_loss() < report.initial_loss() * 0.8, "{report:?}");
    // The adapter reloads, and changes the base model's predictions.
    let loaded = load_adapter(&tuned.weights, base).unwrap();
    assert_eq!(loaded.hash(), tuned.adapter.hash());
    let tokens = tokenizer::encode("item 3 costs");
    let with = base.logits(Some(&loaded), &tokens).unwrap();
    let without = base.logits(None, &tokens).unwrap();
    assert_ne!(with, without);
    // Same seed, same adapter bytes.
    let again = fine_tune_lora(&config, base, &texts, &mut Silent).unwrap();
    assert_eq!(again.weights, tuned.weights);
}

#[test]
fn one_document_holds_out_its_tail() {
    let text = common::english_corpus(3).join(" ");
    let trained = train(&common::tiny(3, 2), &[text], &mut Silent).unwrap();
    assert_eq!(trained.report.held_out_documents, 0);
    assert!(trained.report.held_out_tokens > 2);
    assert!(trained.report.held_out_perplexity.is_finite());
}

#[test]
fn no_text_is_an_error() {
    let error = train(&common::tiny(3, 2), &[String::new()], &mut Silent).unwrap_err();
    assert!(error.to_string().contains("not enough text"), "{error}");
    let error = train(&common::tiny(3, 2), &["tiny".to_string()], &mut Silent).unwrap_err();
    assert!(error.to_string().contains("not enough text"), "{error}");
}
