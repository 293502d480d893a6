//! The weights file: safetensors bytes with OpenLedger metadata.
//!
//! The header's `__metadata__` holds `format` ([`FORMAT`]), `kind` (`full` or
//! `adapter`), `config` (the model configuration as JSON) and, for an adapter,
//! `base` (sha256 of the base model's weights file) and `lora` (rank, alpha,
//! targets as JSON). Files are written here rather than by the `safetensors`
//! crate because its metadata map is a `HashMap`, whose order changes between
//! runs: weights must be byte-identical for identical training. Reading goes
//! through `safetensors`, then every tensor is checked against the shapes the
//! configuration implies; outside bytes are never trusted.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors};

use crate::Error;
use crate::config::{LoraConfig, ModelConfig};
use crate::model::{Adapter, Model, ParameterSpec, WeightsHash, adapter_shapes, parameter_shapes};

/// The value of the `format` metadata key this crate writes and reads.
pub const FORMAT: &str = "ol-models/1";

/// What a weights file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsKind {
    /// A complete model.
    Full,
    /// A LoRA adapter over a base model.
    Adapter,
}

impl WeightsKind {
    /// The `kind` metadata value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Adapter => "adapter",
        }
    }
}

/// Why a weights file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// Not a readable safetensors file.
    #[error("weights are not a valid safetensors file: {0}")]
    Corrupt(String),
    /// A required metadata key is absent.
    #[error("weights file lacks the `{0}` metadata entry")]
    MissingMetadata(&'static str),
    /// The `format` metadata names another format or version.
    #[error("weights file format {found:?} is not supported (expected {FORMAT:?})")]
    UnsupportedFormat {
        /// The format found.
        found: String,
    },
    /// A full model was expected and an adapter found, or the reverse.
    #[error("weights file holds a {found:?} model where a {expected} one was expected")]
    WrongKind {
        /// The kind required by the caller.
        expected: &'static str,
        /// The kind in the file.
        found: String,
    },
    /// The configuration in the metadata does not parse or validate.
    #[error("weights file carries an invalid `{key}` configuration: {reason}")]
    BadConfig {
        /// The metadata key.
        key: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A tensor the configuration requires is absent.
    #[error("weights file lacks tensor `{0}`")]
    MissingTensor(String),
    /// A tensor the configuration does not define is present.
    #[error("weights file has unexpected tensor `{0}`")]
    UnexpectedTensor(String),
    /// A tensor has another shape than the configuration implies.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    WrongShape {
        /// Tensor name.
        name: String,
        /// Shape the configuration implies.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is not `F32`.
    #[error("tensor `{name}` has dtype {found}, expected F32")]
    WrongDtype {
        /// Tensor name.
        name: String,
        /// Dtype in the file.
        found: String,
    },
    /// A tensor holds NaN or infinity.
    #[error("tensor `{0}` holds a non-finite value")]
    NonFinite(String),
    /// The adapter was trained over another base model.
    #[error("adapter was trained over base model {adapter_base}, not {model}")]
    BaseMismatch {
        /// The base hash the adapter names.
        adapter_base: WeightsHash,
        /// The hash of the model it was applied to.
        model: WeightsHash,
    },
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|e| Error::Internal(format!("cannot encode metadata: {e}")))
}

pub(crate) fn full_metadata(config: &ModelConfig) -> Result<BTreeMap<String, String>, Error> {
    Ok(BTreeMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("kind".to_string(), WeightsKind::Full.name().to_string()),
        ("config".to_string(), json(config)?),
    ]))
}

pub(crate) fn adapter_metadata(
    config: &ModelConfig,
    lora: &LoraConfig,
    base: WeightsHash,
) -> Result<BTreeMap<String, String>, Error> {
    Ok(BTreeMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("kind".to_string(), WeightsKind::Adapter.name().to_string()),
        ("config".to_string(), json(config)?),
        ("base".to_string(), base.to_string()),
        ("lora".to_string(), json(lora)?),
    ]))
}

/// Writes tensors (as little-endian F32, in name order) and metadata as safetensors.
pub(crate) fn serialize(
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Error> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::to_value(metadata).map_err(internal)?);
    let mut data = Vec::new();
    for (name, tensor) in tensors {
        let values: Vec<f32> =
            tensor.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1()?;
        let start = data.len();
        data.extend(values.iter().flat_map(|value| value.to_le_bytes()));
        header.insert(
            name.clone(),
            serde_json::json!({
                "dtype": "F32",
                "shape": tensor.dims(),
                "data_offsets": [start, data.len()],
            }),
        );
    }
    let mut header = serde_json::to_vec(&header).map_err(internal)?;
    // The format pads the header with spaces so the data starts 8-aligned.
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header);
    bytes.extend(data);
    Ok(bytes)
}

fn internal(e: serde_json::Error) -> Error {
    Error::Internal(format!("cannot encode weights header: {e}"))
}

/// A parsed file: metadata and raw tensors, not yet checked against a configuration.
struct Parsed<'a> {
    metadata: BTreeMap<String, String>,
    tensors: SafeTensors<'a>,
}

