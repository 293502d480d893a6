//! `/blobs/<sha256>`: contribution bytes over plain HTTP.
//!
//! - `PUT /blobs/<sha256>` stores the request body if it hashes to the name
//!   in the path, streaming it to disk (never more than one chunk in
//!   memory). With `?format=txt|md|jsonl|csv` (and `field=` for JSONL,
//!   `column=` for CSV, both defaulting to `text`) the body is first parsed
//!   as a contribution ([`ol_attribution::content::parse`]) and refused if it
//!   is not one. Answers `201 {"sha256": "0x…", "size": n}` (plus `"rows"`
//!   when a format was given).
//! - `GET /blobs/<sha256>` answers the bytes (checked against their name
//!   first), `HEAD` only their size; `404` if the blob is not stored.
//!
//! Refusals carry a JSON body `{"error": "<sentence>"}`: `400` for a path
//! that is not a hash or a bad query, `413` for a body over
//! [`BlobStore::MAX_BLOB_BYTES`], `422` for bytes that do not hash to the
//! name (with `"expected"` and `"actual"`) or are not valid content of the
//! named format. The name is `0x` and 64 hex digits, or the 64 digits alone.
//!
//! A node that lacks a blob asks its peers' `GET /blobs/<sha256>` with a
//! [`BlobFetcher`]: the body is streamed into the store under the size
//! limit and kept only if it hashes to the name; a peer serving other bytes
//! is skipped with a warning.

use crate::{http::HttpError, rpc::RpcContext};
use alloy_primitives::B256;
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::put,
};
use futures::StreamExt;
use ol_attribution::content::{self, ContentError, Format, FormatOptions};
use ol_storage::{BlobError, BlobStore};
use serde::Deserialize;
use serde_json::json;
use std::{str::FromStr, sync::Arc};

/// The path prefix of the blob routes.
pub const PREFIX: &str = "/blobs";

/// The blob routes (see the module documentation).
pub fn routes() -> Router<Arc<RpcContext>> {
    Router::new().route("/blobs/{hash}", put(put_blob).get(get_blob).head(head_blob))
}

impl From<BlobError> for HttpError {
    fn from(error: BlobError) -> Self {
        match error {
            BlobError::HashMismatch { expected, actual } => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: json!({
                    "error": error.to_string(),
                    "expected": expected,
                    "actual": actual,
                }),
            },
            BlobError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
            }
            BlobError::Corrupt { .. } | BlobError::Io { .. } => Self::internal(error),
        }
    }
}

/// Parses a blob name from a path segment or parameter.
pub fn parse_hash(text: &str) -> Result<B256, String> {
    B256::from_str(text).map_err(|_| {
        let shown: String = text.chars().take(80).collect();
        format!("\"{shown}\" is not a blob name: expected a SHA-256 hash, 0x and 64 hex digits")
    })
}

/// The optional query of `PUT /blobs/<sha256>`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutQuery {
    /// Check the body is a contribution of this format.
    pub format: Option<String>,
    /// The JSONL field holding the text.
    pub field: Option<String>,
    /// The CSV column holding the text.
    pub column: Option<String>,
}

impl PutQuery {
    /// The format to check the content against, if any.
    pub fn format(&self) -> Result<Option<(Format, FormatOptions)>, String> {
        let Some(name) = &self.format else {
            if self.field.is_some() || self.column.is_some() {
                return Err("`field` and `column` need a `format`".to_string());
            }
            return Ok(None);
        };
        let format = Format::from_str(name).map_err(|e| e.to_string())?;
        let defaults = FormatOptions::default();
        let options = FormatOptions {
            jsonl_field: self.field.clone().unwrap_or(defaults.jsonl_field),
            csv_column: self.column.clone().unwrap_or(defaults.csv_column),
        };
        Ok(Some((format, options)))
    }
}

fn path_hash(path: Result<Path<String>, PathRejection>) -> Result<B256, HttpError> {
    let Path(text) = path.map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    parse_hash(&text).map_err(|message| HttpError::new(StatusCode::BAD_REQUEST, message))
}

