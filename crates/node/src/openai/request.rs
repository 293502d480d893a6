//! The request bodies of `POST /v1/completions` and `POST /v1/chat/completions`.
//!
//! A body is parsed in two steps: serde turns it into [`CompletionRequest`]
//! or [`ChatCompletionRequest`] (types that are only what JSON can say: a
//! wrong type is refused here, naming the field by its path), then
//! `validate` checks ranges and the engine's limits and yields a
//! [`Validated`] request holding the engine's [`GenerationRequest`]. Every
//! refusal is an [`ApiError`] (400, `invalid_request_error`) naming the
//! field in `param` and the value in the message. Fields OpenAI clients send
//! that this node does not implement (`frequency_penalty`, `logit_bias`,
//! `logprobs`, `tools`, ...) are accepted and ignored.

use super::{engine::GenerationRequest, error::ApiError};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::{Map, Value};
use std::fmt;

/// The largest request body accepted, in bytes (413 above it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most stop strings in one request (OpenAI's limit).
pub const MAX_STOP_STRINGS: usize = 4;

/// `max_tokens` of a completion that names none (OpenAI's default). A chat
/// completion without a limit may use the engine's whole limit.
pub const DEFAULT_COMPLETION_MAX_TOKENS: u32 = 16;

/// A `POST /v1/completions` body, as typed JSON.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompletionRequest {
    /// The model id.
    pub model: Option<String>,
    /// The prompt.
    pub prompt: Option<Prompt>,
    /// At most this many tokens to generate.
    pub max_tokens: Option<u32>,
    /// The options both endpoints share (read from the same object by
    /// `from_body`, not by this type's serde).
    #[serde(skip)]
    pub common: CommonFields,
}

/// A `POST /v1/chat/completions` body, as typed JSON.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model id.
    pub model: Option<String>,
    /// The conversation so far.
    pub messages: Option<Vec<ChatMessage>>,
    /// At most this many tokens to generate (older spelling).
    pub max_tokens: Option<u32>,
    /// At most this many tokens to generate (preferred over `max_tokens`).
    pub max_completion_tokens: Option<u32>,
    /// The options both endpoints share (read from the same object by
    /// `from_body`, not by this type's serde).
    #[serde(skip)]
    pub common: CommonFields,
}

/// Options both endpoints share.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CommonFields {
    /// Sampling temperature, `0..=2` (default 1).
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, `(0, 1]` (default 1).
    pub top_p: Option<f32>,
    /// How many choices; only 1 is served.
    pub n: Option<u32>,
    /// Strings that end the generation.
    pub stop: Option<Stop>,
    /// Answer as server-sent events.
    pub stream: Option<bool>,
    /// Options of a streamed answer.
    pub stream_options: Option<StreamOptions>,
    /// Seed for reproducible sampling.
    pub seed: Option<u64>,
    /// The client's end-user id.
    pub user: Option<String>,
    /// The payment extension: any JSON object, passed to the engine verbatim.
    pub payment: Option<Map<String, Value>>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with `usage`.
    pub include_usage: Option<bool>,
}

/// A completion prompt: a string, or an array of exactly one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(pub String);

/// Stop strings: one string, or an array of up to [`MAX_STOP_STRINGS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop(pub Vec<String>);

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: Content,
}

/// The author of a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions from the application.
    System,
    /// Instructions from the developer (OpenAI's newer name for `system`).
    Developer,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
}

impl Role {
    /// The lowercase name, as on the wire and in the chat template.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Developer => "developer",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
        }
    }
}

/// Message content: a string, or an array of `{"type": "text", "text"}`
/// parts, joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(pub String);

/// A request ready for the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// What the engine runs.
    pub generation: GenerationRequest,
    /// Answer as server-sent events.
    pub stream: bool,
    /// Streamed: send a last chunk with `usage`.
    pub include_usage: bool,
}

