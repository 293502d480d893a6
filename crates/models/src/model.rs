//! The decoder-only transformer and its LoRA adapters.
//!
//! Token and learned position embeddings, pre-norm blocks (causal multi-head
//! self-attention, then a GELU MLP four times as wide), a final layer norm and
//! an output head tied to the token embedding or separate. Every linear layer
//! of a block can carry a LoRA pair: `y = Wx + b + (alpha/rank)·B(Ax)`.
//!
//! Tensors are named as in the weights file (`blocks.0.q.weight`,
//! `blocks.0.q.lora_a`, ...); [`parameter_shapes`] and [`adapter_shapes`] are
//! the single source of which tensors exist, used for initialisation and to
//! validate loaded files.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use candle_core::{D, DType, Device, Tensor};

use crate::Error;
use crate::config::{LoraConfig, LoraTarget, ModelConfig};
use crate::tokenizer::VOCAB_SIZE;

/// How a parameter starts before training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Init {
    /// Normal with this standard deviation.
    Normal(f32),
    /// Uniform in `(-bound, bound)`.
    Uniform(f32),
    /// All ones (norm gains).
    Ones,
    /// All zeros (biases, LoRA B).
    Zeros,
}

/// One named parameter: its shape and how it is initialised.
#[derive(Debug, Clone)]
pub(crate) struct ParameterSpec {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) init: Init,
}

fn spec(name: String, shape: Vec<usize>, init: Init) -> ParameterSpec {
    ParameterSpec { name, shape, init }
}

/// `(inputs, outputs)` of a block's linear layer.
pub(crate) fn target_dims(config: &ModelConfig, target: LoraTarget) -> (usize, usize) {
    let (width, mlp) = (config.width, config.mlp_width());
    match target {
        LoraTarget::Q | LoraTarget::K | LoraTarget::V | LoraTarget::O => (width, width),
        LoraTarget::Up => (width, mlp),
        LoraTarget::Down => (mlp, width),
    }
}

/// Every tensor of a full model, with its shape, in file order.
pub(crate) fn parameter_shapes(config: &ModelConfig) -> Vec<ParameterSpec> {
    let width = config.width;
    // One over the square root of the width, so a projection of a unit-scale
    // (layer-normed) input starts at unit scale and attention is not uniform
    // at the start. GPT-2's fixed 0.02 is about that for width 2,500 and, at
    // the widths used here (64-256), leaves a loss plateau of hundreds of
    // steps before attention starts to use the context.
    let std = 1.0 / (width as f32).sqrt();
    // GPT-2: residual projections scaled down so the stream's variance does
    // not grow with depth.
    let residual_std = std / ((2 * config.layers) as f32).sqrt();
    let mut specs = vec![
        spec("token_embedding".into(), vec![VOCAB_SIZE, width], Init::Normal(std)),
        spec("position_embedding".into(), vec![config.context, width], Init::Normal(std)),
    ];
    for layer in 0..config.layers {
        for norm in ["norm1", "norm2"] {
            specs.push(spec(format!("blocks.{layer}.{norm}.weight"), vec![width], Init::Ones));
            specs.push(spec(format!("blocks.{layer}.{norm}.bias"), vec![width], Init::Zeros));
        }
        for target in LoraTarget::ALL {
            let (inputs, outputs) = target_dims(config, target);
            let init = match target {
                LoraTarget::O | LoraTarget::Down => Init::Normal(residual_std),
                _ => Init::Normal(std),
            };
            let name = target.name();
            specs.push(spec(format!("blocks.{layer}.{name}.weight"), vec![outputs, inputs], init));
            specs.push(spec(format!("blocks.{layer}.{name}.bias"), vec![outputs], Init::Zeros));
        }
    }
    specs.push(spec("final_norm.weight".into(), vec![width], Init::Ones));
    specs.push(spec("final_norm.bias".into(), vec![width], Init::Zeros));
    if !config.tie_embeddings {
        specs.push(spec("head.weight".into(), vec![VOCAB_SIZE, width], Init::Normal(std)));
    }
    specs
}

/// Every tensor of a LoRA adapter over a model of `config`: A random, B zero,
/// so a fresh adapter leaves the base model's output unchanged.
pub(crate) fn adapter_shapes(config: &ModelConfig, lora: &LoraConfig) -> Vec<ParameterSpec> {
    let mut specs = Vec::new();
    for layer in 0..config.layers {
        for &target in &lora.targets {
            let (inputs, outputs) = target_dims(config, target);
            let name = target.name();
            let bound = 1.0 / (inputs as f32).sqrt();
            specs.push(spec(
                format!("blocks.{layer}.{name}.lora_a"),
                vec![lora.rank, inputs],
                Init::Uniform(bound),
            ));
            specs.push(spec(
                format!("blocks.{layer}.{name}.lora_b"),
                vec![outputs, lora.rank],
                Init::Zeros,
            ));
        }
    }
    specs
}

