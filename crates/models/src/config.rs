//! The TOML configuration of a model, its LoRA adapter and its training run.
//!
//! One file names the architecture (`[model]`), the optional adapter
//! (`[lora]`) and the optimisation (`[training]`). Unknown keys are errors
//! (a misspelt `learning_rat` must not silently train with a default), and
//! [`Config::validate`] rejects values that cannot train, naming the field and
//! the value.

use serde::{Deserialize, Serialize};

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not TOML of the expected shape (the message carries the line).
    #[error("invalid model configuration: {0}")]
    Parse(String),
    /// A field holds a value that cannot be used.
    #[error("invalid model configuration: `{field}` = {value}: {reason}")]
    Invalid {
        /// The field, as `section.key`.
        field: &'static str,
        /// The rejected value, as written.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

/// A whole configuration file: architecture, optional adapter, training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The transformer's shape.
    pub model: ModelConfig,
    /// The LoRA adapter trained by `fine_tune_lora` (absent: full training only).
    #[serde(default)]
    pub lora: Option<LoraConfig>,
    /// The optimisation run.
    pub training: TrainingConfig,
}

/// The shape of the decoder-only transformer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Number of transformer blocks.
    pub layers: usize,
    /// Width of the residual stream (embedding size).
    pub width: usize,
    /// Attention heads per block; must divide `width`.
    pub heads: usize,
    /// Maximum positions (tokens) the model attends over.
    pub context: usize,
    /// Whether the output head reuses the token embedding matrix.
    #[serde(default = "default_tie_embeddings")]
    pub tie_embeddings: bool,
}

fn default_tie_embeddings() -> bool {
    true
}

/// A linear layer of a block that a LoRA adapter can modify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoraTarget {
    /// Attention query projection.
    Q,
    /// Attention key projection.
    K,
    /// Attention value projection.
    V,
    /// Attention output projection.
    O,
    /// MLP expansion.
    Up,
    /// MLP projection back to the residual width.
    Down,
}

impl LoraTarget {
    /// Every target, in the order tensors are laid out.
    pub const ALL: [LoraTarget; 6] = [Self::Q, Self::K, Self::V, Self::O, Self::Up, Self::Down];

    /// The name used in configuration files and tensor names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Q => "q",
            Self::K => "k",
            Self::V => "v",
            Self::O => "o",
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    /// Parses a configuration name (`"q"`, `"up"`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|target| target.name() == name)
    }
}

/// A LoRA adapter: `y = Wx + (alpha/rank)·B(Ax)` on the chosen layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraConfig {
    /// Inner dimension of the A/B factors.
    pub rank: usize,
    /// Scale numerator: the update is multiplied by `alpha / rank`.
    pub alpha: f64,
    /// The linear layers of every block that carry an adapter.
    pub targets: Vec<LoraTarget>,
}

impl LoraConfig {
    /// The factor `alpha / rank` applied to the adapter's output.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }
}

/// The optimisation run (AdamW over random windows of the corpus).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Windows per step.
    pub batch_size: usize,
    /// Peak AdamW learning rate.
    pub learning_rate: f64,
    /// Seed of initialisation, batch sampling and the held-out split.
    pub seed: u64,
    /// Fraction of the documents (or of the tokens, with one document) held out.
    pub held_out: f64,
    /// Steps of linear learning-rate warm-up.
    #[serde(default)]
    pub warmup_steps: usize,
    /// AdamW decoupled weight decay.
    #[serde(default)]
    pub weight_decay: f64,
}

impl Config {
    /// Parses and validates a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.model.validate()?;
        if let Some(lora) = &self.lora {
            lora.validate(&self.model)?;
        }
        self.training.validate()
    }
}

/// A TOML error on one line: `line L, column C: message`.
fn parse_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().replace('\n', "; ");
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else {
        return ConfigError::Parse(message);
    };
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    ConfigError::Parse(format!("line {line}, column {column}: {message}"))
}

fn invalid<T: ToString>(field: &'static str, value: T, reason: &'static str) -> ConfigError {
    ConfigError::Invalid { field, value: value.to_string(), reason }
}

impl ModelConfig {
    /// Checks the architecture fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.layers == 0 || self.layers > 256 {
            return Err(invalid("model.layers", self.layers, "must be between 1 and 256"));
        }
        if self.width == 0 || self.width > 16_384 {
            return Err(invalid("model.width", self.width, "must be between 1 and 16384"));
        }
        if self.heads == 0 {
            return Err(invalid("model.heads", self.heads, "must be at least 1"));
        }
        if !self.width.is_multiple_of(self.heads) {
            return Err(ConfigError::Invalid {
                field: "model.width",
                value: format!("{} (heads = {})", self.width, self.heads),
                reason: "must be divisible by model.heads",
            });
        }
        if self.context < 2 || self.context > 65_536 {
            return Err(invalid("model.context", self.context, "must be between 2 and 65536"));
        }
        Ok(())
    }

    /// Width of each attention head.
    pub fn head_width(&self) -> usize {
        self.width / self.heads
    }

    /// Width of the MLP's hidden layer (four times the residual width).
    pub fn mlp_width(&self) -> usize {
        4 * self.width
    }
}

