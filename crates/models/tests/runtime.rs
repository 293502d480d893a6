//! The adapter cache (LRU under a byte budget, concurrent use) and hostile weights files.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use ol_models::{
    Error, GenerationParams, Model, Runtime, Silent, WeightsError, WeightsHash, fine_tune_lora,
    load_adapter, load_model, tokenizer, train,
};

struct Fixture {
    base: Arc<Model>,
    base_weights: Vec<u8>,
    /// Four different adapters over `base`: (hash, weights).
    adapters: Vec<(WeightsHash, Vec<u8>)>,
    adapter_bytes: usize,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let trained = train(&common::tiny(4, 1), &common::english_corpus(8), &mut Silent).unwrap();
        let texts = common::numbers_corpus(6);
        let adapters: Vec<_> = (0..4)
            .map(|seed| {
                let tuned =
                    fine_tune_lora(&common::tiny(2, seed), &trained.model, &texts, &mut Silent)
                        .unwrap();
                (tuned.adapter.hash(), tuned.weights)
            })
            .collect();
        let adapter_bytes = load_adapter(&adapters[0].1, &trained.model).unwrap().memory_bytes();
        Fixture {
            base: Arc::new(trained.model),
            base_weights: trained.weights,
            adapters,
            adapter_bytes,
        }
    })
}

fn fetch(index: usize) -> impl FnOnce() -> Result<Vec<u8>, String> {
    move || Ok(fixture().adapters[index].1.clone())
}

#[test]
fn cache_evicts_least_recently_used_by_budget() {
    let f = fixture();
    // Room for two adapters and a half.
    let runtime = Runtime::new(f.base.clone(), f.adapter_bytes * 5 / 2);
    let hash = |i: usize| f.adapters[i].0;
    runtime.adapter(hash(0), fetch(0)).unwrap();
    runtime.adapter(hash(1), fetch(1)).unwrap();
    // Touch 0, so 1 is least recently used when 2 arrives.
    runtime.adapter(hash(0), || Err::<Vec<u8>, _>("must be a hit")).unwrap();
    runtime.adapter(hash(2), fetch(2)).unwrap();
    assert!(runtime.is_resident(&hash(0)));
    assert!(!runtime.is_resident(&hash(1)));
    assert!(runtime.is_resident(&hash(2)));
    let stats = runtime.stats();
    assert_eq!((stats.hits, stats.misses, stats.evictions), (1, 3, 1));
    assert_eq!(stats.adapters, vec![(hash(2), f.adapter_bytes), (hash(0), f.adapter_bytes)]);
    assert_eq!(stats.resident_bytes, 2 * f.adapter_bytes);
    assert!(stats.last_load.is_some());
    eprintln!(
        "adapter: {} bytes in memory, {} bytes on disk, last load {:?}",
        f.adapter_bytes,
        f.adapters[0].1.len(),
        stats.last_load.unwrap()
    );
    // 1 is loaded again (a miss), evicting 0 (now the least recently used).
    runtime.adapter(hash(1), fetch(1)).unwrap();
    assert!(!runtime.is_resident(&hash(0)));
    assert_eq!(runtime.stats().evictions, 2);
}

#[test]
fn cache_rejects_wrong_bytes_failed_fetch_and_oversized_adapters() {
    let f = fixture();
    let runtime = Runtime::new(f.base.clone(), f.adapter_bytes * 2);
    let wrong = runtime.adapter(f.adapters[0].0, fetch(1)).unwrap_err();
    assert!(matches!(wrong, Error::AdapterHashMismatch { .. }), "{wrong}");
    let failed = runtime.adapter(f.adapters[0].0, || Err("blob store unreachable")).unwrap_err();
    assert!(failed.to_string().contains("blob store unreachable"), "{failed}");
    let small = Runtime::new(f.base.clone(), f.adapter_bytes - 1);
    let over = small.adapter(f.adapters[0].0, fetch(0)).unwrap_err();
    assert!(matches!(over, Error::AdapterOverBudget { .. }), "{over}");
    assert_eq!(small.stats().resident_bytes, 0);
}