/// The sha256 of a weights file, identifying a model or adapter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WeightsHash(pub [u8; 32]);

impl WeightsHash {
    /// Hashes weights bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Display for WeightsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for WeightsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeightsHash({self})")
    }
}

/// A string that is not 64 hex digits (optionally `0x`-prefixed).
#[derive(Debug, thiserror::Error)]
#[error("not a sha256 weights hash (64 hex digits): {0:?}")]
pub struct InvalidWeightsHash(pub String);

impl FromStr for WeightsHash {
    type Err = InvalidWeightsHash;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let invalid = || InvalidWeightsHash(text.to_string());
        if digits.len() != 64 || !digits.is_ascii() {
            return Err(invalid());
        }
        let mut hash = [0u8; 32];
        for (index, byte) in hash.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&digits[2 * index..2 * index + 2], 16).map_err(|_| invalid())?;
        }
        Ok(Self(hash))
    }
}

struct Linear {
    weight: Tensor,
    bias: Tensor,
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

struct Block {
    norm1: Norm,
    norm2: Norm,
    /// Indexed like [`LoraTarget::ALL`].
    linears: [Linear; 6],
}

/// The structured view of a model's tensors.
struct Params {
    token_embedding: Tensor,
    position_embedding: Tensor,
    blocks: Vec<Block>,
    final_norm: Norm,
    head: Option<Tensor>,
}

fn take(tensors: &BTreeMap<String, Tensor>, name: &str) -> Result<Tensor, Error> {
    tensors
        .get(name)
        .cloned()
        .ok_or_else(|| crate::WeightsError::MissingTensor(name.to_string()).into())
}

impl Params {
    fn from_tensors(
        config: &ModelConfig,
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<Self, Error> {
        let norm = |prefix: &str| -> Result<Norm, Error> {
            Ok(Norm {
                weight: take(tensors, &format!("{prefix}.weight"))?,
                bias: take(tensors, &format!("{prefix}.bias"))?,
            })
        };
        let mut blocks = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let linear = |target: LoraTarget| -> Result<Linear, Error> {
                let name = target.name();
                Ok(Linear {
                    weight: take(tensors, &format!("blocks.{layer}.{name}.weight"))?,
                    bias: take(tensors, &format!("blocks.{layer}.{name}.bias"))?,
                })
            };
            let [q, k, v, o, up, down] = LoraTarget::ALL.map(linear);
            blocks.push(Block {
                norm1: norm(&format!("blocks.{layer}.norm1"))?,
                norm2: norm(&format!("blocks.{layer}.norm2"))?,
                linears: [q?, k?, v?, o?, up?, down?],
            });
        }
        Ok(Params {
            token_embedding: take(tensors, "token_embedding")?,
            position_embedding: take(tensors, "position_embedding")?,
            blocks,
            final_norm: norm("final_norm")?,
            head: if config.tie_embeddings { None } else { Some(take(tensors, "head.weight")?) },
        })
    }
}

/// One LoRA pair: `a` is `[rank, inputs]`, `b` is `[outputs, rank]`.
struct LoraPair {
    a: Tensor,
    b: Tensor,
}

/// The structured view of an adapter's tensors: per block, per target.
pub(crate) struct AdapterParams {
    layers: Vec<[Option<LoraPair>; 6]>,
    scale: f64,
}

impl AdapterParams {
    pub(crate) fn from_tensors(
        config: &ModelConfig,
        lora: &LoraConfig,
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<Self, Error> {
        let mut layers = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let mut pairs: [Option<LoraPair>; 6] = Default::default();
            for (index, target) in LoraTarget::ALL.into_iter().enumerate() {
                if lora.targets.contains(&target) {
                    let name = target.name();
                    pairs[index] = Some(LoraPair {
                        a: take(tensors, &format!("blocks.{layer}.{name}.lora_a"))?,
                        b: take(tensors, &format!("blocks.{layer}.{name}.lora_b"))?,
                    });
                }
            }
            layers.push(pairs);
        }
        Ok(Self { layers, scale: lora.scale() })
    }
}

/// Keys and values already computed for earlier positions, per block.
pub(crate) struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    pub(crate) fn new(layers: usize) -> Self {
        Self { layers: (0..layers).map(|_| None).collect(), len: 0 }
    }

