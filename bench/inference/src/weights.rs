//! The model and the adapters: a tiny byte-level base trained on the corpus
//! (crates/models/configs/tiny.toml), one LoRA adapter fine-tuned over it on
//! part of the corpus, and the rest derived from that one by a deterministic
//! perturbation of its tensor values.
//!
//! A derived adapter keeps the fine-tuned file's header (configuration,
//! LoRA shape, base hash) and changes only the little-endian f32 values
//! after it, so it is a valid adapter of the same size with its own hash;
//! `ol_models::load_adapter` parses and checks each one like any other.

use crate::corpus::Rng;
use ol_models::{Config, Model, Silent, WeightsHash};
use std::sync::Arc;

/// The trained base and the adapter files.
pub(crate) struct Weights {
    pub(crate) base: Arc<Model>,
    pub(crate) base_bytes: usize,
    pub(crate) base_parameters: usize,
    pub(crate) base_loss: (f32, f32),
    pub(crate) train_seconds: f64,
    /// (hash, safetensors bytes) of every adapter; the first is fine-tuned.
    pub(crate) adapters: Vec<(WeightsHash, Vec<u8>)>,
    pub(crate) fine_tune_seconds: f64,
}

/// Trains the base for `steps`, fine-tunes one adapter for `lora_steps` on
/// `adapter_texts`, and derives `adapters - 1` more.
pub(crate) fn prepare(
    texts: &[String],
    adapter_texts: &[String],
    steps: usize,
    lora_steps: usize,
    adapters: usize,
) -> eyre::Result<Weights> {
    let mut config = Config::from_toml(include_str!("../../../crates/models/configs/tiny.toml"))?;
    config.training.steps = steps;
    config.training.warmup_steps = config.training.warmup_steps.min(steps / 4);
    let trained = ol_models::train(&config, texts, &mut Silent)?;
    let base_loss = (trained.report.initial_loss(), trained.report.final_loss());
    let train_seconds = trained.report.elapsed.as_secs_f64();

    config.training.steps = lora_steps;
    config.training.warmup_steps = config.training.warmup_steps.min(lora_steps / 4);
    let tuned = ol_models::fine_tune_lora(&config, &trained.model, adapter_texts, &mut Silent)?;
    let fine_tune_seconds = tuned.report.elapsed.as_secs_f64();
    let mut files = vec![(tuned.adapter.hash(), tuned.weights.clone())];
    for n in 1..adapters {
        let bytes = perturbed(&tuned.weights, n as u64)?;
        files.push((WeightsHash::of(&bytes), bytes));
    }
    Ok(Weights {
        base_parameters: trained.model.parameter_count(),
        base_bytes: trained.weights.len(),
        base: Arc::new(trained.model),
        base_loss,
        train_seconds,
        adapters: files,
        fine_tune_seconds,
    })
}

/// A copy of a safetensors adapter file whose f32 values are each scaled by
/// a factor in [0.9, 1.1) drawn from `seed`.
fn perturbed(file: &[u8], seed: u64) -> eyre::Result<Vec<u8>> {
    let header: [u8; 8] = file
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| eyre::eyre!("the adapter file is shorter than a safetensors header"))?;
    let data_start = 8 + usize::try_from(u64::from_le_bytes(header))?;
    eyre::ensure!(
        data_start <= file.len() && (file.len() - data_start).is_multiple_of(4),
        "the adapter file's data is not whole f32 values"
    );
    let mut out = file.to_vec();
    let mut rng = Rng::new(seed);
    for value in out[data_start..].chunks_exact_mut(4) {
        let v = f32::from_le_bytes([value[0], value[1], value[2], value[3]]);
        value.copy_from_slice(&(v * (1.0 + 0.1 * rng.signed_unit())).to_le_bytes());
    }
    Ok(out)
}