async fn put_blob(
    State(context): State<Arc<RpcContext>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PutQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let expected = path_hash(path)?;
    let Query(query) = query.map_err(|e| {
        HttpError::new(StatusCode::BAD_REQUEST, format!("bad query: {}", e.body_text()))
    })?;
    let format =
        query.format().map_err(|message| HttpError::new(StatusCode::BAD_REQUEST, message))?;
    let blobs = context.blobs.clone();
    let limit = blobs.max_blob_bytes();
    if let Some(length) = content_length(&headers)
        && length > limit
    {
        return Err(BlobError::TooLarge { limit }.into());
    }
    let (hash, size, rows) = match format {
        None => {
            let (hash, size) = stream_to_store(blobs, expected, body).await?;
            (hash, size, None)
        }
        Some((format, options)) => {
            let bytes = read_limited(body, limit).await?;
            let size = bytes.len() as u64;
            let (hash, rows) = tokio::task::spawn_blocking(move || {
                let rows = content::parse(&bytes, format, &options).map_err(invalid_content)?;
                let hash = blobs.put(Some(expected), &bytes)?;
                Ok::<_, HttpError>((hash, rows.len()))
            })
            .await
            .map_err(HttpError::internal)??;
            (hash, size, Some(rows))
        }
    };
    let mut answer = json!({ "sha256": hash, "size": size });
    if let Some(rows) = rows {
        answer["rows"] = json!(rows);
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

fn invalid_content(error: ContentError) -> HttpError {
    HttpError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("invalid content: {error}"))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn unreadable_body(error: axum::Error) -> HttpError {
    HttpError::new(StatusCode::BAD_REQUEST, format!("the request body could not be read: {error}"))
}

/// The whole body, refusing more than `limit` bytes.
async fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, HttpError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable_body)?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(BlobError::TooLarge { limit }.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

enum Piece {
    Chunk(Bytes),
    End,
}

/// Streams the body into the store: a blocking task owns the blob writer
/// and takes chunks from a short channel, so a slow disk slows the upload
/// rather than filling memory. A body that breaks off stores nothing.
async fn stream_to_store(
    blobs: Arc<BlobStore>,
    expected: B256,
    body: Body,
) -> Result<(B256, u64), HttpError> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Piece>(4);
    let writer = write_pieces(blobs, expected, receiver);
    let mut stream = body.into_data_stream();
    let mut broken = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            // A closed channel means the writer stopped; its result says why.
            Ok(bytes) => {
                if sender.send(Piece::Chunk(bytes)).await.is_err() {
                    break;
                }
            }
            Err(error) => {
                broken = Some(error);
                break;
            }
        }
    }
    if broken.is_none() {
        let _ = sender.send(Piece::End).await;
    }
    drop(sender);
    let stored = writer.await.map_err(HttpError::internal)??;
    match (stored, broken) {
        (Some(stored), _) => Ok(stored),
        (None, Some(error)) => Err(unreadable_body(error)),
        (None, None) => Err(HttpError::internal("the blob writer stopped without an answer")),
    }
}

async fn get_blob(
    State(context): State<Arc<RpcContext>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let hash = path_hash(path)?;
    let blobs = context.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&hash))
        .await
        .map_err(HttpError::internal)??
        .ok_or_else(|| not_stored(&hash))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"))], bytes)
        .into_response())
}

async fn head_blob(
    State(context): State<Arc<RpcContext>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let hash = path_hash(path)?;
    let size = context.blobs.size(&hash)?.ok_or_else(|| not_stored(&hash))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
        ],
        Body::empty(),
    )
        .into_response())
}

fn not_stored(hash: &B256) -> HttpError {
    HttpError::new(StatusCode::NOT_FOUND, format!("no blob {hash} is stored"))
}