    /// Positions already cached.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// A mask value low enough that softmax gives exactly zero, yet finite so no
/// `inf - inf` can appear in the backward pass.
const MASKED: f32 = -1e9;

/// The computation of a model over a token batch; holds no tensors itself.
pub(crate) struct Transformer<'a> {
    config: &'a ModelConfig,
    params: &'a Params,
}

fn linear(
    x: &Tensor,
    layer: &Linear,
    lora: Option<(&LoraPair, f64)>,
) -> candle_core::Result<Tensor> {
    let mut y = x.broadcast_matmul(&layer.weight.t()?)?.broadcast_add(&layer.bias)?;
    if let Some((pair, scale)) = lora {
        let update = x.broadcast_matmul(&pair.a.t()?)?.broadcast_matmul(&pair.b.t()?)?;
        y = (y + (update * scale)?)?;
    }
    Ok(y)
}

/// Layer norm written with differentiable primitives (candle's fused layer
/// norm has no backward pass).
fn layer_norm(x: &Tensor, norm: &Norm) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normalised = centred.broadcast_div(&(variance + 1e-5)?.sqrt()?)?;
    normalised.broadcast_mul(&norm.weight)?.broadcast_add(&norm.bias)
}

fn causal_mask(queries: usize, keys: usize, device: &Device) -> candle_core::Result<Tensor> {
    let offset = keys - queries;
    let mask: Vec<f32> = (0..queries)
        .flat_map(|query| (0..keys).map(move |key| if key > offset + query { MASKED } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (queries, keys), device)
}

impl<'a> Transformer<'a> {
    /// Logits `[batch, time, vocab]` for `tokens` `[batch, time]` (u32) at
    /// positions `cache.len()..`; appends the new keys and values to `cache`.
    pub(crate) fn forward(
        &self,
        tokens: &Tensor,
        adapter: Option<&AdapterParams>,
        mut cache: Option<&mut KvCache>,
    ) -> candle_core::Result<Tensor> {
        let (batch, time) = tokens.dims2()?;
        let offset = cache.as_ref().map_or(0, |cache| cache.len);
        let width = self.config.width;
        let params = self.params;
        let embedded = params
            .token_embedding
            .index_select(&tokens.flatten_all()?, 0)?
            .reshape((batch, time, width))?;
        let positions = params.position_embedding.narrow(0, offset, time)?;
        let mut x = embedded.broadcast_add(&positions)?;
        let mask =
            if time > 1 { Some(causal_mask(time, offset + time, tokens.device())?) } else { None };
        for (layer, block) in params.blocks.iter().enumerate() {
            let lora = |index: usize| {
                adapter.and_then(|adapter| {
                    adapter.layers[layer][index].as_ref().map(|pair| (pair, adapter.scale))
                })
            };
            let slot = cache.as_deref_mut().map(|cache| &mut cache.layers[layer]);
            let attended =
                self.attention(&layer_norm(&x, &block.norm1)?, block, &lora, mask.as_ref(), slot)?;
            x = (x + attended)?;
            let hidden =
                linear(&layer_norm(&x, &block.norm2)?, &block.linears[4], lora(4))?.gelu()?;
            x = (x + linear(&hidden, &block.linears[5], lora(5))?)?;
        }
        if let Some(cache) = cache {
            cache.len += time;
        }
        let x = layer_norm(&x, &params.final_norm)?;
        let head = params.head.as_ref().unwrap_or(&params.token_embedding);
        x.broadcast_matmul(&head.t()?)
    }

    fn attention<'l>(
        &self,
        x: &Tensor,
        block: &Block,
        lora: &impl Fn(usize) -> Option<(&'l LoraPair, f64)>,
        mask: Option<&Tensor>,
        cache: Option<&mut Option<(Tensor, Tensor)>>,
    ) -> candle_core::Result<Tensor> {
        let (batch, time, width) = x.dims3()?;
        let heads = self.config.heads;
        let head_width = self.config.head_width();
        let split = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((batch, time, heads, head_width))?.transpose(1, 2)?.contiguous()
        };
        let q = split(linear(x, &block.linears[0], lora(0))?)?;
        let mut k = split(linear(x, &block.linears[1], lora(1))?)?;
        let mut v = split(linear(x, &block.linears[2], lora(2))?)?;
        if let Some(slot) = cache {
            if let Some((past_k, past_v)) = slot.as_ref() {
                k = Tensor::cat(&[past_k, &k], 2)?;
                v = Tensor::cat(&[past_v, &v], 2)?;
            }
            *slot = Some((k.clone(), v.clone()));
        }
        let scale = 1.0 / (head_width as f64).sqrt();
        let mut scores = (q.matmul(&k.transpose(2, 3)?.contiguous()?)? * scale)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let out = weights.matmul(&v)?.transpose(1, 2)?.reshape((batch, time, width))?;
        linear(&out, &block.linears[3], lora(3))
    }
}

