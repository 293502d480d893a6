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
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Piece>(4);
    let writer = tokio::task::spawn_blocking(move || {
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
        Ok::<_, BlobError>(None)
    });
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
