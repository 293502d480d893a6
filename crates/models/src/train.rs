//! Training from scratch and LoRA fine-tuning, deterministically.
//!
//! Every random choice comes from `StdRng` streams derived from the
//! configured seed: parameter initialisation (candle's own `randn` is not
//! seedable, so tensors are built from vectors filled here), the held-out
//! split and batch sampling. With the same seed, data and build, the weights
//! are byte-identical.
//!
//! The corpus is each text's bytes followed by end-of-text. Documents are
//! split into training and held-out sets by a seeded shuffle (with one
//! document, its tail is held out instead); each set is one stream that
//! starts with end-of-text, so every document follows one. A batch is
//! `batch_size` windows of `context + 1` tokens of the training stream: the
//! even-numbered windows start at the end-of-text before a random document
//! (position 0 then looks as it does in generation, which puts end-of-text
//! before the prompt), the others at uniformly random offsets.
//! AdamW (betas 0.9, 0.95) with linear warm-up and cosine decay to a tenth of
//! the peak rate; weight decay applies to the linear layers' matrices (and
//! LoRA factors), not to embeddings, norms or biases.

use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::config::{Config, LoraConfig};
use crate::model::{Adapter, AdapterParams, Init, Model, ParameterSpec, Transformer, WeightsHash};
use crate::tokenizer::{END_OF_TEXT, encode_document};
use crate::{Error, weights};

/// Receives training progress after every optimiser step.
pub trait Progress {
    /// Called after step `step` (1-based) of `total` with that step's loss.
    fn step(&mut self, step: usize, total: usize, loss: f32);
}

impl<F: FnMut(usize, usize, f32)> Progress for F {
    fn step(&mut self, step: usize, total: usize, loss: f32) {
        self(step, total, loss)
    }
}

/// What a training run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingReport {
    /// Training loss (mean cross-entropy, nats per token) of every step.
    pub losses: Vec<f32>,
    /// Mean cross-entropy on the held-out tokens after training.
    pub held_out_loss: f64,
    /// `exp(held_out_loss)`.
    pub held_out_perplexity: f64,
    /// Documents (non-empty texts) trained on.
    pub train_documents: usize,
    /// Documents held out (0 when one document's tail was held out).
    pub held_out_documents: usize,
    /// Tokens in the training stream.
    pub train_tokens: usize,
    /// Tokens in the held-out stream.
    pub held_out_tokens: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl TrainingReport {
    /// Loss of the first step.
    pub fn initial_loss(&self) -> f32 {
        self.losses.first().copied().unwrap_or(f32::NAN)
    }

    /// Mean loss over the last tenth of the steps (less noisy than the last one).
    pub fn final_loss(&self) -> f32 {
        let tail = (self.losses.len() / 10).max(1);
        let last = &self.losses[self.losses.len().saturating_sub(tail)..];
        last.iter().sum::<f32>() / last.len().max(1) as f32
    }
}

/// A model trained from scratch: the model, its weights file and the report.
#[derive(Debug)]
pub struct TrainedModel {
    /// The trained model (loaded back from `weights`).
    pub model: Model,
    /// Its safetensors bytes; `model.hash()` is their sha256.
    pub weights: Vec<u8>,
    /// What the run measured.
    pub report: TrainingReport,
}

/// A LoRA adapter fine-tuned over a frozen base model.
#[derive(Debug)]
pub struct TrainedAdapter {
    /// The adapter (loaded back from `weights`).
    pub adapter: Adapter,
    /// Its safetensors bytes; `adapter.hash()` is their sha256.
    pub weights: Vec<u8>,
    /// What the run measured.
    pub report: TrainingReport,
}

/// Seed offsets so that initialisation, split and batches use independent streams.
const INIT_STREAM: u64 = 0x1217_0001;
const SPLIT_STREAM: u64 = 0x1217_0002;
const BATCH_STREAM: u64 = 0x1217_0003;