/// A loaded (or freshly trained) full model: configuration, tensors, hash.
pub struct Model {
    config: ModelConfig,
    tensors: BTreeMap<String, Tensor>,
    params: Params,
    hash: WeightsHash,
    device: Device,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model").field("config", &self.config).field("hash", &self.hash).finish()
    }
}

impl Model {
    /// Builds a model from validated tensors and the hash of their file.
    pub(crate) fn from_tensors(
        config: ModelConfig,
        tensors: BTreeMap<String, Tensor>,
        hash: WeightsHash,
        device: Device,
    ) -> Result<Self, Error> {
        let params = Params::from_tensors(&config, &tensors)?;
        Ok(Self { config, tensors, params, hash, device })
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The sha256 of this model's weights file.
    pub fn hash(&self) -> WeightsHash {
        self.hash
    }

    /// The device the tensors live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Total number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.tensors.values().map(Tensor::elem_count).sum()
    }

    pub(crate) fn transformer(&self) -> Transformer<'_> {
        Transformer { config: &self.config, params: &self.params }
    }

    /// Serialises the weights to safetensors bytes (the same bytes it was
    /// loaded from, so [`Model::hash`] is their sha256).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        crate::weights::serialize(&self.tensors, &crate::weights::full_metadata(&self.config)?)
    }

    /// Next-token logits `[time, vocab]` for every position of `tokens`
    /// (at most `context` of them), through `adapter` when given.
    pub fn logits(
        &self,
        adapter: Option<&Adapter>,
        tokens: &[u32],
    ) -> Result<Vec<Vec<f32>>, Error> {
        let adapter = self.check_adapter(adapter)?;
        crate::generate::check_tokens(tokens, self.config.context)?;
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = self.transformer().forward(&input, adapter, None)?;
        Ok(logits.squeeze(0)?.to_dtype(DType::F32)?.to_vec2()?)
    }

    /// The adapter's parameters, after checking it was trained over this model.
    pub(crate) fn check_adapter<'a>(
        &self,
        adapter: Option<&'a Adapter>,
    ) -> Result<Option<&'a AdapterParams>, Error> {
        match adapter {
            None => Ok(None),
            Some(adapter) if adapter.base_hash == self.hash => Ok(Some(&adapter.params)),
            Some(adapter) => Err(crate::WeightsError::BaseMismatch {
                adapter_base: adapter.base_hash,
                model: self.hash,
            }
            .into()),
        }
    }
}

/// A loaded LoRA adapter, bound to the base model whose hash it names.
pub struct Adapter {
    lora: LoraConfig,
    base_hash: WeightsHash,
    hash: WeightsHash,
    model_config: ModelConfig,
    tensors: BTreeMap<String, Tensor>,
    params: AdapterParams,
}

impl fmt::Debug for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adapter")
            .field("lora", &self.lora)
            .field("base_hash", &self.base_hash)
            .field("hash", &self.hash)
            .finish()
    }
}

impl Adapter {
    pub(crate) fn from_tensors(
        lora: LoraConfig,
        base: &Model,
        tensors: BTreeMap<String, Tensor>,
        hash: WeightsHash,
    ) -> Result<Self, Error> {
        let params = AdapterParams::from_tensors(base.config(), &lora, &tensors)?;
        Ok(Self {
            lora,
            base_hash: base.hash(),
            hash,
            model_config: base.config().clone(),
            tensors,
            params,
        })
    }

    /// Rank, alpha and targets.
    pub fn lora(&self) -> &LoraConfig {
        &self.lora
    }

    /// The sha256 of the base model's weights this adapter was trained over.
    pub fn base_hash(&self) -> WeightsHash {
        self.base_hash
    }

    /// The sha256 of this adapter's weights file.
    pub fn hash(&self) -> WeightsHash {
        self.hash
    }

    /// Bytes held by the adapter's tensors (what the adapter cache budgets).
    pub fn memory_bytes(&self) -> usize {
        self.tensors.values().map(|t| t.elem_count() * t.dtype().size_in_bytes()).sum()
    }

    /// Serialises the adapter to safetensors bytes ([`Adapter::hash`] is their sha256).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let metadata =
            crate::weights::adapter_metadata(&self.model_config, &self.lora, self.base_hash)?;
        crate::weights::serialize(&self.tensors, &metadata)
    }

    /// The names of the tensors the adapter holds.
    pub fn tensor_names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }
}