/// Why one peer could not give a blob.
#[derive(Debug, thiserror::Error)]
pub enum PeerFetchError {
    /// No connection or no answer.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The peer answered with another status than 200 (404: it lacks the blob).
    #[error("answered HTTP {0}")]
    Status(StatusCode),
    /// The peer took longer than the fetch timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The answer broke off.
    #[error("the body broke off: {0}")]
    Body(String),
    /// The bytes were refused (wrong hash, over the size limit) or could
    /// not be stored; nothing was kept.
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// Why a blob could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The node has no peers.
    #[error("blob {0} is not stored here and this node has no peers to fetch it from")]
    NoPeers(B256),
    /// Every peer failed; nothing was stored.
    #[error("blob {hash} could not be fetched from any peer: {}", summary(.failures))]
    Exhausted {
        /// The blob.
        hash: B256,
        /// Each peer asked and why it failed.
        failures: Vec<(crate::gossip::PeerUrl, PeerFetchError)>,
    },
    /// The local store could not be read.
    #[error(transparent)]
    Store(#[from] BlobError),
    /// The peers did not give the blob within the caller's budget.
    #[error("blob {hash} could not be fetched from the peers within {budget:?}")]
    OutOfTime {
        /// The blob.
        hash: B256,
        /// The time allowed for all peers together.
        budget: std::time::Duration,
    },
    /// No thread or runtime could be started to fetch it.
    #[error("blob {hash} could not be fetched: {reason}")]
    Runtime {
        /// The blob.
        hash: B256,
        /// What failed.
        reason: String,
    },
}

fn summary(failures: &[(crate::gossip::PeerUrl, PeerFetchError)]) -> String {
    let parts: Vec<String> =
        failures.iter().map(|(peer, error)| format!("{peer} {error}")).collect();
    parts.join("; ")
}

type FetchClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<Bytes>,
>;

fn fetch_client() -> FetchClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// Fetches blobs this node lacks from its peers, in the order given,
/// verifying each against its name before it is stored.
pub struct BlobFetcher {
    peers: Vec<crate::gossip::PeerUrl>,
    blobs: Arc<BlobStore>,
    client: FetchClient,
    timeout: std::time::Duration,
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for BlobFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobFetcher")
            .field("peers", &self.peers)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl BlobFetcher {
    /// Longest one peer may take to give a whole blob, by default.
    pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

    /// A fetcher storing into `blobs` from `peers`.
    pub fn new(
        peers: Vec<crate::gossip::PeerUrl>,
        blobs: Arc<BlobStore>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        Self { peers, blobs, client: fetch_client(), timeout: Self::TIMEOUT, metrics }
    }

    /// The same fetcher, giving each peer at most `timeout`.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The peers asked, in order.
    pub fn peers(&self) -> &[crate::gossip::PeerUrl] {
        &self.peers
    }

    /// Makes sure blob `hash` is stored, asking each peer in turn; its size.
    /// Bytes that do not hash to `hash`, or exceed the store's limit, are
    /// refused and the next peer is asked.
    pub async fn fetch(&self, hash: B256) -> Result<u64, FetchError> {
        self.fetch_with(&self.client, hash).await
    }

    /// [`Self::fetch`] for a caller that cannot await (a block being
    /// executed): the fetch runs on a thread of its own, with its own
    /// runtime and connections (so it never waits on the caller's runtime,
    /// whatever its flavour), for at most `budget` over all peers. Blocks
    /// the calling thread meanwhile (inside a multi-threaded runtime, through
    /// [`tokio::task::block_in_place`]).
    pub fn fetch_blocking(
        &self,
        hash: B256,
        budget: std::time::Duration,
    ) -> Result<u64, FetchError> {
        if let Some(size) = self.blobs.size(&hash)? {
            return Ok(size);
        }
        if self.peers.is_empty() {
            return Err(FetchError::NoPeers(hash));
        }
        let run = || {
            std::thread::scope(|scope| {
                let fetching = std::thread::Builder::new()
                    .name("blob-fetch".into())
                    .spawn_scoped(scope, || {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .map_err(|e| FetchError::Runtime { hash, reason: e.to_string() })?;
                        let client = fetch_client();
                        runtime.block_on(async {
                            tokio::time::timeout(budget, self.fetch_with(&client, hash))
                                .await
                                .unwrap_or(Err(FetchError::OutOfTime { hash, budget }))
                        })
                    })
                    .map_err(|e| FetchError::Runtime { hash, reason: e.to_string() })?;
                fetching.join().unwrap_or_else(|_| {
                    Err(FetchError::Runtime { hash, reason: "the fetching thread panicked".into() })
                })
            })
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(run)
            }
            _ => run(),
        }
    }

    async fn fetch_with(&self, client: &FetchClient, hash: B256) -> Result<u64, FetchError> {
        if let Some(size) = self.blobs.size(&hash)? {
            return Ok(size);
        }
        if self.peers.is_empty() {
            return Err(FetchError::NoPeers(hash));
        }
        let mut failures = Vec::new();
        for peer in &self.peers {
            let attempt =
                tokio::time::timeout(self.timeout, self.fetch_from(client, peer, hash)).await;
            let error = match attempt {
                Ok(Ok(size)) => {
                    self.metrics.blobs_fetched.inc();
                    tracing::info!(%hash, %peer, size, "blob fetched from a peer");
                    return Ok(size);
                }
                Ok(Err(error)) => error,
                Err(_) => PeerFetchError::Timeout(self.timeout),
            };
            self.metrics.blob_fetch_failed.inc();
            tracing::warn!(%hash, %peer, %error, "a peer could not give the blob");
            failures.push((peer.clone(), error));
        }
        Err(FetchError::Exhausted { hash, failures })
    }