/// A JSON value shown in a message: compact, at most 80 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let cut: String = text.chars().take(77).collect();
    format!("{cut}...")
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match &value {
            Value::String(text) => Ok(Self(text.clone())),
            Value::Array(items) => match items.as_slice() {
                [Value::String(text)] => Ok(Self(text.clone())),
                [] => Err(D::Error::custom("expected a string or an array of one string, got []")),
                [Value::Number(_), ..] | [Value::Array(_), ..] => Err(D::Error::custom(format!(
                    "prompts as token ids are not supported, send the text instead; got {}",
                    shown(&value)
                ))),
                [Value::String(_), ..] if items.iter().all(Value::is_string) => {
                    Err(D::Error::custom(format!(
                        "only one prompt per request is supported, got {}",
                        items.len()
                    )))
                }
                _ => Err(D::Error::custom(format!(
                    "expected a string or an array of one string, got {}",
                    shown(&value)
                ))),
            },
            other => Err(D::Error::custom(format!(
                "expected a string or an array of one string, got {}",
                shown(other)
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let expected = || {
            D::Error::custom(format!(
                "expected a string or an array of up to {MAX_STOP_STRINGS} strings, got {}",
                shown(&value)
            ))
        };
        let strings = match &value {
            Value::String(text) => vec![text.clone()],
            Value::Array(items) => {
                if items.len() > MAX_STOP_STRINGS {
                    return Err(D::Error::custom(format!(
                        "at most {MAX_STOP_STRINGS} stop strings are allowed, got {}",
                        items.len()
                    )));
                }
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(expected)?
            }
            _ => return Err(expected()),
        };
        if strings.iter().any(String::is_empty) {
            return Err(D::Error::custom("stop strings must not be empty"));
        }
        Ok(Self(strings))
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let expected = || {
            D::Error::custom(format!(
                "expected a string or an array of {{\"type\": \"text\", \"text\": ...}} parts, got {}",
                shown(&value)
            ))
        };
        match &value {
            Value::String(text) => Ok(Self(text.clone())),
            Value::Array(parts) => {
                let mut joined = String::new();
                for part in parts {
                    match (part.get("type").and_then(Value::as_str), part.get("text")) {
                        (Some("text"), Some(Value::String(text))) => joined.push_str(text),
                        (Some(kind), _) if kind != "text" => {
                            return Err(D::Error::custom(format!(
                                "content parts of type \"{kind}\" are not supported, only \"text\""
                            )));
                        }
                        _ => return Err(expected()),
                    }
                }
                Ok(Self(joined))
            }
            _ => Err(expected()),
        }
    }
}

/// Parses a request body as JSON that is an object.
pub fn parse_object(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_body(format!("the request body is not valid JSON: {error}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid_body(format!(
            "the request body must be a JSON object, got {}",
            shown(&value)
        )));
    }
    Ok(value)
}

/// Reads the fields `T` knows from a request object; a refusal names the
/// field by its path (`max_tokens`, `messages[1].role`).
fn typed<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let param = error.path().to_string();
        ApiError::invalid(param.clone(), format!("invalid `{param}`: {}", error.inner()))
    })
}

fn required<T>(value: Option<T>, param: &str, what: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid(param, format!("you must provide `{param}` ({what})")))
}

fn max_tokens(value: u32, param: &str, limit: u32) -> Result<u32, ApiError> {
    if value == 0 {
        return Err(ApiError::invalid(param, format!("`{param}` must be at least 1, got 0")));
    }
    if value > limit {
        return Err(ApiError::invalid(
            param,
            format!(
                "`{param}` is {value}, but this node generates at most {limit} tokens per request"
            ),
        ));
    }
    Ok(value)
}

fn within<T: PartialOrd + fmt::Display>(
    value: T,
    param: &str,
    range: &str,
    ok: impl Fn(&T) -> bool,
) -> Result<T, ApiError> {
    if ok(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(param, format!("`{param}` must be {range}, got {value}")))
    }
}