#[test]
fn cache_is_safe_under_concurrent_use() {
    let f = fixture();
    let runtime = Arc::new(Runtime::new(f.base.clone(), f.adapter_bytes * 2));
    let prompt = tokenizer::encode("item 1");
    let params = GenerationParams { max_tokens: 8, ..Default::default() };
    // Expected greedy outputs, computed alone.
    let expected: Vec<_> = (0..4)
        .map(|i| {
            let adapter = load_adapter(&f.adapters[i].1, &f.base).unwrap();
            f.base.generate(Some(&adapter), &prompt, &params, |_| {}).unwrap()
        })
        .collect();
    let plain = f.base.generate(None, &prompt, &params, |_| {}).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let runtime = runtime.clone();
            let (prompt, params, expected, plain) =
                (prompt.clone(), params.clone(), expected.clone(), plain.clone());
            std::thread::spawn(move || {
                for round in 0..6 {
                    let index = (thread + round) % 4;
                    let adapter =
                        runtime.adapter(fixture().adapters[index].0, fetch(index)).unwrap();
                    let out = runtime.generate(Some(adapter), &prompt, &params, |_| {}).unwrap();
                    assert_eq!(out, expected[index]);
                    if round % 3 == 0 {
                        assert_eq!(
                            runtime.generate(None, &prompt, &params, |_| {}).unwrap(),
                            plain
                        );
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker thread must not panic");
    }
    let stats = runtime.stats();
    assert_eq!(stats.hits + stats.misses, 24);
    assert!(stats.resident_bytes <= f.adapter_bytes * 2);
    assert!(stats.adapters.len() <= 2);
    let unique: BTreeSet<_> = stats.adapters.iter().map(|(hash, _)| *hash).collect();
    assert_eq!(unique.len(), stats.adapters.len());
}

fn weights_error(result: Result<impl std::fmt::Debug, Error>) -> WeightsError {
    match result {
        Err(Error::Weights(error)) => error,
        other => panic!("expected a weights error, got {other:?}"),
    }
}

#[test]
fn hostile_model_files_are_errors() {
    let f = fixture();
    let bytes = &f.base_weights;
    for cut in [0, 4, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        let error = weights_error(load_model(&bytes[..cut]));
        assert!(matches!(error, WeightsError::Corrupt(_)), "cut at {cut}: {error}");
    }
    let mut random = vec![0u8; 4096];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for byte in &mut random {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    assert!(matches!(weights_error(load_model(&random)), WeightsError::Corrupt(_)));
    // An adapter is not a model, and a model is not an adapter.
    let error = weights_error(load_model(&f.adapters[0].1));
    assert!(matches!(error, WeightsError::WrongKind { .. }), "{error}");
    let error = weights_error(load_adapter(bytes, &f.base));
    assert!(matches!(error, WeightsError::WrongKind { .. }), "{error}");
}

/// Rewrites a weights file's JSON header with `edit`, keeping the data.
fn edit_header(
    bytes: &[u8],
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Vec<u8> {
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    edit(&mut header);
    let mut text = serde_json::to_vec(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(&bytes[8 + length..]);
    out
}

#[test]
fn wrong_shapes_dtypes_and_tensor_sets_are_errors() {
    let f = fixture();
    let bytes = &f.base_weights;
    // The same data under a different shape with the same element count.
    let reshaped = edit_header(bytes, |h| {
        h["final_norm.weight"]["shape"] = serde_json::json!([8, 8]);
    });
    let error = weights_error(load_model(&reshaped));
    assert!(matches!(error, WeightsError::WrongShape { .. }), "{error}");
    assert!(error.to_string().contains("final_norm.weight"), "{error}");
    let as_i32 = edit_header(bytes, |h| {
        h["final_norm.bias"]["dtype"] = serde_json::json!("I32");
    });
    assert!(matches!(weights_error(load_model(&as_i32)), WeightsError::WrongDtype { .. }));
    let renamed = edit_header(bytes, |h| {
        let value = h.remove("final_norm.bias").unwrap();
        h.insert("final_norm.extra".into(), value);
    });
    assert!(
        matches!(weights_error(load_model(&renamed)), WeightsError::UnexpectedTensor(name) if name == "final_norm.extra")
    );
    let unmetadata = edit_header(bytes, |h| {
        h.remove("__metadata__");
    });
    assert!(matches!(
        weights_error(load_model(&unmetadata)),
        WeightsError::MissingMetadata("format")
    ));
    let bad_config = edit_header(bytes, |h| {
        h["__metadata__"]["config"] =
            serde_json::json!("{\"layers\":2,\"width\":64,\"heads\":5,\"context\":64}");
    });
    assert!(matches!(weights_error(load_model(&bad_config)), WeightsError::BadConfig { .. }));
    // A NaN in the data.
    let mut poisoned = bytes.clone();
    let end = poisoned.len();
    poisoned[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(matches!(weights_error(load_model(&poisoned)), WeightsError::NonFinite(_)));
}

#[test]
fn adapter_for_another_base_is_rejected() {
    let f = fixture();
    let other = train(&common::tiny(2, 77), &common::english_corpus(8), &mut Silent).unwrap();
    assert_ne!(other.model.hash(), f.base.hash());
    let error = weights_error(load_adapter(&f.adapters[0].1, &other.model));
    assert!(matches!(error, WeightsError::BaseMismatch { .. }), "{error}");
    // And through the runtime.
    let runtime = Runtime::new(Arc::new(other.model), 1 << 20);
    let error = runtime.adapter(f.adapters[0].0, fetch(0)).unwrap_err();
    assert!(error.to_string().contains("trained over base model"), "{error}");
    // Generating with a mismatched adapter object is refused too.
    let adapter = Arc::new(load_adapter(&f.adapters[0].1, &f.base).unwrap());
    let error =
        runtime.generate(Some(adapter), &[104], &GenerationParams::default(), |_| {}).unwrap_err();
    assert!(error.to_string().contains("trained over base model"), "{error}");
}