    async fn fetch_from(
        &self,
        client: &FetchClient,
        peer: &crate::gossip::PeerUrl,
        hash: B256,
    ) -> Result<u64, PeerFetchError> {
        use http_body_util::BodyExt;
        let name = alloy_primitives::hex::encode_prefixed(hash);
        let uri: axum::http::Uri = peer
            .join(&format!("{PREFIX}/{name}"))
            .parse()
            .map_err(|e| PeerFetchError::Unreachable(format!("bad URL: {e}")))?;
        let response =
            client.get(uri).await.map_err(|e| PeerFetchError::Unreachable(sentence(&e)))?;
        if response.status() != StatusCode::OK {
            return Err(PeerFetchError::Status(response.status()));
        }
        let limit = self.blobs.max_blob_bytes();
        if let Some(length) = content_length(response.headers())
            && length > limit
        {
            return Err(BlobError::TooLarge { limit }.into());
        }
        let (sender, receiver) = tokio::sync::mpsc::channel::<Piece>(4);
        let writer = write_pieces(self.blobs.clone(), hash, receiver);
        let mut body = response.into_body();
        let mut broken = None;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data()
                        && sender.send(Piece::Chunk(data)).await.is_err()
                    {
                        // The writer stopped (too large, I/O): its result says why.
                        break;
                    }
                }
                Err(error) => {
                    broken = Some(sentence(&error));
                    break;
                }
            }
        }
        if broken.is_none() {
            let _ = sender.send(Piece::End).await;
        }
        drop(sender);
        let stored = writer.await.map_err(|e| PeerFetchError::Body(e.to_string()))??;
        match (stored, broken) {
            (Some((_, size)), _) => Ok(size),
            (None, reason) => Err(PeerFetchError::Body(
                reason.unwrap_or_else(|| "the answer ended early".to_string()),
            )),
        }
    }
}

/// An error and its sources, as one sentence.
fn sentence(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A blocking task that owns a blob writer for `expected` and takes chunks
/// from `receiver`: `Some` once [`Piece::End`] came and the bytes were
/// stored, `None` if the sender went away first (nothing is stored).
fn write_pieces(
    blobs: Arc<BlobStore>,
    expected: B256,
    mut receiver: tokio::sync::mpsc::Receiver<Piece>,
) -> tokio::task::JoinHandle<Result<Option<(B256, u64)>, BlobError>> {
    tokio::task::spawn_blocking(move || {
        let mut writer = blobs.writer(Some(expected))?;
        while let Some(piece) = receiver.blocking_recv() {
            match piece {
                Piece::Chunk(bytes) => writer.write_chunk(&bytes)?,
                Piece::End => {
                    let size = writer.written();
                    return writer.finish().map(|hash| Some((hash, size)));
                }
            }
        }
        // The body broke off: dropping the writer removes its file.
        Ok(None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parse_strictly() {
        let hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(parse_hash(hash).is_ok());
        assert!(parse_hash(&format!("0x{hash}")).is_ok());
        for bad in ["", "0x", "..", "../../etc/passwd", &hash[1..], &format!("{hash}00")] {
            let message = parse_hash(bad).unwrap_err();
            assert!(message.contains("not a blob name"), "{message}");
        }
        let long = "x".repeat(10_000);
        assert!(parse_hash(&long).unwrap_err().len() < 200, "hostile input is not echoed whole");
    }

    #[test]
    fn query_formats() {
        assert!(PutQuery::default().format().unwrap().is_none());
        let query =
            PutQuery { format: Some("jsonl".into()), field: Some("body".into()), column: None };
        let (format, options) = query.format().unwrap().unwrap();
        assert_eq!(format, Format::Jsonl);
        assert_eq!(options.jsonl_field, "body");
        assert_eq!(options.csv_column, "text");
        let bad = PutQuery { format: Some("pdf".into()), ..PutQuery::default() };
        assert!(bad.format().unwrap_err().contains("pdf"));
        let orphan = PutQuery { column: Some("c".into()), ..PutQuery::default() };
        assert!(orphan.format().is_err());
    }
}