impl CommonFields {
    /// Checks the shared options and builds the engine's request.
    fn validate(
        self,
        model: String,
        prompt: String,
        max_tokens: u32,
    ) -> Result<Validated, ApiError> {
        let temperature =
            within(self.temperature.unwrap_or(1.0), "temperature", "between 0 and 2", |t| {
                (0.0..=2.0).contains(t)
            })?;
        let top_p =
            within(self.top_p.unwrap_or(1.0), "top_p", "greater than 0 and at most 1", |p| {
                *p > 0.0 && *p <= 1.0
            })?;
        within(self.n.unwrap_or(1), "n", "1 (one choice per request is served)", |n| *n == 1)?;
        let stream = self.stream.unwrap_or(false);
        let include_usage = self.stream_options.and_then(|options| options.include_usage);
        Ok(Validated {
            generation: GenerationRequest {
                model,
                prompt,
                max_tokens,
                temperature,
                top_p,
                seed: self.seed,
                stop: self.stop.map(|stop| stop.0).unwrap_or_default(),
                payment: self.payment.map(Value::Object),
                user: self.user,
            },
            stream,
            include_usage: include_usage.unwrap_or(false),
        })
    }
}

fn model(model: Option<String>) -> Result<String, ApiError> {
    let model = required(model, "model", "the id of a model from GET /v1/models")?;
    if model.is_empty() {
        return Err(ApiError::invalid("model", "`model` must not be empty"));
    }
    Ok(model)
}

impl CompletionRequest {
    /// Parses a request body.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        let value = parse_object(body)?;
        let request: Self = typed(&value)?;
        Ok(Self { common: typed(&value)?, ..request })
    }

    /// Checks ranges and limits (`max_tokens_limit` is the engine's).
    pub fn validate(self, max_tokens_limit: u32) -> Result<Validated, ApiError> {
        let model = model(self.model)?;
        let Prompt(prompt) = required(self.prompt, "prompt", "a string")?;
        if prompt.is_empty() {
            return Err(ApiError::invalid("prompt", "`prompt` must not be empty"));
        }
        let limit = max_tokens_limit.max(1);
        let tokens = match self.max_tokens {
            Some(value) => max_tokens(value, "max_tokens", limit)?,
            None => DEFAULT_COMPLETION_MAX_TOKENS.min(limit),
        };
        self.common.validate(model, prompt, tokens)
    }
}

impl ChatCompletionRequest {
    /// Parses a request body.
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        let value = parse_object(body)?;
        let request: Self = typed(&value)?;
        Ok(Self { common: typed(&value)?, ..request })
    }

    /// Checks ranges and limits (`max_tokens_limit` is the engine's) and
    /// renders the messages with [`render_chat`].
    pub fn validate(self, max_tokens_limit: u32) -> Result<Validated, ApiError> {
        let model = model(self.model)?;
        let messages =
            required(self.messages, "messages", "an array of {\"role\", \"content\"} messages")?;
        if messages.is_empty() {
            return Err(ApiError::invalid("messages", "`messages` must not be empty, got []"));
        }
        let limit = max_tokens_limit.max(1);
        let tokens = match (self.max_completion_tokens, self.max_tokens) {
            (Some(value), _) => max_tokens(value, "max_completion_tokens", limit)?,
            (None, Some(value)) => max_tokens(value, "max_tokens", limit)?,
            (None, None) => limit,
        };
        self.common.validate(model, render_chat(&messages), tokens)
    }
}