impl LoraConfig {
    /// Checks the adapter fields against the model they will modify.
    pub fn validate(&self, model: &ModelConfig) -> Result<(), ConfigError> {
        if self.rank == 0 || self.rank > model.width {
            return Err(invalid("lora.rank", self.rank, "must be between 1 and model.width"));
        }
        if !self.alpha.is_finite() || self.alpha <= 0.0 {
            return Err(invalid("lora.alpha", self.alpha, "must be a positive number"));
        }
        if self.targets.is_empty() {
            return Err(invalid("lora.targets", "[]", "must name at least one layer"));
        }
        let mut seen = self.targets.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.targets.len() {
            return Err(invalid(
                "lora.targets",
                format!("{:?}", self.target_names()),
                "names a layer twice",
            ));
        }
        Ok(())
    }

    /// The targets' configuration names.
    pub fn target_names(&self) -> Vec<&'static str> {
        self.targets.iter().map(|target| target.name()).collect()
    }
}

impl TrainingConfig {
    /// Checks the optimisation fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.steps == 0 {
            return Err(invalid("training.steps", self.steps, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("training.batch_size", self.batch_size, "must be at least 1"));
        }
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 || self.learning_rate > 1.0
        {
            return Err(invalid("training.learning_rate", self.learning_rate, "must be in (0, 1]"));
        }
        if !(self.held_out > 0.0 && self.held_out < 1.0) {
            return Err(invalid(
                "training.held_out",
                self.held_out,
                "must be a fraction strictly between 0 and 1",
            ));
        }
        if self.warmup_steps > self.steps {
            return Err(invalid(
                "training.warmup_steps",
                self.warmup_steps,
                "must not exceed training.steps",
            ));
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return Err(invalid(
                "training.weight_decay",
                self.weight_decay,
                "must be a non-negative number",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[model]
layers = 2
width = 64
heads = 4
context = 64

[lora]
rank = 4
alpha = 8.0
targets = ["q", "v", "up"]

[training]
steps = 10
batch_size = 4
learning_rate = 0.003
seed = 7
held_out = 0.1
"#;

    fn with(from: &str, to: &str) -> Result<Config, ConfigError> {
        assert!(GOOD.contains(from), "test edit {from:?} must apply");
        Config::from_toml(&GOOD.replacen(from, to, 1))
    }

    fn message(result: Result<Config, ConfigError>) -> String {
        result.expect_err("configuration must be rejected").to_string()
    }

    #[test]
    fn good_config_parses_with_defaults() {
        let config = Config::from_toml(GOOD).unwrap();
        assert!(config.model.tie_embeddings);
        assert_eq!(config.training.warmup_steps, 0);
        assert_eq!(config.training.weight_decay, 0.0);
        let lora = config.lora.unwrap();
        assert_eq!(lora.targets, vec![LoraTarget::Q, LoraTarget::V, LoraTarget::Up]);
        assert_eq!(lora.scale(), 2.0);
    }

    #[test]
    fn lora_section_is_optional() {
        let text =
            GOOD.replace("[lora]\nrank = 4\nalpha = 8.0\ntargets = [\"q\", \"v\", \"up\"]\n", "");
        assert!(Config::from_toml(&text).unwrap().lora.is_none());
    }

    #[test]
    fn bad_values_name_field_and_value() {
        let cases = [
            ("layers = 2", "layers = 0", "model.layers` = 0"),
            ("heads = 4", "heads = 5", "model.width` = 64 (heads = 5)"),
            ("heads = 4", "heads = 0", "model.heads` = 0"),
            ("context = 64", "context = 1", "model.context` = 1"),
            ("rank = 4", "rank = 0", "lora.rank` = 0"),
            ("alpha = 8.0", "alpha = -1.0", "lora.alpha` = -1"),
            ("[\"q\", \"v\", \"up\"]", "[]", "lora.targets` = []"),
            ("[\"q\", \"v\", \"up\"]", "[\"q\", \"q\"]", "names a layer twice"),
            ("steps = 10", "steps = 0", "training.steps` = 0"),
            ("batch_size = 4", "batch_size = 0", "training.batch_size` = 0"),
            ("held_out = 0.1", "held_out = 1.0", "training.held_out` = 1"),
            ("held_out = 0.1", "held_out = 0.0", "training.held_out` = 0"),
            ("learning_rate = 0.003", "learning_rate = 0.0", "training.learning_rate` = 0"),
        ];
        for (from, to, expected) in cases {
            let text = message(with(from, to));
            assert!(text.contains(expected), "{to}: {text}");
        }
    }

    #[test]
    fn unknown_target_and_keys_carry_the_line() {
        let text = message(with("\"up\"]", "\"w\"]"));
        assert!(text.contains("unknown variant `w`"), "{text}");
        assert!(text.contains("line 11"), "{text}");
        let text = message(with("seed = 7", "seed = 7\nlearning_rat = 1"));
        assert!(text.contains("learning_rat"), "{text}");
        assert!(text.contains("line 18"), "{text}");
        let text = message(Config::from_toml("[model\nlayers = 1"));
        assert!(text.contains("line 1"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
