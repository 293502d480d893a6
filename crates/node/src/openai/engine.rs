//! The boundary between the OpenAI wire layer and whatever runs the model.
//!
//! The wire layer ([`super`]) parses and validates requests into a
//! [`GenerationRequest`]; an [`InferenceEngine`] runs it, streams the text
//! and reports a [`GenerationOutcome`] (token counts, why it stopped, and the
//! `attribution` object returned to the client). The engine also checks and
//! settles payment; its [`EngineError`] says whose fault a failure was, and
//! the wire layer maps each kind to an HTTP status.

use std::fmt;

/// What the wire layer asks the engine to run, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// A model id from [`InferenceEngine::models`].
    pub model: String,
    /// The prompt text (for chat, the messages rendered by the chat template).
    pub prompt: String,
    /// At most this many tokens to generate, `1..=`[`InferenceEngine::max_tokens_limit`].
    pub max_tokens: u32,
    /// Sampling temperature, `0..=2` (0: greedy).
    pub temperature: f32,
    /// Nucleus sampling mass, `(0, 1]`.
    pub top_p: f32,
    /// The client's seed, for reproducible sampling.
    pub seed: Option<u64>,
    /// Up to four strings that end the generation (not included in the text).
    pub stop: Vec<String>,
    /// The client's `payment` extension object, verbatim.
    pub payment: Option<serde_json::Value>,
    /// The client's `user` field.
    pub user: Option<String>,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended it, or a stop string was produced.
    Stop,
    /// `max_tokens` was reached.
    Length,
}

impl FinishReason {
    /// The OpenAI spelling: `"stop"` or `"length"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
        }
    }
}

/// How a generation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationOutcome {
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// The `attribution` object returned to the client.
    pub attribution: serde_json::Value,
}

/// One model served, as listed by `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    /// The id clients put in `model`.
    pub id: String,
    /// When it was created, unix seconds.
    pub created: u64,
    /// Who owns it.
    pub owned_by: String,
}

/// Why the engine did not answer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model is not served here (HTTP 404, `model_not_found`).
    #[error("{0}")]
    UnknownModel(String),
    /// The request is valid on the wire but not for this engine (HTTP 400).
    #[error("{message}")]
    InvalidRequest {
        /// The request field at fault, if one is.
        param: Option<String>,
        /// What is wrong, with the value.
        message: String,
    },
    /// Missing, insufficient or invalid payment (HTTP 402).
    #[error("{0}")]
    Payment(String),
    /// The engine cannot serve now, e.g. overloaded or loading (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
    /// A failure inside the node (HTTP 500, logged).
    #[error("{0}")]
    Internal(String),
}

/// Runs models for the OpenAI-compatible API.
pub trait InferenceEngine: Send + Sync + 'static {
    /// Models served, for GET /v1/models.
    fn models(&self) -> Vec<ModelEntry>;
    /// Largest max_tokens accepted.
    fn max_tokens_limit(&self) -> u32;
    /// Runs a generation; text pieces go to `text` as they are produced (the
    /// receiver may be dropped if the client went away — keep going or stop,
    /// but never panic); the outcome comes when it is done (including
    /// settlement).
    fn generate(
        &self,
        request: GenerationRequest,
        text: tokio::sync::mpsc::Sender<String>,
    ) -> futures::future::BoxFuture<'static, Result<GenerationOutcome, EngineError>>;
}

impl fmt::Debug for dyn InferenceEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Listing models may do work; a Debug dump should not.
        f.debug_struct("InferenceEngine").finish_non_exhaustive()
    }
}
