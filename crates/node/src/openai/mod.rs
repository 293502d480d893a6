//! The OpenAI-compatible inference API: `/v1/models`, `/v1/completions`,
//! `/v1/chat/completions`, on the JSON-RPC port (see [`crate::http`]).
//!
//! This module is the wire layer only: it parses and validates requests
//! ([`request`]), asks an [`InferenceEngine`] (the node's
//! [`RpcContext::inference`]) to run them, and shapes the answers as OpenAI
//! does ([`response`]), whole or as server-sent events (`data: {chunk}\n\n`
//! … `data: [DONE]\n\n`). What runs the model, checks the `payment`
//! extension object and settles the inference is the engine's business
//! ([`engine`]). Every answer carries an extra top-level `attribution`
//! object from the engine (on the last chunk of a stream).
//!
//! Chat messages become one prompt by a fixed template: each message as
//! `"{role}: {content}\n"`, then `"assistant: "` ([`request::render_chat`]).
//! Refusals are OpenAI's error body ([`error::ApiError`]): 400 for a bad
//! request (never 422), 404 `model_not_found`, 402 for a payment the engine
//! refuses, 413 for a body over [`request::MAX_BODY_BYTES`], 503 when the
//! node serves no models or the engine is unavailable, 500 for a failure
//! inside the node. A generation runs to its end (and settles) even when the
//! client goes away.

pub mod engine;
pub mod error;
pub mod request;
pub mod response;

pub use engine::{
    EngineError, FinishReason, GenerationOutcome, GenerationRequest, InferenceEngine, ModelEntry,
};

use crate::rpc::RpcContext;
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use error::ApiError;
use futures::{SinkExt, StreamExt};
use request::{ChatCompletionRequest, CompletionRequest, MAX_BODY_BYTES, Validated};
use response::{Answer, DONE_EVENT, Endpoint, event};
use std::{convert::Infallible, sync::Arc};
use tokio::{sync::mpsc, task::JoinHandle};

/// The path prefix of the OpenAI routes.
pub const PREFIX: &str = "/v1";

/// Text pieces buffered between the engine and the client.
const PIECE_BUFFER: usize = 64;

/// The OpenAI routes (see the module documentation).
pub fn routes() -> Router<Arc<RpcContext>> {
    Router::new()
        .route("/v1/models", get(list_models).fallback(wrong_method))
        .route("/v1/completions", post(completions).fallback(wrong_method))
        .route("/v1/chat/completions", post(chat_completions).fallback(wrong_method))
        .route("/v1", any(no_route))
        .route("/v1/{*rest}", any(no_route))
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::no_route(method.as_str(), uri.path())
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(method.as_str(), uri.path())
}

fn engine(context: &RpcContext) -> Result<Arc<dyn InferenceEngine>, ApiError> {
    context.inference.clone().ok_or_else(|| {
        ApiError::unavailable(
            "this node serves no models (start it with an inference engine enabled to serve the OpenAI API)",
        )
    })
}

async fn list_models(State(context): State<Arc<RpcContext>>) -> Result<Response, ApiError> {
    let engine = engine(&context)?;
    Ok(Json(response::model_list(&engine.models())).into_response())
}

async fn completions(
    State(context): State<Arc<RpcContext>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    generate(&context, &headers, body, Endpoint::Completion).await
}

async fn chat_completions(
    State(context): State<Arc<RpcContext>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    generate(&context, &headers, body, Endpoint::Chat).await
}

/// Reads a body of at most [`MAX_BODY_BYTES`], refusing a larger one as
/// soon as its `Content-Length` or its bytes say so.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(size) = declared.filter(|size| *size > MAX_BODY_BYTES as u64) {
        return Err(ApiError::too_large(MAX_BODY_BYTES, Some(size)));
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::invalid_body(format!("the request body could not be read: {error}"))
        })?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::too_large(MAX_BODY_BYTES, None));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