/// The chat template: each message as `"{role}: {content}\n"`, then
/// `"assistant: "` for the model to continue.
pub fn render_chat(messages: &[ChatMessage]) -> String {
    let mut prompt = String::new();
    for message in messages {
        prompt.push_str(message.role.as_str());
        prompt.push_str(": ");
        prompt.push_str(&message.content.0);
        prompt.push('\n');
    }
    prompt.push_str("assistant: ");
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;

    const LIMIT: u32 = 256;

    fn completion(body: Value) -> Result<Validated, ApiError> {
        CompletionRequest::from_body(body.to_string().as_bytes())?.validate(LIMIT)
    }

    fn chat(body: Value) -> Result<Validated, ApiError> {
        ChatCompletionRequest::from_body(body.to_string().as_bytes())?.validate(LIMIT)
    }

    /// Asserts a 400 about `param` whose message contains every one of `words`.
    fn refused(result: Result<Validated, ApiError>, param: Option<&str>, words: &[&str]) {
        let error = result.expect_err("the request is refused");
        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{error:?}");
        assert_eq!(error.kind, "invalid_request_error");
        assert_eq!(error.param.as_deref(), param, "{error:?}");
        for word in words {
            assert!(error.message.contains(word), "{:?} lacks {word:?}", error.message);
        }
        let body = error.body();
        assert_eq!(body["error"]["message"], json!(error.message));
        assert_eq!(body["error"]["param"], json!(param));
    }

    fn chat_with(extra: Value) -> Value {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (key, value) in extra.as_object().expect("an object") {
            body[key] = value.clone();
        }
        body
    }

    fn completion_with(extra: Value) -> Value {
        let mut body = json!({"model": "m", "prompt": "hello"});
        for (key, value) in extra.as_object().expect("an object") {
            body[key] = value.clone();
        }
        body
    }

    #[test]
    fn a_minimal_completion_gets_the_defaults() {
        let validated = completion(json!({"model": "m", "prompt": "hello"})).expect("valid");
        assert_eq!(
            validated.generation,
            GenerationRequest {
                model: "m".into(),
                prompt: "hello".into(),
                max_tokens: DEFAULT_COMPLETION_MAX_TOKENS,
                temperature: 1.0,
                top_p: 1.0,
                seed: None,
                stop: vec![],
                payment: None,
                user: None,
            }
        );
        assert!(!validated.stream && !validated.include_usage);
    }

    #[test]
    fn every_option_reaches_the_engine() {
        let validated = completion(json!({
            "model": "m", "prompt": ["hello"], "max_tokens": 7, "temperature": 0,
            "top_p": 0.5, "seed": 42, "stop": ["\n", "END"], "user": "u1", "n": 1,
            "payment": {"signature": "0xab", "amount": "1"}, "stream": true,
            "stream_options": {"include_usage": true},
            // Common OpenAI fields this node ignores.
            "frequency_penalty": 0.5, "presence_penalty": 0, "logit_bias": {"50256": -100},
            "logprobs": null, "echo": false, "best_of": 1, "suffix": null,
        }))
        .expect("valid");
        let generation = validated.generation;
        assert_eq!(generation.prompt, "hello");
        assert_eq!(generation.max_tokens, 7);
        assert_eq!(generation.temperature, 0.0);
        assert_eq!(generation.top_p, 0.5);
        assert_eq!(generation.seed, Some(42));
        assert_eq!(generation.stop, ["\n", "END"]);
        assert_eq!(generation.user.as_deref(), Some("u1"));
        assert_eq!(generation.payment, Some(json!({"signature": "0xab", "amount": "1"})));
        assert!(validated.stream && validated.include_usage);
    }

    #[test]
    fn chat_messages_are_rendered_by_the_template() {
        let validated = chat(json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}], "name": "ann"},
                {"role": "assistant", "content": "Hi."},
                {"role": "developer", "content": "x"},
                {"role": "tool", "content": "42", "tool_call_id": "t"},
            ],
            "stop": "\n",
            "max_completion_tokens": 9,
            "max_tokens": 100000,
        }))
        .expect("valid");
        assert_eq!(
            validated.generation.prompt,
            "system: Be brief.\nuser: Hello, world\nassistant: Hi.\ndeveloper: x\ntool: 42\nassistant: "
        );
        assert_eq!(validated.generation.stop, ["\n"]);
        assert_eq!(validated.generation.max_tokens, 9, "max_completion_tokens wins");
        let unlimited = chat(chat_with(json!({}))).expect("valid");
        assert_eq!(unlimited.generation.max_tokens, LIMIT);
        let older = chat(chat_with(json!({"max_tokens": 3}))).expect("valid");
        assert_eq!(older.generation.max_tokens, 3);
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_refused() {
        for body in ["", "{", "not json", "{\"model\": \"m\",}"] {
            let error = CompletionRequest::from_body(body.as_bytes()).expect_err(body);
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert_eq!(error.param, None);
            assert!(error.message.contains("not valid JSON"), "{}", error.message);
        }
        for body in ["[]", "\"hi\"", "42", "null"] {
            let error = ChatCompletionRequest::from_body(body.as_bytes()).expect_err(body);
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert!(error.message.contains("must be a JSON object"), "{}", error.message);
            assert!(error.message.contains(body), "{}", error.message);
        }
    }

    #[test]
    fn wrong_types_name_the_field_and_the_value() {
        refused(
            completion(completion_with(json!({"max_tokens": "ten"}))),
            Some("max_tokens"),
            &["\"ten\""],
        );
        refused(
            completion(completion_with(json!({"max_tokens": -1}))),
            Some("max_tokens"),
            &["-1"],
        );
        refused(
            completion(completion_with(json!({"max_tokens": 1.5}))),
            Some("max_tokens"),
            &["1.5"],
        );
        refused(
            completion(completion_with(json!({"temperature": "hot"}))),
            Some("temperature"),
            &["\"hot\""],
        );
        refused(
            completion(completion_with(json!({"top_p": []}))),
            Some("top_p"),
            &["invalid type"],
        );
        refused(
            completion(completion_with(json!({"stream": "yes"}))),
            Some("stream"),
            &["\"yes\""],
        );
        refused(completion(completion_with(json!({"seed": -5}))), Some("seed"), &["-5"]);
        refused(completion(completion_with(json!({"user": 7}))), Some("user"), &["7"]);
        refused(
            completion(completion_with(json!({"payment": "0xsig"}))),
            Some("payment"),
            &["\"0xsig\""],
        );
        refused(completion(json!({"model": 5, "prompt": "x"})), Some("model"), &["5"]);
        refused(chat(json!({"model": "m", "messages": "hi"})), Some("messages"), &["\"hi\""]);
        refused(
            chat(chat_with(json!({"max_completion_tokens": "many"}))),
            Some("max_completion_tokens"),
            &["\"many\""],
        );
        refused(
            chat(chat_with(json!({"stream_options": {"include_usage": "yes"}}))),
            Some("stream_options.include_usage"),
            &["\"yes\""],
        );
    }

    #[test]
    fn model_prompt_and_messages_are_required() {
        refused(completion(json!({"prompt": "x"})), Some("model"), &["model"]);
        refused(completion(json!({"model": null, "prompt": "x"})), Some("model"), &["model"]);
        refused(completion(json!({"model": "", "prompt": "x"})), Some("model"), &["empty"]);
        refused(
            chat(json!({"messages": [{"role": "user", "content": "x"}]})),
            Some("model"),
            &["model"],
        );
        refused(completion(json!({"model": "m"})), Some("prompt"), &["prompt"]);
        refused(completion(completion_with(json!({"prompt": ""}))), Some("prompt"), &["empty"]);
        refused(completion(completion_with(json!({"prompt": []}))), Some("prompt"), &["[]"]);
        refused(
            completion(completion_with(json!({"prompt": ["a", "b"]}))),
            Some("prompt"),
            &["one prompt", "2"],
        );
        refused(
            completion(completion_with(json!({"prompt": [1, 2, 3]}))),
            Some("prompt"),
            &["token ids", "[1,2,3]"],
        );
        refused(
            completion(completion_with(json!({"prompt": [[1, 2]]}))),
            Some("prompt"),
            &["token ids"],
        );
        refused(
            completion(completion_with(json!({"prompt": {"text": "x"}}))),
            Some("prompt"),
            &["{\"text\":\"x\"}"],
        );
        refused(chat(json!({"model": "m"})), Some("messages"), &["messages"]);
        refused(chat(json!({"model": "m", "messages": []})), Some("messages"), &["empty"]);
    }

    #[test]
    fn bad_messages_name_the_message() {
        refused(
            chat(
                json!({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "wizard", "content": "b"}]}),
            ),
            Some("messages[1].role"),
            &["wizard", "user"],
        );
        refused(
            chat(json!({"model": "m", "messages": [{"role": "user", "content": 42}]})),
            Some("messages[0].content"),
            &["42"],
        );
        refused(
            chat(json!({"model": "m", "messages": [{"role": "user", "content": null}]})),
            Some("messages[0].content"),
            &["null"],
        );
        refused(
            chat(
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
            ),
            Some("messages[0].content"),
            &["image_url"],
        );
        refused(
            chat(
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            ),
            Some("messages[0].content"),
            &["parts"],
        );
        refused(
            chat(json!({"model": "m", "messages": [{"role": "user"}]})),
            Some("messages[0]"),
            &["content"],
        );
        refused(chat(json!({"model": "m", "messages": ["hi"]})), Some("messages[0]"), &["\"hi\""]);
    }

    #[test]
    fn numbers_outside_their_range_are_refused() {
        refused(
            completion(completion_with(json!({"max_tokens": 0}))),
            Some("max_tokens"),
            &["at least 1", "0"],
        );
        refused(
            completion(completion_with(json!({"max_tokens": LIMIT + 1}))),
            Some("max_tokens"),
            &["257", "at most 256"],
        );
        refused(
            chat(chat_with(json!({"max_completion_tokens": 0}))),
            Some("max_completion_tokens"),
            &["0"],
        );
        refused(chat(chat_with(json!({"max_tokens": 1000}))), Some("max_tokens"), &["1000", "256"]);
        refused(
            completion(completion_with(json!({"temperature": 2.5}))),
            Some("temperature"),
            &["between 0 and 2", "2.5"],
        );
        refused(
            completion(completion_with(json!({"temperature": -0.1}))),
            Some("temperature"),
            &["-0.1"],
        );
        refused(
            completion(completion_with(json!({"top_p": 0}))),
            Some("top_p"),
            &["greater than 0", "0"],
        );
        refused(completion(completion_with(json!({"top_p": 1.01}))), Some("top_p"), &["1.01"]);
        refused(chat(chat_with(json!({"n": 2}))), Some("n"), &["2"]);
        refused(chat(chat_with(json!({"n": 0}))), Some("n"), &["0"]);
        assert!(
            completion(completion_with(json!({"temperature": 2, "top_p": 1, "max_tokens": LIMIT})))
                .is_ok()
        );
    }

    #[test]
    fn stop_is_a_string_or_up_to_four_strings() {
        let five = json!(["a", "b", "c", "d", "e"]);
        refused(chat(chat_with(json!({"stop": five}))), Some("stop"), &["at most 4", "5"]);
        refused(chat(chat_with(json!({"stop": 7}))), Some("stop"), &["7"]);
        refused(chat(chat_with(json!({"stop": ["a", 1]}))), Some("stop"), &["[\"a\",1]"]);
        refused(chat(chat_with(json!({"stop": ""}))), Some("stop"), &["empty"]);
        let four = chat(chat_with(json!({"stop": ["a", "b", "c", "d"]}))).expect("valid");
        assert_eq!(four.generation.stop.len(), 4);
        let none = chat(chat_with(json!({"stop": null}))).expect("valid");
        assert!(none.generation.stop.is_empty());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(1000);
        let error =
            completion(completion_with(json!({"prompt": {"a": long}}))).expect_err("refused");
        assert!(error.message.len() < 300, "{}", error.message);
        assert!(error.message.contains("..."), "{}", error.message);
    }
}
