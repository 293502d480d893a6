//! The tiny configuration memorizes a few sentences and continues them from
//! their first words: training must teach the model to use its context, and
//! generation must start where training documents start.

use ol_models::{Config, GenerationParams, Silent, tokenizer, train};

const SENTENCES: [&str; 3] = [
    "The apothecary measured the tincture twice before sealing the amber bottle. ",
    "Tide tables for the northern harbour are printed each winter for the pilots. ",
    "A lighthouse keeper logs the weather every four hours and the ships in sight. ",
];

/// Each sentence twice per document, eight documents per sentence, so the
/// held-out split by document still leaves every sentence in training.
fn documents() -> Vec<String> {
    (0..8).flat_map(|_| SENTENCES.iter().map(|sentence| sentence.repeat(2))).collect()
}

#[test]
fn tiny_config_memorizes_and_continues_sentences() {
    let config = Config::from_toml(include_str!("../configs/tiny.toml")).expect("tiny.toml parses");
    let trained = train(&config, &documents(), &mut Silent).expect("tiny model trains");
    let report = &trained.report;
    eprintln!(
        "{} steps in {:.1?}: loss {:.3} -> {:.3}",
        report.losses.len(),
        report.elapsed,
        report.initial_loss(),
        report.final_loss()
    );
    for (sentence, words) in SENTENCES.iter().zip([3, 4, 4]) {
        let prompt: String = sentence.split(' ').take(words).collect::<Vec<_>>().join(" ");
        let params = GenerationParams { max_tokens: 32, ..Default::default() };
        let output =
            trained.model.generate(None, &tokenizer::encode(&prompt), &params, |_| {}).unwrap();
        let text = output.text();
        let expected = &sentence.repeat(2)[prompt.len()..];
        let matching = text.bytes().zip(expected.bytes()).take_while(|(a, b)| a == b).count();
        eprintln!("{prompt:?} -> {text:?} ({matching} bytes match)");
        assert!(matching >= 16, "{prompt:?} continued as {text:?}, expected {:?}", &expected[..32]);
    }
}