fn parse(bytes: &[u8], expected: WeightsKind) -> Result<Parsed<'_>, WeightsError> {
    let corrupt = |e: safetensors::SafeTensorError| WeightsError::Corrupt(e.to_string());
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(corrupt)?;
    let tensors = SafeTensors::deserialize(bytes).map_err(corrupt)?;
    let metadata: BTreeMap<String, String> =
        header.metadata().clone().unwrap_or_default().into_iter().collect();
    let format = metadata.get("format").ok_or(WeightsError::MissingMetadata("format"))?;
    if format != FORMAT {
        return Err(WeightsError::UnsupportedFormat { found: format.clone() });
    }
    let kind = metadata.get("kind").ok_or(WeightsError::MissingMetadata("kind"))?;
    if kind != expected.name() {
        return Err(WeightsError::WrongKind { expected: expected.name(), found: kind.clone() });
    }
    Ok(Parsed { metadata, tensors })
}

fn metadata_json<T: serde::de::DeserializeOwned>(
    metadata: &BTreeMap<String, String>,
    key: &'static str,
) -> Result<T, WeightsError> {
    let text = metadata.get(key).ok_or(WeightsError::MissingMetadata(key))?;
    serde_json::from_str(text).map_err(|e| WeightsError::BadConfig { key, reason: e.to_string() })
}

/// Checks the file holds exactly `specs` (names, F32, shapes, finite values)
/// and builds the tensors on `device`.
fn tensors(
    file: &SafeTensors<'_>,
    specs: &[ParameterSpec],
    device: &Device,
) -> Result<BTreeMap<String, Tensor>, Error> {
    let expected: BTreeMap<&str, &ParameterSpec> =
        specs.iter().map(|spec| (spec.name.as_str(), spec)).collect();
    let mut names = file.names();
    names.sort();
    if let Some(extra) = names.iter().find(|name| !expected.contains_key(**name)) {
        return Err(WeightsError::UnexpectedTensor(extra.to_string()).into());
    }
    let mut out = BTreeMap::new();
    for spec in specs {
        let view =
            file.tensor(&spec.name).map_err(|_| WeightsError::MissingTensor(spec.name.clone()))?;
        if view.dtype() != Dtype::F32 {
            return Err(WeightsError::WrongDtype {
                name: spec.name.clone(),
                found: format!("{:?}", view.dtype()),
            }
            .into());
        }
        if view.shape() != spec.shape.as_slice() {
            return Err(WeightsError::WrongShape {
                name: spec.name.clone(),
                expected: spec.shape.clone(),
                found: view.shape().to_vec(),
            }
            .into());
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        if values.iter().any(|value| !value.is_finite()) {
            return Err(WeightsError::NonFinite(spec.name.clone()).into());
        }
        out.insert(spec.name.clone(), Tensor::from_vec(values, spec.shape.as_slice(), device)?);
    }
    Ok(out)
}

/// Loads and fully validates a full model's weights file.
pub fn load_model(bytes: &[u8]) -> Result<Model, Error> {
    load_model_on(bytes, &crate::default_device())
}

/// [`load_model`] onto a chosen device.
pub fn load_model_on(bytes: &[u8], device: &Device) -> Result<Model, Error> {
    let parsed = parse(bytes, WeightsKind::Full)?;
    let config: ModelConfig = metadata_json(&parsed.metadata, "config")?;
    config
        .validate()
        .map_err(|e| WeightsError::BadConfig { key: "config", reason: e.to_string() })?;
    let tensors = tensors(&parsed.tensors, &parameter_shapes(&config), device)?;
    Model::from_tensors(config, tensors, WeightsHash::of(bytes), device.clone())
}

/// Loads and fully validates an adapter's weights file against its base model.
pub fn load_adapter(bytes: &[u8], base: &Model) -> Result<Adapter, Error> {
    let parsed = parse(bytes, WeightsKind::Adapter)?;
    let base_text = parsed.metadata.get("base").ok_or(WeightsError::MissingMetadata("base"))?;
    let adapter_base: WeightsHash =
        base_text.parse().map_err(|e: crate::model::InvalidWeightsHash| {
            WeightsError::BadConfig { key: "base", reason: e.to_string() }
        })?;
    if adapter_base != base.hash() {
        return Err(WeightsError::BaseMismatch { adapter_base, model: base.hash() }.into());
    }
    let config: ModelConfig = metadata_json(&parsed.metadata, "config")?;
    if &config != base.config() {
        return Err(WeightsError::BadConfig {
            key: "config",
            reason: "differs from the base model's configuration".into(),
        }
        .into());
    }
    let lora: LoraConfig = metadata_json(&parsed.metadata, "lora")?;
    lora.validate(&config)
        .map_err(|e| WeightsError::BadConfig { key: "lora", reason: e.to_string() })?;
    let tensors = tensors(&parsed.tensors, &adapter_shapes(&config, &lora), base.device())?;
    Adapter::from_tensors(lora, base, tensors, WeightsHash::of(bytes))
}
