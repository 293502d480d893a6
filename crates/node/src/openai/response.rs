//! The response bodies and streamed chunks, shaped as OpenAI sends them.
//!
//! Every answer carries an extra top-level `attribution` object from the
//! engine; a streamed answer carries it on its last chunk before `[DONE]`.

use super::engine::{GenerationOutcome, ModelEntry};
use serde_json::{Value, json};
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// Which endpoint an answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/completions`.
    Completion,
    /// `POST /v1/chat/completions`.
    Chat,
}

/// The `GET /v1/models` body.
pub fn model_list(models: &[ModelEntry]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|model| {
            json!({
                "id": model.id,
                "object": "model",
                "created": model.created,
                "owned_by": model.owned_by,
            })
        })
        .collect();
    json!({ "object": "list", "data": data })
}

fn usage(outcome: &GenerationOutcome) -> Value {
    json!({
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "total_tokens": outcome.prompt_tokens.saturating_add(outcome.completion_tokens),
    })
}

/// One answer being built: the fields every body or chunk of it repeats.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// `cmpl-…` or `chatcmpl-…`, unique within this node's run.
    pub id: String,
    /// Unix seconds when the request was accepted.
    pub created: u64,
    /// The model id.
    pub model: String,
}

impl Answer {
    /// A new answer, stamped with the node's clock.
    pub fn new(endpoint: Endpoint, model: String) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let prefix = match endpoint {
            Endpoint::Completion => "cmpl",
            Endpoint::Chat => "chatcmpl",
        };
        let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{prefix}-{:x}{serial:06x}", now.as_nanos());
        Self { endpoint, id, created: now.as_secs(), model }
    }

    fn object(&self, streamed: bool) -> &'static str {
        match (self.endpoint, streamed) {
            (Endpoint::Completion, _) => "text_completion",
            (Endpoint::Chat, false) => "chat.completion",
            (Endpoint::Chat, true) => "chat.completion.chunk",
        }
    }

    fn envelope(&self, streamed: bool, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": self.object(streamed),
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }

    /// The whole (non-streamed) answer.
    pub fn full(&self, text: &str, outcome: &GenerationOutcome) -> Value {
        let finish_reason = outcome.finish_reason.as_str();
        let choice = match self.endpoint {
            Endpoint::Completion => json!({
                "index": 0,
                "text": text,
                "logprobs": null,
                "finish_reason": finish_reason,
            }),
            Endpoint::Chat => json!({
                "index": 0,
                "message": { "role": "assistant", "content": text },
                "logprobs": null,
                "finish_reason": finish_reason,
            }),
        };
        let mut body = self.envelope(false, json!([choice]));
        body["usage"] = usage(outcome);
        body["attribution"] = outcome.attribution.clone();
        body
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>, include_usage: bool) -> Value {
        let choice = match self.endpoint {
            Endpoint::Completion => json!({
                "index": 0,
                "text": delta.get("content").cloned().unwrap_or_else(|| json!("")),
                "logprobs": null,
                "finish_reason": finish_reason,
            }),
            Endpoint::Chat => json!({
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }),
        };
        let mut chunk = self.envelope(true, json!([choice]));
        if include_usage {
            // OpenAI sends `usage: null` on every chunk but the last when asked.
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    /// The first chunk of a streamed chat answer (the role); none for a
    /// completion.
    pub fn opening_chunk(&self, include_usage: bool) -> Option<Value> {
        (self.endpoint == Endpoint::Chat)
            .then(|| self.chunk(json!({ "role": "assistant", "content": "" }), None, include_usage))
    }

    /// A chunk with one piece of text.
    pub fn text_chunk(&self, piece: &str, include_usage: bool) -> Value {
        self.chunk(json!({ "content": piece }), None, include_usage)
    }

    /// The closing chunks: the one with `finish_reason`, then, when usage was
    /// asked for, one with no choices and the `usage`. The last carries the
    /// `attribution`.
    pub fn closing_chunks(&self, outcome: &GenerationOutcome, include_usage: bool) -> Vec<Value> {
        let finish_reason = Some(outcome.finish_reason.as_str());
        let mut chunks = vec![self.chunk(json!({}), finish_reason, include_usage)];
        if include_usage {
            let mut last = self.envelope(true, json!([]));
            last["usage"] = usage(outcome);
            chunks.push(last);
        }
        if let Some(last) = chunks.last_mut() {
            last["attribution"] = outcome.attribution.clone();
        }
        chunks
    }
}

/// One server-sent event: `data: <json>\n\n`.
pub fn event(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// The event that ends a successful stream.
pub const DONE_EVENT: &str = "data: [DONE]\n\n";
