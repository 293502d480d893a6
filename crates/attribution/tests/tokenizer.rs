//! The GPT-2 tokenizer against ids computed by OpenAI's `tiktoken` (0.14.0)
//! from the same vocabulary file (`tests/data/gpt2_reference.json`).

use ol_attribution::tokenizer::Tokenizer;

#[derive(serde::Deserialize)]
struct Reference {
    text: String,
    tokens: Vec<u32>,
}

#[test]
fn gpt2_encodes_as_tiktoken_does() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gpt2_reference.json");
    let references: Vec<Reference> =
        serde_json::from_slice(&std::fs::read(path).expect("reference file"))
            .expect("reference parses");
    assert!(references.len() >= 5);
    let tokenizer = Tokenizer::gpt2().expect("gpt2 loads");
    for reference in &references {
        assert_eq!(tokenizer.encode(&reference.text), reference.tokens, "{:?}", reference.text);
        assert_eq!(tokenizer.decode(&reference.tokens), reference.text);
    }
    assert!(references.iter().all(|r| !r.tokens.contains(&tokenizer.separator())));
}

#[test]
fn tokenizers_by_name() {
    for name in ["byte", "gpt2"] {
        assert_eq!(Tokenizer::by_name(name).expect("known").name(), name);
    }
    assert!(Tokenizer::by_name("llama").is_err());
}
