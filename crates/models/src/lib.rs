//! Small language models for OpenLedger, built on candle.
//!
//! Byte-level decoder-only transformers ([`Model`]) trained from scratch on
//! datanet text ([`train`]) or adapted with LoRA over a frozen base
//! ([`fine_tune_lora`], [`Adapter`]), deterministically from a seed; weights
//! travel as safetensors bytes with their configuration in the header
//! ([`load_model`], [`load_adapter`]); [`Model::generate`] streams tokens with
//! a KV cache; [`Runtime`] serves one resident base model with an LRU cache
//! of adapters under a memory budget. Configurations are TOML ([`Config`]).
//!
//! The tiny configuration (`configs/tiny.toml`: 2 blocks of width 64,
//! context 64) trains in 120 steps of 8 windows (12-15 s on two CPU cores, in
//! a debug build) to a loss of about 0.74 nats/byte on three repeated
//! sentences, and greedy generation then continues each from its first words
//! exactly (`tests/memorize.rs`). A prompt is generated as the start of a
//! document, after end-of-text, as training documents are.
//!
//! It is not a ledger component: it knows nothing of datanets, contributions
//! or payments (the CLI and node fetch text and register weights hashes), and
//! it is not a general model zoo: no pretrained checkpoints, no BPE
//! tokenizers. It runs on the CPU; the `cuda` feature selects the first GPU
//! when one is present.

pub mod config;
pub mod generate;
pub mod model;
pub mod runtime;
pub mod tokenizer;
pub mod train;
pub mod weights;

pub use config::{Config, ConfigError, LoraConfig, LoraTarget, ModelConfig, TrainingConfig};
pub use generate::{FinishReason, Generation, GenerationParams};
pub use model::{Adapter, InvalidWeightsHash, Model, WeightsHash};
pub use runtime::{CacheStats, Runtime};
pub use train::{
    Progress, Silent, TrainedAdapter, TrainedModel, TrainingReport, fine_tune_lora, train,
};
pub use weights::{FORMAT, WeightsError, WeightsKind, load_adapter, load_model, load_model_on};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A weights file was rejected.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A tensor operation failed (out of memory, device error).
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The texts are too few or too short to train and hold out.
    #[error("not enough text to train: {0}")]
    NotEnoughText(String),
    /// LoRA fine-tuning needs a `[lora]` section.
    #[error("the configuration has no [lora] section, which LoRA fine-tuning needs")]
    NoLoraSection,
    /// The configuration does not describe the base model.
    #[error("configuration does not match the base model: {0}")]
    ModelMismatch(String),
    /// The loss became NaN or infinite (learning rate too high).
    #[error("training diverged at step {step} (loss is not finite); lower training.learning_rate")]
    Diverged {
        /// The step whose loss was not finite.
        step: usize,
    },
    /// A request's tokens or generation parameters are unusable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The adapter's weights could not be fetched.
    #[error("cannot fetch adapter {hash}: {reason}")]
    AdapterFetch {
        /// The adapter requested.
        hash: WeightsHash,
        /// What the fetcher reported.
        reason: String,
    },
    /// The fetched bytes are not the adapter requested.
    #[error("fetched adapter bytes hash to {found}, not the requested {requested}")]
    AdapterHashMismatch {
        /// The adapter requested.
        requested: WeightsHash,
        /// The sha256 of what was fetched.
        found: WeightsHash,
    },
    /// The adapter alone exceeds the cache's memory budget.
    #[error("adapter {hash} needs {bytes} bytes, more than the cache budget of {budget}")]
    AdapterOverBudget {
        /// The adapter.
        hash: WeightsHash,
        /// Its size in memory.
        bytes: usize,
        /// The cache's budget.
        budget: usize,
    },
    /// A bug in this crate (a value it produced could not be encoded).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The device models are built on: the first CUDA GPU with the `cuda`
/// feature when present, else the CPU.
pub fn default_device() -> candle_core::Device {
    #[cfg(feature = "cuda")]
    if let Ok(device) = candle_core::Device::cuda_if_available(0) {
        return device;
    }
    candle_core::Device::Cpu
}