async fn generate(
    context: &RpcContext,
    headers: &HeaderMap,
    body: Body,
    endpoint: Endpoint,
) -> Result<Response, ApiError> {
    let engine = engine(context)?;
    let body = read_body(headers, body).await?;
    let limit = engine.max_tokens_limit();
    let validated = match endpoint {
        Endpoint::Completion => CompletionRequest::from_body(&body)?.validate(limit)?,
        Endpoint::Chat => ChatCompletionRequest::from_body(&body)?.validate(limit)?,
    };
    let model = &validated.generation.model;
    if !engine.models().iter().any(|entry| &entry.id == model) {
        return Err(ApiError::model_not_found(model));
    }
    let Validated { generation, stream, include_usage } = validated;
    let answer = Answer::new(endpoint, generation.model.clone());
    let (sender, mut pieces) = mpsc::channel(PIECE_BUFFER);
    // Spawned, so that the generation (and its settlement) finishes even if
    // the client goes away and this handler is dropped.
    let mut running = tokio::spawn(engine.generate(generation, sender));
    let mut first = next(&mut pieces, &mut running).await;
    if stream {
        if let Next::Done(result) = first {
            // Nothing streamed yet: a failure can still have its own status.
            first = Next::Done(Ok(Ok(settled(result)?)));
        }
        return Ok(streamed(answer, first, pieces, running, include_usage));
    }
    let mut text = String::new();
    let mut step = first;
    let result = loop {
        match step {
            Next::Piece(piece) => text.push_str(&piece),
            Next::Done(result) => break result,
        }
        step = next(&mut pieces, &mut running).await;
    };
    while let Ok(piece) = pieces.try_recv() {
        text.push_str(&piece);
    }
    let outcome = settled(result)?;
    Ok(Json(answer.full(&text, &outcome)).into_response())
}

type Generation = Result<Result<GenerationOutcome, EngineError>, tokio::task::JoinError>;

/// What the engine did next.
enum Next {
    /// It produced a piece of text.
    Piece(String),
    /// It finished (pieces may still be buffered).
    Done(Generation),
}

type Running = JoinHandle<Result<GenerationOutcome, EngineError>>;

async fn next(pieces: &mut mpsc::Receiver<String>, running: &mut Running) -> Next {
    tokio::select! {
        biased;
        piece = pieces.recv() => match piece {
            Some(piece) => Next::Piece(piece),
            None => Next::Done(running.await),
        },
        result = &mut *running => Next::Done(result),
    }
}

fn settled(result: Generation) -> Result<GenerationOutcome, ApiError> {
    match result {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(error)) => Err(error.into()),
        Err(join) => Err(ApiError::internal(format!("the inference engine failed: {join}"))),
    }
}

type Events = futures::channel::mpsc::Sender<Result<Bytes, Infallible>>;

/// A `200 text/event-stream` response fed by a task that forwards the
/// engine's pieces as chunks.
fn streamed(
    answer: Answer,
    first: Next,
    pieces: mpsc::Receiver<String>,
    running: Running,
    include_usage: bool,
) -> Response {
    let (mut events, body) = futures::channel::mpsc::channel(PIECE_BUFFER);
    tokio::spawn(async move {
        let id = answer.id.clone();
        if stream_events(answer, first, pieces, running, include_usage, &mut events).await.is_err()
        {
            // The generation task goes on alone and settles.
            tracing::debug!(%id, "the client left before the end of a streamed answer");
        }
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    *response.status_mut() = StatusCode::OK;
    response
}

async fn send(events: &mut Events, text: String) -> Result<(), futures::channel::mpsc::SendError> {
    events.send(Ok(Bytes::from(text))).await
}

async fn stream_events(
    answer: Answer,
    mut step: Next,
    mut pieces: mpsc::Receiver<String>,
    mut running: Running,
    include_usage: bool,
    events: &mut Events,
) -> Result<(), futures::channel::mpsc::SendError> {
    if let Some(opening) = answer.opening_chunk(include_usage) {
        send(events, event(&opening)).await?;
    }
    let result = loop {
        match step {
            Next::Piece(piece) if piece.is_empty() => {}
            Next::Piece(piece) => {
                send(events, event(&answer.text_chunk(&piece, include_usage))).await?;
            }
            Next::Done(result) => break result,
        }
        step = next(&mut pieces, &mut running).await;
    };
    while let Ok(piece) = pieces.try_recv() {
        if !piece.is_empty() {
            send(events, event(&answer.text_chunk(&piece, include_usage))).await?;
        }
    }
    match settled(result) {
        Ok(outcome) => {
            for chunk in answer.closing_chunks(&outcome, include_usage) {
                send(events, event(&chunk)).await?;
            }
            send(events, DONE_EVENT.to_string()).await
        }
        // Too late for a status: OpenAI's clients raise on an `error` event.
        Err(error) => send(events, event(&error.body())).await,
    }
}