fn rng(seed: u64, stream: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Standard normal by Box–Muller (rand 0.9 has no normal distribution).
fn normal(rng: &mut StdRng) -> f32 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

fn initial_values(spec: &ParameterSpec, rng: &mut StdRng) -> Vec<f32> {
    let count = spec.shape.iter().product();
    match spec.init {
        Init::Normal(std) => (0..count).map(|_| normal(rng) * std).collect(),
        Init::Uniform(bound) => (0..count).map(|_| rng.random_range(-bound..bound)).collect(),
        Init::Ones => vec![1.0; count],
        Init::Zeros => vec![0.0; count],
    }
}

/// Creates the trainable variables of `specs` from the seeded stream.
fn variables(
    specs: &[ParameterSpec],
    seed: u64,
    device: &Device,
) -> Result<std::collections::BTreeMap<String, Var>, Error> {
    let mut rng = rng(seed, INIT_STREAM);
    let mut vars = std::collections::BTreeMap::new();
    for spec in specs {
        let values = initial_values(spec, &mut rng);
        let tensor = Tensor::from_vec(values, spec.shape.as_slice(), device)?;
        vars.insert(spec.name.clone(), Var::from_tensor(&tensor)?);
    }
    Ok(vars)
}

/// The tokenized corpus, split into training and held-out streams.
struct Corpus {
    train: Vec<u32>,
    /// Positions in `train` of the end-of-text before each document.
    document_starts: Vec<usize>,
    held_out: Vec<u32>,
    train_documents: usize,
    held_out_documents: usize,
}

impl Corpus {
    fn split(texts: &[String], held_out: f64, seed: u64) -> Result<Self, Error> {
        let documents: Vec<Vec<u32>> = texts
            .iter()
            .filter(|text| !text.is_empty())
            .map(|text| encode_document(text))
            .collect();
        match documents.len() {
            0 => Err(Error::NotEnoughText("no non-empty texts to train on".into())),
            1 => {
                let tokens = &documents[0];
                if tokens.len() < 8 {
                    return Err(Error::NotEnoughText(format!(
                        "the only text has {} bytes; at least 7 are needed to hold some out",
                        tokens.len() - 1
                    )));
                }
                let held =
                    ((tokens.len() as f64 * held_out).round() as usize).clamp(2, tokens.len() - 2);
                let cut = tokens.len() - held;
                let mut train = vec![END_OF_TEXT];
                train.extend_from_slice(&tokens[..cut]);
                Ok(Self {
                    document_starts: vec![0],
                    train,
                    held_out: tokens[cut..].to_vec(),
                    train_documents: 1,
                    held_out_documents: 0,
                })
            }
            count => {
                let mut order: Vec<usize> = (0..count).collect();
                order.shuffle(&mut rng(seed, SPLIT_STREAM));
                let held = ((count as f64 * held_out).round() as usize).clamp(1, count - 1);
                let mut is_held = vec![false; count];
                for &index in &order[..held] {
                    is_held[index] = true;
                }
                // Each stream starts with an end-of-text, so every document
                // follows one, as a generation's prompt does.
                let (mut train, mut held_out) = (vec![END_OF_TEXT], vec![END_OF_TEXT]);
                let mut document_starts = vec![0];
                for (document, held) in documents.iter().zip(is_held) {
                    if held {
                        held_out.extend_from_slice(document);
                    } else {
                        train.extend_from_slice(document);
                        document_starts.push(train.len() - 1);
                    }
                }
                // The last end-of-text starts no document.
                document_starts.pop();
                Ok(Self {
                    train,
                    document_starts,
                    held_out,
                    train_documents: count - held,
                    held_out_documents: held,
                })
            }
        }
    }
}

/// Builds `[windows, length]` input and target tensors from window starts.
fn batch(
    stream: &[u32],
    starts: &[usize],
    length: usize,
    device: &Device,
) -> Result<(Tensor, Tensor), Error> {
    let mut inputs = Vec::with_capacity(starts.len() * length);
    let mut targets = Vec::with_capacity(starts.len() * length);
    for &start in starts {
        inputs.extend_from_slice(&stream[start..start + length]);
        targets.extend_from_slice(&stream[start + 1..start + length + 1]);
    }
    Ok((
        Tensor::from_vec(inputs, (starts.len(), length), device)?,
        Tensor::from_vec(targets, (starts.len(), length), device)?,
    ))
}

fn loss(
    transformer: &Transformer<'_>,
    adapter: Option<&AdapterParams>,
    inputs: &Tensor,
    targets: &Tensor,
) -> Result<Tensor, Error> {
    let logits = transformer.forward(inputs, adapter, None)?;
    let (batch, time, vocab) = logits.dims3()?;
    let logits = logits.reshape((batch * time, vocab))?;
    Ok(candle_nn::loss::cross_entropy(&logits, &targets.flatten_all()?)?)
}

/// Mean held-out loss over consecutive windows (at most 64 of them).
fn evaluate(
    transformer: &Transformer<'_>,
    adapter: Option<&AdapterParams>,
    corpus: &Corpus,
    context: usize,
    batch_size: usize,
    device: &Device,
) -> Result<f64, Error> {
    let length = context.min(corpus.held_out.len() - 1);
    let starts: Vec<usize> = (0..)
        .map(|window| window * length)
        .take_while(|&s| s + length < corpus.held_out.len())
        .take(64)
        .collect();
    let mut total = 0.0;
    for chunk in starts.chunks(batch_size) {
        let (inputs, targets) = batch(&corpus.held_out, chunk, length, device)?;
        let value = loss(transformer, adapter, &inputs, &targets)?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?;
        total += value * chunk.len() as f64;
    }
    Ok(total / starts.len() as f64)
}

fn learning_rate(config: &Config, step: usize) -> f64 {
    let training = &config.training;
    let peak = training.learning_rate;
    if step < training.warmup_steps {
        return peak * (step + 1) as f64 / training.warmup_steps as f64;
    }
    let decay_steps = (training.steps - training.warmup_steps).max(1) as f64;
    let progress = (step - training.warmup_steps) as f64 / decay_steps;
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    peak * (0.1 + 0.9 * cosine)
}

/// Whether weight decay applies to a parameter: the matrices of the linear
/// layers (and LoRA factors), not embeddings, norm gains or biases.
fn decays(name: &str) -> bool {
    !name.ends_with(".bias") && !name.contains("norm") && !name.contains("embedding")
}

fn adamw(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Result<AdamW, Error> {
    Ok(AdamW::new(vars, ParamsAdamW { lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay })?)
}

/// Window starts for one batch: even-numbered windows start at a document's
/// end-of-text (as a generation does), the others anywhere.
fn window_starts(
    corpus: &Corpus,
    length: usize,
    batch_size: usize,
    rng: &mut StdRng,
) -> Vec<usize> {
    let last = corpus.train.len() - length;
    (0..batch_size)
        .map(|index| {
            if index % 2 == 0 {
                let start =
                    corpus.document_starts[rng.random_range(0..corpus.document_starts.len())];
                start.min(last - 1)
            } else {
                rng.random_range(0..last)
            }
        })
        .collect()
}

/// The optimisation loop shared by full training and LoRA fine-tuning.
fn optimise(
    config: &Config,
    corpus: &Corpus,
    vars: std::collections::BTreeMap<String, Var>,
    transformer: &Transformer<'_>,
    adapter: Option<&AdapterParams>,
    device: &Device,
    progress: &mut dyn Progress,
) -> Result<Vec<f32>, Error> {
    let training = &config.training;
    let (decayed, kept): (Vec<_>, Vec<_>) = vars.into_iter().partition(|(name, _)| decays(name));
    let lr = learning_rate(config, 0);
    let mut decayed =
        adamw(decayed.into_iter().map(|(_, var)| var).collect(), lr, training.weight_decay)?;
    let mut kept = adamw(kept.into_iter().map(|(_, var)| var).collect(), lr, 0.0)?;
    let length = config.model.context.min(corpus.train.len() - 1);
    let mut rng = rng(training.seed, BATCH_STREAM);
    let mut losses = Vec::with_capacity(training.steps);
    for step in 0..training.steps {
        let lr = learning_rate(config, step);
        decayed.set_learning_rate(lr);
        kept.set_learning_rate(lr);
        let starts = window_starts(corpus, length, training.batch_size, &mut rng);
        let (inputs, targets) = batch(&corpus.train, &starts, length, device)?;
        let loss = loss(transformer, adapter, &inputs, &targets)?;
        let grads = loss.backward()?;
        decayed.step(&grads)?;
        kept.step(&grads)?;
        let value = loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
        if !value.is_finite() {
            return Err(Error::Diverged { step: step + 1 });
        }
        losses.push(value);
        tracing::debug!(step = step + 1, loss = value, "training step");
        progress.step(step + 1, training.steps, value);
    }
    Ok(losses)
}

fn report(
    losses: Vec<f32>,
    held_out_loss: f64,
    corpus: &Corpus,
    started: Instant,
) -> TrainingReport {
    TrainingReport {
        losses,
        held_out_loss,
        held_out_perplexity: held_out_loss.exp(),
        train_documents: corpus.train_documents,
        held_out_documents: corpus.held_out_documents,
        train_tokens: corpus.train.len(),
        held_out_tokens: corpus.held_out.len(),
        elapsed: started.elapsed(),
    }
}

/// Trains a model from scratch on `texts` (one document each).
pub fn train(
    config: &Config,
    texts: &[String],
    progress: &mut dyn Progress,
) -> Result<TrainedModel, Error> {
    config.validate()?;
    let started = Instant::now();
    let device = crate::default_device();
    let corpus = Corpus::split(texts, config.training.held_out, config.training.seed)?;
    tracing::info!(
        train_tokens = corpus.train.len(),
        held_out_tokens = corpus.held_out.len(),
        steps = config.training.steps,
        "training a model from scratch"
    );
    let specs = crate::model::parameter_shapes(&config.model);
    let vars = variables(&specs, config.training.seed, &device)?;
    let tensors = vars.iter().map(|(name, var)| (name.clone(), var.as_tensor().clone())).collect();
    // A working model over the variables (their updates show through); the
    // hash is a placeholder until the weights are written.
    let working =
        Model::from_tensors(config.model.clone(), tensors, WeightsHash([0; 32]), device.clone())?;
    let transformer = working.transformer();
    let losses = optimise(config, &corpus, vars, &transformer, None, &device, progress)?;
    let held_out_loss = evaluate(
        &transformer,
        None,
        &corpus,
        config.model.context,
        config.training.batch_size,
        &device,
    )?;
    let weights = working.to_bytes()?;
    let model = weights::load_model_on(&weights, &device)?;
    let report = report(losses, held_out_loss, &corpus, started);
    tracing::info!(
        loss = report.final_loss(),
        held_out_perplexity = report.held_out_perplexity,
        seconds = report.elapsed.as_secs_f64(),
        hash = %model.hash(),
        "trained"
    );
    Ok(TrainedModel { model, weights, report })
}

/// Fine-tunes a LoRA adapter (the configuration's `[lora]`) over a frozen
/// `base`; only the adapter's A and B are trained, B starting at zero.
pub fn fine_tune_lora(
    config: &Config,
    base: &Model,
    texts: &[String],
    progress: &mut dyn Progress,
) -> Result<TrainedAdapter, Error> {
    config.validate()?;
    let lora: &LoraConfig = config.lora.as_ref().ok_or(Error::NoLoraSection)?;
    if &config.model != base.config() {
        return Err(Error::ModelMismatch(format!(
            "the configuration's [model] {:?} differs from the base model's {:?}",
            config.model,
            base.config()
        )));
    }
    let started = Instant::now();
    let device = base.device().clone();
    let corpus = Corpus::split(texts, config.training.held_out, config.training.seed)?;
    tracing::info!(
        train_tokens = corpus.train.len(),
        base = %base.hash(),
        rank = lora.rank,
        "fine-tuning a LoRA adapter"
    );
    let specs = crate::model::adapter_shapes(base.config(), lora);
    let vars = variables(&specs, config.training.seed, &device)?;
    let tensors: std::collections::BTreeMap<String, Tensor> =
        vars.iter().map(|(name, var)| (name.clone(), var.as_tensor().clone())).collect();
    let working = Adapter::from_tensors(lora.clone(), base, tensors, WeightsHash([0; 32]))?;
    let transformer = base.transformer();
    let params = base.check_adapter(Some(&working))?;
    let losses = optimise(config, &corpus, vars, &transformer, params, &device, progress)?;
    let held_out_loss = evaluate(
        &transformer,
        params,
        &corpus,
        config.model.context,
        config.training.batch_size,
        &device,
    )?;
    let weights = working.to_bytes()?;
    let adapter = weights::load_adapter(&weights, base)?;
    let report = report(losses, held_out_loss, &corpus, started);
    tracing::info!(
        loss = report.final_loss(),
        held_out_perplexity = report.held_out_perplexity,
        hash = %adapter.hash(),
        "fine-tuned"
    );
    Ok(TrainedAdapter { adapter, weights, report })
}

/// A [`Progress`] that ignores every step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn step(&mut self, _step: usize, _total: usize, _loss: f32) {}
}
